//! The pull request comment: a hidden marker (so a bot can find and update its own comment),
//! a one-line verdict, the copy the numbers rest on (catalog and execution level), a summary
//! table with one row per migration, what was not checked (skipped rules, grouped by reason;
//! skipped migrations, folded), then per migration its people facts and each finding with its
//! statement, plan, why and instead, and a footer saying how to reproduce it (command,
//! version, evidence level, copy).
//!
//! At execution level each migration also gets its timeline on the copy (a folded table:
//! line, statement, duration, lock, held, rows) and why it was not executed, and the comment
//! says for how long each table was locked, with the caveat that durations on a copy are
//! indicative.
//!
//! GitHub rejects comments over 65,536 characters, and a rejected comment is worse than a
//! short one. So the report is rendered at the richest level that fits in `BUDGET`:
//! full → untimed (timelines summed up in one line each) → folded (no statements, plans,
//! why/instead either) → summarised (only errors listed, the rest counted) → truncated (as
//! many errors as fit). Every shortened level says what it left out and where the full report
//! is (a JSON report the run wrote, else the command).
//!
//! The comment reads no clock and leaves out the run's phase timings (`Report::phases`). For
//! static and catalog evidence the same input therefore gives the same bytes, so CI can diff
//! it and skip updating an unchanged comment. At execution level it shows measurements
//! (timelines, lock totals, a finding's lock held and run time), which legitimately differ
//! from one run to the next.
//!
//! Everything that comes from a migration (paths, owners, messages, SQL) is escaped: a `|`
//! must not split a table cell, a `<index>` must not vanish as an HTML tag, and an owner
//! such as `@payments-team` is put in code so the comment does not notify the team on every
//! push.

use super::text::{self, RollbackState};
use super::{Format, RunInfo};
use crate::model::{
    ExpectStatus, Finding, MigrationSummary, Report, RollbackStatus, Severity, Summary, Transaction,
};
use anyhow::Result;
use std::fmt::Write as _;
use std::io::Write;

/// The marker a CI job searches for to update the previous comment instead of adding one.
pub const MARKER: &str = "<!-- migsafe-report -->";

/// GitHub's limit on a comment body.
pub const GITHUB_LIMIT: usize = 65_536;

/// What we aim to stay under, in bytes (never fewer than characters or UTF-16 units, so
/// whichever way GitHub counts, we are under), leaving room for text a CI step adds.
pub const BUDGET: usize = 60_000;

/// Statements longer than this many lines or characters are collapsed into `<details>`.
const LONG_LINES: usize = 12;
const LONG_CHARS: usize = 1_200;
/// A statement is cut after this many characters even in the full report: a 5 MB
/// `INSERT ... VALUES` helps nobody in a PR comment.
const MAX_STATEMENT: usize = 4_000;
/// Same for a plan excerpt.
const MAX_PLAN: usize = 4_000;
/// Skipped migrations listed in their `<details>` before the middle is counted: the first
/// few, and the latest ones (the ones a reviewer might have expected to still be pending).
const SKIPPED_HEAD: usize = 5;
const SKIPPED_TAIL: usize = 20;

/// How much detail a rendering keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Full,
    /// Full, but each timeline is one line: the first thing given up, since the per-statement
    /// numbers are the least read and JSON has them all.
    Untimed,
    Folded,
    Summarised,
    Truncated,
}

/// Writes the PR comment.
pub fn render(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    out.write_all(to_string(report, run).as_bytes())?;
    Ok(())
}

/// The PR comment as a string, at the richest level that fits in `BUDGET`. It reads no
/// clock: the copy's statistics are dated by their timestamp alone, so the same input gives
/// the same comment (and CI can skip updating an unchanged one).
pub fn to_string(report: &Report, run: &RunInfo) -> String {
    let timed = report.migrations.iter().any(|m| !m.timeline.is_empty());
    for level in [
        Level::Full,
        Level::Untimed,
        Level::Folded,
        Level::Summarised,
    ] {
        if level == Level::Untimed && !timed {
            continue;
        }
        let s = render_level(report, level, run);
        if s.len() <= BUDGET {
            return s;
        }
    }
    let s = render_level(report, Level::Truncated, run);
    if s.len() <= BUDGET {
        return s;
    }
    // Unreachable with the limits below unless a single field is enormous; a cut comment
    // still beats one GitHub refuses. The truncated level has no code blocks or <details>
    // that a cut could leave open.
    let mut end = BUDGET - 200;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = s.get(..end).unwrap_or_default().to_string();
    cut.push_str(&format!(
        "\n\n_… cut to fit GitHub's comment limit. {}_\n",
        full_report_hint(run)
    ));
    cut
}

fn render_level(report: &Report, level: Level, run: &RunInfo) -> String {
    let groups = group(report);
    let mut doc = String::new();
    doc.push_str(MARKER);
    doc.push('\n');
    let _ = writeln!(doc, "### {}\n", verdict(report));
    evidence(report, level, &mut doc);
    execution_totals(report, level, &mut doc);
    if let Some(notice) = notice(report, level, run) {
        let _ = writeln!(doc, "> {notice}\n");
    }
    let table_rows = summary_table(&groups, level, &mut doc);
    skipped(report, level, &mut doc);
    match level {
        Level::Full | Level::Untimed | Level::Folded => {
            for g in &groups {
                migration_section(g, level, &mut doc);
            }
        }
        Level::Summarised | Level::Truncated => {
            errors_only(report, level, table_rows, &mut doc);
        }
    }
    footer(report, run, &mut doc);
    doc
}

/// Where the reader finds what a shortened comment left out: a JSON report this run wrote
/// (kept with the CI job's artifacts), else the command that produces one.
fn full_report_hint(run: &RunInfo) -> String {
    if let Some((_, path)) = run.reports.iter().find(|(f, _)| *f == Format::Json) {
        return format!(
            "The full report is in {} (written by this run; in CI, among the job's artifacts), \
             or run `migsafe check --format json`.",
            code(&text::truncate(path, 200))
        );
    }
    "Run `migsafe check --format json` for the full report.".to_string()
}

