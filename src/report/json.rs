//! The JSON report (PRODUCT.md §7, `"schema_version": 1`): the interface CI scripts build on.
//!
//! The shape is spelled out here field by field instead of serialising the model types
//! directly, so that a change to `model.rs` can never silently rename or drop a key. Fields
//! are only ever added. Every key of the contract is always present (`null` when unknown:
//! `owner`, `version`, `table`) so that `jq '.findings[].owner'` works on every report;
//! inside `facts` only what was measured or estimated appears, because facts grow with the
//! evidence level.
//!
//! Catalog-level additions: `copy` (the copy the numbers rest on; `null` at static level),
//! `skipped_migrations` (every migration not reviewed, with why; `[]` when none), and
//! `file`/`line` on a skipped rule only when it was skipped for one statement, so entries
//! skipped for the whole run keep exactly the contract's `{rule, reason}` shape.
//!
//! Execution-level additions (issue #5): per migration `timeline` (each statement as it ran
//! on the copy: `line`, `statement`, `duration_ms`, its strongest `lock` with `table` and
//! `held_ms`, `rows`, `failed`; `[]` below execution level) and `not_executed` (why it was not
//! run, `null` when it ran or nothing ran), and top-level `locked` (per table: strongest lock
//! that blocks reads or writes, what it `blocks`, total `held_ms`; `[]` below execution level).
//! These are measurements: an execution-level report differs from the next run in them.
//!
//! Report additions (issue #14): per migration `verdict` (`kind`: `not_executed`, `fails`,
//! `rewrites`, `blocks`, `risky` or `safe`; `severity`, the worst of its findings or `null`;
//! `text`, the one line every format leads with). Paths (`path`, `file`) are relative to the
//! repository root when the run knows it, like SARIF's, so two CI runners write the same
//! bytes.
//!
//! `phases` (how long restoring, cloning, snapshotting… took) are measurements and are
//! written as measured, so a run that got a copy differs from the next in those numbers
//! only; everything else is a function of the input. A static run has `[]`.

use crate::model::{
    CopyIdentity, ExpectStatus, Facts, Finding, MigrationSummary, OwnerSource, Report,
    RollbackSource, RollbackStatus, SkippedMigration, SkippedRule, Summary,
};
use anyhow::{Context as _, Result};
use serde::Serialize;
use std::io::Write;

// Enum values are spelled here too (not taken from the model's serde attributes): they are
// part of the contract just like the keys.
fn owner_source(s: OwnerSource) -> &'static str {
    match s {
        OwnerSource::Annotation => "annotation",
        OwnerSource::Codeowners => "codeowners",
        OwnerSource::Config => "config",
        OwnerSource::None => "none",
    }
}

fn expect_status(s: ExpectStatus) -> &'static str {
    match s {
        ExpectStatus::Met => "met",
        ExpectStatus::NotMet => "not_met",
        ExpectStatus::NotChecked => "not_checked",
    }
}

fn rollback_source(s: RollbackSource) -> &'static str {
    match s {
        RollbackSource::Annotation => "annotation",
        RollbackSource::DownFile => "down_file",
        RollbackSource::None => "none",
    }
}

fn rollback_status(s: RollbackStatus) -> &'static str {
    match s {
        RollbackStatus::Restores => "restores",
        RollbackStatus::Differs => "differs",
        RollbackStatus::NotChecked => "not_checked",
    }
}

/// Bumped only for a change that breaks readers; adding fields does not.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes `report` as pretty-printed JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> Result<()> {
    let doc = JsonReport::from(report);
    serde_json::to_writer_pretty(&mut *out, &doc).context("Failed to write the JSON report")?;
    writeln!(out)?;
    Ok(())
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    evidence: &'static str,
    copy: Option<JsonCopy<'a>>,
    migrations: Vec<JsonMigration<'a>>,
    findings: Vec<JsonFinding<'a>>,
    skipped_rules: Vec<JsonSkipped<'a>>,
    skipped_migrations: Vec<JsonSkippedMigration<'a>>,
    phases: Vec<JsonPhase<'a>>,
    /// Execution level: per table, how long the run on the copy blocked it.
    locked: Vec<JsonLocked<'a>>,
    summary: JsonSummary,
    /// `--production`: how the copy differs from production's snapshot, the touched tables'
    /// sizes on both, and each measurement predicted at production size (with its model).
    #[serde(skip_serializing_if = "Option::is_none")]
    production: Option<&'a crate::model::ProductionReview>,
}

