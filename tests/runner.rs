//! The runner model end to end (issue #10, part A): projects in the shape of real ones under
//! `fixtures/runners/`, one per runner, reviewed as their framework runs them (static), and run
//! on a copy built from `fixtures/runners/setup.sql` the way that runner would send them
//! (execution): a `CREATE INDEX CONCURRENTLY` among other statements of a one-query runner
//! fails there exactly as PostgreSQL fails it when the whole file arrives as one query, and
//! the same statement alone, or under a statement-by-statement runner, succeeds.

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::load::load;
use migsafe::model::{Direction, Finding, Layout, Migration, Report, Severity, Transaction};
use migsafe::review::{check_on_target, check_paths, load_migrations, prepare, Target};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = "fixtures/runners";

fn fixture(relative: &str) -> PathBuf {
    Path::new(ROOT).join(relative)
}

fn loaded(relative: &str) -> Vec<Migration> {
    load(&[fixture(relative)], None, &mut std::io::empty())
        .unwrap_or_else(|e| panic!("{relative} did not load: {e:#}"))
}

fn review(relative: &str, settings: &Settings) -> Report {
    check_paths(&[fixture(relative)], settings, &mut std::io::empty())
        .unwrap_or_else(|e| panic!("{relative} did not review: {e:#}"))
}

fn temporal_settings() -> Settings {
    Settings::from_file(&fixture("temporal/migsafe.toml")).expect("the temporal config loads")
}

fn of<'a>(report: &'a Report, rule: &str) -> Vec<&'a Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

fn in_file<'a>(findings: &[&'a Finding], needle: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .copied()
        .filter(|f| f.file.contains(needle))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Static: each layout's runner, with its source.
// ---------------------------------------------------------------------------------------

#[test]
fn each_layout_says_how_its_runner_sends_a_file_and_why() {
    let modes = |ms: &[Migration]| ms.iter().map(|m| m.up.transaction).collect::<Vec<_>>();

    let golang = loaded("golang-migrate");
    assert!(golang.iter().all(|m| m.layout == Layout::GolangMigrate));
    assert_eq!(modes(&golang), [Transaction::Implicit; 3]);
    assert!(golang[0].up.runner.source.contains("one Exec"));

    let goose = loaded("goose");
    assert_eq!(modes(&goose), [Transaction::File, Transaction::Statement]);
    assert!(goose[1].up.runner.marker);
    assert!(goose[1].up.runner.source.contains("NO TRANSACTION"));
    // NO TRANSACTION covers both directions of the file.
    assert_eq!(
        goose[1].down.as_ref().unwrap().transaction,
        Transaction::Statement
    );

    let plain = loaded("plain/add_users_email_index.sql");
    assert_eq!(modes(&plain), [Transaction::Unknown]);
    assert!(plain[0].up.runner.source.contains("unknown"));

    let sqlx = loaded("sqlx");
    assert!(sqlx.iter().all(|m| m.layout == Layout::Sqlx));
    assert_eq!(modes(&sqlx), [Transaction::Implicit; 2]);
    assert!(sqlx[0].up.runner.source.contains("-- no-transaction"));

    let diesel = loaded("diesel");
    assert_eq!(modes(&diesel), [Transaction::Implicit; 3]);
    assert!(diesel[0]
        .up
        .runner
        .source
        .contains("run_in_transaction = false"));

    let dbmate = loaded("dbmate");
    assert_eq!(modes(&dbmate), [Transaction::Implicit]);
    assert!(dbmate[0].up.runner.source.contains("transaction:false"));
}

