//! Output formats. Every format renders the same `Report`, into `&mut dyn Write`, and nothing
//! else in migsafe writes to stdout. Output is deterministic: no timestamps of the run, no
//! hash-map order, no absolute paths migsafe made up, findings in the engine's (file, line,
//! column, code) order, and terminal width and colour only when stdout really is a terminal.
//! The one thing read from the clock is the age of the copy's statistics ("analyzed …
//! (6 days ago)"), and only the terminal table shows it: the files a CI job keeps, diffs or
//! caches (JSON, SARIF, Markdown, GitLab) give the timestamp alone, so the same input gives
//! the same bytes. `Report::phases` are measurements: JSON carries them as measured, the PR
//! comment and SARIF leave them out.
//!
//! At execution level the reports also show what was measured on the copy: per migration its
//! timeline (statement, duration, strongest lock, held for, rows, failed) and why it was not
//! executed, the lock totals per table, and the caveat that a copy's durations are indicative
//! (`text::INDICATIVE`). Those are measurements too, so byte-identical output for the same
//! input holds for static and catalog evidence only; below execution level none of it
//! appears (JSON keeps its keys, empty).

pub mod concise;
pub mod docs;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod markdown;
pub mod production;
pub mod relative;
pub mod rules;
pub mod sarif;
pub mod table;
pub mod text;
pub mod verdict;

use crate::model::Report;
use anyhow::Result;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    /// One line per finding (`path:line:col: severity code name: message`), for scripts.
    Concise,
    Markdown,
    /// One self-contained page with the verdicts, findings, lock timelines and plans.
    Html,

    Json,
    Sarif,
    Github,
    Gitlab,
}

impl Format {
    /// Every format, in the order `--help` and error messages list them.
    pub const ALL: [Format; 8] = [
        Format::Table,
        Format::Concise,
        Format::Markdown,
        Format::Html,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Gitlab,
    ];

    /// The name accepted by `--format` (and `--report NAME=PATH`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Concise => "concise",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
        }
    }

    /// Whether the output is a JSON document, which nothing else may be mixed into.
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::Sarif | Format::Gitlab)
    }

    /// Parses a format name (case-insensitive; `md` is accepted for markdown).
    pub fn parse(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        if name == "md" {
            return Some(Format::Markdown);
        }
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// Whether the output is for a terminal: laid out at its width and coloured by `--color`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Format::Table | Format::Concise)
    }

    /// `table, concise, markdown, …, github or gitlab`: for messages that list the choices.
    pub fn names() -> String {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of ours; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}; expected {}", Format::names())]
pub struct UnknownFormat {
    pub name: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::parse(s).ok_or_else(|| UnknownFormat {
            name: s.to_string(),
        })
    }
}

/// How terminal-facing output (the table format, the rule catalog) is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Columns that tables and wrapped text fit in.
    pub width: u16,
    /// Colour severities and statuses with ANSI escapes.
    pub color: bool,
}

impl Terminal {
    /// Width used when stdout is not a terminal: fixed, so CI logs and snapshots are stable
    /// whatever window the run happened to start from.
    pub const PLAIN_WIDTH: u16 = 120;

    /// Fixed width, no colour: for files, pipes and tests.
    pub fn plain() -> Terminal {
        Terminal {
            width: Terminal::PLAIN_WIDTH,
            color: false,
        }
    }

    /// The real terminal's width and colour support when stdout is a terminal, else `plain`.
    /// Colour follows the NO_COLOR convention (https://no-color.org) and `TERM=dumb`.
    pub fn detect() -> Terminal {
        Terminal::detect_with(ColorChoice::Auto)
    }

    /// Like `detect`, with colour as `--color` asks: the width is the terminal's only when
    /// stdout is one, whatever the colour.
    pub fn detect_with(choice: ColorChoice) -> Terminal {
        let tty = std::io::stdout().is_terminal();
        let width = if tty {
            // comfy-table already asks the terminal for its size; reusing it avoids a second
            // terminal dependency.
            comfy_table::Table::new()
                .width()
                .unwrap_or(Terminal::PLAIN_WIDTH)
                .max(60)
        } else {
            Terminal::PLAIN_WIDTH
        };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Terminal {
            width,
            color: choice.colors(tty, no_color, dumb),
        }
    }
}

/// `--color auto|always|never` (issue #13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not
    /// `dumb`.
    #[default]
    Auto,
    /// Always colour, even into a pipe or file and whatever `NO_COLOR` says: a flag typed for
    /// this run overrides the environment (no-color.org).
    Always,
    Never,
}

