//! dbmate: `<version>_<name>.sql` files with `-- migrate:up` and `-- migrate:down` blocks.
//!
//! Mirrors dbmate's parser (pkg/dbmate/migration.go): a directive is a line starting with `--`,
//! optional spaces, then `migrate:up` / `migrate:down`, then options such as
//! `transaction:false` (per block). The first of each counts. dbmate refuses a file without an up
//! block, without a down block, with down before up, or with SQL before the up block; each
//! becomes a note and we still review what we can. dbmate runs files in file-name order and
//! records the leading digits as the version.
//!
//! Transactions (pkg/dbmate/db.go `Migrate`): a block is sent in one `Exec` of its whole text,
//! inside `BEGIN` … `COMMIT` by default (`File`); with `transaction:false` the same single
//! `Exec` goes out without the wrap, which PostgreSQL runs as one implicit transaction when the
//! block holds several statements (`Implicit`; dbmate#285).

use super::source::{Entry, Loaded, Reader};
use super::text::{self, first_sql, leading_digits, lines, Line};
use super::{push_segment, stem};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, Segment, Transaction};
use anyhow::Result;

/// A `-- migrate:up|down` directive: which one, and whether its options keep the transaction.
fn directive(line: &str) -> Option<(bool, bool)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    let (up, options) = if let Some(o) = rest.strip_prefix("up") {
        (true, o)
    } else if let Some(o) = rest.strip_prefix("down") {
        (false, o)
    } else {
        return None;
    };
    if !(options.is_empty() || options.starts_with(char::is_whitespace)) {
        return None;
    }
    let transactional = !options
        .split_whitespace()
        .filter_map(|pair| pair.split_once(':'))
        .any(|(k, v)| k == "transaction" && v == "false");
    Some((up, transactional))
}

/// Whether `text` has a dbmate directive.
pub(super) fn has_markers(text: &str) -> bool {
    lines(text).any(|l| directive(l.text).is_some())
}

/// `(version, name)` of a dbmate file name: leading digits, as written.
pub(super) fn parse_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let version = leading_digits(stem)?;
    let rest = stem.get(version.len()..).unwrap_or("");
    let name = rest.strip_prefix('_').unwrap_or(rest);
    Some((version.to_string(), name.to_string()))
}

#[derive(Debug, Default)]
pub(super) struct Sections {
    pub up: Vec<Segment>,
    pub down: Vec<Segment>,
    /// Whether the file has a `-- migrate:down` block (dbmate allows it to be empty).
    pub has_down: bool,
    pub up_transactional: bool,
    pub down_transactional: bool,
    pub notes: Vec<LoadNote>,
}

/// Splits a dbmate file into its blocks.
pub(super) fn sections(text: &str) -> Sections {
    let mut up: Option<(Line, bool)> = None;
    let mut down: Option<(Line, bool)> = None;
    for line in lines(text) {
        match directive(line.text) {
            Some((true, tx)) if up.is_none() => up = Some((line, tx)),
            Some((false, tx)) if down.is_none() => down = Some((line, tx)),
            _ => {}
        }
    }
    let mut s = Sections {
        up_transactional: up.is_none_or(|(_, tx)| tx),
        down_transactional: down.is_none_or(|(_, tx)| tx),
        has_down: down.is_some(),
        ..Sections::default()
    };
    let note = |s: &mut Sections, offset: usize, message: &str| {
        s.notes.push(LoadNote {
            offset,
            message: message.to_string(),
        })
    };
    let len = text.len();
    match (up, down) {
        (None, down) => {
            note(
                &mut s,
                0,
                "missing `-- migrate:up`: dbmate refuses to run this file; reviewing its SQL \
                 as the up migration",
            );
            match down {
                Some((d, _)) => {
                    push_segment(&mut s.up, text, 0..d.start, false);
                    push_segment(&mut s.down, text, d.next..len, false);
                }
                None => push_segment(&mut s.up, text, 0..len, false),
            }
        }
        (Some((u, _)), None) => {
            note(
                &mut s,
                u.start,
                "missing `-- migrate:down`: dbmate requires a down block (it may be empty)",
            );
            push_segment(&mut s.up, text, 0..u.start, false);
            push_segment(&mut s.up, text, u.next..len, false);
        }
        (Some((u, _)), Some((d, _))) if d.start < u.start => {
            note(
                &mut s,
                d.start,
                "`-- migrate:down` before `-- migrate:up`: dbmate refuses to run this file",
            );
            push_segment(&mut s.up, text, u.next..len, false);
            push_segment(&mut s.down, text, d.next..u.start, false);
        }
        (Some((u, _)), Some((d, _))) => {
            push_segment(&mut s.up, text, 0..u.start, false);
            push_segment(&mut s.up, text, u.next..d.start, false);
            push_segment(&mut s.down, text, d.next..len, false);
        }
    }
    if let Some((u, _)) = up {
        if let Some(sql) = first_sql(text, 0..u.start) {
            note(
                &mut s,
                sql,
                "SQL before `-- migrate:up`: dbmate refuses to run this file",
            );
        }
    }
    s
}

