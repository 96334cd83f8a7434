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

// The test harness: one fresh database, dropped on Drop, and a loud failure without a server.
#[path = "../tests/common/mod.rs"]
mod common;

use common::TestDb;
use migsafe::evidence::catalog::CatalogSnapshot;
use migsafe::evidence::connect::connect_read_only;
use std::time::{Duration, Instant};

const RUNS: usize = 11;

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
    println!(
        "catalog-level review per migration: not measured yet (migsafe::review has no \
         catalog-level entry point)"
    );
    drop(conn);
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
