//! Plain EXPLAIN on a real PostgreSQL: the plans of the plan rules' fixture statements (seq
//! scan, index scan, rows touched), that explaining DML on a read-only session works and
//! changes nothing, and that what cannot be planned comes back as an error in the server's
//! words. Each test gets its own database (tests/common).

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::evidence::connect::{connect_read_only, connect_read_only_with, SessionLimits};
use migsafe::evidence::explain::{explain, ExplainError};
use migsafe::model::{QualifiedName, Report};
use migsafe::plan::Plan;
use migsafe::review::check_on_copy;
use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, Executor as _};
use std::time::Duration;

const SEQ_SCAN_SETUP: &str = "rules/seq-scan-on-large-table/setup.sql";
const MANY_ROWS_SETUP: &str = "rules/dml-touches-many-rows/setup.sql";

fn public(name: &str) -> QualifiedName {
    QualifiedName::new(Some("public"), name)
}

/// The last statement of a rule example file, as the review would hand it to `explain`.
fn example_statement(relative: &str) -> String {
    let text = std::fs::read_to_string(common::fixture_path(relative)).unwrap();
    let part = migsafe::parse::parse_sql(&text, true);
    part.statements.last().unwrap().text.clone()
}

async fn explain_on(db: &TestDb, sql: &str) -> Plan {
    let mut conn = connect_read_only(&db.url).await.unwrap();
    explain(&mut conn, sql)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN failed: {e:#}\n{sql}"))
}

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn filter_without_an_index_is_a_seq_scan_over_the_whole_table() {
    let db = TestDb::with_fixture("explain_seq_scan", SEQ_SCAN_SETUP).await;
    let sql = example_statement("rules/seq-scan-on-large-table/bad.sql");
    let plan = explain_on(&db, &sql).await;

    assert!(
        plan.uses_seq_scan_on(&public("orders")),
        "{}",
        plan.excerpt()
    );
    assert_eq!(plan.target(), Some(&public("orders")));
    let rows = plan.total_rows().unwrap();
    assert!(
        (150..=250).contains(&rows),
        "200 stuck orders, estimated {rows}"
    );
    let scan = &plan.seq_scans()[0];
    assert!(
        scan.filter.as_deref().unwrap_or("").contains("status"),
        "{scan:?}"
    );
    assert!(
        plan.excerpt()
            .starts_with("Update on public.orders  (cost="),
        "{}",
        plan.excerpt()
    );
}

#[tokio::test]
async fn filter_on_an_indexed_key_uses_the_index() {
    let db = TestDb::with_fixture("explain_index", SEQ_SCAN_SETUP).await;
    let sql = example_statement("rules/seq-scan-on-large-table/good.sql");
    let plan = explain_on(&db, &sql).await;
    assert!(plan.seq_scans().is_empty(), "{}", plan.excerpt());
    assert!(
        plan.uses_index("orders_customer_id_idx"),
        "{}",
        plan.excerpt()
    );
    let rows = plan.total_rows().unwrap();
    assert!(
        (10..=40).contains(&rows),
        "20 orders per customer, estimated {rows}"
    );

    let plan = explain_on(&db, "DELETE FROM orders WHERE id < 50;").await;
    assert!(plan.uses_index("orders_pkey"), "{}", plan.excerpt());
    assert!(plan.seq_scans().is_empty());
}

#[tokio::test]
async fn row_estimates_come_from_the_copys_statistics() {
    let db = TestDb::with_fixture("explain_rows", MANY_ROWS_SETUP).await;
    let bad = explain_on(
        &db,
        &example_statement("rules/dml-touches-many-rows/bad.sql"),
    )
    .await;
    let rows = bad.total_rows().unwrap();
    assert!(
        (6_500..=7_500).contains(&rows),
        "7,000 legacy rows, estimated {rows}"
    );

    let good = explain_on(
        &db,
        &example_statement("rules/dml-touches-many-rows/good.sql"),
    )
    .await;
    let rows = good.total_rows().unwrap();
    assert!(
        (1_000..=2_500).contains(&rows),
        "1,750 rows in the batch, estimated {rows}"
    );
}

#[tokio::test]
async fn insert_select_and_partitioned_updates_show_every_scan() {
    let db = TestDb::with_fixture("explain_insert", SEQ_SCAN_SETUP).await;
    db.execute(
        "CREATE TABLE orders_archive (LIKE orders);
         CREATE TABLE events (id bigint, kind text, at date) PARTITION BY RANGE (at);
         CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
         CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         INSERT INTO events SELECT i, 'view', date '2023-01-01' + i % 700 FROM generate_series(1, 5000) i;
         ANALYZE events;",
    )
    .await;

    let plan = explain_on(
        &db,
        "INSERT INTO orders_archive SELECT * FROM orders WHERE note IS NULL",
    )
    .await;
    assert_eq!(plan.target(), Some(&public("orders_archive")));
    assert!(plan.uses_seq_scan_on(&public("orders")));
    assert!(plan.total_rows().unwrap() > 15_000, "{}", plan.excerpt());

    let plan = explain_on(&db, "UPDATE events SET kind = 'click' WHERE kind = 'tap'").await;
    assert_eq!(plan.target(), Some(&public("events")));
    let scanned: Vec<QualifiedName> = plan.seq_scans().into_iter().map(|s| s.relation).collect();
    assert_eq!(scanned, [public("events_2023"), public("events_2024")]);
}

#[tokio::test]
async fn explaining_dml_on_a_read_only_session_changes_nothing() {
    let db = TestDb::with_fixture("explain_read_only", SEQ_SCAN_SETUP).await;
    db.execute("CREATE TABLE orders_archive (LIKE orders)")
        .await;
    let mut check = db.connect().await;
    let before = count(
        &mut check,
        "SELECT count(*) FROM orders WHERE status = 'stuck'",
    )
    .await;
    assert_eq!(before, 200);

    let mut conn = connect_read_only(&db.url).await.unwrap();
    for sql in [
        "UPDATE orders SET status = 'cancelled' WHERE status = 'stuck'",
        "DELETE FROM orders WHERE status = 'stuck';",
        "INSERT INTO orders_archive SELECT * FROM orders WHERE status = 'stuck'",
        "INSERT INTO orders (customer_id, status) SELECT customer_id, 'copy' FROM orders",
    ] {
        explain(&mut conn, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"));
    }
    assert!(
        !conn.is_in_transaction(),
        "explain leaves no transaction open"
    );

    // The session itself refuses to write: even a bug that ran the statement could not.
    let refused = conn
        .execute("UPDATE orders SET status = 'cancelled' WHERE status = 'stuck'")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("read-only transaction"),
        "{refused}"
    );

    assert_eq!(
        count(
            &mut check,
            "SELECT count(*) FROM orders WHERE status = 'stuck'"
        )
        .await,
        before
    );
    assert_eq!(
        count(&mut check, "SELECT count(*) FROM orders").await,
        20_000
    );
    assert_eq!(
        count(&mut check, "SELECT count(*) FROM orders_archive").await,
        0
    );
    // No sequence was advanced either: planning an INSERT does not call nextval.
    assert_eq!(
        count(&mut check, "SELECT max(id) FROM orders").await,
        count(&mut check, "SELECT last_value FROM orders_id_seq").await
    );
}

#[tokio::test]
async fn a_column_a_pending_statement_adds_is_an_error_naming_it() {
    let db = TestDb::with_fixture("explain_missing_col", SEQ_SCAN_SETUP).await;
    let mut conn = connect_read_only(&db.url).await.unwrap();
    let err = explain(
        &mut conn,
        "UPDATE orders SET priority = 1 WHERE status = 'stuck'",
    )
    .await
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("\"priority\""), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    match err.downcast_ref::<ExplainError>() {
        Some(ExplainError::Rejected { code, .. }) => assert_eq!(code.as_deref(), Some("42703")),
        other => panic!("expected a rejection, got {other:?}"),
    }

    let err = explain(&mut conn, "DELETE FROM order_notes WHERE id = 1")
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("\"order_notes\" does not exist"),
        "{err:#}"
    );

    // The session is still usable after a failed EXPLAIN.
    let plan = explain(&mut conn, "DELETE FROM orders WHERE id = 1")
        .await
        .unwrap();
    assert!(plan.uses_index("orders_pkey"));
}

