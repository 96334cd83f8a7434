//! `drop-table`: `DROP TABLE` of a table that existed before this migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M023",
    name: "drop-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP TABLE` of a table that existed before this migration (a table created \
           and dropped in the same migration is fine).",
    why: "The data is deleted for good, and any running release, job or service that still \
          reads or writes the table fails with \"relation does not exist\". With `CASCADE` the \
          drop also removes views that use the table and foreign keys that point at it, \
          silently, in other tables. The drop takes an ACCESS EXCLUSIVE lock on the table, and \
          also locks the tables linked to it by foreign keys (their referential-integrity \
          triggers are removed), so it queues behind long-running queries on any of them. (PostgreSQL docs: DROP TABLE.)",
    instead: "Retire the table in steps: 1) remove every read and write from the code and \
              deploy; 2) check it is unused (`pg_stat_user_tables` shows no new scans or \
              writes since the deploy) and keep a dump of it (`pg_dump -t <table>`); 3) drop \
              it in a later migration with `SET lock_timeout`, acknowledging the check in a \
              suppression: `-- migsafe:allow drop-table reason: unused since <release>, dump \
              at <location>`. Avoid `CASCADE`: drop dependent objects explicitly so the \
              review shows them.",
    rollback: "Not reversible from SQL: `CREATE TABLE` brings back an empty table. Restore the \
               rows from the dump taken before the drop (`pg_restore -t <table>`) or from a \
               backup, then recreate its indexes, constraints, grants and dependent views.",
    bad: include_str!("../../fixtures/rules/drop-table/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-table/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::DropTable { names, cascade, .. } = &stmt.kind else {
        return None;
    };
    let existing: Vec<&QualifiedName> = names.iter().filter(|t| !ctx.table_is_new(t)).collect();
    let first = existing.first()?;
    let list = existing
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let cascade = if *cascade {
        "; CASCADE also drops the views and foreign keys that depend on it"
    } else {
        ""
    };
    Some(
        Risk::new(format!(
            "Dropping {list} deletes its data for good and breaks any code still using it; make \
             sure nothing reads or writes it and keep a dump{cascade}"
        ))
        .with_instead({
            let names = existing
                .iter()
                .map(|t| instead::table(t))
                .collect::<Vec<_>>()
                .join(", ");
            let rule = RULE.name;
            format!(
                "Retire {names} in steps: 1) remove every read and write from the code and \
                 deploy; 2) check it is unused (`pg_stat_user_tables` shows no new scans or \
                 writes since the deploy) and keep a dump (`pg_dump -t {first}`); 3) in a later \
                 migration, `-- migsafe:allow {rule} reason: unused since <release>, dump at \
                 <location>` then `{} DROP TABLE {names};` without CASCADE: drop dependent \
                 objects explicitly so the review shows them.",
                instead::set_lock_timeout(ctx.settings)
            )
        })
        .on_table(first)
        .with_lock(LockMode::AccessExclusive),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table() {
        let found = check(&RULE, "DROP TABLE rental_archive;");
        let instead = &found[0].instead;
        assert!(instead.contains("`pg_dump -t rental_archive`"), "{instead}");
        assert!(
            instead.contains("`SET lock_timeout = '2s'; DROP TABLE rental_archive;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_dropping_existing_tables() {
        let found = check(&RULE, "DROP TABLE legacy_events;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("legacy_events"),
            "{}",
            found[0].message
        );
        let found = check(&RULE, "DROP TABLE IF EXISTS a, b CASCADE;");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("a, b"), "{}", found[0].message);
        assert!(found[0].message.contains("CASCADE"), "{}", found[0].message);
    }

    #[test]
    fn ignores_tables_created_in_this_migration() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE scratch (id bigint); DROP TABLE scratch;"
            ),
            0
        );
        // Only the pre-existing table is named.
        let found = check(
            &RULE,
            "CREATE TABLE scratch (id bigint); DROP TABLE scratch, old_stuff;",
        );
        assert_eq!(found.len(), 1);
        assert!(
            !found[0].message.contains("scratch"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_reasoned_suppression_acknowledges_the_drop() {
        assert_eq!(
            count(
                &RULE,
                "-- migsafe:allow drop-table reason: unused since release 42\nDROP TABLE legacy_events;"
            ),
            0
        );
    }
}
