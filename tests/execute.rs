//! Execution on a disposable database (issue 5): failures on real data with PostgreSQL's
//! detail, measured lock hold times checked against an independent observer, CREATE INDEX
//! CONCURRENTLY seen from a second connection, refusal on a non-disposable target, and the
//! schema a run leaves behind.

mod common;

use common::TestDb;
use migsafe::execute::trace::{MigrationRun, RelationKind, Until};
use migsafe::execute::{run_pending, ExecOptions, Trace};
use migsafe::locks::LockMode;
use migsafe::metadata::Owners;
use migsafe::model::ParsedMigration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Parses `sql` as the migration file `name` (layout detected from the text, plain by
/// default) of a project whose runner wraps each file in a transaction (`--transaction file`;
/// the file's own `-- no-transaction` still wins).
fn migration(name: &str, sql: &str) -> ParsedMigration {
    let mut loaded = migsafe::load::load_text(name, sql, None).unwrap();
    migsafe::load::declare(
        &mut loaded,
        &[],
        Some(migsafe::model::Transaction::File),
        std::path::Path::new("."),
    );
    migsafe::review::prepare(loaded.into_iter().next().unwrap(), &Owners::default())
}

fn disposable() -> ExecOptions {
    ExecOptions {
        disposable_confirmed: true,
        ..ExecOptions::default()
    }
}

async fn run(db: &TestDb, migrations: &[ParsedMigration], options: &ExecOptions) -> Trace {
    run_pending(&db.url, migrations, options)
        .await
        .unwrap_or_else(|e| panic!("run failed: {e:#}"))
}

async fn scalar_i64(db: &TestDb, sql: &str) -> i64 {
    let mut conn = db.connect().await;
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn failure(run: &MigrationRun) -> &migsafe::execute::trace::Failure {
    run.failed
        .as_ref()
        .unwrap_or_else(|| panic!("{} did not fail: {run:#?}", run.path))
}

#[tokio::test]
async fn unique_index_over_duplicates_fails_with_the_duplicate_key() {
    let db = TestDb::create("exec_unique").await;
    db.execute(
        "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
         INSERT INTO users SELECT i, 'user' || i || '@example.com' FROM generate_series(1, 5000) i;
         INSERT INTO users VALUES (5001, 'user77@example.com');",
    )
    .await;
    let migrations = [
        migration(
            "1_unique_email.sql",
            "CREATE TABLE audit (id int);\nCREATE UNIQUE INDEX users_email_key ON users (email);\n",
        ),
        migration("2_later.sql", "ALTER TABLE users ADD COLUMN plan text;\n"),
    ];
    let trace = run(&db, &migrations, &disposable()).await;
    let first = &trace.migrations[0];
    let failed = failure(first);
    assert_eq!(failed.statement, 1);
    assert_eq!(failed.error.code, "23505");
    assert_eq!(
        failed.error.detail.as_deref(),
        Some("Key (email)=(user77@example.com) is duplicated.")
    );
    // The migration's transaction was rolled back: its first statement left nothing.
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 'audit'").await,
        0
    );
    // The run stopped: the later migration is listed, not executed, with the reason.
    let later = &trace.migrations[1];
    assert!(later.statements.is_empty());
    let reason = later.not_executed.as_deref().unwrap_or_default();
    assert!(
        reason.contains("1_unique_email.sql failed at line 2"),
        "{reason}"
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'plan'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn set_not_null_over_nulls_fails_naming_the_null_rows() {
    let db = TestDb::create("exec_not_null").await;
    db.execute(
        "CREATE TABLE customers (id int PRIMARY KEY, phone text);
         INSERT INTO customers SELECT i, '555-' || i FROM generate_series(1, 5000) i;
         UPDATE customers SET phone = NULL WHERE id = 4242;",
    )
    .await;
    let migrations = [migration(
        "1_require_phone.sql",
        "ALTER TABLE customers ALTER COLUMN phone SET NOT NULL;\n",
    )];
    let trace = run(&db, &migrations, &disposable()).await;
    let failed = failure(&trace.migrations[0]);
    assert_eq!(failed.error.code, "23502");
    assert!(failed.error.message.contains("phone"), "{:?}", failed.error);
    let detail = failed.error.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("(4242,)"), "{detail}");
}

#[tokio::test]
async fn validated_foreign_key_over_orphans_fails_with_the_orphan_value() {
    let db = TestDb::create("exec_fk").await;
    db.execute(
        "CREATE TABLE customers (id int PRIMARY KEY);
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
         INSERT INTO customers SELECT generate_series(1, 1000);
         INSERT INTO orders SELECT i, 1 + i % 1000 FROM generate_series(1, 5000) i;
         INSERT INTO orders VALUES (5001, 31337);",
    )
    .await;
    let migrations = [migration(
        "1_orders_fk.sql",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) \
         REFERENCES customers (id) NOT VALID;\n\
         ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;\n",
    )];
    let trace = run(&db, &migrations, &disposable()).await;
    let failed = failure(&trace.migrations[0]);
    assert_eq!(failed.statement, 1);
    assert_eq!(failed.error.code, "23503");
    assert_eq!(
        failed.error.constraint.as_deref(),
        Some("orders_customer_fk")
    );
    let detail = failed.error.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("(customer_id)=(31337)"), "{detail}");
}