#[derive(Serialize)]
struct JsonPhase<'a> {
    name: &'a str,
    duration_ms: u64,
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonCopy<'a> {
    server_version: &'a str,
    database: &'a str,
    database_bytes: i64,
    /// UTC, ISO 8601; `null` when no table of the copy was ever analyzed.
    last_analyzed: Option<&'a str>,
    in_recovery: bool,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonSkippedMigration<'a> {
    path: &'a str,
    version: Option<&'a str>,
    reason: &'a str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonMigration<'a> {
    path: &'a str,
    version: Option<&'a str>,
    name: &'a str,
    layout: &'static str,
    in_transaction: bool,
    /// How the runner sends the migration: `file`, `implicit`, `statement` or `unknown`.
    transaction: &'static str,
    /// Why migsafe believes that (the framework's rule, a marker, migsafe.toml).
    transaction_source: &'a str,
    statements: usize,
    owner: Option<&'a str>,
    owner_source: &'static str,
    expected: Vec<JsonExpected<'a>>,
    rollback: JsonRollback<'a>,
    /// Execution level: each statement as it ran on the copy (empty below that level).
    timeline: Vec<JsonTimelineEntry<'a>>,
    /// Why the migration was not run on the copy (an earlier one failed); null otherwise.
    not_executed: Option<&'a str>,
    /// What it will do in production, in one line (issue #14).
    verdict: JsonVerdict,
}

#[derive(Serialize)]
struct JsonVerdict {
    /// `not_executed`, `fails`, `rewrites`, `blocks`, `risky` or `safe`.
    kind: &'static str,
    /// Worst severity among the migration's findings; null when it has none.
    severity: Option<&'static str>,
    text: String,
}

#[derive(Serialize)]
struct JsonTimelineEntry<'a> {
    line: usize,
    statement: &'a str,
    duration_ms: u64,
    lock: Option<&'a str>,
    table: Option<&'a str>,
    held_ms: Option<u64>,
    rows: Option<u64>,
    failed: bool,
}

#[derive(Serialize)]
struct JsonLocked<'a> {
    table: &'a str,
    lock: &'a str,
    blocks: &'a str,
    held_ms: u64,
}

#[derive(Serialize)]
struct JsonExpected<'a> {
    text: &'a str,
    status: &'static str,
    detail: &'a str,
}

#[derive(Serialize)]
struct JsonRollback<'a> {
    text: &'a str,
    source: &'static str,
    status: &'static str,
    detail: &'a str,
    irreversible: bool,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    code: &'a str,
    severity: &'static str,
    evidence: &'static str,
    file: &'a str,
    line: usize,
    column: usize,
    statement: &'a str,
    message: &'a str,
    why: &'a str,
    instead: &'a str,
    owner: Option<&'a str>,
    table: Option<&'a str>,
    facts: JsonFacts<'a>,
    /// `up`, or `down` for a finding in the migration's rollback.
    direction: &'static str,
}

#[derive(Serialize)]
struct JsonFacts<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock_held_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_scans: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a str>,
    /// `--production`: the table's size in production (`rows`/`bytes` are the copy's).
    #[serde(skip_serializing_if = "Option::is_none")]
    production_rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    production_bytes: Option<i64>,
    /// `--production` at execution level: the measurement scaled to production's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted_duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted_lock_held_ms: Option<u64>,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    rule: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

#[derive(Serialize)]
struct JsonSummary {
    error: usize,
    warning: usize,
    info: usize,
}

impl<'a> From<&'a Report> for JsonReport<'a> {
    fn from(r: &'a Report) -> Self {
        JsonReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "migsafe",
                version: env!("CARGO_PKG_VERSION"),
            },
            evidence: r.evidence.as_str(),
            copy: r.copy.as_ref().map(JsonCopy::from),
            migrations: r
                .migrations
                .iter()
                .zip(super::verdict::verdicts(r))
                .map(|(m, v)| json_migration(m, v))
                .collect(),
            findings: r.findings.iter().map(JsonFinding::from).collect(),
            skipped_rules: r.skipped_rules.iter().map(JsonSkipped::from).collect(),
            skipped_migrations: r
                .skipped_migrations
                .iter()
                .map(JsonSkippedMigration::from)
                .collect(),
            phases: r
                .phases
                .iter()
                .map(|p| JsonPhase {
                    name: &p.name,
                    duration_ms: p.duration_ms,
                    detail: p.detail.as_deref(),
                })
                .collect(),
            locked: r
                .locked
                .iter()
                .map(|l| JsonLocked {
                    table: &l.table,
                    lock: &l.lock,
                    blocks: &l.blocks,
                    held_ms: l.held_ms,
                })
                .collect(),
            summary: JsonSummary::from(&r.summary),
            production: r.production.as_ref(),
        }
    }
}

