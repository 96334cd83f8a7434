//! The verdict: one line per migration saying what it will do in production ("blocks writes on
//! orders for ~40 s", "fails at line 3: could not create unique index …", "rewrites customers
//! (88 MB) under ACCESS EXCLUSIVE", "safe", "not executed: …"), which every format puts first
//! (issue #14). It is derived from what the report already holds — the findings of the
//! migration, and at execution level its timeline on the copy — by pure functions, so every
//! format says the same thing and the derivation is tested once, here.
//!
//! The order of precedence is what a reviewer must know first: a migration that was not run
//! cannot be judged by its measurements; one that fails will not deploy at all; a rewrite
//! blocks everything for as long as the table takes to copy; a lock that blocks reads or
//! writes is an outage for its duration; other warnings and errors are risks named by rule;
//! and a migration with none of those is safe (people facts that are missing are said, since
//! a reviewer still has to ask for them, but they do not change what happens in production).
//!
//! Also here, because every format needs them in the same way: which findings are *process*
//! findings (missing owner, expected result, rollback), when they dominate a report, and the
//! order findings are shown in (errors first).

use super::text;
use crate::locks::LockMode;
use crate::model::{Finding, MigrationSummary, Report, Severity, TimelineEntry};
use std::cmp::Reverse;

/// What a migration will do, from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerdictKind {
    /// Runs without a finding at warning or error level (people facts aside).
    Safe,
    /// Warnings or errors that are not about locks or failures (named by rule).
    Risky,
    /// Takes a lock that blocks reads or writes of an existing table.
    Blocks,
    /// Rewrites a table (copies every row) under ACCESS EXCLUSIVE.
    Rewrites,
    /// Fails on real data (on the copy), so the deploy fails.
    Fails,
    /// Was not run on the copy (an earlier migration failed, a psql meta-command…).
    NotExecuted,
}

impl VerdictKind {
    /// Stable lower-case name (JSON, SARIF, CSS classes).
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Safe => "safe",
            VerdictKind::Risky => "risky",
            VerdictKind::Blocks => "blocks",
            VerdictKind::Rewrites => "rewrites",
            VerdictKind::Fails => "fails",
            VerdictKind::NotExecuted => "not_executed",
        }
    }
}

/// One migration's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The migration's path as the report holds it.
    pub path: String,
    pub kind: VerdictKind,
    /// Worst severity among the migration's findings (process findings included), `None`
    /// when it has none: what icons and colours follow.
    pub severity: Option<Severity>,
    /// The one line, e.g. `blocks writes on public.orders for ~40 s`.
    pub text: String,
}

/// Rules about the people facts rather than the SQL (PRODUCT.md §2): they say what a
/// reviewer must ask for, not what the migration does.
pub const PROCESS_RULES: [&str; 3] = [
    "missing-owner",
    "missing-expected-result",
    "missing-rollback",
];

/// Whether a finding is about the people facts (owner, expected result, rollback).
pub fn is_process(f: &Finding) -> bool {
    PROCESS_RULES.contains(&f.rule)
}

/// Process findings dominate when there are at least this many…
pub const DOMINATE_MIN: usize = 4;

/// …and they are at least a third of all findings (48 % on a real project's first run drowned
/// the safety findings, issue #14). Then the human formats count them per rule instead of
/// listing each.
pub fn process_dominates(findings: &[Finding]) -> bool {
    let process = findings.iter().filter(|f| is_process(f)).count();
    process >= DOMINATE_MIN && process * 3 >= findings.len()
}

/// The findings in reading order: errors first, then warnings, then info, each in the
/// engine's (file, line, column, code) order.
pub fn by_severity(findings: &[Finding]) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    // A stable sort keeps the engine's order within a severity.
    sorted.sort_by_key(|f| Reverse(f.severity));
    sorted
}

/// Verdicts of every reviewed migration, in the report's order.
pub fn verdicts(report: &Report) -> Vec<Verdict> {
    report
        .migrations
        .iter()
        .map(|m| {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.file == m.path)
                .collect();
            verdict(m, &findings)
        })
        .collect()
}

