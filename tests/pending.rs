//! Pending detection against a real PostgreSQL: a migration folder from `fixtures/pending/`,
//! the framework's history table created as the framework creates it
//! (`fixtures/catalog/history/`) with some versions recorded, read back over the read-only
//! connection by `evidence::history`, and classified by `pending::classify`. Each test gets its
//! own database (tests/common).

mod common;

use common::{fixture_path, TestDb};
use migsafe::evidence::connect::connect_read_only;
use migsafe::evidence::history::{flyway_checksum, read_applied, sqlx_checksum, AppliedMigrations};
use migsafe::load::load;
use migsafe::model::{Layout, Migration};
use migsafe::pending::{classify, DriftKind, Pending, State};

fn load_fixture_folder(layout_dir: &str) -> Vec<Migration> {
    let dir = fixture_path(&format!("pending/{layout_dir}"));
    load(&[dir], None, &mut std::io::empty()).unwrap()
}

/// The file's bytes exactly as on disk (what sqlx hashes).
fn file_bytes(m: &Migration) -> Vec<u8> {
    std::fs::read(&m.path).unwrap_or_else(|e| panic!("Failed to read {}: {e}", m.path))
}

async fn history(db: &TestDb, layout: Layout) -> AppliedMigrations {
    let mut conn = connect_read_only(&db.url).await.unwrap();
    read_applied(&mut conn, layout, None)
        .await
        .unwrap()
        .expect("this layout keeps a history table")
}

/// `(file name, state)` per migration, in the folder's order.
fn states(migrations: &[Migration], pending: &Pending) -> Vec<(String, State)> {
    pending
        .migrations
        .iter()
        .map(|s| {
            let m = &migrations[s.index];
            assert_eq!(s.path, m.path);
            let file = m.path.rsplit('/').next().unwrap_or(&m.path).to_string();
            (file, s.state)
        })
        .collect()
}

fn drift(pending: &Pending) -> Vec<(DriftKind, &str)> {
    pending
        .drift
        .iter()
        .map(|d| (d.kind, d.version.as_deref().unwrap_or("-")))
        .collect()
}

fn s(name: &str, state: State) -> (String, State) {
    (name.to_string(), state)
}

/// What 20240102000000_add_accounts_email.sql said when the copy applied it (before the index
/// was added to the file).
const ADD_EMAIL_AS_APPLIED: &str = "-- owner: @accounts\n\
    -- rollback: ALTER TABLE accounts DROP COLUMN email;\n\
    ALTER TABLE accounts ADD COLUMN email text;\n";

#[tokio::test]
async fn sqlx_applied_stale_missing_and_out_of_order() {
    let migrations = load_fixture_folder("sqlx");
    assert!(migrations.iter().all(|m| m.layout == Layout::Sqlx));
    let db = TestDb::with_fixture("pending_sqlx", "catalog/history/sqlx.sql").await;
    // The copy as sqlx left it: 0101 as in the folder, 0102 before its last edit, and 0105,
    // which another branch added and this one does not have.
    let first = String::from_utf8(file_bytes(&migrations[0])).unwrap();
    db.execute(&first).await;
    db.execute(ADD_EMAIL_AS_APPLIED).await;
    let mut admin = db.connect().await;
    let recorded = [
        (
            20240101000000_i64,
            "create accounts",
            file_bytes(&migrations[0]),
        ),
        (
            20240102000000,
            "add accounts email",
            ADD_EMAIL_AS_APPLIED.as_bytes().to_vec(),
        ),
        (
            20240105000000,
            "add accounts flags",
            b"ALTER TABLE accounts ADD flags int;\n".to_vec(),
        ),
    ];
    for (version, description, file) in recorded {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, true, $3, 1)",
        )
        .bind(version)
        .bind(description)
        .bind(sqlx_checksum(&file))
        .execute(&mut admin)
        .await
        .unwrap();
    }

    let applied = history(&db, Layout::Sqlx).await;
    let pending = classify(&migrations, Some(&applied), Layout::Sqlx);

    assert_eq!(
        states(&migrations, &pending),
        [
            s("20240101000000_create_accounts.sql", State::Applied),
            s("20240102000000_add_accounts_email.sql", State::Applied),
            s("20240104000000_add_accounts_created_at.sql", State::Pending),
            s("20240106000000_create_sessions.sql", State::Pending),
        ]
    );
    assert_eq!(
        pending.migrations[0].reason,
        "applied on the copy (recorded in public._sqlx_migrations)"
    );
    assert!(pending.is_pending(3) && !pending.is_pending(0));
    assert_eq!(
        drift(&pending),
        [
            (DriftKind::ChecksumChanged, "20240102000000"),
            (DriftKind::OutOfOrder, "20240104000000"),
            (DriftKind::MissingFile, "20240105000000"),
        ]
    );
    let stale = &pending.drift[0];
    assert_eq!(stale.path.as_deref(), Some(migrations[1].path.as_str()));
    assert!(
        stale
            .message
            .contains("was changed after it was applied to the copy"),
        "{}",
        stale.message
    );
    let late = &pending.drift[1];
    assert!(
        late.message
            .contains("the later version 20240105000000 is (recorded in public._sqlx_migrations)"),
        "{}",
        late.message
    );
    let missing = &pending.drift[2];
    assert_eq!(missing.path, None);
    assert!(
        missing.message.contains(
            "is applied on the copy (recorded in public._sqlx_migrations) but missing from \
             fixtures/pending/sqlx: the copy is ahead of this branch, or a migration was \
             deleted/renamed"
        ),
        "{}",
        missing.message
    );
    assert!(pending.notes.is_empty(), "{:?}", pending.notes);
}