/// One dbmate migration from one file.
pub(super) fn migration(loaded: &Loaded, version: Option<String>, name: String) -> Migration {
    let file = &loaded.file;
    let mut notes = Vec::new();
    let s = match &loaded.bad_utf8 {
        Some(note) => {
            notes.push(note.clone());
            Sections {
                up_transactional: true,
                down_transactional: true,
                ..Sections::default()
            }
        }
        None => sections(&file.text),
    };
    notes.extend(s.notes);
    let mode = |transactional: bool, which: &str| {
        if transactional {
            (
                Transaction::File,
                Runner::default_of("dbmate: BEGIN … COMMIT around the block, sent in one Exec")
                    .one_query(),
            )
        } else {
            (
                Transaction::Implicit,
                Runner::marker(format!(
                    "dbmate: `-- migrate:{which} transaction:false`: the block is sent in one \
                     Exec without BEGIN, which PostgreSQL runs as one implicit transaction"
                ))
                .one_query(),
            )
        }
    };
    let (up_tx, up_runner) = mode(s.up_transactional, "up");
    let (down_tx, down_runner) = mode(s.down_transactional, "down");
    Migration {
        path: file.display.clone(),
        version,
        name,
        layout: Layout::Dbmate,
        repeatable: false,
        up: Part {
            file: file.clone(),
            segments: s.up,
            transaction: up_tx,
            runner: up_runner,
        },
        // An empty or comment-only down block is kept: dbmate runs it as a no-op rollback.
        down: s.has_down.then(|| Part {
            file: file.clone(),
            segments: s.down,
            transaction: down_tx,
            runner: down_runner,
        }),
        header: text::comment_block(&file.text, 0),
        load_notes: notes,
    }
}

/// Every dbmate migration in a folder, in file-name order as dbmate applies them.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut out = Vec::new();
    // `entries` are sorted by name already.
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some((version, name)) = parse_name(&entry.name) else {
            continue;
        };
        let loaded = reader.read(&entry.path, &entry.display)?;
        out.push(migration(&loaded, Some(version), name));
    }
    super::duplicate_note(&mut out, "dbmate");
    Ok(out)
}

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

    #[test]
    fn blocks_and_options() {
        let text = "-- owner: @a\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX CONCURRENTLY i;\n";
        let s = sections(text);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert!(!s.up_transactional);
        assert!(s.down_transactional);
        let up: Vec<_> = s.up.iter().map(|g| text[g.range.clone()].trim()).collect();
        assert_eq!(
            up,
            ["-- owner: @a", "CREATE INDEX CONCURRENTLY i ON t (a);"]
        );
        let down: Vec<_> = s
            .down
            .iter()
            .map(|g| text[g.range.clone()].trim())
            .collect();
        assert_eq!(down, ["DROP INDEX CONCURRENTLY i;"]);
    }

    #[test]
    fn directives_need_the_exact_keyword() {
        assert_eq!(directive("--migrate:up"), Some((true, true)));
        assert_eq!(directive("-- migrate:upgrade"), None);
        assert_eq!(directive(" -- migrate:up"), None);
        assert_eq!(
            directive("-- migrate:down transaction:false"),
            Some((false, false))
        );
    }

    #[test]
    fn problems_become_notes() {
        let s = sections("CREATE TABLE x ();\n-- migrate:up\nSELECT 1;\n");
        let messages: Vec<_> = s.notes.iter().map(|n| n.message.as_str()).collect();
        assert!(messages
            .iter()
            .any(|m| m.contains("missing `-- migrate:down`")));
        assert!(messages.iter().any(|m| m.contains("SQL before")));
        assert_eq!(
            s.notes
                .iter()
                .find(|n| n.message.contains("SQL before"))
                .unwrap()
                .offset,
            0
        );
    }
}