fn json_migration(m: &MigrationSummary, v: super::verdict::Verdict) -> JsonMigration<'_> {
    JsonMigration {
        path: &m.path,
        version: m.version.as_deref(),
        name: &m.name,
        layout: m.layout.as_str(),
        in_transaction: m.in_transaction,
        transaction: m.transaction.as_str(),
        transaction_source: &m.transaction_source,
        statements: m.statements,
        owner: m.owner.as_deref(),
        owner_source: owner_source(m.owner_source),
        expected: m
            .expected
            .iter()
            .map(|e| JsonExpected {
                text: &e.text,
                status: expect_status(e.status),
                detail: &e.detail,
            })
            .collect(),
        rollback: JsonRollback {
            text: &m.rollback.text,
            source: rollback_source(m.rollback.source),
            status: rollback_status(m.rollback.status),
            detail: &m.rollback.detail,
            irreversible: m.rollback.irreversible,
        },
        timeline: m
            .timeline
            .iter()
            .map(|t| JsonTimelineEntry {
                line: t.line,
                statement: &t.statement,
                duration_ms: t.duration_ms,
                lock: t.lock.as_deref(),
                table: t.table.as_deref(),
                held_ms: t.held_ms,
                rows: t.rows,
                failed: t.failed,
            })
            .collect(),
        not_executed: m.not_executed.as_deref(),
        verdict: JsonVerdict {
            kind: v.kind.as_str(),
            severity: v.severity.map(|s| s.as_str()),
            text: v.text,
        },
    }
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            rule: f.rule,
            code: f.code,
            severity: f.severity.as_str(),
            evidence: f.evidence.as_str(),
            file: &f.file,
            line: f.line,
            column: f.column,
            statement: &f.statement,
            message: &f.message,
            why: f.why,
            instead: &f.instead,
            owner: f.owner.as_deref(),
            table: f.table.as_deref(),
            facts: JsonFacts::from(&f.facts),
            direction: f.direction.as_str(),
        }
    }
}

impl<'a> From<&'a Facts> for JsonFacts<'a> {
    fn from(f: &'a Facts) -> Self {
        JsonFacts {
            rows: f.rows,
            bytes: f.bytes,
            lock: f.lock.as_deref(),
            blocks: f.blocks.as_deref(),
            lock_held_ms: f.lock_held_ms,
            duration_ms: f.duration_ms,
            production_rows: f.production_rows,
            production_bytes: f.production_bytes,
            predicted_duration_ms: f.predicted_duration_ms,
            predicted_lock_held_ms: f.predicted_lock_held_ms,
            index_scans: f.index_scans,
            plan: f.plan.as_deref(),
        }
    }
}

impl<'a> From<&'a SkippedRule> for JsonSkipped<'a> {
    fn from(s: &'a SkippedRule) -> Self {
        JsonSkipped {
            rule: s.rule,
            reason: &s.reason,
            file: s.file.as_deref(),
            line: s.line,
        }
    }
}

impl<'a> From<&'a CopyIdentity> for JsonCopy<'a> {
    fn from(c: &'a CopyIdentity) -> Self {
        JsonCopy {
            server_version: &c.server_version,
            database: &c.database,
            database_bytes: c.database_bytes,
            last_analyzed: c.last_analyzed.as_deref(),
            in_recovery: c.in_recovery,
            notes: &c.notes,
        }
    }
}

impl<'a> From<&'a SkippedMigration> for JsonSkippedMigration<'a> {
    fn from(m: &'a SkippedMigration) -> Self {
        JsonSkippedMigration {
            path: &m.path,
            version: m.version.as_deref(),
            reason: &m.reason,
        }
    }
}