/// The verdict of one migration, given its findings.
pub fn verdict(m: &MigrationSummary, findings: &[&Finding]) -> Verdict {
    let severity = findings.iter().map(|f| f.severity).max();
    let (kind, text) = derive(m, findings);
    Verdict {
        path: m.path.clone(),
        kind,
        severity,
        text,
    }
}

/// Longest verdict text; what is cut is in the findings below it.
pub const MAX_TEXT: usize = 90;

fn derive(m: &MigrationSummary, findings: &[&Finding]) -> (VerdictKind, String) {
    if let Some(reason) = &m.not_executed {
        return (VerdictKind::NotExecuted, not_executed(reason));
    }
    if let Some(text) = failure(m, findings) {
        return (VerdictKind::Fails, text);
    }
    let serious: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.severity >= Severity::Warning && !is_process(f))
        .collect();
    if let Some(text) = rewrite(&serious) {
        return (VerdictKind::Rewrites, text);
    }
    if let Some(text) = blocking(m, &serious) {
        return (VerdictKind::Blocks, text);
    }
    if !serious.is_empty() {
        return (VerdictKind::Risky, risky(&serious));
    }
    (VerdictKind::Safe, safe(m, findings))
}

/// `not executed: migrations/0302_unique_customer_email.sql failed at line 3`: the engine's
/// reason without its parenthesised error (the failing migration's own verdict has it) and
/// without the explanation that follows.
fn not_executed(reason: &str) -> String {
    let reason = text::one_line(reason);
    let reason = reason
        .strip_prefix("not executed:")
        .unwrap_or(&reason)
        .trim();
    let mut short = without_parentheses(reason);
    if let Some(i) = short.find(", and ") {
        short.truncate(i);
    }
    let short = short.trim().trim_end_matches([',', '.', ';']).to_string();
    let short = if short.is_empty() {
        "an earlier step failed".to_string()
    } else {
        short
    };
    text::truncate(&format!("not executed: {short}"), MAX_TEXT)
}

/// Text with every `( … )` group (and the space before it) removed; backtick spans are kept
/// whole, so a quoted command with parentheses survives.
fn without_parentheses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' if depth == 0 => {
                in_code = !in_code;
                out.push(c);
            }
            '(' if !in_code => {
                depth += 1;
                if depth == 1 {
                    let trimmed = out.trim_end().len();
                    out.truncate(trimmed);
                }
            }
            ')' if !in_code && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `fails at line 3: could not create unique index "customers_email_key"`: the statement that
/// failed on the copy and PostgreSQL's message, from the `fails-on-copy` finding when there
/// is one, else from the failed timeline entry.
fn failure(m: &MigrationSummary, findings: &[&Finding]) -> Option<String> {
    if let Some(f) = findings.iter().find(|f| f.rule == "fails-on-copy") {
        let message = text::one_line(&f.message);
        let error = message
            .strip_prefix("Fails on the copy:")
            .unwrap_or(&message)
            .trim();
        return Some(text::truncate(
            &format!("fails at line {}: {}", f.line, error_headline(error)),
            MAX_TEXT,
        ));
    }
    let failed: &TimelineEntry = m.timeline.iter().find(|t| t.failed)?;
    Some(text::truncate(
        &format!(
            "fails at line {}: `{}`",
            failed.line,
            text::first_line(&failed.statement, 50)
        ),
        MAX_TEXT,
    ))
}

/// PostgreSQL's primary message without the detail, hint and SQLSTATE the executor appends
/// (`… (detail: …) (hint: …) (SQLSTATE 23505).`).
fn error_headline(error: &str) -> String {
    let mut end = error.len();
    for marker in [" (detail:", " (hint:", " (SQLSTATE", ": Column ", ". "] {
        if let Some(i) = error.find(marker) {
            end = end.min(i);
        }
    }
    error
        .get(..end)
        .unwrap_or(error)
        .trim()
        .trim_end_matches('.')
        .to_string()
}

/// Rules whose finding means the table is rewritten: measured (`table-rewrite`) or certain
/// from the SQL.
const REWRITE_RULES: [&str; 5] = [
    "table-rewrite",
    "column-type-change",
    "add-column-volatile-default",
    "set-logged-or-tablespace",
    "vacuum-full-or-cluster",
];