/// How to reproduce the comment: the command, migsafe's version, the evidence level and the
/// copy. Run timings are left out on purpose (they differ on every run; JSON has them).
fn footer(report: &Report, run: &RunInfo, doc: &mut String) {
    doc.push_str("---\n\n");
    let mut parts = Vec::new();
    if let Some(command) = &run.command {
        let command = format!("{} --format markdown", text::one_line(command));
        parts.push(format!(
            "Reproduce: {}",
            code(&text::truncate(&command, 1_000))
        ));
    }
    parts.push(format!("migsafe {}", env!("CARGO_PKG_VERSION")));
    parts.push(format!("{} evidence", report.evidence));
    if let Some(copy) = &report.copy {
        parts.push(format!(
            "copy: {}",
            inline(&text::truncate(&text::copy_identity(copy, None), 400))
        ));
    }
    let _ = writeln!(doc, "<sub>{}</sub>", parts.join(" · "));
}

/// `❌ 2 errors, 1 warning in 4 migrations — migsafe (static evidence)`.
fn verdict(report: &Report) -> String {
    let mut migrations = text::count(report.migrations.len(), "migration", "migrations");
    if !report.skipped_migrations.is_empty() {
        migrations.push_str(&format!(
            ", {} not reviewed",
            report.skipped_migrations.len()
        ));
    }
    let tail = format!("— migsafe ({} evidence)", report.evidence);
    match report.worst() {
        None => format!("✅ No findings in {migrations} {tail}"),
        Some(worst) => format!(
            "{} {} in {migrations} {tail}",
            severity_icon(worst),
            nonzero_counts(&report.summary)
        ),
    }
}

/// `2 errors, 1 warning` (zero counts left out: the verdict is read at a glance).
fn nonzero_counts(s: &Summary) -> String {
    let mut parts = Vec::new();
    if s.error > 0 {
        parts.push(text::count(s.error, "error", "errors"));
    }
    if s.warning > 0 {
        parts.push(text::count(s.warning, "warning", "warnings"));
    }
    if s.info > 0 {
        parts.push(format!("{} info", s.info));
    }
    parts.join(", ")
}

fn notice(report: &Report, level: Level, run: &RunInfo) -> Option<String> {
    let json = full_report_hint(run);
    let why = "This comment was shortened to stay under GitHub's 65,536-character limit:";
    match level {
        Level::Full => None,
        Level::Untimed => Some(format!(
            "{why} each migration's timeline on the copy is summed up in one line. {json}"
        )),
        Level::Folded => {
            let timelines = if report.migrations.iter().any(|m| !m.timeline.is_empty()) {
                ", timelines"
            } else {
                ""
            };
            Some(format!(
                "{why} statements, query plans{timelines} and the why/instead of each rule are \
                 left out. {json}"
            ))
        }
        Level::Summarised | Level::Truncated => {
            let s = &report.summary;
            let mut rest = Vec::new();
            if s.warning > 0 {
                rest.push(text::count(s.warning, "warning", "warnings"));
            }
            if s.info > 0 {
                rest.push(format!("{} info", s.info));
            }
            let verb = if s.warning + s.info == 1 { "is" } else { "are" };
            let counted = if rest.is_empty() {
                String::new()
            } else {
                format!(" ({} {verb} counted in the table)", rest.join(" and "))
            };
            let cut = if level == Level::Truncated {
                " Even so, not everything fitted; the end of the list is cut."
            } else {
                ""
            };
            Some(format!(
                "{why} only errors are listed, without statements or why/instead; \
                 warnings and info are not shown{counted}.{cut} {json}"
            ))
        }
    }
}

/// A migration with its findings; `migration` is `None` for findings in a file the report
/// does not list as a migration (kept so that nothing is ever dropped silently).
struct Group<'a> {
    path: &'a str,
    migration: Option<&'a MigrationSummary>,
    findings: Vec<&'a Finding>,
}

impl Group<'_> {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

fn group(report: &Report) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = report
        .migrations
        .iter()
        .map(|m| Group {
            path: &m.path,
            migration: Some(m),
            findings: Vec::new(),
        })
        .collect();
    for f in &report.findings {
        match groups.iter_mut().find(|g| g.path == f.file) {
            Some(g) => g.findings.push(f),
            None => groups.push(Group {
                path: &f.file,
                migration: None,
                findings: vec![f],
            }),
        }
    }
    groups
}

/// Writes the summary table; returns how many groups it listed (all but when truncated).
fn summary_table(groups: &[Group], level: Level, doc: &mut String) -> usize {
    if groups.is_empty() {
        return 0;
    }
    doc.push_str("| Migration | Owner | Errors | Warnings | Info | Expected result | Rollback |\n");
    doc.push_str("| --- | --- | ---: | ---: | ---: | --- | --- |\n");
    let mut listed = 0;
    for g in groups {
        let row = summary_row(g, level);
        // When truncating, keep room for the errors below and the closing note.
        if level == Level::Truncated && doc.len() + row.len() > BUDGET / 2 {
            break;
        }
        doc.push_str(&row);
        listed += 1;
    }
    if listed < groups.len() {
        let _ = writeln!(
            doc,
            "| _{} more not shown_ | | | | | | |",
            groups.len() - listed
        );
    }
    doc.push('\n');
    listed
}

fn summary_row(g: &Group, level: Level) -> String {
    let max_path = if level == Level::Truncated { 120 } else { 300 };
    let mut path = cell_code(&text::truncate(g.path, max_path));
    if g.migration.is_some_and(|m| m.not_executed.is_some()) {
        path.push_str(" · not executed");
    }
    let (owner, expected, rollback) = match g.migration {
        Some(m) => (
            owner_md(m.owner.as_deref()),
            expected_summary(m),
            rollback_summary(m),
        ),
        None => ("—".to_string(), "—".to_string(), "—".to_string()),
    };
    format!(
        "| {path} | {owner} | {} | {} | {} | {expected} | {rollback} |\n",
        g.count(Severity::Error),
        g.count(Severity::Warning),
        g.count(Severity::Info)
    )
}

