//! Routines in a migration: `CREATE FUNCTION` / `CREATE PROCEDURE` headers (name, volatility,
//! language, where the body is) and `DO` blocks, so that a default calling a function the
//! migration defines is judged by the volatility it declared, and the SQL inside a `DO` block
//! or a called PL/pgSQL function is reviewed like any other statement (issue #12).
//!
//! PostgreSQL's own rules, from the `CREATE FUNCTION` and `DO` pages of the manual: a
//! function without `IMMUTABLE`, `STABLE` or `VOLATILE` is VOLATILE; a `DO` block without
//! `LANGUAGE` is `plpgsql`; a function names its language unless it has a SQL-standard
//! `BEGIN ATOMIC` body. The body is a string constant (usually dollar-quoted) that the server
//! parses only when it runs.

use super::tokens::{tokenize, Tok, Token};
use crate::model::{QualifiedName, StatementKind, Volatility};

/// A routine body found in a statement: the language and where its code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body {
    /// Lower-case language (`plpgsql`, `sql`, `c`...).
    pub language: String,
    /// Byte offset of the code (inside the quotes) in the statement text.
    pub offset: usize,
    pub code: String,
    /// The code is inside a `'...'` string whose quotes are doubled, so offsets after the
    /// first `''` no longer match the file: statements in it are reviewed, but their columns
    /// may be off.
    pub escaped: bool,
}

/// What `CREATE FUNCTION` / `CREATE PROCEDURE` declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routine {
    pub name: QualifiedName,
    pub volatility: Option<Volatility>,
    pub procedure: bool,
    pub body: Option<Body>,
}

impl Routine {
    pub fn kind(&self) -> StatementKind {
        StatementKind::CreateFunction {
            name: self.name.clone(),
            volatility: self.volatility,
            language: self.body.as_ref().map(|b| b.language.clone()),
            procedure: self.procedure,
        }
    }
}

/// The code of a string token (`'...'`, `E'...'`, `$tag$...$tag$`): (offset, code, escaped).
fn string_code(tok: &Token<'_>) -> Option<(usize, String, bool)> {
    let t = tok.text;
    if t.starts_with('$') {
        let tag_len = super::tokens::dollar_tag_len(t)?;
        let inner = t.get(tag_len..t.len().checked_sub(tag_len)?)?;
        return Some((tok.at + tag_len, inner.to_string(), false));
    }
    let (skip, inner) = if let Some(rest) = t.strip_prefix('\'') {
        (1, rest)
    } else {
        let rest = t.get(1..)?.strip_prefix('\'')?;
        (2, rest)
    };
    let inner = inner.strip_suffix('\'').unwrap_or(inner);
    let escaped = inner.contains("''") || (skip == 2 && inner.contains('\\'));
    Some((tok.at + skip, inner.replace("''", "'"), escaped))
}

/// Reads a `CREATE [OR REPLACE] FUNCTION|PROCEDURE` statement; `None` for anything else.
pub(crate) fn create_routine(text: &str) -> Option<Routine> {
    let toks = tokenize(text);
    let mut k = 0;
    if !toks.first()?.is("create") {
        return None;
    }
    k += 1;
    if toks.get(k)?.is("or") && toks.get(k + 1)?.is("replace") {
        k += 2;
    }
    let procedure = if toks.get(k)?.is("function") {
        false
    } else if toks.get(k)?.is("procedure") {
        true
    } else {
        return None;
    };
    k += 1;
    let first = toks.get(k)?;
    if !first.is_name() {
        return None;
    }
    let name = if toks.get(k + 1).is_some_and(|t| t.is_punct(".")) {
        let second = toks.get(k + 2)?;
        k += 3;
        QualifiedName::new(Some(&first.ident()), &second.ident())
    } else {
        k += 1;
        QualifiedName::new(None, &first.ident())
    };
    // Skip the argument list, then read the options at depth 0.
    let mut depth = 0usize;
    let mut volatility = None;
    let mut language = None;
    let mut body_tok = None;
    let mut atomic = None;
    while let Some(tok) = toks.get(k) {
        if tok.is_punct("(") {
            depth += 1;
        } else if tok.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            if tok.is("immutable") {
                volatility = Some(Volatility::Immutable);
            } else if tok.is("stable") {
                volatility = Some(Volatility::Stable);
            } else if tok.is("volatile") {
                volatility = Some(Volatility::Volatile);
            } else if tok.is("language") {
                if let Some(lang) = toks.get(k + 1) {
                    language = Some(match lang.tok {
                        Tok::Str => lang.text.trim_matches('\'').to_lowercase(),
                        _ => lang.ident(),
                    });
                    k += 1;
                }
            } else if tok.is("as") {
                if let Some(b) = toks.get(k + 1).filter(|t| t.tok == Tok::Str) {
                    // `AS 'obj_file', 'link_symbol'` (C) keeps the first string: harmless.
                    body_tok.get_or_insert(*b);
                    k += 1;
                }
            } else if tok.is("begin") && toks.get(k + 1).is_some_and(|t| t.is("atomic")) {
                atomic = Some(k);
                break;
            }
        }
        k += 1;
    }
    let body = if let Some(b) = body_tok {
        string_code(&b).map(|(offset, code, escaped)| Body {
            language: language.clone().unwrap_or_else(|| "sql".to_string()),
            offset,
            code,
            escaped,
        })
    } else if let Some(at) = atomic {
        // `BEGIN ATOMIC stmt; stmt; END`: SQL written inline, reviewed as SQL.
        let start = toks.get(at + 2).map(|t| t.at).unwrap_or(text.len());
        let end = text
            .to_ascii_lowercase()
            .rfind("end")
            .filter(|&e| e >= start)
            .unwrap_or(text.len());
        text.get(start..end).map(|code| Body {
            language: "sql".to_string(),
            offset: start,
            code: code.to_string(),
            escaped: false,
        })
    } else {
        None
    };
    Some(Routine {
        name,
        volatility,
        procedure,
        body,
    })
}