/// `rewrites public.customers (88 MB) under ACCESS EXCLUSIVE for ~12 s`: the biggest rewrite.
fn rewrite(serious: &[&Finding]) -> Option<String> {
    let f = serious
        .iter()
        .filter(|f| REWRITE_RULES.contains(&f.rule))
        // Measured first, then the biggest table.
        .max_by_key(|f| (f.rule == "table-rewrite", f.facts.bytes, f.facts.rows))?;
    let table = f.table.as_deref().unwrap_or("a table");
    let size = match (f.facts.bytes, f.facts.rows) {
        (Some(b), _) => format!(" ({})", text::bytes(b)),
        (None, Some(r)) => format!(" ({})", text::rows(r)),
        (None, None) => String::new(),
    };
    let took = f
        .facts
        .lock_held_ms
        .or(f.facts.duration_ms)
        .filter(|_| f.evidence == crate::model::Evidence::Execution)
        .map(|ms| format!(" for {}", approx(ms)))
        .unwrap_or_default();
    Some(text::truncate(
        &format!("rewrites {table}{size} under ACCESS EXCLUSIVE{took}"),
        MAX_TEXT,
    ))
}

/// Measured locks shorter than this do not make a `blocks` verdict on their own: no client
/// notices a few milliseconds.
pub const NOTICEABLE_MS: u64 = 100;

/// A lock that blocks reads or writes: what it blocks, on which table, for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    reads: bool,
    table: String,
    held_ms: Option<u64>,
    size: Option<String>,
}

/// `blocks writes on public.orders for ~40 s`, or without measurements `blocks writes on
/// orders (1.2M rows, 700 MB) while it runs`: the worst such lock (reads before writes, then
/// the longest).
fn blocking(m: &MigrationSummary, serious: &[&Finding]) -> Option<String> {
    let mut blocks: Vec<Block> = Vec::new();
    for t in &m.timeline {
        let Some(mode) = t.lock.as_deref().and_then(mode) else {
            continue;
        };
        let held = t.held_ms.unwrap_or(t.duration_ms);
        if !mode.blocks_writes() || held < NOTICEABLE_MS {
            continue;
        }
        blocks.push(Block {
            reads: mode.blocks_reads(),
            table: t.table.clone().unwrap_or_else(|| "a table".to_string()),
            held_ms: Some(held),
            size: None,
        });
    }
    // Without a timeline the findings' lock facts say it (estimated from the SQL and the
    // catalog's sizes); a measured lock already in the timeline wins.
    if blocks.is_empty() {
        for f in serious {
            let Some(mode) = f.facts.lock.as_deref().and_then(mode) else {
                continue;
            };
            if !mode.blocks_writes() {
                continue;
            }
            if f.facts.lock_held_ms.is_some_and(|ms| ms < NOTICEABLE_MS) {
                continue;
            }
            let size = match (f.facts.rows, f.facts.bytes) {
                (Some(r), Some(b)) => Some(format!("{}, {}", text::rows(r), text::bytes(b))),
                (Some(r), None) => Some(text::rows(r)),
                (None, Some(b)) => Some(text::bytes(b)),
                (None, None) => None,
            };
            blocks.push(Block {
                reads: mode.blocks_reads(),
                table: f.table.clone().unwrap_or_else(|| "a table".to_string()),
                held_ms: f.facts.lock_held_ms,
                size,
            });
        }
    }
    let worst = blocks
        .iter()
        .max_by_key(|b| (b.reads, b.held_ms, b.size.is_some()))?;
    let what = if worst.reads {
        "reads and writes"
    } else {
        "writes"
    };
    let size = worst
        .size
        .as_ref()
        .filter(|_| worst.held_ms.is_none())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let how_long = match worst.held_ms {
        Some(ms) => format!(" for {}", approx(ms)),
        None => " while it runs".to_string(),
    };
    Some(text::truncate(
        &format!("blocks {what} on {}{size}{how_long}", worst.table),
        MAX_TEXT,
    ))
}

fn mode(pg_name: &str) -> Option<LockMode> {
    LockMode::from_sql(&text::lock_mode_sql(pg_name))
}

