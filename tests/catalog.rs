//! The catalog evidence against a real PostgreSQL: snapshots of the shop fixture (sizes,
//! row estimates, indexes, foreign-key coverage, index usage), migration history tables as
//! the frameworks create them, the read-only session, and connection errors that never show
//! the password. Each test gets its own database (tests/common).

mod common;

use common::TestDb;
use migsafe::config::Thresholds;
use migsafe::evidence::catalog::{
    CatalogSnapshot, ConstraintType, RowSource, SizeClass, TableKind,
};
use migsafe::evidence::connect::{
    connect_read_only, connect_read_only_with, ConnectError, ConnectFailure, SessionLimits,
};
use migsafe::evidence::history::{
    flyway_checksum, read_applied, sqlx_checksum, Semantics, VersionStatus,
};
use migsafe::model::{IndexKey, Layout, QualifiedName};
use sqlx::postgres::PgConnection;
use std::time::{Duration, Instant};

fn name(schema: Option<&str>, name: &str) -> QualifiedName {
    QualifiedName::new(schema, name)
}

fn public(n: &str) -> QualifiedName {
    name(Some("public"), n)
}

fn cols(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

async fn snapshot(db: &TestDb) -> CatalogSnapshot {
    let mut conn = connect_read_only(&db.url).await.unwrap();
    CatalogSnapshot::read(&mut conn).await.unwrap()
}

#[tokio::test]
async fn shop_tables_have_real_sizes_row_estimates_and_kinds() {
    let db = TestDb::with_fixture("catalog_tables", "catalog/shop.sql").await;
    let snap = snapshot(&db).await;
    let t = Thresholds::default();

    assert_eq!(snap.server.database, db.name);
    assert!(snap.server.version_num >= 120000, "{:?}", snap.server);
    assert!(snap.server.database_bytes > 10_000_000, "{:?}", snap.server);
    assert!(snap.server.last_analyzed.is_some(), "the fixture ANALYZEs");
    assert_eq!(snap.search_path, vec!["public".to_string()]);

    // Unqualified names resolve through the search path.
    let orders = snap.table(&name(None, "orders")).expect("orders");
    assert_eq!(orders.name, public("orders"));
    assert_eq!(orders.kind, TableKind::Table);
    assert_eq!(orders.row_source, RowSource::Analyze);
    assert!(
        (190_000..=210_000).contains(&orders.rows),
        "{}",
        orders.rows
    );
    assert!(
        (8 << 20..40 << 20).contains(&orders.heap_bytes),
        "200,000 narrow rows are a few MB: {}",
        orders.heap_bytes
    );
    assert!(orders.index_bytes > 4 << 20, "{}", orders.index_bytes);
    assert_eq!(
        orders.triggers, 1,
        "orders_touch, not the FK's internal triggers"
    );
    assert_eq!(orders.size_class(&t), SizeClass::Medium);

    let customers = snap.table(&public("customers")).expect("customers");
    assert!((950..=1050).contains(&customers.rows), "{}", customers.rows);
    assert_eq!(customers.triggers, 0);
    assert_eq!(customers.size_class(&t), SizeClass::Small);

    let documents = snap.table(&public("documents")).expect("documents");
    assert!(documents.toast_bytes > 100_000, "{}", documents.toast_bytes);
    assert!(documents.bytes() > documents.heap_bytes);

    // A partitioned table adds up its partitions.
    let events = snap.table(&public("events")).expect("events");
    assert_eq!(events.kind, TableKind::Partitioned);
    assert_eq!(events.row_source, RowSource::Partitions);
    assert!((6_500..=7_500).contains(&events.rows), "{}", events.rows);
    let e2023 = snap.table(&public("events_2023")).expect("events_2023");
    let e2024 = snap.table(&public("events_2024")).expect("events_2024");
    assert_eq!(e2023.kind, TableKind::Partition);
    assert_eq!(e2023.partition_of, Some(public("events")));
    assert_eq!(events.heap_bytes, e2023.heap_bytes + e2024.heap_bytes);
    assert!(events.heap_bytes > 0);

    // Outside the search path: found only when qualified.
    assert!(snap.table(&name(None, "invoices")).is_none());
    assert!(snap.table(&name(Some("billing"), "invoices")).is_some());
    assert!(snap.table(&name(Some("billing"), "orders")).is_none());

    // Columns, in attnum order, with types and defaults as PostgreSQL prints them.
    let names: Vec<_> = orders.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "customer_id",
            "status",
            "total_cents",
            "created_at",
            "note"
        ]
    );
    let status = snap.column(&name(None, "orders"), "status").unwrap();
    assert_eq!(status.data_type, "text");
    assert!(status.not_null);
    assert_eq!(status.default.as_deref(), Some("'new'::text"));
    let note = snap.column(&public("orders"), "note").unwrap();
    assert!(!note.not_null && note.default.is_none() && !note.has_default);
    let id = snap.column(&public("orders"), "id").unwrap();
    assert!(
        id.default.as_deref().unwrap_or("").starts_with("nextval("),
        "{id:?}"
    );
    assert!(snap.column(&public("customers"), "id").unwrap().identity);
    let created = snap.column(&public("orders"), "created_at").unwrap();
    assert_eq!(created.data_type, "timestamp with time zone");
    assert_eq!(
        snap.column(&public("products"), "sku").unwrap().data_type,
        "character varying(32)"
    );
    assert!(snap.column(&public("orders"), "nope").is_none());
    let price = snap.column(&public("products"), "price").unwrap();
    assert!(price.generated && price.has_default && price.default.is_none());
    assert_eq!(
        price.generation_expression.as_deref(),
        Some("price_cents::numeric / 100.0")
    );

    // Sequences know their column and position.
    let seq = snap
        .sequence(&name(None, "orders_id_seq"))
        .expect("orders_id_seq");
    assert_eq!(seq.data_type, "bigint");
    assert_eq!(seq.last_value, Some(200_000));
    let owner = seq.owned_by.as_ref().expect("owned by orders.id");
    assert_eq!(
        (owner.table.clone(), owner.column.as_str()),
        (public("orders"), "id")
    );

    // Views and materialized views.
    let open = snap.view(&name(None, "open_orders")).expect("open_orders");
    assert!(!open.materialized);
    let totals = snap
        .view(&name(None, "customer_totals"))
        .expect("customer_totals");
    assert!(totals.materialized);
    assert!((950..=1050).contains(&totals.rows), "{}", totals.rows);
    assert!(totals.bytes > 0);

    assert!(snap.notes.is_empty(), "{:?}", snap.notes);
    assert!(snap.tables.iter().all(|t| !t.locked));

    // The snapshot prints (the JSON report and debugging use this).
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(
        json["tables"].as_array().map(Vec::len),
        Some(snap.tables.len())
    );
}

