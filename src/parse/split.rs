//! Cutting a part's segments into statements with exact spans, the way psql does: `;` ends a
//! statement only outside comments, quotes, dollar quotes and `BEGIN ATOMIC ... END` bodies.
//!
//! One pass over the bytes keeps the line and column current, so a 5 MB file costs a few
//! milliseconds; nothing here calls `SourceFile::line_col`, which is linear per call.
//! Only ASCII bytes are significant to the lexer, so walking bytes is safe for UTF-8 text:
//! every byte of a multi-byte character is >= 0x80.

use crate::model::{Comment, Position, Segment};
use std::ops::Range;

/// What the splitter found for one statement, before parsing.
#[derive(Debug, Clone)]
pub(crate) struct RawStatement {
    /// Byte range of the statement text in the file.
    pub range: Range<usize>,
    pub start: Position,
    /// Position of the statement's last character.
    pub end: Position,
    pub leading_comments: Vec<Comment>,
    pub kind: RawKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawKind {
    /// Ordinary SQL, to be parsed.
    Sql,
    /// A psql meta-command line such as `\set x 1`; holds the command (`\set`).
    PsqlMeta(String),
    /// A quote, dollar quote or block comment that never closes: holds the reason.
    Unterminated(String),
}

/// Statements and comments of one part.
#[derive(Debug, Default)]
pub(crate) struct Split {
    pub statements: Vec<RawStatement>,
    pub comments: Vec<Comment>,
}

/// Splits every segment of `text`. Segments out of bounds or off character boundaries are
/// clamped rather than trusted, since they come from another module's arithmetic.
pub(crate) fn split(text: &str, segments: &[Segment]) -> Split {
    let mut scanner = Scanner::new(text);
    let mut out = Split::default();
    let mut pending = Vec::new();
    for segment in segments {
        let Some(range) = clamp(text, &segment.range) else {
            continue;
        };
        if range.start < scanner.pos {
            // Overlapping or unordered segments: restart the line count from the top.
            scanner = Scanner::new(text);
        }
        scanner.advance_to(range.start);
        scanner.run(range.end, segment.single_statement, &mut out, &mut pending);
    }
    out
}

fn clamp(text: &str, range: &Range<usize>) -> Option<Range<usize>> {
    let mut start = range.start.min(text.len());
    let mut end = range.end.min(text.len());
    while start < end && !text.is_char_boundary(start) {
        start += 1;
    }
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    (start < end).then_some(start..end)
}

/// Lexer state between bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    LineComment,
    /// Nesting depth, as PostgreSQL allows `/* /* */ */`.
    BlockComment(usize),
    /// `'...'`; `true` for `E'...'` strings, where a backslash escapes the next byte.
    String(bool),
    QuotedIdent,
    /// Inside `$tag$...$tag$`: the byte range of the opening delimiter.
    Dollar(usize, usize),
}

