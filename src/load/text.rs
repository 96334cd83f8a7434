//! Byte-offset helpers the layouts share: walking lines, skipping comments, finding the
//! leading comment block and the first SQL word. Everything works on `&str` with byte offsets
//! and never slices inside a character, so any input is safe.

use std::cmp::Ordering;
use std::ops::Range;

/// One line of a text: `start..end` excludes the line terminator (`\n` or `\r\n`), `next` is
/// where the following line starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'a> {
    pub start: usize,
    pub end: usize,
    pub next: usize,
    pub text: &'a str,
}

/// The lines of `text` starting at byte `from` (which should be a line start).
pub(super) fn lines_from(text: &str, from: usize) -> impl Iterator<Item = Line<'_>> {
    let mut pos = from.min(text.len());
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let rest = text.get(pos..)?;
        let (len, next) = match rest.find('\n') {
            Some(i) => (i, pos + i + 1),
            None => (rest.len(), text.len()),
        };
        let mut end = pos + len;
        if end > pos && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        let line = Line {
            start: pos,
            end,
            next,
            text: text.get(pos..end).unwrap_or(""),
        };
        pos = next;
        Some(line)
    })
}

pub(super) fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    lines_from(text, 0)
}

/// Skips whitespace, `--` comments and (nested, as in PostgreSQL) `/* */` comments from `from`,
/// stopping at `to`. Returns the offset of the first byte of SQL, or `to`.
pub(super) fn skip_trivia(text: &str, from: usize, to: usize) -> usize {
    let bytes = text.as_bytes();
    let to = to.min(bytes.len());
    let mut i = from.min(to);
    while i < to {
        match bytes.get(i..) {
            Some([b, ..]) if b.is_ascii_whitespace() => i += 1,
            Some([b'-', b'-', ..]) => {
                while i < to && bytes.get(i) != Some(&b'\n') {
                    i += 1;
                }
            }
            Some([b'/', b'*', ..]) => i = skip_block_comment(bytes, i, to),
            _ => break,
        }
    }
    i.min(to)
}

/// From the `/*` at `at`, the offset after its matching `*/` (or `to` when unterminated).
fn skip_block_comment(bytes: &[u8], at: usize, to: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i < to {
        match bytes.get(i..) {
            Some([b'/', b'*', ..]) => {
                depth += 1;
                i += 2;
            }
            Some([b'*', b'/', ..]) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return i.min(to);
                }
            }
            _ => i += 1,
        }
    }
    to
}

/// Offset of the first SQL (not whitespace, not comment) inside `range`, if any.
pub(super) fn first_sql(text: &str, range: Range<usize>) -> Option<usize> {
    let end = range.end.min(text.len());
    let at = skip_trivia(text, range.start, end);
    (at < end).then_some(at)
}

/// The identifier-like word starting at `at` (letters, digits, `_`).
fn word_at(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    rest.get(..len).unwrap_or("")
}

/// Whether the first SQL of `text` from `from` opens a transaction itself (`BEGIN`,
/// `START TRANSACTION`): such a file manages its own transaction, so the runner must not wrap it.
pub(super) fn starts_own_transaction(text: &str, from: usize) -> bool {
    let at = skip_trivia(text, from, text.len());
    let word = word_at(text, at);
    if word.eq_ignore_ascii_case("begin") {
        return true;
    }
    if word.eq_ignore_ascii_case("start") {
        let next = skip_trivia(text, at + word.len(), text.len());
        return word_at(text, next).eq_ignore_ascii_case("transaction");
    }
    false
}

/// Whether the first line is our (and sqlx's) `-- no-transaction` marker, read leniently:
/// spacing and case do not matter.
pub(super) fn no_transaction_line(text: &str) -> bool {
    lines(text).next().is_some_and(|line| {
        line.text
            .trim()
            .strip_prefix("--")
            .is_some_and(|rest| rest.trim().eq_ignore_ascii_case("no-transaction"))
    })
}