/// The body of `DO [LANGUAGE l] 'code' [LANGUAGE l]`; `None` when the statement is not `DO`.
pub(crate) fn do_body(text: &str) -> Option<Body> {
    let toks = tokenize(text);
    if !toks.first()?.is("do") {
        return None;
    }
    let mut language = "plpgsql".to_string();
    let mut code = None;
    let mut k = 1;
    while let Some(tok) = toks.get(k) {
        if tok.is("language") {
            if let Some(lang) = toks.get(k + 1) {
                language = match lang.tok {
                    Tok::Str => lang.text.trim_matches('\'').to_lowercase(),
                    _ => lang.ident(),
                };
                k += 1;
            }
        } else if tok.tok == Tok::Str && code.is_none() {
            code = string_code(tok);
        }
        k += 1;
    }
    let (offset, code, escaped) = code?;
    Some(Body {
        language,
        offset,
        code,
        escaped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_volatility_language_and_body() {
        let r = create_routine(
            "CREATE OR REPLACE FUNCTION public.random_hash() RETURNS text AS $$ SELECT md5(random()::text) $$ LANGUAGE sql",
        )
        .unwrap();
        assert_eq!(r.name, QualifiedName::new(Some("public"), "random_hash"));
        assert_eq!(
            r.volatility, None,
            "no clause: PostgreSQL's default, VOLATILE"
        );
        let body = r.body.unwrap();
        assert_eq!(body.language, "sql");
        assert_eq!(body.code.trim(), "SELECT md5(random()::text)");
        let r = create_routine(
            "create function next_id(text) returns bigint language plpgsql stable as 'begin return 1; end'",
        )
        .unwrap();
        assert_eq!(r.volatility, Some(Volatility::Stable));
        assert_eq!(r.body.unwrap().language, "plpgsql");
        let r = create_routine(
            "CREATE FUNCTION f(a int DEFAULT (random()*10)::int) RETURNS int IMMUTABLE LANGUAGE sql RETURN a",
        )
        .unwrap();
        assert_eq!(r.volatility, Some(Volatility::Immutable));
        assert!(create_routine("CREATE TABLE f (a int)").is_none());
        let p = create_routine(
            "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC UPDATE t SET a = 1; END",
        )
        .unwrap();
        assert!(p.procedure);
        assert_eq!(p.body.unwrap().code.trim(), "UPDATE t SET a = 1;");
    }

    #[test]
    fn do_blocks_default_to_plpgsql() {
        let text = "DO $do$ BEGIN ALTER TABLE t ADD COLUMN a int; END $do$";
        let b = do_body(text).unwrap();
        assert_eq!(b.language, "plpgsql");
        assert_eq!(&text[b.offset..b.offset + 6], " BEGIN");
        assert_eq!(
            do_body("DO LANGUAGE plperl 'print 1'").unwrap().language,
            "plperl"
        );
        assert!(do_body("SELECT 1").is_none());
    }
}
