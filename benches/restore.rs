//! Restore time versus cached-clone time (issue #4, "Done when": the restore benchmark).
//!
//! Run with `cargo bench --bench restore`. It needs PostgreSQL binaries (initdb, postgres,
//! pg_restore, psql, pg_dump; see `evidence::cluster::PgBinaries::find`) but no running
//! server: everything happens in local clusters migsafe starts itself, with a fresh cache
//! directory per dataset.
//!
//! Datasets:
//! - the bundled sample dumps in `../shared/datasets/*/*.pgdump` (pagila, chinook,
//!   northwind, nycflights13) when that folder exists (`MIGSAFE_DATASETS` overrides it);
//!   nothing is copied into the repository;
//! - a generated dataset of `MIGSAFE_BENCH_ROWS` rows (default 5,000,000) in one indexed
//!   table, made in a temporary cluster and dumped with `pg_dump -Fc` to a temporary file.
//!
//! For each: the first `prepare` (initdb + start + restore + ANALYZE + template + clone) and
//! the second (start + clone of the cached template), with their phases.

use migsafe::evidence::cache::{self, RestoreOptions, Silent};
use migsafe::evidence::cluster::{DataDir, LocalCluster, Needs, PgBinaries};
use migsafe::model::Phase;
use sqlx::{Connection as _, PgConnection};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn phases(phases: &[Phase]) -> String {
    phases
        .iter()
        .map(|p| format!("{} {:.2}s", p.name, p.duration_ms as f64 / 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cache directory the postgres user can enter when run as root.
fn cache_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("permissions on the temporary folder");
    dir
}

async fn measure(label: &str, dump: &Path) {
    let cache = cache_dir();
    let options = RestoreOptions {
        cache: true,
        cache_dir: Some(cache.path().to_path_buf()),
        jobs: None,
    };
    let started = Instant::now();
    let first = cache::prepare(dump, None, &options, &Silent)
        .await
        .unwrap_or_else(|e| panic!("Failed to restore {}: {e:#}", dump.display()));
    let cold = started.elapsed();
    let cold_phases = first.phases();
    first.cleanup().await.expect("cleanup");
    let started = Instant::now();
    let second = cache::prepare(dump, None, &options, &Silent)
        .await
        .unwrap_or_else(|e| panic!("Failed to clone {}: {e:#}", dump.display()));
    let warm = started.elapsed();
    assert!(second.cache_hit(), "the second run must hit the cache");
    let warm_phases = second.phases();
    second.cleanup().await.expect("cleanup");
    let size = std::fs::metadata(dump).map(|m| m.len()).unwrap_or(0);
    println!("{label} ({:.1} MB dump)", size as f64 / 1e6);
    println!(
        "  first run (restore): {:>9}   [{}]",
        secs(cold),
        phases(&cold_phases)
    );
    println!(
        "  second run (clone):  {:>9}   [{}]",
        secs(warm),
        phases(&warm_phases)
    );
    println!(
        "  speed-up: {:.1}x",
        cold.as_secs_f64() / warm.as_secs_f64().max(1e-6)
    );
}

/// Makes a `rows`-row table in a temporary cluster and dumps it with `pg_dump -Fc`.
async fn generated_dump(rows: u64, into: &Path) -> PathBuf {
    let bins = PgBinaries::find(Needs::Server).expect("PostgreSQL binaries");
    let cluster = LocalCluster::start(bins.clone(), DataDir::Temporary)
        .await
        .expect("a temporary cluster");
    let started = Instant::now();
    let mut conn = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("a connection");
    let sql = format!(
        "CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL, \
             kind text NOT NULL, amount numeric(12,2), created_at timestamptz NOT NULL); \
         INSERT INTO events SELECT g, 1 + (g::bigint * 7919) % 100000, \
             (ARRAY['view','click','buy','refund'])[1 + g % 4], (g % 10007) / 100.0, \
             timestamptz '2024-01-01' + g * interval '1 second' \
             FROM generate_series(1::bigint, {rows}) g; \
         CREATE INDEX events_account ON events (account_id); \
         CREATE INDEX events_created ON events (created_at);"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("the generated rows");
    let _ = conn.close().await;
    let file = into.join(format!("events_{rows}.pgdump"));
    let mut args = cluster.client_args("postgres");
    args.extend(["-Fc".into(), "-f".into(), file.clone().into_os_string()]);
    let status = std::process::Command::new(bins.tool("pg_dump"))
        .args(args)
        .status()
        .expect("pg_dump runs");
    assert!(status.success(), "pg_dump failed");
    println!(
        "generated {rows} rows and dumped them in {}",
        secs(started.elapsed())
    );
    cluster
        .shutdown()
        .await
        .expect("stop the temporary cluster");
    file
}

fn datasets() -> Vec<PathBuf> {
    let dir = std::env::var_os("MIGSAFE_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    let mut found = Vec::new();
    for name in ["pagila", "chinook", "northwind", "nycflights13"] {
        let file = dir.join(name).join(format!("{name}.pgdump"));
        if file.is_file() {
            found.push(file);
        }
    }
    found
}

fn main() {
    let rows: u64 = std::env::var("MIGSAFE_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5_000_000);
    println!("command: MIGSAFE_BENCH_ROWS={rows} cargo bench --bench restore");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let bundled = datasets();
        if bundled.is_empty() {
            println!("no bundled datasets found (../shared/datasets or MIGSAFE_DATASETS)");
        }
        for dump in bundled {
            let label = dump
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            measure(&label, &dump).await;
        }
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let dump = generated_dump(rows, scratch.path()).await;
        measure(&format!("generated events, {rows} rows"), &dump).await;
    });
}
