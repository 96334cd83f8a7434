//! `missing-expected-result`: a migration that does not say what it should do to the data.

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M041",
    name: "missing-expected-result",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags a migration with no `-- expect:` line in its leading comments.",
    why: "Without a stated expectation nobody can tell a migration that did what it should \
          from one that touched ten times the rows, ran for an hour, or left a query on a \
          sequential scan. A written expectation is what the reviewer checks the SQL \
          against, and its checkable forms are verified on a copy of the real data.",
    instead: "State the outcome in the file's leading comments, one `-- expect:` per line. \
              Checkable forms: `rows <= 50000`, `duration <= 30s`, `lock <= 2s`, `fails`, \
              `succeeds`, `plan \"<query>\" uses index <name>`, `plan \"<query>\" no seq scan`. \
              Anything else is shown as written, e.g. `-- expect: every order has a status`.",
    rollback: "Not applicable: this rule concerns documentation.",
    bad: include_str!("../../fixtures/rules/missing-expected-result/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-expected-result/good.sql"),
    check: Check::Migration(check),
};

fn check(ctx: &MigrationContext) -> Option<Risk> {
    if !ctx.migration.meta.expected.is_empty() {
        return None;
    }
    Some(Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(
            "No expected result: add `-- expect: <outcome>` (e.g. `-- expect: rows <= 50000`) to the file's leading comments",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn flags_a_migration_without_expectation() {
        let found = check(&RULE, "-- owner: @db\nCREATE TABLE t (id bigint);\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (1, 1));
    }

    #[test]
    fn free_text_and_checkable_expectations_both_satisfy_it() {
        assert!(check(
            &RULE,
            "-- expect: table t exists\nCREATE TABLE t (id bigint);\n"
        )
        .is_empty());
        assert!(check(&RULE, "-- EXPECT: rows <= 0\nCREATE TABLE t (id bigint);\n").is_empty());
    }
}