/// `✅ 1 met · ❌ 1 not met · ❔ 1 not checked` (only the statuses present).
fn expected_summary(m: &MigrationSummary) -> String {
    if m.expected.is_empty() {
        return "none declared".to_string();
    }
    let mut parts = Vec::new();
    for status in [
        ExpectStatus::Met,
        ExpectStatus::NotMet,
        ExpectStatus::NotChecked,
    ] {
        let n = m.expected.iter().filter(|e| e.status == status).count();
        if n > 0 {
            parts.push(format!(
                "{} {n} {}",
                expect_icon(status),
                text::expect_status(status)
            ));
        }
    }
    parts.join(" · ")
}

fn rollback_summary(m: &MigrationSummary) -> String {
    match text::rollback_state(&m.rollback) {
        RollbackState::Missing => "none".to_string(),
        RollbackState::Irreversible => "irreversible (declared)".to_string(),
        RollbackState::Present(status) => format!(
            "{} {} ({})",
            rollback_icon(status),
            text::rollback_status(status),
            text::rollback_source(m.rollback.source)
        ),
    }
}

/// `**Evidence:** catalog — copy: shop on PostgreSQL 15.19, 1.2 GB, statistics analyzed …`
/// and the copy's caveats, right under the verdict: the numbers below rest on this copy.
fn evidence(report: &Report, level: Level, doc: &mut String) {
    let Some(copy) = &report.copy else {
        return;
    };
    let _ = writeln!(
        doc,
        "**Evidence:** {} — copy: {}\n",
        report.evidence,
        inline(&text::truncate(&text::copy_identity(copy, None), 400))
    );
    let (max_notes, max_chars) = match level {
        Level::Full | Level::Untimed | Level::Folded => (10, 1_000),
        Level::Summarised | Level::Truncated => (3, 300),
    };
    let caveats = text::copy_caveats(copy);
    for caveat in caveats.iter().take(max_notes) {
        let _ = writeln!(doc, "- {}", inline(&text::truncate(caveat, max_chars)));
    }
    if caveats.len() > max_notes {
        let _ = writeln!(
            doc,
            "- … {} (`--format json` has them all)",
            text::count(caveats.len() - max_notes, "more note", "more notes")
        );
    }
    if !caveats.is_empty() {
        doc.push('\n');
    }
}

/// Execution level: for how long each table was locked (a table: the tables are few, and
/// what matters is comparing them), and that a copy is not production.
fn execution_totals(report: &Report, level: Level, doc: &mut String) {
    if !report.locked.is_empty() {
        let max_rows = match level {
            Level::Full | Level::Untimed | Level::Folded => MAX_LOCKED_ROWS,
            Level::Summarised | Level::Truncated => 10,
        };
        doc.push_str("**Locked on the copy**\n\n");
        doc.push_str("| Table | Strongest lock | Blocks | Held in all |\n");
        doc.push_str("| --- | --- | --- | ---: |\n");
        for l in report.locked.iter().take(max_rows) {
            let _ = writeln!(
                doc,
                "| {} | {} | {} | {} |",
                cell_code(&text::truncate(&l.table, 200)),
                inline(&text::truncate(&text::lock_mode_sql(&l.lock), 100)),
                inline(&text::truncate(&text::one_line(&l.blocks), 100)),
                text::duration_ms(l.held_ms)
            );
        }
        if report.locked.len() > max_rows {
            let _ = writeln!(
                doc,
                "| _{} more (`--format json` lists them)_ | | | |",
                text::count(report.locked.len() - max_rows, "table", "tables")
            );
        }
        doc.push('\n');
    }
    if text::has_measurements(report) {
        let _ = writeln!(doc, "_{}_\n", text::INDICATIVE);
    }
}

/// Tables listed in the lock totals before the rest is counted.
const MAX_LOCKED_ROWS: usize = 50;

/// What this run did not check: run-wide skipped rules one line per reason, rules skipped for
/// single statements with their place, and migrations not reviewed (the list folded, since a
/// copy typically has applied hundreds). The summarised levels only count, and never open a
/// `<details>` (the truncated level must have none that a cut could leave open).
fn skipped(report: &Report, level: Level, doc: &mut String) {
    let short = matches!(level, Level::Summarised | Level::Truncated);
    let (max_groups, max_statements) = if short { (10, 5) } else { (50, 20) };
    let rule_groups = text::skip_groups(&report.skipped_rules);
    let statement_skips = text::statement_skips(&report.skipped_rules);
    let migration_groups = text::migration_skip_groups(&report.skipped_migrations);
    let mut list = String::new();
    for g in rule_groups.iter().take(max_groups) {
        let names: Vec<String> = g.rules.iter().map(|r| code(r)).collect();
        let _ = writeln!(
            list,
            "- {}: {}",
            inline(&text::truncate(&text::skip_group_head(g), 300)),
            names.join(", ")
        );
    }
    if rule_groups.len() > max_groups {
        let rest: usize = rule_groups
            .iter()
            .skip(max_groups)
            .map(|g| g.rules.len())
            .sum();
        let _ = writeln!(
            list,
            "- … {} skipped for other reasons (`--format json` lists them)",
            text::count(rest, "more rule", "more rules")
        );
    }
    for s in statement_skips.iter().take(max_statements) {
        let _ = writeln!(
            list,
            "- Skipped {} at {}: {}",
            code(s.rule),
            code(&text::truncate(&text::skip_location(s), 200)),
            inline(&text::truncate(&text::one_line(&s.reason), 300))
        );
    }
    if statement_skips.len() > max_statements {
        let _ = writeln!(
            list,
            "- … {} skipped for single statements (`--format json` lists them all)",
            text::count(
                statement_skips.len() - max_statements,
                "more rule",
                "more rules"
            )
        );
    }
    if short {
        for g in migration_groups.iter().take(max_groups) {
            let paths: Vec<&str> = g.migrations.iter().map(|m| m.path.as_str()).collect();
            let (first, between, last) = text::ends(&paths, 1, 1);
            let mut names: Vec<String> = first
                .iter()
                .map(|p| code(&text::truncate(p, 200)))
                .collect();
            if between > 0 {
                names.push(format!("… {between} more …"));
            }
            names.extend(last.iter().map(|p| code(&text::truncate(p, 200))));
            let _ = writeln!(
                list,
                "- {}: {}. {}",
                inline(&text::truncate(&text::migration_skip_head(g), 300)),
                names.join(", "),
                hint(g)
            );
        }
    }
    if short && migration_groups.len() > max_groups {
        let rest: usize = migration_groups
            .iter()
            .skip(max_groups)
            .map(|g| g.migrations.len())
            .sum();
        let _ = writeln!(
            list,
            "- … {} not reviewed for other reasons (`--format json` lists them)",
            text::count(rest, "more migration", "more migrations")
        );
    }
    if !list.is_empty() {
        doc.push_str(&list);
        doc.push('\n');
    }
    if short {
        return;
    }
    for g in migration_groups.iter().take(max_groups) {
        let paths: Vec<&str> = g.migrations.iter().map(|m| m.path.as_str()).collect();
        let (first, between, last) = text::ends(&paths, SKIPPED_HEAD, SKIPPED_TAIL);
        let mut body = String::new();
        for p in first {
            let _ = writeln!(body, "- {}", code(&text::truncate(p, 300)));
        }
        if between > 0 {
            let _ = writeln!(body, "- … {between} more …");
        }
        for p in last {
            let _ = writeln!(body, "- {}", code(&text::truncate(p, 300)));
        }
        let _ = writeln!(body, "\n{}", hint(g));
        collapsible(
            &text::truncate(&text::migration_skip_head(g), 300),
            &body,
            doc,
        );
    }
    if migration_groups.len() > max_groups {
        let rest: usize = migration_groups
            .iter()
            .skip(max_groups)
            .map(|g| g.migrations.len())
            .sum();
        let _ = writeln!(
            doc,
            "_… {} not reviewed for other reasons (`--format json` lists them)._\n",
            text::count(rest, "more migration", "more migrations")
        );
    }
}

