//! `update-without-where`: an `UPDATE` of every row of a table that existed before this migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M028",
    name: "update-without-where",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `UPDATE` without a `WHERE` clause on a table that existed before this migration.",
    why: "It rewrites every row in one transaction: each updated row stays locked until the \
          migration commits, so application writes to any of them wait; every row gets a new \
          version, doubling the table's size until vacuum catches up; and the burst of WAL \
          lags replicas. If it fails near the end, all of it rolls back. Without a `WHERE` it \
          may also simply be a mistake. (PostgreSQL docs: UPDATE; 13.3.2 \"Row-Level Locks\".)",
    instead: "Backfill in batches, each in its own short transaction: `UPDATE <table> SET ... \
              WHERE id >= <start> AND id < <start + 10000>` (or `WHERE id IN (SELECT id ... \
              LIMIT 10000)`), repeated outside the schema migration by a script or a \
              non-transactional migration. For a new column, prefer a constant `DEFAULT` on \
              `ADD COLUMN` (instant since PostgreSQL 11) over an UPDATE.",
    rollback: "Not reversible from the statement: the old values are overwritten. Copy what you \
               overwrite first (`CREATE TABLE <table>_backup AS SELECT id, <column> FROM \
               <table>;`) and restore with an `UPDATE ... FROM <table>_backup`.",
    bad: include_str!("../../fixtures/rules/update-without-where/bad.sql"),
    good: include_str!("../../fixtures/rules/update-without-where/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Update {
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
            "UPDATE without WHERE rewrites every row of {table} in one transaction, locking them \
             all until commit; backfill in batches"
        ))
        .with_instead(instead_for(ctx, stmt, table))
        .on_table(table)
        .with_lock(LockMode::RowExclusive),
    )
}

/// The user's SET list in a batched loop with the configured batch size; when the SET is one
/// `col = constant`, the loop's condition is the rows it has not reached yet.
fn instead_for(ctx: &Context, stmt: &Statement, table: &crate::model::QualifiedName) -> String {
    let t = instead::table(table);
    let set = instead::update_parts(&stmt.text)
        .map(|(set, _)| set)
        .unwrap_or_else(|| "...".to_string());
    let pending =
        instead::not_yet_set(&set).unwrap_or_else(|| "<rows not yet updated>".to_string());
    format!(
        "Backfill in batches, each in its own short transaction: repeat {} by a script or {} \
         until it updates no rows. For a new column, prefer a constant `DEFAULT` on `ADD COLUMN` \
         (instant since PostgreSQL 11) over an UPDATE.",
        instead::batched_update(&t, &set, &pending, ctx.settings),
        instead::outside_transaction(ctx.migration.migration.layout)
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_batches_the_users_set_list() {
        let found = check(&RULE, "UPDATE rental SET status = 'archived';");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`UPDATE rental SET status = 'archived' WHERE ctid IN (SELECT ctid FROM rental WHERE status IS DISTINCT FROM 'archived' LIMIT 100000);`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_unfiltered_updates_of_existing_tables() {
        let found = check(&RULE, "UPDATE users SET newsletter = false;");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("users"), "{}", found[0].message);
        assert_eq!(count(&RULE, "update public.users u set score = 0;"), 1);
    }

    #[test]
    fn ignores_filtered_updates_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "UPDATE users SET newsletter = false WHERE id < 10000;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint, a int); UPDATE t SET a = 1;"
            ),
            0
        );
    }
}
