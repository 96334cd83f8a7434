//! No absolute path of the run in any report (issue #14). Before a report is rendered, every
//! path it holds and every absolute path inside its texts (a watched-queries file configured
//! relatively that the engine resolved against the config's folder, a dump restored from an
//! absolute path, a cluster's data directory under `$HOME`) is rewritten:
//!
//! - files a CI job keeps (markdown, HTML, JSON, SARIF, GitHub annotations, GitLab) name paths
//!   relative to the repository root, so two runners with different checkouts write the same
//!   bytes and fingerprints;
//! - the terminal formats (table, concise) keep paths relative to the current directory, the
//!   way the user typed them, so a terminal or an editor opens them; absolute ones under the
//!   current directory are made relative to it.
//!
//! In both, what lies in the home directory is written `~/…`. SQL (statements, plans) is left
//! as written: a path in `COPY … FROM '/data/x.csv'` is the migration's, not the run's.

use super::{Format, RunInfo};
use crate::model::Report;
use std::path::Path;

/// The report and run as `format` should see them: paths rewritten as the module says. The
/// returned run has an empty prefix, since the paths in the report are already where the
/// format wants them.
pub fn prepare(report: &Report, format: Format, run: &RunInfo) -> (Report, RunInfo) {
    let scrub = Scrub::new(run, !format.is_terminal());
    let mut r = report.clone();
    for m in &mut r.migrations {
        m.path = scrub.path(&m.path);
        m.not_executed = m.not_executed.as_deref().map(|t| scrub.text(t));
        for e in &mut m.expected {
            e.detail = scrub.text(&e.detail);
        }
        m.rollback.detail = scrub.text(&m.rollback.detail);
    }
    for f in &mut r.findings {
        f.file = scrub.path(&f.file);
        f.message = scrub.text(&f.message);
    }
    for s in &mut r.skipped_rules {
        s.file = s.file.as_deref().map(|p| scrub.path(p));
        s.reason = scrub.text(&s.reason);
    }
    for m in &mut r.skipped_migrations {
        m.path = scrub.path(&m.path);
        m.reason = scrub.text(&m.reason);
    }
    if let Some(copy) = &mut r.copy {
        for n in &mut copy.notes {
            *n = scrub.text(n);
        }
    }
    for p in &mut r.phases {
        p.detail = p.detail.as_deref().map(|d| scrub.text(d));
    }
    let run = RunInfo {
        prefix: String::new(),
        root: run.root.clone(),
        home: run.home.clone(),
        command: run.command.as_deref().map(|c| scrub.text(c)),
        reports: run
            .reports
            .iter()
            .map(|(f, p)| (*f, scrub.path(p)))
            .collect(),
    };
    (r, run)
}

/// How one format's paths are rewritten.
struct Scrub<'a> {
    run: &'a RunInfo,
    /// Relative to the repository root (files) or to the current directory (terminal).
    repo: bool,
    /// Absolute prefixes and what replaces them in text, longest first.
    prefixes: Vec<(String, String)>,
}

impl<'a> Scrub<'a> {
    fn new(run: &'a RunInfo, repo: bool) -> Self {
        let mut prefixes = Vec::new();
        let dir = |p: &Path| {
            let s = p.to_string_lossy().trim_end_matches('/').to_string();
            (!s.is_empty()).then(|| format!("{s}/"))
        };
        if let Some(root) = run.root.as_deref().and_then(dir) {
            let cwd = format!("{root}{}", run.prefix);
            if repo {
                prefixes.push((root, String::new()));
            } else {
                prefixes.push((cwd, String::new()));
            }
        }
        if let Some(home) = run.home.as_deref().and_then(dir) {
            prefixes.push((home, "~/".to_string()));
        }
        // A longer prefix first: the checkout usually lies inside the home directory.
        prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Scrub {
            run,
            repo,
            prefixes,
        }
    }

    /// A path the report holds (relative to the current directory, or absolute).
    fn path(&self, path: &str) -> String {
        if self.repo {
            let shown = self.run.display_path(path);
            return if Path::new(&shown).is_absolute() {
                self.text(&shown)
            } else {
                shown
            };
        }
        if Path::new(path).is_absolute() {
            self.text(path)
        } else {
            path.to_string()
        }
    }

