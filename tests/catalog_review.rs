//! The catalog-level review end to end, as a user runs it: the real `migsafe check` binary with
//! `--database-url` (or `MIGSAFE_DATABASE_URL`) and `--format json`, against a database each
//! test builds for itself from `fixtures/catalog_review/` (tests/common). What is asserted is
//! what the user reads in the report: severities that follow table sizes, catalog rules that
//! fire on real data and stay quiet on the safe version of the same change, migrations the copy
//! has already applied being skipped, a read-only copy left exactly as it was, and connection
//! errors that name the target but never the password.
//!
//! Most tests pass `fixtures/catalog_review/migsafe.toml`, whose `[thresholds]` make a
//! 20,000-row table large, so no test has to build millions of rows; one test checks the
//! default thresholds on a table that really has more than a million.

mod common;

use common::json::findings;
use common::{server_host_port, server_url, with_database, TestDb};
use migsafe::evidence::history::sqlx_checksum;
use migsafe::model::Evidence;
use migsafe::rules::RULES;
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CONFIG: &str = "fixtures/catalog_review/migsafe.toml";
const URL_ENV: &str = "MIGSAFE_DATABASE_URL";
const CREATE_INDEX: &str = "fixtures/catalog_review/create_index";
const SQLX: &str = "fixtures/catalog_review/pending/sqlx";
const GOOSE: &str = "fixtures/catalog_review/pending/goose";

/// The catalog rules this issue adds; each must be in `migsafe rules`.
const CATALOG_RULES: &[&str] = &[
    "duplicate-index",
    "foreign-key-without-index",
    "drop-index-in-use",
    "schema-drift",
    "seq-scan-on-large-table",
    "dml-touches-many-rows",
];

// ---------------------------------------------------------------------------------------------
// Running the binary

/// Runs `migsafe` from the crate root with `args`; `MIGSAFE_DATABASE_URL` is set to `env_url`
/// or removed, so that the developer's own environment never changes a test.
fn migsafe(args: &[&str], env_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env_remove(URL_ENV);
    if let Some(url) = env_url {
        command.env(URL_ENV, url);
    }
    command.output().expect("migsafe runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// How a review is run.
#[derive(Clone, Copy, Default)]
struct Run<'a> {
    /// `--database-url`; `None` is a static review (unless `env_url` is set).
    url: Option<&'a str>,
    /// `MIGSAFE_DATABASE_URL`.
    env_url: Option<&'a str>,
    /// `--config fixtures/catalog_review/migsafe.toml` (the small thresholds).
    small_thresholds: bool,
    /// `--all`.
    all: bool,
}

impl<'a> Run<'a> {
    fn on(url: &'a str) -> Self {
        Run {
            url: Some(url),
            small_thresholds: true,
            ..Run::default()
        }
    }
}

/// `migsafe check <paths> --format json --fail-on never ...`: the parsed report. The review
/// must succeed (exit 0, as nothing fails with `--fail-on never`).
fn review(paths: &[&str], run: Run<'_>) -> Value {
    let mut args = vec!["check"];
    args.extend_from_slice(paths);
    args.extend(["--format", "json", "--fail-on", "never"]);
    if run.small_thresholds {
        args.extend(["--config", CONFIG]);
    }
    if let Some(url) = run.url {
        args.extend(["--database-url", url]);
    }
    if run.all {
        args.push("--all");
    }
    let out = migsafe(&args, run.env_url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "migsafe {args:?} failed\n--- stderr ---\n{}\n--- stdout ---\n{}",
        stderr(&out),
        stdout(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(&out)))
}

/// The findings of `rule` in a report.
/// `rule (severity) file:line` for every finding, for failure messages.
fn fired(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} ({}) {}:{}",
                f["rule"], f["severity"], f["file"], f["line"]
            )
        })
        .collect()
}

/// The one finding of `rule`, failing with everything that did fire otherwise.
fn the_finding<'r>(report: &'r Value, rule: &str) -> &'r Value {
    let found = findings(report, rule);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {rule} finding; fired: {:#?}\nskipped: {}",
        fired(report),
        report["skipped_rules"]
    );
    found[0]
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The report ran on the copy `db`.
fn assert_on_copy(report: &Value, db: &TestDb) {
    assert_eq!(report["evidence"], "catalog", "{report:#}");
    assert_eq!(report["copy"]["database"], db.name.as_str());
    assert!(
        !text(&report["copy"]["server_version"]).is_empty(),
        "{}",
        report["copy"]
    );
}

/// `migsafe rule <name>` knows the rule: without it a "does not fire" assertion would pass
/// for a rule that never runs.
fn assert_registered(rule: &str) {
    let out = migsafe(&["rule", rule], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "rule {rule} is not registered: `migsafe rule {rule}` says {}",
        stderr(&out).trim()
    );
}

