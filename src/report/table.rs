//! The terminal report (the default on a tty): the findings, their query plans, why/instead
//! once per rule, the migrations' people facts (owner, expected results, rollback), then what
//! the numbers rest on (the copy's identity) and what was not looked at (skipped rules and
//! migrations), and a one-line summary last, where the eye lands when the command returns
//! (ruff and squawk end the same way).
//!
//! The footer stays short whatever the run: run-wide skipped rules are one line per reason,
//! and hundreds of already-applied migrations are one count with the first and last named.
//!
//! Findings and migrations are comfy-table tables. Paths and rule names are what a reader
//! copies and searches for, so they are never broken across lines: when the terminal is too
//! narrow for them beside a readable message, location and rule are stacked in one cell, and
//! when even that does not fit, the table gives way to one block per item (ruff's layout).
//! Statements stay out: the message names the object and `file:line:col` jumps to it; the
//! full statement is in the markdown and JSON reports.
//!
//! At execution level each migration is a block whose expected results and rollback are followed
//! by its timeline on the copy (one aligned line per statement) or why it was not executed;
//! the lock totals per table and the caveat that a copy's durations are indicative sit with
//! the copy's identity near the footer.

use super::text::{self, RollbackState};
use super::Terminal;
use crate::model::{Finding, MigrationSummary, Report, Severity, SkippedRule};
use anyhow::Result;
use comfy_table::modifiers::UTF8_ROUND_CORNERS;
use comfy_table::presets::UTF8_FULL;
use comfy_table::{Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table};
use std::io::Write;

/// Longest rollback or plan excerpt shown; the rest is in the other formats.
const EXCERPT: usize = 60;
/// Narrowest message (or expected/rollback) column worth a table.
const MIN_FLEX: usize = 30;
/// Prose below the tables is wrapped at most this wide, even on a wide terminal.
const PROSE_WIDTH: usize = 100;
/// Plan lines shown per finding; plans are trees and the top holds the costly nodes.
const PLAN_LINES: usize = 15;
/// Rule names listed per skip reason before the rest is counted.
const SKIPPED_RULE_NAMES: usize = 8;
/// Rules skipped for single statements listed before the rest is counted.
const STATEMENT_SKIPS: usize = 10;
/// Reasons for skipping migrations shown, one line each, before the rest is counted.
const MIGRATION_SKIP_REASONS: usize = 5;

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
    if !report.findings.is_empty() {
        let blocks = write_findings(&report.findings, term, out)?;
        if !blocks {
            write_plans(&report.findings, width, paint, out)?;
        }
        write_rule_notes(&report.findings, prose, paint, out)?;
    }
    if !report.migrations.is_empty() {
        write_migrations(&report.migrations, term, out)?;
    }
    write_footer(report, prose, now, out)?;
    writeln!(out, "{}", summary_line(report, paint))?;
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

/// How a list of items is laid out at the available width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Every field in its own column.
    Columns,
    /// The identifying fields stacked in the first cell.
    Stacked,
    /// No table: one block of lines per item.
    Blocks,
}

/// Picks the richest layout that keeps the identifiers (`columns` content widths, or
/// `stacked` for the stacked variant) whole and leaves `flexible` columns `MIN_FLEX` wide.
fn choose_layout(columns: &[usize], stacked: &[usize], flexible: usize, width: usize) -> Layout {
    // Each column costs its content, two of padding and one border; the table one more border.
    let fits = |whole: &[usize]| {
        let fixed: usize = whole.iter().map(|w| w + 3).sum();
        fixed + flexible * (MIN_FLEX + 3) < width
    };
    if fits(columns) {
        Layout::Columns
    } else if fits(stacked) {
        Layout::Stacked
    } else {
        Layout::Blocks
    }
}

/// Widest line of a header and its column's values, in characters.
fn widest<S: AsRef<str>>(header: &str, values: &[S]) -> usize {
    values
        .iter()
        .flat_map(|v| v.as_ref().lines().map(|l| l.chars().count()).max())
        .chain([header.chars().count()])
        .max()
        .unwrap_or(0)
}

fn new_table(term: &Terminal, headers: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL)
        .apply_modifier(UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        // The width is decided by `Terminal`, never by comfy-table probing stdout itself, so
        // the same report renders the same way into a file, a pipe or a test buffer.
        .force_no_tty()
        .set_width(term.width);
    if term.color {
        table.enforce_styling();
    }
    table.set_header(
        headers
            .iter()
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold))
            .collect::<Vec<_>>(),
    );
    table
}

/// Keeps these columns as wide as their content; the others share what is left.
fn keep_whole(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = table.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// A finding's fields as the terminal shows them.
struct FindingRow<'a> {
    finding: &'a Finding,
    location: String,
    rule: String,
    owner: &'a str,
    message: String,
    /// The facts as one line of phrases, without the plan.
    facts: Vec<String>,
}

