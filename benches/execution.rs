//! What the execution level costs a user, measured through the release binary: `migsafe check
//! --database-url <copy> --clone` against doing the same by hand (clone the copy with
//! `CREATE DATABASE … TEMPLATE`, apply each migration with `psql -v ON_ERROR_STOP=1
//! --single-transaction -f`, drop the clone). Issue #5's target: migsafe's overhead under 20%.
//!
//! Run with `cargo bench --bench execution`. It needs the test server
//! (`MIGSAFE_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`, or the
//! temporary cluster tests/common starts) and `psql` on PATH. `MIGSAFE_BENCH_ROWS` (default
//! 3,000,000) sizes the copy, `MIGSAFE_BENCH_RUNS` (default 3) the number of rounds; the
//! median of each figure is reported.
//!
//! Two comparisons, since they answer different questions:
//! - execution: migsafe's `execute` phase (from the JSON report's `phases`: statements run
//!   with lock sampling, relfilenode comparison and EXPLAIN before each DML statement) against
//!   psql applying the files on a fresh clone;
//! - end to end: the binary's wall time (clone, catalog snapshot and EXPLAIN on the copy,
//!   execution, drop, report) against clone + psql + drop by hand.
//!
//! A third figure is what watched queries add (issue #11): the execute phase with
//! [`WATCHED`] queries planned after every statement that can change their plans (here all
//! six DDL/DML statements on `orders`) against the same run without them.
//!
//! The migrations carry no `-- rollback:`: with one, migsafe also runs up, rollback and up
//! again (the rollback proof), which is work psql never does. Rounds alternate which side runs
//! first, so neither always finds the other's pages in the cache.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{server_url, with_database, TestDb};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Five everyday migrations on a big table (file name, SQL after the metadata).
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_add_order_priority.sql",
        "ALTER TABLE orders ADD COLUMN priority smallint NOT NULL DEFAULT 0;",
    ),
    (
        "0002_backfill_priority.sql",
        "UPDATE orders SET priority = 1 WHERE id BETWEEN 1 AND 300000;",
    ),
    (
        "0003_index_order_customer.sql",
        "CREATE INDEX orders_customer_id_idx ON orders (customer_id);",
    ),
    (
        "0004_amount_check.sql",
        "ALTER TABLE orders ADD CONSTRAINT orders_amount_nonnegative CHECK (amount >= 0) NOT VALID;\n\
         ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_nonnegative;",
    ),
    (
        "0005_quantity_bigint.sql",
        "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;",
    ),
];

/// Typical application queries on `orders`, watched in the third comparison: lookups, a
/// generic-plan lookup and update (`$1`), aggregates and a top-N.
const WATCHED: &str = "\
SELECT * FROM orders WHERE id = 42;
SELECT * FROM orders WHERE customer_id = 42;
SELECT count(*) FROM orders WHERE status = 'paid';
SELECT * FROM orders WHERE created_at > timestamptz '2023-06-01' ORDER BY created_at LIMIT 50;
SELECT customer_id, sum(amount) FROM orders GROUP BY customer_id ORDER BY 2 DESC LIMIT 10;
SELECT * FROM orders WHERE id = $1;
UPDATE orders SET status = 'shipped' WHERE id = $1;
SELECT * FROM orders ORDER BY created_at DESC LIMIT 20;
SELECT id FROM orders WHERE amount > 400 AND quantity = 3;
SELECT id FROM orders WHERE customer_id = $1 AND status = 'new';
";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn overhead(ours: Duration, theirs: Duration) -> f64 {
    (ours.as_secs_f64() / theirs.as_secs_f64().max(1e-9) - 1.0) * 100.0
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

async fn admin() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .unwrap_or_else(|e| panic!("Failed to connect to {}: {e}", server_url()))
}

