//! The checks that run on a disposable copy after (or around) the migrations: rollback
//! comparison (`execute::rollback`), expected results (`execute::expect`) and watched
//! queries (`execute::watch`), against a real PostgreSQL (tests/common).

mod common;

use common::{fixture_path, TestDb};
use migsafe::execute::expect::{check, MigrationMeasure};
use migsafe::execute::rollback::{compare, schema_state, ObjectKind};
use migsafe::execute::watch::{
    self, explained, plans, queries_using_index, regressions, WatchThresholds,
};
use migsafe::model::{ExpectStatus, Expected};
use std::collections::BTreeMap;

const ORDERS: &str = "CREATE TABLE orders (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer_id bigint NOT NULL,
        priority int NOT NULL DEFAULT 0,
        note text
    );
    INSERT INTO orders (customer_id, note)
    SELECT i % 5000, 'order ' || i FROM generate_series(1, 50000) AS i;
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    ANALYZE orders;";

/// Runs `up`, then `down`, on `db`, and returns `compare(before up, after down)`.
async fn round_trip(db: &TestDb, up: &str, down: &str) -> Vec<String> {
    let mut conn = db.connect().await;
    let before = schema_state(&mut conn).await.unwrap();
    db.execute(up).await;
    db.execute(down).await;
    let after = schema_state(&mut conn).await.unwrap();
    compare(&before, &after)
}

#[tokio::test]
async fn a_rollback_that_restores_has_no_differences() {
    let db = TestDb::create("rb_restores").await;
    db.execute(ORDERS).await;
    let differences = round_trip(
        &db,
        "CREATE INDEX orders_note_idx ON orders (note);",
        "DROP INDEX orders_note_idx;",
    )
    .await;
    assert_eq!(differences, Vec::<String>::new());
}

#[tokio::test]
async fn a_rollback_that_forgets_an_index_lists_it() {
    let db = TestDb::create("rb_index").await;
    db.execute(ORDERS).await;
    let differences = round_trip(
        &db,
        "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new' \
             CONSTRAINT orders_status_check CHECK (status <> ''); \
         CREATE INDEX orders_note_idx ON orders (note);",
        "ALTER TABLE orders DROP CONSTRAINT orders_status_check;",
    )
    .await;
    assert_eq!(
        differences,
        [
            "column orders.status is still present (added by up, not removed by the rollback): \
             `text NOT NULL DEFAULT 'new'::text`",
            "index orders_note_idx is still present (added by up, not removed by the rollback): \
             `CREATE INDEX orders_note_idx ON public.orders USING btree (note)`",
        ]
    );
}

#[tokio::test]
async fn a_rollback_that_recreates_a_column_differently_lists_the_change() {
    let db = TestDb::create("rb_default").await;
    db.execute(ORDERS).await;
    db.execute("ALTER TABLE orders ADD CONSTRAINT orders_priority_check CHECK (priority >= 0);")
        .await;
    let differences = round_trip(
        &db,
        "ALTER TABLE orders DROP COLUMN priority;",
        "ALTER TABLE orders ADD COLUMN priority int DEFAULT 1;",
    )
    .await;
    assert_eq!(
        differences,
        [
            "column orders.priority differs: before `integer NOT NULL DEFAULT 0`, after \
             `integer NULL DEFAULT 1`",
            "constraint orders_priority_check on orders is missing (present before up, not \
             restored by the rollback): `CHECK ((priority >= 0))`",
        ]
    );
}