/// `Use `--all` to review them.`, with the flag as code.
fn hint(g: &text::MigrationSkipGroup) -> String {
    text::migration_skip_hint(g)
        .replace("--all", "`--all`")
        .replace("--changed-since", "`--changed-since`")
}

fn migration_section(g: &Group, level: Level, doc: &mut String) {
    let icon = g.worst().map(severity_icon).unwrap_or("✅");
    let _ = writeln!(doc, "#### {icon} {}\n", code(g.path));
    match g.migration {
        Some(m) => {
            people_facts(m, level, doc);
            timeline(m, level, doc);
        }
        None => doc.push_str("_Not one of the reviewed migrations._\n\n"),
    }
    if g.findings.is_empty() {
        doc.push_str("No findings.\n\n");
    }
    for f in &g.findings {
        finding(f, level, doc);
    }
}

/// Execution level: why the migration was not run, or its statements as they ran on the copy:
/// a folded table in the full comment, one line at the shorter levels.
fn timeline(m: &MigrationSummary, level: Level, doc: &mut String) {
    if let Some(reason) = &m.not_executed {
        let reason = text::one_line(reason);
        let reason = reason
            .strip_prefix("not executed:")
            .unwrap_or(&reason)
            .trim();
        let _ = writeln!(
            doc,
            "**Not executed:** {}\n",
            inline(&text::truncate(reason, 1_000))
        );
    }
    if m.timeline.is_empty() {
        return;
    }
    let head = format!("Timeline on the copy ({})", text::timeline_summary(m));
    if level != Level::Full {
        let _ = writeln!(doc, "**{head}**\n");
        return;
    }
    let mut body =
        String::from("| Line | Statement | Duration | Lock | Held | Rows |\n| ---: | --- | ---: | --- | ---: | ---: |\n");
    for t in m.timeline.iter().take(MAX_TIMELINE_ROWS) {
        let lock = match (&t.lock, &t.table) {
            (Some(lock), Some(table)) => format!("{} on {}", cell_code(lock), cell_code(table)),
            (Some(lock), None) => cell_code(lock),
            _ => String::new(),
        };
        let _ = writeln!(
            body,
            "| {}{} | {} | {} | {lock} | {} | {} |",
            t.line,
            if t.failed { " ❌ failed" } else { "" },
            cell_code(&text::truncate(&text::one_line(&t.statement), 200)),
            text::duration_ms(t.duration_ms),
            t.held_ms.map(text::duration_ms).unwrap_or_default(),
            t.rows
                .map(|r| text::thousands(i64::try_from(r).unwrap_or(i64::MAX)))
                .unwrap_or_default(),
        );
    }
    if m.timeline.len() > MAX_TIMELINE_ROWS {
        let _ = writeln!(
            body,
            "\n… {} (`--format json` has them all)",
            text::count(
                m.timeline.len() - MAX_TIMELINE_ROWS,
                "more statement",
                "more statements"
            )
        );
    }
    collapsible(&head, &body, doc);
}

/// Statements shown in one migration's timeline before the rest is counted.
const MAX_TIMELINE_ROWS: usize = 50;

/// Owner, layout, expected results and rollback of one migration.
fn people_facts(m: &MigrationSummary, level: Level, doc: &mut String) {
    let owner = match &m.owner {
        Some(o) => format!("{} ({})", code(o), text::owner_source(m.owner_source)),
        None => text::UNOWNED.to_string(),
    };
    let transaction = match m.transaction {
        Transaction::File => "in one transaction",
        Transaction::Implicit => "as one query (one implicit transaction)",
        Transaction::Statement => "each on its own",
        Transaction::Unknown => "run by an unknown runner",
    };
    let _ = writeln!(
        doc,
        "**Owner:** {owner} · **Layout:** {} · {} {transaction}\n",
        m.layout,
        text::count(m.statements, "statement", "statements")
    );
    if !m.transaction_source.is_empty() {
        let _ = writeln!(
            doc,
            "**Transactions:** `{}` — {}\n",
            m.transaction,
            inline(&text::one_line(&m.transaction_source))
        );
    }
    if m.expected.is_empty() {
        doc.push_str("**Expected result:** none declared\n\n");
    } else {
        doc.push_str("**Expected result:**\n\n");
        for e in &m.expected {
            let detail = if e.detail.trim().is_empty() {
                String::new()
            } else {
                format!(" — {}", inline(&text::one_line(&e.detail)))
            };
            let _ = writeln!(
                doc,
                "- {} {}: {}{detail}",
                expect_icon(e.status),
                text::expect_status(e.status),
                inline(&text::one_line(&e.text))
            );
        }
        doc.push('\n');
    }
    let r = &m.rollback;
    let detail = if r.detail.trim().is_empty() {
        String::new()
    } else {
        format!(" — {}", inline(&text::one_line(&r.detail)))
    };
    match text::rollback_state(r) {
        RollbackState::Missing => doc.push_str("**Rollback:** none\n\n"),
        RollbackState::Irreversible => {
            let _ = writeln!(doc, "**Rollback:** irreversible (declared){detail}\n");
        }
        RollbackState::Present(status) => {
            let head = format!(
                "**Rollback** ({}, {} {}{detail}):",
                text::rollback_source(r.source),
                rollback_icon(status),
                text::rollback_status(status)
            );
            let body = r.text.trim();
            if level <= Level::Untimed && body.lines().count() > 1 {
                let _ = writeln!(doc, "{head}\n");
                collapsible(
                    &format!(
                        "Rollback SQL ({})",
                        text::count(body.lines().count(), "line", "lines")
                    ),
                    &fence(&text::truncate(body, MAX_STATEMENT), "sql"),
                    doc,
                );
            } else {
                let _ = writeln!(doc, "{head} {}\n", code(&text::first_line(body, 200)));
            }
        }
    }
}

