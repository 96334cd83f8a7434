//! The terminal report (the default on a tty), in one layout at every width so that grep
//! and awk pipelines see the same lines whatever window the run started in (issue #14):
//!
//! 1. the verdict of every migration, one line each (`severity  path  what it will do`);
//! 2. the findings, errors first, one block each: a `path:line:col  severity  CODE name`
//!    line that is never wrapped, the message, the facts (`↳ lock … · ran … · rows`) and the
//!    plan tree when there is one; process findings (missing owner, expected result,
//!    rollback) are counted per rule instead when they dominate (`verdict::process_dominates`);
//! 3. why and instead once per rule, first sentence only (`migsafe rule NAME` has the rest);
//! 4. each migration's people facts (owner, expected results, rollback) and, at execution
//!    level, its timeline on the copy or why it was not executed;
//! 5. what the numbers rest on (the copy's identity, lock totals, the caveat that a copy's
//!    durations are indicative) and what was not looked at (skipped rules and migrations);
//! 6. the one-line summary last, where the eye lands when the command returns (ruff and
//!    squawk end the same way).
//!
//! Only the wrapping of prose follows the width. The verdict lines, finding headers and the
//! summary line are never wrapped. Statements stay out: the message names the object and
//! `file:line:col` jumps to it; the full statement is in the markdown, HTML and JSON reports.

use super::text::{self, RollbackState};
use super::verdict::{self, Verdict};
use super::Terminal;
use crate::model::{Finding, MigrationSummary, Report, Severity, SkippedRule};
use anyhow::Result;
use std::io::Write;

/// Longest rollback or plan excerpt shown; the rest is in the other formats.
const EXCERPT: usize = 60;
/// Prose is wrapped at most this wide, even on a wide terminal.
const PROSE_WIDTH: usize = 100;
/// Plan lines shown per finding; plans are trees and the top holds the costly nodes.
const PLAN_LINES: usize = 15;
/// Rule names listed per skip reason before the rest is counted.
const SKIPPED_RULE_NAMES: usize = 8;
/// Rules skipped for single statements listed before the rest is counted.
const STATEMENT_SKIPS: usize = 10;
/// Reasons for skipping migrations shown, one line each, before the rest is counted.
const MIGRATION_SKIP_REASONS: usize = 5;
/// Verdict paths are padded to the widest one up to this many characters; a longer path
/// just pushes its own verdict to the right.
const VERDICT_PATH: usize = 70;

/// Writes the terminal report.
pub fn render(report: &Report, term: &Terminal, out: &mut dyn Write) -> Result<()> {
    render_at(report, term, text::now(), out)
}

