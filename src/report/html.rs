//! `--format html` (and `--report html=PATH`): one self-contained page to attach to a pull
//! request or keep as a CI artifact (issue #14). No scripts, no external fonts, styles or
//! images: everything is inline, the pictures are inline SVG, so the file opens the same way
//! from a mail attachment, an artifact viewer or a laptop without network.
//!
//! In reading order: the headline; the verdict of every migration; the findings, errors
//! first, each with its statement, message, facts and plan tree; why and instead once per
//! rule, with a link to the rule's page; then per migration its people facts and, at
//! execution level, a lock timeline drawn as SVG (each statement on a time axis: a thin bar
//! for how long it ran, a thick one coloured by lock mode for how long it held its strongest
//! lock, with the table and the time held) or why it was not executed; the copy's identity,
//! the lock totals, and the phases of getting the copy (a bar per phase); what was not
//! checked; and the footer.
//!
//! Plans are drawn as trees from EXPLAIN's text (nodes nested by their `->` indentation, the
//! details of a node under it, sequential scans marked). A watched query's plan comes as
//! `before:` / `after:` and is drawn as the two trees side by side.
//!
//! The colours of the lock bars are fixed (`LOCK_COLOURS`) and nothing else on the page uses
//! them, so a test can find the bars in a screenshot (`tests/html_report.rs`). Everything
//! from a migration is HTML-escaped; measurements make execution-level pages differ between
//! runs, everything else is a function of the report.

use super::text::{self, RollbackState};
use super::verdict::{self, Verdict, VerdictKind};
use super::RunInfo;
use crate::locks::LockMode;
use crate::model::{Finding, MigrationSummary, Report, Severity, TimelineEntry};
use anyhow::Result;
use std::fmt::Write as _;
use std::io::Write;

/// Width of a timeline drawing, in CSS pixels (the page is at most 1000 px wide).
pub const TIMELINE_WIDTH: u32 = 920;
/// Where the time axis starts: the statements' labels sit left of it.
pub const TIMELINE_AXIS_X: u32 = 300;
/// Height of one statement's row.
pub const TIMELINE_ROW: u32 = 36;
/// Narrowest bar, so that a statement of 0 ms still shows.
pub const MIN_BAR: f64 = 3.0;
/// Statements drawn per migration before the rest is counted.
const MAX_TIMELINE_ROWS: usize = 60;
/// Statement and plan texts are cut after this many characters.
const MAX_TEXT: usize = 20_000;

/// Lock bar colours by what the lock blocks: reads and writes (ACCESS EXCLUSIVE), writes
/// (SHARE and stronger), or neither (only other DDL and maintenance).
pub const LOCK_COLOURS: [(&str, &str); 3] = [
    ("blocks-reads", "#cf222e"),
    ("blocks-writes", "#e36209"),
    ("blocks-ddl", "#218bff"),
];
/// The thin bar of a statement's own run time.
pub const RUN_COLOUR: &str = "#6e7781";

/// Writes the page.
pub fn render(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    out.write_all(to_string(report, run).as_bytes())?;
    Ok(())
}

/// The page as a string.
pub fn to_string(report: &Report, run: &RunInfo) -> String {
    let verdicts = verdict::verdicts(report);
    let mut doc = String::with_capacity(16_384);
    let title = headline(report);
    let _ = write!(
        doc,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>migsafe: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&title)
    );
    let _ = writeln!(
        doc,
        "<header><h1>migsafe review</h1><p class=\"headline {}\">{}</p></header>",
        report.worst().map_or("sev-ok", sev_class),
        esc(&title)
    );
    verdict_section(report, &verdicts, &mut doc);
    findings_section(report, &mut doc);
    rules_section(report, &mut doc);
    migrations_section(report, &verdicts, &mut doc);
    copy_section(report, &mut doc);
    skipped_section(report, &mut doc);
    footer(report, run, &mut doc);
    doc.push_str("</main>\n</body>\n</html>\n");
    doc
}

/// `3 errors, 1 warning, 0 info in 3 migrations · execution evidence`.
fn headline(report: &Report) -> String {
    let migrations = text::count(report.migrations.len(), "migration", "migrations");
    match report.worst() {
        None => format!("No findings in {migrations} · {} evidence", report.evidence),
        Some(_) => format!(
            "{} in {migrations} · {} evidence",
            text::severity_counts(&report.summary),
            report.evidence
        ),
    }
}