#[test]
fn flyway_decides_from_its_configuration_and_from_the_statements() {
    let owners = migsafe::metadata::Owners::default();
    let parsed: Vec<_> = loaded("flyway")
        .into_iter()
        .map(|m| prepare(m, &owners))
        .collect();
    let by = |v: &str| {
        parsed
            .iter()
            .find(|m| m.migration.version.as_deref() == Some(v))
            .unwrap()
    };
    // V2: executeInTransaction=false in its .conf.
    let v2 = &by("2").migration.up;
    assert_eq!(v2.transaction, Transaction::Statement);
    assert!(v2.runner.source.contains(".conf"), "{}", v2.runner.source);
    // V3: only CREATE INDEX CONCURRENTLY, which Flyway runs without a transaction by itself.
    let v3 = &by("3").migration.up;
    assert_eq!(v3.transaction, Transaction::Statement);
    assert!(v3.runner.source.contains("cannot run in a transaction"));
    // Its undo script is transactional (a plain DROP INDEX).
    assert_eq!(
        by("3").migration.down.as_ref().unwrap().transaction,
        Transaction::File
    );
    // V4 mixes it with an ALTER TABLE: Flyway refuses the script unless mixed = true.
    let v4 = by("4");
    assert_eq!(v4.migration.up.transaction, Transaction::Statement);
    assert!(
        v4.migration
            .load_notes
            .iter()
            .any(|n| n.message.contains("Flyway refuses")),
        "{:?}",
        v4.migration.load_notes
    );
    assert!(v4.statements.iter().all(|s| !s.in_transaction));
}

// ---------------------------------------------------------------------------------------
// Static: findings follow the runner.
// ---------------------------------------------------------------------------------------

#[test]
fn a_declared_statement_runner_has_no_transaction_findings() {
    let report = review("temporal/schema/postgresql/v1.2", &temporal_settings());
    for rule in [
        "concurrently-in-transaction",
        "statements-after-exclusive-lock",
        "transaction-nesting",
    ] {
        assert!(
            of(&report, rule).is_empty(),
            "{rule}: {:#?}",
            of(&report, rule)
        );
    }
    let m = &report.migrations[0];
    assert_eq!(m.transaction, Transaction::Statement);
    assert!(
        m.transaction_source.contains("[[runner]]")
            && m.transaction_source.contains("temporal-sql-tool"),
        "{}",
        m.transaction_source
    );
}

#[test]
fn without_the_declaration_nothing_is_an_error_on_an_assumption() {
    let report = review("temporal/schema/postgresql/v1.2", &Settings::default());
    let cic = of(&report, "concurrently-in-transaction");
    assert_eq!(cic.len(), 1, "{cic:#?}");
    assert_eq!(cic[0].severity, Severity::Info);
    assert!(cic[0].message.contains("[[runner]]"), "{}", cic[0].message);
    assert!(of(&report, "statements-after-exclusive-lock").is_empty());
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report.migrations[0].transaction, Transaction::Unknown);

    // A lone file reviewed on its own: the same.
    let lone = review("plain/add_users_email_index.sql", &Settings::default());
    let cic = of(&lone, "concurrently-in-transaction");
    assert_eq!(cic.len(), 1);
    assert_eq!(cic[0].severity, Severity::Info);
    assert!(
        cic[0].message.contains("assumed psql"),
        "{}",
        cic[0].message
    );
    assert!(
        lone.worst() < Some(Severity::Warning),
        "{:#?}",
        lone.findings
    );
}

#[test]
fn one_query_runners_fail_concurrently_among_other_statements() {
    for (folder, failing, fine) in [
        ("golang-migrate", "000002_", "000003_"),
        ("sqlx", "20240302090000_", "20240301120000_"),
        ("diesel", "index_posts_published", "index_posts_author"),
        ("dbmate", "index_invoices", "(none)"),
    ] {
        let report = review(folder, &Settings::default());
        let cic = of(&report, "concurrently-in-transaction");
        let bad = in_file(&cic, failing);
        assert!(!bad.is_empty(), "{folder}: {cic:#?}");
        for f in &bad {
            assert_eq!(f.severity, Severity::Error, "{folder}: {f:#?}");
            assert!(f.message.contains("one query"), "{folder}: {}", f.message);
            assert_eq!(f.direction, Direction::Up);
        }
        assert!(in_file(&cic, fine).is_empty(), "{folder}: {cic:#?}");
    }
    // Both concurrent builds of the sqlx file are in the implicit transaction.
    let sqlx = review("sqlx", &Settings::default());
    assert_eq!(of(&sqlx, "concurrently-in-transaction").len(), 2);
}

