//! How well `check --production` predicts production from a sample (issue #15 item 3): for
//! each dataset, a "production" database (the full dataset) and a "staging" one (a 10%
//! sample of its largest table, made from a copy of production by deleting 90% of that
//! table's rows and compacting it), then per operation — index build, rewrite, backfill,
//! validation scan — the duration predicted from staging with production's snapshot against
//! the duration measured on a clone of production. The error is predicted / measured.
//!
//! Run with `cargo bench --bench production`. It needs the test server
//! (`MIGSAFE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `pg_restore` and `psql` on PATH, and the bundled datasets (`MIGSAFE_DATASETS`, default
//! `../shared/datasets` next to the repository). `MIGSAFE_BENCH_ORDERS` (default 150,000)
//! sizes the generated shop (4 order items per order); `MIGSAFE_BENCH_RUNS` (default 3) is
//! the number of rounds, of which the median of each figure is reported;
//! `MIGSAFE_BENCH_DATASETS=nycflights13,synthetic` runs only those datasets.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{server_url, with_database};
use migsafe::config::Settings;
use migsafe::evidence::snapshot::{self, SnapshotOptions};
use migsafe::production::ProductionInput;
use migsafe::review::{check_on_target_with, Target};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One dataset: how to load it, which table is sampled, and the operations measured on it.
struct Dataset {
    name: &'static str,
    /// The sampled table, and the rows each table keeps in the sample (parent first): the
    /// sample is rebuilt by TRUNCATE and re-insert, so it is as compact as a restored copy
    /// (DELETE + VACUUM FULL cannot reclaim rows while any other session's snapshot is old).
    table: &'static str,
    sample: &'static [(&'static str, &'static str)],
    /// (operation, the measured statement).
    operations: [(&'static str, &'static str); 4],
}

const DATASETS: &[Dataset] = &[
    Dataset {
        name: "nycflights13",
        table: "flights",
        sample: &[("flights", "id % 10 = 0")],
        operations: [
            (
                "index-build",
                "CREATE INDEX bench_idx ON flights (dest, time_hour)",
            ),
            (
                "rewrite",
                "ALTER TABLE flights ALTER COLUMN flight TYPE bigint",
            ),
            (
                "backfill",
                "UPDATE flights SET dep_delay = coalesce(dep_delay, 0)",
            ),
            (
                "validation-scan",
                "ALTER TABLE flights ADD CONSTRAINT bench_check CHECK (distance >= 0)",
            ),
        ],
    },
    Dataset {
        name: "pagila",
        table: "rental",
        sample: &[
            ("rental", "rental_id % 10 = 0"),
            ("payment", "rental_id % 10 = 0"),
        ],
        operations: [
            (
                "index-build",
                "CREATE INDEX bench_idx ON rental (return_date, staff_id)",
            ),
            (
                "rewrite",
                "ALTER TABLE rental ALTER COLUMN rental_date TYPE timestamp",
            ),
            ("backfill", "UPDATE rental SET last_update = rental_date"),
            (
                "validation-scan",
                "ALTER TABLE rental ADD CONSTRAINT bench_check CHECK (rental_id > 0)",
            ),
        ],
    },
    Dataset {
        name: "chinook",
        table: "invoice_line",
        sample: &[("invoice_line", "invoice_line_id % 10 = 0")],
        operations: [
            (
                "index-build",
                "CREATE INDEX bench_idx ON invoice_line (unit_price, quantity)",
            ),
            (
                "rewrite",
                "ALTER TABLE invoice_line ALTER COLUMN quantity TYPE bigint",
            ),
            (
                "backfill",
                "UPDATE invoice_line SET quantity = quantity + 0",
            ),
            (
                "validation-scan",
                "ALTER TABLE invoice_line ADD CONSTRAINT bench_check CHECK (quantity > 0)",
            ),
        ],
    },
    Dataset {
        name: "synthetic",
        table: "order_items",
        sample: &[("order_items", "id % 10 = 0")],
        operations: [
            (
                "index-build",
                "CREATE INDEX bench_idx ON order_items (product_id)",
            ),
            (
                "rewrite",
                "ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint",
            ),
            (
                "backfill",
                "UPDATE order_items SET unit_price_cents = unit_price_cents + 1",
            ),
            (
                "validation-scan",
                "ALTER TABLE order_items ADD CONSTRAINT bench_check CHECK (unit_price_cents >= 0)",
            ),
        ],
    },
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn datasets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIGSAFE_DATASETS") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/datasets"),
        manifest.join("../../shared/datasets"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
    .unwrap_or_else(|| {
        panic!("the bundled datasets are not next to the repository: set MIGSAFE_DATASETS")
    })
}

async fn admin() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .unwrap_or_else(|e| panic!("no test server at {}: {e}", server_url()))
}