impl From<&Summary> for JsonSummary {
    fn from(s: &Summary) -> Self {
        JsonSummary {
            error: s.error,
            warning: s.warning,
            info: s.info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::report::fixtures;
    use serde_json::Value;

    fn json(report: &crate::model::Report) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sample_report() {
        insta::assert_snapshot!("json_sample", json(&fixtures::sample()));
    }

    #[test]
    fn clean_report() {
        insta::assert_snapshot!("json_clean", json(&fixtures::clean()));
    }

    #[test]
    fn catalog_report() {
        // 200 skipped migrations would drown the snapshot; the count is asserted below.
        let mut report = fixtures::catalog();
        report.skipped_migrations.truncate(2);
        insta::assert_snapshot!("json_catalog", json(&report));
    }

    #[test]
    fn catalog_run_names_its_copy_and_lists_every_skip() {
        let v: Value = serde_json::from_str(&json(&fixtures::catalog())).unwrap();
        assert_eq!(
            v["copy"],
            serde_json::json!({
                "server_version": "15.19 (Debian 15.19-0+deb12u1)",
                "database": "shop",
                "database_bytes": 1_288_490_189_i64,
                "last_analyzed": "2026-11-20T10:00:00Z",
                "in_recovery": false,
                "notes": ["statistics of a restored copy start at the restore: idx_scan counts may be low"],
            })
        );
        let skipped = v["skipped_migrations"].as_array().unwrap();
        assert_eq!(skipped.len(), 200, "JSON lists every skipped migration");
        assert_eq!(
            skipped[0],
            serde_json::json!({
                "path": "migrations/0001_change_1.sql",
                "version": "0001",
                "reason": "already applied on the copy (schema_migrations)",
            })
        );
        let rules = v["skipped_rules"].as_array().unwrap();
        // Skipped for the whole run: exactly the contract's two keys.
        assert_eq!(keys(&rules[0]), sorted(vec!["rule", "reason"]));
        // Skipped for one statement: also where.
        let one = rules.iter().find(|r| r.get("file").is_some()).unwrap();
        assert_eq!(one["rule"], "seq-scan-on-large-table");
        assert_eq!(one["file"], "migrations/0202_backfill_order_status.sql");
        assert_eq!(one["line"], 7);
        let plan = v["findings"][2]["facts"]["plan"].as_str().unwrap();
        assert_eq!(plan.lines().count(), 3, "the plan keeps its lines");
        assert_eq!(v["findings"][1]["facts"]["index_scans"], 2_000_000);
    }

    #[test]
    fn static_run_has_null_copy_and_no_skipped_migrations() {
        let v: Value = serde_json::from_str(&json(&fixtures::clean())).unwrap();
        assert_eq!(v["evidence"], "static");
        assert!(
            v.get("copy").is_some_and(Value::is_null),
            "copy is null, not absent"
        );
        assert_eq!(v["skipped_migrations"], serde_json::json!([]));
        assert_eq!(v["skipped_rules"].as_array().map(Vec::len), Some(8));
    }

    /// Keys of an object, sorted (serde_json's map does not keep order; the order on the
    /// wire is pinned by the snapshots).
    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn sorted(mut k: Vec<&str>) -> Vec<&str> {
        k.sort_unstable();
        k
    }

    #[test]
    fn parses_back_with_every_contract_key() {
        let text = json(&fixtures::sample());
        assert!(text.ends_with("}\n"), "pretty JSON ends with one newline");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["tool"]["name"], "migsafe");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["evidence"], "catalog");
        for key in [
            "schema_version",
            "tool",
            "evidence",
            "migrations",
            "findings",
            "skipped_rules",
            "skipped_migrations",
            "copy",
            "summary",
        ] {
            assert!(v.get(key).is_some(), "top-level key {key} missing");
        }
        for m in v["migrations"].as_array().unwrap() {
            for key in [
                "path",
                "version",
                "name",
                "layout",
                "in_transaction",
                "transaction",
                "transaction_source",
                "statements",
                "owner",
                "owner_source",
                "expected",
                "rollback",
            ] {
                assert!(keys(m).contains(&key), "migration key {key} missing");
            }
            for e in m["expected"].as_array().unwrap() {
                assert_eq!(keys(e), sorted(vec!["text", "status", "detail"]));
            }
            assert_eq!(
                keys(&m["rollback"]),
                sorted(vec!["text", "source", "status", "detail", "irreversible"])
            );
        }
        for f in v["findings"].as_array().unwrap() {
            assert_eq!(
                keys(f),
                sorted(vec![
                    "rule",
                    "code",
                    "severity",
                    "evidence",
                    "file",
                    "line",
                    "column",
                    "statement",
                    "message",
                    "why",
                    "instead",
                    "owner",
                    "table",
                    "facts",
                    "direction"
                ])
            );
        }
        assert_eq!(
            v["summary"],
            serde_json::json!({"error": 2, "warning": 1, "info": 1})
        );
        assert_eq!(
            v["skipped_rules"][0],
            serde_json::json!({"rule": "backfill-seq-scan", "reason": "needs execution on a disposable copy (--clone)"})
        );
    }

