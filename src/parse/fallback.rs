//! The keyword fallback: classifies statements sqlparser rejects (`DROP INDEX CONCURRENTLY`,
//! `REINDEX`, `ALTER SEQUENCE`, `DO`, `CLUSTER`, `VACUUM (FULL)`, multi-action `ALTER TABLE`
//! with one unsupported action, ...) from their tokens, well enough for the rules: the kind,
//! the target names, and the flags that decide safety (CONCURRENTLY, IF [NOT] EXISTS,
//! NOT VALID, the ALTER TABLE actions it can recognise).
//!
//! It reads PostgreSQL's grammar loosely on purpose: anything it cannot place inside a
//! recognised statement becomes `Other`, never an error.

use super::convert::set_config;
use super::tokens::{functions_in, tokenize, Tok, Token};
use crate::model::{
    AlterAction, ColumnDef, Constraint, ConstraintKind, Expr, ForeignKeyRef, IndexKey,
    QualifiedName, ReindexTarget, StatementKind,
};

/// Classifies a statement from its keywords; `None` when it is not recognised.
pub(crate) fn classify(text: &str) -> Option<StatementKind> {
    let toks = tokenize(text);
    let mut c = Cursor {
        text,
        toks: &toks,
        k: 0,
    };
    if c.peek_is("with") {
        c.skip_with_clause();
    }
    let first = c.next_word()?;
    match first.as_str() {
        "create" => create(&mut c),
        "drop" => drop(&mut c),
        "alter" => alter(&mut c),
        "reindex" => reindex(&mut c),
        "vacuum" => Some(vacuum(&mut c)),
        "cluster" => Some(cluster(&mut c)),
        "refresh" => refresh(&mut c),
        "lock" => Some(lock(&mut c)),
        "do" => Some(StatementKind::Do),
        "truncate" => {
            c.eat("table");
            c.eat("only");
            Some(StatementKind::Truncate {
                tables: c.name_list(),
            })
        }
        "update" => {
            c.eat("only");
            let table = c.name()?;
            Some(StatementKind::Update {
                table,
                has_where: c.rest_has_top_level("where"),
            })
        }
        "delete" => {
            c.eat("from");
            c.eat("only");
            let table = c.name()?;
            Some(StatementKind::Delete {
                table,
                has_where: c.rest_has_top_level("where"),
            })
        }
        "insert" => {
            c.eat("into");
            let table = c.name()?;
            Some(StatementKind::Insert {
                table,
                from_select: c.rest_has_top_level("select") && !c.rest_has_top_level("values"),
            })
        }
        "select" | "values" | "table" => Some(set_config(text).unwrap_or(StatementKind::Select)),
        "begin" | "start" => Some(StatementKind::Begin),
        "commit" | "end" => Some(StatementKind::Commit),
        "rollback" | "abort" => Some(if c.rest_has_top_level("to") {
            StatementKind::Other {
                keywords: "rollback to savepoint".to_string(),
            }
        } else {
            StatementKind::Rollback
        }),
        "set" => set(&mut c),
        "comment" | "grant" | "revoke" | "analyze" | "analyse" | "reset" | "savepoint"
        | "release" | "notify" | "listen" | "unlisten" | "discard" | "security" | "copy"
        | "call" | "checkpoint" | "load" | "prepare" | "execute" | "deallocate" | "explain"
        | "show" | "import" | "reassign" | "declare" | "fetch" | "close" | "move" => {
            Some(other(text))
        }
        _ => None,
    }
}

/// A statement sqlparser accepted but whose conversion loses something the rules need: the
/// fallback's better reading, if any. Only checked for the kinds where a lost
/// `CONCURRENTLY` or an unrecognised statement would change the verdict.
pub(crate) fn refine(text: &str, kind: &StatementKind) -> Option<StatementKind> {
    match kind {
        StatementKind::Other { .. } => {
            classify(text).filter(|k| !matches!(k, StatementKind::Other { .. }))
        }
        StatementKind::CreateIndex { concurrently, .. }
        | StatementKind::DropIndex { concurrently, .. }
        | StatementKind::RefreshMaterializedView { concurrently, .. } => {
            let ours = classify(text)?;
            let theirs = match &ours {
                StatementKind::CreateIndex { concurrently, .. }
                | StatementKind::DropIndex { concurrently, .. }
                | StatementKind::RefreshMaterializedView { concurrently, .. } => *concurrently,
                _ => return None,
            };
            (theirs != *concurrently).then_some(ours)
        }
        _ => None,
    }
}

/// Words that may sit between `CREATE`/`DROP` and the object type.
const MODIFIERS: [&str; 10] = [
    "or",
    "replace",
    "temp",
    "temporary",
    "unlogged",
    "global",
    "local",
    "trusted",
    "procedural",
    "constraint",
];

/// Object types named by two words (`create materialized view`).
const TWO_WORD_OBJECTS: [&str; 8] = [
    "materialized",
    "foreign",
    "event",
    "text",
    "access",
    "user",
    "operator",
    "default",
];

/// Lower-cased leading keywords naming what a statement does: `create function`, `grant`,
/// `comment on`, `create materialized view`.
pub(crate) fn leading_keywords(text: &str) -> String {
    let toks: Vec<Token> = tokenize(text);
    let words: Vec<String> = toks
        .iter()
        .take_while(|t| t.tok == Tok::Word)
        .map(|t| t.text.to_lowercase())
        .collect();
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut out = vec![first.as_str()];
    if matches!(
        first.as_str(),
        "create" | "alter" | "drop" | "comment" | "security" | "rollback"
    ) {
        let mut rest = words[1..].iter().map(String::as_str);
        let mut next = rest.next();
        while next.is_some_and(|w| first == "create" && MODIFIERS.contains(&w)) {
            next = rest.next();
        }
        if let Some(w) = next {
            out.push(w);
            if TWO_WORD_OBJECTS.contains(&w) {
                out.extend(rest.next());
            }
        }
    }
    out.join(" ")
}