fn verdict_section(report: &Report, verdicts: &[Verdict], doc: &mut String) {
    if verdicts.is_empty() {
        return;
    }
    let paths: Vec<&str> = verdicts.iter().map(|v| v.path.as_str()).collect();
    let dir = text::common_dir(&paths);
    doc.push_str("<section id=\"verdicts\"><h2>Verdicts</h2>\n");
    if !dir.is_empty() {
        let _ = writeln!(doc, "<p>Migrations in <code>{}</code>:</p>", esc(dir));
    }
    doc.push_str("<table class=\"verdicts\">\n");
    doc.push_str("<tr><th></th><th>Migration</th><th>What it will do</th><th>Owner</th></tr>\n");
    for (i, (v, m)) in verdicts.iter().zip(&report.migrations).enumerate() {
        let (class, word) = verdict_mark(v);
        let _ = writeln!(
            doc,
            "<tr class=\"verdict kind-{}\"><td class=\"mark {class}\">{word}</td>\
             <td><a href=\"#m{i}\"><code>{}</code></a></td><td>{}</td><td>{}</td></tr>",
            v.kind.as_str(),
            esc(v.path.strip_prefix(dir).unwrap_or(&v.path)),
            esc(&v.text),
            esc(m.owner.as_deref().unwrap_or(text::UNOWNED))
        );
    }
    doc.push_str("</table></section>\n");
}

fn verdict_mark(v: &Verdict) -> (&'static str, &'static str) {
    match (v.kind, v.severity) {
        (VerdictKind::NotExecuted, None) => ("sev-skipped", "skipped"),
        (_, Some(s)) => (sev_class(s), s.as_str()),
        (_, None) => ("sev-ok", "ok"),
    }
}

fn sev_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "sev-error",
        Severity::Warning => "sev-warning",
        Severity::Info => "sev-info",
    }
}

/// Every finding, errors first, with its statement, facts and plan; process findings counted
/// per rule when they dominate.
fn findings_section(report: &Report, doc: &mut String) {
    if report.findings.is_empty() {
        return;
    }
    let summarise = verdict::process_dominates(&report.findings);
    doc.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    for f in verdict::by_severity(&report.findings) {
        if summarise && verdict::is_process(f) {
            continue;
        }
        finding(report, f, doc);
    }
    if summarise {
        let mut parts = Vec::new();
        for rule in verdict::PROCESS_RULES {
            let n = report.findings.iter().filter(|f| f.rule == rule).count();
            if n > 0 {
                parts.push(format!(
                    "<code>{rule}</code> in {}",
                    text::count(n, "migration", "migrations")
                ));
            }
        }
        let _ = writeln!(
            doc,
            "<p class=\"people\"><strong>People facts:</strong> {}. Each migration below says \
             what it lacks.</p>",
            parts.join(", ")
        );
    }
    doc.push_str("</section>\n");
}

fn finding(report: &Report, f: &Finding, doc: &mut String) {
    let m = report.migrations.iter().position(|m| m.path == f.file);
    let location = format!("{}:{}:{}", f.file, f.line, f.column);
    let location = match m {
        Some(i) => format!("<a href=\"#m{i}\"><code>{}</code></a>", esc(&location)),
        None => format!("<code>{}</code>", esc(&location)),
    };
    let _ = writeln!(
        doc,
        "<article class=\"finding {}\"><h3><span class=\"sev\">{}</span> \
         <a class=\"rule\" href=\"#rule-{}\"><code>{} {}</code></a> {location}</h3>",
        sev_class(f.severity),
        f.severity,
        esc(f.code),
        esc(f.code),
        esc(f.rule)
    );
    let _ = writeln!(doc, "<p>{}</p>", esc(&text::one_line(&f.message)));
    let facts = text::facts(&f.facts);
    if !facts.is_empty() {
        let _ = writeln!(doc, "<p class=\"facts\">{}</p>", esc(&facts.join(" · ")));
    }
    let statement = f.statement.trim();
    if !statement.is_empty() {
        let _ = writeln!(
            doc,
            "<pre class=\"sql\">{}</pre>",
            esc(&text::truncate(statement, MAX_TEXT))
        );
    }
    if let Some(plan) = f.facts.plan.as_deref().filter(|p| !p.trim().is_empty()) {
        plan_trees(plan, doc);
    }
    let _ = writeln!(
        doc,
        "<p class=\"advice\"><strong>Instead:</strong> {} <a href=\"#rule-{}\">Why</a></p>",
        esc(&match text::built_instead(f) {
            Some(built) => text::one_line(built),
            None => text::first_sentence(&f.instead),
        }),
        esc(f.code)
    );
    doc.push_str("</article>\n");
}