/// Writes the terminal report as of `now` (seconds since the epoch), which dates the copy's
/// statistics ("6 days ago"); tests pass a fixed time.
pub(crate) fn render_at(
    report: &Report,
    term: &Terminal,
    now: Option<i64>,
    out: &mut dyn Write,
) -> Result<()> {
    let paint = Paint(term.color);
    let width = usize::from(term.width);
    let prose = width.min(PROSE_WIDTH);
    write_verdicts(&verdict::verdicts(report), paint, out)?;
    if !report.findings.is_empty() {
        let summarise = verdict::process_dominates(&report.findings);
        let listed: Vec<&Finding> = verdict::by_severity(&report.findings)
            .into_iter()
            .filter(|f| !(summarise && verdict::is_process(f)))
            .collect();
        for f in &listed {
            write_finding(f, prose, paint, out)?;
        }
        if summarise {
            write_process_summary(&report.findings, prose, paint, out)?;
        }
        write_rule_notes(&listed, prose, paint, out)?;
    }
    if !report.migrations.is_empty() {
        write_migrations(&report.migrations, prose, paint, out)?;
    }
    if let Some(p) = &report.production {
        for line in super::production::text_lines(p) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    write_footer(report, prose, now, out)?;
    writeln!(out, "{}", summary_line(report, paint))?;
    Ok(())
}

/// `error    migrations/0001_add_index.sql  blocks writes on orders for ~40 s`: one line per
/// migration, never wrapped, the severity word first so `awk '$1 == "error"'` finds them.
fn write_verdicts(verdicts: &[Verdict], paint: Paint, out: &mut dyn Write) -> Result<()> {
    if verdicts.is_empty() {
        return Ok(());
    }
    let path_w = verdicts
        .iter()
        .map(|v| v.path.chars().count())
        .filter(|&w| w <= VERDICT_PATH)
        .max()
        .unwrap_or(0);
    for v in verdicts {
        let mark = match (v.kind, v.severity) {
            // Not run on the copy: nothing measured can vouch for it.
            (verdict::VerdictKind::NotExecuted, None) => paint.bold("skipped"),
            (_, Some(s)) => paint.severity(s, &format!("{:<7}", s.as_str())),
            (_, None) => paint.green(&format!("{:<7}", "ok")),
        };
        writeln!(
            out,
            "{mark}  {:<path_w$}  {}",
            v.path,
            text::one_line(&v.text)
        )?;
    }
    writeln!(out)?;
    Ok(())
}

/// One finding: the header line, the message, its facts, and its plan tree.
fn write_finding(f: &Finding, width: usize, paint: Paint, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{}  {}  {} {}",
        paint.bold(&format!("{}:{}:{}", f.file, f.line, f.column)),
        paint.severity(f.severity, f.severity.as_str()),
        f.code,
        f.rule
    )?;
    let mut body = text::one_line(&f.message);
    let facts = text::facts(&f.facts);
    if !facts.is_empty() {
        body.push_str("\n↳ ");
        body.push_str(&facts.join(" · "));
    }
    write!(out, "{}", text::wrap(&body, width, "  "))?;
    if let Some(instead) = text::built_instead(f) {
        write!(out, "{}", labelled("instead", instead, width, 9))?;
    }
    if let Some(plan) = f.facts.plan.as_deref().filter(|p| !p.trim().is_empty()) {
        writeln!(out, "  plan:")?;
        write!(out, "{}", plan_block(plan, width, "    "))?;
    }
    writeln!(out)?;
    Ok(())
}

/// When process findings dominate: one line per rule with how many migrations lack the fact,
/// naming the first and last (`--format concise` lists each).
fn write_process_summary(
    findings: &[Finding],
    width: usize,
    paint: Paint,
    out: &mut dyn Write,
) -> Result<()> {
    let process: Vec<&Finding> = findings.iter().filter(|f| verdict::is_process(f)).collect();
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "People facts: {} (counted, not listed: they would drown the rest)",
            text::count(process.len(), "finding", "findings")
        ))
    )?;
    for rule in verdict::PROCESS_RULES {
        let of_rule: Vec<&&Finding> = process.iter().filter(|f| f.rule == rule).collect();
        let Some(first) = of_rule.first() else {
            continue;
        };
        let paths: Vec<&str> = of_rule.iter().map(|f| f.file.as_str()).collect();
        let dir = text::common_dir(&paths);
        let name = |p: &&str| p.strip_prefix(dir).unwrap_or(p).to_string();
        let (head, between, tail) = text::ends(&paths, 2, 1);
        let mut names: Vec<String> = head.iter().map(name).collect();
        if between > 0 {
            names.push(format!("… {between} more …"));
        }
        names.extend(tail.iter().map(name));
        let worst = of_rule
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(first.severity);
        let line = format!(
            "{} {} ({}): {}: {}",
            first.code,
            rule,
            worst,
            text::count(of_rule.len(), "migration", "migrations"),
            names.join(", ")
        );
        write!(out, "  {}", hanging(&line, width.saturating_sub(2), "    "))?;
    }
    writeln!(out, "  `--format concise` lists each of them.")?;
    writeln!(out)?;
    Ok(())
}

