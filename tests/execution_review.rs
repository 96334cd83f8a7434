//! The execution level end to end, as a user runs it: the real `migsafe check` binary with
//! `--clone` or `--disposable` and `--format json`, against a shop database each test
//! generates for itself (customers, orders, order notes; sizes per test) and the migrations
//! in `fixtures/execution_review/`. What is asserted is what the user relies on: the copy
//! behind `--clone` is left exactly as it was (schema from pg_catalog, row counts and a
//! content fingerprint), no clone outlives the run (when it succeeds, when a migration fails
//! midway, when it is interrupted), what ran is what the report says (evidence, failures on
//! real data, measured locks and rewrites, checked expectations, proven rollbacks), and the
//! refusals say what to do instead.
//!
//! Clones are named `migsafe_clone_<pid>_<n>` after the run that made them, so each test
//! looks only for its own run's clones: other test binaries may be making theirs at the
//! same time on the same server.

mod common;

use common::{server_url, TestDb};
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: &str = "fixtures/execution_review";
const CONFIG: &str = "fixtures/execution_review/migsafe.toml";

// ---------------------------------------------------------------------------------------------
// Running the binary

/// A finished run of the binary: its output and its pid (which names its clones).
struct Run {
    out: Output,
    pid: u32,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// The JSON report on stdout.
    fn report(&self) -> Value {
        serde_json::from_slice(&self.out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.code(),
                self.stdout(),
                self.stderr()
            )
        })
    }
}

/// Starts `migsafe` from the crate root; `MIGSAFE_DATABASE_URL` is removed so that the
/// developer's environment never changes a test.
///
/// SIGINT gets its default disposition in the child: an ignored SIGINT is inherited across
/// exec (a shell without job control ignores it for background jobs), and a run that ignores
/// Ctrl-C would finish normally and make the interrupt tests pass or fail for the wrong
/// reason.
fn spawn(args: &[&str]) -> Child {
    use std::os::unix::process::CommandExt as _;
    let mut command = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: signal(2) is async-signal-safe, as pre_exec requires; nothing else runs there.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command.spawn().expect("migsafe starts")
}

fn migsafe(args: &[&str]) -> Run {
    let child = spawn(args);
    let pid = child.id();
    let out = child.wait_with_output().expect("migsafe runs");
    Run { out, pid }
}

/// `migsafe check fixtures/execution_review/<folder> --database-url <url> <mode> --format
/// json --fail-on never <extra>`.
fn check(folder: &str, url: &str, mode: &[&str], extra: &[&str]) -> Run {
    let path = format!("{FIXTURES}/{folder}");
    let mut args = vec!["check", path.as_str(), "--database-url", url];
    args.extend_from_slice(mode);
    args.extend(["--format", "json", "--fail-on", "never"]);
    args.extend_from_slice(extra);
    migsafe(&args)
}

fn findings<'r>(report: &'r Value, rule: &str) -> Vec<&'r Value> {
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {report:#}"))
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The report's summary of the migration whose path ends with `file`.
fn migration<'r>(report: &'r Value, file: &str) -> &'r Value {
    report["migrations"]
        .as_array()
        .unwrap_or_else(|| panic!("no migrations array: {report:#}"))
        .iter()
        .find(|m| m["path"].as_str().is_some_and(|p| p.ends_with(file)))
        .unwrap_or_else(|| panic!("no migration {file} in the report: {report:#}"))
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// The copy