fn other(text: &str) -> StatementKind {
    StatementKind::Other {
        keywords: leading_keywords(text),
    }
}

/// Walks the tokens of one statement (or one clause of it).
struct Cursor<'t, 'a> {
    text: &'a str,
    toks: &'t [Token<'a>],
    k: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    fn peek(&self) -> Option<&'t Token<'a>> {
        self.toks.get(self.k)
    }

    fn peek_is(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is(kw))
    }

    fn peek_at_is(&self, offset: usize, kw: &str) -> bool {
        self.toks.get(self.k + offset).is_some_and(|t| t.is(kw))
    }

    fn peek_punct(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is_punct(p))
    }

    fn at_end(&self) -> bool {
        self.k >= self.toks.len()
    }

    fn bump(&mut self) -> Option<&'t Token<'a>> {
        let t = self.toks.get(self.k)?;
        self.k += 1;
        Some(t)
    }

    fn eat(&mut self, kw: &str) -> bool {
        if self.peek_is(kw) {
            self.k += 1;
            true
        } else {
            false
        }
    }

    fn eat_all(&mut self, kws: &[&str]) -> bool {
        let matches = kws.iter().enumerate().all(|(i, kw)| self.peek_at_is(i, kw));
        if matches {
            self.k += kws.len();
        }
        matches
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.peek_punct(p) {
            self.k += 1;
            true
        } else {
            false
        }
    }

    fn next_word(&mut self) -> Option<String> {
        let t = self.peek()?;
        if t.tok != Tok::Word {
            return None;
        }
        self.k += 1;
        Some(t.text.to_lowercase())
    }

    /// `IF EXISTS`
    fn if_exists(&mut self) -> bool {
        self.eat_all(&["if", "exists"])
    }

    /// `IF NOT EXISTS`
    fn if_not_exists(&mut self) -> bool {
        self.eat_all(&["if", "not", "exists"])
    }

    /// One identifier (quoted or not), normalised.
    fn ident(&mut self) -> Option<String> {
        let t = self.peek()?;
        if !t.is_name() {
            return None;
        }
        self.k += 1;
        Some(t.ident())
    }

    /// A possibly schema-qualified name; a third part (database) is dropped.
    fn name(&mut self) -> Option<QualifiedName> {
        let mut parts = vec![self.ident()?];
        while self.peek_punct(".") && self.toks.get(self.k + 1).is_some_and(|t| t.is_name()) {
            self.k += 1;
            parts.extend(self.ident());
        }
        let name = parts.pop().unwrap_or_default();
        Some(QualifiedName {
            schema: parts.pop(),
            name,
        })
    }

    /// `a, s.b, c` (an `ONLY` or trailing `*` is skipped).
    fn name_list(&mut self) -> Vec<QualifiedName> {
        let mut out = Vec::new();
        loop {
            self.eat("only");
            let Some(n) = self.name() else { break };
            out.push(n);
            self.eat_punct("*");
            if !self.eat_punct(",") {
                break;
            }
        }
        out
    }

    /// Skips a balanced `( ... )` if one starts here; returns the inside's token range.
    fn skip_parens(&mut self) -> Option<std::ops::Range<usize>> {
        if !self.peek_punct("(") {
            return None;
        }
        let start = self.k + 1;
        let mut depth = 0usize;
        while let Some(t) = self.bump() {
            if t.is_punct("(") || t.is_punct("[") {
                depth += 1;
            } else if t.is_punct(")") || t.is_punct("]") {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(start..self.k - 1);
                }
            }
        }
        Some(start..self.k)
    }

    /// Source text of tokens `range` (from the first token's start to the last's end).
    fn source(&self, range: std::ops::Range<usize>) -> &'a str {
        let (Some(first), Some(last)) = (
            self.toks.get(range.start),
            range.end.checked_sub(1).and_then(|e| self.toks.get(e)),
        ) else {
            return "";
        };
        if range.start >= range.end {
            return "";
        }
        self.text
            .get(first.at..last.at + last.text.len())
            .unwrap_or("")
    }

    /// Whether keyword `kw` appears in the remaining tokens outside parentheses.
    fn rest_has_top_level(&self, kw: &str) -> bool {
        let mut depth = 0usize;
        for t in &self.toks[self.k.min(self.toks.len())..] {
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is(kw) {
                return true;
            }
        }
        false
    }

    /// `WITH [RECURSIVE] a AS [NOT] [MATERIALIZED] (...) [, ...]` before a DML statement.
    fn skip_with_clause(&mut self) {
        self.eat("with");
        self.eat("recursive");
        loop {
            self.ident();
            self.skip_parens();
            self.eat("as");
            self.eat("not");
            self.eat("materialized");
            self.skip_parens();
            if !self.eat_punct(",") {
                break;
            }
        }
    }

    /// Splits the remaining tokens at top-level commas into token ranges.
    fn split_commas(&self) -> Vec<std::ops::Range<usize>> {
        split_commas(self.toks, self.k, self.toks.len())
    }

    /// A sub-cursor over a token range of the same statement.
    fn sub(&self, range: std::ops::Range<usize>) -> Cursor<'t, 'a> {
        let end = range.end.min(self.toks.len());
        let start = range.start.min(end);
        Cursor {
            text: self.text,
            toks: &self.toks[start..end],
            k: 0,
        }
    }

    /// Lower-cased leading words from here (`enable trigger`).
    fn words(&self, max: usize) -> String {
        self.toks[self.k.min(self.toks.len())..]
            .iter()
            .take_while(|t| t.tok == Tok::Word)
            .take(max)
            .map(|t| t.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Source text of the remaining tokens.
    fn rest_source(&self) -> &'a str {
        self.source(self.k..self.toks.len())
    }
}

fn split_commas(toks: &[Token], from: usize, to: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = from;
    for (i, t) in toks.iter().enumerate().take(to).skip(from) {
        if t.is_punct("(") || t.is_punct("[") {
            depth += 1;
        } else if t.is_punct(")") || t.is_punct("]") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(",") {
            out.push(start..i);
            start = i + 1;
        }
    }
    if start < to {
        out.push(start..to);
    }
    out
}

