//! `rename-table`: `ALTER TABLE ... RENAME TO` on a table that existed before this migration,
//! unless the migration leaves a view under the old name for the code still using it.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M021",
    name: "rename-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what:
        "Flags `ALTER TABLE ... RENAME TO` on a table that existed before this migration, unless \
           a view with the old name is created later in the same migration.",
    why: "The rename itself is instant, but application instances still running the previous \
          release keep using the old name, and every query of theirs fails with \"relation does \
          not exist\" from the moment the migration commits until the last old instance is \
          replaced. Views, foreign keys and indexes follow the rename, but function bodies, \
          reports, ETL jobs and other services that name the table do not. The rename needs an \
          ACCESS EXCLUSIVE lock. (PostgreSQL docs: ALTER TABLE, RENAME.)",
    instead: "Keep the old name working while the code moves: in one transaction, rename the \
              table and create a view with the old name (`ALTER TABLE customers RENAME TO \
              clients; CREATE VIEW customers AS SELECT * FROM clients;`). A simple view is \
              automatically updatable, so old code keeps reading and writing through it. Deploy \
              code that uses the new name, then drop the view in a later migration. Where a view \
              will not do (triggers, logical replication), create the new table, dual-write, \
              backfill, switch reads and drop the old table.",
    rollback: "`ALTER TABLE <new> RENAME TO <old>;` (after dropping the compatibility view, if \
               any): instant, but it breaks code that by then uses the new name.",
    bad: include_str!("../../fixtures/rules/rename-table/bad.sql"),
    good: include_str!("../../fixtures/rules/rename-table/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let new = actions.iter().find_map(|a| match a {
        AlterAction::RenameTable { new } => Some(new),
        _ => None,
    })?;
    if view_keeps_old_name(ctx, name) {
        return None;
    }
    Some(
        Risk::new(format!(
            "Renaming table {name} to {new} breaks every running release that still uses \
             {name}; create a view named {name} in the same transaction, or migrate to a new \
             table"
        ))
        .with_instead(instead_for(ctx, name, new))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The rename plus a view under the old name, in one transaction, with the user's names.
fn instead_for(ctx: &Context, old: &QualifiedName, new: &str) -> String {
    let o = instead::table(old);
    let n = instead::name(new);
    let renamed = instead::table(&QualifiedName {
        schema: old.schema.clone(),
        name: new.to_string(),
    });
    format!(
        "Keep the old name working while the code moves: in one transaction, `{} ALTER TABLE {o} \
         RENAME TO {n}; CREATE VIEW {o} AS SELECT * FROM {renamed};`. A simple view is \
         automatically updatable, so old code keeps reading and writing through it. Deploy code \
         that uses {n}, then `DROP VIEW {o};` in a later migration. Where a view will not do \
         (triggers, logical replication), create {n} as a new table, dual-write, backfill, switch \
         reads and drop {o}.",
        instead::set_lock_timeout(ctx.settings)
    )
}

/// Whether a later statement creates a view under the table's old name, so old code keeps
/// working (the rename target keeps the schema, so the old schema qualification applies).
fn view_keeps_old_name(ctx: &Context, old: &QualifiedName) -> bool {
    ctx.later().iter().any(|s| {
        matches!(&s.kind, StatementKind::CreateView { name, materialized: false } if name.matches(old))
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_old_and_new_table() {
        let found = check(&RULE, "ALTER TABLE billing.rental RENAME TO rentals;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("ALTER TABLE billing.rental RENAME TO rentals; CREATE VIEW billing.rental AS SELECT * FROM billing.rentals;"),
            "{instead}"
        );
        assert!(!instead.contains("customers"), "{instead}");
    }

    #[test]
    fn flags_renaming_an_existing_table() {
        let found = check(&RULE, "ALTER TABLE customers RENAME TO clients;");
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("customers") && m.contains("clients"), "{m}");
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE IF EXISTS shop.customers RENAME TO clients;"
            ),
            1
        );
    }

    #[test]
    fn a_compatibility_view_with_the_old_name_makes_it_safe() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE customers RENAME TO clients; CREATE VIEW customers AS SELECT * FROM clients;"
            ),
            0
        );
        // A materialized view is a snapshot: writes through it fail.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE customers RENAME TO clients; CREATE MATERIALIZED VIEW customers AS SELECT * FROM clients;"
            ),
            1
        );
    }

    #[test]
    fn ignores_tables_created_in_this_migration_and_other_alters() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE staging (id bigint); ALTER TABLE staging RENAME TO clients;"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE customers RENAME COLUMN a TO b;"),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER INDEX customers_idx RENAME TO clients_idx;"),
            0
        );
    }
}