#[tokio::test]
async fn several_statements_are_refused_before_reaching_the_server() {
    let db = TestDb::with_fixture("explain_multi", SEQ_SCAN_SETUP).await;
    let mut conn = connect_read_only(&db.url).await.unwrap();
    let err = explain(
        &mut conn,
        "UPDATE orders SET note = 'x' WHERE id = 1; DELETE FROM orders",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<ExplainError>(),
            Some(ExplainError::NotOneStatement(_))
        ),
        "{err:#}"
    );
    // A semicolon inside a string is part of the one statement.
    explain(&mut conn, "UPDATE orders SET note = 'a;b' WHERE id = 1;")
        .await
        .unwrap();
    let mut check = db.connect().await;
    assert_eq!(
        count(&mut check, "SELECT count(*) FROM orders").await,
        20_000
    );
}

#[tokio::test]
async fn explain_inside_an_open_transaction_uses_a_savepoint() {
    let db = TestDb::with_fixture("explain_savepoint", SEQ_SCAN_SETUP).await;
    let mut conn = connect_read_only(&db.url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    let err = explain(&mut tx, "UPDATE orders SET nope = 1").await;
    assert!(err.is_err());
    // The failed EXPLAIN rolled back to its savepoint: the caller's transaction goes on.
    let plan = explain(&mut tx, "DELETE FROM orders WHERE id = 1")
        .await
        .unwrap();
    assert!(plan.uses_index("orders_pkey"));
    assert_eq!(count(&mut tx, "SELECT count(*) FROM orders").await, 20_000);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn explain_gives_up_after_lock_timeout_behind_an_exclusive_lock() {
    let db = TestDb::with_fixture("explain_lock", SEQ_SCAN_SETUP).await;
    let mut holder = db.connect().await;
    holder
        .execute("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let limits = SessionLimits {
        lock_timeout: Duration::from_millis(200),
        ..SessionLimits::default()
    };
    let mut conn = connect_read_only_with(&db.url, limits).await.unwrap();
    // The 55P03 below proves lock_timeout ended the wait; no wall-clock bound.
    let err = explain(&mut conn, "UPDATE orders SET note = 'x' WHERE id = 1")
        .await
        .unwrap_err();
    match err.downcast_ref::<ExplainError>() {
        Some(ExplainError::Rejected { code, message }) => {
            assert_eq!(code.as_deref(), Some("55P03"), "{message}");
            assert!(message.contains("lock timeout"), "{message}");
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    holder.execute("ROLLBACK").await.unwrap();
}

/// `-- thresholds: large_table_rows = 10000, batch_rows = 5000` from the first line of a
/// rule's setup.sql, applied to the default settings.
fn settings_for(setup: &str) -> Settings {
    let mut settings = Settings::default();
    let first = setup.lines().next().unwrap_or_default();
    let list = first
        .strip_prefix("-- thresholds:")
        .unwrap_or_else(|| panic!("setup.sql must start with `-- thresholds:`, not {first:?}"));
    for pair in list.split(',') {
        let (key, value) = pair.split_once('=').unwrap();
        let value: i64 = value.trim().parse().unwrap();
        let t = &mut settings.thresholds;
        match key.trim() {
            "large_table_rows" => t.large_table_rows = value,
            "batch_rows" => t.batch_rows = value,
            other => panic!("unexpected threshold {other}"),
        }
    }
    settings
}

/// The catalog-level review of one rule example against `db`.
async fn review_example(db: &TestDb, settings: &Settings, example: &str) -> Report {
    let path = common::fixture_path(example);
    check_on_copy(&[path], settings, &mut std::io::empty(), &db.url, true)
        .await
        .unwrap_or_else(|e| panic!("{example} did not review: {e:#}"))
}

#[tokio::test]
async fn plan_findings_carry_rows_bytes_and_the_plan_and_respect_thresholds() {
    let setup_path = "rules/seq-scan-on-large-table/setup.sql";
    let setup = std::fs::read_to_string(common::fixture_path(setup_path)).unwrap();
    let db = TestDb::with_fixture("explain_report", setup_path).await;
    let example = "rules/seq-scan-on-large-table/bad.sql";

    let report = review_example(&db, &settings_for(&setup), example).await;
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "seq-scan-on-large-table")
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    let f = found[0];
    assert_eq!(f.table.as_deref(), Some("public.orders"));
    assert_eq!(f.line, 6);
    let rows = f.facts.rows.unwrap();
    assert!((19_000..=21_000).contains(&rows), "{rows}");
    assert!(f.facts.bytes.unwrap() > 500_000, "{:?}", f.facts);
    let plan = f.facts.plan.as_deref().unwrap();
    assert!(plan.starts_with("Update on public.orders"), "{plan}");
    assert!(plan.contains("Seq Scan on public.orders"), "{plan}");
    assert!(
        plan.contains("Filter: (orders.status = 'stuck'::text)"),
        "{plan}"
    );

    // At the default thresholds a 20,000-row table is not large: nothing to report.
    let report = review_example(&db, &Settings::default(), example).await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);

    let setup_path = "rules/dml-touches-many-rows/setup.sql";
    let setup = std::fs::read_to_string(common::fixture_path(setup_path)).unwrap();
    let db = TestDb::with_fixture("explain_report_rows", setup_path).await;
    let example = "rules/dml-touches-many-rows/bad.sql";
    let report = review_example(&db, &settings_for(&setup), example).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "dml-touches-many-rows")
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    let rows = f.facts.rows.unwrap();
    assert!((6_500..=7_500).contains(&rows), "{rows}");
    assert_eq!(f.facts.lock.as_deref(), Some("RowExclusiveLock"));
    assert!(f.facts.plan.is_some());
    let report = review_example(&db, &Settings::default(), example).await;
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}
