//! `truncate-table`: `TRUNCATE` of a table that existed before this migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M026",
    name: "truncate-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `TRUNCATE` of a table that existed before this migration.",
    why: "Every row is deleted in one step, without `ON DELETE` triggers, and the data cannot be \
          recovered once the transaction commits. `TRUNCATE` takes an ACCESS EXCLUSIVE lock on \
          each table, blocking reads and writes and queueing behind long-running queries; \
          `CASCADE` also empties every table with a foreign key to it. It is not MVCC-safe: \
          concurrent transactions with an older snapshot see the table as empty. (PostgreSQL \
          docs: TRUNCATE, Notes.)",
    instead: "Delete only what must go, with a `WHERE` and in batches (`DELETE FROM <table> \
              WHERE id IN (SELECT id FROM <table> WHERE <condition> LIMIT 10000);` repeated), \
              which takes only row locks. If the table really must be emptied, keep a copy \
              first, set `lock_timeout`, and say why in a suppression: `-- migsafe:allow \
              truncate-table reason: <why>`.",
    rollback: "Within the same transaction `TRUNCATE` rolls back; after commit the rows are gone. \
               Restore them from a copy taken before (`CREATE TABLE <table>_backup AS TABLE \
               <table>;`, then `INSERT INTO <table> SELECT * FROM <table>_backup;`) or a backup.",
    bad: include_str!("../../fixtures/rules/truncate-table/bad.sql"),
    good: include_str!("../../fixtures/rules/truncate-table/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Truncate { tables } = &stmt.kind else {
        return None;
    };
    let existing: Vec<&QualifiedName> = tables.iter().filter(|t| !ctx.table_is_new(t)).collect();
    let first = existing.first()?;
    let list = existing
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Some(
        Risk::new(format!(
            "TRUNCATE {list} deletes every row irreversibly under an ACCESS EXCLUSIVE lock; \
             delete only the rows that must go, in batches"
        ))
        .with_instead({
            let deletes = existing
                .iter()
                .map(|t| instead::batched_delete(&instead::table(t), "<condition>", ctx.settings))
                .collect::<Vec<_>>()
                .join(" and ");
            let rule = RULE.name;
            format!(
                "Delete only what must go, with a `WHERE` and in batches (repeat {deletes} until \
                 it deletes no rows), which takes only row locks. If the table really must be \
                 emptied, keep a copy first (`pg_dump -t {}`), start with `{}`, and say why: \
                 `-- migsafe:allow {rule} reason: <why>`.",
                first,
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
    fn instead_names_the_users_tables() {
        let found = check(&RULE, "TRUNCATE rental, payment;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("DELETE FROM rental WHERE ctid IN (SELECT ctid FROM rental WHERE <condition> LIMIT 100000);` and `DELETE FROM payment"),
            "{instead}"
        );
        assert!(instead.contains("`pg_dump -t rental`"), "{instead}");
    }

    #[test]
    fn flags_truncating_existing_tables() {
        let found = check(&RULE, "TRUNCATE sessions;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("sessions"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].table.as_deref(), Some("sessions"));
        assert_eq!(
            count(&RULE, "TRUNCATE TABLE a, b RESTART IDENTITY CASCADE;"),
            1
        );
    }

    #[test]
    fn ignores_new_tables_and_filtered_deletes() {
        assert_eq!(
            count(&RULE, "CREATE TABLE staging (id bigint); TRUNCATE staging;"),
            0
        );
        assert_eq!(
            count(&RULE, "DELETE FROM sessions WHERE expires_at < now();"),
            0
        );
    }
}
