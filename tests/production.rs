//! Production snapshots and `check --production` (issue #15) against real PostgreSQL: a
//! "production" help desk database, and a "staging" copy made from it in the test (a 10%
//! sample of its tickets, with the status index dropped), reviewed with production's snapshot.

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::evidence::snapshot::{self, Snapshot, SnapshotOptions, TopQuery};
use migsafe::model::{Finding, Report, Severity};
use migsafe::production::ProductionInput;
use migsafe::review::{check_on_target_with, Target};
use std::path::PathBuf;
use std::process::Command;

const TICKETS: i64 = 20_000;
const SAMPLE: i64 = 10;

/// The help desk with every `sample`th ticket of the same generator (1 = all of them).
async fn helpdesk(prefix: &str, sample: i64) -> TestDb {
    let db = TestDb::with_fixture(prefix, "production/helpdesk.sql").await;
    db.execute(&format!(
        "INSERT INTO tickets (number, customer_id, status, subject, opened_at) \
         SELECT i, i % 3000, \
                CASE WHEN i % 7 = 0 THEN 'escalated' WHEN i % 3 = 0 THEN 'closed' ELSE 'open' END, \
                'printer-on-fire-' || i, timestamptz '2026-01-01' + i * interval '1 minute' \
         FROM generate_series(1, {TICKETS}) AS i WHERE i % {sample} = 0"
    ))
    .await;
    // Under ANALYZE's 30,000-row sample, so the row estimates are exact.
    db.execute("ANALYZE").await;
    db
}

async fn production_and_staging(name: &str) -> (TestDb, TestDb) {
    let production = helpdesk(&format!("{name}_prod"), 1).await;
    let staging = helpdesk(&format!("{name}_stg"), SAMPLE).await;
    staging.execute("DROP INDEX tickets_status_idx").await;
    (production, staging)
}

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/production")
        .join(relative)
}

/// Thresholds under which staging's 2,000 tickets are a small table and production's 20,000
/// a large one.
fn settings() -> Settings {
    Settings::from_toml(
        "[thresholds]\nsmall_table_rows = 5000\nsmall_table_bytes = 104857600\n\
         large_table_rows = 10000\nlarge_table_bytes = 1073741824\n",
        PathBuf::from("."),
    )
    .unwrap()
}

async fn take(db: &TestDb) -> Snapshot {
    snapshot::take(&db.url, &SnapshotOptions::default())
        .await
        .unwrap_or_else(|e| panic!("snapshot of {}: {e:#}", db.name))
}

async fn review(
    staging: &TestDb,
    folder: &str,
    production: Option<&ProductionInput>,
    execute: bool,
) -> Report {
    let target = Target {
        url: staging.url.clone(),
        execute_on: execute.then(|| staging.url.clone()),
        analyze: false,
    };
    check_on_target_with(
        &[fixture(folder)],
        &settings(),
        &mut std::io::empty(),
        &target,
        false,
        production,
    )
    .await
    .unwrap_or_else(|e| panic!("review of {folder}: {e:#}"))
}

fn of<'a>(report: &'a Report, rule: &str) -> Vec<&'a Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

