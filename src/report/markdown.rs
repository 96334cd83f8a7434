//! The pull request comment, in reading order (issue #14): a hidden marker (so a bot can find
//! and update its own comment), a one-line headline, the copy the numbers rest on, then the
//! verdict of every migration (a narrow table: migration, verdict, owner), the findings errors
//! first (one line each; people facts counted when they dominate), why and instead once per
//! rule (folded), the lock totals at execution level, then per migration its details folded in
//! `<details>` (people facts, timeline on the copy, each finding's statement and plan), what was
//! not checked, and a footer saying how to reproduce it (command, version, evidence, copy).
//!
//! GitHub shows a comment about 980 px wide: no table has more than four columns, long paths
//! are named from their shared folder, and nothing unbreakable is long enough to push a table
//! past that width (`tests::no_table_is_wider_than_github_shows`). The size of the common case
//! is budgeted: a 9-migration review fits in `NINE_MIGRATION_BUDGET` bytes (the same review was
//! 47.7 KB before).
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
use super::verdict::{self, Verdict, VerdictKind};
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

/// What the PR comment of a 9-migration review (`fixtures::nine`) may weigh, in bytes.
pub const NINE_MIGRATION_BUDGET: usize = 16_384;

/// Longest why or instead sentence in the rule notes; the rule's page has the rest.
const NOTE_CHARS: usize = 180;

/// Longest migration name in the verdict table; longer ones keep their start and end.
const MAX_TABLE_PATH: usize = 60;

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
    let verdicts = verdict::verdicts(report);
    let mut doc = String::new();
    doc.push_str(MARKER);
    doc.push('\n');
    let _ = writeln!(doc, "### {}\n", headline(report));
    evidence(report, level, &mut doc);
    if let Some(notice) = notice(report, level, run) {
        let _ = writeln!(doc, "> {notice}\n");
    }
    let listed = verdict_table(&groups, &verdicts, level, &mut doc);
    match level {
        Level::Full | Level::Untimed | Level::Folded => {
            findings_list(report, &mut doc);
            if level <= Level::Untimed {
                rule_notes(report, &mut doc);
            }
            execution_totals(report, level, &mut doc);
            production_section(report, &mut doc);
            let summarise = verdict::process_dominates(&report.findings);
            for g in &groups {
                migration_details(g, &verdicts, summarise, level, &mut doc);
            }
        }
        Level::Summarised | Level::Truncated => {
            execution_totals(report, level, &mut doc);
            errors_only(report, level, listed, &mut doc);
        }
    }
    skipped(report, level, &mut doc);
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
fn headline(report: &Report) -> String {
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
                format!(" ({} {verb} counted in the headline)", rest.join(" and "))
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

/// The verdict of every migration as a three-column table (migration, verdict, owner), the
/// migrations named from their shared folder, which the line above the table gives. Returns
/// how many groups it listed (all but when truncated).
fn verdict_table(groups: &[Group], verdicts: &[Verdict], level: Level, doc: &mut String) -> usize {
    if groups.is_empty() {
        return 0;
    }
    let paths: Vec<&str> = groups.iter().map(|g| g.path).collect();
    let dir = text::common_dir(&paths);
    if !dir.is_empty() {
        let _ = writeln!(doc, "Migrations in {}:\n", code(&text::truncate(dir, 200)));
    }
    doc.push_str("| Migration | Verdict | Owner |\n| --- | --- | --- |\n");
    let mut listed = 0;
    for g in groups {
        let name = g.path.strip_prefix(dir).unwrap_or(g.path);
        let row = match g
            .migration
            .and_then(|m| verdicts.iter().find(|v| v.path == m.path))
        {
            Some(v) => format!(
                "| {} {} | {} | {} |\n",
                verdict_icon(v),
                cell_code(&middle_truncate(name, MAX_TABLE_PATH)),
                inline(&v.text),
                owner_md(g.migration.and_then(|m| m.owner.as_deref())),
            ),
            None => {
                // A down file's findings: the rollback path, not a migration of its own.
                let what = if g
                    .findings
                    .iter()
                    .all(|f| f.direction == crate::model::Direction::Down)
                {
                    format!(
                        "rollback path: {}",
                        text::count(g.findings.len(), "finding", "findings")
                    )
                } else {
                    "not one of the reviewed migrations".to_string()
                };
                format!(
                    "| {} {} | {what} | — |\n",
                    g.worst().map(severity_icon).unwrap_or("✅"),
                    cell_code(&middle_truncate(name, MAX_TABLE_PATH)),
                )
            }
        };
        // When truncating, keep room for the errors below and the closing note.
        if level == Level::Truncated && doc.len() + row.len() > BUDGET / 2 {
            break;
        }
        doc.push_str(&row);
        listed += 1;
    }
    if listed < groups.len() {
        let _ = writeln!(doc, "| _{} more not shown_ | | |", groups.len() - listed);
    }
    doc.push('\n');
    listed
}

/// `db/migrations/0001_…_orders.sql`: the start and the end of a long name, so both the
/// folder and the file stay recognisable.
fn middle_truncate(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head = max.saturating_sub(1) / 2;
    let tail = max.saturating_sub(1) - head;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

fn verdict_icon(v: &Verdict) -> &'static str {
    match (v.kind, v.severity) {
        (VerdictKind::NotExecuted, None) => "⏭️",
        (_, Some(s)) => severity_icon(s),
        (_, None) => "✅",
    }
}

/// Every finding on one line, errors first: where, which rule, the message and its facts.
/// When process findings dominate they are counted per rule instead of listed.
fn findings_list(report: &Report, doc: &mut String) {
    if report.findings.is_empty() {
        return;
    }
    let summarise = verdict::process_dominates(&report.findings);
    let sorted = verdict::by_severity(&report.findings);
    let paths: Vec<&str> = report.migrations.iter().map(|m| m.path.as_str()).collect();
    let dir = text::common_dir(&paths);
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let of: Vec<&&Finding> = sorted
            .iter()
            .filter(|f| f.severity == severity && !(summarise && verdict::is_process(f)))
            .collect();
        if of.is_empty() {
            continue;
        }
        let title = match severity {
            Severity::Error => "Errors",
            Severity::Warning => "Warnings",
            Severity::Info => "Info",
        };
        let _ = writeln!(
            doc,
            "**{} {title}** ({})\n",
            severity_icon(severity),
            of.len()
        );
        for f in of {
            doc.push_str(&finding_line(f, dir, 1_000));
        }
        doc.push('\n');
    }
    if summarise {
        let process: Vec<&&Finding> = sorted.iter().filter(|f| verdict::is_process(f)).collect();
        let mut parts = Vec::new();
        for rule in verdict::PROCESS_RULES {
            let n = process.iter().filter(|f| f.rule == rule).count();
            if n > 0 {
                parts.push(format!(
                    "{} in {}",
                    code(rule),
                    text::count(n, "migration", "migrations")
                ));
            }
        }
        let _ = writeln!(
            doc,
            "**📝 People facts** ({}): {}. Each migration's details below say what it lacks.\n",
            process.len(),
            parts.join(", ")
        );
    }
}