/// Watches `pg_locks` for a granted ACCESS EXCLUSIVE lock on `table` every 10 ms from its own
/// connection, until `stop`; returns how long it was seen (first sighting to last).
async fn watch_exclusive_lock(url: String, table: &str, stop: Arc<AtomicBool>) -> Duration {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let oid: i64 = sqlx::query_scalar("SELECT $1::regclass::oid::int8")
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    while !stop.load(Ordering::Acquire) {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' \
             AND relation = $1::int8::oid AND mode = 'AccessExclusiveLock' AND granted",
        )
        .bind(oid)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if held > 0 {
            let now = Instant::now();
            first.get_or_insert(now);
            last = Some(now);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    match (first, last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_type_change_hold_time_matches_an_independent_observer() {
    let db = TestDb::create("exec_rewrite").await;
    db.execute(
        "CREATE TABLE events (id int NOT NULL, kind int NOT NULL);
         INSERT INTO events SELECT i, i % 7 FROM generate_series(1, 2000000) i;
         ANALYZE events;",
    )
    .await;
    let migrations = [migration(
        "1_events_bigint.sql",
        "ALTER TABLE events ALTER COLUMN id TYPE bigint;\n",
    )];
    let options = ExecOptions {
        lock_budget: Duration::from_millis(200),
        ..disposable()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_exclusive_lock(
        db.url.clone(),
        "events",
        Arc::clone(&stop),
    ));
    // Give the observer time to connect before the migration starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let trace = run(&db, &migrations, &options).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Release);
    let observed = watcher.await.unwrap();

    let statement = &trace.migrations[0].statements[0];
    let lock = statement
        .locks
        .iter()
        .find(|l| l.relation.name == "events" && l.mode == LockMode::AccessExclusive)
        .unwrap_or_else(|| panic!("no ACCESS EXCLUSIVE on events: {statement:#?}"));
    assert_eq!(lock.until, Until::Commit);
    assert_eq!(lock.kind, RelationKind::Table);
    assert_eq!(lock.rows, Some(2_000_000));
    let measured = lock.held_ms as f64;
    let seen = observed.as_millis() as f64;
    eprintln!("measured {measured} ms, observer saw {seen} ms");
    assert!(seen > 0.0, "the observer never saw the lock");
    assert!(
        (measured - seen).abs() <= 0.2 * seen,
        "measured {measured} ms, observer saw {seen} ms"
    );
    assert!(lock.held_ms > 200, "held only {} ms", lock.held_ms);
    assert_eq!(trace.migrations[0].lock_budget_ms, 200);
    // The rewrite is measured: new relfilenode for the table.
    let rewrite = statement
        .rewritten
        .iter()
        .find(|r| r.relation.name == "events")
        .unwrap_or_else(|| panic!("no rewrite recorded: {statement:#?}"));
    assert_ne!(rewrite.old_filenode, rewrite.new_filenode);
    assert!(rewrite.bytes.unwrap_or(0) > 50 << 20, "{rewrite:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_reports_no_write_blocking_lock() {
    let db = TestDb::create("exec_cic").await;
    db.execute(
        "CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL);
         INSERT INTO items SELECT i, md5(i::text) FROM generate_series(1, 300000) i;
         ANALYZE items;",
    )
    .await;
    let migrations = [migration(
        "1_items_sku.sql",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY items_sku_idx ON items (sku);\n",
    )];
    assert!(!migrations[0].migration.up.transactional());
    let trace = run(&db, &migrations, &disposable()).await;
    let run0 = &trace.migrations[0];
    assert!(run0.failed.is_none(), "{run0:#?}");
    let statement = &run0.statements[0];
    let on_items: Vec<_> = statement
        .locks
        .iter()
        .filter(|l| l.relation.name == "items")
        .collect();
    assert!(
        on_items
            .iter()
            .any(|l| l.mode == LockMode::ShareUpdateExclusive && l.observed),
        "{statement:#?}"
    );
    assert!(
        statement.locks.iter().all(|l| !l.mode.blocks_writes()),
        "{statement:#?}"
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'items_sku_idx'::regclass AND indisvalid"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn refuses_a_target_not_confirmed_disposable_and_touches_nothing() {
    let db = TestDb::create("exec_refuse").await;
    let migrations = [migration("1_t.sql", "CREATE TABLE t (id int);\n")];
    let err = run_pending(&db.url, &migrations, &ExecOptions::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Refusing to run migrations"), "{err}");
    assert!(err.contains(&db.name), "{err}");
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM pg_class WHERE relname = 't'").await,
        0
    );
}

#[tokio::test]
async fn a_run_leaves_exactly_the_schema_the_migrations_build() {
    let db = TestDb::create("exec_schema").await;
    let migrations = [
        migration(
            "1_create_orders.sql",
            "-- rollback: DROP TABLE orders;\n\
             CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new');\n\
             INSERT INTO orders SELECT i, 'new' FROM generate_series(1, 1000) i;\n",
        ),
        migration(
            "2_index_status.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n",
        ),
        migration(
            "3_backfill.sql",
            "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n\
             UPDATE orders SET note = 'x' WHERE id <= 10;\nCOMMIT;\n",
        ),
    ];
    let trace = run(&db, &migrations, &disposable()).await;
    for m in &trace.migrations {
        assert!(m.failed.is_none() && m.not_executed.is_none(), "{m:#?}");
    }
    // The rollback round trip ran (down restored the schema) and up was applied again.
    let rollback = trace.migrations[0].rollback.as_ref().expect("round trip");
    assert!(rollback.error.is_none(), "{rollback:?}");
    assert!(rollback.differences.is_empty(), "{rollback:?}");

    // The explicit transaction's ALTER held ACCESS EXCLUSIVE until its COMMIT.
    let third = &trace.migrations[2];
    let alter = third.statement(1).unwrap();
    assert!(alter
        .locks
        .iter()
        .any(|l| l.mode == LockMode::AccessExclusive && l.until == Until::Commit));
    let update = third.statement(2).unwrap();
    assert_eq!(update.rows, Some(10));
    assert!(update.plan.is_some(), "{update:#?}");

    let columns: Vec<String> = {
        let mut conn = db.connect().await;
        sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(columns, ["id", "status", "note"]);
    let indexes: Vec<String> = {
        let mut conn = db.connect().await;
        sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(indexes, ["orders_pkey", "orders_status_idx"]);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM orders").await, 1000);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM orders WHERE note = 'x'").await,
        10
    );
}

#[tokio::test]
async fn a_rollback_that_forgets_a_column_is_listed_as_a_difference() {
    let db = TestDb::create("exec_rollback").await;
    db.execute("CREATE TABLE orders (id int PRIMARY KEY);")
        .await;
    let migrations = [
        migration(
            "1_note.sql",
            "-- rollback: DROP INDEX IF EXISTS orders_note_idx;\n\
             ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;\n\
             CREATE INDEX IF NOT EXISTS orders_note_idx ON orders (note);\n",
        ),
        migration(
            "2_irreversible.sql",
            "-- rollback: irreversible\nALTER TABLE orders ADD COLUMN kind text;\n",
        ),
    ];
    let trace = run(&db, &migrations, &disposable()).await;
    let rollback = trace.migrations[0].rollback.as_ref().expect("round trip");
    assert!(rollback.error.is_none(), "{rollback:?}");
    assert!(
        rollback.differences.iter().any(|d| d.contains("note")),
        "{rollback:?}"
    );
    // Irreversible migrations are not round-tripped; the run went on after the first.
    assert!(trace.migrations[1].rollback.is_none());
    assert!(trace.migrations[1].not_executed.is_none());
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_note_idx'"
        )
        .await,
        1
    );
}

/// Runs an execution rule's example (fixtures/rules/<rule>/<file>) on a fresh copy built from
/// its setup.sql, with the lock budget a `-- lock_budget_ms:` line there asks for.
async fn run_example(rule: &str, file: &str) -> MigrationRun {
    let setup =
        std::fs::read_to_string(common::fixture_path(&format!("rules/{rule}/setup.sql"))).unwrap();
    let budget = setup
        .lines()
        .find_map(|l| l.trim().strip_prefix("-- lock_budget_ms:"))
        .map(|ms| Duration::from_millis(ms.trim().parse().unwrap()));
    let db = TestDb::create(&format!("ex_{rule}")).await;
    db.load_fixture(&format!("rules/{rule}/setup.sql")).await;
    let path = format!("fixtures/rules/{rule}/{file}");
    let sql = std::fs::read_to_string(&path).unwrap();
    let options = ExecOptions {
        lock_budget: budget.unwrap_or(Duration::from_secs(2)),
        ..disposable()
    };
    let mut trace = run(&db, &[migration(&path, &sql)], &options).await;
    trace.migrations.remove(0)
}

/// Locks over the run's budget that block writes of a table.
fn over_budget(run: &MigrationRun) -> Vec<String> {
    run.statements
        .iter()
        .flat_map(|s| &s.locks)
        .filter(|l| l.kind == RelationKind::Table && l.mode.blocks_writes())
        .filter(|l| l.held_ms > run.lock_budget_ms)
        .map(|l| format!("{:?} on {} for {} ms", l.mode, l.relation, l.held_ms))
        .collect()
}

#[tokio::test]
async fn execution_rule_examples_show_what_their_rule_measures() {
    let bad = run_example("fails-on-copy", "bad.sql").await;
    let detail = failure(&bad).error.detail.clone().unwrap_or_default();
    assert!(detail.contains("user42@example.com"), "{detail}");
    let good = run_example("fails-on-copy", "good.sql").await;
    assert!(good.failed.is_none(), "{good:#?}");

    let bad = run_example("lock-held-too-long", "bad.sql").await;
    assert!(bad.failed.is_none(), "{bad:#?}");
    assert!(!over_budget(&bad).is_empty(), "{bad:#?}");
    let good = run_example("lock-held-too-long", "good.sql").await;
    assert!(good.failed.is_none(), "{good:#?}");
    assert!(over_budget(&good).is_empty(), "{:?}", over_budget(&good));

    let bad = run_example("table-rewrite", "bad.sql").await;
    let rewritten: Vec<_> = bad.statements.iter().flat_map(|s| &s.rewritten).collect();
    assert!(
        rewritten
            .iter()
            .any(|r| r.relation.name == "invoices" && r.kind == RelationKind::Table),
        "{bad:#?}"
    );
    let good = run_example("table-rewrite", "good.sql").await;
    assert!(good.failed.is_none(), "{good:#?}");
    assert!(
        good.statements.iter().all(|s| s.rewritten.is_empty()),
        "{good:#?}"
    );
}
