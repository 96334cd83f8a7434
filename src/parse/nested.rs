//! The SQL inside procedural code: the statements of a `DO` block, and of a function or
//! procedure the migration creates and then calls (`SELECT f()`, `PERFORM f()`, `CALL p()`),
//! each with its exact place in the file so findings point at the line that does the work.
//!
//! PL/pgSQL's control structure (`DECLARE`, `BEGIN`/`END`, `IF … THEN`, `LOOP`, `EXCEPTION
//! WHEN … THEN`, `RAISE`, assignments) is peeled off; what remains is SQL that PostgreSQL
//! plans and runs as if it were written on its own, so the same rules judge it. `EXECUTE` of
//! a single constant string is reviewed as that string; `EXECUTE` of anything built at run
//! time becomes a [`StatementKind::Dynamic`] statement: it cannot be reviewed before it runs
//! (PostgreSQL docs: PL/pgSQL "Executing Dynamic Commands"). A body in another language
//! (plperl, plpython, C) is reported the same way.
//!
//! These statements are not part of `ParsedPart::statements`: the executor runs the `DO` or
//! the call once, and must not run its body again. The review engine asks for them per
//! statement.

use super::routine::{self, Body};
use super::split::{self, RawKind};
use super::tokens::{self, tokenize, Tok, Token};
use crate::model::{Position, Segment, SourceFile, Statement, StatementKind};
use std::collections::HashMap;

/// How deep calls inside called functions are followed.
const MAX_DEPTH: usize = 3;

/// Where each function or procedure of a part is created (statement indexes by bare name),
/// built once per part so that finding a call's definition costs O(1) per statement.
#[derive(Debug, Default)]
pub struct Routines(HashMap<String, Vec<usize>>);

impl Routines {
    pub fn of(statements: &[Statement]) -> Routines {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in statements.iter().enumerate() {
            if let StatementKind::CreateFunction { name, .. } = &s.kind {
                map.entry(name.name.clone()).or_default().push(i);
            }
        }
        Routines(map)
    }

