//! `detach-partition-non-concurrently`: `ALTER TABLE ... DETACH PARTITION` without
//! `CONCURRENTLY` on an existing partitioned table.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M016",
    name: "detach-partition-non-concurrently",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` on a partitioned \
           table that existed before this migration.",
    why: "A plain detach takes an ACCESS EXCLUSIVE lock on the partitioned table (and the \
          partition): every read and write on any partition waits, first behind every running \
          query on the table and then until the transaction commits. (PostgreSQL docs: ALTER \
          TABLE, \"DETACH PARTITION\"; Partitioning, \"Partition Maintenance\".)",
    instead: "On PostgreSQL 14+ use `ALTER TABLE <parent> DETACH PARTITION <partition> \
              CONCURRENTLY;` in a migration that does not run inside a transaction. It takes \
              only SHARE UPDATE EXCLUSIVE on the parent, so queries continue. It is not allowed \
              when the table has a DEFAULT partition; if it is interrupted, finish it with \
              `ALTER TABLE <parent> DETACH PARTITION <partition> FINALIZE;`.",
    rollback: "`ALTER TABLE <parent> ATTACH PARTITION <partition> FOR VALUES ...;` (SHARE UPDATE \
               EXCLUSIVE on the parent; it scans the partition unless a CHECK constraint \
               matching the bounds exists).",
    bad: include_str!("../../fixtures/rules/detach-partition-non-concurrently/bad.sql"),
    good: include_str!("../../fixtures/rules/detach-partition-non-concurrently/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let partition = actions.iter().find_map(|action| match action {
        AlterAction::DetachPartition {
            partition,
            concurrently: false,
            finalize: false,
        } => Some(partition),
        _ => None,
    })?;
    Some(
        Risk::new(format!(
            "Detaching partition {partition} without CONCURRENTLY locks {name} ACCESS \
             EXCLUSIVE: reads and writes on every partition of {name} wait until it commits"
        ))
        .with_instead(instead_for(ctx, name, partition))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// `DETACH PARTITION ... CONCURRENTLY` with the user's parent and partition.
fn instead_for(
    ctx: &Context,
    parent: &crate::model::QualifiedName,
    partition: &crate::model::QualifiedName,
) -> String {
    let p = instead::table(parent);
    let part = instead::table(partition);
    format!(
        "On PostgreSQL 14+ use `ALTER TABLE {p} DETACH PARTITION {part} CONCURRENTLY;` {}. It \
         takes only SHARE UPDATE EXCLUSIVE on {p}, so queries continue. It is not allowed when \
         {p} has a DEFAULT partition; if it is interrupted, finish it with `ALTER TABLE {p} \
         DETACH PARTITION {part} FINALIZE;`.",
        instead::outside_transaction(ctx.migration.migration.layout)
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_parent_and_partition() {
        let found = check(
            &RULE,
            "ALTER TABLE payment DETACH PARTITION payment_2020_01;",
        );
        let instead = &found[0].instead;
        assert!(
            instead
                .contains("`ALTER TABLE payment DETACH PARTITION payment_2020_01 CONCURRENTLY;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`ALTER TABLE payment DETACH PARTITION payment_2020_01 FINALIZE;`"),
            "{instead}"
        );
        assert!(!instead.contains("<parent>"), "{instead}");
    }

    #[test]
    fn flags_plain_detach() {
        let findings = check(
            &RULE,
            "ALTER TABLE measurements DETACH PARTITION measurements_2023;",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("measurements_2023"));
        assert_eq!(findings[0].table.as_deref(), Some("measurements"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
    }

    /// FINALIZE is the rule's own advice for an interrupted CONCURRENTLY detach: it takes SHARE
    /// UPDATE EXCLUSIVE (PostgreSQL docs: ALTER TABLE, DETACH PARTITION).
    #[test]
    fn finalize_is_not_a_blocking_detach() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE measurements DETACH PARTITION measurements_2023 FINALIZE;"
            ),
            0
        );
    }

    #[test]
    fn allows_concurrent_detach_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\n\
                 ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE logs (at timestamptz NOT NULL) PARTITION BY RANGE (at);\n\
                 ALTER TABLE logs DETACH PARTITION logs_2023;"
            ),
            0
        );
    }
}