#[tokio::test]
async fn shop_indexes_constraints_and_foreign_key_coverage() {
    let db = TestDb::with_fixture("catalog_indexes", "catalog/shop.sql").await;
    // A unique index built concurrently over duplicates fails and stays behind, INVALID.
    let failed = db
        .try_execute(
            "CREATE UNIQUE INDEX CONCURRENTLY customers_created_at_uniq ON customers (created_at)",
        )
        .await;
    let message = failed
        .expect_err("all customers share one created_at")
        .to_string();
    assert!(
        message.contains("could not create unique index"),
        "{message}"
    );
    let snap = snapshot(&db).await;

    let invalid = snap
        .index(&name(None, "customers_created_at_uniq"))
        .expect("invalid index");
    assert!(!invalid.valid && invalid.unique);

    let fk_idx = snap
        .index(&public("orders_customer_id_idx"))
        .expect("orders_customer_id_idx");
    assert_eq!(fk_idx.table, public("orders"));
    assert_eq!(fk_idx.keys, vec![IndexKey::Column("customer_id".into())]);
    assert!(fk_idx.valid && !fk_idx.unique && !fk_idx.primary);
    assert_eq!(fk_idx.method, "btree");
    assert!(fk_idx.bytes > 1 << 20, "{}", fk_idx.bytes);
    assert!(!fk_idx.partial && fk_idx.predicate.is_none());
    assert_eq!(
        fk_idx.create_statement(),
        "CREATE INDEX orders_customer_id_idx ON public.orders USING btree (customer_id)"
    );

    let partial = snap
        .index(&name(None, "orders_open_created_at_idx"))
        .unwrap();
    assert!(partial.partial);
    assert_eq!(
        partial.predicate.as_deref(),
        Some("status <> 'shipped'::text")
    );
    assert_eq!(partial.keys, vec![IndexKey::Column("created_at".into())]);

    let expr = snap
        .index(&name(None, "customers_email_lower_idx"))
        .unwrap();
    assert_eq!(expr.keys, vec![IndexKey::Expression("lower(email)".into())]);
    assert!(expr.unique);

    let pkey = snap.index(&name(None, "order_items_pkey")).unwrap();
    assert!(pkey.primary && pkey.unique);
    assert_eq!(
        pkey.keys,
        vec![
            IndexKey::Column("order_id".into()),
            IndexKey::Column("product_id".into())
        ]
    );

    let on_orders: Vec<_> = snap
        .indexes_on(&name(None, "orders"))
        .map(|i| i.name.name.as_str())
        .collect();
    assert_eq!(
        on_orders,
        [
            "orders_customer_id_idx",
            "orders_id_customer_id_key",
            "orders_open_created_at_idx",
            "orders_pkey"
        ]
    );

    // A partitioned index sums its partitions' indexes.
    let events_idx = snap.index(&public("events_happened_at_idx")).unwrap();
    let children: Vec<_> = snap
        .indexes
        .iter()
        .filter(|i| i.parent.as_ref() == Some(&events_idx.name))
        .collect();
    assert_eq!(children.len(), 2);
    assert_eq!(
        events_idx.bytes,
        children.iter().map(|i| i.bytes).sum::<i64>()
    );

    // The materialized view's unique index (what REFRESH ... CONCURRENTLY needs).
    let on_totals: Vec<_> = snap.indexes_on(&name(None, "customer_totals")).collect();
    assert_eq!(on_totals.len(), 1);
    assert!(on_totals[0].unique);

    // Constraints.
    let fk = snap
        .constraints_on(&name(None, "payments"))
        .find(|c| c.kind == ConstraintType::ForeignKey)
        .expect("payments FK");
    assert!(!fk.validated, "added NOT VALID");
    assert_eq!(fk.columns, cols(&["order_id"]));
    let reference = fk.references.as_ref().unwrap();
    assert_eq!(reference.table, public("orders"));
    assert_eq!(reference.columns, cols(&["id"]));
    let definition = fk.definition.as_deref().unwrap_or("");
    assert!(definition.contains("NOT VALID"), "{definition}");
    let check = snap
        .constraints_on(&name(None, "products"))
        .find(|c| c.kind == ConstraintType::Check)
        .expect("price check");
    assert!(check.validated);
    assert_eq!(
        check.definition.as_deref(),
        Some("CHECK (price_cents >= 0)")
    );
    let unique = snap
        .constraints_on(&name(None, "orders"))
        .find(|c| c.kind == ConstraintType::Unique)
        .unwrap();
    assert_eq!(unique.columns, cols(&["id", "customer_id"]));
    assert_eq!(unique.index.as_deref(), Some("orders_id_customer_id_key"));

    // Foreign-key coverage.
    let coverage = |table: &str, columns: &[&str]| {
        snap.foreign_keys
            .iter()
            .find(|f| f.table.name == table && f.columns == cols(columns))
            .map(|f| f.covered_by_index)
    };
    assert_eq!(coverage("orders", &["customer_id"]), Some(true));
    assert_eq!(
        coverage("order_items", &["order_id"]),
        Some(true),
        "leading PK column"
    );
    assert_eq!(
        coverage("order_items", &["product_id"]),
        Some(false),
        "second PK column"
    );
    assert_eq!(coverage("payments", &["order_id"]), Some(false));
    assert_eq!(
        coverage("shipments", &["order_id", "customer_id"]),
        Some(true),
        "index lists the columns in the other order"
    );
    assert_eq!(coverage("invoices", &["order_id"]), Some(false));
    let orders_fk = snap
        .foreign_keys_on(&name(None, "orders"))
        .next()
        .expect("orders → customers");
    assert_eq!(
        orders_fk.covering_index,
        Some(public("orders_customer_id_idx"))
    );
    assert_eq!(orders_fk.references.on_delete, "no action");
    let referencing: Vec<_> = snap
        .foreign_keys_referencing(&name(None, "orders"))
        .map(|f| f.table.to_string())
        .collect();
    assert_eq!(
        referencing.len(),
        4,
        "order_items, payments, shipments, billing.invoices: {referencing:?}"
    );

    // The same question for a foreign key a migration is about to add.
    assert_eq!(
        snap.fk_covered(&name(None, "orders"), &cols(&["customer_id"])),
        Some(true)
    );
    assert_eq!(
        snap.fk_covered(&name(None, "orders"), &cols(&["status"])),
        Some(false)
    );
    assert_eq!(
        snap.fk_covered(&name(None, "customers"), &cols(&["created_at"])),
        Some(false),
        "the INVALID index does not count"
    );
    assert_eq!(
        snap.fk_covered(&name(None, "no_such_table"), &cols(&["x"])),
        None
    );
}