/// `risky: drop column on users, rename column`: the rules, worst first, each once.
fn risky(serious: &[&Finding]) -> String {
    let mut sorted = serious.to_vec();
    sorted.sort_by_key(|f| Reverse(f.severity));
    let mut phrases: Vec<String> = Vec::new();
    for f in sorted {
        let phrase = match &f.table {
            Some(t) => format!("{} on {t}", f.rule.replace('-', " ")),
            None => f.rule.replace('-', " "),
        };
        if !phrases
            .iter()
            .any(|p| p.starts_with(&f.rule.replace('-', " ")))
        {
            phrases.push(phrase);
        }
    }
    let shown = phrases.len().min(2);
    let mut s = format!("risky: {}", phrases.get(..shown).unwrap_or(&[]).join(", "));
    if phrases.len() > shown {
        s.push_str(&format!(" and {} more", phrases.len() - shown));
    }
    text::truncate(&s, MAX_TEXT)
}

/// `safe`, at execution level with what was measured (`safe: ran ~0.4 s, no lock blocked
/// reads or writes`), and the people facts still missing (`safe · missing owner, rollback`).
fn safe(m: &MigrationSummary, findings: &[&Finding]) -> String {
    let mut s = "safe".to_string();
    if !m.timeline.is_empty() {
        let total = m
            .timeline
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.duration_ms));
        s.push_str(&format!(": ran {} on the copy", approx(total)));
    }
    let missing: Vec<&str> = PROCESS_RULES
        .iter()
        .filter(|r| findings.iter().any(|f| f.rule == **r))
        .map(|r| match *r {
            "missing-owner" => "owner",
            "missing-expected-result" => "expected result",
            _ => "rollback",
        })
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!(" · missing {}", missing.join(", ")));
    }
    text::truncate(&s, MAX_TEXT)
}