/// A shop database: `customers` (two of them share the email `twice@example.com`), `orders`
/// with a foreign key, a CHECK and an index, and `order_notes` (1,000 rows, identity key).
/// Values are deterministic, so the content fingerprint of a table only changes when its
/// rows do.
async fn shop(prefix: &str, customers: i64, orders: i64) -> TestDb {
    let db = TestDb::create(prefix).await;
    db.execute(&format!(
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
                                 created_at timestamptz NOT NULL);
         CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,
                              status text NOT NULL DEFAULT 'new', quantity int NOT NULL,
                              amount numeric(10, 2) NOT NULL, created_at timestamptz NOT NULL);
         CREATE TABLE order_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                   order_id bigint NOT NULL, note text NOT NULL);
         INSERT INTO customers
           SELECT g, CASE WHEN g <= 2 THEN 'twice@example.com' ELSE 'customer' || g || '@example.com' END,
                  'Customer ' || g, timestamptz '2024-01-01 00:00Z' + g * interval '1 minute'
           FROM generate_series(1, {customers}) g;
         INSERT INTO orders
           SELECT g, 1 + g % {customers}, 'new', 1 + g % 7, (g % 10000) / 100.0,
                  timestamptz '2024-01-01 00:00Z' + g * interval '1 second'
           FROM generate_series(1, {orders}) g;
         INSERT INTO order_notes (order_id, note)
           SELECT g, 'note ' || g FROM generate_series(1, least({orders}, 1000)) g;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
           FOREIGN KEY (customer_id) REFERENCES customers (id);
         ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0);
         ALTER TABLE order_notes ADD CONSTRAINT order_notes_order_fk
           FOREIGN KEY (order_id) REFERENCES orders (id);
         CREATE INDEX orders_customer_id_idx ON orders (customer_id);
         ANALYZE;"
    ))
    .await;
    db
}

/// Everything a migration could change in `public`, one line per fact, sorted: relations,
/// columns (type, NOT NULL, default), indexes (with validity), constraints (with
/// validation), and per table its row count and a fingerprint of its rows' content.
async fn snapshot(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT 'relation ' || c.relname || ' ' || c.relkind::text
           FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
         UNION ALL
         SELECT 'column ' || c.relname || '.' || a.attname || ' '
                || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
            AND a.attnum > 0 AND NOT a.attisdropped
         UNION ALL
         SELECT 'index ' || pg_get_indexdef(i.indexrelid)
                || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
          WHERE c.relnamespace = 'public'::regnamespace
         UNION ALL
         SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
                || pg_get_constraintdef(oid)
                || CASE WHEN convalidated THEN '' ELSE ' NOT VALIDATED' END
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut facts: Vec<String> = rows.into_iter().map(|(r,)| r).collect();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT relname::text FROM pg_class
          WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (table,) in tables {
        let (count, fingerprint): (i64, String) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text \
             FROM \"{table}\" t"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        facts.push(format!("rows {table}: {count} (content {fingerprint})"));
    }
    let _ = conn.close().await;
    facts
}

/// One value from the database (for checking what a run did to it).
async fn scalar(db: &TestDb, sql: &str) -> String {
    let mut conn = db.connect().await;
    let (value,): (String,) = sqlx::query_as(AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
    value
}

async fn admin() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .unwrap_or_else(|e| panic!("Failed to connect to the test server: {e}"))
}

/// The databases named after the clones of the run with this pid.
async fn clones_of(pid: u32) -> Vec<String> {
    let mut conn = admin().await;
    let prefix = format!("migsafe_clone_{pid}_");
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'migsafe_clone_%' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    rows.into_iter()
        .map(|(d,)| d)
        .filter(|d| d.starts_with(&prefix))
        .collect()
}

/// Fails the test when a clone of the run with this pid is still on the server after
/// `patience` (a dropped clone can take a moment to disappear after an interrupt). Leftovers
/// are dropped first, so that a failing test does not litter the shared server.
async fn assert_no_clones(pid: u32, patience: Duration, what: &str) {
    let start = Instant::now();
    let mut left = clones_of(pid).await;
    while !left.is_empty() && start.elapsed() < patience {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = clones_of(pid).await;
    }
    if left.is_empty() {
        return;
    }
    let mut conn = admin().await;
    for name in &left {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
    let _ = conn.close().await;
    panic!("{what}: clone(s) left on the server: {left:?}");
}

/// Whether the run with this pid is creating its clone right now (`CREATE DATABASE` of a
/// `migsafe_clone_<pid>_…` database is active on the server).
async fn creating_clone(pid: u32) -> bool {
    let mut conn = admin().await;
    let pattern = format!("CREATE DATABASE \"migsafe_clone_{pid}_%");
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
    )
    .bind(pattern)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    n > 0
}

fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {pid} failed");
}

/// Waits up to `limit` for the child to exit; kills it (and fails) when it does not.
fn wait_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("migsafe did not exit within {limit:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stderr_of(child: &mut Child) -> String {
    use std::io::Read as _;
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

// ---------------------------------------------------------------------------------------------
// --clone: the copy is untouched and the clone is gone

#[tokio::test]
async fn clone_runs_the_migrations_and_leaves_the_copy_exactly_as_it_was() {
    let db = shop("exrev_clone_ok", 20_000, 200_000).await;
    let before = snapshot(&db).await;
    let run = check("succeeds", &db.url, &["--clone"], &[]);
    let report = run.report();
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(report["evidence"], "execution", "{report:#}");
    assert!(
        findings(&report, "fails-on-copy").is_empty(),
        "every migration succeeds on the copy: {report:#}"
    );
    for file in [
        "0001_add_order_priority.sql",
        "0002_backfill_priority.sql",
        "0003_index_order_status.sql",
    ] {
        let m = migration(&report, file);
        assert!(m["not_executed"].is_null(), "{file} ran: {m:#}");
        assert!(
            !m["timeline"].as_array().unwrap().is_empty(),
            "{file} has a timeline: {m:#}"
        );
        assert_eq!(m["expected"][0]["status"], "met", "{file}: {m:#}");
    }
    let backfill = migration(&report, "0002_backfill_priority.sql");
    assert!(
        backfill["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["rows"] == 5000),
        "the backfill's 5,000 rows are measured: {backfill:#}"
    );
    assert!(
        report["phases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "clone"),
        "the clone phase is reported: {report:#}"
    );

    let after = snapshot(&db).await;
    assert_eq!(
        after, before,
        "the copy behind --clone changed (schema, row counts or content)"
    );
    assert_no_clones(run.pid, Duration::ZERO, "the run left its clone behind").await;
}

#[tokio::test]
async fn a_migration_failing_midway_is_reported_and_leaves_neither_changes_nor_clone() {
    let db = shop("exrev_clone_fail", 20_000, 100_000).await;
    let before = snapshot(&db).await;
    let run = check("fails_midway", &db.url, &["--clone"], &[]);
    let report = run.report();
    assert_eq!(report["evidence"], "execution", "{report:#}");

    let failures = findings(&report, "fails-on-copy");
    assert_eq!(failures.len(), 1, "{report:#}");
    let failure = failures[0];
    assert!(
        text(&failure["file"]).ends_with("0002_unique_customer_email.sql"),
        "{failure:#}"
    );
    assert!(
        text(&failure["statement"]).contains("CREATE UNIQUE INDEX"),
        "{failure:#}"
    );
    assert!(
        text(&failure["message"]).contains("twice@example.com"),
        "the duplicated value is in the message: {failure:#}"
    );
    assert_eq!(failure["severity"], "error", "{failure:#}");
    assert!(
        migration(&report, "0003_later.sql")["not_executed"].is_string(),
        "the migration after the failure is not run: {report:#}"
    );
    assert!(
        migration(&report, "0001_add_customer_tier.sql")["not_executed"].is_null(),
        "{report:#}"
    );

    assert_eq!(
        snapshot(&db).await,
        before,
        "the copy changed although the migrations ran on a clone"
    );
    assert_no_clones(
        run.pid,
        Duration::ZERO,
        "a failing run left its clone behind",
    )
    .await;
    // Without --fail-on never, a failure on the copy fails the check.
    let strict = migsafe(&[
        "check",
        "fixtures/execution_review/fails_midway",
        "--database-url",
        &db.url,
        "--clone",
        "--format",
        "json",
    ]);
    assert_eq!(strict.code(), Some(1), "{}", strict.stderr());
    assert_no_clones(strict.pid, Duration::ZERO, "the run left its clone behind").await;
}

// ---------------------------------------------------------------------------------------------
// Measured locks and rewrites

#[tokio::test]
async fn a_rewriting_type_change_is_measured_over_the_lock_budget() {
    let db = shop("exrev_rewrite", 10_000, 1_000_000).await;
    let before = snapshot(&db).await;
    let run = check("rewrite", &db.url, &["--clone"], &["--config", CONFIG]);
    let report = run.report();
    assert_eq!(report["evidence"], "execution", "{report:#}");

    let too_long = findings(&report, "lock-held-too-long");
    assert!(
        !too_long.is_empty(),
        "no lock-held-too-long with a 100ms budget: {report:#}"
    );
    let held = too_long
        .iter()
        .filter_map(|f| f["facts"]["lock_held_ms"].as_u64())
        .max()
        .unwrap_or_else(|| panic!("lock-held-too-long without facts.lock_held_ms: {report:#}"));
    assert!(held > 100, "held {held} ms is not over the budget");
    assert!(
        too_long
            .iter()
            .any(|f| text(&f["statement"]).contains("ALTER COLUMN quantity TYPE bigint")),
        "{report:#}"
    );
    let rewrites = findings(&report, "table-rewrite");
    assert!(
        rewrites
            .iter()
            .any(|f| text(&f["message"]).contains("orders")),
        "no table-rewrite of orders: {report:#}"
    );
    // The static finding of the same statement carries the measured hold time.
    let type_change = findings(&report, "column-type-change");
    assert!(
        type_change
            .iter()
            .any(|f| f["facts"]["lock_held_ms"].as_u64().is_some()),
        "column-type-change does not carry the measured lock_held_ms: {report:#}"
    );
    let timeline = &migration(&report, "0001_quantity_bigint.sql")["timeline"];
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["lock"] == "AccessExclusiveLock" && t["held_ms"].as_u64() > Some(100)),
        "{timeline:#}"
    );
    assert_eq!(snapshot(&db).await, before);
    assert_no_clones(run.pid, Duration::ZERO, "the run left its clone behind").await;
}

// ---------------------------------------------------------------------------------------------
// Where migrations run

#[tokio::test]
async fn disposable_runs_on_the_database_itself_and_a_plain_url_runs_nothing() {
    let db = shop("exrev_disposable", 1_000, 5_000).await;
    let before = snapshot(&db).await;
    let has_channel = "SELECT count(*)::text FROM information_schema.columns \
                       WHERE table_name = 'orders' AND column_name = 'channel'";

    let catalog = check("disposable", &db.url, &[], &[]);
    let report = catalog.report();
    assert_eq!(report["evidence"], "catalog", "{report:#}");
    assert!(
        migration(&report, "0001_add_order_channel.sql")["timeline"]
            .as_array()
            .is_none_or(|t| t.is_empty()),
        "nothing ran at catalog level: {report:#}"
    );
    assert_eq!(
        snapshot(&db).await,
        before,
        "a plain --database-url review changed the database"
    );

    let disposable = check("disposable", &db.url, &["--disposable"], &[]);
    let report = disposable.report();
    assert_eq!(report["evidence"], "execution", "{report:#}");
    assert_eq!(
        scalar(&db, has_channel).await,
        "1",
        "--disposable runs the migration on the database itself"
    );
    assert_ne!(
        snapshot(&db).await,
        before,
        "the snapshot the --clone tests compare sees a migration's effect"
    );
    assert_no_clones(
        disposable.pid,
        Duration::ZERO,
        "--disposable makes no clone",
    )
    .await;
}

#[test]
fn execution_flags_without_a_disposable_copy_are_refused() {
    let no_url = migsafe(&["check", "fixtures/execution_review/succeeds", "--clone"]);
    assert_eq!(no_url.code(), Some(2), "{}", no_url.stderr());
    let err = no_url.stderr();
    assert!(
        err.contains("--clone") && err.contains("--database-url"),
        "the message names what is missing: {err}"
    );
    assert!(no_url.stdout().is_empty(), "no report: {}", no_url.stdout());

    // Refused before connecting anywhere: the URL points at a port nothing listens on.
    let analyze = migsafe(&[
        "check",
        "fixtures/execution_review/succeeds",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/shop",
        "--analyze",
    ]);
    assert_eq!(analyze.code(), Some(2), "{}", analyze.stderr());
    let err = analyze.stderr();
    assert!(
        err.contains("--analyze") && err.contains("--clone") && err.contains("--disposable"),
        "the message says what --analyze needs: {err}"
    );
    assert!(
        !err.contains("127.0.0.1"),
        "refused before trying to connect: {err}"
    );

    let both = migsafe(&[
        "check",
        "fixtures/execution_review/succeeds",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/shop",
        "--clone",
        "--disposable",
    ]);
    assert_eq!(both.code(), Some(2), "{}", both.stderr());
}

#[tokio::test]
async fn clone_refuses_a_copy_other_sessions_are_connected_to() {
    let db = shop("exrev_busy", 100, 1_000).await;
    let other = db.connect().await;
    let run = check("succeeds", &db.url, &["--clone"], &[]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    let err = run.stderr();
    assert!(
        err.contains("other sessions are connected"),
        "the message says why: {err}"
    );
    assert!(
        err.contains("--restore") && err.contains("--disposable"),
        "the message says what to do instead: {err}"
    );
    assert!(run.stdout().is_empty(), "no report: {}", run.stdout());
    assert_no_clones(run.pid, Duration::ZERO, "the run left its clone behind").await;
    let _ = other.close().await;
}

// ---------------------------------------------------------------------------------------------
// Expected results and rollbacks, checked on the clone

#[tokio::test]
async fn expectations_are_checked_against_what_ran() {
    let db = shop("exrev_expect", 2_000, 20_000).await;
    let run = check("expectations", &db.url, &["--clone"], &[]);
    let report = run.report();
    assert_eq!(report["evidence"], "execution", "{report:#}");

    let backfill = migration(&report, "0001_backfill_few_rows.sql");
    let expected = &backfill["expected"][0];
    assert_eq!(expected["text"], "rows <= 10", "{backfill:#}");
    assert_eq!(expected["status"], "not_met", "{backfill:#}");
    assert!(
        text(&expected["detail"]).contains("500"),
        "the measured 500 rows are shown: {expected:#}"
    );
    let not_met = findings(&report, "expectation-not-met");
    assert_eq!(not_met.len(), 1, "{report:#}");
    assert!(
        text(&not_met[0]["file"]).ends_with("0001_backfill_few_rows.sql"),
        "{report:#}"
    );
    assert_eq!(not_met[0]["severity"], "error");

    let index = migration(&report, "0002_index_customer_name.sql");
    assert_eq!(index["expected"][0]["text"], "succeeds", "{index:#}");
    assert_eq!(index["expected"][0]["status"], "met", "{index:#}");
    assert_no_clones(run.pid, Duration::ZERO, "the run left its clone behind").await;
}

#[tokio::test]
async fn rollbacks_are_proven_on_the_clone() {
    let db = shop("exrev_rollback", 2_000, 20_000).await;
    let before = snapshot(&db).await;
    let run = check("rollback", &db.url, &["--clone"], &[]);
    let report = run.report();
    assert_eq!(report["evidence"], "execution", "{report:#}");

    let restores = migration(&report, "0001_restores.sql");
    assert_eq!(restores["rollback"]["status"], "restores", "{restores:#}");
    assert_eq!(restores["rollback"]["source"], "annotation", "{restores:#}");

    let forgets = migration(&report, "0002_forgets_index.sql");
    assert_eq!(forgets["rollback"]["status"], "differs", "{forgets:#}");
    let differences = findings(&report, "rollback-does-not-restore");
    assert_eq!(differences.len(), 1, "{report:#}");
    let difference = differences[0];
    assert!(
        text(&difference["file"]).ends_with("0002_forgets_index.sql"),
        "{difference:#}"
    );
    assert!(
        text(&difference["message"]).contains("customers_email_lookup_idx"),
        "the forgotten index is named: {difference:#}"
    );
    assert!(findings(&report, "rollback-fails").is_empty(), "{report:#}");
    // The round trip ran "up" twice on the clone, never on the copy.
    assert_eq!(snapshot(&db).await, before);
    assert_no_clones(run.pid, Duration::ZERO, "the run left its clone behind").await;
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C

#[tokio::test]
async fn ctrl_c_during_the_run_drops_the_clone() {
    let db = shop("exrev_sigint", 20_000, 2_000_000).await;
    let before = snapshot(&db).await;
    let mut child = spawn(&[
        "check",
        "fixtures/execution_review/interrupt",
        "--database-url",
        &db.url,
        "--clone",
        "--format",
        "json",
    ]);
    let pid = child.id();
    // Interrupt about a second into the migration itself: once the clone exists.
    let start = Instant::now();
    while clones_of(pid).await.is_empty() && start.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            panic!(
                "migsafe ended before its clone existed: {}",
                stderr_of(&mut child)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!clones_of(pid).await.is_empty(), "the run made no clone");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be interrupted: make the migration slower"
    );
    interrupt(pid);
    let status = wait_within(&mut child, Duration::from_secs(10));
    let err = stderr_of(&mut child);
    assert!(
        !status.success(),
        "an interrupted run exits non-zero: {err}"
    );
    assert_eq!(status.code(), Some(130), "interrupted runs exit 130: {err}");
    assert_no_clones(
        pid,
        Duration::from_secs(10),
        "the interrupted run left its clone behind",
    )
    .await;
    assert_eq!(snapshot(&db).await, before);
}

/// Ctrl-C while `CREATE DATABASE … TEMPLATE` is still copying: the clone does not exist yet
/// when the signal arrives, but the server finishes creating it unless migsafe cancels or
/// drops it.
#[tokio::test]
async fn ctrl_c_while_the_clone_is_being_created_leaves_no_clone() {
    let db = TestDb::create("exrev_sigint_early").await;
    // ~400 MB in 400k rows of incompressible-enough padding (below the TOAST threshold,
    // so stored inline): quick to generate, slow enough to copy.
    db.execute(
        "CREATE TABLE blobs (id bigint PRIMARY KEY, pad text NOT NULL);
         INSERT INTO blobs SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, 400000) g;",
    )
    .await;
    let mut child = spawn(&[
        "check",
        "fixtures/execution_review/disposable",
        "--database-url",
        &db.url,
        "--clone",
        "--format",
        "json",
    ]);
    let pid = child.id();
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < Duration::from_secs(30) {
        if creating_clone(pid).await {
            seen = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        seen,
        "never saw the clone being created (the copy may be too small to catch it): {}",
        stderr_of(&mut child)
    );
    interrupt(pid);
    let status = wait_within(&mut child, Duration::from_secs(10));
    let err = stderr_of(&mut child);
    assert!(
        !status.success(),
        "an interrupted run exits non-zero: {err}"
    );
    // The clone only shows in pg_database once CREATE DATABASE commits: wait for the server
    // to finish (or abandon) it before looking.
    let start = Instant::now();
    while creating_clone(pid).await && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_no_clones(
        pid,
        Duration::from_secs(10),
        &format!(
            "interrupted while cloning, the run left its clone behind \
             (exit {status:?}, stderr: {err:?})"
        ),
    )
    .await;
}