/// Scans of an index, from a fresh snapshot.
async fn scans(db: &TestDb, index: &str) -> i64 {
    snapshot(db)
        .await
        .index(&name(None, index))
        .and_then(|i| i.scans)
        .unwrap_or(-1)
}

#[tokio::test]
async fn index_scans_are_counted_after_a_query_uses_the_index() {
    let db = TestDb::with_fixture("catalog_scans", "catalog/shop.sql").await;
    let before = scans(&db, "orders_customer_id_idx").await;
    assert!(before >= 0, "pg_stat_user_indexes has the index");

    let mut conn: PgConnection = db.connect().await;
    sqlx::raw_sql("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    for customer in [7_i64, 42, 99] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE customer_id = $1")
            .bind(customer)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 200);
    }
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int4")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if version >= 150000 {
        // Statistics are flushed when the backend goes idle, at most once a second;
        // this makes the next idle moment flush (PostgreSQL 15+).
        sqlx::raw_sql("SELECT pg_stat_force_next_flush()")
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = scans(&db, "orders_customer_id_idx").await;
    while after < before + 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = scans(&db, "orders_customer_id_idx").await;
    }
    assert!(after >= before + 3, "scans went from {before} to {after}");
    drop(conn);
}

#[tokio::test]
async fn read_only_session_refuses_writes_and_sets_timeouts() {
    let db = TestDb::create("catalog_readonly").await;
    db.execute("CREATE TABLE t (id int); CREATE SEQUENCE s;")
        .await;
    let mut conn = connect_read_only(&db.url).await.unwrap();

    let insert = sqlx::raw_sql("INSERT INTO t VALUES (1)")
        .execute(&mut conn)
        .await;
    let message = insert.expect_err("a read-only session").to_string();
    assert!(message.contains("read-only transaction"), "{message}");
    let ddl = sqlx::raw_sql("CREATE TABLE u (id int)")
        .execute(&mut conn)
        .await;
    assert!(ddl
        .unwrap_err()
        .to_string()
        .contains("read-only transaction"));
    let nextval = sqlx::raw_sql("SELECT nextval('s')")
        .execute(&mut conn)
        .await;
    assert!(nextval
        .unwrap_err()
        .to_string()
        .contains("read-only transaction"));

    let show = |setting: &'static str| sqlx::query_scalar::<_, String>(setting);
    assert_eq!(
        show("SHOW lock_timeout")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        "5s"
    );
    assert_eq!(
        show("SHOW statement_timeout")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        "1min"
    );
    assert_eq!(
        show("SHOW application_name")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        "migsafe"
    );

    let limits = SessionLimits {
        lock_timeout: Duration::from_millis(250),
        statement_timeout: Duration::from_millis(1500),
        ..SessionLimits::default()
    };
    let mut conn = connect_read_only_with(&db.url, limits).await.unwrap();
    assert_eq!(
        show("SHOW lock_timeout")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        "250ms"
    );
    let slow = sqlx::raw_sql("SELECT pg_sleep(5)").execute(&mut conn).await;
    assert!(
        slow.unwrap_err().to_string().contains("statement timeout"),
        "statement_timeout applies"
    );

    // Nothing was written.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_table_locked_by_a_migration_does_not_stall_the_snapshot() {
    let db = TestDb::create("catalog_locked").await;
    db.execute(
        "CREATE TABLE busy (id int PRIMARY KEY, pad text DEFAULT 'x');
         CREATE INDEX busy_lower_pad_idx ON busy (lower(pad)) WHERE id > 0;
         CREATE TABLE calm (id int PRIMARY KEY, note text DEFAULT 'calm');
         INSERT INTO busy SELECT g, repeat('x', 100) FROM generate_series(1, 20000) AS g;
         INSERT INTO calm (id) SELECT generate_series(1, 100);",
    )
    .await;
    db.execute("ANALYZE").await;

    // A migration in progress: ACCESS EXCLUSIVE on `busy`, held until it commits.
    let mut migration = db.connect().await;
    let mut tx = sqlx::Connection::begin(&mut migration).await.unwrap();
    sqlx::raw_sql("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();

    let limits = SessionLimits {
        lock_timeout: Duration::from_millis(500),
        ..SessionLimits::default()
    };
    let mut conn = connect_read_only_with(&db.url, limits).await.unwrap();
    // `busy.locked` below proves the snapshot gave up on the lock instead of waiting for it;
    // no wall-clock bound, which a loaded machine would break.
    let snap = CatalogSnapshot::read(&mut conn).await.unwrap();

    let busy = snap.table(&name(None, "busy")).unwrap();
    assert!(busy.locked, "measured it anyway? {busy:?}");
    assert!(
        busy.heap_bytes > 1 << 20,
        "relpages estimate: {}",
        busy.heap_bytes
    );
    assert!((19_000..=21_000).contains(&busy.rows), "{}", busy.rows);
    // What needs no lock is still there; the default's text needs one.
    let pad = busy.column("pad").unwrap();
    assert!(pad.has_default && pad.default.is_none(), "{pad:?}");
    let key = snap.index(&name(None, "busy_lower_pad_idx")).unwrap();
    assert!(key.locked && key.partial && key.predicate.is_none());
    assert_eq!(
        snap.fk_covered(&name(None, "busy"), &cols(&["id"])),
        Some(true)
    );

    let calm = snap.table(&name(None, "calm")).unwrap();
    assert!(!calm.locked);
    assert!(calm.heap_bytes > 0);
    assert_eq!(
        calm.column("note").and_then(|c| c.default.as_deref()),
        Some("'calm'::text")
    );
    assert_eq!(snap.notes.len(), 1, "{:?}", snap.notes);
    assert!(
        snap.notes[0].starts_with("1 table(s) were locked"),
        "{:?}",
        snap.notes
    );

    tx.rollback().await.unwrap();
}

/// Connecting to `url` fails with `failure`; the message names `expected` and never the
/// password.
async fn assert_connect_fails(url: &str, failure: ConnectFailure, expected: &[&str]) {
    let err = connect_read_only(url).await.expect_err(url);
    let text = format!("{err:#}");
    assert!(!text.contains("s3cret-pw"), "password shown: {text}");
    for part in expected {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    let kind = err.downcast_ref::<ConnectError>().map(|e| e.failure);
    assert_eq!(kind, Some(failure), "{text}");
}

#[tokio::test]
async fn connection_errors_name_the_target_and_hide_the_password() {
    let (host, port) = common::server_host_port();
    let user = common::server_user();

    assert_connect_fails(
        "postgres://postgres:s3cret-pw@127.0.0.1:1/shop",
        ConnectFailure::Unreachable,
        &["127.0.0.1:1", "database \"shop\"", "unreachable"],
    )
    .await;

    let unknown_db = format!("postgres://{user}:s3cret-pw@{host}:{port}/migsafe_no_such_db");
    assert_connect_fails(
        &unknown_db,
        ConnectFailure::UnknownDatabase,
        &[
            &format!("{host}:{port}"),
            "migsafe_no_such_db",
            "does not exist",
        ],
    )
    .await;

    // A role that does not exist is refused even by `trust` authentication.
    let bad_user = format!("postgres://migsafe_no_such_role:s3cret-pw@{host}:{port}/postgres");
    assert_connect_fails(
        &bad_user,
        ConnectFailure::AuthenticationFailed,
        &[
            &format!("{host}:{port}"),
            "migsafe_no_such_role",
            "authentication failed",
        ],
    )
    .await;
}

/// A migration file as sqlx and Flyway would hash it.
const MIGRATION_1: &str = "CREATE TABLE accounts (id bigint PRIMARY KEY);\n";
const MIGRATION_2: &str = "ALTER TABLE accounts ADD COLUMN email text;\r\n";

#[tokio::test]
async fn sqlx_history_reads_versions_checksums_and_failures() {
    let db = TestDb::with_fixture("history_sqlx", "catalog/history/sqlx.sql").await;
    let mut admin = db.connect().await;
    for (version, description, file, success) in [
        (20240101000000_i64, "create accounts", MIGRATION_1, true),
        (20240102000000, "add email", MIGRATION_2, false),
    ] {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, $3, $4, 1)",
        )
        .bind(version)
        .bind(description)
        .bind(success)
        .bind(sqlx_checksum(file.as_bytes()))
        .execute(&mut admin)
        .await
        .unwrap();
    }

    let mut conn = connect_read_only(&db.url).await.unwrap();
    let applied = read_applied(&mut conn, Layout::Sqlx, None)
        .await
        .unwrap()
        .unwrap();
    assert!(applied.table_found);
    assert_eq!(applied.table, "public._sqlx_migrations");
    assert_eq!(applied.semantics, Semantics::PerVersion);
    assert_eq!(applied.versions.len(), 2);
    assert_eq!(applied.status("20240101000000"), VersionStatus::Applied);
    assert_eq!(applied.status("20240102000000"), VersionStatus::Failed);
    assert_eq!(applied.status("20240103000000"), VersionStatus::Pending);
    assert_eq!(
        applied.checksum_matches("20240101000000", MIGRATION_1.as_bytes()),
        Some(true)
    );
    assert_eq!(
        applied.checksum_matches(
            "20240101000000",
            b"CREATE TABLE accounts (id int PRIMARY KEY);\n"
        ),
        Some(false),
        "the file was edited after it was applied"
    );
    assert_eq!(applied.checksum_matches("20240103000000", b"x"), None);
}

