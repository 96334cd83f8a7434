//! Execution level through the real binary with `--clone` and `--disposable`: the copy is
//! left exactly as it was, no clone outlives the run (also when a migration fails midway
//! and when the run is interrupted), and what ran is what the report says.

mod common;

use common::{server_url, TestDb};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn migsafe(args: &[&str]) -> Output {
    migsafe_pid(args).0
}

/// Runs migsafe and returns its output and pid (clones are named after the pid).
fn migsafe_pid(args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migsafe runs");
    let pid = child.id();
    (child.wait_with_output().expect("migsafe runs"), pid)
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

fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Everything a migration could change, as text: tables, columns, indexes, constraints,
/// and each table's row count.
async fn state(db: &TestDb) -> String {
    let mut conn = db.connect().await;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT format('%s.%s %s %s %s', table_name, column_name, data_type, is_nullable, \
                column_default) \
         FROM information_schema.columns WHERE table_schema = 'public' \
         UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' \
         UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
                   WHERE connamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut text: Vec<String> = rows.into_iter().map(|(r,)| r).collect();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (t,) in tables {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT count(*) FROM \"{t}\"")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        text.push(format!("{t}: {n} rows"));
    }
    let _ = conn.close().await;
    text.join("\n")
}

async fn clones_left() -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(&server_url()).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'migsafe_clone_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    rows.into_iter().map(|(d,)| d).collect()
}

/// Clones are named after the pid of the run that made them: only this test's count.
async fn clones_of(pid: u32) -> Vec<String> {
    let prefix = format!("migsafe_clone_{pid}_");
    clones_left()
        .await
        .into_iter()
        .filter(|d| d.starts_with(&prefix))
        .collect()
}

async fn accounts_db(prefix: &str, rows: i64) -> TestDb {
    let db = TestDb::create(prefix).await;
    db.execute(&format!(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, plan text NOT NULL DEFAULT 'free');
         INSERT INTO accounts SELECT g, 'user' || (g % {half}) || '@example.com', 'free'
           FROM generate_series(1, {rows}) g;
         ANALYZE accounts;",
        half = rows / 2
    ))
    .await;
    db
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::write(dir.join(name), sql).unwrap();
}

#[tokio::test]
async fn clone_runs_the_migrations_and_leaves_the_copy_and_no_clone_behind() {
    let db = accounts_db("clone_ok", 20_000).await;
    let before = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "0001_plan_index.sql",
        "-- owner: @team\n-- expect: succeeds\n-- rollback: DROP INDEX accounts_plan_idx;\n\
         SET lock_timeout = '2s';\nCREATE INDEX accounts_plan_idx ON accounts (plan);\n",
    );
    write(
        dir.path(),
        "0002_backfill.sql",
        "-- owner: @team\n-- expect: rows <= 10\n-- rollback: irreversible\n\
         SET lock_timeout = '2s';\nUPDATE accounts SET plan = 'pro' WHERE id <= 500;\n",
    );
    let (out, pid) = migsafe_pid(&[
        "check",
        dir.path().to_str().unwrap(),
        "--database-url",
        &db.url,
        "--clone",
        "--format",
        "json",
    ]);
    let report = json(&out);
    assert_eq!(report["evidence"], "execution", "{report:#}");
    let migrations = report["migrations"].as_array().unwrap();
    assert_eq!(migrations[0]["expected"][0]["status"], "met", "{report:#}");
    assert_eq!(
        migrations[0]["rollback"]["status"], "restores",
        "{report:#}"
    );
    assert_eq!(
        migrations[1]["expected"][0]["status"], "not_met",
        "{report:#}"
    );
    assert!(
        migrations[1]["expected"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{report:#}"
    );
    assert!(rules(&report).contains(&"expectation-not-met".to_string()));
    let timeline = migrations[0]["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|t| t["lock"] == "ShareLock"),
        "the index build's lock is in the timeline: {report:#}"
    );
    assert!(report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "clone"));
    assert_eq!(state(&db).await, before, "the copy itself must not change");
    assert_eq!(
        clones_of(pid).await,
        Vec::<String>::new(),
        "clone left behind"
    );
}

#[tokio::test]
async fn a_migration_failing_midway_is_reported_and_still_leaves_nothing_behind() {
    let db = accounts_db("clone_fail", 10_000).await;
    let before = state(&db).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "0001_unique_email.sql",
        "-- owner: @team\n-- expect: every email is unique\n-- rollback: irreversible\n\
         SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN verified boolean;\n\
         CREATE UNIQUE INDEX accounts_email_key ON accounts (email);\n",
    );
    write(
        dir.path(),
        "0002_later.sql",
        "-- owner: @team\n-- expect: nothing\n-- rollback: irreversible\nSET lock_timeout = '2s';\n\
         ALTER TABLE accounts ADD COLUMN note text;\n",
    );
    let (out, pid) = migsafe_pid(&[
        "check",
        dir.path().to_str().unwrap(),
        "--database-url",
        &db.url,
        "--clone",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let failure = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "fails-on-copy")
        .unwrap_or_else(|| panic!("no fails-on-copy: {report:#}"));
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("is duplicated"),
        "the duplicate key is named: {failure:#}"
    );
    assert!(
        report["migrations"][1]["not_executed"].is_string(),
        "the later migration is not run: {report:#}"
    );
    assert_eq!(state(&db).await, before);
    assert_eq!(
        clones_of(pid).await,
        Vec::<String>::new(),
        "clone left behind"
    );
}

