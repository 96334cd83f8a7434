//! Alembic offline SQL (`alembic upgrade <range> --sql`): one text, one migration per
//! `-- Running upgrade <prev> -> <rev>` section (the line alembic's `run_migrations` writes
//! before each revision), with `rev` as the version. `-- Running downgrade <rev> -> <prev>`
//! sections become the down part of `rev` when its upgrade is in the same text, else a
//! migration of their own (it is what that text runs).
//!
//! Transactions: the text is a script for a client (psql) that sends its statements one by
//! one. On PostgreSQL alembic writes `BEGIN;` first when it wraps the run (one transaction, or
//! one per revision with `transaction_per_migration`, which writes `COMMIT;`/`BEGIN;` between
//! sections), so every section runs inside that transaction (`File`) exactly when the text
//! starts with `BEGIN`; without it (`transactional_ddl` off) each statement runs on its own
//! (`Statement`). The preamble before the first section (`BEGIN;`, the `alembic_version`
//! table) and those trailing `COMMIT;`/`BEGIN;` boundary lines belong to no revision and are left
//! out of every segment. An `autocommit_block()` inside a revision (`COMMIT;` … `BEGIN;` in the
//! middle of a section) stays in the segment for the parser to track.

use super::source::Loaded;
use super::text::{self, lines, lines_from, starts_own_transaction};
use super::{plain, push_segment};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, Transaction};
use std::ops::Range;

/// A `-- Running upgrade a -> b` line: (is upgrade, from, to).
pub(super) fn running(line: &str) -> Option<(bool, String, String)> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("Running ")?;
    let (upgrade, rest) = if let Some(r) = rest.strip_prefix("upgrade") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("downgrade") {
        (false, r)
    } else {
        return None;
    };
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (from, to) = rest.split_once("->")?;
    Some((upgrade, from.trim().to_string(), to.trim().to_string()))
}

/// Whether `text` is alembic offline output.
pub(super) fn has_markers(text: &str) -> bool {
    lines(text).any(|l| running(l.text).is_some())
}

/// Whether a line is one of the transaction boundaries alembic writes between revisions.
fn is_boundary(line: &str) -> bool {
    let word = line.trim().trim_end_matches(';').trim();
    word.eq_ignore_ascii_case("begin") || word.eq_ignore_ascii_case("commit")
}

/// `body` without the boundary lines (and blank lines) at its end.
fn trim_boundaries(text: &str, body: Range<usize>) -> Range<usize> {
    let mut end = body.end;
    loop {
        let last = lines_from(text, body.start)
            .take_while(|l| l.start < end)
            .filter(|l| !l.text.trim().is_empty())
            .last();
        match last {
            Some(line) if is_boundary(line.text) => end = line.start,
            _ => return body.start..end,
        }
    }
}

struct Section {
    upgrade: bool,
    from: String,
    to: String,
    /// Start of the line after the `-- Running` line.
    body: Range<usize>,
}

fn describe(from: &str, to: &str, upgrade: bool) -> String {
    let show = |s: &str| {
        if s.is_empty() {
            "<base>".to_string()
        } else {
            s.to_string()
        }
    };
    let verb = if upgrade { "upgrade" } else { "downgrade" };
    format!("{verb} {} -> {}", show(from), show(to))
}

/// The migrations of one alembic offline text.
pub(super) fn migrations(loaded: &Loaded) -> Vec<Migration> {
    let file = &loaded.file;
    let text = file.text.as_str();
    if let Some(note) = &loaded.bad_utf8 {
        let mut m = plain::migration(loaded, None, "alembic".to_string());
        m.layout = Layout::Alembic;
        m.load_notes = vec![note.clone()];
        return vec![m];
    }
    let mut sections: Vec<Section> = Vec::new();
    for line in lines(text) {
        if let Some((upgrade, from, to)) = running(line.text) {
            if let Some(prev) = sections.last_mut() {
                prev.body.end = line.start;
            }
            sections.push(Section {
                upgrade,
                from,
                to,
                body: line.next..text.len(),
            });
        }
    }
    if sections.is_empty() {
        let mut m = plain::migration(loaded, None, super::stem(Some(&file.display)));
        m.layout = Layout::Alembic;
        m.load_notes.push(LoadNote {
            offset: 0,
            message: "no `-- Running upgrade` section found: this is not alembic offline \
                      output; reviewing it as one migration"
                .to_string(),
        });
        return vec![m];
    }
    let (transaction, runner) = if starts_own_transaction(text, 0) {
        (
            Transaction::File,
            Runner::marker(
                "alembic offline SQL: `BEGIN;` before the revisions; the client sends the \
                 statements one by one inside it",
            ),
        )
    } else {
        (
            Transaction::Statement,
            Runner::marker(
                "alembic offline SQL without `BEGIN;` (transactional_ddl off): each statement \
                 runs on its own in the client that runs the script",
            ),
        )
    };
    let mut out: Vec<Migration> = Vec::new();
    for section in sections {
        let body = trim_boundaries(text, section.body.clone());
        let mut segments = Vec::new();
        push_segment(&mut segments, text, body.clone(), false);
        let part = Part {
            file: file.clone(),
            segments,
            transaction,
            runner: runner.clone(),
        };
        if !section.upgrade {
            let target = out
                .iter_mut()
                .find(|m| m.version.as_deref() == Some(section.from.as_str()) && m.down.is_none());
            if let Some(m) = target {
                m.down = Some(part);
                continue;
            }
        }
        let version = if section.upgrade {
            &section.to
        } else {
            &section.from
        };
        out.push(Migration {
            path: file.display.clone(),
            version: Some(version.clone()),
            name: describe(&section.from, &section.to, section.upgrade),
            layout: Layout::Alembic,
            repeatable: false,
            up: part,
            down: None,
            header: text::comment_block(text, section.body.start),
            load_notes: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_lines() {
        assert_eq!(
            running("-- Running upgrade  -> 1975ea83b712"),
            Some((true, String::new(), "1975ea83b712".to_string()))
        );
        assert_eq!(
            running("-- Running downgrade ae10, 27a6 -> 1975"),
            Some((false, "ae10, 27a6".to_string(), "1975".to_string()))
        );
        assert_eq!(running("-- Running upgraded a -> b"), None);
        assert_eq!(running("-- Running stamp a -> b"), None);
    }

    #[test]
    fn boundaries_are_trimmed() {
        let text = "UPDATE alembic_version SET version_num='b';\n\nCOMMIT;\n\nBEGIN;\n\n";
        let body = trim_boundaries(text, 0..text.len());
        assert_eq!(
            text[body].trim(),
            "UPDATE alembic_version SET version_num='b';"
        );
    }
}
