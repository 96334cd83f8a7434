//! goose: `<version>_<name>.sql` files with `-- +goose Up` / `-- +goose Down` sections.
//!
//! Mirrors goose's own parser (internal/sqlparser): an annotation is a line that starts with
//! `--` (no indentation) whose rest, trimmed, is `+goose Up`, `+goose Down`,
//! `+goose StatementBegin`, `+goose StatementEnd` or `+goose NO TRANSACTION`; we compare them
//! case-insensitively. `StatementBegin`…`StatementEnd` blocks are sent as one statement, so they
//! become `single_statement` segments; `NO TRANSACTION` anywhere makes both directions run
//! outside a transaction. goose's `runSQLMigration` sends the split statements one by one,
//! inside one `BEGIN` … `COMMIT` by default (`File`), each committed on its own with
//! `NO TRANSACTION` (`Statement`). Everything goose would refuse (no Up, SQL before Up, an unclosed
//! StatementBegin, duplicate markers) becomes a note, and we still review what we can.

use super::source::{Entry, Loaded, Reader};
use super::text::{self, first_sql, lines};
use super::{duplicate_note, push_segment, stem};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, Segment, Transaction};
use anyhow::Result;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Annotation {
    Up,
    Down,
    StatementBegin,
    StatementEnd,
    NoTransaction,
}

fn annotation(line: &str) -> Option<Annotation> {
    let rest = line.strip_prefix("--")?.trim();
    let (tool, command) = rest.split_once(char::is_whitespace)?;
    if !tool.eq_ignore_ascii_case("+goose") {
        return None;
    }
    let command = command.trim();
    [
        ("up", Annotation::Up),
        ("down", Annotation::Down),
        ("statementbegin", Annotation::StatementBegin),
        ("statementend", Annotation::StatementEnd),
        ("no transaction", Annotation::NoTransaction),
    ]
    .into_iter()
    .find(|(name, _)| command.eq_ignore_ascii_case(name))
    .map(|(_, a)| a)
}

/// Whether `text` carries goose's Up or Down annotation.
pub(super) fn has_markers(text: &str) -> bool {
    lines(text).any(|l| matches!(annotation(l.text), Some(Annotation::Up | Annotation::Down)))
}

/// `(version, name)` of a goose file name: the integer before the first `_`.
pub(super) fn parse_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let (version, name) = stem.split_once('_')?;
    let value: i64 = version.parse().ok()?;
    // goose rejects version 0 and negative ones.
    (value >= 1).then(|| (value.to_string(), name.to_string()))
}

/// The up and down SQL of one goose file.
#[derive(Debug, Default)]
pub(super) struct Sections {
    pub up: Vec<Segment>,
    pub down: Vec<Segment>,
    /// Whether the file has a `-- +goose Down` annotation (its section may hold no SQL).
    pub has_down: bool,
    pub transactional: bool,
    pub notes: Vec<LoadNote>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    BeforeUp,
    Up,
    Down,
}

struct Scan<'a> {
    text: &'a str,
    at: Where,
    /// Where the current ordinary stretch of SQL starts.
    start: usize,
    /// An open `StatementBegin`: offset of its marker line and of its first SQL line.
    block: Option<(usize, usize)>,
    out: Sections,
}

impl Scan<'_> {
    fn push(&mut self, range: Range<usize>, single_statement: bool) {
        let target = match self.at {
            Where::BeforeUp | Where::Up => &mut self.out.up,
            Where::Down => &mut self.out.down,
        };
        push_segment(target, self.text, range, single_statement);
    }

    fn note(&mut self, offset: usize, message: impl Into<String>) {
        self.out.notes.push(LoadNote {
            offset,
            message: message.into(),
        });
    }

    /// Ends whatever is open at `at` (a marker line or the end of the file).
    fn close(&mut self, at: usize, before: &str) {
        if let Some((marker, start)) = self.block.take() {
            self.note(
                marker,
                format!(
                    "`-- +goose StatementBegin` has no matching `-- +goose StatementEnd` \
                     before {before}; goose refuses to run this file"
                ),
            );
            // Best effort: review the block's SQL as ordinary statements.
            self.push(start..at, false);
        } else {
            self.push(self.start..at, false);
        }
    }
}