/// Why and instead, once per rule of the listed findings (worst first, then by code), the
/// first sentence of each: the whole text is one `migsafe rule NAME` away, and repeating
/// essays would bury the findings themselves.
fn write_rule_notes(
    findings: &[&Finding],
    width: usize,
    paint: Paint,
    out: &mut dyn Write,
) -> Result<()> {
    let mut rules: Vec<&Finding> = Vec::new();
    for f in findings {
        if !rules.iter().any(|r| r.code == f.code) {
            rules.push(f);
        }
    }
    if rules.is_empty() {
        return Ok(());
    }
    rules.sort_by_key(|f| f.code);
    for f in rules {
        let n = findings.iter().filter(|g| g.code == f.code).count();
        writeln!(
            out,
            "{} · {}",
            paint.bold(&format!("{} {}", f.code, f.rule)),
            text::count(n, "finding", "findings")
        )?;
        write!(
            out,
            "{}",
            labelled("why", &text::first_sentence(f.why), width, 9)
        )?;
        if let Some(instead) = text::rule_instead(findings, f.code) {
            write!(
                out,
                "{}",
                labelled("instead", &text::first_sentence(instead), width, 9)
            )?;
        }
    }
    writeln!(
        out,
        "{}",
        paint.dim("`migsafe rule NAME`: the whole text, rollback, examples.")
    )?;
    writeln!(out)?;
    Ok(())
}

/// Each migration as a block: path, owner, expected results, rollback, and at execution level
/// its timeline or why it was not executed.
fn write_migrations(
    migrations: &[MigrationSummary],
    width: usize,
    paint: Paint,
    out: &mut dyn Write,
) -> Result<()> {
    for m in migrations {
        let owner = match &m.owner {
            Some(o) => format!("{o} ({})", text::owner_source(m.owner_source)),
            None => text::UNOWNED.to_string(),
        };
        writeln!(out, "{}", paint.bold(&m.path))?;
        write!(out, "{}", labelled("owner", &owner, width, 10))?;
        let runs = format!("{} — {}", m.transaction, m.transaction_source);
        write!(out, "{}", labelled("runs", &runs, width, 10))?;
        write!(
            out,
            "{}",
            labelled_lines("expected", &expected_lines(m), width)
        )?;
        write!(
            out,
            "{}",
            labelled_lines("rollback", &rollback_lines(m), width)
        )?;
        write!(out, "{}", timeline_block(m, width, paint))?;
        writeln!(out)?;
    }
    Ok(())
}

