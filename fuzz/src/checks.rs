//! What every input must satisfy, for the fuzz targets and for the corpus replay test
//! (`tests/fuzz_corpus.rs` includes this file): besides "no panic", the properties a user
//! reads off a report. Each check panics with the broken property, which libFuzzer records as
//! a crash with its input.
//!
//! Only migsafe's public API is used, so that a target exercises what the CLI runs.

use migsafe::config::Settings;
use migsafe::load;
use migsafe::model::{Part, Position, Report, SourceFile, Statement};
use migsafe::parse;
use migsafe::report::{self, Format, Terminal};
use migsafe::review;
use std::fs;
use std::io;
use std::path::Path;

/// The line that starts a new file in a review input: `-- fuzz-file: 002_next.sql`. Lets one
/// input be a small folder (an up and a down file, a diesel directory, a CODEOWNERS, a
/// migsafe.toml) without a binary format the seeds could not be written in.
pub const FILE_MARKER: &str = "-- fuzz-file: ";

/// Name of the single file of a review input without any marker.
const DEFAULT_FILE: &str = "001_migration.sql";

/// Files one review input may create; more add nothing but time.
const MAX_FILES: usize = 8;

/// Splitter and parser: the bytes as one migration file (layout detected from the text, as
/// for a file given on the command line), every part split and parsed.
pub fn parse_input(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // The loader decides the segments (goose sections, dbmate markers, alembic blocks), so
    // the splitter sees the ranges it sees in a real run; a loader error is a fine answer.
    let Ok(migrations) = load::load_text("fuzz.sql", &text, None) else {
        return;
    };
    for migration in &migrations {
        check_part(&migration.up);
        if let Some(down) = &migration.down {
            check_part(down);
        }
    }
    // The whole text as one plain part too: the loader may have cut most of it away.
    let whole = parse::parse_sql(&text, true);
    let file = SourceFile {
        display: "fuzz.sql".to_string(),
        text: text.into_owned(),
    };
    let everything = 0..file.text.len();
    check_statements(&file, std::slice::from_ref(&everything), &whole.statements);
}

fn check_part(part: &Part) {
    let parsed = parse::parse_part(part);
    let segments: Vec<_> = part.segments.iter().map(|s| s.range.clone()).collect();
    check_statements(&part.file, &segments, &parsed.statements);
    for comment in &parsed.comments {
        check_position(&part.file, comment.start, "comment");
    }
}

/// Statement spans are what a user's editor shows: inside the file and inside the part's SQL
/// regions, in file order without overlap, their text the file's bytes, and their line and
/// column those of their first and last character.
fn check_statements(file: &SourceFile, segments: &[std::ops::Range<usize>], stmts: &[Statement]) {
    let text = file.text.as_str();
    let mut previous_end = 0;
    for (i, stmt) in stmts.iter().enumerate() {
        let range = &stmt.range;
        assert!(
            range.start < range.end && range.end <= text.len(),
            "statement {i} has range {range:?} outside a {}-byte file",
            text.len()
        );
        assert!(
            text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
            "statement {i} range {range:?} cuts a character"
        );
        assert!(
            segments
                .iter()
                .any(|s| s.start <= range.start && range.end <= s.end),
            "statement {i} range {range:?} lies outside the part's segments {segments:?}"
        );
        assert!(
            range.start >= previous_end,
            "statement {i} range {range:?} overlaps or precedes the previous one (ended at {previous_end})"
        );
        previous_end = range.end;
        assert_eq!(
            Some(stmt.text.as_str()),
            text.get(range.clone()),
            "statement {i} text differs from the file at {range:?}"
        );
        let (line, column) = file.line_col(range.start);
        assert_eq!(
            stmt.start,
            Position { line, column },
            "statement {i} start position is not where its text starts"
        );
        let last = text[..range.end]
            .char_indices()
            .next_back()
            .map_or(range.start, |(at, _)| at);
        let (line, column) = file.line_col(last);
        assert_eq!(
            stmt.end,
            Position { line, column },
            "statement {i} end position is not its last character"
        );
        for comment in &stmt.leading_comments {
            check_position(file, comment.start, "leading comment");
            // `<=`: an unterminated block comment is both the statement (it swallows the rest
            // of the file) and its own leading comment.
            assert!(
                comment.start <= stmt.start,
                "statement {i}'s leading comment at {:?} is after it at {:?}",
                comment.start,
                stmt.start
            );
        }
    }
}

fn check_position(file: &SourceFile, at: Position, what: &str) {
    let lines = file.text.matches('\n').count() + 1;
    assert!(
        at.line >= 1 && at.line <= lines && at.column >= 1,
        "{what} at {at:?} is outside a file of {lines} lines"
    );
}

