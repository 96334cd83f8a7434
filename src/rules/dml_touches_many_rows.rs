//! `dml-touches-many-rows`: the plain EXPLAIN of a migration's UPDATE, DELETE or
//! INSERT ... SELECT estimates more changed rows than one batch should hold.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, Severity, Statement, StatementKind};
use crate::plan::PlanOutcome;
use crate::report::text::thousands;

pub const RULE: Rule = Rule {
    code: "M055",
    name: "dml-touches-many-rows",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags an UPDATE, DELETE or INSERT ... SELECT whose plan on the copy (plain EXPLAIN, \
           not executed) estimates more changed rows than the batch threshold \
           (`thresholds.batch_rows`, default 100,000).",
    why: "One statement changes all of its rows in one transaction. Every updated or deleted \
          row stays locked until the migration commits, so application writes to any of them \
          wait; every change writes WAL, in a burst that replicas replay behind the primary; \
          every old row version stays until vacuum runs after the commit, bloating the table \
          and its indexes; and a failure near the end (a lock timeout, a constraint, a full \
          disk) rolls all of it back and starts over. The count is the planner's estimate from \
          the copy's statistics. Warning by default; an error when the estimate is above the \
          large-table threshold (`thresholds.large_table_rows`, default 1,000,000), where the \
          lock count, WAL volume and rollback cost are those of rewriting a large table. \
          (PostgreSQL docs: UPDATE; 13.3.2 \"Row-Level Locks\"; 25.1.2 \"Recovering Disk \
          Space\"; 14.1 \"Using EXPLAIN\".)",
    instead: "Change the rows in batches of at most `batch_rows`, each in its own short \
              transaction, outside the schema migration (a script, a background job, or a \
              migration that does not run in a transaction), walking the primary key: \
              `UPDATE subscriptions SET plan = 'basic' WHERE plan = 'legacy' AND id >= 1 AND \
              id < 5001;`, then `id >= 5001 AND id < 10001`, and so on to the largest id. For \
              DELETE, repeat `DELETE FROM t WHERE id IN (SELECT id FROM t WHERE <condition> \
              ORDER BY id LIMIT 5000);` until it deletes nothing. Pause between batches when \
              replicas lag. To fill a new column, prefer a constant `DEFAULT` on `ADD COLUMN` \
              (no rewrite since PostgreSQL 11) over an UPDATE.",
    rollback: "Not reversible from the statement: the old values are overwritten or deleted. \
               Copy what you change first (`CREATE TABLE <table>_backup AS SELECT * FROM \
               <table> WHERE <same condition>;`) and restore from the copy; in batches, a \
               failed batch rolls back only itself.",
    bad: include_str!("../../fixtures/rules/dml-touches-many-rows/bad.sql"),
    good: include_str!("../../fixtures/rules/dml-touches-many-rows/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let Some(PlanOutcome::Explained(plan)) = ctx.plan else {
        return None;
    };
    let (verb, table) = match &stmt.kind {
        StatementKind::Update { table, .. } => ("updates", Some(table)),
        StatementKind::Delete { table, .. } => ("deletes", Some(table)),
        StatementKind::Insert { table, .. } => ("inserts", Some(table)),
        _ => ("changes", None),
    };
    let table = table.or(plan.target())?;
    // Rows of a table created by a pending statement are invisible to everyone else until
    // its migration commits.
    if ctx.table_is_new(table) || ctx.schema.is_some_and(|s| s.table_is_new(table)) {
        return None;
    }
    let rows = plan.total_rows()?;
    let t = &ctx.settings.thresholds;
    if rows <= t.batch_rows {
        return None;
    }
    let preposition = if verb == "inserts" { "into" } else { "of" };
    let mut risk = Risk::new(format!(
        "This statement {verb} an estimated {} rows {preposition} {table} in one transaction, \
         more than one batch ({} rows); change them in batches by key range",
        thousands(rows),
        thousands(t.batch_rows)
    ))
    .on_table(table)
    .with_lock(LockMode::RowExclusive);
    if let Some(text) = instead_for(ctx, stmt, table) {
        risk = risk.with_instead(text);
    }
    if rows > t.large_table_rows {
        risk = risk.with_severity(Severity::Error);
    }
    risk.facts.rows = Some(rows);
    risk.facts.plan = Some(plan.excerpt());
    Some(risk)
}

