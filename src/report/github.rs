//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! finding, which GitHub shows on the pull request's diff at the file and line
//! (https://docs.github.com/actions/reference/workflow-commands-for-github-actions).
//!
//! Everything that comes from a migration is escaped the way the runner unescapes it: in the
//! message (the command's data) `%`, CR and LF; in the properties (`file`, `title`)
//! additionally `:` and `,`, which would otherwise end the property. Without that, a message
//! with a newline would lose everything after it, and a comma in a path would cut the path.

use super::{text, RunInfo};
use crate::model::{Finding, Report, Severity};
use anyhow::Result;
use std::io::Write;

/// Writes each migration's verdict as a plain log line, one annotation per finding (errors
/// first, so GitHub's per-step cap on annotations keeps the errors), then a summary line.
pub fn render(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    for v in super::verdict::verdicts(report) {
        writeln!(
            out,
            "migsafe: {}: {}",
            text::one_line(&run.display_path(&v.path)),
            text::one_line(&v.text)
        )?;
    }
    annotations(report, run, out)?;
    execution_log(report, run, out)?;
    not_reviewed_log(report, run, out)?;
    let mut migrations = text::count(report.migrations.len(), "migration", "migrations");
    if !report.skipped_migrations.is_empty() {
        migrations.push_str(&format!(
            ", {} not reviewed",
            report.skipped_migrations.len()
        ));
    }
    writeln!(
        out,
        "migsafe: {} in {migrations} (evidence: {})",
        text::severity_counts(&report.summary),
        report.evidence
    )?;
    Ok(())
}

/// The files the loader does not review (another engine's SQL, a down file without an up…),
/// one log line each with the reason, in a collapsed group: nothing is skipped silently, and
/// the annotations stay for findings. Migrations the copy already applied are only counted.
fn not_reviewed_log(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    let files: Vec<_> = report
        .skipped_migrations
        .iter()
        .filter(|m| {
            !m.reason.contains("on the copy")
                && !m.reason.starts_with(crate::changed::UNCHANGED_PREFIX)
        })
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "::group::{} not reviewed",
        text::count(files.len(), "file", "files")
    )?;
    for m in files {
        writeln!(
            out,
            "{}: {}",
            text::one_line(&run.display_path(&m.path)),
            text::one_line(&m.reason)
        )?;
    }
    writeln!(out, "::endgroup::")?;
    Ok(())
}

/// Execution level: each migration's timeline on the copy as a collapsed group of the job's
/// log (`::group::`), then the lock totals and the caveat that these are a copy's numbers.
/// Annotations would be the wrong place: GitHub caps them per step, and they are for findings.
fn execution_log(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    for m in &report.migrations {
        let rows = text::timeline_rows(m);
        if rows.is_empty() && m.not_executed.is_none() {
            continue;
        }
        let path = text::one_line(&run.display_path(&m.path));
        writeln!(out, "::group::Timeline on the copy: {path}")?;
        for row in &rows {
            let statement = text::truncate(&text::one_line(&row.entry.statement), 120);
            writeln!(out, "{}  `{statement}`", row.line())?;
        }
        if let Some(quick) = text::quick_statements(m) {
            writeln!(out, "{quick}")?;
        }
        if let Some(reason) = &m.not_executed {
            writeln!(out, "{}", text::one_line(reason))?;
        }
        writeln!(out, "::endgroup::")?;
    }
    if !report.locked.is_empty() {
        writeln!(
            out,
            "migsafe: locked on the copy: {}",
            text::locked_totals(&report.locked)
        )?;
    }
    if text::has_measurements(report) {
        writeln!(out, "migsafe: {}", text::one_line(text::INDICATIVE))?;
    }
    Ok(())
}

/// Writes only the annotations (what `GITHUB_ACTIONS=true` adds next to another format).
pub fn annotations(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    for f in super::verdict::by_severity(&report.findings) {
        writeln!(out, "{}", annotation(f, run))?;
    }
    Ok(())
}

/// `::error file=db/1.sql,line=3,col=1,endLine=4,title=M001 create-index-non-concurrently::…`
pub fn annotation(f: &Finding, run: &RunInfo) -> String {
    let command = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let line = f.line.max(1);
    let end = line + f.statement.trim_end().lines().count().max(1) - 1;
    let mut message = f.message.trim().to_string();
    if !f.instead.trim().is_empty() {
        message.push_str("\nInstead: ");
        message.push_str(f.instead.trim());
    }
    message.push_str("\nOwner: ");
    message.push_str(f.owner.as_deref().unwrap_or(text::UNOWNED));
    format!(
        "::{command} file={},line={line},col={},endLine={end},title={}::{}",
        escape_property(&run.display_path(&f.file)),
        f.column.max(1),
        escape_property(&format!("{} {}", f.code, f.rule)),
        escape_data(&message)
    )
}

/// A command's data (the message).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn escapes_as_the_runner_unescapes() {
        assert_eq!(
            escape_data("50% done\r\nnext: a, b"),
            "50%25 done%0D%0Anext: a, b"
        );
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
    }

    #[test]
    fn one_annotation_per_finding_on_one_line() {
        let mut report = fixtures::sample();
        report.findings[0].message = "line one\nline two, with: colon".into();
        report.findings[0].file = "db/odd,name:1.sql".into();
        let mut out = Vec::new();
        render(&report, &RunInfo::default(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let all: Vec<&str> = out.lines().collect();
        // The verdicts come first, one plain line per migration.
        assert_eq!(
            all[1],
            "migsafe: migrations/20240102090000_drop_legacy.sql: risky: drop column on users",
            "(the first migration's finding was moved to another file above)"
        );
        let lines = &all[report.migrations.len()..];
        assert_eq!(lines.len(), report.findings.len() + 1);
        let first = lines[0];
        assert!(
            first.starts_with("::error file=db/odd%2Cname%3A1.sql,line="),
            "{first}"
        );
        assert!(
            first.contains("::line one%0Aline two, with: colon%0AInstead: "),
            "{first}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("::notice ")),
            "info is a notice"
        );
        assert!(lines
            .last()
            .unwrap()
            .starts_with("migsafe: 2 errors, 1 warning, 1 info"));
    }

    #[test]
    fn execution_timelines_are_collapsed_log_groups() {
        let mut out = Vec::new();
        render(&fixtures::execution(), &RunInfo::default(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(
                "::group::Timeline on the copy: migrations/0301_orders_id_bigint.sql\n\
             L5  29.5 s  AccessExclusiveLock on public.orders held 29.5 s  \
             `ALTER TABLE orders ALTER COLUMN id TYPE bigint`\n"
            ),
            "{out}"
        );
        assert!(out.contains(
            "\nnot executed: migrations/0302_unique_customer_email.sql failed at line 3"
        ));
        assert_eq!(
            out.matches("::group::").count(),
            out.matches("::endgroup::").count()
        );
        assert!(out.contains("migsafe: locked on the copy: public.orders ACCESS EXCLUSIVE"));
        assert!(out.contains("indicative"));
        let mut fixed = Vec::new();
        render(&fixtures::catalog(), &RunInfo::default(), &mut fixed).unwrap();
        let fixed = String::from_utf8(fixed).unwrap();
        assert!(!fixed.contains("::group::") && !fixed.contains("indicative"));
    }
}