/// What the numbers rest on and what was not looked at: the copy's identity and caveats,
/// skipped rules (grouped by reason, then those skipped for single statements) and skipped
/// migrations. Nothing at all for a static run that skipped nothing.
fn write_footer(
    report: &Report,
    width: usize,
    now: Option<i64>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut wrote = false;
    if let Some(copy) = &report.copy {
        let line = format!(
            "evidence: {} — copy: {}",
            report.evidence,
            text::copy_identity(copy, now)
        );
        write!(out, "{}", hanging(&line, width, "  "))?;
        for caveat in text::copy_caveats(copy) {
            write!(out, "{}", labelled("note", &caveat, width, 6))?;
        }
        wrote = true;
    }
    if !report.locked.is_empty() {
        let line = format!(
            "Locked on the copy: {}",
            text::locked_totals(&report.locked)
        );
        write!(out, "{}", hanging(&line, width, "  "))?;
        wrote = true;
    }
    if text::has_measurements(report) {
        write!(out, "{}", hanging(text::INDICATIVE, width, "  "))?;
        wrote = true;
    }
    for group in text::skip_groups(&report.skipped_rules) {
        let (shown, rest) = group
            .rules
            .split_at(group.rules.len().min(SKIPPED_RULE_NAMES));
        let mut names = shown.join(", ");
        if !rest.is_empty() {
            names.push_str(&format!(" and {} more", rest.len()));
        }
        let line = format!("{}: {names}", text::skip_group_head(&group));
        write!(out, "{}", hanging(&line, width, "  "))?;
        wrote = true;
    }
    let statement_skips = text::statement_skips(&report.skipped_rules);
    if !statement_skips.is_empty() {
        writeln!(
            out,
            "Skipped for single statements ({}):",
            statement_skips.len()
        )?;
        for s in statement_skips.iter().take(STATEMENT_SKIPS) {
            write!(out, "{}", statement_skip_line(s, width))?;
        }
        if statement_skips.len() > STATEMENT_SKIPS {
            writeln!(
                out,
                "  … {} more (`--format json` lists them all)",
                statement_skips.len() - STATEMENT_SKIPS
            )?;
        }
        wrote = true;
    }
    let migration_groups = text::migration_skip_groups(&report.skipped_migrations);
    for group in migration_groups.iter().take(MIGRATION_SKIP_REASONS) {
        let paths: Vec<&str> = group.migrations.iter().map(|m| m.path.as_str()).collect();
        let dir = text::common_dir(&paths);
        let name = |p: &&str| p.strip_prefix(dir).unwrap_or(p).to_string();
        let (first, between, last) = text::ends(&paths, 2, 2);
        let mut names: Vec<String> = first.iter().map(name).collect();
        if between > 0 {
            names.push(format!("… {between} more …"));
        }
        names.extend(last.iter().map(name));
        let place = if dir.is_empty() {
            String::new()
        } else {
            format!(", in {dir}")
        };
        let line = format!(
            "{}{place}: {}. {}",
            text::migration_skip_head(group),
            names.join(", "),
            text::migration_skip_hint(group)
        );
        write!(out, "{}", hanging(&line, width, "  "))?;
        wrote = true;
    }
    if migration_groups.len() > MIGRATION_SKIP_REASONS {
        let rest: usize = migration_groups
            .iter()
            .skip(MIGRATION_SKIP_REASONS)
            .map(|g| g.migrations.len())
            .sum();
        writeln!(
            out,
            "… {} not reviewed for other reasons (`--format json` lists them all)",
            text::count(rest, "more migration", "more migrations")
        )?;
    }
    if wrote {
        writeln!(out)?;
    }
    Ok(())
}

/// `  migrations/0042.sql:7 seq-scan-on-large-table: reason`, continuation lines indented.
fn statement_skip_line(s: &SkippedRule, width: usize) -> String {
    let line = format!(
        "{} {}: {}",
        text::skip_location(s),
        s.rule,
        text::one_line(&s.reason)
    );
    let body = hanging(&line, width.saturating_sub(2), "    ");
    body.lines().map(|l| format!("  {l}\n")).collect()
}

/// Word-wrapped with the first line flush left and the rest under `indent`.
fn hanging(text: &str, width: usize, indent: &str) -> String {
    let wrapped = text::wrap(&text::one_line(text), width, indent);
    wrapped.strip_prefix(indent).unwrap_or(&wrapped).to_string()
}

/// `2 errors, 1 warning, 3 info in 4 migrations (evidence: static)` or
/// `No findings in 4 migrations, 200 not reviewed (evidence: catalog)`.
fn summary_line(report: &Report, paint: Paint) -> String {
    let mut migrations = text::count(report.migrations.len(), "migration", "migrations");
    if !report.skipped_migrations.is_empty() {
        // "in 2 migrations" alone would read as "the folder has 2 migrations".
        migrations.push_str(&format!(
            ", {} not reviewed",
            report.skipped_migrations.len()
        ));
    }
    let evidence = report.evidence;
    match report.worst() {
        None => paint.green(&format!(
            "No findings in {migrations} (evidence: {evidence})"
        )),
        Some(worst) => {
            let counts = text::severity_counts(&report.summary);
            paint.severity(
                worst,
                &format!("{counts} in {migrations} (evidence: {evidence})"),
            )
        }
    }
}

