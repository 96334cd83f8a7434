//! SARIF 2.1.0 (OASIS), the format code-scanning services read
//! (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
//!
//! One run; `tool.driver.rules` lists only the rules that have results (issue #14: embedding
//! all 57 made a 15-result log 207 KB), sorted by code, and each result's `ruleIndex` is its
//! rule's place in that list. Each rule has a `helpUri` to its page in the repository
//! (`docs/rules/<name>.md`, see `report::docs`), and the driver an `informationUri`. The run's
//! properties carry each migration's verdict. Locations are relative to the repository root through the
//! `%SRCROOT%` base id, which GitHub code scanning resolves against the checkout.
//! `partialFingerprints` use `report::fingerprints`, which ignores line numbers, so an alert
//! keeps its identity when lines above it are edited. Timings (`Report::phases`) and the
//! clock are left out: the same input gives the same bytes.

use super::{fingerprints, RunInfo};
use crate::model::{Finding, Report, Severity};
use crate::rules::{Rule, RULES};
use anyhow::{Context as _, Result};
use serde_json::{json, Map, Value};
use std::io::Write;

/// The schema URI SARIF producers put in `$schema` (the OASIS standard's final schema).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Characters of a statement kept in a result's snippet.
const MAX_SNIPPET: usize = 2_000;

/// The base id every artifact location is relative to: the repository root.
pub const SRCROOT: &str = "%SRCROOT%";

/// Execution level: each migration's timeline on the copy, why a migration was not run, the
/// lock totals per table and the caveat that these are a copy's numbers, as run properties
/// (SARIF results are findings; these belong to the run). Nothing below execution level, so
/// static and catalog logs keep the same bytes for the same input.
fn execution_properties(report: &Report, run: &RunInfo, properties: &mut Map<String, Value>) {
    if report.evidence != crate::model::Evidence::Execution {
        return;
    }
    let timelines: Vec<Value> = report
        .migrations
        .iter()
        .filter(|m| !m.timeline.is_empty() || m.not_executed.is_some())
        .map(|m| {
            json!({
                "path": run.display_path(&m.path),
                "notExecuted": m.not_executed,
                "statements": m.timeline.iter().map(|t| json!({
                    "line": t.line,
                    "statement": t.statement,
                    "durationMs": t.duration_ms,
                    "lock": t.lock,
                    "table": t.table,
                    "heldMs": t.held_ms,
                    "rows": t.rows,
                    "failed": t.failed,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    properties.insert("timelines".into(), Value::Array(timelines));
    properties.insert(
        "lockedOnCopy".into(),
        Value::Array(
            report
                .locked
                .iter()
                .map(|l| {
                    json!({
                        "table": l.table,
                        "lock": l.lock,
                        "blocks": l.blocks,
                        "heldMs": l.held_ms,
                    })
                })
                .collect(),
        ),
    );
    if super::text::has_measurements(report) {
        properties.insert("durationsNote".into(), json!(super::text::INDICATIVE));
    }
}

/// Writes the SARIF log, pretty-printed, followed by a newline.
pub fn render(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    let log = to_value(report, run);
    serde_json::to_writer_pretty(&mut *out, &log).context("Failed to write the SARIF report")?;
    writeln!(out)?;
    Ok(())
}

/// The SARIF log as a JSON value.
pub fn to_value(report: &Report, run: &RunInfo) -> Value {
    let mut codes: Vec<&Finding> = Vec::new();
    for f in &report.findings {
        if !codes.iter().any(|c| c.code == f.code) {
            codes.push(f);
        }
    }
    codes.sort_by_key(|f| f.code);
    let rules: Vec<Value> = codes
        .iter()
        .map(|f| match RULES.iter().find(|r| r.code == f.code) {
            Some(r) => rule(r),
            None => rule_of_finding(f),
        })
        .collect();
    let prints = fingerprints(report, run);
    let results: Vec<Value> = report
        .findings
        .iter()
        .zip(prints)
        .map(|(f, print)| {
            let index = codes.iter().position(|c| c.code == f.code);
            result(f, index, &print, run)
        })
        .collect();
    let mut properties = Map::new();
    properties.insert("evidence".into(), json!(report.evidence.as_str()));
    properties.insert(
        "verdicts".into(),
        Value::Array(
            super::verdict::verdicts(report)
                .into_iter()
                .map(|v| {
                    json!({
                        "path": run.display_path(&v.path),
                        "kind": v.kind.as_str(),
                        "severity": v.severity.map(|s| s.as_str()),
                        "text": v.text,
                    })
                })
                .collect(),
        ),
    );
    if let Some(copy) = &report.copy {
        properties.insert(
            "copy".into(),
            json!({
                "database": copy.database,
                "serverVersion": copy.server_version,
                "databaseBytes": copy.database_bytes,
                "lastAnalyzed": copy.last_analyzed,
            }),
        );
    }
    properties.insert(
        "skippedRules".into(),
        Value::Array(
            report
                .skipped_rules
                .iter()
                .map(|s| {
                    let mut o = Map::new();
                    o.insert("rule".into(), json!(s.rule));
                    o.insert("reason".into(), json!(s.reason));
                    if let Some(file) = &s.file {
                        o.insert("file".into(), json!(run.display_path(file)));
                    }
                    if let Some(line) = s.line {
                        o.insert("line".into(), json!(line));
                    }
                    Value::Object(o)
                })
                .collect(),
        ),
    );
    properties.insert(
        "notReviewed".into(),
        Value::Array(
            report
                .skipped_migrations
                .iter()
                .map(|m| json!({"path": run.display_path(&m.path), "reason": m.reason}))
                .collect(),
        ),
    );
    execution_properties(report, run, &mut properties);
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "migsafe",
                    "informationUri": super::docs::repository(),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                SRCROOT: {
                    "description": {"text": "The root of the repository the migrations are in."}
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties,
        }]
    })
}

/// SARIF `level` of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule(r: &Rule) -> Value {
    json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.what},
        "fullDescription": {"text": r.why},
        "help": {
            "text": format!("Instead: {}\n\nRollback: {}", r.instead, r.rollback),
            "markdown": format!(
                "**What:** {}\n\n**Why:** {}\n\n**Instead:** {}\n\n**Rollback:** {}\n\nSuppress with `-- migsafe:allow {} reason: <why this is safe>`.",
                r.what, r.why, r.instead, r.rollback, r.name
            ),
        },
        "helpUri": super::docs::rule_url(r.name),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": ["migration", "postgresql", r.evidence.as_str()],
            "evidence": r.evidence.as_str(),
        },
    })
}