/// Splits a goose file into its up and down SQL.
pub(super) fn sections(text: &str) -> Sections {
    let mut scan = Scan {
        text,
        at: Where::BeforeUp,
        start: 0,
        block: None,
        out: Sections {
            transactional: true,
            ..Sections::default()
        },
    };
    let mut seen_up = false;
    let mut seen_down = false;
    for line in lines(text) {
        let Some(found) = annotation(line.text) else {
            continue;
        };
        match found {
            Annotation::NoTransaction => scan.out.transactional = false,
            Annotation::Up | Annotation::Down => {
                let name = if found == Annotation::Up {
                    "Up"
                } else {
                    "Down"
                };
                scan.close(line.start, &format!("`-- +goose {name}`"));
                if scan.at == Where::BeforeUp {
                    if let Some(sql) = first_sql(text, 0..line.start) {
                        scan.note(
                            sql,
                            format!(
                                "SQL before `-- +goose {name}`: goose only accepts comments \
                                 there and refuses to run this file"
                            ),
                        );
                    }
                }
                let seen = if found == Annotation::Up {
                    &mut seen_up
                } else {
                    &mut seen_down
                };
                if *seen {
                    scan.note(
                        line.start,
                        format!("duplicate `-- +goose {name}` annotation; goose refuses to run this file"),
                    );
                }
                *seen = true;
                if found == Annotation::Up && seen_down {
                    scan.note(
                        line.start,
                        "`-- +goose Up` after `-- +goose Down`; goose refuses to run this file",
                    );
                }
                scan.at = if found == Annotation::Up {
                    Where::Up
                } else {
                    Where::Down
                };
                scan.start = line.next;
            }
            Annotation::StatementBegin => {
                if scan.block.is_some() {
                    scan.note(
                        line.start,
                        "`-- +goose StatementBegin` inside another StatementBegin block; \
                         goose refuses to run this file",
                    );
                    continue;
                }
                scan.push(scan.start..line.start, false);
                scan.block = Some((line.start, line.next));
            }
            Annotation::StatementEnd => match scan.block.take() {
                Some((_, start)) => {
                    scan.push(start..line.start, true);
                    scan.start = line.next;
                }
                None => scan.note(
                    line.start,
                    "`-- +goose StatementEnd` without a `-- +goose StatementBegin`; \
                     goose refuses to run this file",
                ),
            },
        }
    }
    scan.close(text.len(), "the end of the file");
    scan.out.has_down = seen_down;
    if !seen_up {
        scan.note(
            0,
            "missing `-- +goose Up` annotation: goose refuses to run this file; \
             reviewing its SQL as the up migration",
        );
    }
    scan.out
}

/// One goose migration from one file.
pub(super) fn migration(loaded: &Loaded, version: Option<String>, name: String) -> Migration {
    let file = &loaded.file;
    let mut notes = Vec::new();
    let (up, down, has_down, transactional) = match &loaded.bad_utf8 {
        Some(note) => {
            notes.push(note.clone());
            (Vec::new(), Vec::new(), false, true)
        }
        None => {
            let s = sections(&file.text);
            notes.extend(s.notes);
            (s.up, s.down, s.has_down, s.transactional)
        }
    };
    let (transaction, runner) = if transactional {
        (
            Transaction::File,
            Runner::default_of("goose: each statement sent on its own inside one transaction"),
        )
    } else {
        (
            Transaction::Statement,
            Runner::marker(
                "goose: `-- +goose NO TRANSACTION`: each statement sent and committed on its own",
            ),
        )
    };
    Migration {
        path: file.display.clone(),
        version,
        name,
        layout: Layout::Goose,
        repeatable: false,
        up: Part {
            file: file.clone(),
            segments: up,
            transaction,
            runner: runner.clone(),
        },
        // A Down section with only comments is kept: it may say why there is no way back.
        down: has_down.then(|| Part {
            file: file.clone(),
            segments: down,
            transaction,
            runner,
        }),
        header: text::comment_block(&file.text, 0),
        load_notes: notes,
    }
}