#[tokio::test]
async fn flyway_history_replays_its_log_and_checks_crc32() {
    let db = TestDb::with_fixture("history_flyway", "catalog/history/flyway.sql").await;
    // As Flyway logs them: a baseline, two migrations, a failed one, a repeatable one.
    db.execute(&format!(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, \
             checksum, installed_by, execution_time, success) VALUES \
         (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'ci', 0, true), \
         (2, '1.1', 'create accounts', 'SQL', 'V1_1__create_accounts.sql', {}, 'ci', 5, true), \
         (3, '1.2', 'add email', 'SQL', 'V1_2__add_email.sql', {}, 'ci', 5, true), \
         (4, '1.3', 'broken', 'SQL', 'V1_3__broken.sql', 7, 'ci', 5, false), \
         (5, NULL, 'refresh views', 'SQL', 'R__refresh_views.sql', 42, 'ci', 5, true)",
        flyway_checksum(MIGRATION_1.as_bytes()),
        flyway_checksum(MIGRATION_2.as_bytes()),
    ))
    .await;

    let mut conn = connect_read_only(&db.url).await.unwrap();
    let applied = read_applied(&mut conn, Layout::Flyway, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(applied.baseline.as_deref(), Some("1"));
    assert_eq!(
        applied.status("0.5"),
        VersionStatus::Applied,
        "below the baseline"
    );
    assert_eq!(applied.status("1.1"), VersionStatus::Applied);
    assert_eq!(applied.status("1.3"), VersionStatus::Failed);
    assert_eq!(applied.status("1.4"), VersionStatus::Pending);
    // Flyway's checksum ignores line endings: the CRLF file matches its LF copy.
    assert_eq!(
        applied.checksum_matches("1.2", MIGRATION_2.replace("\r\n", "\n").as_bytes()),
        Some(true)
    );
    assert_eq!(
        applied.checksum_matches("1.1", b"CREATE TABLE accounts ();"),
        Some(false)
    );
    assert!(applied.repeatable_checksum("refresh views").is_some());
}