impl ColorChoice {
    pub const NAMES: [&'static str; 3] = ["auto", "always", "never"];

    pub fn parse(name: &str) -> Option<ColorChoice> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(ColorChoice::Auto),
            "always" => Some(ColorChoice::Always),
            "never" => Some(ColorChoice::Never),
            _ => None,
        }
    }

    /// Whether to colour, given what `detect_with` found out.
    pub fn colors(self, tty: bool, no_color: bool, dumb: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color && !dumb,
        }
    }
}

/// What a renderer knows about the run besides the report: where its paths sit in the
/// repository (SARIF, annotations and Code Quality locate files from the repository root),
/// the command that reproduces it, and the other reports it wrote (the PR comment's footer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The current directory relative to the repository root, `/`-separated with a trailing
    /// `/` (`services/api/`); empty at the root or outside a repository.
    pub prefix: String,
    /// The repository root (or the current directory outside one), canonical: absolute paths
    /// under it are made relative to it.
    pub root: Option<PathBuf>,
    /// The home directory, written `~` in reports.
    pub home: Option<PathBuf>,
    /// `migsafe check …` as typed, without `--format`/`--report` and with any password
    /// redacted; `None` when unknown (library callers).
    pub command: Option<String>,
    /// Files written by `--report` in the same run, as (format, path).
    pub reports: Vec<(Format, String)>,
}

impl RunInfo {
    /// `file` (as the report shows it: relative to the current directory, or absolute)
    /// relative to the repository root, `/`-separated; `None` when it lies outside.
    pub fn repo_path(&self, file: &str) -> Option<String> {
        let path = Path::new(file);
        if path.is_absolute() {
            let root = self.root.as_deref()?;
            let rel = path.strip_prefix(root).ok()?;
            return normalize("", &rel.to_string_lossy());
        }
        normalize(&self.prefix, file)
    }

    /// The repository-relative path, or the report's path when it lies outside.
    pub fn display_path(&self, file: &str) -> String {
        self.repo_path(file)
            .unwrap_or_else(|| file.replace('\\', "/"))
    }
}