#[tokio::test]
async fn the_snapshot_covers_every_kind_and_skips_history_tables() {
    let db = TestDb::create("rb_kinds").await;
    db.execute(ORDERS).await;
    db.execute(
        "CREATE SCHEMA billing;
         CREATE TYPE billing.state AS ENUM ('open', 'paid');
         CREATE TABLE billing.invoices (id serial PRIMARY KEY, state billing.state NOT NULL,
             order_id bigint REFERENCES orders (id), total numeric(12, 2),
             doubled numeric GENERATED ALWAYS AS (total * 2) STORED);
         CREATE UNLOGGED TABLE scratch (x int);
         CREATE SEQUENCE ticket_seq INCREMENT 5 MAXVALUE 1000;
         CREATE VIEW big_orders AS SELECT id FROM orders WHERE customer_id > 10;
         CREATE MATERIALIZED VIEW order_counts AS SELECT customer_id, count(*) FROM orders GROUP BY 1;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text);
         CREATE TABLE schema_migrations (id serial PRIMARY KEY, version text);",
    )
    .await;
    let mut conn = db.connect().await;
    let before = schema_state(&mut conn).await.unwrap();
    for (kind, name) in [
        (ObjectKind::Schema, "billing"),
        (ObjectKind::Enum, "billing.state"),
        (ObjectKind::Table, "billing.invoices"),
        (ObjectKind::Column, "billing.invoices.doubled"),
        (
            ObjectKind::Constraint,
            "invoices_order_id_fkey on billing.invoices",
        ),
        (ObjectKind::Index, "orders_pkey"),
        (ObjectKind::Sequence, "ticket_seq"),
        (ObjectKind::Sequence, "billing.invoices_id_seq"),
        (ObjectKind::View, "big_orders"),
        (ObjectKind::MaterializedView, "order_counts"),
        (ObjectKind::Function, "touch()"),
        (ObjectKind::Trigger, "orders_touch on orders"),
    ] {
        assert!(before.get(kind, name).is_some(), "{kind} {name} missing");
    }
    assert_eq!(
        before.get(ObjectKind::Table, "scratch"),
        Some("table, unlogged")
    );
    assert_eq!(
        before.get(ObjectKind::Enum, "billing.state"),
        Some("('open', 'paid')")
    );
    assert_eq!(
        before.get(ObjectKind::Sequence, "ticket_seq"),
        Some("bigint start 1 increment 5 min 1 max 1000 cache 1 no cycle")
    );
    assert_eq!(
        before.get(ObjectKind::Column, "orders.id"),
        Some("bigint NOT NULL GENERATED ALWAYS AS IDENTITY")
    );
    assert!(
        before
            .objects
            .keys()
            .all(|(_, name)| !name.contains("_sqlx_migrations")
                && !name.contains("schema_migrations")),
        "history tables and their index and sequence are not compared: {:?}",
        before.objects.keys().collect::<Vec<_>>()
    );

    // Data and sequence positions are not the schema; framework bookkeeping is ignored.
    db.execute(
        "SELECT nextval('ticket_seq'); INSERT INTO _sqlx_migrations VALUES (1, 'x');
         INSERT INTO schema_migrations (version) VALUES ('1'); DELETE FROM orders WHERE id < 10;",
    )
    .await;
    let unchanged = schema_state(&mut conn).await.unwrap();
    assert_eq!(compare(&before, &unchanged), Vec::<String>::new());

    db.execute(
        "ALTER TYPE billing.state ADD VALUE 'void';
         CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note = 'x'; RETURN NEW; END$$;
         CREATE OR REPLACE VIEW big_orders AS SELECT id FROM orders WHERE customer_id > 20;",
    )
    .await;
    let after = schema_state(&mut conn).await.unwrap();
    let differences = compare(&before, &after);
    assert_eq!(differences.len(), 3, "{differences:#?}");
    assert_eq!(
        differences[0],
        "enum type billing.state differs: before `('open', 'paid')`, after `('open', 'paid', 'void')`"
    );
    assert!(
        differences[1].starts_with("view big_orders differs: before"),
        "{differences:#?}"
    );
    assert!(
        differences[2].starts_with("function touch() differs: before `definition sha256:"),
        "{differences:#?}"
    );
}

fn expected(text: &str, line: usize) -> Expected {
    Expected {
        text: text.to_string(),
        status: ExpectStatus::NotChecked,
        detail: String::new(),
        line,
    }
}

/// (text, status, detail) of each checked expectation.
fn outcome(checked: &[Expected]) -> Vec<(String, ExpectStatus, String)> {
    checked
        .iter()
        .map(|e| (e.text.clone(), e.status, e.detail.clone()))
        .collect()
}

#[tokio::test]
async fn measured_expectations_are_met_or_not_with_the_value() {
    let declared = [
        expected("rows <= 50000", 2),
        expected("rows <= 200k", 3),
        expected("duration <= 30s", 4),
        expected("duration < 1s", 5),
        expected("lock <= 2s", 6),
        expected("lock <= 100ms", 7),
        expected("succeeds", 8),
        expected("fails", 9),
        expected("the nightly report gets faster", 10),
    ];
    let measure = MigrationMeasure {
        rows_affected: Some(120_000),
        duration_ms: Some(4_200),
        longest_blocking_lock_ms: Some(350),
        failed: None,
        cancelled: false,
    };
    let checked = check(&declared, &measure, None).await;
    use ExpectStatus::*;
    let s = |t: &str, st, d: &str| (t.to_string(), st, d.to_string());
    assert_eq!(
        outcome(&checked),
        [
            s("rows <= 50000", NotMet, "rows affected 120,000 > 50,000"),
            s("rows <= 200k", Met, "rows affected 120,000 <= 200,000"),
            s("duration <= 30s", Met, "duration 4.2 s <= 30.0 s"),
            s("duration < 1s", NotMet, "duration 4.2 s >= 1.0 s"),
            s(
                "lock <= 2s",
                Met,
                "longest blocking lock held 350 ms <= 2.0 s"
            ),
            s(
                "lock <= 100ms",
                NotMet,
                "longest blocking lock held 350 ms > 100 ms"
            ),
            s("succeeds", Met, "the migration succeeded on the copy"),
            s("fails", NotMet, "the migration succeeded on the copy"),
            s(
                "the nightly report gets faster",
                NotChecked,
                "free text: shown as written, not checked"
            ),
        ]
    );
    assert_eq!(checked[3].line, 5);

    let failed = MigrationMeasure {
        failed: Some("could not create unique index \"orders_email_key\"".into()),
        ..MigrationMeasure::default()
    };
    let checked = check(&declared[6..8], &failed, None).await;
    assert_eq!(checked[0].status, NotMet);
    assert_eq!(
        checked[1].detail,
        "the migration failed on the copy: could not create unique index \"orders_email_key\""
    );
    assert_eq!(checked[1].status, Met);
}

