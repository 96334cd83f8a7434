//! GitLab Code Quality: the JSON array a job publishes as `artifacts:reports:codequality`,
//! which GitLab shows in the merge request widget and diff
//! (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
//!
//! Severity: error → `critical`, warning → `major`, info → `info`; `blocker` and `minor` are
//! not used (migsafe has three levels, and `critical` already sorts errors first). The
//! fingerprint is `report::fingerprints`: stable across edits that only move lines, which is
//! what GitLab needs to tell new issues from fixed ones between the base and the head.

use super::{fingerprints, RunInfo};
use crate::model::{Report, Severity};
use anyhow::{Context as _, Result};
use serde_json::{json, Value};
use std::io::Write;

/// Writes the Code Quality report, pretty-printed, followed by a newline.
pub fn render(report: &Report, run: &RunInfo, out: &mut dyn Write) -> Result<()> {
    let prints = fingerprints(report, run);
    let issues: Vec<Value> = report
        .findings
        .iter()
        .zip(prints)
        .map(|(f, fingerprint)| {
            json!({
                "type": "issue",
                "description": format!("{}: {}", f.rule, f.message.trim()),
                "check_name": f.rule,
                "fingerprint": fingerprint,
                "severity": severity(f.severity),
                "categories": ["Bug Risk"],
                // Code Climate's markdown body (GitLab's format is its subset): the safe
                // version, written with the statement's names when the rule could.
                "content": {"body": format!("Instead: {}", f.instead.trim())},
                "location": {
                    "path": run.display_path(&f.file),
                    "lines": {"begin": f.line.max(1)},
                },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)
        .context("Failed to write the GitLab Code Quality report")?;
    writeln!(out)?;
    Ok(())
}

/// Code Quality's severity of a migsafe severity.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Info => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn one_issue_per_finding_with_the_required_keys() {
        let report = fixtures::sample();
        let mut out = Vec::new();
        render(&report, &RunInfo::default(), &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let issues = v.as_array().unwrap();
        assert_eq!(issues.len(), report.findings.len());
        for (i, f) in issues.iter().zip(&report.findings) {
            assert_eq!(i["check_name"], f.rule);
            assert_eq!(i["location"]["path"], f.file.as_str());
            assert_eq!(i["location"]["lines"]["begin"], f.line);
            assert_eq!(i["severity"], severity(f.severity));
            assert_eq!(i["fingerprint"].as_str().map(str::len), Some(64));
            assert_eq!(
                i["content"]["body"].as_str(),
                Some(format!("Instead: {}", f.instead.trim()).as_str())
            );
        }
        let prints: std::collections::BTreeSet<_> = issues
            .iter()
            .map(|i| i["fingerprint"].clone().to_string())
            .collect();
        assert_eq!(prints.len(), issues.len(), "fingerprints are unique");
    }
}