/// `prefix` + `rel` with `.` and `..` resolved; `None` when `..` climbs above the root.
fn normalize(prefix: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in prefix.split('/').chain(rel.split(['/', '\\'])) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Renders `report` in `format`, laying out terminal formats for the real stdout.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> Result<()> {
    render_with(report, format, &Terminal::detect(), out)
}

/// Renders `report` in `format` with an explicit terminal layout (use `Terminal::plain()`
/// when writing to a file).
pub fn render_with(
    report: &Report,
    format: Format,
    terminal: &Terminal,
    out: &mut dyn Write,
) -> Result<()> {
    render_run(report, format, terminal, &RunInfo::default(), out)
}

/// Renders `report` in `format` with what is known about the run, its paths made relative
/// first (`relative`).
pub fn render_run(
    report: &Report,
    format: Format,
    terminal: &Terminal,
    run: &RunInfo,
    out: &mut dyn Write,
) -> Result<()> {
    let (report, run) = relative::prepare(report, format, run);
    let (report, run) = (&report, &run);
    match format {
        Format::Table => table::render(report, terminal, out),
        Format::Concise => concise::render(report, terminal, out),
        Format::Markdown => markdown::render(report, run, out),
        Format::Html => html::render(report, run, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, run, out),
        Format::Github => github::render(report, run, out),
        Format::Gitlab => gitlab::render(report, run, out),
    }
}

/// A fingerprint of a finding that survives unrelated edits: the rule, the file, the
/// statement with its whitespace collapsed, and which occurrence of that triple it is, but
/// not the line (lines move whenever something above is edited). SARIF's
/// `partialFingerprints` and GitLab's `fingerprint` both use it.
pub fn fingerprints(report: &Report, run: &RunInfo) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::new();
    report
        .findings
        .iter()
        .map(|f| {
            let statement = f.statement.split_whitespace().collect::<Vec<_>>().join(" ");
            let key = (f.code.to_string(), run.display_path(&f.file), statement);
            let n = seen.entry(key.clone()).or_insert(0);
            let occurrence = *n;
            *n += 1;
            let mut h = Sha256::new();
            for part in [key.0.as_str(), key.1.as_str(), key.2.as_str()] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            h.update(occurrence.to_string().as_bytes());
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(r: &crate::model::Report, f: Format) -> String {
        let mut out = Vec::new();
        render_with(r, f, &Terminal::plain(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn execution_timelines_and_lock_totals_appear_only_at_execution_level() {
        let run = fixtures::execution();
        let table = rendered(&run, Format::Table);
        assert!(
            table.contains(
                "  timeline: L5  29.5 s  AccessExclusiveLock on public.orders held 29.5 s  \
                 `ALTER TABLE orders"
            ),
            "{table}"
        );
        assert!(
            table
                .contains("L6   1.6 s  RowExclusiveLock on public.orders held 1.6 s  120,000 rows"),
            "{table}"
        );
        assert!(
            table.contains("L3  409 ms  FAILED  ShareLock on public.customers"),
            "{table}"
        );
        assert!(table.contains("3 more statements under 1 ms"), "{table}");
        assert!(
            table.contains(
                "  not executed: migrations/0302_unique_customer_email.sql failed at line 3"
            ),
            "{table}"
        );
        let flat = text::one_line(&table);
        assert!(
            flat.contains(
                "Locked on the copy: public.orders ACCESS EXCLUSIVE (reads and writes) 29.5 s; \
                 public.customers ACCESS EXCLUSIVE (reads and writes) 412 ms"
            ),
            "{table}"
        );
        assert!(flat.contains(text::INDICATIVE), "{table}");
        assert!(
            table.contains("and writes) held 29.5 s · ran 29.5 s"),
            "{table}"
        );

        let md = rendered(&run, Format::Markdown);
        assert!(
            md.contains("<summary>Timeline on the copy (5 statements, 31.1 s in all)</summary>"),
            "{md}"
        );
        assert!(md.contains("**Not executed:**"), "{md}");
        assert!(
            md.contains("| `public.orders` | ACCESS EXCLUSIVE | reads and writes | 29.5 s |"),
            "{md}"
        );
        assert!(md.contains(text::INDICATIVE), "{md}");

        for fixed in [fixtures::sample(), fixtures::catalog(), fixtures::clean()] {
            for format in [Format::Table, Format::Markdown] {
                let out = text::one_line(&rendered(&fixed, format));
                for execution_only in [
                    "timeline",
                    "Timeline",
                    "Locked on the copy",
                    "indicative",
                    "not executed",
                ] {
                    assert!(!out.contains(execution_only), "{execution_only}: {out}");
                }
            }
        }
    }

    #[test]
    fn format_names_parse_and_list() {
        assert_eq!(Format::parse("table"), Some(Format::Table));
        assert_eq!(Format::parse("MD"), Some(Format::Markdown));
        assert_eq!(Format::parse(" json "), Some(Format::Json));
        assert_eq!(Format::parse("xml"), None);
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        let err = "yaml".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown format \"yaml\"; expected table, concise, markdown, html, json, sarif, github \
             or gitlab"
        );
    }

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        use ColorChoice::*;
        // (choice, tty, NO_COLOR set, TERM=dumb) -> colour
        for (choice, tty, no_color, dumb, expected) in [
            (Auto, true, false, false, true),
            (Auto, false, false, false, false),
            (Auto, true, true, false, false),
            (Auto, true, false, true, false),
            (Always, false, true, true, true),
            (Never, true, false, false, false),
        ] {
            assert_eq!(
                choice.colors(tty, no_color, dumb),
                expected,
                "{choice:?} tty={tty} NO_COLOR={no_color} dumb={dumb}"
            );
        }
        assert_eq!(ColorChoice::parse("ALWAYS"), Some(Always));
        assert_eq!(ColorChoice::parse("sometimes"), None);
    }

    #[test]
    fn paths_are_made_relative_to_the_repository_root() {
        let run = RunInfo {
            prefix: "services/api/".into(),
            root: Some(PathBuf::from("/repo")),
            ..RunInfo::default()
        };
        assert_eq!(run.display_path("db/1.sql"), "services/api/db/1.sql");
        assert_eq!(
            run.display_path("./db/../db/1.sql"),
            "services/api/db/1.sql"
        );
        assert_eq!(run.display_path("../web/1.sql"), "services/web/1.sql");
        assert_eq!(run.display_path("/repo/x/1.sql"), "x/1.sql");
        assert_eq!(run.display_path("/elsewhere/1.sql"), "/elsewhere/1.sql");
        assert_eq!(run.repo_path("../../../up.sql"), None);
    }
}