fn expr_of(text: &str) -> Expr {
    Expr {
        functions: functions_in(text),
        text: text.to_string(),
    }
}

/// A type as written, lower-cased, spaced the way sqlparser prints types
/// (`numeric(10,2)`, `int[]`, `timestamp with time zone`).
fn normalise_type(text: &str) -> String {
    let collapsed = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let mut out = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' '
            && chars
                .peek()
                .is_some_and(|n| matches!(n, '(' | ')' | ',' | '[' | ']'))
        {
            continue;
        }
        out.push(c);
        if matches!(c, '(' | ',' | '[') {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
        }
    }
    out
}

fn create(c: &mut Cursor) -> Option<StatementKind> {
    let start = c.k;
    let mut temporary = false;
    let mut unique = false;
    loop {
        if c.eat("or") {
            c.eat("replace");
        } else if c.eat("temp") || c.eat("temporary") {
            temporary = true;
        } else if c.eat("unique") {
            unique = true;
        } else if !(c.eat("global") || c.eat("local") || c.eat("unlogged")) {
            break;
        }
    }
    if c.eat("index") {
        return create_index(c, unique);
    }
    if c.eat("table") {
        return create_table(c, temporary);
    }
    if c.eat("schema") {
        c.if_not_exists();
        let name = if c.eat("authorization") {
            c.ident()
        } else {
            c.name().map(|n| n.name)
        };
        return Some(StatementKind::CreateSchema {
            name: name.unwrap_or_default(),
        });
    }
    if c.eat("view") || c.eat("recursive") {
        c.eat("view");
        return view(c, false);
    }
    if c.eat_all(&["materialized", "view"]) {
        return view(c, true);
    }
    c.k = start;
    Some(other(c.text))
}

fn view(c: &mut Cursor, materialized: bool) -> Option<StatementKind> {
    c.if_not_exists();
    Some(StatementKind::CreateView {
        name: c.name()?,
        materialized,
    })
}

fn create_index(c: &mut Cursor, unique: bool) -> Option<StatementKind> {
    let concurrently = c.eat("concurrently");
    let if_not_exists = c.if_not_exists();
    let name = if c.peek_is("on") {
        None
    } else {
        Some(c.name()?)
    };
    if !c.eat("on") {
        return None;
    }
    c.eat("only");
    let table = c.name()?;
    let method = if c.eat("using") { c.next_word() } else { None };
    let keys_range = c.skip_parens()?;
    let keys = split_commas(c.toks, keys_range.start, keys_range.end)
        .into_iter()
        .map(|r| index_key(c, r))
        .collect();
    let mut predicate = None;
    while let Some(t) = c.bump() {
        if t.is("where") {
            let p = c.rest_source();
            predicate = (!p.is_empty()).then(|| p.to_string());
            break;
        }
        if t.is_punct("(") {
            c.k -= 1;
            c.skip_parens();
        }
    }
    Some(StatementKind::CreateIndex {
        name,
        table,
        keys,
        unique,
        concurrently,
        if_not_exists,
        predicate,
        method,
    })
}

/// A plain column key (`c`, `c DESC NULLS LAST`, `c gin_trgm_ops`, `c COLLATE "C"`), or an
/// expression (`lower(email)`, `(a + b)`).
fn index_key(c: &Cursor, range: std::ops::Range<usize>) -> IndexKey {
    let toks = &c.toks[range.start.min(c.toks.len())..range.end.min(c.toks.len())];
    match toks {
        [col, rest @ ..]
            if col.is_name() && rest.iter().all(|t| t.is_name() || t.is_punct(".")) =>
        {
            IndexKey::Column(col.ident())
        }
        _ => IndexKey::Expression(c.source(range).to_string()),
    }
}

fn create_table(c: &mut Cursor, temporary: bool) -> Option<StatementKind> {
    let if_not_exists = c.if_not_exists();
    let name = c.name()?;
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut partition_of = None;
    if c.eat_all(&["partition", "of"]) {
        partition_of = c.name();
    }
    if let Some(body) = c.skip_parens() {
        for r in split_commas(c.toks, body.start, body.end) {
            let mut item = c.sub(r);
            if item.peek_is("like") {
                continue;
            }
            if let Some(con) = constraint(&mut item) {
                constraints.push(con);
            } else if let Some(col) = column_def(&mut item) {
                columns.push(col);
            }
        }
    }
    let as_select = c.rest_has_top_level("as");
    Some(StatementKind::CreateTable {
        name,
        columns,
        constraints,
        if_not_exists,
        temporary,
        partition_of,
        as_select,
    })
}

/// Words that end a column's type and start its constraints.
const COLUMN_CONSTRAINT_START: [&str; 13] = [
    "not",
    "null",
    "default",
    "constraint",
    "primary",
    "unique",
    "references",
    "check",
    "generated",
    "collate",
    "compression",
    "storage",
    "deferrable",
];