impl FindingRow<'_> {
    /// The message, then `↳ facts` on its own line; a table cell adds the plan's headline
    /// (its tree follows the table), a block does not (its tree follows right below).
    fn body(&self, with_plan: bool) -> String {
        let mut facts = self.facts.clone();
        if let (true, Some(plan)) = (with_plan, &self.finding.facts.plan) {
            facts.push(format!("plan: {}", text::plan_headline(plan, EXCERPT)));
        }
        let mut body = self.message.clone();
        if !facts.is_empty() {
            body.push_str("\n↳ ");
            body.push_str(&facts.join(" · "));
        }
        body
    }
}

fn finding_rows(findings: &[Finding]) -> Vec<FindingRow<'_>> {
    findings
        .iter()
        .map(|f| FindingRow {
            finding: f,
            location: format!("{}:{}:{}", f.file, f.line, f.column),
            rule: format!("{} {}", f.code, f.rule),
            owner: f.owner.as_deref().unwrap_or(text::UNOWNED),
            message: text::one_line(&f.message),
            facts: text::facts(&f.facts),
        })
        .collect()
}

/// Writes the findings; returns whether they were written as blocks (which already hold the
/// plans) rather than as a table.
fn write_findings(findings: &[Finding], term: &Terminal, out: &mut dyn Write) -> Result<bool> {
    let rows = finding_rows(findings);
    let locations: Vec<&str> = rows.iter().map(|r| r.location.as_str()).collect();
    let rules: Vec<&str> = rows.iter().map(|r| r.rule.as_str()).collect();
    let owners: Vec<&str> = rows.iter().map(|r| r.owner).collect();
    let loc_w = widest("Location", &locations);
    let rule_w = widest("Rule", &rules);
    let owner_w = widest("Owner", &owners);
    let sev_w = widest("Severity", &[""]);
    let layout = choose_layout(
        &[loc_w, rule_w, sev_w, owner_w],
        &[loc_w.max(rule_w), sev_w, owner_w],
        1,
        usize::from(term.width),
    );
    if layout == Layout::Blocks {
        let paint = Paint(term.color);
        let width = usize::from(term.width);
        for r in &rows {
            let severity = r.finding.severity.as_str();
            let head_w = r.location.chars().count() + severity.len() + r.rule.len() + 4;
            // Location, severity and rule on one line when they fit, else the location alone.
            let sep = if head_w <= width { "  " } else { "\n  " };
            writeln!(
                out,
                "{}{sep}{}  {}",
                paint.bold(&r.location),
                paint.severity(r.finding.severity, severity),
                r.rule
            )?;
            write!(out, "{}", text::wrap(&r.body(false), width, "  "))?;
            if let Some(plan) = r
                .finding
                .facts
                .plan
                .as_deref()
                .filter(|p| !p.trim().is_empty())
            {
                writeln!(out, "  plan:")?;
                write!(out, "{}", plan_block(plan, width, "    "))?;
            }
            writeln!(out, "  owner: {}", r.owner)?;
            writeln!(out)?;
        }
        return Ok(true);
    }
    let mut table = match layout {
        Layout::Columns => new_table(term, &["Location", "Rule", "Severity", "Message", "Owner"]),
        _ => new_table(term, &["Location / Rule", "Severity", "Message", "Owner"]),
    };
    for r in &rows {
        let mut cells = match layout {
            Layout::Columns => vec![Cell::new(&r.location), Cell::new(&r.rule)],
            _ => vec![Cell::new(format!("{}\n{}", r.location, r.rule))],
        };
        cells.push(severity_cell(r.finding.severity));
        cells.push(Cell::new(r.body(true)));
        cells.push(Cell::new(r.owner));
        table.add_row(cells);
    }
    match layout {
        Layout::Columns => keep_whole(&mut table, &[0, 1, 2, 4]),
        _ => keep_whole(&mut table, &[0, 1, 3]),
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    Ok(false)
}

/// The plans of the findings that have one, below the table: a plan is a tree whose
/// indentation carries its meaning, which a table cell would re-wrap.
fn write_plans(
    findings: &[Finding],
    width: usize,
    paint: Paint,
    out: &mut dyn Write,
) -> Result<()> {
    for f in findings {
        let Some(plan) = &f.facts.plan else {
            continue;
        };
        if plan.trim().is_empty() {
            continue;
        }
        let head = format!(
            "Plan at {}:{}:{} ({} {}):",
            f.file, f.line, f.column, f.code, f.rule
        );
        writeln!(out, "{}", paint.bold(&head))?;
        write!(out, "{}", plan_block(plan, width, "    "))?;
        writeln!(out)?;
    }
    Ok(())
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

fn severity_cell(severity: Severity) -> Cell {
    let cell = Cell::new(severity.as_str());
    match severity {
        Severity::Error => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell.fg(Color::Cyan),
    }
}

/// Why and instead, once per rule that fired (in code order): repeating them under every
/// finding would bury the findings themselves.
fn write_rule_notes(
    findings: &[Finding],
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
    rules.sort_by_key(|f| f.code);
    for f in rules {
        let n = findings.iter().filter(|g| g.code == f.code).count();
        writeln!(
            out,
            "{} · {}",
            paint.bold(&format!("{} {}", f.code, f.rule)),
            text::count(n, "finding", "findings")
        )?;
        write!(out, "{}", labelled("why", f.why, width, 9))?;
        write!(out, "{}", labelled("instead", f.instead, width, 9))?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}",
        paint.dim("See `migsafe rule NAME` for rollback and examples.")
    )?;
    writeln!(out)?;
    Ok(())
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

fn write_migrations(
    migrations: &[MigrationSummary],
    term: &Terminal,
    out: &mut dyn Write,
) -> Result<()> {
    let owners: Vec<String> = migrations
        .iter()
        .map(|m| match &m.owner {
            Some(o) => format!("{o} ({})", text::owner_source(m.owner_source)),
            None => text::UNOWNED.to_string(),
        })
        .collect();
    let paths: Vec<&str> = migrations.iter().map(|m| m.path.as_str()).collect();
    let path_w = widest("Migration", &paths);
    let owner_w = widest("Owner", &owners);
    // What ran on the copy is told per migration, right under its expected results and
    // rollback (which it explains: a not-met `lock <= 2s` next to the statement that held the
    // lock), so at execution level each migration is a block rather than a table row.
    let executed = migrations
        .iter()
        .any(|m| !m.timeline.is_empty() || m.not_executed.is_some());
    let layout = if executed {
        Layout::Blocks
    } else {
        choose_layout(
            &[path_w, owner_w],
            &[path_w.max(owner_w + "owner: ".len())],
            2,
            usize::from(term.width),
        )
    };
    if layout == Layout::Blocks {
        let paint = Paint(term.color);
        let width = usize::from(term.width);
        for (m, owner) in migrations.iter().zip(&owners) {
            writeln!(out, "{}", paint.bold(&m.path))?;
            write!(out, "{}", labelled("owner", owner, width, 10))?;
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
        return Ok(());
    }
    let mut table = match layout {
        Layout::Columns => new_table(term, &["Migration", "Owner", "Expected result", "Rollback"]),
        _ => new_table(term, &["Migration / Owner", "Expected result", "Rollback"]),
    };
    for (m, owner) in migrations.iter().zip(&owners) {
        // The mode only; its source is in the block layout, JSON and Markdown.
        let runs = format!("runs: {}", m.transaction);
        let mut cells = match (layout, &m.owner) {
            (Layout::Columns, _) => {
                vec![Cell::new(format!("{}\n{runs}", m.path)), Cell::new(owner)]
            }
            (_, Some(_)) => vec![Cell::new(format!("{}\n{runs}\nowner: {owner}", m.path))],
            (_, None) => vec![Cell::new(format!("{}\n{runs}\n{owner}", m.path))],
        };
        cells.push(Cell::new(expected_lines(m).join("\n")));
        cells.push(Cell::new(rollback_lines(m).join("\n")));
        table.add_row(cells);
    }
    match layout {
        Layout::Columns => keep_whole(&mut table, &[0, 1]),
        _ => keep_whole(&mut table, &[0]),
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    Ok(())
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

/// ANSI styling for text outside the tables, or none at all. Inside cells only comfy-table's
/// own styling is used: escapes written into cell text would be counted as width.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn severity(self, severity: Severity, s: &str) -> String {
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
            "Plan at migrations/0202_backfill_order_status.sql:3:1 (M049 dml-touches-many-rows):"
        ));
        // The tree keeps its indentation, below the table.
        assert!(out.contains(
            "\n      ->  Seq Scan on orders  (cost=0.00..412500.00 rows=12000000 width=38)\n"
        ));
        assert!(out.contains("\n            Filter: (status IS NULL)\n"));
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

    #[test]
    fn fits_the_terminal_width() {
        for (width, report) in [60, 80, 100, 160].into_iter().flat_map(|w| {
            [
                (w, fixtures::sample()),
                (w, fixtures::catalog()),
                (w, fixtures::execution()),
            ]
        }) {
            let term = Terminal {
                width,
                color: false,
            };
            let out = table(&report, term);
            let body = out.trim_end().rsplit_once('\n').map_or("", |(b, _)| b);
            for line in body.lines() {
                // Only a single unbreakable word (a long path) may overflow; the summary
                // line (left out of `body`) stays one line so CI logs can grep it.
                assert!(
                    line.chars().count() <= usize::from(width) || !line.trim().contains(' '),
                    "line wider than {width}: {line}"
                );
            }
        }
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