/// Why and instead in full, once per rule, with its page in the repository.
fn rules_section(report: &Report, doc: &mut String) {
    let mut rules: Vec<&Finding> = Vec::new();
    for f in verdict::by_severity(&report.findings) {
        if !rules.iter().any(|r| r.code == f.code) {
            rules.push(f);
        }
    }
    if rules.is_empty() {
        return;
    }
    let listed: Vec<&Finding> = report.findings.iter().collect();
    doc.push_str("<section id=\"rules\"><h2>Why it is risky, and what to do instead</h2>\n");
    for f in rules {
        let _ = writeln!(
            doc,
            "<div class=\"rule\" id=\"rule-{}\"><h3><code>{} {}</code></h3>\
             <p><strong>Why:</strong> {}</p>{}\
             <p><a href=\"{}\">The rule's page</a> (rollback, examples)</p></div>",
            esc(f.code),
            esc(f.code),
            esc(f.rule),
            esc(&text::one_line(f.why)),
            // Left out when every finding of the rule carries its own, next to it.
            text::rule_instead(&listed, f.code)
                .map(|i| format!(
                    "<p><strong>Instead:</strong> {}</p>",
                    esc(&text::one_line(i))
                ))
                .unwrap_or_default(),
            esc(&super::docs::rule_url(f.rule))
        );
    }
    doc.push_str("</section>\n");
}

fn migrations_section(report: &Report, verdicts: &[Verdict], doc: &mut String) {
    if report.migrations.is_empty() {
        return;
    }
    doc.push_str("<section id=\"migrations\"><h2>Migrations</h2>\n");
    for (i, m) in report.migrations.iter().enumerate() {
        let v = verdicts.get(i);
        let (class, _) = v.map(verdict_mark).unwrap_or(("sev-ok", "ok"));
        let _ = writeln!(
            doc,
            "<section class=\"migration\" id=\"m{i}\"><h3><span class=\"dot {class}\"></span>\
             <code>{}</code></h3><p class=\"verdict-line\">{}</p>",
            esc(&m.path),
            esc(v.map_or("", |v| v.text.as_str()))
        );
        people_facts(m, doc);
        if let Some(reason) = &m.not_executed {
            let _ = writeln!(
                doc,
                "<p class=\"not-executed\"><strong>Not executed:</strong> {}</p>",
                esc(text::one_line(reason)
                    .strip_prefix("not executed:")
                    .unwrap_or(reason)
                    .trim())
            );
        }
        if !m.timeline.is_empty() {
            timeline_svg(m, doc);
        }
        doc.push_str("</section>\n");
    }
    doc.push_str("</section>\n");
}

fn people_facts(m: &MigrationSummary, doc: &mut String) {
    let owner = match &m.owner {
        Some(o) => format!("{o} ({})", text::owner_source(m.owner_source)),
        None => text::UNOWNED.to_string(),
    };
    let _ = write!(
        doc,
        "<dl class=\"facts\"><dt>Owner</dt><dd>{}</dd><dt>Runs</dt><dd>{} · {} · \
         <code>{}</code> {}</dd><dt>Expected</dt><dd>",
        esc(&owner),
        esc(m.layout.as_str()),
        text::count(m.statements, "statement", "statements"),
        m.transaction,
        esc(&text::one_line(&m.transaction_source))
    );
    if m.expected.is_empty() {
        doc.push_str("none declared");
    } else {
        doc.push_str("<ul>");
        for e in &m.expected {
            let detail = if e.detail.trim().is_empty() {
                String::new()
            } else {
                format!(" — {}", esc(&text::one_line(&e.detail)))
            };
            let _ = write!(
                doc,
                "<li><span class=\"status status-{:?}\">{}</span> {}{detail}</li>",
                e.status,
                text::expect_status(e.status),
                esc(&text::one_line(&e.text))
            );
        }
        doc.push_str("</ul>");
    }
    doc.push_str("</dd><dt>Rollback</dt><dd>");
    let r = &m.rollback;
    match text::rollback_state(r) {
        RollbackState::Missing => doc.push_str("none"),
        RollbackState::Irreversible => doc.push_str("irreversible (declared)"),
        RollbackState::Present(status) => {
            let _ = write!(
                doc,
                "<span class=\"status status-{status:?}\">{}</span> ({})<pre class=\"sql\">{}</pre>",
                text::rollback_status(status),
                text::rollback_source(r.source),
                esc(&text::truncate(r.text.trim(), MAX_TEXT))
            );
        }
    }
    if !r.detail.trim().is_empty() {
        let _ = write!(
            doc,
            " <span class=\"detail\">{}</span>",
            esc(&text::one_line(&r.detail))
        );
    }
    doc.push_str("</dd></dl>\n");
}

/// Where a statement starts and ends on the time axis, in milliseconds from the migration's
/// start: statements run one after the other, and a lock is held from its statement's start
/// for `held_ms` (to COMMIT inside a transaction, so possibly past the statement's end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start_ms: u64,
    pub run_ms: u64,
    pub held_ms: Option<u64>,
}

