//! Catalog snapshot time on a database with 1,000 tables and 3,000 indexes (issue #3, "Done
//! when": the catalog-level benchmark).
//!
//! Run with `cargo bench --bench catalog`. It needs a PostgreSQL server where the user may
//! CREATE DATABASE: `MIGSAFE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), the same one the tests use. It creates a
//! fresh database there, loads `fixtures/catalog/many_tables.sql` (1,000 tables, 3,000
//! indexes, 999 foreign keys), times `CatalogSnapshot::read` over a `connect_read_only`
//! connection (one warm-up run, then the median of `RUNS`), and drops the database, also when
//! it fails (the test harness's `TestDb` does that on drop).
//!
//! Then it times the whole catalog-level review (`check_on_copy`, what `migsafe check
//! --database-url` runs) of 50 generated migrations against that database, and reports the
//! time per migration.

// The test harness: one fresh database, dropped on Drop, and a loud failure without a server.
#[path = "../tests/common/mod.rs"]
mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::evidence::catalog::CatalogSnapshot;
use migsafe::evidence::connect::connect_read_only;
use migsafe::review::check_on_copy;
use std::time::{Duration, Instant};

const RUNS: usize = 11;
const REVIEW_RUNS: usize = 5;
const MIGRATIONS: usize = 50;

/// One migration's statements against table `bench_{t}`: the everyday mix of index builds,
/// column changes, constraints and backfills a catalog review looks at.
const STATEMENTS: &[&str] = &[
    "SET lock_timeout = '2s'",
    "CREATE INDEX bench_{t}_state_idx ON bench_{t} (state)",
    "ALTER TABLE bench_{t} ADD COLUMN note_{n} text",
    "UPDATE bench_{t} SET state = 1 WHERE created_at < now() - interval '30 days'",
    "ALTER TABLE bench_{t} ADD CONSTRAINT bench_{t}_account_fk_{n} FOREIGN KEY (account_id) REFERENCES bench_1 (id) NOT VALID",
    "DELETE FROM bench_{t} WHERE state = 9",
];

/// A sqlx-style folder of `MIGRATIONS` migrations spread over the fixture's tables.
fn migrations_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for n in 0..MIGRATIONS {
        let t = n * 19 % 1000 + 1;
        let mut sql =
            String::from("-- owner: @bench\n-- expect: rows <= 0\n-- rollback: irreversible\n");
        for s in STATEMENTS {
            sql.push_str(
                &s.replace("{t}", &t.to_string())
                    .replace("{n}", &n.to_string()),
            );
            sql.push_str(";\n");
        }
        let name = format!("2024010100{:04}_bench_{n}.sql", n);
        std::fs::write(dir.path().join(name), sql).expect("a migration file");
    }
    dir
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn bench() {
    let started = Instant::now();
    let db = TestDb::with_fixture("bench_catalog", "catalog/many_tables.sql").await;
    let setup = started.elapsed();

    let mut conn = connect_read_only(&db.url)
        .await
        .unwrap_or_else(|e| panic!("Failed to connect to {}: {e:#}", db.name));
    // Warm-up: the first read also loads the catalog into the server's caches.
    let snap = CatalogSnapshot::read(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("Failed to read the catalog of {}: {e:#}", db.name));
    assert_eq!(snap.tables.len(), 1000, "the fixture makes 1,000 tables");
    assert_eq!(snap.indexes.len(), 3000, "and 3,000 indexes");

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let again = CatalogSnapshot::read(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("Failed to read the catalog of {}: {e:#}", db.name));
        times.push(start.elapsed());
        assert_eq!(again.tables.len(), snap.tables.len());
    }
    times.sort();
    let median = times[RUNS / 2];
    let (min, max) = (times[0], times[RUNS - 1]);

    println!(
        "catalog snapshot: {} tables, {} indexes, {} foreign keys, {} constraints \
         (PostgreSQL {})",
        snap.tables.len(),
        snap.indexes.len(),
        snap.foreign_keys.len(),
        snap.constraints.len(),
        snap.server.version,
    );
    println!(
        "catalog snapshot time: median of {RUNS} runs {} (min {}, max {}); fixture load {}",
        ms(median),
        ms(min),
        ms(max),
        ms(setup),
    );
    drop(conn);

    // The whole catalog-level review as `migsafe check --database-url` runs it: connect,
    // identity, snapshot, history, EXPLAIN of the DML, schema replay and rules.
    let folder = migrations_folder();
    let settings = Settings::default();
    let mut review_times = Vec::with_capacity(REVIEW_RUNS);
    let mut findings = 0;
    for _ in 0..REVIEW_RUNS {
        let start = Instant::now();
        let report = check_on_copy(
            &[folder.path().to_path_buf()],
            &settings,
            &mut std::io::empty(),
            &db.url,
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("Failed to review on {}: {e:#}", db.name));
        review_times.push(start.elapsed());
        assert_eq!(
            report.migrations.len(),
            MIGRATIONS,
            "every migration is pending"
        );
        findings = report.findings.len();
    }
    review_times.sort();
    let review = review_times[REVIEW_RUNS / 2];
    println!(
        "catalog-level review: {MIGRATIONS} migrations ({} statements, {findings} findings) \
         in {} (median of {REVIEW_RUNS}) = {} per migration",
        MIGRATIONS * STATEMENTS.len(),
        ms(review),
        ms(review / MIGRATIONS as u32),
    );
    drop(db);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}
