//! Liquibase formatted SQL: a file whose first line is `--liquibase formatted sql`, made of
//! `--changeset author:id [attribute:value …]` sections, each one migration.
//!
//! - Version: `author:id`, the pair Liquibase records (with the file name) in
//!   `databasechangelog.author` / `.id`. A changeset repeated in a file is a note: Liquibase
//!   refuses the changelog.
//! - Order: changesets in file order; a folder of formatted SQL files in name order (what an
//!   `includeAll` of the folder runs).
//! - Down: the changeset's `--rollback <sql>` lines and `/* liquibase rollback … */` blocks;
//!   `--rollback not required` / `--rollback empty` is a down part without SQL.
//! - Transactions: `runInTransaction:true` (the default) runs the changeset in one transaction,
//!   [`Transaction::File`]; `runInTransaction:false` runs each statement Liquibase splits on
//!   its own, [`Transaction::Statement`] (with `splitStatements:false` too, the changeset goes
//!   as one multi-statement `execute`: [`Transaction::Implicit`]). `splitStatements:false` or
//!   a custom `endDelimiter` sends the body as one statement.
//! - `dbms:` filters: a changeset for other engines only (`dbms:mysql`, `dbms:!postgresql`)
//!   does not run on PostgreSQL: listed as not reviewed.

use super::skipped::NotReviewed;
use super::source::Loaded;
use super::text::{comment_block, lines};
use super::{push_segment, LoadNote};
use crate::model::{Layout, Migration, Part, Runner, Segment, Transaction};
use std::ops::Range;

/// Whether a text is a Liquibase formatted SQL changelog (its first line says so).
pub(super) fn has_header(text: &str) -> bool {
    lines(text).next().is_some_and(|l| {
        l.text
            .trim()
            .strip_prefix("--")
            .is_some_and(|rest| rest.trim().eq_ignore_ascii_case("liquibase formatted sql"))
    })
}

/// A `--changeset` line: author, id and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Changeset {
    author: String,
    id: String,
    attributes: Vec<(String, String)>,
}

impl Changeset {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, key: &str, default: bool) -> bool {
        self.attribute(key)
            .map_or(default, |v| !v.eq_ignore_ascii_case("false"))
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
}

/// Parses `--changeset author:id attr:value …` (author may be quoted, as Liquibase allows).
fn changeset(line: &str) -> Option<Changeset> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("changeset")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let (author, rest) = if let Some(quoted) = rest.strip_prefix('"') {
        let (a, r) = quoted.split_once('"')?;
        (a, r.strip_prefix(':')?)
    } else {
        rest.split_once(':')?
    };
    let rest = rest.trim_start();
    let (id, attrs) = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split_once('"')?
    } else {
        rest.split_once(char::is_whitespace).unwrap_or((rest, ""))
    };
    if author.trim().is_empty() || id.is_empty() {
        return None;
    }
    let attributes = attrs
        .split_whitespace()
        .filter_map(|a| a.split_once(':'))
        .map(|(k, v)| (k.to_string(), unquote(v).to_string()))
        .collect();
    Some(Changeset {
        author: author.trim().to_string(),
        id: id.to_string(),
        attributes,
    })
}

/// Whether a `dbms:` value lets the changeset run on PostgreSQL.
fn runs_on_postgres(dbms: &str) -> bool {
    let words: Vec<String> = dbms
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.iter().any(|w| w == "all" || w == "postgresql") {
        return true;
    }
    if words.iter().any(|w| w == "none" || w == "!postgresql") {
        return false;
    }
    // Only exclusions (`!mysql,!h2`) run everywhere else.
    words.iter().all(|w| w.starts_with('!'))
}

/// The body of a `--rollback` line: the SQL after the marker, if the line is one.
fn rollback_line(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let rest = trimmed.strip_prefix("--")?;
    let after_dashes = rest.trim_start();
    let marker = after_dashes.strip_prefix("rollback")?;
    if !marker.is_empty() && !marker.starts_with(char::is_whitespace) {
        return None;
    }
    Some(indent + 2 + (rest.len() - after_dashes.len()) + "rollback".len())
}

fn is_empty_rollback(text: &str) -> bool {
    let t = text.trim().trim_end_matches(';').trim();
    t.eq_ignore_ascii_case("not required") || t.eq_ignore_ascii_case("empty")
}