    /// Free text: each absolute prefix where a path starts (after a space, a quote, a
    /// bracket or at the beginning) is replaced.
    fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (prefix, with) in &self.prefixes {
            let mut result = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(i) = rest.find(prefix.as_str()) {
                let before = rest.get(..i).unwrap_or("");
                let starts_path = before
                    .chars()
                    .last()
                    .is_none_or(|c| c.is_whitespace() || "'\"`([{<=:,".contains(c));
                result.push_str(before);
                if starts_path {
                    result.push_str(with);
                } else {
                    result.push_str(prefix);
                }
                rest = rest.get(i + prefix.len()..).unwrap_or("");
            }
            result.push_str(rest);
            out = result;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;
    use std::path::PathBuf;

    fn run() -> RunInfo {
        RunInfo {
            prefix: "services/api/".into(),
            root: Some(PathBuf::from("/home/ci/work/repo")),
            home: Some(PathBuf::from("/home/ci")),
            ..RunInfo::default()
        }
    }

    fn with_absolute_paths() -> Report {
        let mut r = fixtures::execution();
        r.migrations[0].path = "/home/ci/work/repo/services/api/db/0301.sql".into();
        r.findings[0].file = r.migrations[0].path.clone();
        r.findings[1].file = "db/0301.sql".into();
        r.findings[0].message =
            "Watched query orders (/home/ci/work/repo/services/api/queries.sql:2) gets worse"
                .into();
        r.phases[0].detail =
            Some("new PostgreSQL 15 with data in /home/ci/.cache/migsafe/clusters/pg15".into());
        r.skipped_migrations.push(crate::model::SkippedMigration {
            path: "/home/ci/work/repo/services/api/db/0001.sql".into(),
            version: None,
            reason: "already applied".into(),
        });
        r
    }

    #[test]
    fn files_name_paths_from_the_repository_root_and_no_absolute_path_remains() {
        let (r, run) = prepare(&with_absolute_paths(), Format::Json, &run());
        assert_eq!(r.migrations[0].path, "services/api/db/0301.sql");
        assert_eq!(r.findings[0].file, "services/api/db/0301.sql");
        assert_eq!(r.findings[1].file, "services/api/db/0301.sql");
        assert_eq!(
            r.findings[0].message,
            "Watched query orders (services/api/queries.sql:2) gets worse"
        );
        assert_eq!(
            r.phases[0].detail.as_deref(),
            Some("new PostgreSQL 15 with data in ~/.cache/migsafe/clusters/pg15")
        );
        assert_eq!(r.skipped_migrations[0].path, "services/api/db/0001.sql");
        assert_eq!(run.prefix, "");
        let mut json = Vec::new();
        crate::report::json::render(&r, &mut json).unwrap();
        let json = String::from_utf8(json).unwrap();
        assert!(!json.contains("/home/ci"), "{json}");
    }

    #[test]
    fn the_terminal_keeps_paths_relative_to_the_current_directory() {
        let (r, _) = prepare(&with_absolute_paths(), Format::Table, &run());
        assert_eq!(r.migrations[0].path, "db/0301.sql");
        assert_eq!(r.findings[1].file, "db/0301.sql");
        assert_eq!(
            r.findings[0].message,
            "Watched query orders (queries.sql:2) gets worse"
        );
    }

    #[test]
    fn only_whole_path_starts_are_rewritten() {
        let run = run();
        let s = Scrub::new(&run, true);
        assert_eq!(s.text("x/home/ci/work/repo/a"), "x/home/ci/work/repo/a");
        assert_eq!(
            s.text("'/home/ci/work/repo/a' and /home/ci/b"),
            "'a' and ~/b"
        );
        assert_eq!(s.text(""), "");
        let none = RunInfo::default();
        let nothing = Scrub::new(&none, true);
        assert_eq!(nothing.text("/abs/path"), "/abs/path");
    }
}
