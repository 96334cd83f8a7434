//! SQL text → our statement model. The only module that imports sqlparser.
//!
//! `split` cuts a part into statements with exact spans; each statement is then parsed with
//! sqlparser (PostgreSQL dialect) and converted; what sqlparser rejects goes to the keyword
//! `fallback`; what neither understands becomes `StatementKind::Unparsed`. `tokens` is the
//! small tokenizer the fallback, function-name extraction and placeholder detection share.
//!
//! A statement's `end` is the position of its last character (inclusive), so a comment on
//! the same line after the `;` is not inside it.
//!
//! `Statement::in_transaction` is PostgreSQL's view as the part's runner sends it (see
//! [`mark_transactions`]): inside the runner's `BEGIN` … `COMMIT`, inside an explicit
//! `BEGIN` the file writes, or inside the implicit transaction PostgreSQL opens for a query
//! string of several statements. For an `Unknown` runner it is what psql would do (each
//! statement on its own); rules that would judge differently under a wrapping runner look at
//! the part's mode and say so instead of assuming.

mod convert;
mod fallback;
mod nested;
pub mod objects;
mod on_table;
mod routine;
pub mod server_wide;
mod split;
mod tokens;
mod validity;

use crate::model::{
    Comment, ParsedBy, Part, Runner, Segment, SourceFile, Statement, StatementKind, Transaction,
};
pub use nested::{nested, Nested, Routines};
use split::RawKind;
use std::sync::Arc;

/// The statements and comments of one migration part.
#[derive(Debug, Default)]
pub struct ParsedPart {
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
}

/// Splits and parses one part; never fails: problems become `Unparsed` statements.
pub fn parse_part(part: &Part) -> ParsedPart {
    let text = part.file.text.as_str();
    let split = split::split(text, &part.segments);
    let mut statements = Vec::with_capacity(split.statements.len());
    for raw in split.statements {
        let stmt_text = text.get(raw.range.clone()).unwrap_or_default();
        let (kind, parsed_by) = match raw.kind {
            RawKind::Sql => classify(stmt_text),
            RawKind::PsqlMeta(command) => (StatementKind::PsqlMeta { command }, ParsedBy::None),
            RawKind::Unterminated(reason) => (StatementKind::Unparsed { reason }, ParsedBy::None),
        };
        statements.push(Statement {
            text: stmt_text.to_string(),
            range: raw.range,
            start: raw.start,
            end: raw.end,
            in_transaction: false,
            kind,
            parsed_by,
            leading_comments: raw.leading_comments,
        });
    }
    mark_transactions(part, &mut statements);
    ParsedPart {
        statements,
        comments: split.comments,
    }
}

/// Sets each statement's `in_transaction` the way PostgreSQL sees it when `part`'s runner
/// sends the statements:
///
/// - `File`: the runner's `BEGIN` is open from the start; an explicit `COMMIT`/`ROLLBACK` in
///   the file ends it (PostgreSQL has no nesting; a second `BEGIN` is ignored with a warning).
/// - One query string of several statements (`Implicit`, or `File` when the runner sends the
///   file as one query): every statement outside an explicit block runs in an implicit one
///   (PostgreSQL protocol docs, "Multiple Statements in a Simple Query"), also after a
///   `COMMIT`, so `CREATE INDEX CONCURRENTLY` anywhere in it fails. A single statement is not.
/// - `Statement` and `Unknown`: only an explicit `BEGIN` opens a block.
///
/// A `BEGIN`, `COMMIT` or `ROLLBACK` is marked by the state before it.
pub fn mark_transactions(part: &Part, statements: &mut [Statement]) {
    let sent = statements
        .iter()
        .filter(|s| !matches!(s.kind, StatementKind::PsqlMeta { .. }))
        .count();
    let one_query = match part.transaction {
        Transaction::Implicit => true,
        Transaction::File => part.runner.one_query,
        Transaction::Statement | Transaction::Unknown => false,
    };
    let implicit = one_query && sent > 1;
    let mut open = part.transaction == Transaction::File;
    for stmt in statements {
        stmt.in_transaction = open || implicit;
        match stmt.kind {
            StatementKind::Begin => open = true,
            StatementKind::Commit | StatementKind::Rollback => open = false,
            _ => {}
        }
    }
}

