//! Execution-level overhead (issue #5, "Done when": migsafe's execution-level review time
//! against applying the same migrations with psql on the same clone; target under 20%).
//!
//! Run with `cargo bench --bench execution_overhead`. It needs the test server
//! (`MIGSAFE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! `psql` on PATH. It builds a copy with `MIGSAFE_BENCH_ROWS` rows (default 3,000,000), writes
//! five everyday migrations (add a column with a default, backfill a range, build an index,
//! add and validate a CHECK, rewrite a column's type), then, `RUNS` times each, on a fresh
//! `CREATE DATABASE … TEMPLATE` clone of the copy:
//! - applies them with `psql -v ON_ERROR_STOP=1 --single-transaction -f` (what a framework
//!   does: one transaction per file);
//! - runs them through migsafe's execution level (`execute::run_pending` via
//!   `review::check_on_target`, measuring the `execute` phase: locks sampled after every
//!   statement, relfilenodes compared, DML explained first).
//!
//! The migrations carry no `-- rollback:` so that both sides do the same work (the rollback
//! round trip runs each migration twice plus its rollback, by design).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{server_url, with_database, TestDb};
use migsafe::config::Settings;
use migsafe::review::{check_on_target, Target};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_add_flag.sql",
        "ALTER TABLE items ADD COLUMN flag boolean NOT NULL DEFAULT false;",
    ),
    (
        "0002_backfill.sql",
        "UPDATE items SET flag = true WHERE id <= 300000;",
    ),
    (
        "0003_kind_index.sql",
        "CREATE INDEX items_kind_idx ON items (kind);",
    ),
    (
        "0004_qty_check.sql",
        "ALTER TABLE items ADD CONSTRAINT items_qty_positive CHECK (qty >= 0) NOT VALID;\n\
         ALTER TABLE items VALIDATE CONSTRAINT items_qty_positive;",
    ),
    (
        "0005_qty_bigint.sql",
        "ALTER TABLE items ALTER COLUMN qty TYPE bigint;",
    ),
];

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn admin() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .unwrap_or_else(|e| panic!("Failed to connect to {}: {e}", server_url()))
}

async fn clone_of(source: &str, name: &str) -> String {
    let mut conn = admin().await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE DATABASE \"{name}\" TEMPLATE \"{source}\""
    )))
    .execute(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("Failed to clone {source}: {e}"));
    let _ = conn.close().await;
    with_database(&server_url(), name)
}

async fn drop_db(name: &str) {
    let mut conn = admin().await;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    let _ = conn.close().await;
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn bench() {
    let rows: i64 = std::env::var("MIGSAFE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000_000);
    let copy = TestDb::create("bench_exec").await;
    copy.execute(&format!(
        "CREATE TABLE items (id bigint PRIMARY KEY, kind int NOT NULL, qty int NOT NULL, \
                             note text);
         INSERT INTO items SELECT g, g % 100, g % 1000, 'item ' || g
           FROM generate_series(1, {rows}) g;
         ANALYZE items;"
    ))
    .await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, sql) in MIGRATIONS {
        std::fs::write(
            dir.path().join(name),
            format!("-- owner: @bench\n-- expect: succeeds\n{sql}\n"),
        )
        .expect("a migration file");
    }

    let mut psql_times = Vec::new();
    let mut migsafe_times = Vec::new();
    for run in 0..RUNS {
        let name = format!("{}_psql_{run}", copy.name);
        let url = clone_of(&copy.name, &name).await;
        let start = Instant::now();
        for (file, _) in MIGRATIONS {
            let status = Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d"])
                .arg(&url)
                .arg("-f")
                .arg(dir.path().join(file))
                .status()
                .expect("psql runs");
            assert!(status.success(), "psql failed on {file}");
        }
        psql_times.push(start.elapsed());
        drop_db(&name).await;

        let name = format!("{}_migsafe_{run}", copy.name);
        let url = clone_of(&copy.name, &name).await;
        let target = Target {
            url: copy.url.clone(),
            execute_on: Some(url),
            analyze: false,
        };
        let report = check_on_target(
            &[dir.path().to_path_buf()],
            &Settings::default(),
            &mut std::io::empty(),
            &target,
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("Failed to review: {e:#}"));
        let execute = report
            .phases
            .iter()
            .find(|p| p.name == "execute")
            .expect("an execute phase");
        assert!(
            !report.findings.iter().any(|f| f.rule == "fails-on-copy"),
            "a bench migration failed"
        );
        migsafe_times.push(Duration::from_millis(execute.duration_ms));
        drop_db(&name).await;
    }
    let psql = median(psql_times);
    let migsafe = median(migsafe_times);
    let overhead = (migsafe.as_secs_f64() / psql.as_secs_f64() - 1.0) * 100.0;
    println!(
        "execution overhead: {} migrations on {rows} rows, median of {RUNS}: psql {} vs migsafe \
         execution {} = {overhead:+.1}% (target under 20%)",
        MIGRATIONS.len(),
        ms(psql),
        ms(migsafe)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}