    #[test]
    fn unknowns_are_null_and_enums_use_contract_spellings() {
        let v: Value = serde_json::from_str(&json(&fixtures::sample())).unwrap();
        let unowned = &v["migrations"][2];
        assert_eq!(unowned["owner"], Value::Null);
        assert_eq!(unowned["owner_source"], "none");
        assert_eq!(unowned["version"], Value::Null);
        assert_eq!(unowned["rollback"]["irreversible"], true);
        let first = &v["migrations"][0];
        let statuses: Vec<&Value> = first["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["status"])
            .collect();
        assert_eq!(statuses, ["met", "not_met", "not_checked"]);
        assert_eq!(v["migrations"][1]["rollback"]["source"], "down_file");
        assert_eq!(v["migrations"][1]["owner_source"], "codeowners");
        assert_eq!(first["rollback"]["status"], "restores");
        let bare = &v["findings"][1];
        assert_eq!(bare["rule"], "drop-column");
        assert_eq!(bare["facts"], serde_json::json!({}));
        let no_owner = &v["findings"][2];
        assert_eq!(no_owner["owner"], Value::Null);
        assert_eq!(no_owner["table"], Value::Null);
        assert_eq!(v["findings"][0]["facts"]["lock_held_ms"], 5400);
    }

    #[test]
    fn execution_report() {
        insta::assert_snapshot!("json_execution", json(&fixtures::execution()));
    }

    #[test]
    fn execution_keys_are_added_at_every_level() {
        for report in [fixtures::sample(), fixtures::catalog(), fixtures::clean()] {
            let v: Value = serde_json::from_str(&json(&report)).unwrap();
            assert_eq!(v["locked"], serde_json::json!([]));
            for m in v["migrations"].as_array().unwrap() {
                assert_eq!(m["timeline"], serde_json::json!([]), "{m}");
                assert!(m.get("not_executed").is_some_and(Value::is_null), "{m}");
            }
        }
        let v: Value = serde_json::from_str(&json(&fixtures::execution())).unwrap();
        assert_eq!(v["evidence"], "execution");
        let first = &v["migrations"][0];
        assert_eq!(first["not_executed"], Value::Null);
        assert_eq!(
            first["timeline"][2],
            serde_json::json!({
                "line": 5,
                "statement": "ALTER TABLE orders ALTER COLUMN id TYPE bigint",
                "duration_ms": 29480,
                "lock": "AccessExclusiveLock",
                "table": "public.orders",
                "held_ms": 29500,
                "rows": null,
                "failed": false
            })
        );
        assert_eq!(first["timeline"][0]["lock"], Value::Null);
        assert_eq!(first["timeline"][3]["rows"], 120_000);
        assert_eq!(first["expected"][1]["status"], "not_met");
        assert_eq!(first["rollback"]["status"], "differs");
        assert_eq!(v["migrations"][1]["timeline"][1]["failed"], true);
        let stopped = &v["migrations"][2];
        assert_eq!(stopped["timeline"], serde_json::json!([]));
        assert!(stopped["not_executed"]
            .as_str()
            .is_some_and(|s| s.starts_with("not executed: migrations/0302")));
        assert_eq!(
            v["locked"][0],
            serde_json::json!({
                "table": "public.orders",
                "lock": "AccessExclusiveLock",
                "blocks": "reads and writes",
                "held_ms": 29500
            })
        );
        assert_eq!(v["findings"][0]["facts"]["lock_held_ms"], 29_500);
        assert_eq!(v["findings"][0]["facts"]["duration_ms"], 29_480);
    }
}