#[test]
fn statement_runners_run_concurrently_outside_a_transaction() {
    for folder in ["goose", "flyway"] {
        let report = review(folder, &Settings::default());
        let cic = of(&report, "concurrently-in-transaction");
        assert!(cic.is_empty(), "{folder}: {cic:#?}");
    }
    let flyway = review("flyway", &Settings::default());
    let refused = of(&flyway, "malformed-migration");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(refused[0].file.ends_with("V4__employees_department.sql"));
    assert!(refused[0].message.contains("mixed = true"));
}

#[test]
fn down_migrations_are_reviewed_as_the_rollback_path() {
    // diesel: the down.sql that rebuilds a dropped index without CONCURRENTLY.
    let diesel = review("diesel", &Settings::default());
    let rebuild: Vec<_> = of(&diesel, "create-index-non-concurrently")
        .into_iter()
        .filter(|f| f.direction == Direction::Down)
        .collect();
    assert_eq!(rebuild.len(), 1, "{:#?}", diesel.findings);
    let f = rebuild[0];
    assert_eq!(
        f.file,
        "fixtures/runners/diesel/2024-03-02-090000_drop_posts_legacy_idx/down.sql"
    );
    assert_eq!(f.line, 2);
    assert!(f.message.starts_with("Rollback"), "{}", f.message);
    assert!(f.message.contains("posts"), "{}", f.message);

    // goose: the Down section of the NO TRANSACTION file, in the same file.
    let goose = review("goose", &Settings::default());
    let drop: Vec<_> = of(&goose, "drop-index-non-concurrently");
    assert_eq!(drop.len(), 1, "{:#?}", goose.findings);
    assert_eq!(drop[0].direction, Direction::Down);
    assert!(drop[0].file.ends_with("00002_index_orders_customer.sql"));
    assert_eq!(drop[0].line, 8);
    // The rollback dropping the column the up added is what it is for: no drop-column.
    assert!(
        of(&goose, "drop-column").is_empty(),
        "{:#?}",
        of(&goose, "drop-column")
    );
    // But its lock without a timeout is a risk of running it in production.
    let locks = of(&goose, "lock-without-timeout");
    assert!(
        locks.iter().any(
            |f| f.direction == Direction::Down && f.file.ends_with("00001_add_orders_note.sql")
        ),
        "{locks:#?}"
    );

    // Flyway: the undo script is reviewed in its own file.
    let flyway = review("flyway", &Settings::default());
    let undo: Vec<_> = of(&flyway, "drop-index-non-concurrently");
    assert_eq!(undo.len(), 1, "{:#?}", flyway.findings);
    assert!(undo[0].file.ends_with("U3__index_employees_manager.sql"));
    assert_eq!(undo[0].direction, Direction::Down);

    // Dropping the table the up migration created locks nobody who was there before.
    let golang = review("golang-migrate", &Settings::default());
    let rollback_of_create: Vec<_> = golang
        .findings
        .iter()
        .filter(|f| f.direction == Direction::Down && f.file.contains("000001_"))
        .collect();
    assert!(rollback_of_create.is_empty(), "{rollback_of_create:#?}");

    // Up findings stay up.
    assert!(of(&diesel, "concurrently-in-transaction")
        .iter()
        .all(|f| f.direction == Direction::Up));
}

#[test]
fn a_down_file_given_with_its_folder_is_reviewed_once() {
    let down = fixture("golang-migrate/000002_index_payments_account.down.sql");
    let once = load_migrations(
        &[fixture("golang-migrate")],
        &Settings::default(),
        &mut std::io::empty(),
    )
    .unwrap();
    let twice = load_migrations(
        &[fixture("golang-migrate"), down],
        &Settings::default(),
        &mut std::io::empty(),
    )
    .unwrap();
    assert_eq!(once.len(), twice.len());
}