/// The rule was neither skipped for the run nor for any statement of it.
fn assert_not_skipped(report: &Value, rule: &str) {
    let skipped: Vec<&Value> = report["skipped_rules"]
        .as_array()
        .expect("skipped_rules")
        .iter()
        .filter(|s| s["rule"] == rule)
        .collect();
    assert!(skipped.is_empty(), "{rule} was skipped: {skipped:#?}");
}

/// Reviews `good` and then `bad` (files under `fixtures/catalog_review/rules/`) on `db` with
/// the small thresholds: `good` must not trigger `rule`, which must have run; `bad` must
/// trigger it exactly once, at catalog level. Returns the report of `bad`.
fn bad_fires_good_does_not(db: &TestDb, rule: &str, bad: &str, good: &str) -> Value {
    let dir = "fixtures/catalog_review/rules";
    let good_report = review(&[&format!("{dir}/{good}")], Run::on(&db.url));
    assert_on_copy(&good_report, db);
    assert_not_skipped(&good_report, rule);
    assert!(
        findings(&good_report, rule).is_empty(),
        "{rule} fired on the safe counterpart {good}: {:#?}",
        findings(&good_report, rule)
    );
    let bad_report = review(&[&format!("{dir}/{bad}")], Run::on(&db.url));
    assert_on_copy(&bad_report, db);
    let finding = the_finding(&bad_report, rule);
    assert_eq!(finding["evidence"], "catalog", "{finding:#}");
    assert_eq!(finding["file"], format!("{dir}/{bad}"));
    bad_report
}

// ---------------------------------------------------------------------------------------------
// Databases

/// `fixtures/catalog_review/items.sql` with `rows` rows in `items`, analyzed.
async fn items_db(prefix: &str, rows: i64) -> TestDb {
    let db = TestDb::with_fixture(prefix, "catalog_review/items.sql").await;
    db.execute(&format!(
        "INSERT INTO items (id, sku) SELECT g, 'SKU-' || g FROM generate_series(1, {rows}) AS g"
    ))
    .await;
    db.execute("ANALYZE items").await;
    db
}

async fn shop_db(prefix: &str) -> TestDb {
    TestDb::with_fixture(prefix, "catalog_review/shop.sql").await
}