/// The spans of a timeline and the axis length (the latest end, at least 1 ms).
pub fn spans(timeline: &[TimelineEntry]) -> (Vec<Span>, u64) {
    let mut at = 0u64;
    let mut end = 1u64;
    let spans = timeline
        .iter()
        .map(|t| {
            let span = Span {
                start_ms: at,
                run_ms: t.duration_ms,
                held_ms: t.lock.as_ref().and(t.held_ms.or(Some(t.duration_ms))),
            };
            end = end
                .max(at.saturating_add(t.duration_ms))
                .max(at.saturating_add(span.held_ms.unwrap_or(0)));
            at = at.saturating_add(t.duration_ms);
            span
        })
        .collect();
    (spans, end)
}

/// `blocks-reads`, `blocks-writes` or `blocks-ddl`, and its colour.
fn lock_class(pg_name: &str) -> (&'static str, &'static str) {
    let mode = LockMode::from_sql(&text::lock_mode_sql(pg_name));
    let key = match mode {
        Some(m) if m.blocks_reads() => "blocks-reads",
        Some(m) if m.blocks_writes() => "blocks-writes",
        _ => "blocks-ddl",
    };
    let colour = LOCK_COLOURS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(RUN_COLOUR, |(_, c)| c);
    (key, colour)
}

/// The lock timeline of one migration as inline SVG.
fn timeline_svg(m: &MigrationSummary, doc: &mut String) {
    let shown: Vec<&TimelineEntry> = m.timeline.iter().take(MAX_TIMELINE_ROWS).collect();
    let (spans, total) = spans(&m.timeline);
    let area = f64::from(TIMELINE_WIDTH - TIMELINE_AXIS_X - 20);
    let x_of = |ms: u64| f64::from(TIMELINE_AXIS_X) + area * (ms as f64 / total as f64);
    let rows = u32::try_from(shown.len()).unwrap_or(u32::MAX).min(10_000);
    let height = rows * TIMELINE_ROW + 40;
    let _ = writeln!(
        doc,
        "<figure class=\"timeline\"><figcaption>Lock timeline on the copy ({})</figcaption>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{TIMELINE_WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {TIMELINE_WIDTH} {height}\" role=\"img\" aria-label=\"Lock timeline\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">",
        esc(&text::timeline_summary(m))
    );
    for (row, (t, span)) in shown.iter().zip(&spans).enumerate() {
        let y = f64::from(u32::try_from(row).unwrap_or(0) * TIMELINE_ROW);
        let statement = text::one_line(&t.statement);
        // Label: line and statement, cut to the label column; the full text as a tooltip.
        let _ = writeln!(
            doc,
            "<g class=\"row{}\" data-line=\"{}\"><title>L{} {}</title>\
             <text x=\"4\" y=\"{:.1}\" class=\"label\">L{}  {}</text>",
            if t.failed { " failed" } else { "" },
            t.line,
            t.line,
            esc(&statement),
            y + 16.0,
            t.line,
            esc(&text::truncate(&statement, 40))
        );
        let x = x_of(span.start_ms);
        let run_w = (x_of(span.start_ms.saturating_add(span.run_ms)) - x).max(MIN_BAR);
        let _ = writeln!(
            doc,
            "<rect class=\"run\" data-line=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{run_w:.1}\" \
             height=\"4\" fill=\"{RUN_COLOUR}\"/>",
            t.line,
            y + 4.0
        );
        let mut note = Vec::new();
        if t.failed {
            note.push("FAILED".to_string());
        }
        if let (Some(lock), Some(held)) = (&t.lock, span.held_ms) {
            let (class, colour) = lock_class(lock);
            let w = (x_of(span.start_ms.saturating_add(held)) - x).max(MIN_BAR);
            let _ = writeln!(
                doc,
                "<rect class=\"lock {class}\" data-line=\"{}\" data-held-ms=\"{held}\" \
                 x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"12\" fill=\"{colour}\"{}/>",
                t.line,
                y + 10.0,
                if t.failed {
                    " stroke=\"#1f2328\" stroke-width=\"2\""
                } else {
                    ""
                }
            );
            let mut lock_note = text::lock_mode_sql(lock);
            if let Some(table) = &t.table {
                lock_note.push_str(&format!(" on {table}"));
            }
            lock_note.push_str(&format!(" · held {}", text::duration_ms(held)));
            note.push(lock_note);
        }
        note.push(format!("ran {}", text::duration_ms(t.duration_ms)));
        if let Some(rows) = t.rows {
            note.push(text::exact_rows(rows));
        }
        // The note starts at the bar, or ends at the right edge when it would run past it
        // (11 px text is about 6 px a character).
        let note = note.join(" · ");
        let wide = 6.0 * note.chars().count() as f64;
        let (nx, anchor) = if x + wide > f64::from(TIMELINE_WIDTH) - 4.0 {
            (f64::from(TIMELINE_WIDTH) - 4.0, "end")
        } else {
            (x, "start")
        };
        let _ = writeln!(
            doc,
            "<text x=\"{nx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"note\">{}</text></g>",
            y + 33.0,
            esc(&note)
        );
    }
    // The axis: five ticks from 0 to the end.
    let axis_y = f64::from(rows * TIMELINE_ROW) + 8.0;
    let _ = writeln!(
        doc,
        "<line x1=\"{TIMELINE_AXIS_X}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" \
         stroke=\"#8c959f\"/>",
        f64::from(TIMELINE_AXIS_X) + area
    );
    for i in 0..=4u64 {
        let ms = total.saturating_mul(i) / 4;
        let x = x_of(ms);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = writeln!(
            doc,
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#8c959f\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"tick\">{}</text>",
            axis_y + 5.0,
            axis_y + 20.0,
            text::duration_ms(ms)
        );
    }
    doc.push_str("</svg>\n");
    if m.timeline.len() > MAX_TIMELINE_ROWS {
        let _ = writeln!(
            doc,
            "<p class=\"more\">… {} (the JSON report has them all)</p>",
            text::count(
                m.timeline.len() - MAX_TIMELINE_ROWS,
                "more statement",
                "more statements"
            )
        );
    }
    doc.push_str("<p class=\"legend\">");
    for (class, colour, what) in [
        (
            "blocks-reads",
            LOCK_COLOURS[0].1,
            "lock blocks reads and writes",
        ),
        ("blocks-writes", LOCK_COLOURS[1].1, "lock blocks writes"),
        ("blocks-ddl", LOCK_COLOURS[2].1, "lock blocks only DDL"),
        ("run", RUN_COLOUR, "statement running"),
    ] {
        let _ = write!(
            doc,
            "<span class=\"key {class}\"><svg width=\"12\" height=\"10\"><rect width=\"12\" \
             height=\"10\" fill=\"{colour}\"/></svg> {what}</span> "
        );
    }
    doc.push_str("</p></figure>\n");
}