#[tokio::test]
async fn the_snapshot_holds_catalog_facts_and_no_row_values() {
    let production = helpdesk("snap_prod", 1).await;
    let snap = take(&production).await;
    let json = snap.to_json().unwrap();

    assert_eq!(snap.schema_version, 1);
    let tickets = snap.table("tickets").expect("tickets in the snapshot");
    assert_eq!(tickets.rows, TICKETS);
    assert!(tickets.heap_bytes > 0);
    let index = snap
        .index("tickets_status_idx")
        .expect("the status index in the snapshot");
    assert!(
        index.definition.contains("(status)"),
        "{}",
        index.definition
    );
    assert!(snap.settings.contains_key("maintenance_work_mem"));
    assert!(snap.extensions.contains_key("plpgsql"));
    assert!(snap
        .constraints
        .iter()
        .any(|c| c.kind == "foreign_key" && c.references.as_deref() == Some("public.customers")));
    // Sorted, so that two snapshots diff cleanly.
    let names: Vec<&str> = snap.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["public.customers", "public.tickets"]);
    assert_eq!(take(&production).await.tables, snap.tables);

    // No row values: not the subjects, not the e-mails, not the status values in the rows.
    for value in [
        "printer-on-fire",
        "helpdesk-sample.test",
        "escalated",
        "closed",
    ] {
        assert!(!json.contains(value), "{value} leaked into the snapshot");
    }
    assert!(!snap.row_values);

    // Only the explicit opt-in exports statistics, and says that they hold row values.
    let with_stats = snapshot::take(
        &production.url,
        &SnapshotOptions {
            statistics: true,
            ..SnapshotOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(with_stats.row_values);
    assert!(with_stats.to_json().unwrap().contains("escalated"));
}

#[tokio::test]
async fn the_snapshot_command_writes_the_file_and_never_the_password() {
    let production = helpdesk("snap_cli", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("production.json");
    // The test server trusts every connection: the password is never checked, only carried.
    let url = production
        .url
        .replacen("postgres://postgres@", "postgres://postgres:hunter2@", 1);
    let run = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(["snapshot", "--database-url", &url, "--output"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("hunter2") && !stderr.contains("hunter2"));
    let snap = Snapshot::parse(&text).unwrap();
    assert_eq!(snap.table("tickets").map(|t| t.rows), Some(TICKETS));

    // A snapshot needs a copy to compare with.
    let run = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .arg("check")
        .arg(fixture("catalog"))
        .arg("--production")
        .arg(&out)
        .env_remove("MIGSAFE_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--database-url"), "{stderr}");

    // A broken snapshot stops `check` before any work, naming the file and the line.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"schema_version\": 1,\n  \"server\": oops\n}\n",
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .arg("check")
        .arg(fixture("catalog"))
        .args(["--database-url", &production.url, "--production"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("broken.json")
            && stderr.contains("line 3")
            && stderr.contains("migsafe snapshot"),
        "{stderr}"
    );
}

#[tokio::test]
async fn staging_drift_is_reported_and_severity_follows_production_size() {
    let (production, staging) = production_and_staging("drift").await;
    let input = ProductionInput {
        path: "production.json".into(),
        snapshot: take(&production).await,
    };

    // Without the snapshot, staging's 2,000 tickets make the blocking index build info.
    let alone = review(&staging, "catalog", None, false).await;
    let build = of(&alone, "create-index-non-concurrently");
    assert_eq!(build.len(), 1, "{:#?}", alone.findings);
    assert_eq!(build[0].severity, Severity::Info);
    assert!(of(&alone, "copy-differs-from-production").is_empty());

    let report = review(&staging, "catalog", Some(&input), false).await;
    let build = of(&report, "create-index-non-concurrently");
    assert_eq!(build.len(), 1);
    let build = build[0];
    assert_eq!(build.severity, Severity::Error, "{}", build.message);
    assert_eq!(build.facts.rows, Some(TICKETS / SAMPLE));
    assert_eq!(build.facts.production_rows, Some(TICKETS));
    assert!(
        build.message.contains("~2,000 rows") && build.message.contains("~20,000 rows"),
        "{}",
        build.message
    );

    let missing = of(&report, "copy-differs-from-production");
    assert_eq!(missing.len(), 1, "{:#?}", report.findings);
    assert!(missing[0].message.contains("public.tickets_status_idx"));
    assert!(missing[0]
        .message
        .contains("exists in production but not on the copy"));
    assert_eq!(missing[0].severity, Severity::Warning);
    assert_eq!(
        missing[0].line, 6,
        "points at the statement that touches tickets"
    );

    let size = of(&report, "copy-size-differs-from-production");
    assert_eq!(size.len(), 1);
    assert!(
        size[0].message.contains("production is 10×"),
        "{}",
        size[0].message
    );

    // Same server, same settings: nothing to say about them.
    assert!(of(&report, "server-differs-from-production").is_empty());
    let section = report.production.as_ref().expect("a production section");
    assert_eq!(section.tables.len(), 1);
    assert_eq!(section.tables[0].ratio, Some(10.0));

    // A production with a newer major version is called out.
    let mut newer = input.clone();
    newer.snapshot.server.version = "17.2".into();
    newer.snapshot.server.version_num = 170002;
    let report = review(&staging, "catalog", Some(&newer), false).await;
    let server = of(&report, "server-differs-from-production");
    assert_eq!(server.len(), 1);
    assert_eq!(server[0].severity, Severity::Warning);
    assert!(server[0].message.contains("17.2"), "{}", server[0].message);
}

#[tokio::test]
async fn measurements_are_predicted_at_production_size() {
    let (production, staging) = production_and_staging("predict").await;
    let mut snap = take(&production).await;
    // What pg_stat_statements would hold in production: the customer page's query.
    snap.top_queries.push(TopQuery {
        query: "SELECT id, status FROM tickets WHERE customer_id = $1".into(),
        calls: 1_200_000,
        total_exec_ms: 54_000.0,
        mean_exec_ms: 0.045,
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("production.json");
    std::fs::write(&path, snap.to_json().unwrap()).unwrap();
    let input = ProductionInput::read(&path).unwrap();

    let report = review(&staging, "execution", Some(&input), true).await;
    let section = report.production.as_ref().expect("a production section");
    let by_line = |file: &str, line: usize| {
        section
            .predictions
            .iter()
            .find(|p| p.file.ends_with(file) && p.line == line)
            .unwrap_or_else(|| panic!("no prediction for {file}:{line}: {section:#?}"))
    };

    // The backfill touches ten times the rows, as production has ten times the tickets.
    let backfill = by_line("20261202090000_backfill_ticket_priority.sql", 7);
    assert_eq!(backfill.operation, "backfill");
    assert_eq!(backfill.factor, 10.0);
    let touched = backfill.rows.expect("rows touched on the copy");
    assert!(touched > 0);
    assert_eq!(backfill.predicted_rows, Some(touched * 10));
    assert!(backfill.predicted_duration_ms >= backfill.duration_ms);

    // The rewrite scales with the bytes rewritten, and states its model and inputs.
    let rewrite = by_line("20261203090000_widen_ticket_number.sql", 6);
    assert_eq!(rewrite.operation, "rewrite");
    assert!(rewrite.model.contains("bytes"), "{}", rewrite.model);
    assert_eq!(rewrite.copy_rows, Some(TICKETS / SAMPLE));
    assert_eq!(rewrite.production_rows, Some(TICKETS));
    assert!(
        rewrite.factor > 5.0 && rewrite.factor < 20.0,
        "{}",
        rewrite.factor
    );
    assert!(rewrite.predicted_lock_held_ms >= rewrite.lock_held_ms);

    // Adding a nullable column is a catalog change: its time does not scale.
    let add = by_line("20261202090000_backfill_ticket_priority.sql", 5);
    assert_eq!(add.operation, "catalog-only");
    assert_eq!(add.predicted_duration_ms, add.duration_ms);

    // The findings on the rewrite carry the predicted facts next to the measured ones.
    let rewritten = of(&report, "table-rewrite");
    assert_eq!(rewritten.len(), 1, "{:#?}", report.findings);
    let facts = &rewritten[0].facts;
    assert_eq!(facts.production_rows, Some(TICKETS));
    assert_eq!(
        facts.predicted_duration_ms,
        Some(rewrite.predicted_duration_ms)
    );
    assert_eq!(facts.predicted_lock_held_ms, rewrite.predicted_lock_held_ms);
    assert!(rewritten[0]
        .message
        .contains("Predicted at production size"));

    // The JSON report carries them under the documented names.
    let mut json = Vec::new();
    migsafe::report::render(&report, migsafe::report::Format::Json, &mut json).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "table-rewrite")
        .unwrap();
    for key in [
        "production_rows",
        "production_bytes",
        "predicted_duration_ms",
        "predicted_lock_held_ms",
    ] {
        assert!(finding["facts"][key].is_u64(), "{key}: {finding:#}");
    }
    assert_eq!(
        json["production"]["predictions"].as_array().unwrap().len(),
        3
    );

    // The lock expectation is judged on the prediction.
    let expected = &report.migrations[0].expected;
    let lock = expected
        .iter()
        .find(|e| e.text.starts_with("lock"))
        .unwrap();
    assert!(
        lock.detail.starts_with("at production size (predicted)"),
        "{}",
        lock.detail
    );

    // Production's top query loses the index it uses: a regression nobody had to write down.
    let regressions = of(&report, "plan-regression");
    assert_eq!(regressions.len(), 1, "{:#?}", report.findings);
    assert!(
        regressions[0].message.contains("production query 1")
            && regressions[0].message.contains("tickets_customer_id_idx"),
        "{}",
        regressions[0].message
    );
}
