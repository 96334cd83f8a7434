//! Issue #9, what migsafe executes: a migration run at execution level can affect only the
//! database migsafe made for it, a restored dump never makes psql run anything but SQL and
//! pg_dump's own meta-commands, literals stay literals whatever `standard_conforming_strings`
//! says, and the configured timeouts are ceilings a migration cannot lift.
//!
//! Runs that could change server-wide state on a broken build (roles, ALTER SYSTEM, other
//! databases) run against a private cluster each test starts (`tests/common/cluster.rs`:
//! initdb in a temporary directory on a free port, as the `postgres` user when root) and
//! stops; each such run is
//! bracketed by a fingerprint of the server: databases and their comments, roles and
//! memberships, database and role settings (pg_db_role_setting), shared comments
//! (pg_shdescription), tablespaces, subscriptions and what postgresql.auto.conf holds
//! (pg_file_settings). The timeout tests only touch their own database on the shared server.

mod common;

use common::cluster::{ClusterOptions, PrivateCluster};
use common::TestDb;
use migsafe::evidence::cluster::{Needs, PgBinaries};
use migsafe::execute::{run_pending, ExecOptions};
use migsafe::metadata::Owners;
use migsafe::model::ParsedMigration;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A private PostgreSQL of this test (the shared harness in tests/common/cluster.rs), with
/// what these tests need on top of it.
struct Private {
    cluster: PrivateCluster,
}

impl Private {
    async fn start() -> Private {
        Private {
            cluster: PrivateCluster::start(ClusterOptions::default()),
        }
    }

    fn url(&self, db: &str) -> String {
        self.cluster.superuser_url(db)
    }

    fn client_args(&self, db: &str) -> Vec<String> {
        vec![
            "-h".to_string(),
            "127.0.0.1".to_string(),
            "-p".to_string(),
            self.cluster.port().to_string(),
            "-U".to_string(),
            "postgres".to_string(),
            "-d".to_string(),
            db.to_string(),
        ]
    }

    async fn connect(&self, db: &str) -> PgConnection {
        PgConnection::connect(&self.url(db))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the private cluster: {e}"))
    }

    async fn execute(&self, db: &str, sql: &str) {
        let mut conn = self.connect(db).await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.unwrap();
    }

    /// Everything server-wide a migration or dump could change, as sorted lines (the shared
    /// helper, tests/common/fingerprint.rs).
    async fn fingerprint(&self) -> Vec<String> {
        common::fingerprint::server(&self.cluster)
    }

    /// What a run could change inside the source database itself: its relations with their
    /// columns and each table's row count.
    async fn source_fingerprint(&self, db: &str) -> Vec<String> {
        common::fingerprint::source(&self.cluster, db)
    }
}