/// A plan excerpt indented by `indent`, keeping its own indentation, each line cut (not
/// wrapped) to the width and at most `PLAN_LINES` lines; the full plan is in the other
/// formats.
fn plan_block(plan: &str, width: usize, indent: &str) -> String {
    let lines: Vec<&str> = plan
        .lines()
        .map(str::trim_end)
        .skip_while(|l| l.trim().is_empty())
        .collect();
    let avail = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    for line in lines.iter().take(PLAN_LINES) {
        out.push_str(indent);
        out.push_str(&text::truncate(&line.replace('\t', "    "), avail));
        out.push('\n');
    }
    if lines.len() > PLAN_LINES {
        out.push_str(&format!(
            "{indent}… {} (the markdown and JSON reports have the whole plan)\n",
            text::count(lines.len() - PLAN_LINES, "more line", "more lines")
        ));
    }
    out
}

/// `  why:     text…`: the label in a column `pad` wide, continuation lines aligned under
/// the text.
fn labelled(label: &str, body: &str, width: usize, pad: usize) -> String {
    let indent = " ".repeat(pad + 2);
    let wrapped = text::wrap(&text::one_line(body), width, &indent);
    let head = format!("  {:<pad$}", format!("{label}:"));
    match wrapped.strip_prefix(&indent) {
        Some(rest) => format!("{head}{rest}"),
        None => format!("{}\n", head.trim_end()),
    }
}

/// Execution level: the statements of one migration as they ran on the copy, one line each
/// (`L12   1.6 s  AccessExclusiveLock on orders held 1.6 s  120,000 rows  `UPDATE …``), cut
/// rather than wrapped so the columns stay aligned; then why it did not run, if it did not.
fn timeline_block(m: &MigrationSummary, width: usize, paint: Paint) -> String {
    const INDENT: usize = 12;
    let mut lines: Vec<String> = Vec::new();
    for row in text::timeline_rows(m) {
        let plain = row.line();
        let statement = text::one_line(&row.entry.statement);
        // The statement fills what the row leaves; below a dozen characters it says nothing.
        let room = width.saturating_sub(INDENT + plain.chars().count() + 4);
        let mut row_lines = if room >= 12 && !statement.is_empty() {
            vec![format!("{plain}  `{}`", text::truncate(&statement, room))]
        } else if INDENT + plain.chars().count() <= width {
            vec![plain]
        } else {
            // Too narrow for one line: the measurements wrap under themselves, right of the
            // aligned place and duration.
            let pad = " ".repeat(row.head.chars().count() + 2);
            let avail = width.saturating_sub(INDENT);
            let wrapped = text::wrap(&row.tail, avail, &pad);
            let mut out = Vec::new();
            for (i, l) in wrapped.lines().enumerate() {
                match (i, l.strip_prefix(pad.as_str())) {
                    (0, Some(rest)) => out.push(format!("{}  {rest}", row.head)),
                    _ => out.push(l.to_string()),
                }
            }
            out
        };
        if row.entry.failed {
            if let Some(first) = row_lines.first_mut() {
                *first = first.replacen("FAILED", &paint.severity(Severity::Error, "FAILED"), 1);
            }
        }
        lines.append(&mut row_lines);
    }
    lines.extend(text::quick_statements(m));
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let label = if i == 0 { "timeline:" } else { "" };
        out.push_str(&format!("  {label:<10}{line}\n"));
    }
    if let Some(reason) = &m.not_executed {
        let body = hanging(reason, width.saturating_sub(2), &" ".repeat(INDENT - 2));
        let body = match body.strip_prefix("not executed:") {
            Some(rest) => format!("{}{rest}", paint.bold("not executed:")),
            None => body,
        };
        for line in body.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// Like `labelled`, for several lines each wrapped on its own.
fn labelled_lines(label: &str, lines: &[String], width: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let block = labelled(label, line, width, 10);
        if i == 0 {
            out.push_str(&block);
        } else {
            // Same alignment, without repeating the label.
            let blank = " ".repeat(label.chars().count() + 1);
            out.push_str(&block.replacen(&format!("{label}:"), &blank, 1));
        }
    }
    out
}

