//! `missing-rollback`: a migration with no way back written down.

use super::{instead, Check, MigrationContext, Risk, Rule};
use crate::model::{
    AlterAction, Evidence, Position, QualifiedName, RollbackSource, Severity, Statement,
    StatementKind,
};

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
    let risk = Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(message)
    };
    Some(match inverse(&pm.statements) {
        Some(sql) => risk.with_instead(format!(
            "Write the way back in the file's leading comments; for this migration: `-- \
             rollback: {sql}` — or ship a down/undo migration in your framework's format with \
             that SQL."
        )),
        None => risk,
    })
}

/// The statements that undo `statements`, last first, when every one of them has an inverse
/// migsafe can write from the statement alone (created objects dropped, renames reversed,
/// NOT NULL relaxed); `None` as soon as one has not (dropped data, an old type or default the
/// statement does not show), where only the author knows the way back.
fn inverse(statements: &[Statement]) -> Option<String> {
    let mut undo: Vec<String> = Vec::new();
    for stmt in statements {
        match &stmt.kind {
            StatementKind::Set { .. }
            | StatementKind::Begin
            | StatementKind::Commit
            | StatementKind::Select => {}
            StatementKind::CreateIndex {
                name: Some(name),
                concurrently,
                ..
            } => undo.push(format!(
                "DROP INDEX {}IF EXISTS {};",
                if *concurrently { "CONCURRENTLY " } else { "" },
                instead::table(name)
            )),
            StatementKind::CreateTable { name, .. } => {
                undo.push(format!("DROP TABLE IF EXISTS {};", instead::table(name)))
            }
            StatementKind::CreateView { name, materialized } => undo.push(format!(
                "DROP {}VIEW IF EXISTS {};",
                if *materialized { "MATERIALIZED " } else { "" },
                instead::table(name)
            )),
            StatementKind::AlterTable { name, actions, .. } => {
                let mut steps = Vec::new();
                for action in actions {
                    steps.push(undo_action(name, action)?);
                }
                undo.extend(steps.into_iter().rev());
            }
            _ => return None,
        }
    }
    if undo.is_empty() {
        return None;
    }
    undo.reverse();
    Some(undo.join(" "))
}

/// The inverse of one ALTER TABLE action, when the action itself shows it.
fn undo_action(table: &QualifiedName, action: &AlterAction) -> Option<String> {
    let t = instead::table(table);
    Some(match action {
        AlterAction::AddColumn { column, .. } => format!(
            "ALTER TABLE {t} DROP COLUMN IF EXISTS {};",
            instead::name(&column.name)
        ),
        AlterAction::AddConstraint(c) => format!(
            "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};",
            instead::name(c.name.as_deref()?)
        ),
        AlterAction::SetNotNull { column } => format!(
            "ALTER TABLE {t} ALTER COLUMN {} DROP NOT NULL;",
            instead::name(column)
        ),
        AlterAction::RenameColumn { old, new } => format!(
            "ALTER TABLE {t} RENAME COLUMN {} TO {};",
            instead::name(new),
            instead::name(old)
        ),
        AlterAction::RenameTable { new } => format!(
            "ALTER TABLE {} RENAME TO {};",
            instead::table(&QualifiedName {
                schema: table.schema.clone(),
                name: new.clone(),
            }),
            instead::name(&table.name)
        ),
        // Dropped data, old types and old defaults are not in the statement.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn instead_writes_the_inverse_of_the_users_statements() {
        let found = check(
            &RULE,
            "-- owner: @db\nALTER TABLE rental ADD COLUMN returned_by int;\n\
             CREATE INDEX CONCURRENTLY idx_rental_returned_by ON rental (returned_by);\n",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`-- rollback: DROP INDEX CONCURRENTLY IF EXISTS idx_rental_returned_by; ALTER TABLE rental DROP COLUMN IF EXISTS returned_by;`"),
            "{instead}"
        );
        // Data a statement destroys has no written inverse: the generic text stays.
        let found = check(
            &RULE,
            "-- owner: @db\nALTER TABLE rental DROP COLUMN note;\n",
        );
        assert_eq!(found[0].instead, RULE.instead);
    }

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
