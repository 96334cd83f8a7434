//! The static model checked against a real PostgreSQL (issue #12): every row of the lock
//! model (`migsafe::locks::LOCK_MODEL`) that carries an example is run on a server inside a
//! transaction, and the lock the server really holds on the example's table (`pg_locks`) must
//! be the row's mode, and the mode migsafe derives from parsing the same statement; and the
//! copy's `pg_proc` decides the volatility of a default's function at catalog level. Each
//! test gets its own database (tests/common).

mod common;

use common::TestDb;
use migsafe::locks::{table_locks, LockMode, LOCK_MODEL};
use migsafe::model::{StatementKind, Volatility};
use sqlx::{AssertSqlSafe, Connection as _, Row as _};

const ALL_MODES: [LockMode; 8] = [
    LockMode::AccessShare,
    LockMode::RowShare,
    LockMode::RowExclusive,
    LockMode::ShareUpdateExclusive,
    LockMode::Share,
    LockMode::ShareRowExclusive,
    LockMode::Exclusive,
    LockMode::AccessExclusive,
];

/// The strongest lock this session holds on table `t` after running `example` in a
/// transaction that is then rolled back.
async fn strongest_on_t(db: &TestDb, example: &str) -> Option<LockMode> {
    let mut conn = db.connect().await;
    sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
    // The OID first: after DROP TABLE t the name no longer resolves in this transaction.
    let oid: i64 = sqlx::query("SELECT 't'::regclass::oid::int8")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    sqlx::raw_sql(AssertSqlSafe(example.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("example `{example}` failed: {e}"));
    let modes: Vec<String> = sqlx::query(
        "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND relation = $1::oid \
         AND pid = pg_backend_pid() AND granted",
    )
    .bind(oid)
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
    let _ = conn.close().await;
    ALL_MODES
        .into_iter()
        .filter(|m| modes.iter().any(|s| s == m.pg_name()))
        .max()
}

#[tokio::test]
async fn every_lock_model_row_matches_the_server_and_the_parser() {
    let mut checked = 0;
    for entry in LOCK_MODEL.iter().filter(|e| !e.example.is_empty()) {
        let db = TestDb::create("static_locks").await;
        db.execute(entry.setup).await;
        let held = strongest_on_t(&db, entry.example).await;
        assert_eq!(
            held,
            Some(entry.mode),
            "{:?}: the server holds {held:?} on t for `{}`, the model says {:?} ({})",
            entry.form,
            entry.example,
            entry.mode,
            entry.docs
        );
        // What migsafe derives from the same statement text.
        let parsed = migsafe::parse::parse_sql(entry.example, true);
        let kind: &StatementKind = &parsed.statements[0].kind;
        let derived = table_locks(kind)
            .into_iter()
            .find(|l| l.table.name == "t")
            .map(|l| l.mode);
        assert_eq!(
            derived,
            Some(entry.mode),
            "{:?}: migsafe derives {derived:?} on t from `{}` ({kind:?})",
            entry.form,
            entry.example
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} rows have examples");
}

#[tokio::test]
async fn the_copys_pg_proc_gives_function_volatility() {
    let db = TestDb::create("static_volatility").await;
    db.execute(
        "CREATE FUNCTION make_slug() RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'x' $$; \
         CREATE FUNCTION new_token() RETURNS text LANGUAGE sql AS $$ SELECT md5(random()::text) $$",
    )
    .await;
    let mut conn = migsafe::evidence::connect::connect_read_only(&db.url)
        .await
        .unwrap();
    let snapshot = migsafe::evidence::catalog::CatalogSnapshot::read(&mut conn)
        .await
        .unwrap();
    let find = |name: &str| {
        snapshot
            .functions
            .iter()
            .find(|f| f.name.name == name && f.name.schema.as_deref() == Some("public"))
            .map(|f| f.volatility)
    };
    assert_eq!(find("make_slug"), Some(Volatility::Stable));
    assert_eq!(find("new_token"), Some(Volatility::Volatile));
    // Built-ins are read too: the copy knows gen_random_uuid is volatile and now() stable.
    let builtin = |name: &str| {
        snapshot
            .functions
            .iter()
            .find(|f| f.name.name == name && f.name.schema.as_deref() == Some("pg_catalog"))
            .map(|f| f.volatility)
    };
    assert_eq!(builtin("now"), Some(Volatility::Stable));
    assert_eq!(builtin("random"), Some(Volatility::Volatile));
}
