//! `--format concise`: one line per finding for scripts and editors, in the shape compilers
//! and ruff's concise output use (`path:line:col: severity code name: message`), so `grep`,
//! `awk -F:` and editors' error parsers read it without a migsafe-specific pattern.
//!
//! First one line per migration with its verdict (`path: verdict: blocks writes on …`: no
//! line and column, so a pattern for findings never matches it), then every finding, errors
//! first, never summarised or wrapped, then the summary line the table ends with. Paths are
//! as the report holds them (relative to the current directory), so an editor opens them.

use super::table::Paint;
use super::verdict;
use super::{text, Terminal};
use crate::model::Report;
use anyhow::Result;
use std::io::Write;

/// Writes the verdicts, one line per finding, and the summary.
pub fn render(report: &Report, term: &Terminal, out: &mut dyn Write) -> Result<()> {
    let paint = Paint(term.color);
    for v in verdict::verdicts(report) {
        writeln!(
            out,
            "{}: verdict: {}",
            paint.bold(&one_line_path(&v.path)),
            text::one_line(&v.text)
        )?;
    }
    for f in verdict::by_severity(&report.findings) {
        writeln!(
            out,
            "{}: {} {} {}: {}",
            paint.bold(&format!(
                "{}:{}:{}",
                one_line_path(&f.file),
                f.line,
                f.column
            )),
            paint.severity(f.severity, f.severity.as_str()),
            f.code,
            f.rule,
            text::one_line(&f.message)
        )?;
    }
    let migrations = text::count(report.migrations.len(), "migration", "migrations");
    let line = match report.worst() {
        None => paint.green(&format!(
            "No findings in {migrations} (evidence: {})",
            report.evidence
        )),
        Some(worst) => paint.severity(
            worst,
            &format!(
                "{} in {migrations} (evidence: {})",
                text::severity_counts(&report.summary),
                report.evidence
            ),
        ),
    };
    writeln!(out, "{line}")?;
    Ok(())
}

/// A path on one line: a newline in a file name must not start a line that looks like a
/// finding of its own.
fn one_line_path(path: &str) -> String {
    path.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    fn concise(report: &Report, color: bool) -> String {
        let mut out = Vec::new();
        let term = Terminal {
            color,
            ..Terminal::plain()
        };
        render(report, &term, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sample() {
        insta::assert_snapshot!("concise_sample", concise(&fixtures::sample(), false));
    }

    #[test]
    fn execution() {
        insta::assert_snapshot!("concise_execution", concise(&fixtures::execution(), false));
    }

    #[test]
    fn one_line_per_finding_that_a_compiler_pattern_reads() {
        let report = fixtures::large(10, 40);
        let out = concise(&report, false);
        let pattern = |l: &&str| {
            let mut parts = l.splitn(4, ':');
            let (_, line, col) = (parts.next(), parts.next(), parts.next());
            line.is_some_and(|n| n.parse::<usize>().is_ok())
                && col.is_some_and(|n| n.parse::<usize>().is_ok())
        };
        let findings: Vec<&str> = out.lines().filter(pattern).collect();
        assert_eq!(findings.len(), report.findings.len());
        assert!(findings[0].contains(": error M001 create-index-non-concurrently: Building"));
        // Errors first.
        let first_warning = findings
            .iter()
            .position(|l| l.contains(": warning "))
            .unwrap();
        assert!(findings[..first_warning]
            .iter()
            .all(|l| l.contains(": error ")));
        assert_eq!(
            out.lines().filter(|l| l.contains(": verdict: ")).count(),
            report.migrations.len()
        );
        assert!(out
            .lines()
            .filter(|l| l.contains(": verdict: "))
            .all(|l| !pattern(&l)));
    }

    #[test]
    fn newlines_in_messages_and_paths_stay_on_the_line() {
        let mut report = fixtures::sample();
        report.findings[0].message = "first\nsecond".into();
        report.findings[0].file = "odd\nname.sql".into();
        let out = concise(&report, false);
        assert!(out.contains(
            "odd name.sql:5:1: error M001 create-index-non-concurrently: first second\n"
        ));
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!concise(&fixtures::sample(), false).contains('\x1b'));
        assert!(concise(&fixtures::sample(), true).contains("\x1b[1;31merror\x1b[0m"));
    }
}
