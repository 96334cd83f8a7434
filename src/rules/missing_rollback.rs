//! `missing-rollback`: a migration with no way back written down.

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Position, RollbackSource, Severity};

pub const RULE: Rule = Rule {
    code: "M042",
    name: "missing-rollback",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags a migration with no rollback: no `-- rollback:` line in its leading comments, \
           no down/undo part, and no explicit `-- rollback: irreversible`.",
    why: "The time to work out how to undo a migration is before it runs, not while it is \
          failing in production. Writing the rollback also exposes changes that cannot be \
          undone (dropped columns, rewritten data) while they can still be redesigned.",
    instead: "Write the way back in the file's leading comments — SQL or steps, e.g. \
              `-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;` — or \
              ship a down/undo migration in your framework's format. When there is no way \
              back, say so: `-- rollback: irreversible`.",
    rollback: "Not applicable: this rule concerns documentation.",
    bad: include_str!("../../fixtures/rules/missing-rollback/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-rollback/good.sql"),
    check: Check::Migration(check),
};

fn check(ctx: &MigrationContext) -> Option<Risk> {
    let pm = ctx.migration;
    let rollback = &pm.meta.rollback;
    if rollback.source != RollbackSource::None || rollback.irreversible {
        return None;
    }
    let message = if pm.migration.down.is_some() {
        "No rollback: the down migration is empty; write its SQL, or add `-- rollback: <SQL or steps>` (or `-- rollback: irreversible`) to the file's leading comments"
    } else {
        "No rollback: add `-- rollback: <SQL or steps>` (or `-- rollback: irreversible`) to the file's leading comments, or a down migration"
    };
    Some(Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(message)
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn flags_a_migration_without_rollback() {
        let found = check(&RULE, "-- owner: @db\nCREATE TABLE t (id bigint);\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (1, 1));
    }

    #[test]
    fn a_rollback_note_or_irreversible_satisfies_it() {
        assert!(check(
            &RULE,
            "-- rollback: DROP TABLE t;\nCREATE TABLE t (id bigint);\n"
        )
        .is_empty());
        assert!(check(
            &RULE,
            "-- Rollback: IRREVERSIBLE\nDELETE FROM t WHERE id < 10;\n"
        )
        .is_empty());
    }
}