/// The whole static review: the input written as a small migrations folder, reviewed the
/// way `migsafe check DIR` does, then rendered in every format.
pub fn review_input(data: &[u8]) {
    let Ok(dir) = tempfile::Builder::new().prefix("migsafe-fuzz-").tempdir() else {
        // A full temporary disk is the machine's problem, not an input's.
        return;
    };
    let files = write_folder(dir.path(), data);
    let settings = match fs::read_to_string(dir.path().join("migsafe.toml")) {
        Ok(toml) => match Settings::from_toml(&toml, dir.path().to_path_buf()) {
            Ok(settings) => settings,
            // A bad config is reported before any review: that answer is enough.
            Err(_) => return,
        },
        Err(_) => Settings {
            root: dir.path().to_path_buf(),
            ..Settings::default()
        },
    };
    let Ok(report) = review::check_paths(&[dir.path().to_path_buf()], &settings, &mut io::empty())
    else {
        // "No migrations found" and similar: exit 2 with a message, which is what a user
        // gets for such a folder.
        return;
    };
    check_report(&report, &files);
}

/// Writes the input's files under `dir` and returns (name inside `dir`, bytes) of each.
fn write_folder(dir: &Path, data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut name = DEFAULT_FILE.to_string();
    let mut content: Vec<u8> = Vec::new();
    let marker = FILE_MARKER.as_bytes();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(marker) {
            let wanted = String::from_utf8_lossy(rest).trim().to_string();
            if let Some(next) = safe_name(&wanted) {
                if !content.is_empty() || name != DEFAULT_FILE {
                    files.push((
                        std::mem::replace(&mut name, next),
                        std::mem::take(&mut content),
                    ));
                } else {
                    name = next;
                }
                continue;
            }
        }
        content.extend_from_slice(line);
    }
    files.push((name, content));
    // A name given twice is one file on disk, holding what was written last.
    let mut unique: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, content) in files {
        match unique.iter_mut().find(|(seen, _)| *seen == name) {
            Some(existing) => existing.1 = content,
            None => unique.push((name, content)),
        }
    }
    let mut files = unique;
    files.truncate(MAX_FILES);
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        if fs::write(&path, &content).is_ok() {
            written.push((name, content));
        }
    }
    written
}

/// A relative path of at most two plain components that names an SQL file, a CODEOWNERS, a
/// migsafe.toml or a diesel metadata.toml. Nothing else: a `.py` file would make the loader run Python on the
/// fuzzer's bytes, and `..` or an absolute path would write outside the folder.
fn safe_name(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('/').collect();
    let plain = |p: &&str| {
        !p.is_empty()
            && *p != "."
            && *p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    let base = parts.last().copied().unwrap_or_default();
    let ok = parts.len() <= 2
        && parts.iter().all(plain)
        && (base.ends_with(".sql")
            || name == "CODEOWNERS"
            || name == "migsafe.toml"
            || base == "metadata.toml");
    ok.then(|| name.to_string())
}

/// What a reader of any report relies on: every finding points at a real line and column of
/// a reviewed file, findings come sorted, the summary counts them, and every format renders
/// (JSON and SARIF as valid JSON with all the findings).
fn check_report(report: &Report, files: &[(String, Vec<u8>)]) {
    for f in &report.findings {
        assert!(
            f.line >= 1 && f.column >= 1,
            "finding {} at {}:{}:{} has no position",
            f.rule,
            f.file,
            f.line,
            f.column
        );
        let written = files
            .iter()
            .find(|(name, _)| f.file == *name || f.file.ends_with(&format!("/{name}")));
        if let Some((_, bytes)) = written {
            let text =
                String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(
                f.line <= lines.len(),
                "finding {} at line {} of {}, which has {} lines",
                f.rule,
                f.line,
                f.file,
                lines.len()
            );
            let width = lines[f.line - 1].chars().count();
            assert!(
                f.column <= width + 1,
                "finding {} at {}:{}:{} is past the end of a {width}-character line",
                f.rule,
                f.file,
                f.line,
                f.column
            );
        }
    }
    let order: Vec<_> = report
        .findings
        .iter()
        .map(|f| (&f.file, f.line, f.column, f.code))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(
        order, sorted,
        "findings are not sorted by file, line, column, code"
    );
    let count =
        |s: migsafe::model::Severity| report.findings.iter().filter(|f| f.severity == s).count();
    use migsafe::model::Severity::{Error, Info, Warning};
    assert_eq!(
        (
            report.summary.error,
            report.summary.warning,
            report.summary.info
        ),
        (count(Error), count(Warning), count(Info)),
        "the summary does not count the findings"
    );
    for format in Format::ALL {
        let mut out = Vec::new();
        if let Err(e) = report::render_with(report, format, &Terminal::plain(), &mut out) {
            panic!("rendering {} failed: {e:#}", format.as_str());
        }
        let text = String::from_utf8(out)
            .unwrap_or_else(|e| panic!("{} output is not UTF-8: {e}", format.as_str()));
        match format {
            Format::Json => {
                let doc: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("JSON report does not parse: {e}"));
                assert_eq!(
                    doc["schema_version"], 1,
                    "JSON report without schema_version 1"
                );
                assert_eq!(
                    doc["findings"].as_array().map(Vec::len),
                    Some(report.findings.len()),
                    "JSON report lost findings"
                );
            }
            Format::Sarif | Format::Gitlab => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                    panic!("{} report does not parse as JSON: {e}", format.as_str());
                }
            }
            Format::Markdown => assert!(
                text.chars().count() <= 65_536,
                "Markdown report of {} characters is over GitHub's comment limit",
                text.chars().count()
            ),
            _ => {}
        }
    }
}