/// The statement being collected.
struct Current {
    start: usize,
    start_pos: Position,
    /// End of the last token that is not a comment or whitespace.
    sig_end: usize,
    sig_end_pos: Position,
    leading: Vec<Comment>,
    words: usize,
    first_create: bool,
    routine: bool,
    /// Depth of `BEGIN ATOMIC` / `CASE` blocks in a SQL-standard function body.
    atomic_depth: usize,
    previous_word_begin: bool,
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    col: usize,
    /// Only spaces and tabs so far on this line (psql meta-commands must start a line).
    line_blank: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            col: 1,
            line_blank: true,
        }
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }

    /// Position of the character just before `pos` (never a newline where it is used).
    fn previous_position(&self) -> Position {
        Position {
            line: self.line,
            column: self.col.saturating_sub(1).max(1),
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Moves one byte forward, keeping line and column current.
    fn bump(&mut self) {
        let Some(b) = self.byte(self.pos) else {
            return;
        };
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
            self.line_blank = true;
        } else {
            // Continuation bytes belong to the character already counted.
            if b & 0xC0 != 0x80 {
                self.col += 1;
            }
            if !matches!(b, b' ' | b'\t' | b'\r') {
                self.line_blank = false;
            }
        }
    }

    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.bytes.len());
        while self.pos < to {
            self.bump();
        }
    }

    fn slice(&self, range: Range<usize>) -> &'a str {
        self.text.get(range).unwrap_or("")
    }

    /// Scans `self.pos..end` as one segment.
    fn run(&mut self, end: usize, single: bool, out: &mut Split, pending: &mut Vec<Comment>) {
        let mut state = State::Normal;
        let mut current: Option<Current> = None;
        // Where the open comment / quote began, for comments and error messages.
        let mut open_at = self.pos;
        let mut open_pos = self.position();

        while self.pos < end {
            let i = self.pos;
            let b = self.bytes[i];
            match state {
                State::Normal => {
                    if b == b'\\' && self.line_blank {
                        if let Some(cur) = current.take() {
                            self.finish(cur, out);
                        }
                        self.meta_command(end, out, pending);
                        continue;
                    }
                    if b.is_ascii_whitespace() {
                        self.bump();
                        continue;
                    }
                    if b == b'-' && self.byte(i + 1) == Some(b'-') {
                        state = State::LineComment;
                        open_at = i;
                        open_pos = self.position();
                        self.bump();
                        self.bump();
                        continue;
                    }
                    if b == b'/' && self.byte(i + 1) == Some(b'*') {
                        state = State::BlockComment(1);
                        open_at = i;
                        open_pos = self.position();
                        self.bump();
                        self.bump();
                        continue;
                    }
                    if b == b';' && !single {
                        if let Some(cur) = current.take() {
                            if cur.atomic_depth > 0 {
                                current = Some(cur);
                            } else {
                                self.finish(cur, out);
                                self.bump();
                                continue;
                            }
                        } else {
                            self.bump();
                            continue;
                        }
                    }
                    // A significant token starts here.
                    let cur = current.get_or_insert_with(|| Current {
                        start: i,
                        start_pos: self.position(),
                        sig_end: i,
                        sig_end_pos: self.position(),
                        leading: std::mem::take(pending),
                        words: 0,
                        first_create: false,
                        routine: false,
                        atomic_depth: 0,
                        previous_word_begin: false,
                    });
                    match b {
                        b'\'' => {
                            let escapes = self.is_escape_string(i, cur.start);
                            state = State::String(escapes);
                            open_at = i;
                            open_pos = self.position();
                            self.bump();
                        }
                        b'"' => {
                            state = State::QuotedIdent;
                            open_at = i;
                            open_pos = self.position();
                            self.bump();
                        }
                        b'$' => {
                            if let Some(delim_end) = self.dollar_delimiter(i, end) {
                                state = State::Dollar(i, delim_end);
                                open_at = i;
                                open_pos = self.position();
                                self.advance_to(delim_end);
                            } else {
                                self.bump();
                                cur.sig_end = self.pos;
                                cur.sig_end_pos = self.previous_position();
                            }
                        }
                        _ if is_ident_start(b) => {
                            let word_start = i;
                            self.bump();
                            while self.pos < end && self.byte(self.pos).is_some_and(is_ident_char) {
                                self.bump();
                            }
                            let word = self.slice(word_start..self.pos);
                            note_word(cur, word);
                            cur.sig_end = self.pos;
                            cur.sig_end_pos = self.previous_position();
                        }
                        _ => {
                            self.bump();
                            // Take the rest of a multi-byte character along.
                            while self.pos < end
                                && self.byte(self.pos).is_some_and(|c| c & 0xC0 == 0x80)
                            {
                                self.bump();
                            }
                            cur.sig_end = self.pos;
                            cur.sig_end_pos = self.previous_position();
                        }
                    }
                }
                State::LineComment => {
                    if b == b'\n' {
                        self.comment(open_at, i, open_pos, current.is_some(), out, pending);
                        state = State::Normal;
                    }
                    self.bump();
                }
                State::BlockComment(depth) => {
                    if b == b'*' && self.byte(i + 1) == Some(b'/') {
                        self.bump();
                        self.bump();
                        if depth == 1 {
                            self.comment(
                                open_at,
                                self.pos,
                                open_pos,
                                current.is_some(),
                                out,
                                pending,
                            );
                            state = State::Normal;
                        } else {
                            state = State::BlockComment(depth - 1);
                        }
                    } else if b == b'/' && self.byte(i + 1) == Some(b'*') {
                        self.bump();
                        self.bump();
                        state = State::BlockComment(depth + 1);
                    } else {
                        self.bump();
                    }
                }
                State::String(escapes) => {
                    if escapes && b == b'\\' {
                        self.bump();
                        self.bump();
                    } else if b == b'\'' {
                        self.bump();
                        if self.pos < end && self.byte(self.pos) == Some(b'\'') {
                            self.bump();
                        } else {
                            state = State::Normal;
                            self.mark_significant(&mut current);
                        }
                    } else {
                        self.bump();
                    }
                }
                State::QuotedIdent => {
                    self.bump();
                    if b == b'"' {
                        if self.pos < end && self.byte(self.pos) == Some(b'"') {
                            self.bump();
                        } else {
                            state = State::Normal;
                            self.mark_significant(&mut current);
                        }
                    }
                }
                State::Dollar(tag_start, tag_end) => {
                    let tag = &self.bytes[tag_start..tag_end];
                    if b == b'$'
                        && self.bytes.get(i..i + tag.len()) == Some(tag)
                        && i + tag.len() <= end
                    {
                        self.advance_to(i + tag.len());
                        state = State::Normal;
                        self.mark_significant(&mut current);
                    } else {
                        self.bump();
                    }
                }
            }
        }

        match state {
            State::Normal => {}
            State::LineComment => {
                self.comment(open_at, end, open_pos, current.is_some(), out, pending);
            }
            State::BlockComment(_) => {
                self.comment(open_at, end, open_pos, current.is_some(), out, pending);
                let what = "unterminated block comment";
                self.unterminated(current.take(), open_at, open_pos, end, what, out, pending);
            }
            State::String(_) => {
                let what = "unterminated quoted string";
                self.unterminated(current.take(), open_at, open_pos, end, what, out, pending);
            }
            State::QuotedIdent => {
                let what = "unterminated quoted identifier";
                self.unterminated(current.take(), open_at, open_pos, end, what, out, pending);
            }
            State::Dollar(..) => {
                let what = "unterminated dollar-quoted string";
                self.unterminated(current.take(), open_at, open_pos, end, what, out, pending);
            }
        }
        if let Some(cur) = current.take() {
            self.finish(cur, out);
        }
        if single {
            strip_one_semicolon(self, out);
        }
    }

    fn mark_significant(&self, current: &mut Option<Current>) {
        if let Some(cur) = current {
            cur.sig_end = self.pos;
            cur.sig_end_pos = self.previous_position();
        }
    }

    /// `E'...'` (or `e'...'`): the quote follows a lone `E` that is not the end of a word.
    fn is_escape_string(&self, quote: usize, stmt_start: usize) -> bool {
        if quote == 0 || quote <= stmt_start {
            return false;
        }
        let Some(prev) = self.byte(quote - 1) else {
            return false;
        };
        if prev != b'E' && prev != b'e' {
            return false;
        }
        quote - 1 == stmt_start || !self.byte(quote - 2).is_some_and(is_ident_char)
    }

    /// If a dollar quote opens at `at`, the end of its `$tag$` delimiter. `$1` is a
    /// parameter and `a$b` part of an identifier, neither a quote.
    fn dollar_delimiter(&self, at: usize, end: usize) -> Option<usize> {
        if at > 0 && self.byte(at - 1).is_some_and(is_ident_char) {
            return None;
        }
        let mut j = at + 1;
        if self.byte(j).is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        while j < end {
            let c = self.byte(j)?;
            if c == b'$' {
                return Some(j + 1);
            }
            if !(is_ident_char(c) && c != b'$') {
                return None;
            }
            j += 1;
        }
        None
    }

    fn meta_command(&mut self, end: usize, out: &mut Split, pending: &mut Vec<Comment>) {
        let start = self.pos;
        let start_pos = self.position();
        let mut last_end = start;
        let mut last_pos = start_pos;
        while self.pos < end && self.byte(self.pos) != Some(b'\n') {
            let b = self.bytes[self.pos];
            self.bump();
            if !b.is_ascii_whitespace() {
                last_end = self.pos;
                last_pos = self.previous_position();
            }
        }
        let text = self.slice(start..last_end);
        let command = text
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or(text)
            .to_string();
        out.statements.push(RawStatement {
            range: start..last_end,
            start: start_pos,
            end: last_pos,
            leading_comments: std::mem::take(pending),
            kind: RawKind::PsqlMeta(command),
        });
    }

    fn comment(
        &self,
        from: usize,
        to: usize,
        start: Position,
        inside_statement: bool,
        out: &mut Split,
        pending: &mut Vec<Comment>,
    ) {
        let raw = self.slice(from..to);
        let body = if let Some(rest) = raw.strip_prefix("--") {
            rest
        } else {
            let rest = raw.strip_prefix("/*").unwrap_or(raw);
            rest.strip_suffix("*/").unwrap_or(rest)
        };
        let comment = Comment {
            text: body.trim().to_string(),
            start,
        };
        if !inside_statement {
            pending.push(comment.clone());
        }
        out.comments.push(comment);
    }

    #[allow(clippy::too_many_arguments)]
    fn unterminated(
        &self,
        current: Option<Current>,
        open_at: usize,
        open_pos: Position,
        end: usize,
        what: &str,
        out: &mut Split,
        pending: &mut Vec<Comment>,
    ) {
        let (start, start_pos, leading) = match current {
            Some(cur) => (cur.start, cur.start_pos, cur.leading),
            None => (open_at, open_pos, std::mem::take(pending)),
        };
        let text = self.slice(start..end);
        let trimmed = text.trim_end().len();
        let stmt_end = start + trimmed;
        out.statements.push(RawStatement {
            range: start..stmt_end,
            start: start_pos,
            end: self.end_position_of(start_pos, self.slice(start..stmt_end)),
            leading_comments: leading,
            kind: RawKind::Unterminated(format!("{what} starting at line {}", open_pos.line)),
        });
    }

    /// Position of the last character of `text`, which starts at `start` (only used for
    /// rare cases, so walking the text again is fine).
    fn end_position_of(&self, start: Position, text: &str) -> Position {
        let mut pos = start;
        let mut last = start;
        for c in text.chars() {
            last = pos;
            if c == '\n' {
                pos.line += 1;
                pos.column = 1;
            } else {
                pos.column += 1;
            }
        }
        last
    }

    fn finish(&self, cur: Current, out: &mut Split) {
        out.statements.push(RawStatement {
            range: cur.start..cur.sig_end,
            start: cur.start_pos,
            end: cur.sig_end_pos,
            leading_comments: cur.leading,
            kind: RawKind::Sql,
        });
    }
}