#[tokio::test]
async fn golang_migrate_history_is_one_row_and_goose_history_is_a_log() {
    let db = TestDb::create("history_golang_goose").await;
    db.load_fixture("catalog/history/golang_migrate.sql").await;
    db.load_fixture("catalog/history/goose.sql").await;
    db.execute(
        "INSERT INTO schema_migrations (version, dirty) VALUES (3, true);
         INSERT INTO goose_db_version (version_id, is_applied) VALUES
             (20240101, true), (20240102, true), (20240102, false), (20240103, true);",
    )
    .await;
    let mut conn = connect_read_only(&db.url).await.unwrap();

    let golang = read_applied(&mut conn, Layout::GolangMigrate, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(golang.semantics, Semantics::UpTo);
    assert_eq!(golang.status("2"), VersionStatus::Applied);
    assert_eq!(golang.status("3"), VersionStatus::Failed, "dirty");
    assert_eq!(golang.status("4"), VersionStatus::Pending);

    let goose = read_applied(&mut conn, Layout::Goose, None)
        .await
        .unwrap()
        .unwrap();
    let versions: Vec<_> = goose.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(
        versions,
        ["20240101", "20240103"],
        "20240102 was rolled back"
    );
    assert_eq!(goose.status("20240102"), VersionStatus::Pending);
}

#[tokio::test]
async fn a_missing_history_table_means_nothing_is_applied() {
    let db = TestDb::create("history_missing").await;
    db.execute("CREATE SCHEMA ops").await;
    db.load_fixture("catalog/history/sqlx.sql").await;
    let mut conn = connect_read_only(&db.url).await.unwrap();

    let dbmate = read_applied(&mut conn, Layout::Dbmate, None)
        .await
        .unwrap()
        .unwrap();
    assert!(!dbmate.table_found);
    assert_eq!(dbmate.table, "schema_migrations");
    assert!(dbmate.versions.is_empty());
    assert_eq!(dbmate.status("20240101000000"), VersionStatus::Pending);

    // A table configured in another schema is looked for there, not on the search path.
    let elsewhere = name(Some("ops"), "_sqlx_migrations");
    let sqlx = read_applied(&mut conn, Layout::Sqlx, Some(&elsewhere))
        .await
        .unwrap()
        .unwrap();
    assert!(!sqlx.table_found);

    assert!(read_applied(&mut conn, Layout::Plain, None)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_thousand_tables_snapshot_in_a_handful_of_queries() {
    let db = TestDb::with_fixture("catalog_many", "catalog/many_tables.sql").await;
    let mut conn = connect_read_only(&db.url).await.unwrap();
    let started = Instant::now();
    let snap = CatalogSnapshot::read(&mut conn).await.unwrap();
    let elapsed = started.elapsed();
    eprintln!("catalog snapshot of 1,000 tables and 3,000 indexes: {elapsed:?}");

    assert_eq!(snap.tables.len(), 1000);
    assert_eq!(snap.indexes.len(), 3000);
    assert_eq!(snap.foreign_keys.len(), 999);
    assert!(snap.foreign_keys.iter().all(|f| !f.covered_by_index));
    let last = snap.table(&name(None, "bench_1000")).unwrap();
    assert_eq!(last.columns.len(), 5);
    assert_eq!(snap.indexes_on(&name(None, "bench_1000")).count(), 3);
}

#[tokio::test]
async fn test_databases_are_dropped_when_the_test_is_done() {
    let db = TestDb::create("harness_drop").await;
    let db_name = db.name.clone();
    drop(db);
    let mut admin: PgConnection = {
        use sqlx::Connection as _;
        PgConnection::connect(&common::server_url()).await.unwrap()
    };
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&db_name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(left, 0, "{db_name} is still there");
}

#[test]
fn fixtures_split_on_batch_lines_only() {
    let parts =
        common::split_batches("a;\n-- batch\nb;\n-- batching is not a marker\n-- batch\n\n");
    assert_eq!(parts, vec!["a;\n", "b;\n-- batching is not a marker\n"]);
}

#[test]
fn test_database_urls_swap_only_the_database() {
    assert_eq!(
        common::with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(common::with_database("postgres://h", "x"), "postgres://h/x");
}