#[tokio::test]
async fn plan_expectations_explain_the_query_after_the_migration() {
    let db = TestDb::create("expect_plan").await;
    db.execute(ORDERS).await;
    let mut conn = db.connect().await;
    let declared = [
        expected(
            r#"plan "SELECT * FROM orders WHERE customer_id = 42" uses index orders_customer_id_idx"#,
            2,
        ),
        expected(
            r#"plan "SELECT * FROM orders WHERE customer_id = 42" no seq scan"#,
            3,
        ),
        expected(
            r#"plan "SELECT count(*) FROM orders WHERE note = 'x'" no seq scan"#,
            4,
        ),
        expected(
            r#"plan "SELECT * FROM orders WHERE note = 'x'" uses index orders_note_idx"#,
            5,
        ),
        expected(
            r#"plan "SELECT * FROM orders WHERE id = 7" does not use index orders_customer_id_idx"#,
            6,
        ),
        expected(r#"plan "SELECT missing FROM orders" no seq scan"#, 7),
    ];
    let measure = MigrationMeasure::default();
    let checked = check(&declared, &measure, Some(&mut conn)).await;
    let got = outcome(&checked);
    use ExpectStatus::*;
    assert_eq!(got[0].1, Met, "{got:#?}");
    // An Index Scan or a Bitmap Index Scan, depending on statistics; both name the index.
    assert!(
        got[0]
            .2
            .starts_with("plan of `SELECT * FROM orders WHERE customer_id = 42` uses ")
            && got[0].2.contains("Index Scan")
            && got[0].2.contains("orders_customer_id_idx"),
        "{got:#?}"
    );
    assert_eq!(got[1].1, Met, "{got:#?}");
    assert!(got[1].2.contains("has no Seq Scan"), "{got:#?}");
    assert_eq!(got[2].1, NotMet, "{got:#?}");
    assert_eq!(
        got[2].2,
        "plan of `SELECT count(*) FROM orders WHERE note = 'x'` has Seq Scan on public.orders"
    );
    assert_eq!(got[3].1, NotMet, "{got:#?}");
    assert!(
        got[3].2.starts_with(
            "plan of `SELECT * FROM orders WHERE note = 'x'` does not use \
             orders_note_idx (Seq Scan on public.orders)"
        ),
        "{got:#?}"
    );
    assert_eq!(got[4].1, Met, "{got:#?}");
    assert_eq!(got[5].1, NotChecked, "{got:#?}");
    assert!(
        got[5].2.contains("column \"missing\" does not exist"),
        "{got:#?}"
    );

    // After the migration dropped the index, the same expectation is not met.
    db.execute("DROP INDEX orders_customer_id_idx;").await;
    let checked = check(&declared[..1], &measure, Some(&mut conn)).await;
    assert_eq!(checked[0].status, NotMet, "{:?}", checked[0]);
    assert!(checked[0]
        .detail
        .contains("does not use orders_customer_id_idx (Seq Scan on public.orders)"));
}

#[tokio::test]
async fn a_watched_query_regresses_when_its_index_is_dropped() {
    let db = TestDb::with_fixture("watch_drop", "rules/plan-regression/setup.sql").await;
    let queries = watch::load(&fixture_path("watch/queries.sql"), watch::DEFAULT_TOP).unwrap();
    assert_eq!(queries.len(), 3);
    let mut conn = db.connect().await;

    let before = plans(&mut conn, &queries).await;
    assert!(before.iter().all(|(_, p)| p.is_ok()), "{before:#?}");
    let explained_before = explained(&before);
    let users: Vec<&str> = queries_using_index(&explained_before, "orders_customer_id_idx")
        .into_iter()
        .map(|q| q.name.as_str())
        .collect();
    assert_eq!(users, ["orders of a customer"]);

    db.execute("DROP INDEX orders_customer_id_idx;").await;
    let after = plans(&mut conn, &queries).await;

    let rows: BTreeMap<String, i64> = BTreeMap::from([("orders".to_string(), 50_000)]);
    let table_rows = |t: &migsafe::model::QualifiedName| rows.get(&t.name).copied();
    let thresholds = WatchThresholds {
        cost_factor: 2.0,
        large_table_rows: 10_000,
    };
    let found = regressions(&before, &after, &thresholds, table_rows);
    assert_eq!(found.len(), 1, "{found:#?}");
    let r = &found[0];
    assert_eq!(r.query.name, "orders of a customer");
    assert_eq!(r.lost_indexes, ["orders_customer_id_idx"]);
    assert!(r.severe, "a new Seq Scan on a large table is an error");
    assert!(
        r.reasons[0].starts_with("it no longer uses index orders_customer_id_idx ("),
        "{:?}",
        r.reasons
    );
    assert!(
        r.reasons
            .iter()
            .any(|x| x == "it now reads all of public.orders with a Seq Scan (50,000 rows)"),
        "{:?}",
        r.reasons
    );
    assert!(
        r.reasons
            .iter()
            .any(|x| x.starts_with("its estimated cost grows ")),
        "{:?}",
        r.reasons
    );
    assert!(r.before.contains("orders_customer_id_idx"), "{}", r.before);
    assert!(r.after.contains("Seq Scan on public.orders"), "{}", r.after);

    // Below the large-table threshold it is still a regression (lost index), but not an error.
    let lenient = WatchThresholds {
        cost_factor: 1_000.0,
        large_table_rows: 1_000_000,
    };
    let found = regressions(&before, &after, &lenient, table_rows);
    assert_eq!(found.len(), 1);
    assert!(!found[0].severe);
    assert_eq!(found[0].reasons.len(), 1, "{:?}", found[0].reasons);
}

#[tokio::test]
async fn a_watched_query_that_no_longer_plans_is_a_severe_regression() {
    let db = TestDb::with_fixture("watch_gone", "rules/plan-regression/setup.sql").await;
    let queries = watch::parse_sql_file(
        "-- name: by status\nSELECT id FROM orders WHERE status = 'stuck';\n\
         -- name: parameterised\nSELECT * FROM orders WHERE id = $1;\n",
        "inline.sql",
    );
    let mut conn = db.connect().await;
    let before = plans(&mut conn, &queries).await;
    // A `$n` query gets its generic plan on every version: EXPLAIN (GENERIC_PLAN) from
    // PostgreSQL 16, a prepared statement with plan_cache_mode = force_generic_plan before.
    match &before[1].1 {
        Ok(plan) => assert!(plan.uses_index("orders_pkey"), "{plan:?}"),
        Err(reason) => panic!("the parameterised query did not plan: {reason}"),
    }
    db.execute("ALTER TABLE orders DROP COLUMN status;").await;
    let after = plans(&mut conn, &queries).await;
    let found = regressions(&before, &after, &WatchThresholds::default(), |_| None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].query.name, "by status");
    assert!(found[0].severe);
    assert!(
        found[0].reasons[0].contains("column \"status\" does not exist"),
        "{:?}",
        found[0].reasons
    );
}