    /// The latest definition of `name` before statement `index`.
    fn before(&self, name: &str, index: usize) -> Option<usize> {
        self.0
            .get(name)?
            .iter()
            .rev()
            .find(|&&i| i < index)
            .copied()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A statement found inside procedural code, and where that code came from, for messages.
#[derive(Debug, Clone)]
pub struct Nested {
    pub statement: Statement,
    /// `inside the DO block on line 4` / `in function backfill_slugs() (line 2), called on line 9`.
    pub context: String,
}

/// The statements that `statements[index]` runs through procedural code: its own body when it
/// is a `DO` block, and the bodies of functions created earlier in the part that it calls.
pub fn nested(
    file: &SourceFile,
    statements: &[Statement],
    routines: &Routines,
    index: usize,
) -> Vec<Nested> {
    let Some(stmt) = statements.get(index) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if matches!(stmt.kind, StatementKind::Do) {
        if let Some(body) = routine::do_body(&stmt.text) {
            let context = format!("inside the DO block on line {}", stmt.start.line);
            expand(
                file, statements, routines, index, stmt, &body, &context, 0, &mut out,
            );
        }
        return out;
    }
    calls(file, statements, routines, index, stmt, "", 0, &mut out);
    out
}

/// Whether `stmt` can run a function (only these are searched for calls).
fn may_call(kind: &StatementKind) -> bool {
    match kind {
        StatementKind::Select
        | StatementKind::Insert { .. }
        | StatementKind::Update { .. }
        | StatementKind::Delete { .. } => true,
        StatementKind::Other { keywords } => keywords == "call" || keywords == "perform",
        _ => false,
    }
}

/// The bodies of earlier-created functions that `stmt` calls.
#[allow(clippy::too_many_arguments)]
fn calls(
    file: &SourceFile,
    statements: &[Statement],
    routines: &Routines,
    index: usize,
    stmt: &Statement,
    via: &str,
    depth: usize,
    out: &mut Vec<Nested>,
) {
    if depth >= MAX_DEPTH || routines.is_empty() || !may_call(&stmt.kind) {
        return;
    }
    let called = called_names(&stmt.text);
    if called.is_empty() {
        return;
    }
    for name in called {
        // The latest definition before the call is the one that runs.
        let Some(def) = routines
            .before(&name, index)
            .and_then(|i| statements.get(i))
        else {
            continue;
        };
        let Some(routine) = routine::create_routine(&def.text) else {
            continue;
        };
        let Some(body) = routine.body else {
            continue;
        };
        let context = format!(
            "in {} {}() (created on line {}), {}called on line {}",
            if routine.procedure {
                "procedure"
            } else {
                "function"
            },
            routine.name,
            def.start.line,
            via,
            stmt.start.line
        );
        expand(
            file,
            statements,
            routines,
            index,
            def,
            &body,
            &context,
            depth + 1,
            out,
        );
    }
}

/// Names called in `text`: functions (`f(`) and, for `CALL p(...)`, the procedure.
fn called_names(text: &str) -> Vec<String> {
    let mut names = tokens::functions_in(text);
    let toks = tokenize(text);
    if toks.first().is_some_and(|t| t.is("call")) {
        if let Some(name) = toks
            .iter()
            .skip(1)
            .take_while(|t| !t.is_punct("("))
            .filter(|t| t.is_name())
            .last()
        {
            names.push(name.ident());
        }
    }
    names.dedup();
    names
}

/// Statements of `body` (part of `owner`'s text), appended to `out` with `context`.
#[allow(clippy::too_many_arguments)]
fn expand(
    file: &SourceFile,
    statements: &[Statement],
    routines: &Routines,
    index: usize,
    owner: &Statement,
    body: &Body,
    context: &str,
    depth: usize,
    out: &mut Vec<Nested>,
) {
    let language = body.language.as_str();
    if language != "plpgsql" && language != "sql" {
        out.push(Nested {
            statement: derived(
                owner,
                &owner.text,
                owner.range.clone(),
                owner.start,
                owner.end,
                StatementKind::Dynamic {
                    reason: format!(
                        "code in LANGUAGE {language}, which migsafe cannot read: review what it \
                         does to the schema and data by hand"
                    ),
                },
            ),
            context: context.to_string(),
        });
        return;
    }
    let abs = owner.range.start + body.offset;
    let code_in_file = file.text.get(abs..abs + body.code.len());
    // A body whose quotes are doubled ('...''...') no longer lines up with the file: review
    // the unescaped code, placed at its owner's position.
    let exact = !body.escaped && code_in_file == Some(body.code.as_str());
    let base = if exact {
        advance(
            owner.start,
            owner.text.get(..body.offset).unwrap_or_default(),
        )
    } else {
        owner.start
    };
    let code = body.code.as_str();
    let whole = [Segment {
        range: 0..code.len(),
        single_statement: false,
    }];
    let split = split::split(code, &whole);
    let mut declaring = false;
    for raw in split.statements {
        if raw.kind != RawKind::Sql {
            continue;
        }
        let Some(piece) = code.get(raw.range.clone()) else {
            continue;
        };
        let Some((skip, kind)) = plpgsql_statement(piece, language, &mut declaring) else {
            continue;
        };
        let start_rel = raw.range.start + skip;
        let text = code.get(start_rel..raw.range.end).unwrap_or_default();
        if text.trim().is_empty() {
            continue;
        }
        let (range, start, end) = if exact {
            let start = shift(
                base,
                advance(raw.start, piece.get(..skip).unwrap_or_default()),
            );
            let end = shift(base, raw.end);
            (abs + start_rel..abs + raw.range.end, start, end)
        } else {
            (owner.range.clone(), owner.start, owner.end)
        };
        let kind = kind.unwrap_or_else(|| super::classify(text).0);
        let stmt = derived(owner, text, range, start, end, kind);
        // Calls from inside the body into other functions of the migration.
        let mut inner = Vec::new();
        let via = format!("{context}; ");
        calls(
            file, statements, routines, index, &stmt, &via, depth, &mut inner,
        );
        out.push(Nested {
            statement: stmt,
            context: context.to_string(),
        });
        out.extend(inner);
    }
}

fn derived(
    owner: &Statement,
    text: &str,
    range: std::ops::Range<usize>,
    start: Position,
    end: Position,
    kind: StatementKind,
) -> Statement {
    Statement {
        text: text.to_string(),
        range,
        start,
        end,
        // Procedural code always runs inside a transaction (the DO's or the caller's).
        in_transaction: true,
        kind,
        parsed_by: owner.parsed_by,
        leading_comments: Vec::new(),
    }
}

/// The position after `text` when it starts at `from`.
fn advance(from: Position, text: &str) -> Position {
    let mut pos = from;
    for c in text.chars() {
        if c == '\n' {
            pos.line += 1;
            pos.column = 1;
        } else {
            pos.column += 1;
        }
    }
    pos
}

/// A position relative to a text that starts at `base` (both 1-based).
fn shift(base: Position, rel: Position) -> Position {
    if rel.line <= 1 {
        Position {
            line: base.line,
            column: base.column + rel.column.saturating_sub(1),
        }
    } else {
        Position {
            line: base.line + rel.line - 1,
            column: rel.column,
        }
    }
}

/// For one `;`-terminated piece of a body: how many bytes of control structure to skip, and
/// the statement's kind when it is not plain SQL (`Dynamic`, `Select` for PERFORM); `None`
/// when nothing in the piece is SQL (a declaration, `END IF`, `RAISE`, an assignment).
fn plpgsql_statement(
    piece: &str,
    language: &str,
    declaring: &mut bool,
) -> Option<(usize, Option<StatementKind>)> {
    let toks = tokenize(piece);
    if language == "sql" {
        return Some((toks.first()?.at, None));
    }
    let mut k = 0;
    loop {
        let t = toks.get(k)?;
        if *declaring {
            // Declarations run until the block's BEGIN.
            match toks.iter().skip(k).position(|t| t.is("begin")) {
                Some(p) => {
                    *declaring = false;
                    k += p + 1;
                    continue;
                }
                None => return None,
            }
        }
        if t.is_punct("<") && toks.get(k + 1).is_some_and(|t| t.is_punct("<")) {
            // <<label>>
            k += toks
                .iter()
                .skip(k)
                .position(|t| t.is_punct(">"))
                .map(|p| p + 2)?;
            continue;
        }
        if t.is("declare") {
            *declaring = true;
            k += 1;
            continue;
        }
        if t.is("begin") || t.is("else") || t.is("loop") || t.is("exception") {
            k += 1;
            continue;
        }
        if t.is("if") || t.is("elsif") || t.is("elseif") || t.is("when") {
            k = after(&toks, k, "then")?;
            continue;
        }
        if t.is("while") || t.is("for") || t.is("foreach") {
            k = after(&toks, k, "loop")?;
            continue;
        }
        break;
    }
    let t = toks.get(k)?;
    const NOT_SQL: &[&str] = &[
        "end", "raise", "return", "null", "exit", "continue", "get", "assert", "open", "close",
        "fetch", "move", "commit", "rollback", "case",
    ];
    if NOT_SQL.iter().any(|w| t.is(w)) {
        return None;
    }
    // `x := ...`, `x = ...`, `rec.field := ...`
    if t.is_name()
        && toks
            .get(k + 1)
            .is_some_and(|n| n.is_punct(":") || n.is_punct("=") || n.is_punct("."))
        && !t.is("select")
    {
        let assign = toks
            .iter()
            .skip(k + 1)
            .take(3)
            .any(|n| n.is_punct(":") || n.is_punct("="));
        if assign {
            return None;
        }
    }
    if t.is("perform") {
        return Some((t.at, Some(StatementKind::Select)));
    }
    if t.is("execute") {
        return Some((t.at, Some(execute_kind(&toks, k, piece))));
    }
    Some((t.at, None))
}

/// `EXECUTE 'constant'` is reviewed as its string; anything else is dynamic.
fn execute_kind(toks: &[Token<'_>], k: usize, piece: &str) -> StatementKind {
    let rest: Vec<&Token<'_>> = toks.iter().skip(k + 1).collect();
    if let [only] = rest.as_slice() {
        if only.tok == Tok::Str && only.text.starts_with('\'') && !only.text.contains("''") {
            let sql = only.text.trim_matches('\'');
            return super::classify(sql).0;
        }
    }
    let shown: String = piece
        .get(toks.get(k).map(|t| t.at).unwrap_or(0)..)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let shown = if shown.chars().count() > 80 {
        format!("{}…", shown.chars().take(80).collect::<String>())
    } else {
        shown
    };
    StatementKind::Dynamic {
        reason: format!("`{shown}` builds its SQL at run time"),
    }
}

/// The token index after the first `word` at depth 0 from `k`.
fn after(toks: &[Token<'_>], k: usize, word: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(k + 1) {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is(word) {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParsedBy;

    fn parsed(sql: &str) -> (SourceFile, Vec<Statement>) {
        let file = SourceFile {
            display: "t.sql".into(),
            text: sql.into(),
        };
        let statements = crate::parse::parse_sql(sql, true).statements;
        (file, statements)
    }

    fn kinds(sql: &str, index: usize) -> Vec<(usize, String, String)> {
        let (file, statements) = parsed(sql);
        nested(&file, &statements, &Routines::of(&statements), index)
            .into_iter()
            .map(|n| {
                let kind = match &n.statement.kind {
                    StatementKind::AlterTable { .. } => "alter table".to_string(),
                    StatementKind::Update { .. } => "update".to_string(),
                    StatementKind::CreateIndex { .. } => "create index".to_string(),
                    StatementKind::Dynamic { reason } => format!("dynamic: {reason}"),
                    StatementKind::Select => "select".to_string(),
                    other => format!("{other:?}"),
                };
                (n.statement.start.line, kind, n.statement.text.clone())
            })
            .collect()
    }

    #[test]
    fn do_blocks_yield_their_sql_with_file_lines() {
        let sql = "SET lock_timeout = '2s';\n\
                   DO $$\n\
                   DECLARE\n  n int := 0;\n\
                   BEGIN\n\
                   \x20 IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attname = 'slug') THEN\n\
                   \x20   ALTER TABLE crates ADD COLUMN slug text;\n\
                   \x20 END IF;\n\
                   \x20 n := n + 1;\n\
                   \x20 RAISE NOTICE 'done %', n;\n\
                   \x20 UPDATE crates SET slug = lower(name);\n\
                   \x20 EXECUTE format('CREATE INDEX %I ON crates (slug)', 'crates_slug_idx');\n\
                   END $$;";
        let found = kinds(sql, 1);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].0, 7);
        assert_eq!(found[0].1, "alter table");
        assert_eq!(found[0].2, "ALTER TABLE crates ADD COLUMN slug text");
        assert_eq!(found[1].0, 11);
        assert_eq!(found[1].1, "update");
        assert_eq!(found[2].0, 12);
        assert!(
            found[2].1.starts_with("dynamic: `EXECUTE format("),
            "{}",
            found[2].1
        );
        let (file, statements) = parsed(sql);
        let n = nested(&file, &statements, &Routines::default(), 1);
        assert_eq!(n[0].context, "inside the DO block on line 2");
        assert_eq!(n[0].statement.start.column, 5);
        assert_eq!(
            file.text.get(n[0].statement.range.clone()),
            Some("ALTER TABLE crates ADD COLUMN slug text")
        );
        assert!(n[0].statement.in_transaction);
        assert_ne!(n[0].statement.parsed_by, ParsedBy::None);
    }

    #[test]
    fn constant_execute_is_reviewed_and_other_languages_are_not() {
        let found = kinds(
            "DO $$ BEGIN EXECUTE 'CREATE INDEX orders_status_idx ON orders (status)'; END $$;",
            0,
        );
        assert_eq!(found[0].1, "create index");
        let found = kinds("DO LANGUAGE plperl $$ print 1 $$;", 0);
        assert!(found[0].1.contains("LANGUAGE plperl"), "{found:?}");
    }

    #[test]
    fn functions_created_then_called_run_their_body() {
        let sql = "CREATE FUNCTION backfill_slugs() RETURNS void LANGUAGE plpgsql AS $fn$\n\
                   BEGIN\n\
                   \x20 UPDATE crates SET slug = lower(name) WHERE slug IS NULL;\n\
                   END\n\
                   $fn$;\n\
                   SELECT backfill_slugs();\n\
                   DROP FUNCTION backfill_slugs();";
        let found = kinds(sql, 1);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 3);
        assert_eq!(found[0].1, "update");
        let (file, statements) = parsed(sql);
        assert!(nested(&file, &statements, &Routines::of(&statements), 1)[0]
            .context
            .contains("function backfill_slugs() (created on line 1), called on line 6"));
        // Not called: its body does not run in the migration.
        assert!(kinds(sql, 0).is_empty());
        assert!(kinds(sql, 2).is_empty());
        // A procedure through CALL, with a SQL body.
        let sql = "CREATE PROCEDURE add_flag() LANGUAGE sql AS $$ ALTER TABLE users ADD COLUMN flag bool; $$;\n\
                   CALL add_flag();";
        let found = kinds(sql, 1);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "alter table");
    }
}
