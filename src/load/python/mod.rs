//! Python services (issue #16): Alembic revision folders and Django `migrations/` folders,
//! whose migrations are Python files. migsafe asks the project's own framework for their SQL
//! ([`alembic`], [`django`]), running it as a child process ([`child`]), and maps each
//! statement back to the revision file and, where the framework says, the line of the
//! operation that produced it.
//!
//! A Python file is not SQL, so each rendered part gets a text of its own (an *aligned*
//! text, [`Aligned`]) shown under the Python file's name: the people facts of the file's
//! leading `#` comments and docstring as `--` comments on the lines they have in the file,
//! then each operation's SQL starting on the line of that operation. Reports therefore point
//! at `versions/ab12_add_index.py:24`, and metadata reads `owner:` / `expect:` /
//! `rollback:` from the same header as in SQL files.
//!
//! Rendering runs the user's code, so it happens only for a folder that is a Python layout:
//! found next to its project (`env.py` + `alembic.ini`, `manage.py`) or forced with
//! `--layout alembic|django`. A plain folder never starts Python.

pub mod alembic;
pub mod child;
pub mod django;

use crate::model::LoadNote;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to run the project's Python (`[python]` in migsafe.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PythonOptions {
    /// `[python] interpreter`: the Python that has the project's framework installed.
    pub interpreter: Option<String>,
    /// `[python] timeout` in seconds (default [`DEFAULT_TIMEOUT`]).
    pub timeout_secs: Option<u64>,
    /// `[python] server_version`: the PostgreSQL version Django renders for (its SQL depends
    /// on it, and rendering has no server to ask). Default [`DEFAULT_SERVER_VERSION`].
    pub server_version: Option<u32>,
}

/// Seconds a framework may take to render a project's migrations.
pub const DEFAULT_TIMEOUT: u64 = 120;
/// PostgreSQL 15, written as `server_version_num`.
pub const DEFAULT_SERVER_VERSION: u32 = 150000;

impl PythonOptions {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT).max(1))
    }

    /// The interpreter to run, and why: migsafe.toml, then `MIGSAFE_PYTHON`, then the active
    /// virtualenv, then a `.venv`/`venv` of the project, then the interpreter of the
    /// framework's own script on PATH (`alembic`'s shebang), then `python3`.
    pub fn interpreter(&self, project: &Path, script: Option<&str>) -> String {
        if let Some(i) = self.interpreter.as_deref().filter(|s| !s.trim().is_empty()) {
            return i.trim().to_string();
        }
        if let Some(i) = std::env::var_os("MIGSAFE_PYTHON").filter(|s| !s.is_empty()) {
            return i.to_string_lossy().into_owned();
        }
        if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|s| !s.is_empty()) {
            let p = PathBuf::from(venv).join("bin/python");
            if p.is_file() {
                return p.display().to_string();
            }
        }
        for dir in project.ancestors().take(3) {
            for venv in [".venv", "venv"] {
                let p = dir.join(venv).join("bin/python");
                if p.is_file() {
                    return p.display().to_string();
                }
            }
        }
        if let Some(python) = script.and_then(shebang_python) {
            return python;
        }
        "python3".to_string()
    }
}

/// The interpreter named by the shebang of `script` found on PATH (`#!/opt/app/bin/python`).
fn shebang_python(script: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let file = std::env::split_paths(&path)
        .map(|d| d.join(script))
        .find(|p| p.is_file())?;
    let text = std::fs::read(&file).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?.trim();
    let program = line.split_whitespace().next()?;
    (program.contains("python") && Path::new(program).is_file()).then(|| program.to_string())
}

/// The lines of a Python file that carry people facts: its leading `#` comments and its module
/// docstring, as (1-based line, text without the comment marker or quotes).
pub fn header_lines(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = source.lines().enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if i == 0 && comment.starts_with('!') {
                continue;
            }
            out.push((i + 1, comment.to_string()));
            continue;
        }
        let quote = ["\"\"\"", "'''", "r\"\"\"", "r'''"]
            .into_iter()
            .find(|q| line.starts_with(q));
        let Some(quote) = quote else {
            break;
        };
        let close = &quote[quote.len() - 3..];
        let rest = &line[quote.len()..];
        if let Some(end) = rest.find(close) {
            out.push((i + 1, rest[..end].to_string()));
        } else {
            out.push((i + 1, rest.to_string()));
            for (j, raw) in lines.by_ref() {
                if let Some(end) = raw.find(close) {
                    out.push((j + 1, raw[..end].to_string()));
                    break;
                }
                out.push((j + 1, raw.to_string()));
            }
        }
        // Comments after the docstring still belong to the header.
        while let Some((j, raw)) = lines.peek() {
            let t = raw.trim();
            if t.is_empty() {
                lines.next();
                continue;
            }
            match t.strip_prefix('#') {
                Some(c) => {
                    out.push((j + 1, c.to_string()));
                    lines.next();
                }
                None => break,
            }
        }
        break;
    }
    out
}