/// One node of a plan drawn from EXPLAIN's text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanTree {
    pub node: String,
    pub details: Vec<String>,
    pub children: Vec<PlanTree>,
}

/// Parses EXPLAIN's text format: the first line and every `->` line is a node, nested by the
/// column of its `->`; other lines are details of the node above them.
pub fn parse_plan(text: &str) -> Vec<PlanTree> {
    // (indent, node) in order; then folded into a tree with a stack.
    let mut flat: Vec<(usize, PlanTree)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        match trimmed.strip_prefix("->") {
            Some(node) => flat.push((
                indent,
                PlanTree {
                    node: node.trim().to_string(),
                    ..PlanTree::default()
                },
            )),
            None if flat.is_empty() => flat.push((
                indent,
                PlanTree {
                    node: trimmed.to_string(),
                    ..PlanTree::default()
                },
            )),
            None => {
                if let Some((_, last)) = flat.last_mut() {
                    last.details.push(trimmed.to_string());
                }
            }
        }
    }
    let mut roots: Vec<PlanTree> = Vec::new();
    let mut stack: Vec<(usize, PlanTree)> = Vec::new();
    for (indent, node) in flat {
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            if let Some((_, done)) = stack.pop() {
                attach(&mut stack, &mut roots, done);
            }
        }
        stack.push((indent, node));
    }
    while let Some((_, done)) = stack.pop() {
        attach(&mut stack, &mut roots, done);
    }
    roots
}

fn attach(stack: &mut [(usize, PlanTree)], roots: &mut Vec<PlanTree>, node: PlanTree) {
    match stack.last_mut() {
        Some((_, parent)) => parent.children.push(node),
        None => roots.push(node),
    }
}

/// A plan as trees; `before:` / `after:` sections side by side.
fn plan_trees(plan: &str, doc: &mut String) {
    let plan = text::truncate(plan, MAX_TEXT);
    let sections: Vec<(&str, String)> = match plan.split_once("\nafter:\n") {
        Some((before, after)) if before.trim_start().starts_with("before:") => vec![
            (
                "Before",
                before
                    .trim_start()
                    .strip_prefix("before:")
                    .unwrap_or(before)
                    .to_string(),
            ),
            ("After", after.to_string()),
        ],
        _ => vec![("Plan", plan.clone())],
    };
    let class = if sections.len() > 1 {
        "plans pair"
    } else {
        "plans"
    };
    let _ = write!(doc, "<div class=\"{class}\">");
    for (title, body) in sections {
        let _ = write!(doc, "<div class=\"plan\"><h4>{title}</h4>");
        let trees = parse_plan(&body);
        if trees.is_empty() {
            let _ = write!(doc, "<pre>{}</pre>", esc(body.trim()));
        } else {
            doc.push_str("<ul class=\"tree\">");
            for t in &trees {
                plan_node(t, doc, 0);
            }
            doc.push_str("</ul>");
        }
        doc.push_str("</div>");
    }
    doc.push_str("</div>\n");
}