fn finding(f: &Finding, level: Level, doc: &mut String) {
    let _ = writeln!(
        doc,
        "**{} {}** · {} · {}\n",
        severity_icon(f.severity),
        f.severity,
        code(&format!("{} {}", f.code, f.rule)),
        code(&format!("{}:{}", f.file, f.line))
    );
    let _ = writeln!(
        doc,
        "{}\n",
        block_start(&inline(&text::one_line(&f.message)))
    );
    let facts = text::facts(&f.facts);
    if !facts.is_empty() {
        let _ = writeln!(doc, "_{}_\n", inline(&facts.join(" · ")));
    }
    if level > Level::Untimed {
        return;
    }
    let statement = f.statement.trim();
    if !statement.is_empty() {
        let shown = text::truncate(statement, MAX_STATEMENT);
        let lines = statement.lines().count();
        let block = fence(&shown, "sql");
        if lines > LONG_LINES || statement.chars().count() > LONG_CHARS {
            collapsible(
                &format!("Statement ({})", text::count(lines, "line", "lines")),
                &block,
                doc,
            );
        } else {
            doc.push_str(&block);
            doc.push('\n');
        }
    }
    if let Some(plan) = f.facts.plan.as_deref().map(str::trim_end) {
        // Leading spaces of the first line are dropped only with the blank lines before it:
        // the tree's indentation is relative to the first node.
        let plan = plan.trim_start_matches(['\r', '\n']);
        if !plan.trim().is_empty() {
            let lines = plan.lines().count();
            collapsible(
                &format!("Query plan ({})", text::count(lines, "line", "lines")),
                &fence(&text::truncate(plan, MAX_PLAN), "text"),
                doc,
            );
        }
    }
    let body = format!(
        "**Why:** {}\n\n**Instead:** {}\n",
        inline(&text::one_line(f.why)),
        inline(&text::one_line(f.instead))
    );
    collapsible("Why it is risky, and what to do instead", &body, doc);
}

/// The summarised levels: each error on one line, grouped in report order.
fn errors_only(report: &Report, level: Level, table_rows: usize, doc: &mut String) {
    let errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        return;
    }
    let _ = writeln!(doc, "#### ❌ Errors\n");
    let max_message = if level == Level::Truncated { 200 } else { 400 };
    // Room kept for the closing note, so the total never passes BUDGET.
    let reserve = 300;
    let mut shown = 0;
    for f in &errors {
        let mut line = format!(
            "- {} {}: {}",
            code(&format!("{}:{}", text::truncate(&f.file, 200), f.line)),
            code(&format!("{} {}", f.code, f.rule)),
            inline(&text::truncate(&text::one_line(&f.message), max_message))
        );
        let facts = text::facts(&f.facts);
        if !facts.is_empty() {
            let _ = write!(line, " _({})_", inline(&facts.join(" · ")));
        }
        line.push('\n');
        if level == Level::Truncated && doc.len() + line.len() + reserve > BUDGET {
            break;
        }
        doc.push_str(&line);
        shown += 1;
    }
    doc.push('\n');
    if shown < errors.len() {
        let _ = writeln!(
            doc,
            "_{} more not shown ({} of {} migrations listed above)._\n",
            text::count(errors.len() - shown, "error", "errors"),
            table_rows,
            report.migrations.len()
        );
    }
}

fn collapsible(summary: &str, body: &str, doc: &mut String) {
    // The blank lines around the body make GitHub render it as Markdown, not raw HTML text.
    let _ = writeln!(
        doc,
        "<details><summary>{}</summary>\n\n{}\n</details>\n",
        html(summary),
        body.trim_end()
    );
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Info => "ℹ️",
    }
}

fn expect_icon(s: ExpectStatus) -> &'static str {
    match s {
        ExpectStatus::Met => "✅",
        ExpectStatus::NotMet => "❌",
        ExpectStatus::NotChecked => "❔",
    }
}

fn rollback_icon(s: RollbackStatus) -> &'static str {
    match s {
        RollbackStatus::Restores => "✅",
        RollbackStatus::Differs => "❌",
        RollbackStatus::NotChecked => "❔",
    }
}

fn owner_md(owner: Option<&str>) -> String {
    match owner {
        Some(o) => cell_code(&text::truncate(o, 100)),
        None => text::UNOWNED.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Escaping. GitHub Flavored Markdown: https://github.github.com/gfm/

/// Writes `c` so that it shows literally, given its neighbours. Only what would start
/// Markdown or HTML syntax is escaped (GFM §2.4: any ASCII punctuation may be
/// backslash-escaped), so that the raw text, which GitHub also sends in e-mails, stays
/// readable: `customer_id` keeps its underscore unescaped, `rows <= 5` its `<`.
fn escape_char(prev: Option<char>, c: char, next: Option<char>, out: &mut String) {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let escape = match c {
        '\\' | '*' | '[' | ']' | '|' | '~' | '`' => true,
        // An underscore inside a word never emphasises (GFM §6.2, "intraword").
        '_' => !(alnum(prev) && alnum(next)),
        // Only `<` followed by a letter, `/`, `!` or `?` can open an HTML tag or autolink.
        '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')),
        _ => false,
    };
    if escape {
        out.push('\\');
        out.push(c);
    } else if c == '&' && next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#') {
        // `&amp;` in a message must stay `&amp;`, not turn into `&`.
        out.push_str("&amp;");
    } else {
        out.push(c);
    }
}