#[test]
fn suppressions_in_a_down_part_apply_to_it_and_unused_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("00001_reindex.sql"),
        "-- owner: @a\n-- +goose Up\nSET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);\n\
         -- +goose Down\nSET lock_timeout = '2s';\n\
         -- migsafe:allow drop-index-non-concurrently reason: t is tiny\nDROP INDEX i;\n\
         -- migsafe:allow rename-table reason: nothing\nSELECT 1;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("00002_other.sql"),
        "-- migsafe:allow-file lock-without-timeout reason: a maintenance window\n\
         -- +goose Up\nCREATE TABLE u (id int);\n-- +goose Down\nDROP TABLE t;\n",
    )
    .unwrap();
    let report = check_paths(
        &[dir.path().to_path_buf()],
        &Settings::default(),
        &mut std::io::empty(),
    )
    .unwrap();
    assert!(of(&report, "drop-index-non-concurrently").is_empty());
    let unused = of(&report, "unused-suppression");
    assert_eq!(unused.len(), 1, "{unused:#?}");
    assert_eq!(unused[0].direction, Direction::Down);
    assert!(unused[0].message.contains("rename-table"));
    // A file-wide suppression in the header covers the Down section of the same file.
    assert!(
        of(&report, "lock-without-timeout").is_empty(),
        "{:#?}",
        report.findings
    );
}

// ---------------------------------------------------------------------------------------
// Reports and the command line.
// ---------------------------------------------------------------------------------------

fn migsafe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(args)
        .output()
        .expect("migsafe runs")
}