/// The comment block at `from`: consecutive `--` lines and `/* */` blocks, with blank lines
/// allowed before and between them. Runs from the first comment line to the end of the last
/// comment (never includes SQL or surrounding blank lines); empty (`from..from`) when the first
/// thing is SQL.
pub(super) fn comment_block(text: &str, from: usize) -> Range<usize> {
    let from = from.min(text.len());
    let bytes = text.as_bytes();
    let mut start = None;
    let mut end = from;
    let mut pos = from;
    while let Some(line) = lines_from(text, pos).next() {
        let trimmed = line.text.trim_start();
        let indent = line.text.len() - trimmed.len();
        if trimmed.is_empty() {
            pos = line.next;
        } else if trimmed.starts_with("--") {
            start.get_or_insert(line.start);
            end = line.end;
            pos = line.next;
        } else if trimmed.starts_with("/*") {
            start.get_or_insert(line.start);
            let close = skip_block_comment(bytes, line.start + indent, text.len());
            end = close;
            // Text after `*/` on the same line is SQL: the block stops there.
            let after = lines_from(text, close).next();
            match after {
                Some(rest) if rest.start == close && !rest.text.trim().is_empty() => break,
                Some(rest) if rest.start == close => pos = rest.next,
                _ => pos = close,
            }
            if close >= text.len() {
                break;
            }
        } else {
            break;
        }
    }
    start.unwrap_or(from)..end
}

/// The leading ASCII digits of `name` (`"001"` for `001_init.sql`), if any.
pub(super) fn leading_digits(name: &str) -> Option<&str> {
    let len = name.bytes().take_while(u8::is_ascii_digit).count();
    (len > 0).then(|| name.get(..len)).flatten()
}

/// Compares two digit strings by numeric value, whatever their length (`"2" < "010"`).
pub(super) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A digit string without its leading zeros (`"000012"` → `"12"`, `"0"` → `"0"`).
pub(super) fn strip_zeros(digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_block_stops_at_sql_and_skips_blank_lines() {
        let text = "-- owner: @a\n\n-- expect: rows <= 5\nCREATE TABLE t ();\n-- later\n";
        let block = comment_block(text, 0);
        assert_eq!(&text[block], "-- owner: @a\n\n-- expect: rows <= 5");
    }

    #[test]
    fn comment_block_includes_block_comments() {
        let text = "/* licence\n text */\n-- owner: @a\r\nSELECT 1;";
        let block = comment_block(text, 0);
        assert_eq!(&text[block], "/* licence\n text */\n-- owner: @a");
    }

    #[test]
    fn comment_block_is_empty_when_sql_comes_first() {
        assert_eq!(comment_block("BEGIN;\n-- x\n", 0), 0..0);
        assert_eq!(comment_block("", 0), 0..0);
        assert_eq!(comment_block("/* a */ SELECT 1;", 0), 0..7);
        assert_eq!(comment_block("\n\n-- a\n\nSELECT 1;", 1), 2..6);
    }

    #[test]
    fn own_transaction_is_the_first_sql_word() {
        assert!(starts_own_transaction("-- c\n/* x /* y */ */ begin;", 0));
        assert!(starts_own_transaction(
            "START  TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
            0
        ));
        assert!(!starts_own_transaction("START_x;", 0));
        assert!(!starts_own_transaction(
            "CREATE TABLE begin_x ();\nBEGIN;",
            0
        ));
        assert!(!starts_own_transaction("beginning", 0));
    }

    #[test]
    fn first_sql_skips_comments() {
        assert_eq!(first_sql("-- only\n/* c */\n  \n", 0..17), None);
        assert_eq!(first_sql("-- only\nDROP TABLE x;", 0..20), Some(8));
        assert_eq!(first_sql("-- unterminated /* \n", 0..20), None);
    }

    #[test]
    fn digits_compare_numerically() {
        assert_eq!(cmp_digits("2", "10"), Ordering::Less);
        assert_eq!(cmp_digits("002", "2"), Ordering::Equal);
        assert_eq!(strip_zeros("000"), "0");
        assert_eq!(leading_digits("10_x.sql"), Some("10"));
        assert_eq!(leading_digits("x.sql"), None);
    }

    #[test]
    fn lines_strip_crlf() {
        let all: Vec<_> = lines("a\r\nb\nc").map(|l| l.text).collect();
        assert_eq!(all, ["a", "b", "c"]);
    }
}