/// A measured duration as a headline says it: `~40 s`, `~1.6 s`, `~4 min`, `<0.1 s`. The copy
/// is not production (`text::INDICATIVE`), so the `~` is part of the number.
pub fn approx(ms: u64) -> String {
    match ms {
        0..=99 => "<0.1 s".to_string(),
        100..=9_949 => format!("~{:.1} s", ms as f64 / 1000.0),
        9_950..=59_499 => format!("~{} s", (ms + 500) / 1000),
        59_500..=3_569_999 => format!("~{} min", (ms + 30_000) / 60_000),
        _ => format!("~{:.1} h", ms as f64 / 3_600_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Facts};
    use crate::report::fixtures;

    fn texts(report: &Report) -> Vec<(String, VerdictKind, String)> {
        verdicts(report)
            .into_iter()
            .map(|v| (v.path, v.kind, v.text))
            .collect()
    }

    #[test]
    fn execution_verdicts_say_what_happened_on_the_copy() {
        let v = texts(&fixtures::execution());
        assert_eq!(
            v,
            [
                (
                    "migrations/0301_orders_id_bigint.sql".to_string(),
                    VerdictKind::Blocks,
                    "blocks reads and writes on public.orders for ~30 s".to_string()
                ),
                (
                    "migrations/0302_unique_customer_email.sql".to_string(),
                    VerdictKind::Fails,
                    "fails at line 3: could not create unique index \"customers_email_key\""
                        .to_string()
                ),
                (
                    "migrations/0303_backfill_segments.sql".to_string(),
                    VerdictKind::NotExecuted,
                    "not executed: migrations/0302_unique_customer_email.sql failed at line 3"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn static_and_catalog_verdicts_use_the_lock_facts_and_sizes() {
        let v = texts(&fixtures::sample());
        assert_eq!(
            v[0].2, "blocks writes on public.orders for ~5.4 s",
            "a measured hold time in the facts is used"
        );
        assert_eq!(v[1].1, VerdictKind::Risky);
        assert_eq!(v[1].2, "risky: drop column on users");
        assert_eq!(v[2].2, "blocks reads and writes on audit_log while it runs");
        let c = texts(&fixtures::catalog());
        assert_eq!(
            c[0].2,
            "blocks writes on public.orders (1.2M rows, 700 MB) while it runs"
        );
        assert_eq!(c[1].1, VerdictKind::Risky);
        assert_eq!(c[1].2, "risky: dml touches many rows on public.orders");
    }

    #[test]
    fn a_migration_without_serious_findings_is_safe_and_says_what_is_missing() {
        let clean = texts(&fixtures::clean());
        assert!(clean
            .iter()
            .all(|(_, k, t)| *k == VerdictKind::Safe && t == "safe"));
        let mut report = fixtures::sample();
        report.findings.retain(|f| f.severity == Severity::Info);
        report.findings.push(Finding {
            rule: "missing-owner",
            severity: Severity::Warning,
            ..report.findings[0].clone()
        });
        let v = texts(&report);
        assert_eq!(v[2].2, "safe · missing owner, expected result");
        assert_eq!(verdicts(&report)[2].severity, Some(Severity::Warning));
    }

    #[test]
    fn measured_safe_migrations_say_how_long_they_ran() {
        let mut report = fixtures::execution();
        report.findings.clear();
        report.migrations[1].timeline.truncate(1);
        report.migrations[1].timeline[0].held_ms = Some(3);
        report.migrations[1].timeline[0].duration_ms = 3;
        assert_eq!(texts(&report)[1].2, "safe: ran <0.1 s on the copy");
    }

    #[test]
    fn rewrites_name_the_table_and_its_size() {
        let mut report = fixtures::execution();
        let rewrite = Finding {
            rule: "table-rewrite",
            code: "M062",
            severity: Severity::Error,
            evidence: Evidence::Execution,
            table: Some("public.customers".into()),
            facts: Facts {
                bytes: Some(92_274_688),
                duration_ms: Some(12_300),
                ..Facts::default()
            },
            ..report.findings[0].clone()
        };
        report.findings.push(rewrite);
        assert_eq!(
            texts(&report)[0].2,
            "rewrites public.customers (88 MB) under ACCESS EXCLUSIVE for ~12 s"
        );
    }

    #[test]
    fn short_locks_do_not_make_a_blocking_verdict() {
        let mut report = fixtures::execution();
        report.findings.clear();
        for t in &mut report.migrations[0].timeline {
            t.held_ms = t.held_ms.map(|_| 40);
            t.duration_ms = t.duration_ms.min(40);
        }
        assert_eq!(texts(&report)[0].1, VerdictKind::Safe);
    }

    #[test]
    fn odd_inputs_give_short_verdicts_without_panicking() {
        assert_eq!(not_executed(""), "not executed: an earlier step failed");
        assert_eq!(
            not_executed("not executed: `\\c other (x)` is a psql meta-command, not SQL"),
            "not executed: `\\c other (x)` is a psql meta-command, not SQL"
        );
        assert_eq!(without_parentheses("a (b (c)) d) e"), "a d) e");
        assert_eq!(error_headline(""), "");
        assert_eq!(
            error_headline("cannot insert a non-DEFAULT value into column \"id\": Column \"id\" is an identity column"),
            "cannot insert a non-DEFAULT value into column \"id\""
        );
        let mut report = fixtures::sample();
        report.findings[0].message = "é".repeat(500);
        report.findings[0].rule = "fails-on-copy";
        let v = texts(&report);
        assert!(v[0].2.chars().count() <= MAX_TEXT, "{}", v[0].2);
    }

    #[test]
    fn approximate_durations_read_as_headlines() {
        assert_eq!(approx(3), "<0.1 s");
        assert_eq!(approx(829), "~0.8 s");
        assert_eq!(approx(1_417), "~1.4 s");
        assert_eq!(approx(29_500), "~30 s");
        assert_eq!(approx(9_960), "~10 s");
        assert_eq!(approx(240_000), "~4 min");
        assert_eq!(approx(7_200_000), "~2.0 h");
        assert!(!approx(u64::MAX).is_empty());
    }

    #[test]
    fn findings_read_errors_first_and_process_findings_are_counted_when_they_dominate() {
        let report = fixtures::sample();
        let order: Vec<&str> = by_severity(&report.findings)
            .iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(order, ["M001", "M026", "M022", "M039"]);
        assert!(!process_dominates(&report.findings));
        let mut many = report.findings.clone();
        for _ in 0..4 {
            many.push(Finding {
                rule: "missing-owner",
                ..report.findings[2].clone()
            });
        }
        assert!(process_dominates(&many));
    }
}