#[tokio::test]
async fn disposable_runs_on_the_database_itself_and_plain_url_runs_nothing() {
    let db = accounts_db("disposable", 1_000).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "0001_add_column.sql",
        "-- owner: @team\n-- expect: succeeds\n-- rollback: irreversible\nSET lock_timeout = '2s';\n\
         ALTER TABLE accounts ADD COLUMN marker text;\n",
    );
    let folder = dir.path().to_str().unwrap();
    let read_only = migsafe(&[
        "check",
        folder,
        "--database-url",
        &db.url,
        "--format",
        "json",
    ]);
    assert_eq!(json(&read_only)["evidence"], "catalog");
    assert!(
        !state(&db).await.contains("marker"),
        "catalog level ran the migration"
    );
    let out = migsafe(&[
        "check",
        folder,
        "--database-url",
        &db.url,
        "--disposable",
        "--format",
        "json",
    ]);
    assert_eq!(json(&out)["evidence"], "execution");
    assert!(
        state(&db).await.contains("accounts.marker"),
        "--disposable runs the migration on the database itself"
    );
}

#[test]
fn execution_flags_need_a_copy() {
    let out = migsafe(&["check", "fixtures/example/migrations", "--clone"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database-url"));
    let out = migsafe(&[
        "check",
        "fixtures/example/migrations",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/x",
        "--analyze",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--clone"));
}

#[tokio::test]
async fn clone_refuses_a_copy_others_are_connected_to() {
    let db = accounts_db("clone_busy", 100).await;
    let _other = db.connect().await;
    let out = migsafe(&[
        "check",
        "fixtures/example/migrations",
        "--database-url",
        &db.url,
        "--clone",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other sessions") && err.contains("--restore"),
        "{err}"
    );
}

#[tokio::test]
async fn an_interrupted_clone_run_drops_its_clone() {
    let db = accounts_db("clone_sigint", 1_500_000).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "0001_slow.sql",
        "-- owner: @team\n-- expect: succeeds\n-- rollback: irreversible\nSET lock_timeout = '2s';\n\
         ALTER TABLE accounts ALTER COLUMN id TYPE numeric;\n\
         CREATE INDEX accounts_email_idx ON accounts (email, plan);\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            dir.path().to_str().unwrap(),
            "--database-url",
            &db.url,
            "--clone",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until its clone exists, then interrupt it in the middle of the run.
    let start = Instant::now();
    while clones_of(pid).await.is_empty() && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!clones_of(pid).await.is_empty(), "the run made no clone");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "interrupted runs exit 130");
    let start = Instant::now();
    while !clones_of(pid).await.is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        clones_of(pid).await.is_empty(),
        "the interrupted run left its clone behind"
    );
}

/// A dropped index that the copy's statistics show in use, and that a watched query's plan
/// uses: the drop-index-in-use finding names the query.
#[tokio::test]
async fn drop_index_in_use_names_the_watched_queries_that_use_the_index() {
    let db = accounts_db("watched_drop", 20_000).await;
    db.execute("CREATE INDEX accounts_email_idx ON accounts (email); ANALYZE accounts;")
        .await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "SET enable_seqscan = off; \
         SELECT count(*) FROM accounts WHERE email = 'user7@example.com'; \
         SELECT count(*) FROM accounts WHERE email = 'user8@example.com'; \
         SELECT pg_stat_force_next_flush();",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let start = Instant::now();
    loop {
        let (scans,): (i64,) = sqlx::query_as(
            "SELECT coalesce(sum(idx_scan), 0)::int8 FROM pg_stat_user_indexes \
             WHERE indexrelname = 'accounts_email_idx'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if scans > 0 || start.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = conn.close().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "watched.sql",
        "-- name: account by email\nSELECT * FROM accounts WHERE email = 'user42@example.com';\n",
    );
    write(
        dir.path(),
        "migsafe.toml",
        "[execution]\nwatch = \"watched.sql\"\n",
    );
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    write(
        &migrations,
        "0001_drop_email_index.sql",
        "-- no-transaction\n-- owner: @team\n-- expect: succeeds\n-- rollback: irreversible\n\
         SET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY accounts_email_idx;\n",
    );
    let out = migsafe(&[
        "check",
        migrations.to_str().unwrap(),
        "--config",
        dir.path().join("migsafe.toml").to_str().unwrap(),
        "--database-url",
        &db.url,
        "--disposable",
        "--format",
        "json",
    ]);
    let report = json(&out);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "drop-index-in-use")
        .unwrap_or_else(|| panic!("no drop-index-in-use: {report:#}"));
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("Watched queries whose plans use it: account by email"),
        "{finding:#}"
    );
}
