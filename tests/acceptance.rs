//! Acceptance of issues #9, #11 and #12: one test per observed failure of the issues' text
//! that had no test of its own, written in the shape of the example and run through
//! the binary as a user runs it (notes/acceptance.md maps every point of the three issues to
//! its test). Execution-level tests use their own databases on the shared test server
//! (tests/common); the static ones need no server.

mod common;

use common::json::{findings, migration, report};
use common::TestDb;
use serde_json::Value;
use sqlx::Connection as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn migsafe(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(cwd)
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .env("MIGSAFE_CACHE_DIR", cwd.join("cache"))
        .stdin(Stdio::null())
        .output()
        .expect("migsafe runs")
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write migration");
}

/// A static JSON review of one migration file with the given text (no copy).
fn static_review(name: &str, sql: &str) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), name, sql);
    let out = migsafe(dir.path(), &["check", name, "--format", "json"]);
    let code = out.status.code();
    (code, report(&out))
}

// ---------------------------------------------------------------------------------------------
// Issue #9: the execution level touches only its own disposable copy

/// "A `-- rollback:` note alone (`DROP TABLE x; DROP DATABASE y;`) dropped `y`, and the report
/// still said 'restores'." The up part is harmless, so only the note reaches for `y`.
#[tokio::test]
async fn a_rollback_note_alone_that_drops_another_database_never_runs_and_never_restores() {
    let shop = TestDb::create("acc_note_shop").await;
    shop.execute("CREATE TABLE accounts (id bigint PRIMARY KEY)")
        .await;
    let victim = TestDb::create("acc_note_victim").await;
    victim.execute("CREATE TABLE keep (id bigint)").await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_add_archive.sql",
        &format!(
            "-- owner: @ops\n-- expect: succeeds\n\
             -- rollback: DROP TABLE archive; DROP DATABASE \"{}\";\n\
             CREATE TABLE archive (id bigint);\n",
            victim.name
        ),
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &shop.url,
            "--clone",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    assert_eq!(r["evidence"], "execution", "{r:#}");
    let m = migration(&r, "001_add_archive.sql");
    // The up part ran; only the rollback was withheld.
    assert!(m["not_executed"].is_null(), "{m:#}");
    assert_eq!(m["rollback"]["status"], "not_checked", "{m:#}");
    let detail = text(&m["rollback"]["detail"]);
    assert!(
        detail.contains("DROP DATABASE") && !detail.contains("restores"),
        "{detail}"
    );
    // The database the note names is still there, with its table.
    let mut conn = victim.connect().await;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'keep'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(tables, 1);
    conn.close().await.unwrap();
}