async fn admin_sql(sql: String) {
    let mut conn = admin().await;
    sqlx::raw_sql(AssertSqlSafe(sql.clone()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// The by-hand side of one round: clone, apply every file with psql, drop. Returns (clone,
/// apply, drop) times.
async fn by_hand(copy: &str, clone: &str, dir: &Path) -> (Duration, Duration, Duration) {
    let start = Instant::now();
    admin_sql(format!("CREATE DATABASE \"{clone}\" TEMPLATE \"{copy}\"")).await;
    let cloned = start.elapsed();
    let url = with_database(&server_url(), clone);
    let start = Instant::now();
    for (file, _) in MIGRATIONS {
        let status = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
            .args(["-d", &url, "-f"])
            .arg(dir.join(file))
            .status()
            .expect("psql runs (is it on PATH?)");
        assert!(status.success(), "psql failed on {file}");
    }
    let applied = start.elapsed();
    let start = Instant::now();
    admin_sql(format!("DROP DATABASE \"{clone}\" WITH (FORCE)")).await;
    (cloned, applied, start.elapsed())
}

/// What one migsafe run took: wall time and its phases by name.
struct MigsafeRun {
    wall: Duration,
    phases: Vec<(String, Duration)>,
}

impl MigsafeRun {
    fn phase(&self, name: &str) -> Duration {
        self.phases
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| *d)
            .unwrap_or_else(|| panic!("no {name} phase in the report"))
    }
}

fn through_migsafe(copy_url: &str, dir: &Path, config: Option<&Path>) -> MigsafeRun {
    let start = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    command.arg("check");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let out = command
        .arg(dir)
        .args(["--database-url", copy_url, "--clone"])
        .args(["--format", "json", "--fail-on", "never", "--quiet"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .output()
        .expect("migsafe runs");
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "migsafe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(
        report["evidence"], "execution",
        "not an execution-level run"
    );
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        !findings.iter().any(|f| f["rule"] == "fails-on-copy"),
        "a bench migration failed on the clone"
    );
    let executed = report["migrations"]
        .as_array()
        .map(|ms| ms.iter().filter(|m| m["not_executed"].is_null()).count())
        .unwrap_or(0);
    assert_eq!(executed, MIGRATIONS.len(), "not every migration ran");
    let phases = report["phases"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("").to_string(),
                        Duration::from_millis(p["duration_ms"].as_u64().unwrap_or(0)),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    MigsafeRun { wall, phases }
}

async fn bench() {
    let rows = env_number("MIGSAFE_BENCH_ROWS", 3_000_000);
    let runs = env_number("MIGSAFE_BENCH_RUNS", 3).max(1);
    let copy = TestDb::create("bench_execution").await;
    let loading = Instant::now();
    copy.execute(&format!(
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,
                              status text NOT NULL, quantity int NOT NULL,
                              amount numeric(10, 2) NOT NULL, created_at timestamptz NOT NULL);
         INSERT INTO orders
           SELECT g, 1 + g % 100000, (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + g % 4],
                  1 + g % 9, (g % 50000) / 100.0,
                  timestamptz '2023-01-01 00:00Z' + g * interval '10 seconds'
           FROM generate_series(1, {rows}) g;
         ANALYZE orders;"
    ))
    .await;
    let load_time = loading.elapsed();
    let size: (String,) = {
        let mut conn = copy.connect().await;
        let size = sqlx::query_as("SELECT pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&mut conn)
            .await
            .expect("the copy's size");
        let _ = conn.close().await;
        size
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, sql) in MIGRATIONS {
        std::fs::write(
            dir.path().join(name),
            format!("-- owner: @bench\n-- expect: succeeds\nSET lock_timeout = '5s';\n{sql}\n"),
        )
        .expect("a migration file");
    }

    println!(
        "copy: {rows} rows in orders, {} (generated in {})",
        size.0,
        ms(load_time)
    );
    let (mut clone_t, mut apply_t, mut drop_t, mut hand_t) = (vec![], vec![], vec![], vec![]);
    let (mut wall_t, mut exec_t, mut mclone_t) = (vec![], vec![], vec![]);
    for round in 0..runs {
        let name = format!("{}_psql_{round}", copy.name);
        let hand = || by_hand(&copy.name, &name, dir.path());
        let (by_psql, ours) = if round % 2 == 0 {
            let h = hand().await;
            (h, through_migsafe(&copy.url, dir.path(), None))
        } else {
            let m = through_migsafe(&copy.url, dir.path(), None);
            (hand().await, m)
        };
        let (c, a, d) = by_psql;
        println!(
            "round {}: psql: clone {} + apply {} + drop {} | migsafe: wall {} [{}]",
            round + 1,
            ms(c),
            ms(a),
            ms(d),
            ms(ours.wall),
            ours.phases
                .iter()
                .map(|(n, t)| format!("{n} {}", ms(*t)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        clone_t.push(c);
        apply_t.push(a);
        drop_t.push(d);
        hand_t.push(c + a + d);
        exec_t.push(ours.phase("execute"));
        mclone_t.push(ours.phase("clone"));
        wall_t.push(ours.wall);
    }
    let watch_dir = tempfile::tempdir().expect("a temporary folder");
    let queries = watch_dir.path().join("queries.sql");
    std::fs::write(&queries, WATCHED).expect("the watched queries");
    let config = watch_dir.path().join("migsafe.toml");
    std::fs::write(
        &config,
        format!("[execution]\nwatch = {:?}\n", queries.display().to_string()),
    )
    .expect("a config");
    let mut watched_t = vec![];
    for round in 0..runs {
        let run = through_migsafe(&copy.url, dir.path(), Some(&config));
        println!(
            "round {} with {} watched queries: execute {}",
            round + 1,
            WATCHED.lines().count(),
            ms(run.phase("execute"))
        );
        watched_t.push(run.phase("execute"));
    }
    let (apply, exec) = (median(apply_t), median(exec_t));
    let watched = median(watched_t);
    let per_plan = planning_cost(&copy).await;
    println!(
        "watched queries: execute phase with {} queries planned after each of the 6 statements \
         that can change them ({} plans) {} vs without {} = {:+.1}%",
        WATCHED.lines().count(),
        6 * WATCHED.lines().count(),
        ms(watched),
        ms(exec),
        overhead(watched, exec)
    );
    println!(
        "planning alone: {:.2} ms per watched query between two statements of an open \
         transaction (savepoint, RESET ALL, EXPLAIN, rollback to savepoint; median of 20 rounds \
         of {})",
        per_plan.as_secs_f64() * 1000.0,
        WATCHED.lines().count()
    );
    let (hand, wall) = (median(hand_t), median(wall_t));
    let verdict = |pct: f64| if pct < 20.0 { "met" } else { "NOT met" };
    println!(
        "execution: {} migrations on {rows} rows, median of {runs}: psql --single-transaction {} \
         vs migsafe execute phase {} = {:+.1}% (target under 20%: {})",
        MIGRATIONS.len(),
        ms(apply),
        ms(exec),
        overhead(exec, apply),
        verdict(overhead(exec, apply))
    );
    println!(
        "end to end: clone + psql + drop {} (clone {}, drop {}) vs migsafe check --clone {} \
         (its clone {}) = {:+.1}% (target under 20%: {})",
        ms(hand),
        ms(median(clone_t)),
        ms(median(drop_t)),
        ms(wall),
        ms(median(mclone_t)),
        overhead(wall, hand),
        verdict(overhead(wall, hand))
    );
    println!(
        "command: migsafe check <5 migrations> --database-url <copy> --clone --format json \
         --fail-on never --quiet (release build: cargo bench --bench execution)"
    );
}

/// What planning the watched queries costs between two statements of a migration, without
/// the noise of the migrations around it: the median round of planning all of [`WATCHED`]
/// in a savepoint inside an open transaction, per query.
async fn planning_cost(copy: &TestDb) -> Duration {
    let queries = migsafe::execute::watch::parse_sql_file(WATCHED, "bench");
    let mut conn = copy.connect().await;
    let version: i64 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int8")
        .fetch_one(&mut conn)
        .await
        .expect("the server version");
    sqlx::raw_sql("BEGIN")
        .execute(&mut conn)
        .await
        .expect("a transaction");
    let mut rounds = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let plans = migsafe::execute::replan::plans_in_session(
            &mut conn,
            &queries,
            true,
            (Duration::from_secs(60), Duration::from_secs(5)),
            version,
        )
        .await
        .expect("the watched queries plan");
        rounds.push(start.elapsed());
        assert!(plans.iter().all(|(_, p)| p.is_ok()), "{plans:?}");
    }
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
    let _ = conn.close().await;
    median(rounds) / queries.len().max(1) as u32
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}