/// `met: rows <= 50000 — 1,204 rows touched`, one line per declared expectation.
fn expected_lines(m: &MigrationSummary) -> Vec<String> {
    if m.expected.is_empty() {
        return vec!["none declared".to_string()];
    }
    m.expected
        .iter()
        .map(|e| {
            let mut line = format!(
                "{}: {}",
                text::expect_status(e.status),
                text::one_line(&e.text)
            );
            if !e.detail.trim().is_empty() {
                line.push_str(" — ");
                line.push_str(&text::one_line(&e.detail));
            }
            line
        })
        .collect()
}

/// `restores (annotation): DROP INDEX …`, then the status detail if any.
fn rollback_lines(m: &MigrationSummary) -> Vec<String> {
    let r = &m.rollback;
    let mut lines = match text::rollback_state(r) {
        RollbackState::Missing => vec!["none".to_string()],
        RollbackState::Irreversible => vec!["irreversible (declared)".to_string()],
        RollbackState::Present(status) => vec![format!(
            "{} ({}): {}",
            text::rollback_status(status),
            text::rollback_source(r.source),
            text::first_line(&r.text, EXCERPT)
        )],
    };
    if !r.detail.trim().is_empty() {
        lines.push(text::one_line(&r.detail));
    }
    lines
}

/// ANSI styling of the terminal formats (table, concise), or none at all.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    pub(crate) fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub(crate) fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub(crate) fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub(crate) fn severity(self, severity: Severity, s: &str) -> String {
        match severity {
            Severity::Error => self.wrap("1;31", s),
            Severity::Warning => self.wrap("33", s),
            Severity::Info => self.wrap("36", s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render_at;
    use crate::model::Report;
    use crate::report::{fixtures, Terminal};

    fn table(report: &Report, term: Terminal) -> String {
        let mut out = Vec::new();
        render_at(report, &term, Some(fixtures::NOW), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn catalog_report() {
        insta::assert_snapshot!(
            "table_catalog",
            table(&fixtures::catalog(), Terminal::plain())
        );
    }

    #[test]
    fn catalog_report_on_a_narrow_terminal() {
        let term = Terminal {
            width: 80,
            color: false,
        };
        insta::assert_snapshot!("table_catalog_80", table(&fixtures::catalog(), term));
    }

    #[test]
    fn names_the_copy_at_catalog_level_only() {
        let out = table(&fixtures::catalog(), Terminal::plain());
        let flat = crate::report::text::one_line(&out);
        assert!(
            flat.contains(
                "evidence: catalog — copy: shop on PostgreSQL 15.19, 1.2 GB, statistics analyzed \
                 2026-11-20T10:00:00Z (6 days ago) note: statistics of a restored copy"
            ),
            "{out}"
        );
        let clean = table(&fixtures::clean(), Terminal::plain());
        assert!(!clean.contains("copy:"), "{clean}");
        assert!(!clean.contains("evidence: static —"), "{clean}");
    }

    #[test]
    fn never_analyzed_copy_warns_that_row_counts_are_guesses() {
        let mut report = fixtures::catalog();
        if let Some(copy) = report.copy.as_mut() {
            copy.last_analyzed = None;
            copy.in_recovery = true;
        }
        let out = table(&report, Terminal::plain());
        assert!(
            out.contains("shop on PostgreSQL 15.19 (standby), 1.2 GB, no ANALYZE time recorded")
        );
        assert!(out.contains("row counts are estimates from pg_class and may be 0"));
    }

    #[test]
    fn run_wide_skips_are_one_line_per_reason() {
        let out = table(&fixtures::clean(), Terminal::plain());
        let skip_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("Skipped")).collect();
        assert_eq!(skip_lines.len(), 2, "{out}");
        assert!(skip_lines[0].starts_with(
            "Skipped 6 rules that need --database-url: duplicate-index, foreign-key-without-index,"
        ));
        assert!(skip_lines[1].starts_with(
            "Skipped 2 rules that need execution on a disposable copy (--clone): lock-held-too-long"
        ));
    }

    #[test]
    fn statement_skips_name_their_place() {
        let out = table(&fixtures::catalog(), Terminal::plain());
        assert!(out.contains("\nSkipped for single statements (1):\n  migrations/0202_backfill_order_status.sql:7 seq-scan-on-large-table: table order_events is\n"), "{out}");
    }

    #[test]
    fn a_huge_skip_list_stays_a_few_lines() {
        let mut report = fixtures::catalog();
        report
            .skipped_rules
            .extend((0..500).map(|i| crate::model::SkippedRule {
                file: Some(format!("m/{i}.sql")),
                line: Some(1),
                ..crate::model::SkippedRule::everywhere("schema-drift", "table is new")
            }));
        report.skipped_migrations = (0..500)
            .map(|i| crate::model::SkippedMigration {
                path: format!("m/{i}.sql"),
                version: None,
                reason: format!("reason {i}"),
            })
            .collect();
        let out = table(&report, Terminal::plain());
        assert!(
            out.contains("  … 491 more (`--format json` lists them all)\n"),
            "{out}"
        );
        assert!(out.contains("… 495 more migrations not reviewed for other reasons"));
        let footer = out.rsplit_once("╯\n\n").map_or("", |(_, f)| f);
        assert!(footer.lines().count() < 40, "{footer}");
    }

    #[test]
    fn applied_migrations_are_counted_not_listed() {
        let out = table(&fixtures::catalog(), Terminal::plain());
        let flat = crate::report::text::one_line(&out);
        assert!(
            flat.contains(
                "200 migrations not reviewed — already applied on the copy (schema_migrations), \
                 in migrations/: 0001_change_1.sql, 0002_change_2.sql, … 196 more …, \
                 0199_change_199.sql, 0200_change_200.sql. Use --all to review them."
            ),
            "{out}"
        );
        assert!(!out.contains("0100_change_100.sql"));
        assert!(out.ends_with(
            "2 errors, 1 warning, 0 info in 2 migrations, 200 not reviewed (evidence: catalog)\n"
        ));
    }

    #[test]
    fn facts_show_size_scans_and_the_plan_tree() {
        let out = table(&fixtures::catalog(), Terminal::plain());
        assert!(out.contains("1.2M rows, 700 MB"), "{out}");
        assert!(out.contains("2,000,000 index scans"));
        assert!(out.contains(
            "migrations/0202_backfill_order_status.sql:3:1  error  M049 dml-touches-many-rows\n"
        ));
        // The tree keeps its indentation, under its finding.
        assert!(out.contains(
            "\n  plan:\n    Update on orders  (cost=0.00..412500.00 rows=0 width=0)\n      ->  Seq Scan on orders  (cost=0.00..412500.00 rows=12000000 width=38)\n"
        ));
        assert!(
            out.contains("\n            Filter: (status IS NULL)\n"),
            "{out}"
        );
    }

    #[test]
    fn sample_report() {
        insta::assert_snapshot!(
            "table_sample",
            table(&fixtures::sample(), Terminal::plain())
        );
    }

    #[test]
    fn sample_report_on_a_narrow_terminal() {
        let term = Terminal {
            width: 80,
            color: false,
        };
        insta::assert_snapshot!("table_sample_80", table(&fixtures::sample(), term));
    }

    #[test]
    fn sample_report_on_a_wide_terminal() {
        let term = Terminal {
            width: 200,
            color: false,
        };
        insta::assert_snapshot!("table_sample_200", table(&fixtures::sample(), term));
    }

    #[test]
    fn execution_report() {
        insta::assert_snapshot!(
            "table_execution",
            table(&fixtures::execution(), Terminal::plain())
        );
    }

    #[test]
    fn execution_report_on_a_narrow_terminal() {
        let term = Terminal {
            width: 80,
            color: false,
        };
        insta::assert_snapshot!("table_execution_80", table(&fixtures::execution(), term));
    }

    #[test]
    fn clean_report() {
        insta::assert_snapshot!("table_clean", table(&fixtures::clean(), Terminal::plain()));
    }

    #[test]
    fn no_findings_says_so_and_shows_no_findings_table() {
        let out = table(&fixtures::clean(), Terminal::plain());
        assert!(out.ends_with("No findings in 2 migrations (evidence: static)\n"));
        assert!(!out.contains("Location"));
        let empty = Report {
            migrations: vec![],
            skipped_rules: vec![],
            ..fixtures::clean()
        };
        assert_eq!(
            table(&empty, Terminal::plain()),
            "No findings in 0 migrations (evidence: static)\n"
        );
    }

    #[test]
    fn summary_line_counts_every_severity() {
        let out = table(&fixtures::sample(), Terminal::plain());
        assert!(out.ends_with("2 errors, 1 warning, 1 info in 3 migrations (evidence: catalog)\n"));
    }

    /// Lines that identify something (a verdict, a finding's header, a migration's path, the
    /// summary) are the same at every width, in the same order: only prose wraps.
    fn identifying_lines(out: &str) -> Vec<&str> {
        out.lines()
            .filter(|l| !l.starts_with(' ') && !l.is_empty())
            .filter(|l| {
                ["error ", "warning ", "info ", "ok ", "skipped "]
                    .iter()
                    .any(|p| l.starts_with(p))
                    || l.contains(".sql")
                    || l.contains(" in ") && l.contains("(evidence:")
            })
            .collect()
    }

    #[test]
    fn one_layout_at_every_width() {
        for report in [
            fixtures::sample(),
            fixtures::catalog(),
            fixtures::execution(),
            fixtures::clean(),
        ] {
            let at = |width| {
                table(
                    &report,
                    Terminal {
                        width,
                        color: false,
                    },
                )
            };
            let wide = at(200);
            let reference = identifying_lines(&wide);
            assert!(reference.len() >= report.migrations.len() * 2, "{wide}");
            for width in [60, 80, 100, 160] {
                let out = at(width);
                assert_eq!(identifying_lines(&out), reference, "at {width}:\n{out}");
                for line in out.lines() {
                    // Prose fits; identifying lines and single long words may not.
                    let identifying = reference.contains(&line);
                    assert!(
                        identifying
                            || line.chars().count() <= usize::from(width)
                            || !line.trim().contains(' '),
                        "line wider than {width}: {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn verdicts_come_first_and_errors_before_warnings() {
        let out = table(&fixtures::sample(), Terminal::plain());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "error    migrations/20240101120000_add_orders_index.sql  blocks writes on public.orders for ~5.4 s"
        );
        let truncate = out.find(":2:1  error  M026").unwrap();
        let drop = out.find(":3:1  warning  M022").unwrap();
        let info = out.find(":1:1  info  M039").unwrap();
        assert!(truncate < drop && drop < info, "{out}");
    }

    #[test]
    fn process_findings_are_counted_when_they_dominate() {
        let mut report = fixtures::large(9, 9);
        let template = report.findings[0].clone();
        for (i, m) in report.migrations.clone().iter().enumerate() {
            for rule in ["missing-owner", "missing-rollback"] {
                report.findings.push(crate::model::Finding {
                    rule,
                    code: if rule == "missing-owner" {
                        "M040"
                    } else {
                        "M042"
                    },
                    severity: crate::model::Severity::Warning,
                    file: m.path.clone(),
                    line: 1,
                    message: format!("No {rule} in migration {i}"),
                    ..template.clone()
                });
            }
        }
        let out = table(&report, Terminal::plain());
        assert!(!out.contains("No missing-owner in migration"), "{out}");
        assert!(
            crate::report::text::one_line(&out).contains(
                "M040 missing-owner (warning): 9 migrations: 0001_change_number_0.sql, \
                 0002_change_number_1.sql, … 6 more …, 0009_change_number_8.sql"
            ),
            "{out}"
        );
        assert!(out.contains("People facts: 18 findings"), "{out}");
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = table(&fixtures::sample(), Terminal::plain());
        assert!(!plain.contains('\x1b'));
        let coloured = table(
            &fixtures::sample(),
            Terminal {
                color: true,
                ..Terminal::plain()
            },
        );
        assert!(coloured.contains("\x1b["));
    }
}