/// `name type [constraints]`, as in CREATE TABLE and ADD COLUMN.
fn column_def(c: &mut Cursor) -> Option<ColumnDef> {
    let name = c.ident()?;
    let type_start = c.k;
    let mut depth = 0usize;
    while let Some(t) = c.peek() {
        if t.is_punct("(") || t.is_punct("[") {
            depth += 1;
        } else if t.is_punct(")") || t.is_punct("]") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && COLUMN_CONSTRAINT_START.iter().any(|w| t.is(w)) {
            break;
        }
        c.k += 1;
    }
    let mut col = ColumnDef {
        name,
        data_type: normalise_type(c.source(type_start..c.k)),
        ..ColumnDef::default()
    };
    while let Some(t) = c.bump() {
        if t.is("not") && c.eat("null") {
            col.not_null = true;
        } else if t.is("null") {
            col.not_null = false;
        } else if t.is("default") {
            let start = c.k;
            skip_until_constraint(c);
            col.default = Some(expr_of(c.source(start..c.k)));
        } else if t.is("primary") {
            c.eat("key");
            col.primary_key = true;
            col.not_null = true;
        } else if t.is("unique") {
            col.unique = true;
        } else if t.is("references") {
            let table = c.name()?;
            let columns = c
                .skip_parens()
                .map(|r| ident_list(c, r))
                .unwrap_or_default();
            col.references = Some(ForeignKeyRef { table, columns });
        } else if t.is("check") {
            if let Some(r) = c.skip_parens() {
                col.check = Some(expr_of(c.source(r)));
            }
        } else if t.is("generated") {
            // GENERATED {ALWAYS | BY DEFAULT} AS {IDENTITY [(...)] | (expr) [STORED | VIRTUAL]}
            if !c.eat("always") {
                c.eat_all(&["by", "default"]);
            }
            c.eat("as");
            if c.eat("identity") {
                col.identity = true;
                c.skip_parens();
            } else {
                c.skip_parens();
                // Without STORED, PostgreSQL 18 makes a virtual column: no rewrite.
                col.generated_stored = c.eat("stored");
            }
        } else if t.is_punct("(") {
            c.k -= 1;
            c.skip_parens();
        }
    }
    Some(col)
}

/// Moves to the next column-constraint keyword at this nesting level.
fn skip_until_constraint(c: &mut Cursor) {
    let mut depth = 0usize;
    while let Some(t) = c.peek() {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0
            && COLUMN_CONSTRAINT_START
                .iter()
                .filter(|w| !matches!(**w, "null" | "collate"))
                .any(|w| t.is(w))
        {
            // `DEFAULT x IS NOT NULL` is rare enough; `NOT NULL` after a default is common.
            if !t.is("not") || c.peek_at_is(1, "null") {
                break;
            }
        }
        c.k += 1;
    }
}

fn ident_list(c: &Cursor, range: std::ops::Range<usize>) -> Vec<String> {
    split_commas(c.toks, range.start, range.end)
        .into_iter()
        .filter_map(|r| {
            c.toks
                .get(r.start)
                .filter(|t| t.is_name())
                .map(|t| t.ident())
        })
        .collect()
}

/// A table constraint (`[CONSTRAINT n] PRIMARY KEY ...`), or `None` (cursor unchanged) if
/// the clause is not one.
fn constraint(c: &mut Cursor) -> Option<Constraint> {
    let start = c.k;
    let name = if c.eat("constraint") { c.ident() } else { None };
    let mut using_index = None;
    let mut columns = Vec::new();
    let kind = if c.eat_all(&["primary", "key"]) || c.eat("unique") {
        let primary = c
            .toks
            .get(c.k.saturating_sub(1))
            .is_some_and(|t| t.is("key"));
        if c.eat("nulls") {
            c.eat("not");
            c.eat("distinct");
        }
        if c.peek_is("using") && c.peek_at_is(1, "index") && !c.peek_at_is(2, "tablespace") {
            c.k += 2;
            using_index = c.ident();
        } else if let Some(r) = c.skip_parens() {
            columns = ident_list(c, r);
        }
        if primary {
            ConstraintKind::PrimaryKey
        } else {
            ConstraintKind::Unique
        }
    } else if c.eat_all(&["foreign", "key"]) {
        if let Some(r) = c.skip_parens() {
            columns = ident_list(c, r);
        }
        if !c.eat("references") {
            c.k = start;
            return None;
        }
        let table = c.name()?;
        let ref_cols = c
            .skip_parens()
            .map(|r| ident_list(c, r))
            .unwrap_or_default();
        ConstraintKind::ForeignKey(ForeignKeyRef {
            table,
            columns: ref_cols,
        })
    } else if c.eat("check") {
        let r = c.skip_parens()?;
        ConstraintKind::Check(expr_of(c.source(r)))
    } else if c.eat("exclude") {
        if c.eat("using") {
            c.next_word();
        }
        if let Some(r) = c.skip_parens() {
            columns = ident_list(c, r);
        }
        ConstraintKind::Exclusion
    } else {
        c.k = start;
        return None;
    };
    let mut not_valid = false;
    while let Some(t) = c.bump() {
        if t.is("not") && c.peek_is("valid") {
            not_valid = true;
        }
    }
    Some(Constraint {
        name,
        kind,
        columns,
        using_index,
        not_valid,
    })
}

fn drop(c: &mut Cursor) -> Option<StatementKind> {
    let start = c.k;
    if c.eat("index") {
        let concurrently = c.eat("concurrently");
        let if_exists = c.if_exists();
        return Some(StatementKind::DropIndex {
            names: c.name_list(),
            concurrently,
            if_exists,
        });
    }
    if c.eat("table") {
        let if_exists = c.if_exists();
        let names = c.name_list();
        return Some(StatementKind::DropTable {
            names,
            if_exists,
            cascade: c.eat("cascade"),
        });
    }
    if c.eat("schema") {
        let if_exists = c.if_exists();
        let names = c.name_list().into_iter().map(|n| n.name).collect();
        return Some(StatementKind::DropSchema {
            names,
            if_exists,
            cascade: c.eat("cascade"),
        });
    }
    if c.eat("database") {
        c.if_exists();
        return Some(StatementKind::DropDatabase {
            name: c.ident().unwrap_or_default(),
        });
    }
    c.k = start;
    Some(other(c.text))
}