/// `- `M001 create-index-non-concurrently` at `0001_x.sql:3`: message _(facts)_`.
fn finding_line(f: &Finding, dir: &str, max_message: usize) -> String {
    let file = f.file.strip_prefix(dir).unwrap_or(&f.file);
    let mut line = format!(
        "- {} at {}: {}",
        code(&format!("{} {}", f.code, f.rule)),
        code(&format!("{}:{}", text::truncate(file, 200), f.line)),
        inline(&text::truncate(&text::one_line(&f.message), max_message))
    );
    let facts = text::facts(&f.facts);
    if !facts.is_empty() {
        let _ = write!(line, " _({})_", inline(&facts.join(" · ")));
    }
    line.push('\n');
    line
}

/// Why and instead, once per rule that fired (errors' rules first, then by code), folded: a
/// reviewer opens it for the rules they do not know.
fn rule_notes(report: &Report, doc: &mut String) {
    let summarise = verdict::process_dominates(&report.findings);
    let mut rules: Vec<&Finding> = Vec::new();
    for f in verdict::by_severity(&report.findings) {
        if summarise && verdict::is_process(f) {
            continue;
        }
        if !rules.iter().any(|r| r.code == f.code) {
            rules.push(f);
        }
    }
    if rules.is_empty() {
        return;
    }
    let listed: Vec<&Finding> = report.findings.iter().collect();
    let mut body = String::new();
    for f in &rules {
        // The first sentence of each says it; the rule's page has the whole text, its rollback
        // and examples (the full texts of a dozen rules were most of a 48 KB comment).
        // Left out when every finding of the rule carries its own, in its details.
        let instead = text::rule_instead(&listed, f.code)
            .map(|i| {
                format!(
                    " _Instead:_ {}",
                    inline(&text::truncate(&text::first_sentence(i), NOTE_CHARS))
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "**{}** — {}{instead} [More]({})\n",
            code(&format!("{} {}", f.code, f.rule)),
            inline(&text::truncate(&text::first_sentence(f.why), NOTE_CHARS)),
            super::docs::rule_url(f.rule)
        );
    }
    collapsible(
        &format!(
            "Why it is risky, and what to do instead ({})",
            text::count(rules.len(), "rule", "rules")
        ),
        &body,
        doc,
    );
}

/// One migration's details, folded under its verdict: people facts, timeline on the copy, and
/// each finding's statement and plan.
fn migration_details(
    g: &Group,
    verdicts: &[Verdict],
    summarise: bool,
    level: Level,
    doc: &mut String,
) {
    let mut body = String::new();
    let v = g
        .migration
        .and_then(|m| verdicts.iter().find(|v| v.path == m.path));
    match g.migration {
        Some(m) => {
            people_facts(m, level, &mut body);
            timeline(m, level, &mut body);
        }
        None => body.push_str("_Not one of the reviewed migrations._\n\n"),
    }
    if g.findings.is_empty() {
        body.push_str("No findings.\n\n");
    }
    // Findings on the same statement share its SQL; people facts already read above.
    let mut shown: Vec<Vec<&Finding>> = Vec::new();
    for f in &g.findings {
        if summarise && verdict::is_process(f) {
            continue;
        }
        match shown.iter_mut().find(|s| {
            s.first()
                .is_some_and(|o| o.line == f.line && o.statement == f.statement)
        }) {
            Some(same) => same.push(f),
            None => shown.push(vec![f]),
        }
    }
    for same in &shown {
        finding_detail(same, level, &mut body);
    }
    let icon = v
        .map(verdict_icon)
        .unwrap_or_else(|| g.worst().map(severity_icon).unwrap_or("✅"));
    let verdict_text = v.map(|v| format!(" — {}", v.text)).unwrap_or_default();
    // The summary is HTML: the path as <code>, the rest escaped.
    let _ = writeln!(
        doc,
        "<details><summary>{icon} <code>{}</code>{}</summary>\n\n{}\n</details>\n",
        html(&text::truncate(g.path, 300)),
        html(&verdict_text),
        body.trim_end()
    );
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
    if !list.is_empty() || !migration_groups.is_empty() {
        doc.push_str("**Not checked**\n\n");
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
    // The mode and why migsafe believes it (the runner's rule, a marker, migsafe.toml), on
    // the same line: one line per migration less in a comment with a size budget.
    let source = if m.transaction_source.trim().is_empty() {
        String::new()
    } else {
        format!(
            " — `{}`: {}",
            m.transaction,
            inline(&text::one_line(&m.transaction_source))
        )
    };
    let _ = writeln!(
        doc,
        "**Owner:** {owner} · **Layout:** {} · {} {transaction}{source}\n",
        m.layout,
        text::count(m.statements, "statement", "statements")
    );
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

/// The findings of one statement inside its migration's details: which rules at which line,
/// then (full levels) the statement and the plan. The messages are in the list above; why and
/// instead once per rule.
fn finding_detail(same: &[&Finding], level: Level, doc: &mut String) {
    let Some(f) = same.first() else {
        return;
    };
    let rules: Vec<String> = same
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                severity_icon(f.severity),
                code(&format!("{} {}", f.code, f.rule))
            )
        })
        .collect();
    let _ = writeln!(doc, "**{}** at line {}\n", rules.join(", "), f.line);
    if level > Level::Untimed {
        return;
    }
    // Written with this statement's names: shown here, where the statement is, rather than
    // in the per-rule notes that every finding of the rule shares.
    for g in same {
        if let Some(instead) = text::built_instead(g) {
            let _ = writeln!(
                doc,
                "_Instead ({}):_ {}\n",
                code(g.rule),
                inline(&text::one_line(instead))
            );
        }
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
    let _ = writeln!(doc, "**❌ Errors** ({})\n", errors.len());
    let max_message = if level == Level::Truncated { 200 } else { 400 };
    let paths: Vec<&str> = report.migrations.iter().map(|m| m.path.as_str()).collect();
    let dir = text::common_dir(&paths);
    // Room kept for the closing note, so the total never passes BUDGET.
    let reserve = 300;
    let mut shown = 0;
    for f in &errors {
        let line = finding_line(f, dir, max_message);
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

/// `--production`: production's sizes, the differences and the predictions, folded.
fn production_section(report: &Report, doc: &mut String) {
    use super::production::{headline, prediction_line, table_lines, MAX_ITEMS};
    let Some(p) = &report.production else {
        return;
    };
    let mut body = String::new();
    for t in table_lines(p) {
        let _ = writeln!(body, "- {}", inline(&t));
    }
    if !p.differences.is_empty() {
        let _ = writeln!(body, "\n**Differences from production**\n");
        for d in p.differences.iter().take(MAX_ITEMS) {
            let _ = writeln!(body, "- {}", inline(&text::truncate(d, 400)));
        }
    }
    if !p.predictions.is_empty() {
        let _ = writeln!(body, "\n**Predicted at production size**\n");
        for x in p.predictions.iter().take(MAX_ITEMS) {
            let _ = writeln!(
                body,
                "- {}",
                inline(&text::truncate(&prediction_line(x), 400))
            );
        }
    }
    let hidden = p.differences.len().saturating_sub(MAX_ITEMS)
        + p.predictions.len().saturating_sub(MAX_ITEMS);
    if hidden > 0 {
        let _ = writeln!(body, "- … {hidden} more (`--format json` has them all)");
    }
    collapsible(&headline(p), &body, doc);
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
        assert!(out.contains("_(lock ShareLock (blocks writes) · 1.2M rows, 700 MB)_"));
        assert!(out.contains("_(86 MB · 2,000,000 index scans)_"));
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
            out.contains(
                "| ⏭️ `0303_backfill_segments.sql` | not executed: \
                 migrations/0302_unique_customer_email.sql failed at line 3 | `@payments-team` |"
            ),
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
            let name = m.path.strip_prefix("db/migrations/").unwrap();
            assert!(out.contains(&format!("`{name}`")), "{} missing", m.path);
        }
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            let location = format!(
                "`{}:{}`",
                f.file.strip_prefix("db/migrations/").unwrap(),
                f.line
            );
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
            let name = f.file.strip_prefix("db/migrations/").unwrap();
            assert!(out.contains(&format!("`{name}:{}`", f.line)));
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

    // -------------------------------------------------------------------------------------
    // What GitHub shows: tables no wider than the comment, errors first, a size budget.

    /// The cells of every GFM table in `md`, rows of cells, with code ticks and backslash
    /// escapes removed (what the reader sees).
    fn tables(md: &str) -> Vec<Vec<Vec<String>>> {
        let mut tables = Vec::new();
        let mut current: Vec<Vec<String>> = Vec::new();
        for line in md.lines().chain([""]) {
            if line.starts_with('|') {
                let mut cells = Vec::new();
                let mut cell = String::new();
                let mut escaped = false;
                for c in line.trim().trim_start_matches('|').chars() {
                    match c {
                        _ if escaped => {
                            cell.push(c);
                            escaped = false;
                        }
                        '\\' => escaped = true,
                        '|' => cells.push(
                            std::mem::take(&mut cell)
                                .replace('`', "")
                                .trim()
                                .to_string(),
                        ),
                        _ => cell.push(c),
                    }
                }
                if !cells
                    .iter()
                    .all(|c| c.chars().all(|c| c == '-' || c == ':'))
                {
                    current.push(cells);
                }
            } else if !current.is_empty() {
                tables.push(std::mem::take(&mut current));
            }
        }
        tables
    }

    /// Pixels GitHub needs for `s` on one line: 8 px a character (14 px text averages about
    /// 7, code at 85 % in a monospace font 7.2) and 20 px for an emoji.
    fn px(s: &str) -> usize {
        s.chars()
            .map(|c| match c as u32 {
                0xFE00..=0xFE0F | 0x200D => 0,
                0x2190.. if !c.is_alphanumeric() => 20,
                _ => 8,
            })
            .sum()
    }

    /// The narrowest a table can be: each column as wide as its longest unbreakable word,
    /// plus 13 px of padding on each side and a 1 px border (GitHub's table CSS).
    fn min_width(table: &[Vec<String>]) -> usize {
        let columns = table.iter().map(Vec::len).max().unwrap_or(0);
        (0..columns)
            .map(|c| {
                table
                    .iter()
                    .filter_map(|row| row.get(c))
                    .flat_map(|cell| cell.split_whitespace().map(px).collect::<Vec<_>>())
                    .max()
                    .unwrap_or(0)
                    + 27
            })
            .sum::<usize>()
            + 1
    }

    /// As wide as a table gets when no cell wraps.
    fn max_width(table: &[Vec<String>]) -> usize {
        let columns = table.iter().map(Vec::len).max().unwrap_or(0);
        (0..columns)
            .map(|c| {
                table
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|c| px(c))
                    .max()
                    .unwrap_or(0)
                    + 27
            })
            .sum::<usize>()
            + 1
    }

    /// GitHub's comment column at the 980 px layout.
    const GITHUB_WIDTH: usize = 980;

    #[test]
    fn no_table_is_wider_than_github_shows() {
        let mut long = fixtures::sample();
        long.migrations[0].path = format!("services/{}/db/migrations/20240101120000_add_a_rather_long_descriptive_name_for_the_orders_index.sql", "payments-api");
        long.findings[0].file = long.migrations[0].path.clone();
        let mut reports = vec![
            fixtures::sample(),
            fixtures::catalog(),
            fixtures::execution(),
            fixtures::nine(),
            fixtures::large(50, 500),
            long,
        ];
        let mut timed = fixtures::execution();
        timed.migrations[0].timeline[2].statement = "ALTER TABLE orders ALTER COLUMN id TYPE bigint USING id::bigint, ALTER COLUMN customer_id TYPE bigint".into();
        reports.push(timed);
        for report in &reports {
            for lvl in [Level::Full, Level::Folded, Level::Summarised] {
                let out = level(report, lvl);
                for table in tables(&out) {
                    assert!(
                        min_width(&table) <= GITHUB_WIDTH,
                        "{} px at {lvl:?}: {table:?}",
                        min_width(&table)
                    );
                    assert!(table.iter().all(|row| row.len() <= 6), "{table:?}");
                }
            }
        }
        // The verdict table of the 9-migration review does not even need to wrap.
        let nine = md(&fixtures::nine());
        let verdict_table = tables(&nine).remove(0);
        assert_eq!(verdict_table[0], ["Migration", "Verdict", "Owner"]);
        assert!(
            max_width(&verdict_table) <= GITHUB_WIDTH,
            "{} px: {verdict_table:?}",
            max_width(&verdict_table)
        );
    }

    #[test]
    fn the_nine_migration_review_fits_its_budget_and_leads_with_the_error() {
        let report = fixtures::nine();
        assert_eq!(report.findings.len(), 29);
        assert_eq!(report.summary.error, 1);
        let out = md(&report);
        assert!(
            out.len() <= super::NINE_MIGRATION_BUDGET,
            "{} bytes, budget {}",
            out.len(),
            super::NINE_MIGRATION_BUDGET
        );
        // Verdicts, then the error, before any warning.
        let error = out.find("`M026 truncate-table` at").unwrap();
        let warning = out.find("**⚠️ Warnings**").unwrap();
        let verdicts = out.find("| Migration | Verdict | Owner |").unwrap();
        assert!(verdicts < error && error < warning, "{out}");
        // why/instead once per rule: one folded block for all of them.
        assert_eq!(out.matches("Why it is risky").count(), 1, "{out}");
        for rule in ["lock-without-timeout", "create-index-non-concurrently"] {
            assert_eq!(
                out.matches(&format!("**`{}", crate::rules::by_name(rule).code))
                    .count(),
                1,
                "{rule}"
            );
        }
        // 14 of 29 findings are people facts: counted, not listed.
        assert!(out.contains("**📝 People facts** (14): `missing-owner` in 4 migrations, `missing-expected-result` in 6 migrations, `missing-rollback` in 4 migrations."), "{out}");
        assert!(!out.contains("No owner: add"), "{out}");
        // Every migration is folded in its own details.
        assert_eq!(
            out.matches("<details><summary>").count()
                - out.matches("<summary>Query plan").count()
                - 1,
            9,
            "{out}"
        );
    }

    #[test]
    fn nine_migration_review() {
        insta::assert_snapshot!("markdown_nine", md(&fixtures::nine()));
    }
}
