//! `missing-expected-result`: a migration that does not say what it should do to the data.

use super::{instead, Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Position, Severity, StatementKind};

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
    Some(
        Risk {
            position: Some(Position { line: 1, column: 1 }),
            ..Risk::new(
                "No expected result: add `-- expect: <outcome>` (e.g. `-- expect: rows <= 50000`) to the file's leading comments",
            )
        }
        .with_instead(instead_for(ctx)),
    )
}

/// Checkable expectations that fit this migration's statements, with the configured limits:
/// a lock within `[execution] lock_budget` when a statement blocks writes to a table that
/// existed, rows within `[thresholds] batch_rows` when it changes data.
fn instead_for(ctx: &MigrationContext) -> String {
    let statements = &ctx.migration.statements;
    let mut lines = vec!["`-- expect: succeeds`".to_string()];
    let created: Vec<&crate::model::QualifiedName> = statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::CreateTable { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    let locks = statements.iter().any(|s| {
        crate::locks::strongest_lock(&s.kind)
            .is_some_and(|l| l.mode.blocks_writes() && !created.iter().any(|c| c.matches(&l.table)))
    });
    if locks {
        lines.push(format!(
            "`-- expect: lock <= {}` (the lock budget)",
            instead::lock_timeout(ctx.settings)
        ));
    }
    let writes = statements.iter().any(|s| {
        matches!(
            s.kind,
            StatementKind::Update { .. }
                | StatementKind::Delete { .. }
                | StatementKind::Insert { .. }
        )
    });
    if writes {
        lines.push(format!(
            "`-- expect: rows <= {}` (one batch)",
            instead::batch(ctx.settings)
        ));
    }
    format!(
        "State the outcome in the file's leading comments, one `-- expect:` per line; for this \
         migration: {}. Other checkable forms: `duration <= 30s`, `fails`, `plan \"<query>\" \
         uses index <name>`, `plan \"<query>\" no seq scan`. Anything else is shown as \
         written, e.g. `-- expect: every order has a status`.",
        lines.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn instead_proposes_checks_that_fit_the_statements() {
        let found = check(
            &RULE,
            "-- owner: @db\nALTER TABLE rental ADD COLUMN note text;\nUPDATE rental SET note = '';\n",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`-- expect: succeeds`, `-- expect: lock <= 2s` (the lock budget), `-- expect: rows <= 100000` (one batch)"),
            "{instead}"
        );
        // A new table locks nobody and changes no rows.
        let found = check(&RULE, "-- owner: @db\nCREATE TABLE t (id bigint);\n");
        assert!(
            found[0]
                .instead
                .contains("for this migration: `-- expect: succeeds`."),
            "{}",
            found[0].instead
        );
    }

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
