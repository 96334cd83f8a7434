//! `rename-column`: `ALTER TABLE ... RENAME COLUMN` on a table that existed before this migration.

use super::drop_column::column_added_earlier;
use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M020",
    name: "rename-column",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... RENAME COLUMN` on a table that existed before this migration.",
    why: "The rename itself is instant, but application instances still running the previous \
          release keep using the old name, and every query of theirs that mentions it fails \
          with \"column does not exist\" from the moment the migration commits until the last \
          old instance is replaced; new code deployed before the migration fails the same way \
          on the new name. Views and foreign keys follow the rename, but function bodies, \
          triggers written as SQL text, reports and other services do not. The rename needs an \
          ACCESS EXCLUSIVE lock. (PostgreSQL docs: ALTER TABLE, RENAME.)",
    instead: "Expand and contract instead of renaming in place: 1) add the new column (nullable, \
              no default); 2) deploy code that writes both columns (or add a trigger that \
              copies old to new); 3) backfill the new column in batches; 4) switch reads to the \
              new column and deploy; 5) stop writing the old column and deploy; 6) drop the old \
              column in a later migration (see drop-column).",
    rollback: "`ALTER TABLE <table> RENAME COLUMN <new> TO <old>;`: instant, but it breaks the \
               code that by then uses the new name, so roll the code back with it.",
    bad: include_str!("../../fixtures/rules/rename-column/bad.sql"),
    good: include_str!("../../fixtures/rules/rename-column/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let renames: Vec<String> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::RenameColumn { old, new } if !column_added_earlier(ctx, name, old) => {
                Some(format!("`{old}` to `{new}`"))
            }
            _ => None,
        })
        .collect();
    if renames.is_empty() {
        return None;
    }
    Some(
        Risk::new(format!(
            "Renaming column {} of {name} breaks every running release that still uses the old \
             name; add the new column and migrate to it instead",
            renames.join(", ")
        ))
        .with_instead(instead_for(ctx, name, actions))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// Expand and contract with the user's old and new names (the first rename of the
/// statement), the type read from the copy when there is one.
fn instead_for(
    ctx: &Context,
    table: &crate::model::QualifiedName,
    actions: &[AlterAction],
) -> String {
    let Some((old, new)) = actions.iter().find_map(|a| match a {
        AlterAction::RenameColumn { old, new } if !column_added_earlier(ctx, table, old) => {
            Some((old, new))
        }
        _ => None,
    }) else {
        return RULE.instead.to_string();
    };
    let t = instead::table(table);
    let ty = instead::column_type(ctx, table, old);
    let (o, n) = (instead::name(old), instead::name(new));
    format!(
        "Expand and contract instead of renaming in place: 1) `ALTER TABLE {t} ADD COLUMN {n} \
         {ty};` (nullable, no default); 2) deploy code that writes both columns (or add a \
         BEFORE INSERT OR UPDATE trigger setting `NEW.{n} := NEW.{o};`); 3) repeat {} in \
         separate transactions until it updates no rows; 4) switch reads to {n} and deploy; 5) \
         stop writing {o} and deploy; 6) `ALTER TABLE {t} DROP COLUMN {o};` in a later migration \
         (see drop-column).",
        instead::batched_update(
            &t,
            &format!("{n} = {o}"),
            &format!("{n} IS NULL AND {o} IS NOT NULL"),
            ctx.settings
        )
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_old_and_new_column() {
        let found = check(
            &RULE,
            "ALTER TABLE rental RENAME COLUMN return_date TO returned_at;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ADD COLUMN returned_at <type of return_date>;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`NEW.returned_at := NEW.return_date;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`ALTER TABLE rental DROP COLUMN return_date;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_renaming_a_column_of_an_existing_table() {
        let found = check(
            &RULE,
            "ALTER TABLE users RENAME COLUMN email TO email_address;",
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("`email` to `email_address`") && m.contains("users"),
            "{m}"
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE app.users RENAME email TO email_address;"
            ),
            1
        );
    }

    #[test]
    fn ignores_new_tables_columns_and_other_renames() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE users (id bigint, mail text); ALTER TABLE users RENAME COLUMN mail TO email;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN mail text; ALTER TABLE users RENAME COLUMN mail TO email;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_mail_key;"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE users ADD COLUMN email_address text;"),
            0
        );
    }
}