/// sqlparser first, then the keyword fallback, else `Unparsed` with the clearest reason.
fn classify(text: &str) -> (StatementKind, ParsedBy) {
    if let Some(reason) = validity::invalid(text) {
        return (StatementKind::Invalid { reason }, ParsedBy::None);
    }
    if let Some(kind) = objects::drop_object(text) {
        let by = if convert::parse(text).is_ok() {
            ParsedBy::Sqlparser
        } else {
            ParsedBy::Fallback
        };
        return (kind, by);
    }
    if let Some(kind) = validity::not_null_constraint(text) {
        return (kind, ParsedBy::Fallback);
    }
    let parsed = convert::parse(text);
    // Routines are read from their tokens either way: sqlparser's AST does not keep the
    // volatility clause in a form every version agrees on, and it refuses many real bodies.
    if let Some(routine) = routine::create_routine(text) {
        let by = if parsed.is_ok() {
            ParsedBy::Sqlparser
        } else {
            ParsedBy::Fallback
        };
        return (routine.kind(), by);
    }
    if let Some(kind) = on_table::table_ddl(text) {
        let by = if parsed.is_ok() {
            ParsedBy::Sqlparser
        } else {
            ParsedBy::Fallback
        };
        return (kind, by);
    }
    match parsed {
        Ok(kind) => {
            // sqlparser reads `:name` as a bind placeholder, so a psql variable or an
            // unrendered template in a value position parses, while PostgreSQL rejects it
            // (issue #12). The character check keeps the second tokenization off the
            // statements that cannot hold one.
            if text.contains([':', '{', '%']) {
                if let Some(placeholder) = tokens::find_placeholder(text) {
                    let reason = format!(
                        "contains a template placeholder `{placeholder}`; render the template before review"
                    );
                    return (StatementKind::Unparsed { reason }, ParsedBy::None);
                }
            }
            match fallback::refine(text, &kind) {
                Some(better) => (better, ParsedBy::Fallback),
                None => (kind, ParsedBy::Sqlparser),
            }
        }
        Err(error) => {
            if let Some(placeholder) = tokens::find_placeholder(text) {
                let reason = format!(
                    "contains a template placeholder `{placeholder}`; render the template before review"
                );
                return (StatementKind::Unparsed { reason }, ParsedBy::None);
            }
            // sqlparser stops at the first word it does not know, so running out of input
            // means the statement itself is cut short: the fallback would only guess.
            if error.ends_with("found: EOF") {
                return (StatementKind::Unparsed { reason: error }, ParsedBy::None);
            }
            match fallback::classify(text) {
                Some(kind) => (kind, ParsedBy::Fallback),
                None => (StatementKind::Unparsed { reason: error }, ParsedBy::None),
            }
        }
    }
}

/// Parses `sql` as one whole-file part, for tests: `transactional` as a framework would set it
/// (`BEGIN` … `COMMIT` sent statement by statement, or each statement on its own).
pub fn parse_sql(sql: &str, transactional: bool) -> ParsedPart {
    parse_sql_as(sql, Transaction::wrapped(transactional), false)
}

