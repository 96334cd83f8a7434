//! `delete-without-where`: a `DELETE` of every row of a table that existed before this migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M029",
    name: "delete-without-where",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DELETE` without a `WHERE` clause on a table that existed before this migration.",
    why: "It deletes every row in one transaction: each row stays locked until the migration \
          commits, so application updates to any of them wait; `ON DELETE` triggers and \
          cascading foreign keys fire for every row; the dead rows keep the table's full size \
          until vacuum; and the WAL burst lags replicas. The data is gone once it commits, and \
          without a `WHERE` it may simply be a mistake. (PostgreSQL docs: DELETE; 13.3.2 \
          \"Row-Level Locks\".)",
    instead: "Delete only the rows that must go, in batches, each in its own short transaction: \
              `DELETE FROM <table> WHERE id IN (SELECT id FROM <table> WHERE <condition> LIMIT \
              10000);` repeated by a script or a non-transactional migration. To retire the whole \
              table, stop using it and drop it later (see drop-table).",
    rollback: "Not reversible from the statement. Copy the rows first (`CREATE TABLE \
               <table>_backup AS TABLE <table>;`) and restore with `INSERT INTO <table> SELECT * \
               FROM <table>_backup;`, or restore from a backup.",
    bad: include_str!("../../fixtures/rules/delete-without-where/bad.sql"),
    good: include_str!("../../fixtures/rules/delete-without-where/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Delete {
        table,
        has_where: false,
    } = &stmt.kind
    else {
        return None;
    };
    if ctx.table_is_new(table) {
        return None;
    }
    Some(
        Risk::new(format!(
            "DELETE without WHERE removes every row of {table} in one transaction, locking them \
             all until commit; delete only what must go, in batches"
        ))
        .with_instead({
            let t = instead::table(table);
            format!(
                "Delete only the rows that must go, in batches, each in its own short \
                 transaction: repeat {} by a script or {} until it deletes no rows. To retire \
                 the whole of {t}, stop using it and drop it later (see drop-table).",
                instead::batched_delete(&t, "<condition>", ctx.settings),
                instead::outside_transaction(ctx.migration.migration.layout)
            )
        })
        .on_table(table)
        .with_lock(LockMode::RowExclusive),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table_and_batch_size() {
        let found = check(&RULE, "DELETE FROM rental;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`DELETE FROM rental WHERE ctid IN (SELECT ctid FROM rental WHERE <condition> LIMIT 100000);`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_unfiltered_deletes_of_existing_tables() {
        let found = check(&RULE, "DELETE FROM sessions;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("sessions"),
            "{}",
            found[0].message
        );
        assert_eq!(count(&RULE, "delete from public.sessions s;"), 1);
    }

    #[test]
    fn ignores_filtered_deletes_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "DELETE FROM sessions WHERE expires_at < now() - interval '30 days';"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "CREATE TABLE t (id bigint); DELETE FROM t;"),
            0
        );
    }
}