/// A rule descriptor from a finding whose code is not in the registry (a report built by a
/// library caller): what the finding itself says about its rule.
fn rule_of_finding(f: &Finding) -> Value {
    json!({
        "id": f.code,
        "name": f.rule,
        "fullDescription": {"text": f.why},
        "help": {"text": format!("Instead: {}", f.instead)},
        "helpUri": super::docs::rule_url(f.rule),
        "properties": {"tags": ["migration", "postgresql"]},
    })
}

fn result(f: &Finding, index: Option<usize>, fingerprint: &str, run: &RunInfo) -> Value {
    let start_line = f.line.max(1);
    // A finding knows where its statement starts; the statement's text says how many lines
    // it spans.
    let lines = f.statement.trim_end().lines().count().max(1);
    let mut region = Map::new();
    region.insert("startLine".into(), json!(start_line));
    region.insert("startColumn".into(), json!(f.column.max(1)));
    region.insert("endLine".into(), json!(start_line + lines - 1));
    if !f.statement.trim().is_empty() {
        // Capped: a 5 MB `INSERT … VALUES` would only bloat the upload.
        region.insert(
            "snippet".into(),
            json!({"text": super::text::truncate(&f.statement, MAX_SNIPPET)}),
        );
    }
    let mut properties = Map::new();
    properties.insert("rule".into(), json!(f.rule));
    properties.insert("evidence".into(), json!(f.evidence.as_str()));
    properties.insert("owner".into(), json!(f.owner));
    if let Some(table) = &f.table {
        properties.insert("table".into(), json!(table));
    }
    if !f.facts.is_empty() {
        properties.insert("facts".into(), json!(f.facts));
    }
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(f.code));
    if let Some(i) = index {
        result.insert("ruleIndex".into(), json!(i));
    }
    result.insert("level".into(), json!(level(f.severity)));
    result.insert("message".into(), json!({"text": message(f)}));
    result.insert(
        "locations".into(),
        json!([{"physicalLocation": {
            "artifactLocation": artifact(&f.file, run),
            "region": region,
        }}]),
    );
    result.insert(
        "partialFingerprints".into(),
        json!({"migsafeFinding/v1": fingerprint}),
    );
    result.insert("properties".into(), Value::Object(properties));
    Value::Object(result)
}

/// The message a code-scanning alert shows: what was found, then what to do instead.
fn message(f: &Finding) -> String {
    let mut text = f.message.trim().to_string();
    if !f.instead.trim().is_empty() {
        text.push_str("\n\nInstead: ");
        text.push_str(f.instead.trim());
    }
    text
}