/// goose `StatementBegin` blocks keep their `;`; the statement is everything before it.
fn strip_one_semicolon(scanner: &Scanner, out: &mut Split) {
    let Some(last) = out.statements.last_mut() else {
        return;
    };
    if last.kind != RawKind::Sql {
        return;
    }
    let text = scanner.slice(last.range.clone());
    let Some(before) = text.strip_suffix(';') else {
        return;
    };
    let kept = before.trim_end();
    if kept.is_empty() {
        out.statements.pop();
        return;
    }
    last.range = last.range.start..last.range.start + kept.len();
    last.end = scanner.end_position_of(last.start, kept);
}

/// Tracks the words that matter for `CREATE FUNCTION ... BEGIN ATOMIC ... END`, whose
/// body contains `;` (psql's lexer does the same bookkeeping).
fn note_word(cur: &mut Current, word: &str) {
    cur.words += 1;
    if cur.words == 1 {
        cur.first_create = word.eq_ignore_ascii_case("create");
        return;
    }
    if !cur.first_create {
        return;
    }
    if cur.words <= 6
        && (word.eq_ignore_ascii_case("function") || word.eq_ignore_ascii_case("procedure"))
    {
        cur.routine = true;
    }
    if !cur.routine {
        return;
    }
    if word.eq_ignore_ascii_case("atomic") && cur.previous_word_begin && cur.atomic_depth == 0 {
        cur.atomic_depth = 1;
    } else if cur.atomic_depth > 0 {
        if word.eq_ignore_ascii_case("begin") || word.eq_ignore_ascii_case("case") {
            cur.atomic_depth += 1;
        } else if word.eq_ignore_ascii_case("end") {
            cur.atomic_depth -= 1;
        }
    }
    cur.previous_word_begin = word.eq_ignore_ascii_case("begin");
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(sql: &str) -> Split {
        split(
            sql,
            &[Segment {
                range: 0..sql.len(),
                single_statement: false,
            }],
        )
    }

    fn texts(sql: &str) -> Vec<String> {
        let s = split_all(sql);
        s.statements
            .iter()
            .map(|st| sql[st.range.clone()].to_string())
            .collect()
    }

    fn pos(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn semicolons_inside_quotes_comments_and_dollar_quotes_do_not_split() {
        let sql = "SELECT 'a;b''c;';\n\
                   SELECT \"we;ird\"\"col;\" FROM t;\n\
                   SELECT E'it\\'s; fine';\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ nested $$; $body$ LANGUAGE sql;\n\
                   SELECT /* outer /* inner; */ still; */ 1;\n\
                   SELECT 2 -- trailing; comment\n;";
        assert_eq!(
            texts(sql),
            vec![
                "SELECT 'a;b''c;'",
                "SELECT \"we;ird\"\"col;\" FROM t",
                "SELECT E'it\\'s; fine'",
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ nested $$; $body$ LANGUAGE sql",
                "SELECT /* outer /* inner; */ still; */ 1",
                "SELECT 2",
            ]
        );
    }

    #[test]
    fn dollar_parameters_and_identifiers_are_not_dollar_quotes() {
        assert_eq!(
            texts("PREPARE p AS SELECT $1; SELECT a$b$ FROM t; SELECT 1"),
            vec!["PREPARE p AS SELECT $1", "SELECT a$b$ FROM t", "SELECT 1"]
        );
    }

    #[test]
    fn standard_strings_do_not_treat_backslash_as_escape() {
        // With standard_conforming_strings (the default), 'a\' is a complete string.
        assert_eq!(
            texts("SELECT 'a\\'; SELECT 2;"),
            vec!["SELECT 'a\\'", "SELECT 2"]
        );
        // A word ending in E is not an escape-string prefix.
        assert_eq!(
            texts("SELECT type'x\\'; SELECT 2"),
            vec!["SELECT type'x\\'", "SELECT 2"]
        );
    }

    #[test]
    fn begin_atomic_bodies_keep_their_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\nSELECT 3;";
        let t = texts(sql);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("END"));
        assert_eq!(t[1], "SELECT 3");
        // A transaction block is not a function body.
        assert_eq!(
            texts("BEGIN; SELECT 1; END;"),
            vec!["BEGIN", "SELECT 1", "END"]
        );
    }

    #[test]
    fn positions_span_lines_and_count_characters() {
        let sql = "-- head\n\nCREATE INDEX idx\n  ON t (c);  SELECT 'é', 1;\nSELECT 'ü'";
        let s = split_all(sql);
        let st = &s.statements;
        assert_eq!(st.len(), 3);
        assert_eq!((st[0].start, st[0].end), (pos(3, 1), pos(4, 10)));
        assert_eq!((st[1].start, st[1].end), (pos(4, 14), pos(4, 26)));
        assert_eq!((st[2].start, st[2].end), (pos(5, 1), pos(5, 10)));
        assert_eq!(&sql[st[2].range.clone()], "SELECT 'ü'");
    }

    #[test]
    fn crlf_files_keep_editor_positions() {
        let sql = "SELECT 1;\r\n-- note\r\nCREATE INDEX i\r\n  ON t (c);\r\n";
        let s = split_all(sql);
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.statements[1].start, pos(3, 1));
        assert_eq!(s.statements[1].end, pos(4, 10));
        assert_eq!(
            &sql[s.statements[1].range.clone()],
            "CREATE INDEX i\r\n  ON t (c)"
        );
        assert_eq!(s.comments[0].text, "note");
        assert_eq!(s.comments[0].start, pos(2, 1));
    }

    #[test]
    fn comments_attach_to_the_following_statement() {
        let sql = "-- owner: @a\nSELECT 1; -- after one\n/* block\n  two */\n-- migsafe:allow x reason: y\nSELECT 2 /* inside */;\n-- dangling";
        let s = split_all(sql);
        let leading: Vec<Vec<&str>> = s
            .statements
            .iter()
            .map(|st| {
                st.leading_comments
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect()
            })
            .collect();
        assert_eq!(
            leading,
            vec![
                vec!["owner: @a"],
                vec!["after one", "block\n  two", "migsafe:allow x reason: y"]
            ]
        );
        let all: Vec<&str> = s.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            all,
            vec![
                "owner: @a",
                "after one",
                "block\n  two",
                "migsafe:allow x reason: y",
                "inside",
                "dangling"
            ]
        );
        assert_eq!(s.comments[4].start, pos(6, 10));
    }

    #[test]
    fn only_comments_make_no_statement() {
        let s = split_all("-- nothing\n/* here */\n;;\n");
        assert!(s.statements.is_empty());
        assert_eq!(s.comments.len(), 2);
    }

    #[test]
    fn psql_meta_commands_are_their_own_statements() {
        let sql = "\\set ON_ERROR_STOP on\nSELECT 1;\n  \\c other_db\nSELECT 'a\n\\not meta';\nSELECT 2\n\\gexec\n";
        let s = split_all(sql);
        let kinds: Vec<(&str, &RawKind)> = s
            .statements
            .iter()
            .map(|st| (&sql[st.range.clone()], &st.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("\\set ON_ERROR_STOP on", &RawKind::PsqlMeta("\\set".into())),
                ("SELECT 1", &RawKind::Sql),
                ("\\c other_db", &RawKind::PsqlMeta("\\c".into())),
                ("SELECT 'a\n\\not meta'", &RawKind::Sql),
                ("SELECT 2", &RawKind::Sql),
                ("\\gexec", &RawKind::PsqlMeta("\\gexec".into())),
            ]
        );
        assert_eq!(s.statements[2].start, pos(3, 3));
    }

    #[test]
    fn unterminated_constructs_swallow_the_rest_but_keep_what_came_before() {
        for (sql, what) in [
            (
                "CREATE INDEX i ON t (c);\nDO $$ BEGIN\n;\n",
                "unterminated dollar-quoted string starting at line 2",
            ),
            (
                "CREATE INDEX i ON t (c);\nSELECT 'abc;\nSELECT 1;",
                "unterminated quoted string starting at line 2",
            ),
            (
                "CREATE INDEX i ON t (c);\n/* never /* closed */\nSELECT 1;",
                "unterminated block comment starting at line 2",
            ),
            (
                "CREATE INDEX i ON t (c);\nSELECT \"abc;\n",
                "unterminated quoted identifier starting at line 2",
            ),
        ] {
            let s = split_all(sql);
            assert_eq!(s.statements.len(), 2, "{sql}");
            assert_eq!(s.statements[0].kind, RawKind::Sql);
            assert_eq!(
                s.statements[1].kind,
                RawKind::Unterminated(what.to_string()),
                "{sql}"
            );
            assert_eq!(s.statements[1].start, pos(2, 1));
            assert!(!sql[s.statements[1].range.clone()].ends_with('\n'));
        }
    }

    #[test]
    fn single_statement_segments_are_not_split_and_lose_one_semicolon() {
        let sql = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS void AS 'SELECT 1; SELECT 2' LANGUAGE sql;\n-- +goose StatementEnd\nSELECT 1; SELECT 2;\n";
        let body_start = sql.find("CREATE").unwrap();
        let body_end = sql.find("-- +goose StatementEnd").unwrap();
        let tail = body_end + "-- +goose StatementEnd\n".len();
        let s = split(
            sql,
            &[
                Segment {
                    range: body_start..body_end,
                    single_statement: true,
                },
                Segment {
                    range: tail..sql.len(),
                    single_statement: false,
                },
            ],
        );
        let t: Vec<&str> = s
            .statements
            .iter()
            .map(|st| &sql[st.range.clone()])
            .collect();
        assert_eq!(
            t,
            vec![
                "CREATE FUNCTION f() RETURNS void AS 'SELECT 1; SELECT 2' LANGUAGE sql",
                "SELECT 1",
                "SELECT 2"
            ]
        );
        assert_eq!(s.statements[0].start, pos(3, 1));
        assert_eq!(s.statements[0].end, pos(3, 69));
        assert_eq!(s.statements[1].start, pos(5, 1));
    }

    #[test]
    fn broken_segment_ranges_are_clamped() {
        let sql = "SELECT 'é';";
        let s = split(
            sql,
            &[
                Segment {
                    range: 9..400,
                    single_statement: false,
                },
                Segment {
                    range: 500..600,
                    single_statement: false,
                },
            ],
        );
        assert!(s
            .statements
            .iter()
            .all(|st| sql.get(st.range.clone()).is_some()));
    }

    #[test]
    fn splits_large_files_with_exact_lines() {
        let one = "-- step\nINSERT INTO t (a, b) VALUES (1, 'x;y');\n";
        let sql = one.repeat(5_000_000 / one.len());
        // Speed is measured by `cargo bench --bench static_review`, not asserted here.
        let s = split_all(&sql);
        assert_eq!(s.statements.len(), 5_000_000 / one.len());
        let last = s.statements.last().unwrap();
        assert_eq!(last.start.line, 2 * s.statements.len());
    }
}