/// Running text that may contain `code spans` (rule texts and messages use them): the code
/// spans are kept as written, everything else is escaped. Backtick runs are paired exactly as
/// GFM does (§6.1), so what we treat as code is what GitHub shows as code.
fn inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i) != Some(&'`') {
            if let Some(&c) = chars.get(i) {
                let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
                escape_char(prev, c, chars.get(i + 1).copied(), &mut out);
            }
            i += 1;
            continue;
        }
        let run = backtick_run(&chars, i);
        match closing_run(&chars, i + run, run) {
            Some(close) => {
                let span: String = chars
                    .get(i..close + run)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                out.push_str(&span);
                i = close + run;
            }
            None => {
                for _ in 0..run {
                    out.push_str("\\`");
                }
                i += run;
            }
        }
    }
    out
}

fn backtick_run(chars: &[char], start: usize) -> usize {
    chars
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&c| c == '`')
        .count()
}

/// Start of the next backtick run of exactly `len` at or after `from`.
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars.get(j) == Some(&'`') {
            let run = backtick_run(chars, j);
            if run == len {
                return Some(j);
            }
            j += run;
        } else {
            j += 1;
        }
    }
    None
}

/// A paragraph must not start a heading, list or thematic break by accident (the text has
/// already been through `inline`, which escapes `*` and friends).
fn block_start(s: &str) -> String {
    if s.starts_with(['#', '-', '+', '=', '>']) {
        return format!("\\{s}");
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) && matches!(s.as_bytes().get(digits), Some(b'.' | b')')) {
        let (number, rest) = s.split_at(digits);
        return format!("{number}\\{rest}");
    }
    s.to_string()
}

/// Arbitrary text (a path, an owner, a rule name) as one code span. The fence is one
/// backtick longer than the longest run inside, and newlines become spaces, so nothing
/// can end the span early (GFM §6.1).
fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.is_empty() {
        return "` `".to_string();
    }
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || longest > 0 {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// A code span inside a table cell: `|` must still be escaped there, because GFM splits
/// cells before it parses code spans (GFM §4.10, example 200).
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// A fenced block longer than any backtick run in its content.
fn fence(body: &str, lang: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest.max(2) + 1);
    format!("{ticks}{lang}\n{}\n{ticks}\n", body.trim_end())
}

/// Text inside an HTML element (`<summary>`).
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(
            inline("use `DROP INDEX <index>` on <orders> | a*b"),
            "use `DROP INDEX <index>` on \\<orders> \\| a\\*b"
        );
        assert_eq!(inline("a ``b ` c`` d"), "a ``b ` c`` d");
        assert_eq!(inline("lonely ` tick"), "lonely \\` tick");
        assert_eq!(inline("rows <= 5 & more"), "rows <= 5 & more");
        assert_eq!(inline("&amp; <br>"), "&amp;amp; \\<br>");
        assert_eq!(
            inline("customer_id _private_ snake_"),
            "customer_id \\_private\\_ snake\\_"
        );
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a.sql"), "`a.sql`");
        assert_eq!(code("we`ird"), "`` we`ird ``");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(code("two\nlines"), "`two lines`");
    }

    #[test]
    fn fences_outgrow_their_content() {
        assert_eq!(fence("SELECT 1", "sql"), "```sql\nSELECT 1\n```\n");
        assert!(fence("a ```` b", "").starts_with("`````\n"));
    }

    #[test]
    fn paragraphs_never_start_a_block() {
        assert_eq!(block_start("# not a heading"), "\\# not a heading");
        assert_eq!(block_start("1. not a list"), "1\\. not a list");
        assert_eq!(block_start("Plain text."), "Plain text.");
    }
}

#[cfg(test)]
mod report_tests {
    use super::{render_level, to_string, Level, BUDGET, GITHUB_LIMIT, MARKER};
    use crate::model::{Report, Severity};
    use crate::report::fixtures;
    use crate::report::RunInfo;

    fn md(report: &Report) -> String {
        to_string(report, &RunInfo::default())
    }

    fn level(report: &Report, level: Level) -> String {
        render_level(report, level, &RunInfo::default())
    }

    #[test]
    fn catalog_report() {
        insta::assert_snapshot!("markdown_catalog", md(&fixtures::catalog()));
    }

    #[test]
    fn summarised_catalog() {
        insta::assert_snapshot!(
            "markdown_catalog_summarised",
            level(&fixtures::catalog(), Level::Summarised)
        );
    }