async fn run(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

fn tool(program: &str, args: &[&str], dir: &Path) {
    let (host, port) = common::server_host_port();
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PGHOST", host)
        .env("PGPORT", port.to_string())
        .env("PGUSER", common::server_user())
        .status()
        .unwrap_or_else(|e| panic!("{program} is not on PATH: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// Loads the dataset into a new database `name`.
async fn load(dataset: &Dataset, name: &str, orders: u64) {
    drop_database(name).await;
    create_database(&format!("CREATE DATABASE {name}")).await;
    let dir = datasets_dir().join(dataset.name);
    if dataset.name == "synthetic" {
        let orders = format!("orders={orders}");
        tool(
            "psql",
            &[
                "-q",
                "-d",
                name,
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                &orders,
                "-f",
                "skewed_shop.sql",
            ],
            &dir,
        );
    } else {
        let dump = format!("{}.pgdump", dataset.name);
        tool(
            "pg_restore",
            &["--no-owner", "--exit-on-error", "-d", name, &dump],
            &dir,
        );
    }
    run(&with_database(&server_url(), name), "VACUUM ANALYZE").await;
}

async fn clone_of(template: &str, name: &str) -> String {
    drop_database(name).await;
    create_database(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
    with_database(&server_url(), name)
}

/// Runs one `CREATE DATABASE` on the server's maintenance database (each on its own: it
/// cannot run inside a transaction block).
async fn create_database(sql: &str) {
    let mut conn = admin().await;
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

async fn drop_database(name: &str) {
    let mut conn = admin().await;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    let _ = conn.close().await;
}

/// Runs one operation on a fresh clone of `template` (with `production` for the
/// prediction); returns (measured ms, predicted ms) of its statement.
async fn measure(
    template: &str,
    sql: &str,
    production: Option<&ProductionInput>,
) -> (u64, Option<u64>, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("0001_bench.sql"),
        format!("-- owner: @bench\n-- rollback: irreversible\n{sql};\n"),
    )
    .unwrap();
    let clone = format!("{template}_run");
    let url = clone_of(template, &clone).await;
    let target = Target {
        url: url.clone(),
        execute_on: Some(url),
        analyze: false,
    };
    let settings = Settings {
        transaction: Some(migsafe::model::Transaction::File),
        ..Settings::default()
    };
    let report = check_on_target_with(
        &[dir.path().to_path_buf()],
        &settings,
        &mut std::io::empty(),
        &target,
        true,
        production,
    )
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e:#}"));
    drop_database(&clone).await;
    let entry = report
        .migrations
        .first()
        .and_then(|m| m.timeline.iter().find(|t| t.line == 3))
        .unwrap_or_else(|| panic!("{sql} did not run: {:#?}", report.findings));
    assert!(!entry.failed, "{sql} failed: {:#?}", report.findings);
    let prediction = report
        .production
        .as_ref()
        .and_then(|p| p.predictions.iter().find(|p| p.line == 3));
    (
        entry.duration_ms,
        prediction.map(|p| p.predicted_duration_ms),
        prediction.map(|p| p.model.clone()),
    )
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

async fn bench() {
    let runs = env_number("MIGSAFE_BENCH_RUNS", 3).max(1) as usize;
    let orders = env_number("MIGSAFE_BENCH_ORDERS", 150_000);
    println!("| dataset | table: staging → production rows | operation | model | measured on staging | predicted | measured on production | error (predicted / measured) |");
    println!("|---|---|---|---|---:|---:|---:|---:|");
    // MIGSAFE_BENCH_DATASETS=nycflights13,synthetic limits the run to those datasets.
    let only = std::env::var("MIGSAFE_BENCH_DATASETS").unwrap_or_default();
    for dataset in DATASETS
        .iter()
        .filter(|d| only.is_empty() || only.split(',').any(|n| n.trim() == d.name))
    {
        let full = format!("mbench_{}_full", dataset.name);
        let sample = format!("mbench_{}_sample", dataset.name);
        load(dataset, &full, orders).await;
        let full_url = with_database(&server_url(), &full);
        let sample_url = clone_of(&full, &sample).await;
        let mut sql = String::new();
        for (i, (table, keep)) in dataset.sample.iter().enumerate() {
            sql.push_str(&format!(
                "CREATE TEMP TABLE keep_{i} AS SELECT * FROM {table} WHERE {keep};\n"
            ));
        }
        let tables: Vec<&str> = dataset.sample.iter().map(|(t, _)| *t).collect();
        sql.push_str(&format!("TRUNCATE {};\n", tables.join(", ")));
        for (i, (table, _)) in dataset.sample.iter().enumerate() {
            sql.push_str(&format!(
                "INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM keep_{i};\n"
            ));
        }
        run(&sample_url, &sql).await;
        run(&sample_url, "VACUUM ANALYZE").await;
        let production = ProductionInput {
            path: format!("{full}.json"),
            snapshot: snapshot::take(&full_url, &SnapshotOptions::default())
                .await
                .unwrap(),
        };
        let staging = snapshot::take(&sample_url, &SnapshotOptions::default())
            .await
            .unwrap();
        let rows = |s: &snapshot::Snapshot| s.table(dataset.table).map_or(0, |t| t.rows);
        for (operation, sql) in &dataset.operations {
            let (mut on_sample, mut predicted, mut on_full) = (Vec::new(), Vec::new(), Vec::new());
            let mut model = String::new();
            for round in 0..runs {
                // Alternate which side runs first, so neither always finds a warm cache.
                let (s, f) = if round % 2 == 0 {
                    let s = measure(&sample, sql, Some(&production)).await;
                    (s, measure(&full, sql, None).await)
                } else {
                    let f = measure(&full, sql, None).await;
                    (measure(&sample, sql, Some(&production)).await, f)
                };
                on_sample.push(s.0);
                predicted.push(s.1.unwrap_or(0));
                model = s.2.unwrap_or_default();
                on_full.push(f.0);
            }
            let (s, p, f) = (median(on_sample), median(predicted), median(on_full));
            let error = if f == 0 {
                f64::NAN
            } else {
                p as f64 / f as f64
            };
            println!(
                "| {} | {}: {} → {} | {operation} | {model} | {s} ms | {p} ms | {f} ms | {error:.2} |",
                dataset.name,
                dataset.table,
                rows(&staging),
                rows(&production.snapshot),
            );
        }
        drop_database(&sample).await;
        drop_database(&full).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}