fn alter(c: &mut Cursor) -> Option<StatementKind> {
    let start = c.k;
    if c.eat("table") {
        if c.peek_is("all") {
            c.k = start;
            return Some(other(c.text));
        }
        let if_exists = c.if_exists();
        c.eat("only");
        let name = c.name()?;
        c.eat_punct("*");
        let actions = c
            .split_commas()
            .into_iter()
            .map(|r| alter_action(&mut c.sub(r)))
            .collect();
        return Some(StatementKind::AlterTable {
            name,
            if_exists,
            actions,
        });
    }
    if c.eat("index") {
        if c.peek_is("all") {
            c.k = start;
            return Some(other(c.text));
        }
        c.if_exists();
        let name = c.name()?;
        return Some(StatementKind::AlterIndex {
            name,
            action: c.words(2),
        });
    }
    if c.eat("sequence") {
        c.if_exists();
        return Some(StatementKind::AlterSequence { name: c.name()? });
    }
    if c.eat("type") {
        let name = c.name()?;
        let action = if c.eat_all(&["add", "value"]) {
            "add value".to_string()
        } else if c.eat_all(&["rename", "value"]) {
            "rename value".to_string()
        } else {
            c.words(2)
        };
        return Some(StatementKind::AlterType { name, action });
    }
    c.k = start;
    Some(other(c.text))
}

/// One comma-separated action of `ALTER TABLE`.
fn alter_action(c: &mut Cursor) -> AlterAction {
    let fallback = AlterAction::Other(c.words(2));
    alter_action_inner(c).unwrap_or(fallback)
}

fn alter_action_inner(c: &mut Cursor) -> Option<AlterAction> {
    if c.eat("add") {
        if let Some(con) = constraint(c) {
            return Some(AlterAction::AddConstraint(con));
        }
        c.eat("column");
        let if_not_exists = c.if_not_exists();
        return Some(AlterAction::AddColumn {
            column: column_def(c)?,
            if_not_exists,
        });
    }
    if c.eat("drop") {
        if c.eat("constraint") {
            let if_exists = c.if_exists();
            return Some(AlterAction::DropConstraint {
                name: c.ident()?,
                if_exists,
            });
        }
        c.eat("column");
        let if_exists = c.if_exists();
        return Some(AlterAction::DropColumn {
            name: c.ident()?,
            if_exists,
        });
    }
    if c.eat("alter") {
        if c.peek_is("constraint") {
            return None;
        }
        c.eat("column");
        let column = c.ident()?;
        if c.eat_all(&["set", "data", "type"]) || c.eat("type") {
            let start = c.k;
            while !c.at_end() && !c.peek_is("using") && !c.peek_is("collate") {
                c.bump();
            }
            let data_type = normalise_type(c.source(start..c.k));
            if c.eat("collate") {
                c.bump();
            }
            let using = c.eat("using").then(|| expr_of(c.rest_source()));
            return Some(AlterAction::AlterColumnType {
                column,
                data_type,
                using,
            });
        }
        if c.eat_all(&["set", "not", "null"]) {
            return Some(AlterAction::SetNotNull { column });
        }
        if c.eat_all(&["drop", "not", "null"]) {
            return Some(AlterAction::DropNotNull { column });
        }
        if c.eat_all(&["set", "default"]) {
            return Some(AlterAction::SetDefault {
                column,
                default: expr_of(c.rest_source()),
            });
        }
        if c.eat_all(&["drop", "default"]) {
            return Some(AlterAction::DropDefault { column });
        }
        if c.eat_all(&["add", "generated"]) {
            return Some(AlterAction::AddIdentity { column });
        }
        return Some(AlterAction::Other(format!("alter column {}", c.words(2))));
    }
    if c.eat_all(&["validate", "constraint"]) {
        return Some(AlterAction::ValidateConstraint { name: c.ident()? });
    }
    if c.eat("rename") {
        if c.eat("to") {
            return Some(AlterAction::RenameTable {
                new: c.name()?.name,
            });
        }
        if c.eat("constraint") {
            let old = c.ident()?;
            c.eat("to");
            return Some(AlterAction::RenameConstraint {
                old,
                new: c.ident()?,
            });
        }
        c.eat("column");
        let old = c.ident()?;
        c.eat("to");
        return Some(AlterAction::RenameColumn {
            old,
            new: c.ident()?,
        });
    }
    if c.eat_all(&["attach", "partition"]) {
        return Some(AlterAction::AttachPartition {
            partition: c.name()?,
        });
    }
    if c.eat_all(&["detach", "partition"]) {
        let partition = c.name()?;
        let concurrently = c.eat("concurrently");
        return Some(AlterAction::DetachPartition {
            partition,
            concurrently,
            finalize: !concurrently && c.eat("finalize"),
        });
    }
    if c.peek_is("set") {
        let what = if c.peek_at_is(1, "logged") {
            "logged"
        } else if c.peek_at_is(1, "unlogged") {
            "unlogged"
        } else if c.peek_at_is(1, "tablespace") {
            "tablespace"
        } else if c.peek_at_is(1, "access") && c.peek_at_is(2, "method") {
            "access method"
        } else if c.toks.get(c.k + 1).is_some_and(|t| t.is_punct("(")) {
            return Some(AlterAction::Other("set storage parameters".to_string()));
        } else {
            return None;
        };
        return Some(AlterAction::SetStorage {
            what: what.to_string(),
        });
    }
    None
}

fn reindex(c: &mut Cursor) -> Option<StatementKind> {
    let mut concurrently = false;
    if let Some(r) = c.skip_parens() {
        // `REINDEX (CONCURRENTLY [true], VERBOSE) TABLE t`
        for opt in split_commas(c.toks, r.start, r.end) {
            let mut o = c.sub(opt);
            if o.eat("concurrently") {
                concurrently =
                    !(o.eat("false") || o.eat("off") || o.peek().is_some_and(|t| t.text == "0"));
            }
        }
    }
    let target = match c.next_word()?.as_str() {
        "index" => ReindexTarget::Index,
        "table" => ReindexTarget::Table,
        "schema" => ReindexTarget::Schema,
        "database" => ReindexTarget::Database,
        "system" => ReindexTarget::System,
        _ => return None,
    };
    concurrently |= c.eat("concurrently");
    Some(StatementKind::Reindex {
        target,
        name: c.name(),
        concurrently,
    })
}