fn plan_node(t: &PlanTree, doc: &mut String, depth: usize) {
    // EXPLAIN's own nesting is bounded, but a hostile text is not: stop drawing at 64 levels.
    if depth > 64 {
        return;
    }
    let (name, cost) = match (t.node.find("  ("), t.node.find(" (cost=")) {
        (Some(i), _) | (None, Some(i)) => t.node.split_at(i),
        (None, None) => (t.node.as_str(), ""),
    };
    let seq = if name.contains("Seq Scan") {
        " seq"
    } else {
        ""
    };
    let _ = write!(
        doc,
        "<li><span class=\"node{seq}\">{}</span> <span class=\"cost\">{}</span>",
        esc(name.trim()),
        esc(cost.trim())
    );
    for d in &t.details {
        let _ = write!(doc, "<div class=\"detail\">{}</div>", esc(d));
    }
    if !t.children.is_empty() {
        doc.push_str("<ul>");
        for c in &t.children {
            plan_node(c, doc, depth + 1);
        }
        doc.push_str("</ul>");
    }
    doc.push_str("</li>");
}

/// The copy's identity, the lock totals and the phases of getting the copy.
fn copy_section(report: &Report, doc: &mut String) {
    if report.copy.is_none() && report.locked.is_empty() && report.phases.is_empty() {
        return;
    }
    doc.push_str("<section id=\"copy\"><h2>What the numbers rest on</h2>\n");
    if let Some(copy) = &report.copy {
        let _ = writeln!(
            doc,
            "<p><strong>Copy:</strong> {} ({} evidence)</p>",
            esc(&text::copy_identity(copy, None)),
            report.evidence
        );
        let caveats = text::copy_caveats(copy);
        if !caveats.is_empty() {
            doc.push_str("<ul class=\"caveats\">");
            for c in caveats {
                let _ = write!(doc, "<li>{}</li>", esc(&c));
            }
            doc.push_str("</ul>\n");
        }
    }
    if !report.locked.is_empty() {
        doc.push_str(
            "<table class=\"locked\"><tr><th>Table</th><th>Strongest lock</th><th>Blocks</th>\
             <th>Held in all</th></tr>\n",
        );
        for l in &report.locked {
            let _ = writeln!(
                doc,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&l.table),
                esc(&text::lock_mode_sql(&l.lock)),
                esc(&l.blocks),
                text::duration_ms(l.held_ms)
            );
        }
        doc.push_str("</table>\n");
    }
    if text::has_measurements(report) {
        let _ = writeln!(doc, "<p class=\"caveat\">{}</p>", esc(text::INDICATIVE));
    }
    if !report.phases.is_empty() {
        let longest = report
            .phases
            .iter()
            .map(|p| p.duration_ms)
            .max()
            .unwrap_or(1)
            .max(1);
        doc.push_str("<table class=\"phases\"><tr><th>Phase</th><th>Took</th><th></th><th>Detail</th></tr>\n");
        for p in &report.phases {
            let w = (200.0 * p.duration_ms as f64 / longest as f64).max(1.0);
            let _ = writeln!(
                doc,
                "<tr><td>{}</td><td class=\"num\">{}</td><td><svg width=\"200\" height=\"10\">\
                 <rect class=\"phase\" width=\"{w:.1}\" height=\"10\" fill=\"{RUN_COLOUR}\"/></svg>\
                 </td><td>{}</td></tr>",
                esc(&p.name),
                text::duration_ms(p.duration_ms),
                esc(p.detail.as_deref().unwrap_or(""))
            );
        }
        doc.push_str("</table>\n");
    }
    doc.push_str("</section>\n");
}