/// Relative to `%SRCROOT%` when the file is in the repository; an absolute `file://` URI
/// otherwise (only for paths the user gave as absolute, outside the repository).
fn artifact(file: &str, run: &RunInfo) -> Value {
    match run.repo_path(file) {
        Some(rel) => json!({"uri": encode(&rel), "uriBaseId": SRCROOT}),
        None if file.starts_with('/') => json!({"uri": format!("file://{}", encode(file))}),
        None => json!({"uri": encode(&file.replace('\\', "/"))}),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    fn sarif(report: &Report) -> Value {
        let mut out = Vec::new();
        render(report, &RunInfo::default(), &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn lists_only_the_rules_with_results_and_points_results_at_theirs() {
        let v = sarif(&fixtures::sample());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["M001", "M022", "M026", "M039"]);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        let m001 = rules.iter().find(|r| r["id"] == "M001").unwrap();
        assert_eq!(m001["name"], "create-index-non-concurrently");
        assert!(m001["help"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Instead: "));
        assert_eq!(
            m001["helpUri"],
            crate::report::docs::rule_url("create-index-non-concurrently")
        );
        assert!(m001["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/docs/rules/create-index-non-concurrently.md"));
        assert_eq!(
            run["tool"]["driver"]["informationUri"],
            crate::report::docs::repository()
        );
        // A clean run embeds no rules at all.
        let clean = sarif(&fixtures::clean());
        assert_eq!(clean["runs"][0]["tool"]["driver"]["rules"], json!([]));
        // A big run stays small: rules are not repeated per result.
        let big = serde_json::to_string(&sarif(&fixtures::nine())).unwrap();
        assert!(big.len() < 100_000, "{} bytes", big.len());
    }

    #[test]
    fn verdicts_are_run_properties() {
        let v = sarif(&fixtures::execution());
        let verdicts = &v["runs"][0]["properties"]["verdicts"];
        assert_eq!(verdicts[1]["kind"], "fails");
        assert_eq!(verdicts[0]["path"], "migrations/0301_orders_id_bigint.sql");
        assert_eq!(
            verdicts[0]["text"],
            "blocks reads and writes on public.orders for ~30 s"
        );
    }

    #[test]
    fn severities_map_to_levels_and_regions_span_the_statement() {
        let mut report = fixtures::sample();
        report.findings[0].statement = "CREATE INDEX a\n  ON b (c)\n  WHERE d".into();
        report.findings[0].line = 10;
        report.findings[0].severity = Severity::Info;
        let v = sarif(&report);
        let first = &v["runs"][0]["results"][0];
        assert_eq!(first["level"], "note");
        let region = &first["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 10);
        assert_eq!(region["endLine"], 12);
    }

    #[test]
    fn fingerprints_ignore_line_moves_but_tell_repeats_apart() {
        let mut report = fixtures::sample();
        let before = sarif(&report)["runs"][0]["results"][0]["partialFingerprints"].clone();
        for f in &mut report.findings {
            f.line += 7;
        }
        let after = sarif(&report)["runs"][0]["results"][0]["partialFingerprints"].clone();
        assert_eq!(before, after);
        let mut twice = fixtures::sample();
        let copy = twice.findings[0].clone();
        twice.findings.insert(1, copy);
        let v = sarif(&twice);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_ne!(
            results[0]["partialFingerprints"],
            results[1]["partialFingerprints"]
        );
    }

    #[test]
    fn uris_are_repository_relative_and_encoded() {
        let run = RunInfo {
            prefix: "svc/".into(),
            ..RunInfo::default()
        };
        assert_eq!(
            artifact("db/a b.sql", &run),
            json!({"uri": "svc/db/a%20b.sql", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact("/abs/x.sql", &run),
            json!({"uri": "file:///abs/x.sql"})
        );
    }

    #[test]
    fn execution_runs_carry_timelines_and_lock_totals_as_run_properties() {
        let v = to_value(&crate::report::fixtures::execution(), &RunInfo::default());
        let props = &v["runs"][0]["properties"];
        assert_eq!(props["timelines"][0]["statements"][2]["heldMs"], 29_500);
        assert_eq!(props["timelines"][1]["statements"][1]["failed"], true);
        assert!(props["timelines"][2]["notExecuted"].is_string());
        assert_eq!(props["lockedOnCopy"][0]["table"], "public.orders");
        assert!(props["durationsNote"].is_string());
        let fixed = to_value(&crate::report::fixtures::catalog(), &RunInfo::default());
        let props = &fixed["runs"][0]["properties"];
        assert!(props.get("timelines").is_none() && props.get("durationsNote").is_none());
    }
}