/// Parses `sql` as one whole-file part sent in `mode`, as one query string when `one_query`.
pub fn parse_sql_as(sql: &str, mode: Transaction, one_query: bool) -> ParsedPart {
    let file = Arc::new(SourceFile {
        display: "test.sql".to_string(),
        text: sql.to_string(),
    });
    parse_part(&Part {
        file,
        segments: vec![Segment {
            range: 0..sql.len(),
            single_statement: false,
        }],
        transaction: mode,
        runner: Runner {
            one_query,
            ..Runner::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Position, QualifiedName};

    fn kinds(sql: &str, transactional: bool) -> Vec<(StatementKind, bool)> {
        parse_sql(sql, transactional)
            .statements
            .into_iter()
            .map(|s| (s.kind, s.in_transaction))
            .collect()
    }

    #[test]
    fn explicit_transactions_mark_their_statements() {
        let sql = "CREATE INDEX CONCURRENTLY a ON t (c);\nBEGIN;\nCREATE INDEX b ON t (c);\nCOMMIT;\nSELECT 1;\nSTART TRANSACTION;\nSELECT 2;\nROLLBACK;";
        let flags: Vec<bool> = kinds(sql, false).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            flags,
            vec![false, false, true, true, false, false, true, true]
        );
        // A framework transaction covers everything up to the COMMIT that ends it (PostgreSQL
        // ignores the BEGIN inside it); after that, statements sent one by one are on their own
        // until the next BEGIN.
        let flags: Vec<bool> = kinds(sql, true).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            flags,
            vec![true, true, true, true, false, false, true, true]
        );
    }

    fn flags(sql: &str, mode: Transaction, one_query: bool) -> Vec<bool> {
        parse_sql_as(sql, mode, one_query)
            .statements
            .into_iter()
            .map(|s| s.in_transaction)
            .collect()
    }

    #[test]
    fn one_query_strings_run_in_an_implicit_transaction() {
        let sql = "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);";
        assert_eq!(flags(sql, Transaction::Implicit, true), [true, true]);
        // One statement alone is not in a transaction block, even sent as one query.
        assert_eq!(
            flags(
                "CREATE INDEX CONCURRENTLY i ON t (a);",
                Transaction::Implicit,
                true
            ),
            [false]
        );
        // A COMMIT in the string ends the implicit transaction, and the next one begins.
        assert_eq!(
            flags(
                "BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT 2;",
                Transaction::Implicit,
                true
            ),
            [true, true, true, true]
        );
        // psql meta-commands are not sent: a lone statement next to one stays alone.
        assert_eq!(
            flags(
                "\\set ON_ERROR_STOP on\nCREATE INDEX CONCURRENTLY i ON t (a);",
                Transaction::Implicit,
                true
            ),
            [false, false]
        );
    }

    #[test]
    fn after_a_commit_in_a_wrapped_file_the_sending_decides() {
        let sql = "ALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nSELECT 1;";
        // Statement by statement (goose, Flyway, alembic's script): outside until BEGIN.
        assert_eq!(
            flags(sql, Transaction::File, false),
            [true, true, false, false, true]
        );
        // One query string (sqlx, diesel, dbmate): the rest is one implicit transaction.
        assert_eq!(
            flags(sql, Transaction::File, true),
            [true, true, true, true, true]
        );
    }

    #[test]
    fn unknown_and_statement_runners_follow_only_explicit_blocks() {
        let sql = "CREATE INDEX CONCURRENTLY a ON t (c);\nBEGIN;\nSELECT 1;\nCOMMIT;";
        for mode in [Transaction::Unknown, Transaction::Statement] {
            assert_eq!(
                flags(sql, mode, false),
                [false, false, true, true],
                "{mode}"
            );
        }
    }

    #[test]
    fn records_which_parser_understood_each_statement() {
        let parsed = parse_sql(
            "CREATE INDEX i ON t (c);\nDROP INDEX CONCURRENTLY i;\nFROBNICATE everything;",
            true,
        );
        let by: Vec<ParsedBy> = parsed.statements.iter().map(|s| s.parsed_by).collect();
        assert_eq!(
            by,
            vec![ParsedBy::Sqlparser, ParsedBy::Fallback, ParsedBy::None]
        );
        assert_eq!(
            parsed.statements[2].kind,
            StatementKind::Unparsed {
                reason: "Expected: an SQL statement, found: FROBNICATE at Line: 1, Column: 1"
                    .to_string()
            }
        );
    }

    #[test]
    fn truncated_statements_are_not_guessed_by_the_fallback() {
        let parsed = parse_sql(
            "CREATE INDEX i ON t (c);\nALTER TABLE t ADD COLUMN c text NOT NULL DEFAULT",
            true,
        );
        assert!(matches!(
            parsed.statements[0].kind,
            StatementKind::CreateIndex { .. }
        ));
        assert_eq!(
            parsed.statements[1].kind,
            StatementKind::Unparsed {
                reason: "Expected: an expression, found: EOF".into()
            }
        );
    }

    #[test]
    fn safety_critical_statements_sqlparser_rejects_are_classified() {
        for sql in [
            "DROP INDEX CONCURRENTLY IF EXISTS i",
            "REINDEX TABLE t",
            "ALTER SEQUENCE s RESTART",
            "DO $$ BEGIN END $$",
            "ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE",
            "CREATE STATISTICS s ON a, b FROM t",
            "VACUUM (FULL, ANALYZE) t",
            "CLUSTER t USING idx",
            "ALTER TABLE t SET TABLESPACE x",
        ] {
            let parsed = parse_sql(sql, false);
            assert_eq!(parsed.statements[0].parsed_by, ParsedBy::Fallback, "{sql}");
        }
    }

    #[test]
    fn template_placeholders_are_named_in_the_reason() {
        for (sql, placeholder) in [
            ("CREATE INDEX i ON {{ table }} (c)", "{{ table }}"),
            ("ALTER TABLE ${schema}.orders ADD COLUMN c int", "${schema}"),
            ("DELETE FROM orders WHERE id IN %(ids)s", "%(ids)s"),
            ("CREATE INDEX i ON :'tbl' (c)", ":'tbl'"),
            // sqlparser accepts these as bind placeholders; PostgreSQL does not.
            ("UPDATE users SET plan = :plan WHERE id > 0", ":plan"),
            (
                "ALTER TABLE users ALTER COLUMN plan SET DEFAULT :default_plan",
                ":default_plan",
            ),
        ] {
            let parsed = parse_sql(sql, true);
            let StatementKind::Unparsed { reason } = &parsed.statements[0].kind else {
                panic!("{sql} parsed as {:?}", parsed.statements[0].kind);
            };
            assert_eq!(
                reason,
                &format!("contains a template placeholder `{placeholder}`; render the template before review")
            );
        }
        // A placeholder-looking string literal in a valid statement is just data.
        let parsed = parse_sql("INSERT INTO t VALUES ('{{ x }}')", true);
        assert!(matches!(
            parsed.statements[0].kind,
            StatementKind::Insert { .. }
        ));
        // Casts, slices, assignments inside bodies and JSON text are not placeholders.
        for sql in [
            "UPDATE t SET a = b::int, c = d[1:2], e = '{\"k\": 1}' WHERE f % 2 = 0",
            "DO $$DECLARE n int; BEGIN n := 1; END$$",
        ] {
            let parsed = parse_sql(sql, true);
            assert!(
                !matches!(parsed.statements[0].kind, StatementKind::Unparsed { .. }),
                "{sql}: {:?}",
                parsed.statements[0].kind
            );
        }
    }

    #[test]
    fn statements_keep_text_spans_and_comments() {
        let sql = "-- owner: @team\r\n-- migsafe:allow drop-column reason: unused\r\nALTER TABLE t\r\n  DROP COLUMN c; -- done\r\n\\set x 1\r\nDO $$ BEGIN\r\n";
        let parsed = parse_sql(sql, true);
        let st = &parsed.statements;
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].text, "ALTER TABLE t\r\n  DROP COLUMN c");
        assert_eq!(&sql[st[0].range.clone()], st[0].text);
        assert_eq!(st[0].start, Position { line: 3, column: 1 });
        assert_eq!(
            st[0].end,
            Position {
                line: 4,
                column: 15
            }
        );
        assert_eq!(st[0].leading_comments.len(), 2);
        assert_eq!(
            st[0].kind,
            StatementKind::AlterTable {
                name: QualifiedName::new(None, "t"),
                if_exists: false,
                actions: vec![crate::model::AlterAction::DropColumn {
                    name: "c".into(),
                    if_exists: false
                }],
            }
        );
        assert_eq!(
            st[1].kind,
            StatementKind::PsqlMeta {
                command: "\\set".into()
            }
        );
        assert_eq!(st[1].leading_comments[0].text, "done");
        assert_eq!(
            st[2].kind,
            StatementKind::Unparsed {
                reason: "unterminated dollar-quoted string starting at line 6".into()
            }
        );
        assert_eq!(parsed.comments.len(), 3);
    }

    #[test]
    fn never_panics_on_any_prefix_of_hostile_sql() {
        let sql = "/* a /* b */ */ CREATE TABLE \"T\"\"x\" (a int DEFAULT E'\\'', b text CHECK (b <> $q$;$q$));\r\n\
                   \\c db\nDO $f$ BEGIN PERFORM 1; END $f$; SELECT $1, a$b, 'é''ü', :'v', {{ x }};\n\
                   ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT now(), ALTER COLUMN d SET STATISTICS 5;\n\
                   CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; -- é\n\
                   REINDEX (CONCURRENTLY) TABLE t; VACUUM (FULL) t; LOCK TABLE t IN; CREATE INDEX ON; ALTER TABLE";
        for (i, _) in sql.char_indices() {
            let parsed = parse_sql(&sql[..i], i % 2 == 0);
            for st in &parsed.statements {
                assert_eq!(sql.get(st.range.clone()), Some(st.text.as_str()));
                assert!(st.start <= st.end, "{st:?}");
            }
        }
        // Deep nesting hits sqlparser's recursion limit, which must be an error, not a crash.
        let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        let parsed = parse_sql(&deep, true);
        assert!(matches!(
            parsed.statements[0].kind,
            StatementKind::Unparsed { .. } | StatementKind::Select
        ));
    }
}