/// The `# migsafe:` comments of a Python migration (suppressions), by 1-based line.
pub fn directive_lines(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let c = l.trim().strip_prefix('#')?.trim();
            c.starts_with("migsafe:").then(|| (i + 1, c.to_string()))
        })
        .collect()
}

/// The 1-based line of `def <name>(` at the start of a line, if any.
pub fn def_line(source: &str, name: &str) -> Option<usize> {
    let prefix = format!("def {name}(");
    source
        .lines()
        .position(|l| l.trim_start().starts_with(&prefix))
        .map(|i| i + 1)
}

fn is_transaction_control(line: &str) -> bool {
    let word = line
        .trim()
        .trim_end_matches(';')
        .trim()
        .to_ascii_uppercase();
    matches!(word.as_str(), "BEGIN" | "COMMIT")
}

/// A text built so that its line numbers are those of a Python file: SQL placed at the line of
/// the operation that produced it (or as soon after it as the SQL before allows).
#[derive(Debug, Default)]
pub struct Aligned {
    text: String,
    /// The 1-based line the next byte goes on.
    line: usize,
}

impl Aligned {
    pub fn new() -> Aligned {
        Aligned {
            text: String::new(),
            line: 1,
        }
    }

    fn pad_to(&mut self, line: usize) {
        while self.line < line {
            self.text.push('\n');
            self.line += 1;
        }
    }

    /// Writes `-- <text>` on `line` (a header line of the Python file).
    pub fn comment(&mut self, line: usize, text: &str) {
        self.pad_to(line);
        let one_line = text.replace(['\r', '\n'], " ");
        self.text.push_str("--");
        if !one_line.starts_with(' ') && !one_line.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(&one_line);
        self.text.push('\n');
        self.line += 1;
    }

    /// Writes `sql` starting at `line` (or at the next free line when earlier SQL reaches
    /// past it), without its blank lines; returns its byte range.
    pub fn sql(&mut self, line: Option<usize>, sql: &str) -> Range<usize> {
        if let Some(l) = line {
            self.pad_to(l);
        }
        let start = self.text.len();
        // `COMMIT;` / `BEGIN;` (an autocommit block) share a line with their neighbour, so
        // that they do not push the next operation's SQL below its line.
        let mut lines: Vec<String> = Vec::new();
        let mut carry: Option<String> = None;
        for l in sql.lines().filter(|l| !l.trim().is_empty()) {
            let control = is_transaction_control(l);
            match (control, lines.last_mut()) {
                (true, Some(last)) => {
                    last.push(' ');
                    last.push_str(l.trim());
                }
                (true, None) => {
                    let c = carry.get_or_insert_with(String::new);
                    c.push_str(l.trim());
                    c.push(' ');
                }
                (false, _) => lines.push(format!("{}{l}", carry.take().unwrap_or_default())),
            }
        }
        if let Some(c) = carry {
            lines.push(c.trim_end().to_string());
        }
        for l in lines {
            self.text.push_str(&l);
            self.text.push('\n');
            self.line += 1;
        }
        start..self.text.len()
    }

    /// A load note on `line`: its offset is that line's start.
    pub fn note(&mut self, line: Option<usize>, message: String) -> LoadNote {
        if let Some(l) = line {
            self.pad_to(l);
        }
        LoadNote {
            offset: self.text.len(),
            message,
        }
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comes_from_leading_comments_and_the_docstring() {
        let py = "# owner: @payments\n\"\"\"add index\n\nexpect: succeeds\nRevision ID: ab12\n\"\"\"\n# rollback: irreversible\nfrom alembic import op\n# not header\n";
        let h = header_lines(py);
        let texts: Vec<&str> = h.iter().map(|(_, t)| t.trim()).collect();
        assert_eq!(
            texts,
            vec![
                "owner: @payments",
                "add index",
                "",
                "expect: succeeds",
                "Revision ID: ab12",
                "",
                "rollback: irreversible"
            ]
        );
        assert_eq!(h[3].0, 4);
        assert_eq!(h.last().unwrap().0, 7);
    }

    #[test]
    fn aligned_sql_lands_on_the_operation_line() {
        let mut a = Aligned::new();
        a.comment(1, " owner: @a");
        let first = a.sql(Some(10), "CREATE TABLE t (\n  id int\n);\n\n");
        // Earlier SQL reaches line 12; line 11 is taken, so this goes on 13.
        let second = a.sql(Some(11), "CREATE INDEX i ON t (id);");
        let third = a.sql(Some(20), "SELECT 1;\n\nCOMMIT;\n\n");
        let fourth = a.sql(Some(21), "BEGIN;\n\nSELECT 2;\n");
        let text = a.finish();
        let line_of = |o: usize| text[..o].matches('\n').count() + 1;
        assert_eq!(line_of(first.start), 10);
        assert_eq!(line_of(second.start), 13);
        assert_eq!(line_of(third.start), 20);
        assert_eq!(line_of(fourth.start), 21);
        assert!(
            text.contains("SELECT 1; COMMIT;\nBEGIN; SELECT 2;\n"),
            "{text}"
        );
        assert!(text.starts_with("-- owner: @a\n"));
    }
}