fn migsafe(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    command
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("migsafe runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A golang-migrate folder whose migrations reach for the whole server: the source
/// database, another database, roles, settings, comments, ALTER SYSTEM, role grants, dynamic
/// SQL, and rollbacks (a down file and a `-- rollback:` note) that drop a database.
fn hostile_migrations(dir: &Path) {
    write(
        dir,
        "001_reporting.up.sql",
        "CREATE TABLE audit_log (id bigint PRIMARY KEY, body text);\n\
         CREATE ROLE reporting NOLOGIN;\n\
         GRANT pg_read_all_data TO reporting;\n\
         GRANT SELECT ON audit_log TO reporting;\n\
         ALTER DATABASE shop SET work_mem = '64MB';\n\
         ALTER ROLE postgres SET statement_timeout = '1s';\n\
         COMMENT ON DATABASE shop IS 'touched by a migration';\n\
         ALTER SYSTEM SET work_mem = '123MB';\n\
         DO $$BEGIN EXECUTE 'CREATE ROLE sneaky'; END$$;\n\
         CREATE DATABASE scratch;\n\
         DROP DATABASE other;\n\
         CREATE INDEX audit_log_body_idx ON audit_log (body);\n",
    );
    write(
        dir,
        "001_reporting.down.sql",
        "DROP TABLE audit_log;\nDROP DATABASE other;\n",
    );
    write(
        dir,
        "002_cleanup.up.sql",
        "-- owner: @platform\n\
         -- rollback: DROP TABLE IF EXISTS archive; DROP DATABASE other;\n\
         CREATE TABLE archive (id bigint);\n\
         DROP DATABASE shop;\n",
    );
}

/// The migration summary of the file named `name` in a JSON report.
fn migration<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in {report:#}"))
}

fn fails_on_copy(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "fails-on-copy")
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn clone_runs_nothing_that_reaches_beyond_its_clone() {
    let server = Private::start().await;
    server.execute("postgres", "CREATE DATABASE shop").await;
    server.execute("postgres", "CREATE DATABASE other").await;
    server
        .execute(
            "shop",
            "CREATE TABLE accounts (id bigint PRIMARY KEY, email text); \
             INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 100) g",
        )
        .await;
    let before = server.fingerprint().await;
    let source_before = server.source_fingerprint("shop").await;
    let dir = tempfile::tempdir().unwrap();
    hostile_migrations(dir.path());
    let url = server.url("shop");
    let folder = dir.path().to_str().unwrap();
    let args = [
        "check",
        folder,
        "--database-url",
        &url,
        "--clone",
        "--format",
        "json",
        "--fail-on",
        "never",
    ];

    let out = migsafe(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["evidence"], "execution", "{report:#}");
    // A statement naming a role whose CREATE was withheld is withheld with it, not reported
    // as failing on the copy.
    assert!(fails_on_copy(&report).is_empty(), "{report:#}");
    assert_eq!(
        server.fingerprint().await,
        before,
        "the run changed the server"
    );

    // What did not run is said, with the reason; what could run did.
    let first = migration(&report, "001_reporting.up.sql");
    let reason = first["not_executed"].as_str().unwrap_or("");
    assert!(
        reason.contains("acts beyond this database") && reason.contains("CREATE ROLE"),
        "{first:#}"
    );
    assert_eq!(first["verdict"]["kind"], "not_executed", "{first:#}");
    let timeline: Vec<&str> = first["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["statement"].as_str().unwrap())
        .collect();
    assert!(
        timeline.iter().any(|s| s.starts_with("CREATE INDEX")),
        "{timeline:?}"
    );
    // Rollbacks that drop a database are never run, and never called "restores".
    for name in ["001_reporting.up.sql", "002_cleanup.up.sql"] {
        let rollback = &migration(&report, name)["rollback"];
        assert_eq!(rollback["status"], "not_checked", "{name}: {rollback:#}");
        assert!(
            rollback["detail"]
                .as_str()
                .unwrap_or("")
                .contains("DROP DATABASE"),
            "{name}: {rollback:#}"
        );
    }

    // Nothing was left behind, so the same run again reports the same, without a false
    // "already exists".
    let again = json(&migsafe(&args, &[]));
    assert!(fails_on_copy(&again).is_empty(), "{again:#}");
    assert_eq!(server.fingerprint().await, before);
    assert_eq!(
        server.source_fingerprint("shop").await,
        source_before,
        "the run changed the source database"
    );
}

#[tokio::test]
async fn restore_into_migsafes_own_cluster_keeps_no_server_state_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    hostile_migrations(&migrations);
    // A plain dump in pg_dump's shape (pg_dump names the database nowhere without --create).
    let dump = dir.path().join("shop.sql");
    std::fs::write(
        &dump,
        "SET statement_timeout = 0;\nSET standard_conforming_strings = on;\n\
         SELECT pg_catalog.set_config('search_path', '', false);\n\
         CREATE TABLE public.accounts (id bigint NOT NULL, email text);\n\
         COPY public.accounts (id, email) FROM stdin;\n1\ta@example.com\n2\t\\N\n\\.\n\
         ALTER TABLE ONLY public.accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);\n",
    )
    .unwrap();
    let args = [
        "check",
        migrations.to_str().unwrap(),
        "--restore",
        dump.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    let env = [("MIGSAFE_CACHE_DIR", cache.path())];
    for run in 1..=2 {
        let out = migsafe(&args, &env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out);
        assert!(fails_on_copy(&report).is_empty(), "run {run}: {report:#}");
        let first = migration(&report, "001_reporting.up.sql");
        assert!(
            first["not_executed"]
                .as_str()
                .unwrap_or("")
                .contains("acts beyond this database"),
            "run {run}: {first:#}"
        );
    }
    let cleared = migsafe(&["cache", "clear"], &env);
    assert!(
        cleared.status.success(),
        "{}",
        String::from_utf8_lossy(&cleared.stderr)
    );
}

#[tokio::test]
async fn a_dump_with_meta_commands_pg_dump_never_writes_is_refused_before_anything_runs() {
    let server = Private::start().await;
    let before = server.fingerprint().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    write(
        &migrations,
        "001_add.sql",
        "ALTER TABLE accounts ADD COLUMN note text;\n",
    );
    let evil = format!(
        "SET standard_conforming_strings = on;\n\
         CREATE TABLE public.accounts (id bigint);\n\
         \\! touch {}\n\
         \\connect postgres\n\
         CREATE TABLE public.planted (id bigint);\n\
         SELECT 'x\\'; \\o |sh --';\n",
        marker.display()
    );
    let plain = dir.path().join("evil.sql");
    std::fs::write(&plain, &evil).unwrap();
    let gz = dir.path().join("evil.sql.gz");
    {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        encoder.write_all(evil.as_bytes()).unwrap();
        encoder.finish().unwrap();
    }
    let url = server.url("postgres");
    for dump in [&plain, &gz] {
        let out = migsafe(
            &[
                "check",
                migrations.to_str().unwrap(),
                "--restore",
                dump.to_str().unwrap(),
                "--database-url",
                &url,
                "--no-cache",
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let shown = dump.display().to_string();
        for line in [3, 4, 6] {
            assert!(stderr.contains(&format!("{shown}:{line}:")), "{stderr}");
        }
        assert!(
            stderr.contains("\\!") && stderr.contains("--create"),
            "{stderr}"
        );
        assert!(!marker.exists(), "the dump's shell command ran");
        assert_eq!(server.fingerprint().await, before);
    }
    let mut conn = server.connect("postgres").await;
    let planted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'planted'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        planted, 0,
        "the dump wrote into the server's postgres database"
    );
}

#[tokio::test]
async fn a_dump_name_cannot_inject_sql_when_standard_conforming_strings_is_off() {
    let server = Private::start().await;
    server
        .execute(
            "postgres",
            "ALTER SYSTEM SET standard_conforming_strings = off",
        )
        .await;
    server.execute("postgres", "SELECT pg_reload_conf()").await;
    server.execute("postgres", "CREATE DATABASE shop").await;
    server
        .execute(
            "shop",
            "CREATE TABLE accounts (id bigint PRIMARY KEY, note text); \
             INSERT INTO accounts VALUES (1, E'C:\\\\temp\\\\'), (2, 'it''s')",
        )
        .await;
    let dir = tempfile::tempdir().unwrap();
    // A real pg_dump (15.14 and later write \restrict / \unrestrict), under a hostile name.
    let dump = dir.path().join("shop\\'; CREATE ROLE injected; --.sql");
    let status = Command::new(
        PgBinaries::find(Needs::Client)
            .expect("pg_dump")
            .tool("pg_dump"),
    )
    .args(server.client_args("shop"))
    .arg("-f")
    .arg(&dump)
    .status()
    .expect("pg_dump runs");
    assert!(status.success());
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    write(
        &migrations,
        "001_add.sql",
        "ALTER TABLE accounts ADD COLUMN flagged boolean;\n",
    );
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("postgres");
    let out = migsafe(
        &[
            "check",
            migrations.to_str().unwrap(),
            "--restore",
            dump.to_str().unwrap(),
            "--database-url",
            &url,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &[("MIGSAFE_CACHE_DIR", cache.path())],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["evidence"], "execution");
    let fingerprint = server.fingerprint().await;
    assert!(
        !fingerprint.iter().any(|l| l.starts_with("role injected")),
        "{fingerprint:#?}"
    );
    // The template's comment holds the whole name, backslash and quotes included.
    let mut conn = server.connect("postgres").await;
    let comments: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database \
         WHERE datistemplate AND datname LIKE 'migsafe%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        comments
            .iter()
            .flatten()
            .any(|c| c.contains(&dump.display().to_string())),
        "{comments:?}"
    );
}

fn parsed(name: &str, sql: &str) -> ParsedMigration {
    let mut loaded = migsafe::load::load_text(name, sql, None).unwrap();
    migsafe::load::declare(
        &mut loaded,
        &[],
        Some(migsafe::model::Transaction::File),
        Path::new("."),
    );
    migsafe::review::prepare(loaded.into_iter().next().unwrap(), &Owners::default())
}

fn ceilings(statement: Duration, lock: Duration) -> ExecOptions {
    ExecOptions {
        disposable_confirmed: true,
        statement_timeout: statement,
        lock_timeout: lock,
        verify_rollback: false,
        ..ExecOptions::default()
    }
}

#[tokio::test]
async fn a_migration_cannot_lift_the_statement_timeout_ceiling() {
    let db = TestDb::create("ceiling").await;
    let options = ceilings(Duration::from_secs(3), Duration::from_secs(3));
    for (name, sql) in [
        (
            "001_set.sql",
            "SET statement_timeout = 0;\nSELECT pg_sleep(25);\n",
        ),
        (
            "002_set_config.sql",
            "SELECT set_config('statement_timeout', '0', false);\nSELECT pg_sleep(25);\n",
        ),
        (
            "003_set_local.sql",
            "SET LOCAL statement_timeout = 0;\nSELECT pg_sleep(25);\n",
        ),
    ] {
        let trace = run_pending(&db.url, &[parsed(name, sql)], &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let run = &trace.migrations[0];
        let failure = run
            .failed
            .as_ref()
            .unwrap_or_else(|| panic!("{name} ran to its end: {run:#?}"));
        assert_eq!(failure.error.code, "57014", "{name}: {failure:#?}");
        assert!(
            failure.error.message.contains("statement_timeout of 3 s"),
            "{name}: {failure:#?}"
        );
    }
}

#[tokio::test]
async fn a_migration_cannot_lift_the_lock_timeout_ceiling() {
    let db = TestDb::create("lock_ceiling").await;
    db.execute("CREATE TABLE busy (id bigint)").await;
    // Another session holds the table, as production traffic would.
    let mut holder = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let options = ceilings(Duration::from_secs(60), Duration::from_secs(1));
    let trace = run_pending(
        &db.url,
        &[parsed(
            "001_lock.sql",
            "SET lock_timeout = 0;\nALTER TABLE busy ADD COLUMN note text;\n",
        )],
        &options,
    )
    .await
    .unwrap();
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut holder).await;
    let failure = trace.migrations[0].failed.as_ref().expect("cancelled");
    assert_eq!(failure.error.code, "57014", "{failure:#?}");
    assert!(
        failure.error.message.contains("lock_timeout of 1 s"),
        "{failure:#?}"
    );
}

#[tokio::test]
async fn server_wide_sql_assembled_at_run_time_is_rolled_back_not_committed() {
    let server = Private::start().await;
    server.execute("postgres", "CREATE DATABASE shop").await;
    server
        .execute("postgres", "CREATE ROLE victim NOLOGIN")
        .await;
    server
        .execute("shop", "CREATE TABLE accounts (id bigint PRIMARY KEY)")
        .await;
    let before = server.fingerprint().await;
    let source_before = server.source_fingerprint("shop").await;
    let url = server.url("shop");
    for (sql, written) in [
        (
            "DO $$BEGIN EXECUTE 'CREATE ' || 'ROLE assembled'; END$$;\n",
            "pg_authid: wrote `assembled`",
        ),
        (
            "DO $$BEGIN EXECUTE 'DROP ' || 'ROLE victim'; END$$;\n",
            "pg_authid: changed or removed `victim`",
        ),
        (
            "ALTER TABLE accounts ADD COLUMN note text;\n\
             DO $$BEGIN EXECUTE format('COMMENT ON %s shop IS %L', 'DATABASE', 'x'); END$$;\n",
            "pg_shdescription: wrote `x`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "001_assembled.sql", sql);
        let out = migsafe(
            &[
                "check",
                dir.path().to_str().unwrap(),
                "--database-url",
                &url,
                "--clone",
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            &[],
        );
        let report = json(&out);
        let failures = fails_on_copy(&report);
        assert!(
            failures
                .iter()
                .any(|f| f.contains("rolled back by migsafe") && f.contains(written)),
            "{sql}: {report:#}"
        );
        assert_eq!(server.fingerprint().await, before, "{sql}");
        assert_eq!(
            server.source_fingerprint("shop").await,
            source_before,
            "{sql}"
        );
    }
}
