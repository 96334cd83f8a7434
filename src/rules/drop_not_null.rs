//! `drop-not-null`: `ALTER COLUMN ... DROP NOT NULL` on a table that existed before this migration.

use super::drop_column::column_added_earlier;
use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M027",
    name: "drop-not-null",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL` on a table that existed before \
           this migration.",
    why: "The change is quick (catalog only, a brief ACCESS EXCLUSIVE lock), but it changes what \
          readers can get: code, reports and downstream consumers written for a NOT NULL \
          column (non-optional fields in typed models, `sum()` and joins that assume a value, \
          unique constraints that now admit several NULLs) break on the first NULL. Putting the \
          constraint back later needs `SET NOT NULL`, which scans the whole table under ACCESS \
          EXCLUSIVE and fails once NULLs exist. (PostgreSQL docs: ALTER TABLE, SET/DROP NOT NULL.)",
    instead: "Make every reader handle NULL and deploy that first. If the goal is only to let new \
              code stop writing the column (for example before dropping it), give the column a \
              default instead: `ALTER TABLE <table> ALTER COLUMN <column> SET DEFAULT <value>;` \
              keeps it NOT NULL for existing readers.",
    rollback: "Backfill the NULLs, then restore the constraint without a long lock: `ALTER TABLE \
               <table> ADD CONSTRAINT <c> CHECK (<column> IS NOT NULL) NOT VALID;`, `ALTER TABLE \
               <table> VALIDATE CONSTRAINT <c>;`, then `ALTER TABLE <table> ALTER COLUMN <column> \
               SET NOT NULL;` (PostgreSQL 12+ skips the scan) and drop the CHECK.",
    bad: include_str!("../../fixtures/rules/drop-not-null/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-not-null/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let columns: Vec<String> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropNotNull { column } if !column_added_earlier(ctx, name, column) => {
                Some(ctx.state.describe_column(name, column))
            }
            _ => None,
        })
        .collect();
    if columns.is_empty() {
        return None;
    }
    Some(
        Risk::new(format!(
            "{} {} of {name} can now be NULL: code and reports that assume a value break on \
             the first NULL; make readers handle NULL before this ships",
            if columns.len() == 1 {
                "Column"
            } else {
                "Columns"
            },
            columns.join(", ")
        ))
        .with_instead(instead_for(name, actions, ctx))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// Readers first, or a default in place of the relaxed constraint, for the user's column.
fn instead_for(
    table: &crate::model::QualifiedName,
    actions: &[AlterAction],
    ctx: &Context,
) -> String {
    let t = instead::table(table);
    let column = actions
        .iter()
        .find_map(|a| match a {
            AlterAction::DropNotNull { column } if !column_added_earlier(ctx, table, column) => {
                Some(instead::name(column))
            }
            _ => None,
        })
        .unwrap_or_default();
    format!(
        "Make every reader of {t}.{column} handle NULL and deploy that first. If the goal is \
         only to let new code stop writing {column} (for example before dropping it), give it a \
         default instead: `ALTER TABLE {t} ALTER COLUMN {column} SET DEFAULT <value>;` keeps it \
         NOT NULL for existing readers."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table_and_column() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ALTER COLUMN return_date DROP NOT NULL;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ALTER COLUMN return_date SET DEFAULT <value>;`"),
            "{instead}"
        );
        assert!(!instead.contains("<table>"), "{instead}");
    }

    #[test]
    fn flags_dropping_not_null_on_an_existing_table() {
        let found = check(&RULE, "ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;");
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("`phone`") && m.contains("users"), "{m}");
    }

    #[test]
    fn a_renamed_existing_column_keeps_its_readers() {
        let found = check(
            &RULE,
            "ALTER TABLE hydra_client RENAME COLUMN secret TO secret_legacy;\n\
             ALTER TABLE hydra_client ALTER COLUMN secret_legacy DROP NOT NULL;",
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("renamed from `secret` on line 1"), "{m}");
    }

    #[test]
    fn ignores_new_tables_new_columns_and_set_not_null() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint, a text NOT NULL); ALTER TABLE t ALTER COLUMN a DROP NOT NULL;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN a text NOT NULL DEFAULT ''; ALTER TABLE users ALTER COLUMN a DROP NOT NULL;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ALTER COLUMN phone SET DEFAULT '';"
            ),
            0
        );
    }
}