fn skipped_section(report: &Report, doc: &mut String) {
    let groups = text::skip_groups(&report.skipped_rules);
    let statement_skips = text::statement_skips(&report.skipped_rules);
    let migration_groups = text::migration_skip_groups(&report.skipped_migrations);
    if groups.is_empty() && statement_skips.is_empty() && migration_groups.is_empty() {
        return;
    }
    doc.push_str("<section id=\"skipped\"><h2>Not checked</h2><ul>\n");
    for g in groups {
        let _ = writeln!(
            doc,
            "<li>{}: {}</li>",
            esc(&text::skip_group_head(&g)),
            g.rules
                .iter()
                .map(|r| format!("<code>{}</code>", esc(r)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for s in statement_skips.iter().take(100) {
        let _ = writeln!(
            doc,
            "<li><code>{}</code> at <code>{}</code>: {}</li>",
            esc(s.rule),
            esc(&text::skip_location(s)),
            esc(&text::one_line(&s.reason))
        );
    }
    for g in migration_groups {
        let paths: Vec<&str> = g.migrations.iter().map(|m| m.path.as_str()).collect();
        let (first, between, last) = text::ends(&paths, 3, 3);
        let mut names: Vec<String> = first
            .iter()
            .map(|p| format!("<code>{}</code>", esc(p)))
            .collect();
        if between > 0 {
            names.push(format!("… {between} more …"));
        }
        names.extend(last.iter().map(|p| format!("<code>{}</code>", esc(p))));
        let _ = writeln!(
            doc,
            "<li>{}: {}. {}</li>",
            esc(&text::migration_skip_head(&g)),
            names.join(", "),
            esc(text::migration_skip_hint(&g))
        );
    }
    doc.push_str("</ul></section>\n");
}

fn footer(report: &Report, run: &RunInfo, doc: &mut String) {
    let mut parts = vec![format!("migsafe {}", env!("CARGO_PKG_VERSION"))];
    parts.push(format!("{} evidence", report.evidence));
    if let Some(command) = &run.command {
        parts.push(format!(
            "reproduce: <code>{}</code>",
            esc(&format!("{} --format html", text::one_line(command)))
        ));
    }
    let _ = writeln!(doc, "<footer>{}</footer>", parts.join(" · "));
}

/// Text and attribute values, escaped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in HTML text.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The page's only styles. System fonts only: nothing is fetched.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #ffffff; color: #1f2328;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0 0; }
h2 { font-size: 18px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
h4 { font-size: 13px; margin: 4px 0; color: #59636e; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
pre { background: #f6f8fa; padding: 8px 10px; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
a { color: #0969da; text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; white-space: nowrap; }
.headline { font-size: 16px; font-weight: 600; margin: 4px 0 0; }
.sev-error, .mark.sev-error { color: #a40e26; }
.sev-warning, .mark.sev-warning { color: #9a6700; }
.sev-info, .mark.sev-info { color: #0550ae; }
.sev-ok, .mark.sev-ok { color: #1a7f37; }
.sev-skipped, .mark.sev-skipped { color: #59636e; }
.mark { font-weight: 600; white-space: nowrap; }
.finding { border-left: 4px solid #d0d7de; padding: 2px 0 2px 12px; margin: 12px 0; }
.finding.sev-error { border-left-color: #a40e26; }
.finding.sev-warning { border-left-color: #9a6700; }
.finding.sev-info { border-left-color: #0550ae; }
.finding p, .finding h3, .finding pre { color: #1f2328; }
table.verdicts td:nth-child(4) { white-space: nowrap; }
.finding .sev { text-transform: uppercase; font-size: 11px; letter-spacing: .04em; }
.finding.sev-error .sev { color: #a40e26; }
.finding.sev-warning .sev { color: #9a6700; }
.finding.sev-info .sev { color: #0550ae; }
.facts { color: #59636e; }
.advice { margin-top: 4px; }
dl.facts { display: grid; grid-template-columns: 90px 1fr; gap: 2px 12px; color: #1f2328; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
dl.facts ul { margin: 0; padding-left: 18px; }
.status { font-weight: 600; }
.status-Met, .status-Restores { color: #1a7f37; }
.status-NotMet, .status-Differs { color: #a40e26; }
.status-NotChecked { color: #59636e; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 8px; background: currentColor; }
.verdict-line { font-weight: 600; margin: 0 0 6px; }
.not-executed { color: #59636e; }
figure.timeline { margin: 8px 0 16px; }
figure.timeline figcaption { font-weight: 600; margin-bottom: 4px; }
figure.timeline svg text.label { fill: #1f2328; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
figure.timeline svg text.note, figure.timeline svg text.tick { fill: #59636e; font-size: 11px; }
.legend { color: #59636e; font-size: 12px; }
.legend .key { margin-right: 12px; white-space: nowrap; }
.plans { display: flex; gap: 16px; flex-wrap: wrap; margin: 6px 0; }
.plans .plan { flex: 1 1 400px; background: #f6f8fa; border-radius: 6px; padding: 6px 10px; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 16px; }
ul.tree { padding-left: 0; }
ul.tree li { position: relative; padding-left: 12px; border-left: 1px solid #d0d7de; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
ul.tree .node { font-weight: 600; }
ul.tree .node.seq { color: #a40e26; }
ul.tree .cost, ul.tree .detail { color: #59636e; }
.caveat, .more, .people { color: #59636e; }
footer { margin-top: 32px; color: #59636e; font-size: 12px; border-top: 1px solid #d0d7de; padding-top: 8px; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    fn page(report: &Report) -> String {
        to_string(report, &RunInfo::default())
    }

    #[test]
    fn execution_page() {
        insta::assert_snapshot!("html_execution", page(&fixtures::execution()));
    }

    #[test]
    fn catalog_page() {
        insta::assert_snapshot!("html_catalog", page(&fixtures::catalog()));
    }

    #[test]
    fn the_page_is_self_contained() {
        for report in [fixtures::execution(), fixtures::catalog(), fixtures::nine()] {
            let html = page(&report);
            assert!(html.starts_with("<!DOCTYPE html>"));
            for external in ["<script", "<link", "src=", "@import", "url("] {
                assert!(!html.contains(external), "{external}");
            }
            // The only addresses are links to rule pages and the SVG namespace.
            for (i, _) in html.match_indices("http") {
                let rest = &html[i..];
                assert!(
                    rest.starts_with("http://www.w3.org/2000/svg")
                        || rest.starts_with(crate::report::docs::repository()),
                    "{}",
                    &rest[..rest.len().min(80)]
                );
            }
        }
    }

    #[test]
    fn verdicts_come_first_then_errors() {
        let html = page(&fixtures::execution());
        let verdicts = html.find("id=\"verdicts\"").unwrap();
        let findings = html.find("id=\"findings\"").unwrap();
        let timeline = html.find("<svg xmlns").unwrap();
        assert!(verdicts < findings && findings < timeline);
        let first_warning = html.find("finding sev-warning").unwrap();
        let last_error = html.rfind("finding sev-error").unwrap();
        assert!(last_error < first_warning);
        assert!(html.contains("blocks reads and writes on public.orders for ~30 s"));
    }

    #[test]
    fn timeline_bars_are_placed_on_the_time_axis() {
        let report = fixtures::execution();
        let (placed, total) = spans(&report.migrations[0].timeline);
        assert_eq!(total, 29_480 + 1_650);
        assert_eq!(placed[2].start_ms, 0);
        assert_eq!(placed[3].start_ms, 29_480);
        assert_eq!(placed[3].held_ms, Some(1_650));
        assert_eq!(placed[0].held_ms, None);
        let html = page(&report);
        assert!(html.contains(
            "<rect class=\"lock blocks-reads\" data-line=\"5\" data-held-ms=\"29500\" x=\"300.0\""
        ), "{html}");
        assert!(
            html.contains("class=\"lock blocks-ddl\" data-line=\"6\""),
            "{html}"
        );
        assert!(html.contains("ACCESS EXCLUSIVE on public.orders · held 29.5 s"));
        assert!(spans(&[]).1 >= 1, "an empty timeline still has an axis");
    }

    #[test]
    fn plans_are_trees_and_watched_queries_show_before_and_after() {
        let trees = parse_plan(
            "Update on orders  (cost=0.00..412500.00 rows=0 width=0)\n  ->  Seq Scan on orders  (cost=0.00..1 rows=12 width=38)\n        Filter: (status IS NULL)\n  ->  Index Scan using x on y\n        ->  Hash\n",
        );
        assert_eq!(trees.len(), 1);
        assert_eq!(trees[0].children.len(), 2);
        assert_eq!(trees[0].children[0].details, ["Filter: (status IS NULL)"]);
        assert_eq!(trees[0].children[1].children[0].node, "Hash");
        assert!(parse_plan("").is_empty());
        let mut report = fixtures::execution();
        report.findings[0].facts.plan = Some(
            "before:\nIndex Scan using orders_customer_id_idx on orders\nafter:\nSeq Scan on orders\n  Filter: (customer_id = 42)"
                .into(),
        );
        let html = page(&report);
        assert!(html.contains("<div class=\"plans pair\"><div class=\"plan\"><h4>Before</h4>"));
        assert!(html.contains("<span class=\"node seq\">Seq Scan on orders</span>"));
    }

    #[test]
    fn everything_from_a_migration_is_escaped() {
        let mut report = fixtures::sample();
        report.findings[0].message = "<script>alert(1)</script> & \"x\"".into();
        report.migrations[0].path = "a<b>.sql".into();
        report.findings[0].statement = "SELECT '</pre><img src=x>'\u{0007}".into();
        let html = page(&report);
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(html.contains("a&lt;b&gt;.sql"));
    }
}
