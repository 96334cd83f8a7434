//! SQL text → our statement model. The only module that imports sqlparser.
//!
//! `split` cuts a part into statements with exact spans; each statement is then parsed with
//! sqlparser (PostgreSQL dialect) and converted; what sqlparser rejects goes to the keyword
//! `fallback`; what neither understands becomes `StatementKind::Unparsed`. `tokens` is the
//! small tokenizer the fallback, function-name extraction and placeholder detection share.
//!
//! A statement's `end` is the position of its last character (inclusive), so a comment on
//! the same line after the `;` is not inside it.

mod convert;
mod fallback;
mod split;
mod tokens;

use crate::model::{Comment, ParsedBy, Part, Segment, SourceFile, Statement, StatementKind};
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
    // One statement sent alone as a simple query runs outside any transaction block; several
    // in one query share an implicit one (PostgreSQL's multi-statement rule).
    let wrapped = match part.transaction {
        crate::model::Transaction::Implicit => split.statements.len() > 1,
        _ => part.transactional(),
    };
    let mut statements = Vec::with_capacity(split.statements.len());
    // Inside an explicit BEGIN ... COMMIT written in the file.
    let mut explicit = false;
    for raw in split.statements {
        let stmt_text = text.get(raw.range.clone()).unwrap_or_default();
        let (kind, parsed_by) = match raw.kind {
            RawKind::Sql => classify(stmt_text),
            RawKind::PsqlMeta(command) => (StatementKind::PsqlMeta { command }, ParsedBy::None),
            RawKind::Unterminated(reason) => (StatementKind::Unparsed { reason }, ParsedBy::None),
        };
        let in_transaction = match kind {
            StatementKind::Begin => {
                let was = wrapped || explicit;
                explicit = true;
                was
            }
            StatementKind::Commit | StatementKind::Rollback => {
                let was = wrapped || explicit;
                explicit = false;
                was
            }
            _ => wrapped || explicit,
        };
        statements.push(Statement {
            text: stmt_text.to_string(),
            range: raw.range,
            start: raw.start,
            end: raw.end,
            in_transaction,
            kind,
            parsed_by,
            leading_comments: raw.leading_comments,
        });
    }
    ParsedPart {
        statements,
        comments: split.comments,
    }
}

/// sqlparser first, then the keyword fallback, else `Unparsed` with the clearest reason.
fn classify(text: &str) -> (StatementKind, ParsedBy) {
    match convert::parse(text) {
        Ok(kind) => match fallback::refine(text, &kind) {
            Some(better) => (better, ParsedBy::Fallback),
            None => (kind, ParsedBy::Sqlparser),
        },
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

/// Parses `sql` as one whole-file part, for tests: `transactional` as a framework would set it.
pub fn parse_sql(sql: &str, transactional: bool) -> ParsedPart {
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
        transaction: crate::model::Transaction::wrapped(transactional),
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
        // A framework transaction covers everything, including the BEGIN itself.
        assert!(kinds(sql, true).iter().all(|(_, t)| *t));
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