/// The user's UPDATE or DELETE as one batch of `[thresholds] batch_rows`, to repeat; `None`
/// keeps the generic text (INSERT … SELECT, or DML with FROM/USING/RETURNING).
fn instead_for(
    ctx: &Context,
    stmt: &Statement,
    table: &crate::model::QualifiedName,
) -> Option<String> {
    let t = instead::table(table);
    let outside = instead::outside_transaction(ctx.migration.migration.layout);
    let batch = instead::batch(ctx.settings);
    match &stmt.kind {
        StatementKind::Update { .. } => {
            let (set, condition) = instead::update_parts(&stmt.text)?;
            let reached = instead::not_yet_set(&set);
            let pending = match (&condition, &reached) {
                (Some(c), Some(r)) => format!("({c}) AND {r}"),
                (Some(c), None) => c.clone(),
                (None, Some(r)) => r.clone(),
                (None, None) => "<rows not yet updated>".to_string(),
            };
            // A loop on a condition the SET does not change never ends: say so.
            let ends = if reached.is_some() || condition.is_none() {
                String::new()
            } else {
                format!(
                    " (it ends once no row matches; if the SET leaves `{}` true, walk the primary \
                     key by ranges of {batch} instead)",
                    condition.as_deref().unwrap_or_default()
                )
            };
            Some(format!(
                "Change the rows in batches of at most {batch}, each in its own short \
                 transaction, outside the schema migration (a script, a background job, or a \
                 migration {}): repeat {} until it updates no rows{ends}. Pause between batches \
                 when replicas lag.",
                outside.trim_start_matches("in a migration "),
                instead::batched_update(&t, &set, &pending, ctx.settings)
            ))
        }
        StatementKind::Delete { .. } => {
            let condition = instead::delete_condition(&stmt.text)?;
            Some(format!(
                "Delete in batches of at most {batch}, each in its own short transaction, {outside}: \
                 repeat {} until it deletes no rows. Pause between batches when replicas lag.",
                instead::batched_delete(&t, &condition, ctx.settings)
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::config::Settings;
    use crate::model::Severity;
    use crate::plan::samples::{self, explained, judge};
    use crate::plan::PlanOutcome;

    fn batch(rows: i64) -> Settings {
        let mut settings = Settings::default();
        settings.thresholds.batch_rows = rows;
        settings
    }

    const LEGACY: &str = "UPDATE subscriptions SET plan = 'basic' WHERE plan = 'legacy';";

    #[test]
    fn instead_is_the_users_statement_in_batches_of_the_configured_size() {
        let plan = explained(samples::UPDATE_MANY_ROWS);
        let risk = judge(&RULE, LEGACY, Some(&plan), &batch(5_000)).expect("finding");
        let instead = risk.instead.unwrap_or_default();
        assert!(
            instead.contains("`UPDATE subscriptions SET plan = 'basic' WHERE ctid IN (SELECT ctid FROM subscriptions WHERE (plan = 'legacy') AND plan IS DISTINCT FROM 'basic' LIMIT 5000);`"),
            "{instead}"
        );
        assert!(instead.contains("batches of at most 5000"), "{instead}");
    }

    #[test]
    fn flags_dml_estimated_above_the_batch_size() {
        let plan = explained(samples::UPDATE_MANY_ROWS);
        let risk = judge(&RULE, LEGACY, Some(&plan), &batch(5_000)).expect("finding");
        assert_eq!(
            risk.message,
            "This statement updates an estimated 7,000 rows of subscriptions in one \
             transaction, more than one batch (5,000 rows); change them in batches by key range"
        );
        assert_eq!(risk.facts.rows, Some(7_000));
        assert_eq!(risk.facts.lock.as_deref(), Some("RowExclusiveLock"));
        assert!(risk
            .facts
            .plan
            .as_deref()
            .unwrap_or("")
            .starts_with("Update on public.subscriptions"));
        assert_eq!(
            risk.severity, None,
            "a warning below the large-table threshold"
        );
    }

    #[test]
    fn stays_quiet_within_a_batch_and_without_a_plan() {
        let plan = explained(samples::UPDATE_MANY_ROWS);
        assert_eq!(judge(&RULE, LEGACY, Some(&plan), &batch(7_000)), None);
        assert_eq!(
            judge(&RULE, LEGACY, Some(&plan), &Settings::default()),
            None
        );
        assert_eq!(judge(&RULE, LEGACY, None, &batch(1)), None);
        let skipped = PlanOutcome::Skipped("relation does not exist".into());
        assert_eq!(judge(&RULE, LEGACY, Some(&skipped), &batch(1)), None);
    }

    #[test]
    fn more_rows_than_a_large_table_is_an_error() {
        let mut settings = batch(1_000);
        settings.thresholds.large_table_rows = 5_000;
        let plan = explained(samples::UPDATE_MANY_ROWS);
        let risk = judge(&RULE, LEGACY, Some(&plan), &settings).expect("finding");
        assert_eq!(risk.severity, Some(Severity::Error));
    }

    #[test]
    fn inserts_and_cte_deletes_count_their_rows() {
        let plan = explained(samples::INSERT_SELECT);
        let sql =
            "INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2024-01-05';";
        let risk = judge(&RULE, sql, Some(&plan), &batch(5_000)).expect("finding");
        assert!(
            risk.message
                .contains("inserts an estimated 5,759 rows into orders_archive"),
            "{}",
            risk.message
        );

        let plan = explained(samples::CTE_DELETE_INSERT);
        let sql = "WITH moved AS (DELETE FROM orders WHERE status = 'stuck' RETURNING *) \
                   INSERT INTO orders_archive SELECT * FROM moved;";
        let risk = judge(&RULE, sql, Some(&plan), &batch(100)).expect("finding");
        assert_eq!(risk.facts.rows, Some(200));
    }

    #[test]
    fn tables_created_in_this_migration_are_not_flagged() {
        let plan = explained(samples::INSERT_SELECT);
        let sql = "CREATE TABLE orders_archive (LIKE orders);\n\
                   INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2024-01-05';";
        assert_eq!(judge(&RULE, sql, Some(&plan), &batch(5_000)), None);
    }
}
