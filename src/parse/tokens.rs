//! A small, forgiving SQL tokenizer for one statement's text: words, quoted identifiers,
//! strings, dollar-quoted bodies and punctuation. The keyword fallback, function-name
//! extraction and placeholder detection all read statements through it; it never fails,
//! an unterminated quote simply runs to the end of the text.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An unquoted word: keyword or identifier.
    Word,
    /// `"..."`
    Quoted,
    /// `'...'`, `E'...'`, `$tag$...$tag$`
    Str,
    Number,
    /// `$1`
    Param,
    /// Any other character, or `::`.
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub tok: Tok,
    pub text: &'a str,
    /// Byte offset in the statement text.
    pub at: usize,
}

impl<'a> Token<'a> {
    /// Whether this is the unquoted keyword `kw` (case-insensitive).
    pub fn is(&self, kw: &str) -> bool {
        self.tok == Tok::Word && self.text.eq_ignore_ascii_case(kw)
    }

    pub fn is_punct(&self, p: &str) -> bool {
        self.tok == Tok::Punct && self.text == p
    }

    /// The identifier as PostgreSQL resolves it: unquoted lower-cased, quoted kept as
    /// written (with `""` unescaped).
    pub fn ident(&self) -> String {
        match self.tok {
            Tok::Quoted => {
                let inner = self.text.strip_prefix('"').unwrap_or(self.text);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                inner.replace("\"\"", "\"")
            }
            _ => self.text.to_lowercase(),
        }
    }

    pub fn is_name(&self) -> bool {
        matches!(self.tok, Tok::Word | Tok::Quoted)
    }
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Tokenizes `text`, dropping whitespace and comments.
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        let end_of = |len: usize| (i + len).min(text.len());
        if c.is_whitespace() {
            continue;
        }
        let (tok, len) = if rest.starts_with("--") {
            let len = rest.find('\n').unwrap_or(rest.len());
            skip_to(&mut chars, end_of(len));
            continue;
        } else if rest.starts_with("/*") {
            let len = block_comment_len(rest);
            skip_to(&mut chars, end_of(len));
            continue;
        } else if c == '\'' {
            (Tok::Str, quoted_len(rest, '\'', false))
        } else if (c == 'e' || c == 'E') && rest[1..].starts_with('\'') {
            (Tok::Str, 1 + quoted_len(&rest[1..], '\'', true))
        } else if c == '"' {
            (Tok::Quoted, quoted_len(rest, '"', false))
        } else if c == '$' {
            match dollar_tag_len(rest) {
                Some(tag_len) => {
                    let tag = &rest[..tag_len];
                    let len = rest[tag_len..]
                        .find(tag)
                        .map(|p| tag_len + p + tag_len)
                        .unwrap_or(rest.len());
                    (Tok::Str, len)
                }
                None => {
                    let digits = rest[1..]
                        .find(|ch: char| !ch.is_ascii_digit())
                        .unwrap_or(rest.len() - 1);
                    if digits > 0 {
                        (Tok::Param, 1 + digits)
                    } else {
                        (Tok::Punct, 1)
                    }
                }
            }
        } else if ident_start(c) {
            let len = rest
                .char_indices()
                .find(|&(_, ch)| !ident_char(ch))
                .map(|(p, _)| p)
                .unwrap_or(rest.len());
            (Tok::Word, len)
        } else if c.is_ascii_digit() {
            let len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .unwrap_or(rest.len());
            (Tok::Number, len)
        } else if rest.starts_with("::") {
            (Tok::Punct, 2)
        } else {
            (Tok::Punct, c.len_utf8())
        };
        let end = end_of(len);
        out.push(Token {
            tok,
            text: &text[i..end],
            at: i,
        });
        skip_to(&mut chars, end);
    }
    out
}

fn skip_to(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: usize) {
    while chars.peek().is_some_and(|&(p, _)| p < end) {
        chars.next();
    }
}

/// Length of a quoted token starting at `rest[0] == q`, doubled quotes escaping.
fn quoted_len(rest: &str, q: char, backslash: bool) -> usize {
    let mut iter = rest.char_indices().skip(1).peekable();
    while let Some((p, c)) = iter.next() {
        if backslash && c == '\\' {
            iter.next();
        } else if c == q {
            if iter.peek().is_some_and(|&(_, n)| n == q) {
                iter.next();
            } else {
                return p + 1;
            }
        }
    }
    rest.len()
}

fn block_comment_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    rest.len()
}

/// `$$` or `$tag$` at the start of `rest`: the delimiter's length.
pub(crate) fn dollar_tag_len(rest: &str) -> Option<usize> {
    let body = rest.strip_prefix('$')?;
    if body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    for (p, c) in body.char_indices() {
        if c == '$' {
            return Some(p + 2);
        }
        if !(ident_char(c) && c != '$') {
            return None;
        }
    }
    None
}

/// SQL-standard value functions written without parentheses; they matter for volatility.
const VALUE_FUNCTIONS: [&str; 5] = [
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
];

/// Words that take a parenthesis without being function calls.
const NOT_FUNCTIONS: [&str; 33] = [
    "and",
    "or",
    "not",
    "in",
    "exists",
    "any",
    "all",
    "some",
    "as",
    "array",
    "row",
    "values",
    "select",
    "when",
    "then",
    "else",
    "is",
    "like",
    "ilike",
    "over",
    "filter",
    "between",
    "cast",
    "on",
    "using",
    "from",
    "where",
    "by",
    "with",
    "returning",
    "into",
    "set",
    "case",
];