    #[test]
    fn copy_is_named_under_the_verdict_at_catalog_level_only() {
        let out = md(&fixtures::catalog());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.get(1).copied(),
            Some("### ❌ 2 errors, 1 warning in 2 migrations, 200 not reviewed — migsafe (catalog evidence)")
        );
        assert_eq!(
            lines.get(3).copied(),
            Some(
                "**Evidence:** catalog — copy: shop on PostgreSQL 15.19, 1.2 GB, statistics \
                 analyzed 2026-11-20T10:00:00Z"
            ),
            "no age: it would change the comment every day"
        );
        assert!(!md(&fixtures::clean()).contains("**Evidence:**"));
    }

    #[test]
    fn footer_says_how_to_reproduce_without_timings() {
        let mut report = fixtures::catalog();
        report.phases = vec![crate::model::Phase {
            name: "clone-template".into(),
            duration_ms: 98_765,
            detail: None,
        }];
        let run = RunInfo {
            command: Some("migsafe check db/migrations --changed-since origin/main".into()),
            ..RunInfo::default()
        };
        let out = to_string(&report, &run);
        let last = out.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "<sub>Reproduce: `migsafe check db/migrations --changed-since origin/main \
                 --format markdown` · migsafe {} · catalog evidence · copy: shop on PostgreSQL \
                 15.19, 1.2 GB, statistics analyzed 2026-11-20T10:00:00Z</sub>",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(
            !out.contains("clone-template") && !out.contains("98765") && !out.contains("98,765"),
            "phases are left out"
        );
        assert_eq!(out, to_string(&report, &run), "same input, same bytes");
    }

    #[test]
    fn shortened_comment_points_at_the_json_report_this_run_wrote() {
        let run = RunInfo {
            reports: vec![(crate::report::Format::Json, "out/migsafe.json".into())],
            ..RunInfo::default()
        };
        let out = to_string(&fixtures::large(50, 500), &run);
        assert!(
            out.contains("The full report is in `out/migsafe.json`"),
            "{out}"
        );
    }

    #[test]
    fn unchanged_migrations_point_at_changed_since_not_all() {
        let mut report = fixtures::clean();
        report.skipped_migrations = (1..=3)
            .map(|n| crate::model::SkippedMigration {
                path: format!("db/{n}.sql"),
                version: None,
                reason: crate::changed::unchanged_reason("origin/main"),
            })
            .collect();
        let out = md(&report);
        assert!(
            out.contains("3 migrations not reviewed — unchanged since origin/main"),
            "{out}"
        );
        assert!(
            out.contains("Run without `--changed-since` to review them."),
            "{out}"
        );
        assert!(!out.contains("`--all`"), "{out}");
    }

    #[test]
    fn skipped_migrations_are_folded_and_counted() {
        let out = md(&fixtures::catalog());
        assert!(out.contains(
            "<details><summary>200 migrations not reviewed — already applied on the copy \
             (schema_migrations)</summary>"
        ));
        assert!(out.contains("- `migrations/0001_change_1.sql`\n"));
        assert!(out.contains("- … 175 more …\n"));
        assert!(out.contains("- `migrations/0200_change_200.sql`\n\nUse `--all` to review them."));
        assert!(!out.contains("0100_change_100.sql"));
        let short = level(&fixtures::catalog(), Level::Summarised);
        assert!(!short.contains("<details>"));
        assert!(short.contains(
            "`migrations/0001_change_1.sql`, … 198 more …, `migrations/0200_change_200.sql`. \
             Use `--all` to review them."
        ));
    }

    #[test]
    fn skipped_rules_are_grouped_and_statement_skips_located() {
        let out = md(&fixtures::clean());
        assert!(out.contains(
            "- Skipped 6 rules that need --database-url: `duplicate-index`, \
             `foreign-key-without-index`, `drop-index-in-use`, `schema-drift`, \
             `seq-scan-on-large-table`, `dml-touches-many-rows`\n"
        ));
        assert_eq!(out.matches("- Skipped").count(), 2, "{out}");
        let catalog = md(&fixtures::catalog());
        assert!(catalog.contains(
            "- Skipped `seq-scan-on-large-table` at `migrations/0202_backfill_order_status.sql:7`: \
             table order_events is created"
        ), "{catalog}");
    }

    #[test]
    fn plan_keeps_its_tree_inside_the_fold() {
        let out = md(&fixtures::catalog());
        assert!(out.contains(
            "<details><summary>Query plan (3 lines)</summary>\n\n```text\nUpdate on orders  \
             (cost=0.00..412500.00 rows=0 width=0)\n  ->  Seq Scan on orders"
        ));
        assert!(out.contains("_lock ShareLock (blocks writes) · 1.2M rows, 700 MB_"));
        assert!(out.contains("_86 MB · 2,000,000 index scans_"));
    }

    #[test]
    fn thousands_of_applied_migrations_do_not_push_findings_out() {
        let mut report = fixtures::catalog();
        report.skipped_migrations = (1..=20_000)
            .map(|n| crate::model::SkippedMigration {
                path: format!("db/migrate/{n:06}_a_rather_long_migration_name_{n}.sql"),
                version: Some(n.to_string()),
                reason: "already applied on the copy".into(),
            })
            .collect();
        let out = md(&report);
        assert!(out.len() <= BUDGET);
        // Still the full level: statements and plans are there.
        assert!(out.contains("```sql"), "{out}");
        assert!(out.contains("20000 migrations not reviewed"));
    }

    #[test]
    fn many_statement_skips_and_reasons_still_fit() {
        let mut report = fixtures::large(400, 6000);
        report.skipped_rules = (0..5_000)
            .map(|i| crate::model::SkippedRule {
                file: Some(format!("db/migrations/{i:06}.sql")),
                line: Some(i),
                ..crate::model::SkippedRule::everywhere(
                    "seq-scan-on-large-table",
                    "x".repeat(2_000),
                )
            })
            .chain((0..500).map(|i| {
                crate::model::SkippedRule::everywhere("schema-drift", format!("needs reason {i}"))
            }))
            .collect();
        report.skipped_migrations = (0..5_000)
            .map(|i| crate::model::SkippedMigration {
                path: "p/".repeat(500),
                version: None,
                reason: format!("reason {i}"),
            })
            .collect();
        let out = md(&report);
        assert!(out.len() <= BUDGET, "{} bytes", out.len());
        assert!(out.contains("--format json"));
    }

    #[test]
    fn sample_report() {
        insta::assert_snapshot!("markdown_sample", md(&fixtures::sample()));
    }

    #[test]
    fn clean_report() {
        insta::assert_snapshot!("markdown_clean", md(&fixtures::clean()));
    }

    #[test]
    fn execution_report() {
        insta::assert_snapshot!("markdown_execution", md(&fixtures::execution()));
    }

    #[test]
    fn untimed_execution_report() {
        insta::assert_snapshot!(
            "markdown_execution_untimed",
            level(&fixtures::execution(), Level::Untimed)
        );
    }

    /// A big execution run: every migration with a long timeline on top of its findings.
    fn timed(migrations: usize, findings: usize, statements: usize) -> Report {
        let mut report = fixtures::large(migrations, findings);
        report.evidence = crate::model::Evidence::Execution;
        for m in &mut report.migrations {
            m.timeline = (0..statements)
                .map(|i| crate::model::TimelineEntry {
                    line: i + 1,
                    statement: format!(
                        "UPDATE big_table SET status = 'archived' WHERE id BETWEEN {i}000 AND {i}999"
                    ),
                    duration_ms: 1_000 + i as u64,
                    lock: Some("RowExclusiveLock".into()),
                    table: Some("public.big_table".into()),
                    held_ms: Some(1_000 + i as u64),
                    rows: Some(1_000),
                    failed: false,
                })
                .collect();
        }
        report
    }

    #[test]
    fn timelines_are_the_first_thing_given_up() {
        let report = timed(10, 30, 50);
        assert!(level(&report, Level::Full).len() > BUDGET);
        let out = md(&report);
        assert!(out.len() <= BUDGET, "{} bytes", out.len());
        assert!(
            out.contains("each migration's timeline on the copy is summed up in one line"),
            "{out}"
        );
        assert!(
            out.contains("**Timeline on the copy (50 statements, 51.2 s in all)**"),
            "{out}"
        );
        assert!(!out.contains("<summary>Timeline"), "{out}");
        // Nothing else was given up: statements and why/instead are still there.
        assert!(out.contains("```sql"), "{out}");
        assert!(out.contains("Why it is risky"), "{out}");
    }

    #[test]
    fn huge_execution_runs_still_fit_and_say_what_was_left_out() {
        let report = timed(60, 600, 200);
        let out = md(&report);
        assert!(out.len() <= BUDGET, "{} bytes", out.len());
        assert!(!out.contains("<summary>Timeline"));
        assert!(out.contains("--format json"));
        let folded = level(&report, Level::Folded);
        assert!(folded.contains("statements, query plans, timelines and the why/instead"));
    }

    #[test]
    fn execution_comment_shows_the_timeline_totals_and_caveat() {
        let out = md(&fixtures::execution());
        assert!(
            out.contains(
                "| 5 | `ALTER TABLE orders ALTER COLUMN id TYPE bigint` | 29.5 s | \
             `AccessExclusiveLock` on `public.orders` | 29.5 s |  |"
            ),
            "{out}"
        );
        assert!(out.contains("| 6 | `UPDATE orders SET legacy_ref = NULL WHERE created_at < '2020-01-01'` | 1.6 s | `RowExclusiveLock` on `public.orders` | 1.6 s | 120,000 |"), "{out}");
        assert!(
            out.contains("| 3 ❌ failed | `CREATE UNIQUE INDEX"),
            "{out}"
        );
        assert!(
            out.contains(
                "**Not executed:** migrations/0302_unique_customer_email.sql failed at line 3"
            ),
            "{out}"
        );
        assert!(
            out.contains("| `migrations/0303_backfill_segments.sql` · not executed |"),
            "{out}"
        );
        assert!(
            out.contains("| `public.customers` | ACCESS EXCLUSIVE | reads and writes | 412 ms |")
        );
        assert!(out.contains(crate::report::text::INDICATIVE));
        assert_eq!(out, md(&fixtures::execution()), "same report, same bytes");
    }

    #[test]
    fn folded_sample() {
        insta::assert_snapshot!(
            "markdown_sample_folded",
            level(&fixtures::sample(), Level::Folded)
        );
    }

    #[test]
    fn summarised_sample() {
        insta::assert_snapshot!(
            "markdown_sample_summarised",
            level(&fixtures::sample(), Level::Summarised)
        );
    }

    #[test]
    fn starts_with_marker_and_verdict() {
        let out = md(&fixtures::sample());
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(MARKER));
        assert_eq!(
            lines.next(),
            Some("### ❌ 2 errors, 1 warning, 1 info in 3 migrations — migsafe (catalog evidence)")
        );
        let clean = md(&fixtures::clean());
        assert!(clean.contains("### ✅ No findings in 2 migrations — migsafe (static evidence)"));
    }

    #[test]
    fn table_cells_escape_pipes() {
        let out = md(&fixtures::sample());
        assert!(out.contains("| `@core\\|db` |"), "{out}");
        assert!(out.contains("reads it \\| writes it"));
    }

    #[test]
    fn big_report_fits_in_a_github_comment_and_names_every_migration_and_error() {
        let report = fixtures::large(50, 500);
        let out = md(&report);
        assert!(
            out.len() <= BUDGET && out.len() < GITHUB_LIMIT,
            "{} bytes",
            out.len()
        );
        assert!(out.chars().count() < GITHUB_LIMIT);
        assert!(
            out.contains("--format json"),
            "says where the full report is"
        );
        for m in &report.migrations {
            assert!(out.contains(&format!("`{}`", m.path)), "{} missing", m.path);
        }
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            let location = format!("`{}:{}`", f.file, f.line);
            let line = out.lines().find(|l| l.contains(&location));
            assert!(
                line.is_some_and(|l| l.contains(f.rule)),
                "error at {location} not listed"
            );
        }
    }

    #[test]
    fn mid_sized_report_folds_before_it_summarises() {
        let report = fixtures::large(10, 120);
        assert!(level(&report, Level::Full).len() > BUDGET);
        let out = md(&report);
        assert!(out.len() <= BUDGET);
        assert!(out.contains("statements, query plans and the why/instead"));
        assert!(!out.contains("```sql"));
        // Folded still lists every finding, warnings and info included.
        for f in &report.findings {
            assert!(out.contains(&format!("`{}:{}`", f.file, f.line)));
        }
    }

    #[test]
    fn enormous_fields_still_fit() {
        let mut report = fixtures::sample();
        report.migrations[0].owner = Some("@".repeat(100_000));
        report.migrations[1].path = "p/".repeat(20_000);
        report.findings[0].message = "é".repeat(100_000);
        report.findings[0].statement = "SELECT 1;\n".repeat(50_000);
        let out = md(&report);
        assert!(out.len() <= BUDGET, "{} bytes", out.len());
        assert!(out.starts_with(MARKER));
        assert!(out.contains("--format json"));
    }

    #[test]
    fn absurd_reports_still_fit() {
        let report = fixtures::large(400, 6000);
        let out = md(&report);
        assert!(out.len() <= BUDGET, "{} bytes", out.len());
        assert!(out.contains("not shown"));
        assert!(out.contains("--format json"));
    }
}
