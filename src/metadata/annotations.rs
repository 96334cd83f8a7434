//! Reading `-- owner:`, `-- expect:` and `-- rollback:` from a migration's leading comment
//! block, in `--` lines or inside a `/* ... */` block.
//!
//! Keys are case-insensitive and whitespace-tolerant (`--owner:@x`, `-- Owner : @x`,
//! ` * rollback: ...` inside a block comment). A `-- rollback:` with nothing after the colon
//! starts a multi-line rollback: the comment lines that follow, up to a blank comment line
//! or the next key, are its text.

/// One `-- expect:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectLine {
    pub text: String,
    /// 1-based line in the file.
    pub line: usize,
}

/// What the header declares, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// Owners in order of appearance, without duplicates.
    pub owners: Vec<String>,
    pub expects: Vec<ExpectLine>,
    /// Rollback lines in order; repeated `-- rollback:` lines are joined with newlines.
    pub rollback: Vec<String>,
}

impl Annotations {
    /// The rollback note as one text (empty when none was written).
    pub fn rollback_text(&self) -> String {
        self.rollback.join("\n")
    }

    /// `-- rollback: irreversible` (alone, any case, trailing full stop allowed).
    pub fn irreversible(&self) -> bool {
        is_irreversible_word(&self.rollback_text())
    }
}

/// Whether a rollback note is the single word `irreversible`.
pub fn is_irreversible_word(text: &str) -> bool {
    text.trim()
        .trim_end_matches(['.', '!'])
        .eq_ignore_ascii_case("irreversible")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Owner,
    Expect,
    Rollback,
}

/// Reads the annotations of `header`, whose first line is line `first_line` of the file.
pub fn parse(header: &str, first_line: usize) -> Annotations {
    let mut out = Annotations::default();
    // Set after `-- rollback:` with an empty value; cleared by a blank comment line, a key,
    // or a line that is not a comment.
    let mut rollback_block = false;
    let mut previous_line = None;
    for c in comment_lines(header) {
        if previous_line.is_some_and(|p| c.line > p + 1) {
            rollback_block = false;
        }
        previous_line = Some(c.line);
        let content = c.text.trim();
        match split_key(content) {
            Some((key, value)) => {
                rollback_block = false;
                match key {
                    Key::Owner => {
                        for owner in value.split(|ch: char| ch.is_whitespace() || ch == ',') {
                            if !owner.is_empty() && !out.owners.iter().any(|o| o == owner) {
                                out.owners.push(owner.to_string());
                            }
                        }
                    }
                    Key::Expect if !value.is_empty() => out.expects.push(ExpectLine {
                        text: value.to_string(),
                        line: first_line + c.line,
                    }),
                    Key::Expect => {}
                    Key::Rollback if value.is_empty() => rollback_block = true,
                    Key::Rollback => out.rollback.push(value.to_string()),
                }
            }
            None if rollback_block && !content.is_empty() => {
                out.rollback.push(content.to_string());
            }
            None => rollback_block = false,
        }
    }
    out
}

/// The key and value of an annotation line, if it is one.
fn split_key(content: &str) -> Option<(Key, &str)> {
    // Decoration before the key: `---`, ` * ` in block comments.
    let content = content.trim_start_matches(|c: char| c == '-' || c == '*' || c.is_whitespace());
    let (key, value) = content.split_once(':')?;
    if !key
        .chars()
        .all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '\t' | '_' | '-'))
    {
        return None;
    }
    let key = key.to_ascii_lowercase().replace(['_', '-'], " ");
    let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
    let key = match key.as_str() {
        "owner" | "owners" | "owned by" => Key::Owner,
        "expect" | "expects" | "expected" | "expected result" | "expected results"
        | "expectation" => Key::Expect,
        "rollback" | "roll back" | "rollback plan" => Key::Rollback,
        _ => return None,
    };
    Some((key, value.trim()))
}

/// The text of one comment on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentLine {
    /// 0-based line index within the scanned text.
    pub line: usize,
    /// Text without the comment markers, untrimmed.
    pub text: String,
}