fn vacuum(c: &mut Cursor) -> StatementKind {
    let mut full = false;
    if let Some(r) = c.skip_parens() {
        for opt in split_commas(c.toks, r.start, r.end) {
            let mut o = c.sub(opt);
            if o.eat("full") {
                full = !(o.eat("false") || o.eat("off") || o.peek().is_some_and(|t| t.text == "0"));
            }
        }
    }
    loop {
        if c.eat("full") {
            full = true;
        } else if !(c.eat("freeze") || c.eat("verbose") || c.eat("analyze") || c.eat("analyse")) {
            break;
        }
    }
    let mut tables = Vec::new();
    for r in c.split_commas() {
        let mut t = c.sub(r);
        tables.extend(t.name());
    }
    StatementKind::Vacuum { full, tables }
}

fn cluster(c: &mut Cursor) -> StatementKind {
    c.skip_parens();
    c.eat("verbose");
    StatementKind::Cluster { table: c.name() }
}

fn refresh(c: &mut Cursor) -> Option<StatementKind> {
    if !c.eat_all(&["materialized", "view"]) {
        return Some(other(c.text));
    }
    let concurrently = c.eat("concurrently");
    Some(StatementKind::RefreshMaterializedView {
        name: c.name()?,
        concurrently,
    })
}

fn lock(c: &mut Cursor) -> StatementKind {
    c.eat("table");
    let tables = c.name_list();
    let mut mode = "ACCESS EXCLUSIVE".to_string();
    if c.eat("in") {
        let mut words = Vec::new();
        while let Some(t) = c.peek() {
            if t.is("mode") || t.tok != Tok::Word {
                break;
            }
            words.push(t.text.to_uppercase());
            c.k += 1;
        }
        if !words.is_empty() {
            mode = words.join(" ");
        }
    }
    StatementKind::LockTable { tables, mode }
}