/// Lower-cased, unqualified names of the functions an expression calls, in order of first
/// appearance, plus value functions such as `current_timestamp`. Type names after `::` or
/// `CAST(... AS` are not calls.
pub(crate) fn functions_in(text: &str) -> Vec<String> {
    let tokens = tokenize(text);
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    for (k, t) in tokens.iter().enumerate() {
        if !t.is_name() {
            continue;
        }
        let prev = k.checked_sub(1).and_then(|p| tokens.get(p));
        let is_type = prev.is_some_and(|p| p.is_punct("::") || p.is("as"));
        if is_type {
            continue;
        }
        let name = t.ident();
        let next_paren = tokens.get(k + 1).is_some_and(|n| n.is_punct("("));
        let qualified_next = tokens.get(k + 1).is_some_and(|n| n.is_punct("."));
        if next_paren && !qualified_next {
            if t.tok == Tok::Word && NOT_FUNCTIONS.contains(&name.as_str()) {
                continue;
            }
            push(name);
        } else if t.tok == Tok::Word && VALUE_FUNCTIONS.contains(&name.as_str()) {
            push(name);
        }
    }
    out
}

/// The first template placeholder in `text`, if any: `{{ x }}`, `${x}`, `%(x)s`, or a psql
/// variable `:x` / `:'x'` / `:"x"`. Text inside quotes does not count, except for the
/// quoted forms of psql variables.
pub(crate) fn find_placeholder(text: &str) -> Option<String> {
    let tokens = tokenize(text);
    let adjacent = |a: &Token, b: &Token| a.at + a.text.len() == b.at;
    for (k, t) in tokens.iter().enumerate() {
        let next = tokens.get(k + 1);
        let after = tokens.get(k + 2);
        // Jinja / Handlebars / Go templates: `{{ x }}`, `{% x %}`
        if t.is_punct("{") {
            if let Some(n) = next {
                let close = if n.is_punct("{") {
                    "}}"
                } else if n.is_punct("%") {
                    "%}"
                } else {
                    ""
                };
                if !close.is_empty() && adjacent(t, n) {
                    let end = text[t.at..]
                        .find(close)
                        .map(|e| t.at + e + 2)
                        .unwrap_or(text.len());
                    return text.get(t.at..end).map(str::to_string);
                }
            }
        }
        // `${name}`
        if t.is_punct("$") {
            if let (Some(n), Some(a)) = (next, after) {
                if n.is_punct("{") && adjacent(t, n) {
                    let end = text[a.at..]
                        .find('}')
                        .map(|e| a.at + e + 1)
                        .unwrap_or(text.len());
                    return text.get(t.at..end).map(str::to_string);
                }
            }
        }
        // `%(name)s`
        if t.is_punct("%") {
            if let (Some(n), Some(a)) = (next, after) {
                if n.is_punct("(") && adjacent(t, n) && a.is_name() {
                    let end = text[a.at..]
                        .find(")s")
                        .map(|e| a.at + e + 2)
                        .unwrap_or(text.len());
                    return text.get(t.at..end).map(str::to_string);
                }
            }
        }
        // psql `:name`, `:'name'`, `:"name"`; `::` is a cast and `a[1:n]` a slice.
        if t.is_punct(":") {
            let Some(n) = next else { continue };
            if !adjacent(t, n) {
                continue;
            }
            let prev_ok = k == 0
                || tokens.get(k - 1).is_some_and(|p| {
                    matches!(p.text, "(" | "," | "=" | ">" | "<")
                        || p.tok == Tok::Word && !adjacent(p, t)
                });
            let var = match n.tok {
                Tok::Word | Tok::Quoted => true,
                Tok::Str => n.text.starts_with('\''),
                _ => false,
            };
            if var && prev_ok {
                return Some(format!(":{}", n.text));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_quotes_comments_and_dollar_bodies() {
        let toks = tokenize("SELECT 'a;b', E'x\\'y', \"Q\"\"t\" /* c */ -- d\n $f$ ; $f$, $1");
        let texts: Vec<&str> = toks.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            vec![
                "SELECT",
                "'a;b'",
                ",",
                "E'x\\'y'",
                ",",
                "\"Q\"\"t\"",
                "$f$ ; $f$",
                ",",
                "$1"
            ]
        );
        assert_eq!(toks[5].ident(), "Q\"t");
        assert_eq!(toks[8].tok, Tok::Param);
    }

    #[test]
    fn finds_called_functions_but_not_types_or_keywords() {
        assert_eq!(
            functions_in("CAST(a AS VARCHAR(10)) || pg_catalog.Lower(b)::NUMERIC(10,2) IN (1)"),
            vec!["lower"]
        );
        assert_eq!(functions_in("nextval('s'::regclass)"), vec!["nextval"]);
        assert_eq!(functions_in("CURRENT_TIMESTAMP"), vec!["current_timestamp"]);
        assert_eq!(
            functions_in("now() + random() * clock_timestamp()"),
            vec!["now", "random", "clock_timestamp"]
        );
        assert_eq!(functions_in("'now()'"), Vec::<String>::new());
    }

    #[test]
    fn finds_template_placeholders() {
        assert_eq!(
            find_placeholder("CREATE INDEX ON {{ table }} (c)").as_deref(),
            Some("{{ table }}")
        );
        assert_eq!(
            find_placeholder("ALTER TABLE ${schema}.t ADD c int").as_deref(),
            Some("${schema}")
        );
        assert_eq!(
            find_placeholder("DELETE FROM t WHERE id = %(id)s").as_deref(),
            Some("%(id)s")
        );
        assert_eq!(
            find_placeholder("SELECT * FROM :'tbl'").as_deref(),
            Some(":'tbl'")
        );
        assert_eq!(
            find_placeholder("CREATE TABLE :schema.t ()").as_deref(),
            Some(":schema")
        );
        assert_eq!(
            find_placeholder("SELECT a::int, b[1:2] FROM t WHERE x = '{{y}}'"),
            None
        );
    }
}
