//! The terminal report (the default on a tty): the findings, why/instead once per rule, the
//! migrations' people facts (owner, expected results, rollback), skipped rules, and a
//! one-line summary last, where the eye lands when the command returns (ruff and squawk end
//! the same way).
//!
//! Findings and migrations are comfy-table tables. Paths and rule names are what a reader
//! copies and searches for, so they are never broken across lines: when the terminal is too
//! narrow for them beside a readable message, location and rule are stacked in one cell, and
//! when even that does not fit, the table gives way to one block per item (ruff's layout).
//! Statements stay out: the message names the object and `file:line:col` jumps to it; the
//! full statement is in the markdown and JSON reports.

use super::text::{self, RollbackState};
use super::Terminal;
use crate::model::{Finding, MigrationSummary, Report, Severity};
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

/// Writes the terminal report.
pub fn render(report: &Report, term: &Terminal, out: &mut dyn Write) -> Result<()> {
    let paint = Paint(term.color);
    let width = usize::from(term.width);
    let prose = width.min(PROSE_WIDTH);
    if !report.findings.is_empty() {
        write_findings(&report.findings, term, out)?;
        write_rule_notes(&report.findings, prose, paint, out)?;
    }
    if !report.migrations.is_empty() {
        write_migrations(&report.migrations, term, out)?;
    }
    if !report.skipped_rules.is_empty() {
        let n = report.skipped_rules.len();
        let head = format!(
            "Skipped {} that {} more evidence than this run had ({}):",
            text::count(n, "rule", "rules"),
            if n == 1 { "needs" } else { "need" },
            report.evidence
        );
        write!(out, "{}", text::wrap(&head, prose, ""))?;
        for s in &report.skipped_rules {
            let line = format!("{}: {}", s.rule, text::one_line(&s.reason));
            write!(out, "{}", text::wrap(&line, prose, "  "))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(report, paint))?;
    Ok(())
}

/// `2 errors, 1 warning, 3 info in 4 migrations (evidence: static)` or
/// `No findings in 4 migrations (evidence: static)`.
fn summary_line(report: &Report, paint: Paint) -> String {
    let migrations = text::count(report.migrations.len(), "migration", "migrations");
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
    /// Message, then the facts on their own line.
    message: String,
}

fn finding_rows(findings: &[Finding]) -> Vec<FindingRow<'_>> {
    findings
        .iter()
        .map(|f| {
            let mut facts = text::facts(&f.facts);
            if let Some(plan) = &f.facts.plan {
                facts.push(format!("plan: {}", text::first_line(plan, EXCERPT)));
            }
            let mut message = text::one_line(&f.message);
            if !facts.is_empty() {
                message.push_str("\n↳ ");
                message.push_str(&facts.join(" · "));
            }
            FindingRow {
                finding: f,
                location: format!("{}:{}:{}", f.file, f.line, f.column),
                rule: format!("{} {}", f.code, f.rule),
                owner: f.owner.as_deref().unwrap_or(text::UNOWNED),
                message,
            }
        })
        .collect()
}

fn write_findings(findings: &[Finding], term: &Terminal, out: &mut dyn Write) -> Result<()> {
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
            write!(out, "{}", text::wrap(&r.message, width, "  "))?;
            writeln!(out, "  owner: {}", r.owner)?;
            writeln!(out)?;
        }
        return Ok(());
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
        cells.push(Cell::new(&r.message));
        cells.push(Cell::new(r.owner));
        table.add_row(cells);
    }
    match layout {
        Layout::Columns => keep_whole(&mut table, &[0, 1, 2, 4]),
        _ => keep_whole(&mut table, &[0, 1, 3]),
    }
    writeln!(out, "{table}")?;
    writeln!(out)?;
    Ok(())
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
    let layout = choose_layout(
        &[path_w, owner_w],
        &[path_w.max(owner_w + "owner: ".len())],
        2,
        usize::from(term.width),
    );
    if layout == Layout::Blocks {
        let paint = Paint(term.color);
        let width = usize::from(term.width);
        for (m, owner) in migrations.iter().zip(&owners) {
            writeln!(out, "{}", paint.bold(&m.path))?;
            write!(out, "{}", labelled("owner", owner, width, 10))?;
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
            writeln!(out)?;
        }
        return Ok(());
    }
    let mut table = match layout {
        Layout::Columns => new_table(term, &["Migration", "Owner", "Expected result", "Rollback"]),
        _ => new_table(term, &["Migration / Owner", "Expected result", "Rollback"]),
    };
    for (m, owner) in migrations.iter().zip(&owners) {
        let mut cells = match (layout, &m.owner) {
            (Layout::Columns, _) => vec![Cell::new(&m.path), Cell::new(owner)],
            (_, Some(_)) => vec![Cell::new(format!("{}\nowner: {owner}", m.path))],
            (_, None) => vec![Cell::new(format!("{}\n{owner}", m.path))],
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
    use super::render;
    use crate::model::Report;
    use crate::report::{fixtures, Terminal};

    fn table(report: &Report, term: Terminal) -> String {
        let mut out = Vec::new();
        render(report, &term, &mut out).unwrap();
        String::from_utf8(out).unwrap()
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
        for width in [60, 80, 100, 160] {
            let term = Terminal {
                width,
                color: false,
            };
            let out = table(&fixtures::sample(), term);
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
