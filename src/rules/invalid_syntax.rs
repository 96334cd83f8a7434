//! `invalid-syntax`: text PostgreSQL rejects (two statements without a `;`, another
//! database's syntax), found before it reaches a server.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M071",
    name: "invalid-syntax",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags statements PostgreSQL will reject: two statements with no `;` between them, \
           SQLite's `AUTOINCREMENT`, MySQL's `AUTO_INCREMENT`, `UNSIGNED` and backtick-quoted \
           identifiers.",
    why: "The migration fails in production at this statement. Under a runner that wraps the \
          file in a transaction everything before it is rolled back and the deploy stops; under \
          one that runs statement by statement (psql, goose or Flyway without a transaction) the \
          statements before it stay applied and the schema is left half migrated. Other tools \
          may read such text generously (several SQL parsers accept MySQL's column options, or \
          read two statements as one), so it can pass review and local tests on another \
          database and still fail on PostgreSQL.",
    instead: "Fix the statement as the message says: add the missing `;`; use `bigint GENERATED \
              ALWAYS AS IDENTITY` instead of AUTOINCREMENT/AUTO_INCREMENT; a wider integer type \
              with `CHECK (col >= 0)` instead of UNSIGNED; double quotes instead of backticks. \
              Run the file once against a PostgreSQL of the production version before merging.",
    rollback: "Nothing ran: PostgreSQL rejects the statement. Under a statement-by-statement \
               runner, undo the statements before it that did run.",
    bad: include_str!("../../fixtures/rules/invalid-syntax/bad.sql"),
    good: include_str!("../../fixtures/rules/invalid-syntax/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Invalid { reason } = &stmt.kind else {
        return None;
    };
    Some(Risk::new(format!(
        "PostgreSQL rejects this statement: {reason}; it was not reviewed otherwise"
    )))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn a_missing_semicolon_names_the_line_of_the_second_statement() {
        let found = check(
            &RULE,
            "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text\nALTER TABLE users ADD COLUMN locale text;\nCREATE INDEX users_locale_idx ON users (locale);",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 2);
        assert!(
            found[0]
                .message
                .contains("starts on line 2 of this statement"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn other_databases_syntax_and_valid_postgres() {
        let found = check(
            &RULE,
            "CREATE TABLE devices (id integer PRIMARY KEY AUTOINCREMENT, name text);",
        );
        assert!(found[0].message.contains("SQLite"), "{}", found[0].message);
        assert_eq!(
            count(&RULE, "CREATE TABLE counters (hits int UNSIGNED NOT NULL);"),
            1
        );
        for ok in [
            "CREATE USER app_reader NOINHERIT LOGIN;",
            "ALTER TABLE orders ADD CONSTRAINT orders_total_nn NOT NULL total;",
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
        ] {
            assert_eq!(count(&RULE, ok), 0, "{ok}");
        }
    }
}