async fn query_i64(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn server_version_num(conn: &mut PgConnection) -> i64 {
    query_i64(conn, "SELECT current_setting('server_version_num')::int8").await
}

/// `SELECT pg_stat_force_next_flush()` where it exists (PostgreSQL 15+): statistics are
/// otherwise sent at most once a second, when the session goes idle.
async fn flush_stats(conn: &mut PgConnection) {
    if server_version_num(conn).await >= 150000 {
        sqlx::raw_sql("SELECT pg_stat_force_next_flush()")
            .execute(conn)
            .await
            .unwrap();
    }
}

/// The file's text, from the crate root.
fn read(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// 1. Size-aware severity

#[tokio::test]
async fn the_same_create_index_is_info_on_a_small_table_and_error_on_a_large_one() {
    let small = items_db("review_items_small", 200).await;
    let large = items_db("review_items_large", 20_000).await;

    let on_small = review(&[CREATE_INDEX], Run::on(&small.url));
    assert_on_copy(&on_small, &small);
    let info = the_finding(&on_small, "create-index-non-concurrently");
    assert_eq!(info["severity"], "info", "{info:#}");
    assert_eq!(info["evidence"], "catalog");
    assert_eq!(info["table"], "items");
    assert_eq!(info["facts"]["rows"], 200, "{info:#}");
    assert!(info["facts"]["bytes"].as_i64().unwrap_or(0) > 0, "{info:#}");
    let message = text(&info["message"]);
    assert!(
        message.contains("~200 rows")
            && message.contains("below the small-table threshold (1,000 rows"),
        "{message}"
    );

    let on_large = review(&[CREATE_INDEX], Run::on(&large.url));
    assert_on_copy(&on_large, &large);
    let error = the_finding(&on_large, "create-index-non-concurrently");
    assert_eq!(error["severity"], "error", "{error:#}");
    assert_eq!(error["evidence"], "catalog");
    assert_eq!(error["facts"]["rows"], 20_000, "{error:#}");
    assert!(
        error["facts"]["bytes"].as_i64().unwrap_or(0)
            > info["facts"]["bytes"].as_i64().unwrap_or(0),
        "{error:#}"
    );
    assert_eq!(error["facts"]["lock"], "ShareLock");
    let message = text(&error["message"]);
    assert!(
        message.contains("~20,000 rows")
            && message.contains("above the large-table threshold (10,000 rows"),
        "{message}"
    );
    assert_eq!(
        info["statement"], error["statement"],
        "the same statement, judged by two copies"
    );
    assert_eq!(on_small["summary"]["error"], 0);
    assert_eq!(on_large["summary"]["error"], 1);
    // What CI sees with the default `--fail-on error`: the small table passes, the large fails.
    let exit = |url: &str| {
        let args = [
            "check",
            CREATE_INDEX,
            "--config",
            CONFIG,
            "--database-url",
            url,
        ];
        migsafe(&args, None).status.code()
    };
    assert_eq!(exit(&small.url), Some(0));
    assert_eq!(exit(&large.url), Some(1));

    // At catalog level the catalog rules ran: none is listed as skipped for the run.
    for report in [&on_small, &on_large] {
        for skipped in report["skipped_rules"].as_array().unwrap() {
            assert!(
                !text(&skipped["reason"]).contains("--database-url"),
                "{skipped}"
            );
        }
    }
}

#[tokio::test]
async fn without_a_copy_the_create_index_on_an_existing_table_is_an_error_and_catalog_rules_are_skipped(
) {
    let report = review(
        &[CREATE_INDEX],
        Run {
            small_thresholds: true,
            ..Run::default()
        },
    );
    assert_eq!(report["evidence"], "static");
    assert!(report["copy"].is_null(), "{}", report["copy"]);
    let warning = the_finding(&report, "create-index-non-concurrently");
    assert_eq!(
        warning["severity"], "error",
        "static defaults: size-bound locks are errors without a copy"
    );
    assert_eq!(warning["evidence"], "static");
    assert!(warning["facts"]["rows"].is_null(), "{warning:#}");

    let skipped: BTreeMap<&str, &str> = report["skipped_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (text(&s["rule"]), text(&s["reason"])))
        .collect();
    let catalog_rules: Vec<&str> = RULES
        .iter()
        .filter(|r| r.evidence == Evidence::Catalog)
        .map(|r| r.name)
        .collect();
    assert!(!catalog_rules.is_empty());
    for rule in catalog_rules {
        let reason = skipped
            .get(rule)
            .unwrap_or_else(|| panic!("{rule} is not listed as skipped: {skipped:#?}"));
        assert!(
            reason.starts_with("needs") && reason.contains("--database-url"),
            "{rule}: {reason}"
        );
    }
}

/// The default thresholds, on a table that really has more than a million rows (it loads in
/// about a second).
#[tokio::test]
async fn a_table_of_a_million_rows_is_large_by_the_default_thresholds() {
    let db = items_db("review_items_million", 1_050_000).await;

    let report = review(
        &[CREATE_INDEX],
        Run {
            url: Some(&db.url),
            ..Run::default()
        },
    );
    assert_on_copy(&report, &db);
    let error = the_finding(&report, "create-index-non-concurrently");
    assert_eq!(error["severity"], "error", "{error:#}");
    let rows = error["facts"]["rows"].as_i64().unwrap_or(0);
    assert!((1_000_000..1_100_000).contains(&rows), "{error:#}");
    assert!(
        text(&error["message"])
            .contains("above the large-table threshold (1,000,000 rows or 1.0 GB)"),
        "{}",
        error["message"]
    );
}

/// `n_live_tup` of `table` as the statistics views show it now.
async fn live_tuples(conn: &mut PgConnection, table: &str) -> i64 {
    sqlx::raw_sql("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await
        .unwrap();
    query_i64(
        conn,
        &format!("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = '{table}'"),
    )
    .await
}

/// A copy that was never analyzed and whose statistics counters are empty: what a clone
/// started from a snapshot or base backup looks like (PostgreSQL discards the counters in
/// crash recovery), or any copy after `pg_stat_reset()`. Its 20,000 rows are still there, and
/// the planner still estimates them from the table's pages; the review must not call the
/// table small.
#[tokio::test]
async fn a_never_analyzed_table_with_reset_statistics_is_not_judged_small() {
    let db = TestDb::with_fixture("review_items_unanalyzed", "catalog_review/items.sql").await;
    db.execute(
        "INSERT INTO items (id, sku) SELECT g, 'SKU-' || g FROM generate_series(1, 20000) AS g",
    )
    .await;
    let mut conn = db.connect().await;
    // The inserting session's counters arrive asynchronously: reset only after they did, so
    // that they cannot arrive after the reset.
    let deadline = Instant::now() + Duration::from_secs(10);
    while live_tuples(&mut conn, "items").await < 20_000 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sqlx::raw_sql("SELECT pg_stat_reset()")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(live_tuples(&mut conn, "items").await, 0);
    let planned: String = sqlx::query_scalar("EXPLAIN SELECT * FROM items")
        .fetch_one(&mut conn)
        .await
        .unwrap();

    let report = review(&[CREATE_INDEX], Run::on(&db.url));
    assert_on_copy(&report, &db);
    assert!(
        report["copy"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| text(n).contains("ever analyzed")),
        "{}",
        report["copy"]["notes"]
    );
    let finding = the_finding(&report, "create-index-non-concurrently");
    assert!(
        finding["severity"] != "info" && finding["facts"]["rows"].as_i64().unwrap_or(0) > 1_000,
        "items holds 20,000 rows (the planner says: {planned}), yet the review says: {finding:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Catalog rules on real data

#[test]
fn migsafe_rules_lists_the_catalog_rules() {
    let out = migsafe(&["rules"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = stdout(&out);
    let missing: Vec<&&str> = CATALOG_RULES
        .iter()
        .filter(|rule| !listed.contains(**rule))
        .collect();
    assert!(
        missing.is_empty(),
        "`migsafe rules` does not list {missing:?}"
    );
}

#[tokio::test]
async fn duplicate_index_fires_on_an_index_the_copy_already_has() {
    assert_registered("duplicate-index");
    let db = shop_db("review_duplicate_index").await;
    let report = bad_fires_good_does_not(
        &db,
        "duplicate-index",
        "duplicate_index_bad.sql",
        "duplicate_index_good.sql",
    );
    let finding = the_finding(&report, "duplicate-index");
    assert!(
        text(&finding["message"]).contains("orders_customer_id_idx"),
        "names the index it duplicates: {}",
        finding["message"]
    );
    assert_eq!(finding["facts"]["rows"], 20_000, "{finding:#}");
}

#[tokio::test]
async fn foreign_key_without_index_fires_only_where_no_index_leads_with_its_columns() {
    assert_registered("foreign-key-without-index");
    let db = shop_db("review_fk_index").await;
    let report = bad_fires_good_does_not(
        &db,
        "foreign-key-without-index",
        "foreign_key_without_index_bad.sql",
        "foreign_key_without_index_good.sql",
    );
    let finding = the_finding(&report, "foreign-key-without-index");
    assert!(text(&finding["table"]).ends_with("refunds"), "{finding:#}");
    let message = text(&finding["message"]);
    assert!(message.contains("order_id"), "{message}");
    assert_eq!(
        finding["facts"]["rows"], 50,
        "the referencing table's size: {finding:#}"
    );
}

/// Index scans of `index` as the statistics views show them now.
async fn index_scans(conn: &mut PgConnection, index: &str) -> i64 {
    sqlx::raw_sql("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await
        .unwrap();
    query_i64(
        conn,
        &format!("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = '{index}'"),
    )
    .await
}

#[tokio::test]
async fn drop_index_in_use_fires_on_an_index_queries_use_and_not_on_an_unused_one() {
    assert_registered("drop-index-in-use");
    let db = shop_db("review_drop_in_use").await;
    let mut conn = db.connect().await;
    sqlx::raw_sql("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    for day in 2..5 {
        let n = query_i64(
            &mut conn,
            &format!("SELECT count(*) FROM orders WHERE created_at < '2024-01-0{day}'"),
        )
        .await;
        assert!(n > 0);
    }
    flush_stats(&mut conn).await;
    let mut reader = db.connect().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut scans = index_scans(&mut reader, "orders_created_at_idx").await;
    while scans < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        scans = index_scans(&mut reader, "orders_created_at_idx").await;
    }
    assert!(
        scans >= 3,
        "orders_created_at_idx was scanned {scans} times"
    );
    assert_eq!(index_scans(&mut reader, "orders_note_idx").await, 0);

    let report = bad_fires_good_does_not(
        &db,
        "drop-index-in-use",
        "drop_index_in_use_bad.sql",
        "drop_index_in_use_good.sql",
    );
    let finding = the_finding(&report, "drop-index-in-use");
    assert!(
        finding["facts"]["index_scans"].as_i64().unwrap_or(0) >= 3,
        "shows the count: {finding:#}"
    );
    assert!(
        text(&finding["message"]).contains("orders_created_at_idx"),
        "{}",
        finding["message"]
    );
}

#[tokio::test]
async fn schema_drift_fires_on_a_column_the_copy_lacks() {
    assert_registered("schema-drift");
    let db = shop_db("review_drift_column").await;
    let report = bad_fires_good_does_not(
        &db,
        "schema-drift",
        "schema_drift_missing_column_bad.sql",
        "schema_drift_missing_column_good.sql",
    );
    let finding = the_finding(&report, "schema-drift");
    assert!(
        text(&finding["message"]).contains("shipped_at"),
        "names the missing column: {}",
        finding["message"]
    );
    assert_eq!(finding["line"], 5, "{finding:#}");
}

#[tokio::test]
async fn schema_drift_fires_on_an_index_the_copy_already_has() {
    assert_registered("schema-drift");
    let db = shop_db("review_drift_index").await;
    let report = bad_fires_good_does_not(
        &db,
        "schema-drift",
        "schema_drift_existing_index_bad.sql",
        "schema_drift_existing_index_good.sql",
    );
    let finding = the_finding(&report, "schema-drift");
    assert!(
        text(&finding["message"]).contains("orders_customer_id_idx"),
        "names the existing index: {}",
        finding["message"]
    );
}

/// Runs the first two sqlx migrations on `db` and records them in `_sqlx_migrations` as sqlx
/// would; `second_as_applied` is the text the copy applied for the second one (its checksum is
/// recorded). `missing` adds a recorded version the folder lacks.
async fn sqlx_applied(db: &TestDb, second_as_applied: &str, missing: bool) {
    db.load_fixture("catalog/history/sqlx.sql").await;
    let first = read(&format!("{SQLX}/20240101000000_create_accounts.sql"));
    db.execute(&first).await;
    db.execute(second_as_applied).await;
    let mut conn = db.connect().await;
    let mut recorded = vec![
        (20240101000000_i64, "create accounts", first.into_bytes()),
        (
            20240102000000,
            "index accounts email",
            second_as_applied.as_bytes().to_vec(),
        ),
    ];
    if missing {
        recorded.push((
            20231215000000,
            "create audit log",
            b"CREATE TABLE audit_log (id bigint);\n".to_vec(),
        ));
    }
    for (version, description, file) in recorded {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, true, $3, 1)",
        )
        .bind(version)
        .bind(description)
        .bind(sqlx_checksum(&file))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test]
async fn schema_drift_fires_on_a_sqlx_migration_changed_after_it_was_applied() {
    assert_registered("schema-drift");
    let second = format!("{SQLX}/20240102000000_index_accounts_email.sql");

    // The copy applied the file as it is now: no drift.
    let same = TestDb::create("review_drift_checksum_same").await;
    sqlx_applied(&same, &read(&second), false).await;
    let report = review(&[SQLX], Run::on(&same.url));
    assert_on_copy(&report, &same);
    assert!(
        findings(&report, "schema-drift").is_empty(),
        "{:#?}",
        findings(&report, "schema-drift")
    );
    assert_eq!(report["skipped_migrations"].as_array().unwrap().len(), 2);

    // The copy applied an earlier edit of the file (no comment block yet).
    let stale = TestDb::create("review_drift_checksum_stale").await;
    sqlx_applied(
        &stale,
        "CREATE INDEX accounts_email_idx ON accounts (email);\n",
        false,
    )
    .await;
    let report = review(&[SQLX], Run::on(&stale.url));
    assert_on_copy(&report, &stale);
    let finding = the_finding(&report, "schema-drift");
    assert_eq!(finding["file"], second.as_str(), "{finding:#}");
    assert_eq!(finding["evidence"], "catalog");
    assert!(
        text(&finding["message"]).contains("changed after it was applied"),
        "{}",
        finding["message"]
    );
}

#[tokio::test]
async fn seq_scan_on_large_table_fires_on_an_unindexed_filter_only() {
    assert_registered("seq-scan-on-large-table");
    let db = shop_db("review_seq_scan").await;
    let report = bad_fires_good_does_not(
        &db,
        "seq-scan-on-large-table",
        "seq_scan_on_large_table_bad.sql",
        "seq_scan_on_large_table_good.sql",
    );
    let finding = the_finding(&report, "seq-scan-on-large-table");
    assert!(text(&finding["table"]).ends_with("orders"), "{finding:#}");
    assert!(
        text(&finding["facts"]["plan"]).contains("Seq Scan on public.orders"),
        "shows the plan: {finding:#}"
    );
    assert_eq!(finding["line"], 6);
}

#[tokio::test]
async fn dml_touches_many_rows_fires_above_the_batch_threshold_only() {
    assert_registered("dml-touches-many-rows");
    let db = shop_db("review_dml_rows").await;
    let report = bad_fires_good_does_not(
        &db,
        "dml-touches-many-rows",
        "dml_touches_many_rows_bad.sql",
        "dml_touches_many_rows_good.sql",
    );
    let finding = the_finding(&report, "dml-touches-many-rows");
    let rows = finding["facts"]["rows"].as_i64().unwrap_or(0);
    assert!(
        (15_000..=20_000).contains(&rows),
        "the plan's estimate of the 19,800 shipped orders: {finding:#}"
    );
    let message = text(&finding["message"]);
    assert!(
        message.contains("5,000"),
        "names the batch threshold: {message}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Pending detection

/// The migration paths a report reviewed.
fn reviewed(report: &Value) -> Vec<String> {
    report["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| text(&m["path"]).to_string())
        .collect()
}

/// The paths a report skipped, each with its reason.
fn skipped(report: &Value) -> Vec<(String, String)> {
    report["skipped_migrations"]
        .as_array()
        .expect("skipped_migrations")
        .iter()
        .map(|m| (text(&m["path"]).to_string(), text(&m["reason"]).to_string()))
        .collect()
}

/// Files with a finding of `rule`.
fn files_with(report: &Value, rule: &str) -> Vec<String> {
    findings(report, rule)
        .iter()
        .map(|f| text(&f["file"]).to_string())
        .collect()
}

/// Checks a pending-detection run over a folder whose first two migrations are applied, the
/// third pending, and `missing` recorded on the copy but not in the folder.
fn assert_pending_review(
    folder: &str,
    files: [&str; 3],
    missing: &str,
    report: &Value,
    db: &TestDb,
) {
    let path = |file: &str| format!("{folder}/{file}");
    assert_on_copy(report, db);
    let skipped = skipped(report);
    assert_eq!(
        skipped.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        [path(files[0]), path(files[1])],
        "{skipped:#?}"
    );
    for (p, reason) in &skipped {
        assert!(reason.contains("applied on the copy"), "{p}: {reason}");
    }
    assert_eq!(reviewed(report), [path(files[2])]);
    // Only the pending migration is reviewed: nothing is said about the applied ones, not even
    // the index build of the second, which a full review reports.
    for f in report["findings"].as_array().unwrap() {
        let file = text(&f["file"]);
        assert!(
            file != path(files[0]) && file != path(files[1]),
            "finding on an applied migration: {f:#}"
        );
    }
    assert_eq!(
        files_with(report, "create-index-non-concurrently"),
        [path(files[2])]
    );
    // The version the copy applied and the folder lacks.
    let drift = findings(report, "schema-drift");
    assert!(
        drift.iter().any(|d| {
            let m = text(&d["message"]);
            m.contains(missing) && m.contains("missing from")
        }),
        "no schema-drift finding for the applied version {missing} missing from {folder}: {:#?}\nall: {:#?}",
        drift,
        fired(report)
    );
}

/// With `--all`, every migration is reviewed and none is skipped.
fn assert_all_reviewed(folder: &str, files: [&str; 3], missing: &str, report: &Value) {
    let paths: Vec<String> = files.iter().map(|f| format!("{folder}/{f}")).collect();
    assert!(skipped(report).is_empty(), "{:#?}", skipped(report));
    assert_eq!(reviewed(report), paths);
    let index_builds = files_with(report, "create-index-non-concurrently");
    assert!(
        index_builds.contains(&paths[1]) && index_builds.contains(&paths[2]),
        "{index_builds:?}"
    );
    assert!(
        findings(report, "schema-drift")
            .iter()
            .any(|d| text(&d["message"]).contains(missing)),
        "the missing version is still reported with --all: {:#?}",
        fired(report)
    );
    // The applied migrations' CREATEs are already in the copy: judged on their SQL alone,
    // not replayed onto it again (which would call every one of them drift).
    for d in findings(report, "schema-drift") {
        let file = text(&d["file"]);
        assert!(
            file != paths[0] && file != paths[1],
            "an applied migration reviewed with --all is not drift: {d:#}"
        );
    }
}

#[tokio::test]
async fn sqlx_applied_migrations_are_skipped_and_pending_ones_reviewed() {
    let files = [
        "20240101000000_create_accounts.sql",
        "20240102000000_index_accounts_email.sql",
        "20240103000000_index_accounts_plan.sql",
    ];
    let db = TestDb::create("review_pending_sqlx").await;
    sqlx_applied(&db, &read(&format!("{SQLX}/{}", files[1])), true).await;

    let report = review(&[SQLX], Run::on(&db.url));
    assert_pending_review(SQLX, files, "20231215000000", &report, &db);

    let all = review(
        &[SQLX],
        Run {
            all: true,
            ..Run::on(&db.url)
        },
    );
    assert_on_copy(&all, &db);
    assert_all_reviewed(SQLX, files, "20231215000000", &all);
}

#[tokio::test]
async fn goose_applied_migrations_are_skipped_and_pending_ones_reviewed() {
    let files = [
        "1_create_products.sql",
        "2_index_products_name.sql",
        "4_index_products_sku.sql",
    ];
    let db = TestDb::with_fixture("review_pending_goose", "catalog/history/goose.sql").await;
    // What `goose up` to version 2 left, plus version 3 from another branch.
    db.execute(
        "CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, sku text NOT NULL);\n\
         CREATE INDEX products_name_idx ON products (name);\n\
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, true), (2, true), (3, true);",
    )
    .await;

    let report = review(&[GOOSE], Run::on(&db.url));
    assert_pending_review(GOOSE, files, "version 3", &report, &db);

    let all = review(
        &[GOOSE],
        Run {
            all: true,
            ..Run::on(&db.url)
        },
    );
    assert_on_copy(&all, &db);
    assert_all_reviewed(GOOSE, files, "version 3", &all);
}

// ---------------------------------------------------------------------------------------------
// 4. A copy that refuses writes is never written to

/// A login role created for one test and dropped after it. Declare it before the `TestDb`
/// whose privileges it holds: locals drop in reverse order, so the database (and the grants in
/// it) is gone before the role is dropped.
struct TestRole {
    name: String,
}

impl TestRole {
    async fn create(prefix: &str) -> TestRole {
        let name = format!(
            "migsafe_{prefix}_{}_{:x}",
            std::process::id(),
            nanos() % (1 << 40)
        );
        let mut admin = PgConnection::connect(&server_url()).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE ROLE \"{name}\" LOGIN")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        TestRole { name }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server_url())
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::raw_sql(AssertSqlSafe(format!("DROP ROLE IF EXISTS \"{name}\"")))
                    .execute(&mut admin)
                    .await
                    .map_err(|e| e.to_string())?;
                admin.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "warning: could not drop test role {}: {dropped:?}",
                self.name
            );
        }
    }
}

/// Everything a write would change, read in one go: relations, columns, constraints, row
/// counts, and the statistics' tuple counters per table and for the database.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    relations: Vec<String>,
    columns: Vec<String>,
    constraints: Vec<String>,
    rows: BTreeMap<String, i64>,
    table_counters: Vec<String>,
    database_counters: String,
}

async fn observe(conn: &mut PgConnection) -> Observed {
    sqlx::raw_sql("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await
        .unwrap();
    let relations: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text || ':' || c.relkind::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text || '.' || column_name::text || ' ' || data_type::text || ' ' \
                || is_nullable::text || ' ' || coalesce(column_default::text, '-') \
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let constraints: Vec<String> = sqlx::query_scalar(
        "SELECT conrelid::regclass::text || '.' || conname || ' ' || contype::text || ' ' || convalidated::text \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT relname::text FROM pg_stat_user_tables ORDER BY 1")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut rows = BTreeMap::new();
    for table in &tables {
        let n = query_i64(conn, &format!("SELECT count(*) FROM \"{table}\"")).await;
        rows.insert(table.clone(), n);
    }
    let table_counters: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text || ' ins=' || n_tup_ins || ' upd=' || n_tup_upd || ' del=' || n_tup_del \
                || ' hot=' || n_tup_hot_upd || ' live=' || n_live_tup \
         FROM pg_stat_user_tables ORDER BY relname",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let row = sqlx::query(
        "SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database \
         WHERE datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let database_counters = format!(
        "inserted={} updated={} deleted={}",
        row.get::<i64, _>(0),
        row.get::<i64, _>(1),
        row.get::<i64, _>(2)
    );
    Observed {
        relations,
        columns,
        constraints,
        rows,
        table_counters,
        database_counters,
    }
}

/// Sessions the statistics have seen connect to the database (PostgreSQL 14+).
async fn sessions(conn: &mut PgConnection) -> i64 {
    sqlx::raw_sql("SELECT pg_stat_clear_snapshot()")
        .execute(&mut *conn)
        .await
        .unwrap();
    query_i64(
        conn,
        "SELECT sessions FROM pg_stat_database WHERE datname = current_database()",
    )
    .await
}

/// Waits until the statistics have counted `sessions_before + n` sessions on the database
/// (PostgreSQL 14+; a fixed pause before), so that an observation includes every counter
/// those sessions flushed when they ended.
async fn wait_for_sessions(observer: &mut PgConnection, pg14: bool, target: i64) {
    if !pg14 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = sessions(observer).await;
    while seen < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen = sessions(observer).await;
    }
    assert!(
        seen >= target,
        "migsafe's sessions never showed up in pg_stat_database ({seen} < {target})"
    );
}

#[tokio::test]
async fn a_copy_that_refuses_writes_is_left_exactly_as_it_was() {
    let role = TestRole::create("reader").await;
    let db = shop_db("review_read_only").await;
    // The copy refuses writes: every session on it defaults to read-only. migsafe reviews it
    // twice, as the server's superuser (who could write anything, were the session not
    // read-only) and as a role that may only SELECT.
    db.execute(&format!(
        "GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";\n\
         REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n\
         GRANT USAGE ON SCHEMA public TO \"{role}\";\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{role}\";\n\
         ALTER DATABASE \"{db}\" SET default_transaction_read_only = on;",
        db = db.name,
        role = role.name
    ))
    .await;
    let (host, port) = server_host_port();
    let reader_url = format!("postgres://{}@{host}:{port}/{}", role.name, db.name);
    let readonly = ["fixtures/catalog_review/readonly"];

    // One observer session for the whole test, connected before the first observation.
    let mut observer = db.connect().await;
    let pg14 = server_version_num(&mut observer).await >= 140000;
    // Let the setup sessions' statistics arrive: wait until two observations agree.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before = observe(&mut observer).await;
    loop {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let again = observe(&mut observer).await;
        let stable = again == before;
        before = again;
        if stable || Instant::now() > deadline {
            break;
        }
    }
    assert_eq!(before.rows["orders"], 20_000, "{before:#?}");
    let sessions_before = if pg14 {
        sessions(&mut observer).await
    } else {
        0
    };

    // As the superuser: the DML is planned on the copy (plain EXPLAIN), nothing more.
    let as_owner = review(&readonly, Run::on(&db.url));
    assert_on_copy(&as_owner, &db);
    let fired_as_owner = fired(&as_owner);
    for rule in [
        "update-without-where",
        "delete-without-where",
        "truncate-table",
        "drop-table",
        "create-index-non-concurrently",
        "seq-scan-on-large-table",
        "dml-touches-many-rows",
    ] {
        assert!(
            !findings(&as_owner, rule).is_empty(),
            "{rule} missing: {fired_as_owner:#?}"
        );
    }
    assert!(
        findings(&as_owner, "seq-scan-on-large-table")
            .iter()
            .all(|f| f["facts"]["plan"].is_string()),
        "{fired_as_owner:#?}"
    );

    // As the SELECT-only role: the review still runs; the server refuses to plan DML the role
    // may not run, and the plan rules say so instead of passing silently.
    let as_reader = review(&readonly, Run::on(&reader_url));
    assert_on_copy(&as_reader, &db);
    assert!(!findings(&as_reader, "drop-table").is_empty());
    let refused: Vec<&Value> = as_reader["skipped_rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rule"] == "seq-scan-on-large-table")
        .collect();
    assert!(
        refused
            .iter()
            .any(|s| text(&s["reason"]).contains("permission denied for table orders")),
        "{refused:#?}"
    );

    // Both sessions ended; once the statistics have them, nothing may have changed.
    wait_for_sessions(&mut observer, pg14, sessions_before + 2).await;
    let after = observe(&mut observer).await;
    assert_eq!(before, after, "the review changed the copy");
    observer.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// 5. Connection errors

/// The review could not run: exit 2, nothing on stdout, one line on stderr that says `what`.
fn assert_fails_in_one_line(url: &str, what: &[&str], secret: Option<&str>) {
    for format in ["json", "table"] {
        let out = migsafe(
            &[
                "check",
                CREATE_INDEX,
                "--format",
                format,
                "--database-url",
                url,
            ],
            None,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        for w in what {
            assert!(err.contains(w), "{url}: {w:?} missing from: {err}");
        }
        if let Some(secret) = secret {
            assert!(
                !err.contains(secret) && !stdout(&out).contains(secret),
                "the password leaked: {err}"
            );
        }
    }
}

#[test]
fn an_unreachable_server_exits_2_naming_host_and_database() {
    assert_fails_in_one_line(
        "postgres://postgres@127.0.0.1:1/migsafe_nowhere",
        &["127.0.0.1:1", "\"migsafe_nowhere\"", "unreachable"],
        None,
    );
}

#[test]
fn a_database_that_does_not_exist_exits_2_naming_host_and_database() {
    let (host, port) = server_host_port();
    let name = format!("migsafe_no_such_database_{}", std::process::id());
    assert_fails_in_one_line(
        &with_database(&server_url(), &name),
        &[
            &format!("{host}:{port}"),
            &format!("\"{name}\""),
            "does not exist",
        ],
        None,
    );
}

#[test]
fn a_password_in_the_url_never_appears_in_any_output() {
    assert_fails_in_one_line(
        "postgres://postgres:s3cret@127.0.0.1:1/x",
        &["127.0.0.1:1", "database \"x\""],
        Some("s3cret"),
    );
    // The server answers this time (and refuses the database).
    let (host, port) = server_host_port();
    let name = format!("migsafe_no_such_database_{}", std::process::id());
    assert_fails_in_one_line(
        &format!("postgres://postgres:s3cret@{host}:{port}/{name}"),
        &[&format!("{host}:{port}"), &format!("\"{name}\"")],
        Some("s3cret"),
    );
    // As a query parameter, and percent-encoded.
    assert_fails_in_one_line(
        "postgres://postgres@127.0.0.1:1/x?password=s3cret",
        &["127.0.0.1:1", "database \"x\""],
        Some("s3cret"),
    );
    assert_fails_in_one_line(
        "postgres://postgres:s3%40cret@127.0.0.1:1/x",
        &["127.0.0.1:1", "database \"x\""],
        Some("cret"),
    );
    // Given through the environment.
    let out = migsafe(
        &["check", CREATE_INDEX, "--format", "json"],
        Some("postgres://postgres:s3cret@127.0.0.1:1/x"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("s3cret"));
}

// ---------------------------------------------------------------------------------------------
// 6. MIGSAFE_DATABASE_URL

#[tokio::test]
async fn migsafe_database_url_works_like_the_flag() {
    let db = items_db("review_env_url", 200).await;
    let by_flag = review(&[CREATE_INDEX], Run::on(&db.url));
    let by_env = review(
        &[CREATE_INDEX],
        Run {
            env_url: Some(&db.url),
            small_thresholds: true,
            ..Run::default()
        },
    );
    assert_on_copy(&by_env, &db);
    assert_eq!(by_env["findings"], by_flag["findings"]);
    assert_eq!(
        the_finding(&by_env, "create-index-non-concurrently")["severity"],
        "info"
    );

    // The flag wins over the environment.
    let both = review(
        &[CREATE_INDEX],
        Run {
            env_url: Some("postgres://postgres@127.0.0.1:1/migsafe_nowhere"),
            ..Run::on(&db.url)
        },
    );
    assert_on_copy(&both, &db);

    // An empty variable is no copy: a static review (CI templates often export it empty).
    let empty = review(
        &[CREATE_INDEX],
        Run {
            env_url: Some(""),
            small_thresholds: true,
            ..Run::default()
        },
    );
    assert_eq!(empty["evidence"], "static");
}