#[test]
fn pg_stat_statements_csv_and_json_exports_give_the_heaviest_queries() {
    for file in [
        "watch/pg_stat_statements.csv",
        "watch/pg_stat_statements.json",
    ] {
        let queries = watch::load(&fixture_path(file), 3).unwrap();
        let got: Vec<(&str, Option<i64>)> =
            queries.iter().map(|q| (q.sql.as_str(), q.calls)).collect();
        assert_eq!(
            got,
            [
                ("SELECT count(*) FROM orders WHERE status = 'stuck'", Some(1440)),
                (
                    "SELECT id, status, created_at\nFROM orders\nWHERE customer_id = $1\nORDER BY created_at DESC",
                    Some(182_460)
                ),
                ("UPDATE orders SET status = $1 WHERE id = $2", Some(55_000)),
            ],
            "{file}"
        );
        assert_eq!(queries[1].total_ms, Some(53_156.012), "{file}");
        assert_eq!(queries[0].name, "query 1");
        assert!(
            queries[0].title().contains("1,440 calls"),
            "{}",
            queries[0].title()
        );

        let all = watch::load(&fixture_path(file), watch::DEFAULT_TOP).unwrap();
        assert_eq!(
            all.len(),
            5,
            "{file}: duplicates merged, nothing else dropped"
        );
        assert_eq!(
            all[3].sql,
            "SELECT \"status\", count(*) FROM orders GROUP BY 1"
        );
    }
    let old = watch::load(&fixture_path("watch/pg_stat_statements_pg12.csv"), 20).unwrap();
    assert_eq!(old[0].sql, "SELECT * FROM orders WHERE id = 1234");
    assert_eq!(old[0].total_ms, Some(120.25));
}
