//! `drop-default`: `ALTER COLUMN ... DROP DEFAULT` on a column that existed before this
//! migration.

use super::drop_column::column_added_earlier;
use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M079",
    name: "drop-default",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ALTER COLUMN ... DROP DEFAULT` on a column of a table that \
           existed before this migration.",
    why: "Running code that leaves the column out of its INSERTs relied on the default: from \
          the moment the migration commits those rows get NULL, or fail with a NOT NULL \
          violation when the column is NOT NULL. ORMs that omit unset fields (Rails, Django, \
          Prisma) do this for every insert. The change itself is catalog-only under a brief \
          ACCESS EXCLUSIVE lock. (PostgreSQL docs: ALTER TABLE, SET/DROP DEFAULT.)",
    instead: "Make every writer set the column explicitly and deploy that first; then drop the \
              default in a later migration. To change the default rather than remove it, use \
              `ALTER TABLE <table> ALTER COLUMN <column> SET DEFAULT <new value>;` in one step.",
    rollback:
        "`ALTER TABLE <table> ALTER COLUMN <column> SET DEFAULT <old value>;` (instant); rows \
               inserted meanwhile keep their NULLs.",
    bad: include_str!("../../fixtures/rules/drop-default/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-default/good.sql"),
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
            AlterAction::DropDefault { column } if !column_added_earlier(ctx, name, column) => {
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
            "Dropping the default of {} on {name} makes running code's INSERTs that leave it out \
             write NULL (or fail on NOT NULL); make every writer set it and deploy first",
            columns.join(", ")
        ))
        .with_instead({
            let t = instead::table(name);
            let column = actions
                .iter()
                .find_map(|a| match a {
                    AlterAction::DropDefault { column }
                        if !column_added_earlier(ctx, name, column) =>
                    {
                        Some(instead::name(column))
                    }
                    _ => None,
                })
                .unwrap_or_default();
            format!(
                "Make every writer set {t}.{column} explicitly and deploy that first; then \
                 `ALTER TABLE {t} ALTER COLUMN {column} DROP DEFAULT;` in a later migration. To \
                 change the default rather than remove it, use `ALTER TABLE {t} ALTER COLUMN \
                 {column} SET DEFAULT <new value>;` in one step."
            )
        })
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
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
            "ALTER TABLE rental ALTER COLUMN rental_date DROP DEFAULT;",
        );
        let instead = &found[0].instead;
        assert!(
            instead
                .contains("`ALTER TABLE rental ALTER COLUMN rental_date SET DEFAULT <new value>;`"),
            "{instead}"
        );
        assert!(!instead.contains("<table>"), "{instead}");
    }

    #[test]
    fn flags_dropping_an_existing_default() {
        let found = check(&RULE, "ALTER TABLE users ALTER COLUMN status DROP DEFAULT;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`status`"),
            "{}",
            found[0].message
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN tier text DEFAULT 'free';\nALTER TABLE users ALTER COLUMN tier DROP DEFAULT;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'pending';"
            ),
            0
        );
    }
}
