//! `drop-column`: `ALTER TABLE ... DROP COLUMN` on a table that existed before this migration.
//!
//! Also holds `column_added_earlier`, shared with rename-column and drop-not-null: a column
//! added in the same migration has no readers yet.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M022",
    name: "drop-column",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... DROP COLUMN` on a table that existed before this migration.",
    why: "Application instances still running the previous release keep naming the column: \
          their INSERTs, UPDATEs and SELECTs fail with \"column does not exist\" from the moment \
          the migration commits until the last old instance is gone, and ORMs that cache the \
          column list (Rails, Hibernate) fail even for queries that never mention it. The data \
          is gone with the column, and indexes and constraints using it are dropped too \
          (`CASCADE` also drops dependent views and foreign keys). The drop itself is quick \
          (the column is only marked dropped; space comes back with the next rewrite) but \
          needs an ACCESS EXCLUSIVE lock, which queues behind long-running queries and blocks \
          everything queued after it. (PostgreSQL docs: ALTER TABLE, DROP COLUMN and Notes.)",
    instead: "Remove the column in two deploys. 1) Stop using it in the code: no reads, no \
              writes, and tell the ORM to ignore it (Rails `self.ignored_columns`, Django \
              `SeparateDatabaseAndState`); if it is NOT NULL without a default, drop NOT NULL \
              or add a default first so the new code can insert. Deploy. 2) In a later \
              migration, `SET lock_timeout` and drop it, stating in a suppression that the code \
              no longer uses it: `-- migsafe:allow drop-column reason: unused since <release>`.",
    rollback:
        "`ALTER TABLE <table> ADD COLUMN <column> <type>;` brings the column back empty: the \
               values are lost. Keep a copy first if they may be needed \
               (`CREATE TABLE <table>_<column>_backup AS SELECT id, <column> FROM <table>;`) or \
               restore them from a backup.",
    bad: include_str!("../../fixtures/rules/drop-column/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-column/good.sql"),
    check: Check::Statement(check),
};

/// Whether an earlier statement of this migration added `column` to `table` (so no deployed
/// code can depend on it yet).
/// A column renamed earlier keeps its readers (under the old name) and its data, so it is
/// not new: `RENAME a TO a_old; DROP COLUMN a_old` still drops an existing column.
pub(super) fn column_added_earlier(ctx: &Context, table: &QualifiedName, column: &str) -> bool {
    ctx.state.column_is_new(table, column)
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let dropped: Vec<String> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropColumn { name: col, .. } if !column_added_earlier(ctx, name, col) => {
                Some(ctx.state.describe_column(name, col))
            }
            _ => None,
        })
        .collect();
    if dropped.is_empty() {
        return None;
    }
    let names: Vec<&String> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropColumn { name: col, .. } if !column_added_earlier(ctx, name, col) => {
                Some(col)
            }
            _ => None,
        })
        .collect();
    let (noun, cols) = if dropped.len() == 1 {
        ("column", dropped.join(""))
    } else {
        ("columns", dropped.join(", "))
    };
    Some(
        Risk::new(format!(
            "Dropping {noun} {cols} of {name} breaks every running release that still reads or \
             writes it, and its data is lost; remove it from the code and deploy first"
        ))
        .with_instead(instead_for(ctx, name, &names))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The two-deploy recipe for the user's columns, the later drop behind the configured
/// lock_timeout.
fn instead_for(ctx: &Context, table: &QualifiedName, cols: &[&String]) -> String {
    let t = instead::table(table);
    let list = cols
        .iter()
        .map(|c| instead::name(c))
        .collect::<Vec<_>>()
        .join(", ");
    let drops = cols
        .iter()
        .map(|c| format!("DROP COLUMN {}", instead::name(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let rule = RULE.name;
    let first = cols.first().map(|c| instead::name(c)).unwrap_or_default();
    format!(
        "Remove {list} in two deploys. 1) Stop using it in the code: no reads, no writes, and \
         tell the ORM to ignore it (Rails `self.ignored_columns`, Django \
         `SeparateDatabaseAndState`); if it is NOT NULL without a default, `ALTER TABLE {t} \
         ALTER COLUMN {first} DROP NOT NULL;` first so the new code can insert. Deploy. 2) In a later \
         migration: `-- migsafe:allow {rule} reason: unused since <release>` then `{} ALTER \
         TABLE {t} {drops};`.",
        instead::set_lock_timeout(ctx.settings)
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table_and_column() {
        let found = check(&RULE, "ALTER TABLE rental DROP COLUMN last_update;");
        let instead = &found[0].instead;
        assert!(
            instead
                .contains("`SET lock_timeout = '2s'; ALTER TABLE rental DROP COLUMN last_update;`"),
            "{instead}"
        );
        assert!(
            instead.starts_with("Remove last_update in two deploys"),
            "{instead}"
        );
    }

    #[test]
    fn flags_dropping_a_column_of_an_existing_table() {
        assert_eq!(
            count(&RULE, "ALTER TABLE users DROP COLUMN legacy_flag;"),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE public.users DROP COLUMN IF EXISTS a, DROP COLUMN b CASCADE;"
            ),
            1
        );
        let found = check(&RULE, "ALTER TABLE users DROP COLUMN legacy_flag;");
        assert!(
            found[0].message.contains("`legacy_flag`") && found[0].message.contains("users"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].table.as_deref(), Some("users"));
    }

    #[test]
    fn ignores_new_tables_and_new_columns() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint, tmp text); ALTER TABLE t DROP COLUMN tmp;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN tmp text; ALTER TABLE users DROP COLUMN tmp;"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE users ADD COLUMN nickname text;"),
            0
        );
    }

    #[test]
    fn a_renamed_existing_column_is_still_existing() {
        // harbor/hydra shape: move the column aside, then drop it.
        let found = check(
            &RULE,
            "ALTER TABLE artifact RENAME COLUMN digest TO digest_old;\n\
             ALTER TABLE artifact ADD COLUMN digest text;\n\
             ALTER TABLE artifact DROP COLUMN digest_old;",
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("`digest_old` (renamed from `digest` on line 1)"),
            "{m}"
        );
        // The new column under the freed name is new: dropping it breaks nobody.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE artifact RENAME COLUMN digest TO digest_old;\n\
                 ALTER TABLE artifact ADD COLUMN digest text;\n\
                 ALTER TABLE artifact DROP COLUMN digest;"
            ),
            0
        );
        // A column added here and then renamed stays new.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN tmp text;\n\
                 ALTER TABLE users RENAME COLUMN tmp TO tmp2;\n\
                 ALTER TABLE users DROP COLUMN tmp2;"
            ),
            0
        );
        // Renaming the table keeps track of its new columns.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD COLUMN tmp text;\n\
                 ALTER TABLE users RENAME TO accounts;\n\
                 ALTER TABLE accounts DROP COLUMN tmp;"
            ),
            0
        );
    }

    #[test]
    fn a_reasoned_suppression_acknowledges_the_drop() {
        assert_eq!(
            count(
                &RULE,
                "-- migsafe:allow drop-column reason: unused since release 42\nALTER TABLE users DROP COLUMN legacy_flag;"
            ),
            0
        );
    }
}