/// Every goose migration in a folder, ordered by version as goose does.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut found = Vec::new();
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some((version, name)) = parse_name(&entry.name) else {
            continue;
        };
        let sort: i64 = version.parse().unwrap_or(i64::MAX);
        let loaded = reader.read(&entry.path, &entry.display)?;
        found.push((sort, migration(&loaded, Some(version), name)));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.path.cmp(&b.1.path)));
    let mut out: Vec<Migration> = found.into_iter().map(|(_, m)| m).collect();
    duplicate_note(&mut out, "goose");
    Ok(out)
}

/// Name and version of a lone file: goose's naming when it fits, else the file stem.
pub(super) fn lone(loaded: &Loaded, file_name: Option<&str>) -> Migration {
    let (version, name) = match file_name.and_then(parse_name) {
        Some((v, n)) => (Some(v), n),
        None => (None, stem(file_name)),
    };
    migration(loaded, version, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, segments: &[Segment]) -> Vec<(String, bool)> {
        segments
            .iter()
            .map(|s| (text[s.range.clone()].trim().to_string(), s.single_statement))
            .collect()
    }

    #[test]
    fn splits_up_down_and_statement_blocks() {
        let text = "-- owner: @a\n-- +goose Up\nCREATE TABLE a (id int);\n\
                    -- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                    -- +goose StatementEnd\nCREATE INDEX a_id ON a (id);\n\
                    -- +goose Down\r\nDROP TABLE a;\n";
        let s = sections(text);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert!(s.transactional);
        assert_eq!(
            texts(text, &s.up),
            [
                ("-- owner: @a".to_string(), false),
                ("CREATE TABLE a (id int);".to_string(), false),
                (
                    "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;".to_string(),
                    true
                ),
                ("CREATE INDEX a_id ON a (id);".to_string(), false),
            ]
        );
        assert_eq!(texts(text, &s.down), [("DROP TABLE a;".to_string(), false)]);
    }

    #[test]
    fn no_transaction_applies_to_both_directions() {
        let s = sections(
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n",
        );
        assert!(!s.transactional);
        assert!(s.notes.is_empty());
    }

    #[test]
    fn malformed_files_get_notes_and_best_effort_sections() {
        let text = "CREATE TABLE a ();\n-- +goose Down\nDROP TABLE a;\n";
        let s = sections(text);
        let messages: Vec<_> = s.notes.iter().map(|n| n.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("missing `-- +goose Up`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("SQL before")),
            "{messages:?}"
        );
        assert_eq!(
            texts(text, &s.up),
            [("CREATE TABLE a ();".to_string(), false)]
        );

        let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() ...;\n-- +goose Down\nDROP FUNCTION f;\n";
        let s = sections(text);
        assert_eq!(s.notes.len(), 1);
        assert_eq!(s.notes[0].offset, 13);
        assert!(s.notes[0]
            .message
            .contains("no matching `-- +goose StatementEnd`"));
        assert_eq!(
            texts(text, &s.up),
            [("CREATE FUNCTION f() ...;".to_string(), false)]
        );
        assert_eq!(
            texts(text, &s.down),
            [("DROP FUNCTION f;".to_string(), false)]
        );
    }

    #[test]
    fn annotations_must_start_the_line() {
        assert_eq!(annotation("-- +goose Up"), Some(Annotation::Up));
        assert_eq!(
            annotation("--+goose  statementBegin "),
            Some(Annotation::StatementBegin)
        );
        assert_eq!(annotation("  -- +goose Up"), None);
        assert_eq!(annotation("-- +goose ENVSUB ON"), None);
        assert_eq!(
            annotation("-- +goose NO TRANSACTION"),
            Some(Annotation::NoTransaction)
        );
    }

    #[test]
    fn names_parse_like_goose() {
        assert_eq!(
            parse_name("00002_add.sql"),
            Some(("2".into(), "add".into()))
        );
        assert_eq!(parse_name("0_add.sql"), None);
        assert_eq!(parse_name("add.sql"), None);
    }
}