/// Every comment in `text`, line by line: `--` comments and the lines of `/* */` blocks
/// (nested, as PostgreSQL allows). Code before a comment on the same line ends the scan of
/// that line, so `--` inside SQL strings on code lines is never read as a comment.
pub fn comment_lines(text: &str) -> Vec<CommentLine> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (line, raw) in text.split('\n').enumerate() {
        let mut rest = raw.trim_end_matches('\r');
        loop {
            if depth > 0 {
                let open = rest.find("/*");
                let close = rest.find("*/");
                match (open, close) {
                    (Some(o), Some(c)) if o < c => {
                        out.push(CommentLine {
                            line,
                            text: rest[..o].to_string(),
                        });
                        depth += 1;
                        rest = &rest[o + 2..];
                    }
                    (_, Some(c)) => {
                        out.push(CommentLine {
                            line,
                            text: rest[..c].to_string(),
                        });
                        depth -= 1;
                        rest = &rest[c + 2..];
                    }
                    (Some(o), None) => {
                        out.push(CommentLine {
                            line,
                            text: rest[..o].to_string(),
                        });
                        depth += 1;
                        rest = &rest[o + 2..];
                    }
                    (None, None) => {
                        out.push(CommentLine {
                            line,
                            text: rest.to_string(),
                        });
                        break;
                    }
                }
            } else {
                let trimmed = rest.trim_start();
                if let Some(after) = trimmed.strip_prefix("--") {
                    out.push(CommentLine {
                        line,
                        text: after.to_string(),
                    });
                    break;
                } else if let Some(after) = trimmed.strip_prefix("/*") {
                    depth = 1;
                    rest = after;
                } else {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_header() {
        let header = "-- owner: @payments-team\n\
                      -- expect: rows <= 50000\n\
                      -- expect: plan \"SELECT * FROM orders WHERE customer_id = 42\" uses index orders_customer_id_idx\n\
                      -- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;\n";
        let a = parse(header, 1);
        assert_eq!(a.owners, ["@payments-team"]);
        assert_eq!(a.expects.len(), 2);
        assert_eq!(a.expects[0].text, "rows <= 50000");
        assert_eq!(a.expects[0].line, 2);
        assert_eq!(a.expects[1].line, 3);
        assert_eq!(
            a.rollback_text(),
            "DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;"
        );
        assert!(!a.irreversible());
    }

    #[test]
    fn keys_are_case_and_whitespace_tolerant() {
        let a = parse(
            "--owner:@x\n--   OWNER :  alice@example.com  @y\n-- Expect:fails\n--- ROLLBACK :  Irreversible.\n",
            1,
        );
        assert_eq!(a.owners, ["@x", "alice@example.com", "@y"]);
        assert_eq!(a.expects[0].text, "fails");
        assert!(a.irreversible());
    }

    #[test]
    fn several_owners_on_one_line_and_no_duplicates() {
        let a = parse("-- owner: @a, @b @a\n-- owner: @c\n", 1);
        assert_eq!(a.owners, ["@a", "@b", "@c"]);
    }

    #[test]
    fn repeated_rollback_lines_are_joined() {
        let a = parse(
            "-- rollback: DROP INDEX a;\n-- rollback: DROP INDEX b;\n",
            1,
        );
        assert_eq!(a.rollback_text(), "DROP INDEX a;\nDROP INDEX b;");
        assert!(!a.irreversible());
    }

    #[test]
    fn an_empty_rollback_key_starts_a_block() {
        let a = parse(
            "-- rollback:\n--   DROP INDEX a;\n--   DROP INDEX b;\n--\n-- This adds two indexes.\n",
            1,
        );
        assert_eq!(a.rollback_text(), "DROP INDEX a;\nDROP INDEX b;");
    }

    #[test]
    fn prose_after_a_one_line_rollback_is_not_part_of_it() {
        let a = parse(
            "-- rollback: drop the column\n-- This migration backs the new checkout page.\n",
            1,
        );
        assert_eq!(a.rollback_text(), "drop the column");
    }

    #[test]
    fn reads_block_comment_headers() {
        let header =
            "/*\n * Owner: @db-team\n * expect: lock <= 2s\n   rollback: irreversible\n */\n";
        let a = parse(header, 3);
        assert_eq!(a.owners, ["@db-team"]);
        assert_eq!(a.expects[0].text, "lock <= 2s");
        assert_eq!(a.expects[0].line, 5);
        assert!(a.irreversible());

        let one_line = parse("/* owner: @x */ -- expect: succeeds\n", 1);
        assert_eq!(one_line.owners, ["@x"]);
        assert_eq!(one_line.expects[0].text, "succeeds");
    }

    #[test]
    fn ignores_other_comments_and_empty_values() {
        let a = parse(
            "-- +goose Up\n-- no-transaction\n-- migsafe:allow drop-table reason: x\n-- Note: nothing here\n-- owner:\n-- expect:\n-- rollback:\n",
            1,
        );
        assert_eq!(a, Annotations::default());
    }

    #[test]
    fn code_lines_are_not_comments() {
        let lines =
            comment_lines("SELECT '-- owner: @x';\n  -- real\n/* a\nb */ SELECT 1; -- late\n");
        let texts: Vec<&str> = lines.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, [" real", " a", "b "]);
    }

    #[test]
    fn crlf_headers_read_the_same() {
        let a = parse("-- owner: @x\r\n-- expect: fails\r\n", 1);
        assert_eq!(a.owners, ["@x"]);
        assert_eq!(a.expects[0].text, "fails");
    }
}