fn set(c: &mut Cursor) -> Option<StatementKind> {
    let local = c.eat("local");
    c.eat("session");
    let name = c.name()?;
    let name = match name.schema {
        Some(s) => format!("{s}.{}", name.name),
        None => name.name,
    };
    if !(c.eat("to") || c.eat_punct("=")) {
        return Some(other(c.text));
    }
    let value = split_commas(c.toks, c.k, c.toks.len())
        .into_iter()
        .map(|r| {
            let v = c.source(r);
            v.strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .map(|s| s.replace("''", "'"))
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(StatementKind::Set { name, value, local })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlterAction as A, StatementKind as K};
    use crate::parse::convert;

    fn q(name: &str) -> QualifiedName {
        match name.split_once('.') {
            Some((s, n)) => QualifiedName::new(Some(s), n),
            None => QualifiedName::new(None, name),
        }
    }

    /// The statement must be one sqlparser rejects, so the fallback is what reads it.
    fn fallback(sql: &str) -> K {
        assert!(convert::parse(sql).is_err(), "sqlparser now accepts {sql}");
        classify(sql).unwrap_or_else(|| panic!("fallback did not recognise {sql}"))
    }

    fn actions(sql: &str) -> Vec<A> {
        match fallback(sql) {
            K::AlterTable { actions, .. } => actions,
            other => panic!("not an ALTER TABLE: {other:?}"),
        }
    }

    #[test]
    fn drop_index_concurrently() {
        assert_eq!(
            fallback("DROP INDEX CONCURRENTLY IF EXISTS s.idx_a, idx_b CASCADE"),
            K::DropIndex {
                names: vec![q("s.idx_a"), q("idx_b")],
                concurrently: true,
                if_exists: true
            }
        );
        assert_eq!(
            fallback("drop index concurrently \"Idx\""),
            K::DropIndex {
                names: vec![q("Idx")],
                concurrently: true,
                if_exists: false
            }
        );
    }

    #[test]
    fn reindex() {
        assert_eq!(
            fallback("REINDEX INDEX CONCURRENTLY idx"),
            K::Reindex {
                target: ReindexTarget::Index,
                name: Some(q("idx")),
                concurrently: true
            }
        );
        assert_eq!(
            fallback("REINDEX TABLE s.t"),
            K::Reindex {
                target: ReindexTarget::Table,
                name: Some(q("s.t")),
                concurrently: false
            }
        );
        assert_eq!(
            fallback("REINDEX (VERBOSE, CONCURRENTLY) SCHEMA app"),
            K::Reindex {
                target: ReindexTarget::Schema,
                name: Some(q("app")),
                concurrently: true
            }
        );
        assert_eq!(
            fallback("REINDEX SYSTEM"),
            K::Reindex {
                target: ReindexTarget::System,
                name: None,
                concurrently: false
            }
        );
        assert_eq!(
            fallback("REINDEX DATABASE CONCURRENTLY db"),
            K::Reindex {
                target: ReindexTarget::Database,
                name: Some(q("db")),
                concurrently: true
            }
        );
    }

    #[test]
    fn sequences_do_blocks_and_routines() {
        assert_eq!(
            fallback("ALTER SEQUENCE s.seq RESTART WITH 5"),
            K::AlterSequence { name: q("s.seq") }
        );
        assert_eq!(
            fallback("ALTER SEQUENCE IF EXISTS seq AS bigint"),
            K::AlterSequence { name: q("seq") }
        );
        assert_eq!(fallback("DO $$ BEGIN RAISE NOTICE 'x'; END $$"), K::Do);
        assert_eq!(fallback("DO LANGUAGE plpgsql $do$ BEGIN END $do$"), K::Do);
        assert_eq!(
            fallback("CREATE STATISTICS s (dependencies) ON a, b FROM t"),
            K::Other {
                keywords: "create statistics".into()
            }
        );
        assert_eq!(
            fallback("CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN END $$"),
            K::Other {
                keywords: "create procedure".into()
            }
        );
        assert_eq!(
            // sqlparser 0.64 accepts triggers; the fallback still names them if it stops.
            classify("CREATE OR REPLACE TRIGGER tr AFTER UPDATE ON t REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION f()"),
            Some(K::Other { keywords: "create trigger".into() })
        );
    }

    #[test]
    fn alter_table_actions_sqlparser_rejects() {
        assert_eq!(
            actions("ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE"),
            vec![A::Other("alter constraint".into())]
        );
        assert_eq!(
            actions("ALTER TABLE t SET TABLESPACE fast"),
            vec![A::SetStorage {
                what: "tablespace".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t SET ACCESS METHOD heap2"),
            vec![A::SetStorage {
                what: "access method".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t SET SCHEMA s"),
            vec![A::Other("set schema".into())]
        );
        assert_eq!(
            actions("ALTER TABLE t ALTER COLUMN c TYPE varchar(10) COLLATE \"C\" USING c::text"),
            vec![A::AlterColumnType {
                column: "c".into(),
                data_type: "varchar(10)".into(),
                using: Some(Expr {
                    text: "c::text".into(),
                    functions: vec![]
                }),
            }]
        );
        // One unsupported action must not hide the dangerous one next to it.
        assert_eq!(
            actions(
                "ALTER TABLE ONLY s.t ADD COLUMN c int NOT NULL DEFAULT floor(random() * 10), \
                 ALTER COLUMN d SET STATISTICS 100, ALTER COLUMN e SET NOT NULL, \
                 ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES u (id) NOT VALID, \
                 ALTER f SET STORAGE EXTERNAL"
            ),
            vec![
                A::AddColumn {
                    column: ColumnDef {
                        name: "c".into(),
                        data_type: "int".into(),
                        not_null: true,
                        default: Some(Expr {
                            text: "floor(random() * 10)".into(),
                            functions: vec!["floor".into(), "random".into()],
                        }),
                        ..ColumnDef::default()
                    },
                    if_not_exists: false,
                },
                A::Other("alter column set statistics".into()),
                A::SetNotNull { column: "e".into() },
                A::AddConstraint(Constraint {
                    name: Some("fk".into()),
                    kind: ConstraintKind::ForeignKey(ForeignKeyRef {
                        table: q("u"),
                        columns: vec!["id".into()]
                    }),
                    columns: vec!["x".into()],
                    using_index: None,
                    not_valid: true,
                }),
                A::Other("alter column set storage".into()),
            ]
        );
    }

    #[test]
    fn alter_table_action_parser_covers_the_common_actions() {
        // These go through the fallback when a sibling action makes sqlparser give up.
        let tail = ", ALTER COLUMN zz SET STATISTICS 1";
        let cases: Vec<(&str, A)> = vec![
            (
                "ADD COLUMN IF NOT EXISTS c timestamp(3) with time zone DEFAULT now()",
                A::AddColumn {
                    column: ColumnDef {
                        name: "c".into(),
                        data_type: "timestamp(3) with time zone".into(),
                        default: Some(Expr {
                            text: "now()".into(),
                            functions: vec!["now".into()],
                        }),
                        ..ColumnDef::default()
                    },
                    if_not_exists: true,
                },
            ),
            (
                "ADD id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                A::AddColumn {
                    column: ColumnDef {
                        name: "id".into(),
                        data_type: "bigint".into(),
                        identity: true,
                        primary_key: true,
                        not_null: true,
                        ..ColumnDef::default()
                    },
                    if_not_exists: false,
                },
            ),
            (
                "ADD g numeric(10, 2) GENERATED ALWAYS AS (a * 2) STORED",
                A::AddColumn {
                    column: ColumnDef {
                        name: "g".into(),
                        data_type: "numeric(10,2)".into(),
                        generated_stored: true,
                        ..ColumnDef::default()
                    },
                    if_not_exists: false,
                },
            ),
            (
                "DROP COLUMN IF EXISTS c CASCADE",
                A::DropColumn {
                    name: "c".into(),
                    if_exists: true,
                },
            ),
            (
                "DROP c",
                A::DropColumn {
                    name: "c".into(),
                    if_exists: false,
                },
            ),
            (
                "ALTER c SET DATA TYPE bigint",
                A::AlterColumnType {
                    column: "c".into(),
                    data_type: "bigint".into(),
                    using: None,
                },
            ),
            (
                "ALTER COLUMN c DROP NOT NULL",
                A::DropNotNull { column: "c".into() },
            ),
            (
                "ALTER COLUMN c SET DEFAULT 0",
                A::SetDefault {
                    column: "c".into(),
                    default: Expr {
                        text: "0".into(),
                        functions: vec![],
                    },
                },
            ),
            (
                "ALTER COLUMN c DROP DEFAULT",
                A::DropDefault { column: "c".into() },
            ),
            (
                "ALTER COLUMN c ADD GENERATED ALWAYS AS IDENTITY",
                A::AddIdentity { column: "c".into() },
            ),
            (
                "ADD CONSTRAINT u UNIQUE USING INDEX u_idx",
                A::AddConstraint(Constraint {
                    name: Some("u".into()),
                    kind: ConstraintKind::Unique,
                    columns: vec![],
                    using_index: Some("u_idx".into()),
                    not_valid: false,
                }),
            ),
            (
                "ADD PRIMARY KEY (a, b)",
                A::AddConstraint(Constraint {
                    name: None,
                    kind: ConstraintKind::PrimaryKey,
                    columns: vec!["a".into(), "b".into()],
                    using_index: None,
                    not_valid: false,
                }),
            ),
            (
                "ADD CONSTRAINT c CHECK (c IS NOT NULL) NOT VALID",
                A::AddConstraint(Constraint {
                    name: Some("c".into()),
                    kind: ConstraintKind::Check(Expr {
                        text: "c IS NOT NULL".into(),
                        functions: vec![],
                    }),
                    columns: vec![],
                    using_index: None,
                    not_valid: true,
                }),
            ),
            (
                "ADD CONSTRAINT ex EXCLUDE USING gist (r WITH &&)",
                A::AddConstraint(Constraint {
                    name: Some("ex".into()),
                    kind: ConstraintKind::Exclusion,
                    columns: vec!["r".into()],
                    using_index: None,
                    not_valid: false,
                }),
            ),
            (
                "VALIDATE CONSTRAINT c",
                A::ValidateConstraint { name: "c".into() },
            ),
            (
                "DROP CONSTRAINT IF EXISTS c",
                A::DropConstraint {
                    name: "c".into(),
                    if_exists: true,
                },
            ),
            (
                "RENAME COLUMN a TO b",
                A::RenameColumn {
                    old: "a".into(),
                    new: "b".into(),
                },
            ),
            (
                "RENAME CONSTRAINT a TO b",
                A::RenameConstraint {
                    old: "a".into(),
                    new: "b".into(),
                },
            ),
            (
                "DETACH PARTITION p CONCURRENTLY",
                A::DetachPartition {
                    partition: q("p"),
                    concurrently: true,
                    finalize: false,
                },
            ),
            (
                "ATTACH PARTITION s.p DEFAULT",
                A::AttachPartition {
                    partition: q("s.p"),
                },
            ),
            (
                "SET UNLOGGED",
                A::SetStorage {
                    what: "unlogged".into(),
                },
            ),
            (
                "SET (fillfactor = 70)",
                A::Other("set storage parameters".into()),
            ),
            ("ENABLE TRIGGER ALL", A::Other("enable trigger".into())),
        ];
        for (action, expected) in cases {
            let sql = format!("ALTER TABLE t {action}{tail}");
            let got = actions(&sql);
            assert_eq!(got.first(), Some(&expected), "{sql}");
            assert_eq!(got.len(), 2, "{sql}");
        }
        assert_eq!(
            actions("ALTER TABLE t RENAME TO u, ALTER zz SET STATISTICS 1")[0],
            A::RenameTable { new: "u".into() }
        );
    }

    #[test]
    fn maintenance_statements() {
        assert_eq!(
            fallback("VACUUM (FULL, ANALYZE) t, s.u"),
            K::Vacuum {
                full: true,
                tables: vec![q("t"), q("s.u")]
            }
        );
        assert_eq!(
            fallback("VACUUM (FULL false, VERBOSE) t"),
            K::Vacuum {
                full: false,
                tables: vec![q("t")]
            }
        );
        assert_eq!(
            fallback("CLUSTER t USING idx"),
            K::Cluster {
                table: Some(q("t"))
            }
        );
        assert_eq!(fallback("CLUSTER VERBOSE"), K::Cluster { table: None });
        // Accepted by sqlparser, but the fallback reads them the same way.
        assert_eq!(
            classify("REFRESH MATERIALIZED VIEW CONCURRENTLY mv"),
            Some(K::RefreshMaterializedView {
                name: q("mv"),
                concurrently: true
            })
        );
        assert_eq!(
            classify("LOCK TABLE ONLY a, b IN SHARE UPDATE EXCLUSIVE MODE NOWAIT"),
            Some(K::LockTable {
                tables: vec![q("a"), q("b")],
                mode: "SHARE UPDATE EXCLUSIVE".into()
            })
        );
        assert_eq!(
            classify("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'x' AFTER 'y'"),
            Some(K::AlterType {
                name: q("mood"),
                action: "add value".into()
            })
        );
        assert_eq!(
            classify("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c)"),
            Some(K::CreateIndex {
                name: Some(q("i")),
                table: q("t"),
                keys: vec![IndexKey::Column("c".into())],
                unique: false,
                concurrently: true,
                if_not_exists: true,
                predicate: None,
                method: None,
            })
        );
    }

    #[test]
    fn other_statements_sqlparser_rejects() {
        assert_eq!(
            fallback("CREATE INDEX i ON ONLY parent USING btree (a DESC NULLS LAST, (b + 1)) WHERE a IS NOT NULL"),
            K::CreateIndex {
                name: Some(q("i")),
                table: q("parent"),
                keys: vec![IndexKey::Column("a".into()), IndexKey::Expression("(b + 1)".into())],
                unique: false,
                concurrently: false,
                if_not_exists: false,
                predicate: Some("a IS NOT NULL".into()),
                method: Some("btree".into()),
            }
        );
        assert_eq!(
            fallback("DROP DATABASE IF EXISTS old WITH (FORCE)"),
            K::DropDatabase { name: "old".into() }
        );
        assert_eq!(
            fallback("ALTER INDEX i SET TABLESPACE fast"),
            K::AlterIndex {
                name: q("i"),
                action: "set tablespace".into()
            }
        );
        assert_eq!(
            fallback("UPDATE t SET a = 1 WHERE CURRENT OF cur"),
            K::Update {
                table: q("t"),
                has_where: true
            }
        );
        let K::CreateTable { name, columns, .. } =
            fallback("CREATE TABLE t (LIKE u INCLUDING ALL, extra int NOT NULL)")
        else {
            panic!()
        };
        assert_eq!(name, q("t"));
        assert_eq!(columns.len(), 1);
        assert!(columns[0].not_null);
    }

    #[test]
    fn leading_keywords_name_the_statement() {
        for (sql, kw) in [
            ("CREATE OR REPLACE FUNCTION f()", "create function"),
            ("create unique index", "create unique"),
            ("CREATE MATERIALIZED VIEW v", "create materialized view"),
            ("CREATE EVENT TRIGGER e", "create event trigger"),
            ("GRANT ALL ON t TO u", "grant"),
            ("COMMENT ON COLUMN t.c IS 'x'", "comment on"),
            (
                "ALTER DEFAULT PRIVILEGES IN SCHEMA s",
                "alter default privileges",
            ),
            ("'not a statement'", ""),
        ] {
            assert_eq!(leading_keywords(sql), kw, "{sql}");
        }
    }

    #[test]
    fn unknown_statements_are_not_guessed() {
        assert_eq!(classify("FROBNICATE t"), None);
        assert_eq!(classify("CREATE INDEX i ON"), None);
        assert_eq!(classify(""), None);
    }
}