#[test]
fn json_shows_each_migrations_mode_and_each_findings_direction() {
    let out = migsafe(&[
        "check",
        "fixtures/runners/golang-migrate",
        "fixtures/runners/diesel",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v["migrations"][0];
    assert_eq!(first["transaction"], "implicit");
    assert!(first["transaction_source"]
        .as_str()
        .unwrap()
        .starts_with("golang-migrate: "));
    let findings = v["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .all(|f| f["direction"] == "up" || f["direction"] == "down"));
    assert!(findings
        .iter()
        .any(|f| f["direction"] == "down" && f["file"].as_str().unwrap().ends_with("down.sql")));
}

#[test]
fn the_transaction_flag_declares_the_runner_and_bad_values_name_the_key() {
    let plain = "fixtures/runners/plain/add_users_email_index.sql";
    let out = migsafe(&["check", plain, "--transaction", "file", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "an error at --fail-on error");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["migrations"][0]["transaction"], "file");
    assert_eq!(
        v["migrations"][0]["transaction_source"],
        "--transaction file"
    );

    let out = migsafe(&["check", plain, "--transaction", "autocommit"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--transaction") && err.contains("autocommit"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migsafe.toml");
    std::fs::write(
        &config,
        "[[runner]]\npath = \"**\"\ntransaction = \"auto\"\n",
    )
    .unwrap();
    let out = migsafe(&["check", plain, "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("runner[0].transaction"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Execution: the copy runs each file the way its runner would.
// ---------------------------------------------------------------------------------------

async fn copy(prefix: &str) -> TestDb {
    TestDb::with_fixture(prefix, "runners/setup.sql").await
}

/// An execution-level review of `paths` on the disposable database `db`.
async fn execute(db: &TestDb, paths: &[&str], settings: &Settings) -> Report {
    let paths: Vec<PathBuf> = paths.iter().map(|p| fixture(p)).collect();
    let target = Target {
        url: db.url.clone(),
        execute_on: Some(db.url.clone()),
        analyze: false,
    };
    check_on_target(&paths, settings, &mut std::io::empty(), &target, true)
        .await
        .unwrap_or_else(|e| panic!("{paths:?} did not run: {e:#}"))
}

fn failed_on_copy<'a>(report: &'a Report, needle: &str) -> Vec<&'a Finding> {
    in_file(&of(report, "fails-on-copy"), needle)
}

async fn index_exists(db: &TestDb, name: &str) -> bool {
    let mut conn = db.connect().await;
    let found: Option<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE indexname = $1")
            .bind(name)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
    let _ = conn.close().await;
    found.is_some()
}

/// Sends `file` the way a one-query runner does (golang-migrate, sqlx `-- no-transaction`,
/// diesel `run_in_transaction = false`): the whole text as one simple query. The SQLSTATE of
/// PostgreSQL's answer, if it failed.
async fn as_one_query(db: &TestDb, file: &str) -> Option<String> {
    let sql = std::fs::read_to_string(fixture(file)).unwrap();
    match db.try_execute(&sql).await {
        Ok(()) => None,
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        Err(e) => panic!("{file}: {e}"),
    }
}

#[tokio::test]
async fn one_query_runners_fail_on_the_copy_exactly_as_postgres_fails_the_file() {
    let reference = copy("runner_ref").await;
    let db = copy("runner_exec").await;
    for (file, index, fails) in [
        (
            "golang-migrate/000002_index_payments_account.up.sql",
            "payments_account_id_idx",
            true,
        ),
        (
            "golang-migrate/000003_index_payments_created.up.sql",
            "payments_created_at_idx",
            false,
        ),
        (
            "sqlx/20240302090000_index_users_email.sql",
            "users_email_key",
            true,
        ),
        (
            "sqlx/20240301120000_index_users_created.sql",
            "users_created_at_idx",
            false,
        ),
        (
            "diesel/2024-03-03-100000_index_posts_published/up.sql",
            "posts_published_at_idx",
            true,
        ),
        (
            "diesel/2024-03-01-120000_index_posts_author/up.sql",
            "posts_author_id_idx",
            false,
        ),
    ] {
        // What the runner itself gets from PostgreSQL, on a copy of its own (the files touch
        // different indexes, so two copies serve them all).
        let expected = as_one_query(&reference, file).await;
        assert_eq!(expected.is_some(), fails, "{file}: the premise");
        let report = execute(&db, &[file], &Settings::default()).await;
        let failed = failed_on_copy(&report, "");
        if fails {
            assert_eq!(failed.len(), 1, "{file}: {:#?}", report.findings);
            assert!(
                failed[0]
                    .message
                    .contains("cannot run inside a transaction block"),
                "{file}: {}",
                failed[0].message
            );
            assert!(
                failed[0].message.contains(expected.as_deref().unwrap()),
                "{file}: {} vs SQLSTATE {expected:?}",
                failed[0].message
            );
            assert!(!index_exists(&db, index).await, "{file}: rolled back");
        } else {
            assert!(failed.is_empty(), "{file}: {failed:#?}");
            assert!(index_exists(&db, index).await, "{file}: built");
        }
    }
}

#[tokio::test]
async fn an_explicit_commit_in_a_one_query_file_behaves_as_in_postgres() {
    // golang-migrate sends this file in one Exec: the first block commits, the statements
    // after its COMMIT are again one implicit transaction, so the concurrent build fails and
    // takes the second table with it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("000001_batches.up.sql");
    std::fs::write(
        &file,
        "BEGIN;\nCREATE TABLE batch_one (id int);\nCOMMIT;\nCREATE TABLE batch_two (id int);\n\
         CREATE INDEX CONCURRENTLY payments_amount_idx ON payments (amount_cents);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("000001_batches.down.sql"), "").unwrap();
    let reference = copy("runner_commit_ref").await;
    let sql = std::fs::read_to_string(&file).unwrap();
    assert!(reference.try_execute(&sql).await.is_err());
    let tables = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(AssertSqlSafe(
                "SELECT relname::text FROM pg_class WHERE relname LIKE 'batch_%' ORDER BY 1",
            ))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            names
        }
    };
    let expected = tables(&reference).await;
    assert_eq!(expected, ["batch_one"]);

    let db = copy("runner_commit").await;
    let target = Target {
        url: db.url.clone(),
        execute_on: Some(db.url.clone()),
        analyze: false,
    };
    let report = check_on_target(
        &[dir.path().to_path_buf()],
        &Settings::default(),
        &mut std::io::empty(),
        &target,
        true,
    )
    .await
    .unwrap();
    assert_eq!(report.migrations[0].transaction, Transaction::Implicit);
    assert_eq!(
        failed_on_copy(&report, "").len(),
        1,
        "{:#?}",
        report.findings
    );
    assert_eq!(tables(&db).await, expected);
}

#[tokio::test]
async fn statement_runners_and_unknown_runners_build_concurrently_on_the_copy() {
    let db = copy("runner_stmt").await;
    // A lone plain file: run as psql runs it, and the report says so.
    let plain = execute(
        &db,
        &["plain/add_users_email_index.sql"],
        &Settings::default(),
    )
    .await;
    assert!(
        failed_on_copy(&plain, "").is_empty(),
        "{:#?}",
        plain.findings
    );
    assert!(index_exists(&db, "users_email_idx").await);
    let source = &plain.migrations[0].transaction_source;
    assert!(source.contains("ran as psql"), "{source}");

    // temporal-sql-tool, declared in migsafe.toml: each statement on its own.
    let temporal = execute(
        &db,
        &["temporal/schema/postgresql/v1.2"],
        &temporal_settings(),
    )
    .await;
    assert!(
        failed_on_copy(&temporal, "").is_empty(),
        "{:#?}",
        temporal.findings
    );
    assert_eq!(temporal.migrations[0].timeline.len(), 4);
    assert!(temporal.migrations[0].timeline.iter().all(|t| !t.failed));
    assert!(index_exists(&db, "executions_state_idx").await);

    // goose NO TRANSACTION and Flyway executeInTransaction=false / its own detection.
    let goose = execute(
        &db,
        &["goose/00002_index_orders_customer.sql"],
        &Settings::default(),
    )
    .await;
    assert!(
        failed_on_copy(&goose, "").is_empty(),
        "{:#?}",
        goose.findings
    );
    assert!(index_exists(&db, "orders_customer_id_idx").await);
    let flyway = execute(
        &db,
        &[
            "flyway/V2__index_employees_email.sql",
            "flyway/V3__index_employees_manager.sql",
        ],
        &Settings::default(),
    )
    .await;
    assert!(
        failed_on_copy(&flyway, "").is_empty(),
        "{:#?}",
        flyway.findings
    );
    assert!(index_exists(&db, "employees_email_idx").await);
    assert!(index_exists(&db, "employees_manager_id_idx").await);
}

#[tokio::test]
async fn a_declared_runner_changes_how_the_copy_runs_the_file() {
    // The same lone file, declared as a runner that wraps each file: it fails there.
    let db = copy("runner_declared").await;
    let settings = Settings {
        transaction: Some(Transaction::File),
        ..Settings::default()
    };
    let report = execute(&db, &["plain/add_users_email_index.sql"], &settings).await;
    assert_eq!(
        failed_on_copy(&report, "").len(),
        1,
        "{:#?}",
        report.findings
    );
    assert!(!index_exists(&db, "users_email_idx").await);
    let cic = of(&report, "concurrently-in-transaction");
    assert_eq!(cic.len(), 1);
    assert_eq!(cic[0].severity, Severity::Error);
}

#[tokio::test]
async fn dbmate_transaction_false_with_two_statements_fails_on_the_copy() {
    let db = copy("runner_dbmate").await;
    let report = execute(&db, &["dbmate"], &Settings::default()).await;
    assert_eq!(
        failed_on_copy(&report, "").len(),
        1,
        "{:#?}",
        report.findings
    );
    assert!(!index_exists(&db, "invoices_customer_id_idx").await);
    let reference = copy("runner_dbmate_ref").await;
    // dbmate sends the block (the text after `-- migrate:up`) in one Exec.
    let text =
        std::fs::read_to_string(fixture("dbmate/20240301120000_index_invoices.sql")).unwrap();
    let block = text
        .split("-- migrate:down")
        .next()
        .unwrap()
        .split("transaction:false\n")
        .nth(1)
        .unwrap();
    assert!(reference.try_execute(block).await.is_err());
}