/// "A lost connection during the catalog EXPLAINs becomes a 'skipped' rule and the run exits
/// 0/1 (with `--fail-on warning` it exited 0): the gate passes on a dead server." The EXPLAIN
/// is kept busy by planning: PostgreSQL evaluates an IMMUTABLE function of constants while it
/// plans, so the test can end migsafe's session in the middle of it.
#[tokio::test]
async fn a_connection_lost_during_the_catalog_explain_is_exit_2_not_a_skipped_rule() {
    let db = TestDb::create("acc_lost_explain").await;
    db.execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
         INSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g;
         ANALYZE orders;
         CREATE FUNCTION slow_id(n bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
         AS $$BEGIN PERFORM pg_sleep(30); RETURN n; END$$;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_reset_total.sql",
        "-- owner: @shop\n-- expect: rows <= 10\n-- rollback: irreversible\n\
         UPDATE orders SET total = 0 WHERE id = slow_id(1);\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir.path())
        .args([
            "check",
            ".",
            "--database-url",
            &db.url,
            "--format",
            "json",
            "--fail-on",
            "warning",
        ])
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migsafe runs");
    let mut observer = db.connect().await;
    let mut terminated = false;
    // A bound on polls against a hung run, not a timing claim.
    for _ in 0..600 {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND query ILIKE 'EXPLAIN%slow_id(1)%' LIMIT 1",
        )
        .fetch_optional(&mut observer)
        .await
        .unwrap();
        if let Some(pid) = pid {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut observer)
                .await
                .unwrap();
            terminated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = child.wait_with_output().unwrap();
    observer.close().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(terminated, "the EXPLAIN was never seen running: {stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("connection lost"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("skipped_rules"),
        "a report was written as if the review had run"
    );
}

/// Item 4 of #9, "a lost connection at any phase is exit 2 with 'connection lost'", in the
/// rollback round trip: the session running a down file on the clone is terminated while it
/// runs. The review cannot vouch for the rollback, so it must not end in a verdict.
#[tokio::test]
async fn a_connection_lost_during_the_rollback_round_trip_is_exit_2() {
    let db = TestDb::create("acc_lost_rollback").await;
    db.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000001_order_status.up.sql",
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN status text;\n",
    );
    write(
        dir.path(),
        "000001_order_status.down.sql",
        "SELECT pg_sleep(61.25);\nALTER TABLE orders DROP COLUMN status;\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir.path())
        .args([
            "check",
            ".",
            "--database-url",
            &db.url,
            "--clone",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migsafe runs");
    // On the maintenance database: a session on the source would keep it from being cloned.
    let mut observer = sqlx::PgConnection::connect(&common::server_url())
        .await
        .unwrap();
    let mut terminated = false;
    // A bound on polls against a hung run, not a timing claim.
    for _ in 0..600 {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname LIKE 'migsafe_clone_%' \
             AND query LIKE 'SELECT pg_sleep(61.25)%' LIMIT 1",
        )
        .fetch_optional(&mut observer)
        .await
        .unwrap();
        if let Some(pid) = pid {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut observer)
                .await
                .unwrap();
            terminated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = child.wait_with_output().unwrap();
    observer.close().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(terminated, "the down file never ran on the clone: {stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("connection lost"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Issue #11: verdicts that never overstate

/// "'Not checked — verified only at execution level' is printed during execution runs for
/// migrations that were simply not executed (after a failure). The reason must be the real
/// one." Three true reasons in one run: a prose rollback, a migration that itself failed, and
/// one that never ran because of that failure.
#[tokio::test]
async fn every_not_checked_of_an_execution_run_says_its_true_reason() {
    let db = TestDb::create("acc_not_checked").await;
    db.execute(
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text);
         INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 20) g;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "001_customer_note.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         -- rollback: ask the DBA to restore last night's backup of customers\n\
         SET lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN note text;\n",
    );
    write(
        dir.path(),
        "002_customer_tier.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         -- rollback: ALTER TABLE customer DROP COLUMN tier;\n\
         SET lock_timeout = '2s';\nALTER TABLE customer ADD COLUMN tier text;\n",
    );
    write(
        dir.path(),
        "003_customer_locale.sql",
        "-- owner: @crm\n-- expect: duration < 1s\n\
         -- rollback: ALTER TABLE customers DROP COLUMN locale;\n\
         SET lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN locale text;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert_eq!(r["evidence"], "execution", "{r:#}");
    let prose = migration(&r, "001_customer_note.sql");
    assert_eq!(
        text(&prose["rollback"]["detail"]),
        "not checked: the rollback note is prose, not SQL migsafe can run",
        "{prose:#}"
    );
    let failed = migration(&r, "002_customer_tier.sql");
    let detail = text(&failed["rollback"]["detail"]);
    assert!(
        detail.starts_with("not checked: the migration itself failed on the copy")
            && detail.contains("\"customer\" does not exist"),
        "{failed:#}"
    );
    let stopped = migration(&r, "003_customer_locale.sql");
    for detail in [
        text(&stopped["rollback"]["detail"]),
        text(&stopped["expected"][0]["detail"]),
    ] {
        assert!(
            detail.starts_with("not checked: ") && detail.contains("002_customer_tier.sql"),
            "{stopped:#}"
        );
    }
    assert!(
        !serde_json::to_string(&r["migrations"])
            .unwrap()
            .contains("only at execution level"),
        "{r:#}"
    );
}

/// "A timeout is reported as a data failure", for the lock wait as well: a statement that
/// waits for its lock longer than the copy's `lock_timeout` (SQLSTATE 55P03), behind a
/// session that holds the table as production traffic would, is a timeout with its wait and
/// the limit, never `fails-on-copy` with advice about duplicates and NULLs.
#[tokio::test]
async fn a_statement_that_waits_past_the_lock_timeout_is_a_timeout_not_a_failure() {
    let db = TestDb::create("acc_lock_wait").await;
    db.execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
         INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;",
    )
    .await;
    let mut holder = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS SHARE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migsafe.toml",
        "[execution]\nlock_timeout = \"1s\"\n",
    );
    write(
        dir.path(),
        "001_order_note.sql",
        "-- owner: @shop\n-- expect: succeeds\n\
         -- rollback: ALTER TABLE orders DROP COLUMN note;\n\
         ALTER TABLE orders ADD COLUMN note text;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            "001_order_note.sql",
            "--config",
            "migsafe.toml",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    holder.close().await.unwrap();
    let r = report(&out);
    assert_eq!(r["evidence"], "execution", "{r:#}");
    assert!(findings(&r, "fails-on-copy").is_empty(), "{r:#}");
    let timeouts = findings(&r, "times-out-on-copy");
    assert_eq!(timeouts.len(), 1, "{r:#}");
    let message = text(&timeouts[0]["message"]);
    assert!(
        message.contains("waiting") && message.contains("lock_timeout is 1.0 s"),
        "{message}"
    );
    let m = migration(&r, "001_order_note.sql");
    assert_eq!(m["expected"][0]["status"], "not_met", "{m:#}");
}

/// Item 6's last reason: with `--all`, a migration the copy's history records as applied is
/// reviewed but not run again, and its expectation and rollback say so instead of "verified
/// only at execution level".
#[tokio::test]
async fn an_applied_migration_reviewed_with_all_says_it_was_not_run_again() {
    let db = TestDb::create("acc_applied").await;
    db.execute(
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text);
         CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (1, false);",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000001_create_customers.up.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         CREATE TABLE customers (id bigint PRIMARY KEY, email text);\n",
    );
    write(
        dir.path(),
        "000001_create_customers.down.sql",
        "DROP TABLE customers;\n",
    );
    write(
        dir.path(),
        "000002_customer_note.up.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         SET lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN note text;\n",
    );
    write(
        dir.path(),
        "000002_customer_note.down.sql",
        "ALTER TABLE customers DROP COLUMN note;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--all",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert_eq!(r["evidence"], "execution", "{r:#}");
    let applied = migration(&r, "000001_create_customers.up.sql");
    for detail in [
        text(&applied["expected"][0]["detail"]),
        text(&applied["rollback"]["detail"]),
    ] {
        assert_eq!(
            detail, "not checked: it is already applied on the copy, so it was not run again",
            "{applied:#}"
        );
    }
    // The pending one ran and its rollback was proven.
    let pending = migration(&r, "000002_customer_note.up.sql");
    assert_eq!(pending["rollback"]["status"], "restores", "{pending:#}");
}

// ---------------------------------------------------------------------------------------------
// Issue #12: input PostgreSQL rejects is reported, valid syntax is read

/// "`CREATE USER … NOINHERIT` is 'unparsed'": the role attributes of PostgreSQL's grammar are
/// read, so the statement is known (a cluster-wide one) rather than "not reviewed".
#[test]
fn create_user_noinherit_is_read_not_unparsed() {
    let (_, r) = static_review(
        "20240105_reporting_user.sql",
        "CREATE USER reporting NOINHERIT LOGIN;\n\
         CREATE USER harbor WITH ENCRYPTED PASSWORD 'changeme' NOINHERIT;\n\
         CREATE USER analyst NOINHERIT VALID UNTIL 'infinity' IN ROLE reporting;\n\
         CREATE ROLE readers WITH NOINHERIT NOLOGIN NOCREATEDB;\n\
         ALTER ROLE analyst WITH NOINHERIT CONNECTION LIMIT 5;\n",
    );
    for rule in ["unparsed-statement", "invalid-syntax"] {
        assert!(findings(&r, rule).is_empty(), "{rule}: {r:#}");
    }
}

/// "PostgreSQL 18's `ALTER TABLE t ADD CONSTRAINT n NOT NULL col` is read as adding a column
/// named `constraint` and reported as an error." It is a named NOT NULL constraint, which
/// scans the table like SET NOT NULL; with NOT VALID it does not.
#[test]
fn pg18_add_constraint_not_null_is_a_not_null_not_a_column_named_constraint() {
    let (_, r) = static_review(
        "20240106_rental_return_date.sql",
        "SET lock_timeout = '2s';\n\
         ALTER TABLE rental ADD CONSTRAINT rental_return_date_nn NOT NULL return_date;\n\
         ALTER TABLE payment ADD CONSTRAINT payment_amount_nn NOT NULL amount NOT VALID;\n",
    );
    let all = serde_json::to_string(&r["findings"]).unwrap();
    assert!(!all.contains("`constraint`"), "{r:#}");
    let not_null = findings(&r, "set-not-null");
    assert_eq!(not_null.len(), 1, "{r:#}");
    assert_eq!(not_null[0]["line"], 2);
    assert!(
        text(&not_null[0]["message"]).contains("return_date"),
        "{r:#}"
    );
    assert!(findings(&r, "add-column-required").is_empty(), "{r:#}");
    assert!(findings(&r, "invalid-syntax").is_empty(), "{r:#}");
}

/// "A missing `;` between two statements" passes silently: it is an error at the line where
/// the second statement starts, the gate fails, and the statements after it are reviewed.
#[test]
fn a_missing_semicolon_between_two_statements_fails_the_check_at_its_line() {
    let (code, r) = static_review(
        "20240107_user_nickname.sql",
        "SET lock_timeout = '2s';\n\
         ALTER TABLE users ADD COLUMN nickname text\n\
         ALTER TABLE users ADD COLUMN locale text;\n\
         CREATE INDEX users_locale_idx ON users (locale);\n",
    );
    assert_eq!(code, Some(1), "{r:#}");
    let invalid = findings(&r, "invalid-syntax");
    assert_eq!(invalid.len(), 1, "{r:#}");
    assert_eq!(invalid[0]["severity"], "error");
    assert!(
        text(&invalid[0]["message"]).contains("starts on line 2 of this statement"),
        "{r:#}"
    );
    let index = findings(&r, "create-index-non-concurrently");
    assert_eq!(index.len(), 1, "{r:#}");
    assert_eq!(index[0]["line"], 4);
}

/// "SQLite's `AUTOINCREMENT`/`UNSIGNED` pass silently." By default (`dialect = "auto"`) a file
/// with another engine's syntax is listed as not reviewed, naming the engine, the marker and
/// its line; in a project
/// that declares itself PostgreSQL each such statement is an error at its line.
#[test]
fn sqlite_and_mysql_syntax_is_named_never_passed_silently() {
    let sql = "CREATE INDEX orders_total_idx ON orders (total);\n\
               ALTER TABLE orders ADD COLUMN note_id INTEGER UNSIGNED;\n\
               CREATE TABLE notes (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  body text\n);\n";
    let (_, auto) = static_review("20240108_notes.sql", sql);
    let skipped = auto["skipped_migrations"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{auto:#}");
    // The reason names the first marker and its line, so a stray one can be fixed in place.
    assert!(
        text(&skipped[0]["reason"]).starts_with("written for MySQL/MariaDB (UNSIGNED on line 2)"),
        "{auto:#}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "20240108_notes.sql", sql);
    write(dir.path(), "migsafe.toml", "dialect = \"postgres\"\n");
    let out = migsafe(dir.path(), &["check", ".", "--format", "json"]);
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    let invalid: Vec<(u64, String)> = findings(&r, "invalid-syntax")
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), text(&f["message"]).to_string()))
        .collect();
    assert_eq!(invalid.len(), 2, "{r:#}");
    assert_eq!(invalid[0].0, 2);
    assert!(invalid[0].1.contains("UNSIGNED"), "{invalid:?}");
    assert_eq!(invalid[1].0, 3);
    assert!(invalid[1].1.contains("AUTOINCREMENT"), "{invalid:?}");
    assert_eq!(findings(&r, "create-index-non-concurrently").len(), 1);
}

/// "Template placeholders" pass silently: a psql variable or an unrendered template in a value
/// position (`:plan`, which SQL parsers read as a bind parameter) is named at its line, and
/// the statements after it are still reviewed.
#[test]
fn template_placeholders_in_value_positions_are_named_at_their_line() {
    let (_, r) = static_review(
        "20240109_user_plan.sql",
        "SET lock_timeout = '2s';\n\
         UPDATE users SET plan = :plan WHERE id > 0;\n\
         ALTER TABLE users ALTER COLUMN plan SET DEFAULT :'default_plan';\n\
         ALTER TABLE users ALTER COLUMN tier SET DEFAULT :default_tier;\n\
         CREATE INDEX users_plan_idx ON users (plan);\n",
    );
    let unrendered: Vec<(u64, String)> = findings(&r, "unparsed-statement")
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), text(&f["message"]).to_string()))
        .collect();
    assert_eq!(unrendered.len(), 3, "{r:#}");
    for ((line, message), (want_line, placeholder)) in
        unrendered
            .iter()
            .zip([(2, ":plan"), (3, ":'default_plan'"), (4, ":default_tier")])
    {
        assert_eq!(*line, want_line, "{message}");
        assert!(
            message.contains(&format!("template placeholder `{placeholder}`")),
            "{message}"
        );
    }
    let index = findings(&r, "create-index-non-concurrently");
    assert_eq!(index.len(), 1, "{r:#}");
    assert_eq!(index[0]["line"], 5);
}