#[tokio::test]
async fn sqlx_without_a_history_table_reviews_everything() {
    let migrations = load_fixture_folder("sqlx");
    let db = TestDb::create("pending_sqlx_none").await;
    let applied = history(&db, Layout::Sqlx).await;
    let pending = classify(&migrations, Some(&applied), Layout::Sqlx);
    assert!(pending.migrations.iter().all(|m| m.state == State::Pending));
    assert!(pending.drift.is_empty());
    assert_eq!(pending.notes.len(), 1);
    assert!(
        pending.notes[0].starts_with("the copy has no _sqlx_migrations table"),
        "{}",
        pending.notes[0]
    );
}

#[tokio::test]
async fn goose_rolled_back_missing_and_out_of_order() {
    let migrations = load_fixture_folder("goose");
    assert!(migrations.iter().all(|m| m.layout == Layout::Goose));
    let db = TestDb::with_fixture("pending_goose", "catalog/history/goose.sql").await;
    // goose's log: 2 was applied and rolled back; 4 came from another branch.
    db.execute(
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES \
             (1, true), (2, true), (2, false), (3, true), (4, true);",
    )
    .await;

    let applied = history(&db, Layout::Goose).await;
    let pending = classify(&migrations, Some(&applied), Layout::Goose);

    assert_eq!(
        states(&migrations, &pending),
        [
            s("1_create_products.sql", State::Applied),
            s("2_add_products_sku.sql", State::Pending),
            s("3_create_orders.sql", State::Applied),
            s("5_add_orders_product_index.sql", State::Pending),
        ]
    );
    assert_eq!(
        drift(&pending),
        [(DriftKind::OutOfOrder, "2"), (DriftKind::MissingFile, "4")]
    );
    assert!(
        pending.drift[0].message.contains("-allow-missing"),
        "{}",
        pending.drift[0].message
    );
    assert!(pending.drift[1]
        .message
        .starts_with("version 4 is applied on the copy (recorded in public.goose_db_version)"));
}

#[tokio::test]
async fn golang_migrate_current_version_and_dirty_state() {
    let migrations = load_fixture_folder("golang-migrate");
    assert!(migrations.iter().all(|m| m.layout == Layout::GolangMigrate));
    let db = TestDb::with_fixture("pending_golang", "catalog/history/golang_migrate.sql").await;
    db.execute("INSERT INTO schema_migrations (version, dirty) VALUES (2, false)")
        .await;

    let applied = history(&db, Layout::GolangMigrate).await;
    let pending = classify(&migrations, Some(&applied), Layout::GolangMigrate);
    assert_eq!(
        states(&migrations, &pending),
        [
            s("000001_create_transfers.up.sql", State::Applied),
            s("000002_add_transfers_status.up.sql", State::Applied),
            s("000003_add_transfers_status_index.up.sql", State::Pending),
        ]
    );
    assert!(pending.drift.is_empty(), "{:?}", pending.drift);

    // A failed run of 3 leaves the copy dirty at 3: reviewed again, and drift.
    db.execute("UPDATE schema_migrations SET version = 3, dirty = true")
        .await;
    let applied = history(&db, Layout::GolangMigrate).await;
    let pending = classify(&migrations, Some(&applied), Layout::GolangMigrate);
    assert_eq!(pending.pending().count(), 1);
    assert!(pending.is_pending(2));
    assert_eq!(drift(&pending), [(DriftKind::Failed, "3")]);
    assert!(pending.drift[0].message.contains("dirty"));
}

#[tokio::test]
async fn flyway_repeatable_reruns_when_changed() {
    let migrations = load_fixture_folder("flyway");
    let by_name = |file: &str| {
        migrations
            .iter()
            .find(|m| m.path.ends_with(file))
            .unwrap_or_else(|| panic!("{file}"))
    };
    let v1 = by_name("V1__create_employees.sql");
    let db = TestDb::with_fixture("pending_flyway", "catalog/history/flyway.sql").await;
    db.execute(&format!(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, \
             checksum, installed_by, execution_time, success) VALUES \
         (1, '1', 'create employees', 'SQL', 'V1__create_employees.sql', {}, 'ci', 5, true), \
         (2, NULL, 'employee directory', 'SQL', 'R__employee_directory.sql', {}, 'ci', 5, true)",
        flyway_checksum(&file_bytes(v1)),
        flyway_checksum(
            b"CREATE OR REPLACE VIEW employee_directory AS SELECT id, name FROM employees;"
        ),
    ))
    .await;

    let applied = history(&db, Layout::Flyway).await;
    let pending = classify(&migrations, Some(&applied), Layout::Flyway);
    assert_eq!(
        states(&migrations, &pending),
        [
            s("V1__create_employees.sql", State::Applied),
            s("V2__add_employees_department_index.sql", State::Pending),
            s("R__employee_directory.sql", State::Pending),
        ]
    );
    let view = &pending.migrations[2];
    assert!(
        view.reason
            .contains("changed since it last ran on the copy"),
        "{}",
        view.reason
    );
    assert!(pending.drift.is_empty(), "{:?}", pending.drift);
}