/// The migrations of one formatted SQL file; changesets for other engines go to `skipped`.
pub(super) fn migrations(loaded: &Loaded, skipped: &mut Vec<NotReviewed>) -> Vec<Migration> {
    let text = loaded.file.text.as_str();
    // (changeset, line start, body start)
    let mut heads: Vec<(Changeset, usize, usize)> = Vec::new();
    for line in lines(text) {
        if let Some(cs) = changeset(line.text) {
            heads.push((cs, line.start, line.next));
        }
    }
    let mut out: Vec<Migration> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, (cs, head_start, body_start)) in heads.iter().enumerate() {
        let body_end = heads.get(i + 1).map_or(text.len(), |(_, s, _)| *s);
        let version = format!("{}:{}", cs.author, cs.id);
        if let Some(dbms) = cs.attribute("dbms") {
            if !runs_on_postgres(dbms) {
                skipped.push(NotReviewed {
                    path: loaded.file.display.clone(),
                    version: Some(version),
                    reason: format!("changeset for dbms:{dbms}: Liquibase skips it on PostgreSQL"),
                });
                continue;
            }
        }
        let split = cs.flag("splitStatements", true)
            && cs.attribute("endDelimiter").is_none_or(|d| d == ";");
        let (up, down, has_down) = sections(text, *body_start..body_end, split);
        let (transaction, runner) = match (cs.flag("runInTransaction", true), split) {
            (true, _) => (
                Transaction::File,
                Runner::default_of("Liquibase: each changeset in a transaction"),
            ),
            (false, true) => (
                Transaction::Statement,
                Runner::marker("Liquibase: `runInTransaction:false` on the changeset"),
            ),
            (false, false) => (
                Transaction::Implicit,
                Runner::marker(
                    "Liquibase: `runInTransaction:false` and `splitStatements:false`: the \
                     changeset is sent as one query",
                )
                .one_query(),
            ),
        };
        let mut load_notes: Vec<LoadNote> = loaded.bad_utf8.iter().cloned().collect();
        if seen.contains(&version) {
            load_notes.push(LoadNote {
                offset: *head_start,
                message: format!(
                    "changeset {version} appears twice in this file: Liquibase refuses the \
                     changelog"
                ),
            });
        }
        seen.push(version.clone());
        let segments = if loaded.bad_utf8.is_some() {
            Vec::new()
        } else {
            up
        };
        out.push(Migration {
            path: loaded.file.display.clone(),
            version: Some(version),
            name: cs.id.clone(),
            layout: Layout::Liquibase,
            repeatable: cs.flag("runAlways", false) || cs.flag("runOnChange", false),
            up: Part {
                file: loaded.file.clone(),
                segments,
                transaction,
                runner: runner.clone(),
            },
            down: has_down.then(|| Part {
                file: loaded.file.clone(),
                segments: down,
                transaction,
                runner,
            }),
            header: comment_block(text, *body_start),
            load_notes,
        });
    }
    out
}

/// A changeset body's SQL segments, its rollback segments and whether it has a rollback.
fn sections(text: &str, body: Range<usize>, split: bool) -> (Vec<Segment>, Vec<Segment>, bool) {
    let mut up = Vec::new();
    let mut down = Vec::new();
    let mut has_down = false;
    let mut stretch = body.start;
    let mut in_block: Option<usize> = None;
    let single = !split;
    let body_lines = super::text::lines_from(text, body.start).take_while(|l| l.start < body.end);
    for line in body_lines {
        if let Some(block_start) = in_block {
            if let Some(close) = line.text.find("*/") {
                push_segment(&mut down, text, block_start..line.start + close, false);
                in_block = None;
                stretch = line.next.min(body.end);
            }
            continue;
        }
        let trimmed = line.text.trim_start();
        if trimmed
            .strip_prefix("/*")
            .is_some_and(|r| r.trim_start().starts_with("liquibase rollback"))
        {
            push_segment(&mut up, text, stretch..line.start, single);
            has_down = true;
            in_block = Some(line.next);
            continue;
        }
        if let Some(sql_at) = rollback_line(line.text) {
            push_segment(&mut up, text, stretch..line.start, single);
            has_down = true;
            let sql = (line.start + sql_at).min(line.end)..line.end;
            if !is_empty_rollback(text.get(sql.clone()).unwrap_or("")) {
                push_segment(&mut down, text, sql, false);
            }
            stretch = line.next.min(body.end);
        }
    }
    if let Some(block_start) = in_block {
        push_segment(&mut down, text, block_start..body.end, false);
    } else {
        push_segment(&mut up, text, stretch..body.end, single);
    }
    (up, down, has_down)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changeset_lines() {
        let cs = changeset("--changeset alice:42 runInTransaction:false dbms:postgresql").unwrap();
        assert_eq!((cs.author.as_str(), cs.id.as_str()), ("alice", "42"));
        assert!(!cs.flag("runInTransaction", true));
        assert_eq!(cs.attribute("dbms"), Some("postgresql"));
        let cs = changeset("-- changeset \"Jane Doe\":add-index").unwrap();
        assert_eq!(
            (cs.author.as_str(), cs.id.as_str()),
            ("Jane Doe", "add-index")
        );
        assert!(changeset("--changesets a:1").is_none());
        assert!(changeset("-- a changeset a:1").is_none());
        assert!(changeset("--changeset nobody").is_none());
    }

    #[test]
    fn dbms_filters() {
        assert!(runs_on_postgres("postgresql"));
        assert!(runs_on_postgres("h2, postgresql"));
        assert!(runs_on_postgres("!mysql"));
        assert!(runs_on_postgres("all"));
        assert!(!runs_on_postgres("mysql"));
        assert!(!runs_on_postgres("!postgresql"));
        assert!(!runs_on_postgres("none"));
    }

    #[test]
    fn header_is_the_first_line() {
        assert!(has_header(
            "--liquibase formatted sql\n--changeset a:1\nSELECT 1;"
        ));
        assert!(has_header("-- Liquibase Formatted SQL\r\n"));
        assert!(!has_header("\n--liquibase formatted sql\n"));
        assert_eq!(rollback_line("--rollback DROP TABLE t;"), Some(10));
        assert_eq!(rollback_line("  -- rollback x"), Some(13));
        assert_eq!(rollback_line("--rollbacks x"), None);
    }
}
