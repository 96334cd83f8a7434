//! `lock-held-too-long`: a measured lock that blocks reads or writes of an existing table,
//! held on the copy for longer than the lock budget.

use super::{Check, Risk, Rule};
use crate::config::Settings;
use crate::execute::locks::sql_name;
use crate::execute::trace::{HeldLock, MigrationRun, RelationKind, Until};
use crate::model::{Evidence, ParsedMigration, Severity};
use crate::report::text::{duration_ms, rows};

/// The budget when the run did not record one.
const DEFAULT_BUDGET_MS: u64 = 2_000;
/// Above this many budgets the finding is an error rather than a warning.
const ERROR_FACTOR: u64 = 5;

/// Said of every measured duration: the copy is not production.
pub const INDICATIVE: &str =
    "Durations on a copy are indicative: its hardware and load differ from production.";

pub const RULE: Rule = Rule {
    code: "M061",
    name: "lock-held-too-long",
    severity: Severity::Warning,
    evidence: Evidence::Execution,
    what: "Flags a lock that blocks reads or writes of an existing table (SHARE and stronger) \
           that the migration held on the disposable clone for longer than the lock budget \
           (default 2 s): measured from the statement that took it to its release, which is \
           the statement's end outside a transaction and COMMIT inside one. A warning up to \
           five times the budget, an error above.",
    why: "While the lock is held, every query that needs a conflicting lock waits: behind \
          ACCESS EXCLUSIVE every read and write of the table, behind SHARE, SHARE ROW EXCLUSIVE \
          or EXCLUSIVE every write. Waiting requests queue, and each waiting request blocks the \
          ones behind it, so a few seconds can exhaust the application's connection pool. \
          Locks taken inside a transaction are held until COMMIT, so a fast statement followed \
          by a slow one holds its lock for both (PostgreSQL docs: \"Explicit Locking\", \
          13.3.1). Durations on a copy are indicative: its hardware and load differ from \
          production.",
    instead: "Take the strong lock for as short a time as possible: use the non-blocking form \
              (CREATE INDEX CONCURRENTLY, ADD CONSTRAINT ... NOT VALID then VALIDATE, a new \
              column plus a batched backfill instead of ALTER COLUMN TYPE), move slow \
              statements out of the transaction that holds the lock, put the locking \
              statement last before COMMIT, and set `lock_timeout` so a migration that cannot \
              get its lock fails fast instead of queueing everyone behind it.",
    rollback: "The lock ends with the migration; nothing to roll back. If the change itself \
               must be undone, its rollback usually takes the same lock for as long: plan it \
               the same way.",
    bad: include_str!("../../fixtures/rules/lock-held-too-long/bad.sql"),
    good: include_str!("../../fixtures/rules/lock-held-too-long/good.sql"),
    check: Check::Engine,
};

/// Every statement that took a blocking lock on a table and held it beyond the budget:
/// (statement index, risk), one per statement, for its longest-held such lock.
pub(crate) fn risks(
    run: &MigrationRun,
    migration: &ParsedMigration,
    _settings: &Settings,
) -> Vec<(usize, Risk)> {
    let budget = if run.lock_budget_ms == 0 {
        DEFAULT_BUDGET_MS
    } else {
        run.lock_budget_ms
    };
    run.statements
        .iter()
        .filter_map(|statement| {
            let worst = statement
                .locks
                .iter()
                .filter(|l| l.kind == RelationKind::Table && l.mode.blocks_writes())
                .filter(|l| l.held_ms > budget)
                .max_by_key(|l| (l.held_ms, l.mode))?;
            let mut risk = Risk::new(message(worst, budget))
                .with_instead(instead_for(
                    worst,
                    migration.statements.get(statement.index),
                    budget,
                ))
                .on_table(&worst.relation)
                .with_lock(worst.mode);
            risk.severity = Some(if worst.held_ms > budget.saturating_mul(ERROR_FACTOR) {
                Severity::Error
            } else {
                Severity::Warning
            });
            risk.facts.lock_held_ms = Some(worst.held_ms);
            risk.facts.duration_ms = Some(statement.duration_ms);
            risk.facts.rows = worst.rows;
            risk.facts.bytes = worst.bytes;
            Some((statement.index, risk))
        })
        .collect()
}

/// The ways to shorten this lock on the user's table, with the statement that took it.
fn instead_for(
    lock: &HeldLock,
    statement: Option<&crate::model::Statement>,
    budget: u64,
) -> String {
    let table = super::instead::table(&lock.relation);
    let which = statement
        .map(|s| {
            format!(
                " taken by `{}`",
                super::instead::statement_head(&s.text, 120)
            )
        })
        .unwrap_or_default();
    let timeout = if budget.is_multiple_of(1000) {
        format!("{}s", budget / 1000)
    } else {
        format!("{budget}ms")
    };
    format!(
        "Hold the {} on {table}{which} for as short a time as possible: use the non-blocking \
         form (CREATE INDEX CONCURRENTLY, ADD CONSTRAINT ... NOT VALID then VALIDATE, a new \
         column plus a batched backfill instead of ALTER COLUMN TYPE), move slow statements out \
         of the transaction that holds the lock, put the locking statement last before COMMIT, \
         and start with `SET lock_timeout = '{timeout}';` (the lock budget) so a migration that \
         cannot get its lock fails fast instead of queueing everyone behind it.",
        sql_name(lock.mode)
    )
}

fn message(lock: &HeldLock, budget: u64) -> String {
    let table = &lock.relation;
    let size = lock
        .rows
        .map(|n| format!(" ({})", rows(n)))
        .unwrap_or_default();
    let who_waits = if lock.mode.blocks_reads() {
        format!("every read and write of {table} waits that long")
    } else {
        format!("every write to {table} waits that long (reads go on)")
    };
    let until = match lock.until {
        Until::Commit => ", until COMMIT",
        Until::Rollback => ", until the transaction was rolled back",
        Until::StatementEnd => "",
    };
    let observed = if lock.observed {
        " (seen from a second connection polling every 10 ms)"
    } else {
        ""
    };
    format!(
        "Held {} on {table}{size} for {}{until} on the copy{observed}: {who_waits}. The budget \
         is {}. {INDICATIVE}",
        sql_name(lock.mode),
        duration_ms(lock.held_ms),
        duration_ms(budget),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::trace::StatementRun;
    use crate::locks::LockMode;
    use crate::model::QualifiedName;

    fn lock(mode: LockMode, held_ms: u64, kind: RelationKind) -> HeldLock {
        HeldLock {
            relation: QualifiedName::new(Some("public"), "orders"),
            kind,
            mode,
            held_ms,
            until: Until::Commit,
            rows: Some(1_200_000),
            bytes: Some(90 << 20),
            observed: false,
        }
    }

    fn run(locks: Vec<Vec<HeldLock>>) -> MigrationRun {
        MigrationRun {
            lock_budget_ms: 2_000,
            statements: locks
                .into_iter()
                .enumerate()
                .map(|(index, locks)| StatementRun {
                    index,
                    duration_ms: 100,
                    locks,
                    ..StatementRun::default()
                })
                .collect(),
            ..MigrationRun::default()
        }
    }

    fn found(run: &MigrationRun) -> Vec<(usize, Risk)> {
        let m = crate::review::prepare(
            crate::load::load_text("t.sql", "SELECT 1;", None)
                .unwrap()
                .remove(0),
            &crate::metadata::Owners::default(),
        );
        risks(run, &m, &Settings::default())
    }

    #[test]
    fn reports_an_access_exclusive_lock_over_budget_with_what_waits() {
        let found = found(&run(vec![
            vec![],
            vec![lock(LockMode::AccessExclusive, 29_500, RelationKind::Table)],
        ]));
        assert_eq!(found.len(), 1);
        let (index, risk) = &found[0];
        assert_eq!(*index, 1);
        assert_eq!(
            risk.message,
            "Held ACCESS EXCLUSIVE on public.orders (1.2M rows) for 29.5 s, until COMMIT on the \
             copy: every read and write of public.orders waits that long. The budget is 2.0 s. \
             Durations on a copy are indicative: its hardware and load differ from production."
        );
        assert_eq!(risk.severity, Some(Severity::Error));
        assert_eq!(risk.facts.lock_held_ms, Some(29_500));
        assert_eq!(risk.facts.lock.as_deref(), Some("AccessExclusiveLock"));
        assert_eq!(risk.facts.rows, Some(1_200_000));
    }

    #[test]
    fn instead_names_the_locked_table_and_the_budget() {
        let found = found(&run(vec![vec![lock(
            LockMode::AccessExclusive,
            29_500,
            RelationKind::Table,
        )]]));
        let instead = found[0].1.instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("Hold the ACCESS EXCLUSIVE on public.orders taken by `SELECT 1;`"),
            "{instead}"
        );
        assert!(instead.contains("`SET lock_timeout = '2s';`"), "{instead}");
    }

    #[test]
    fn severity_is_a_warning_up_to_five_budgets() {
        let found = found(&run(vec![vec![lock(
            LockMode::ShareRowExclusive,
            10_000,
            RelationKind::Table,
        )]]));
        assert_eq!(found[0].1.severity, Some(Severity::Warning));
        assert!(found[0].1.message.contains("every write to public.orders"));
        assert!(found[0].1.message.contains("reads go on"));
    }

    #[test]
    fn ignores_short_non_blocking_and_index_locks() {
        let quiet = run(vec![
            vec![lock(LockMode::AccessExclusive, 2_000, RelationKind::Table)],
            vec![lock(
                LockMode::ShareUpdateExclusive,
                60_000,
                RelationKind::Table,
            )],
            vec![lock(LockMode::RowExclusive, 60_000, RelationKind::Table)],
            vec![lock(LockMode::AccessExclusive, 60_000, RelationKind::Index)],
        ]);
        assert!(found(&quiet).is_empty());
    }

    #[test]
    fn honours_the_budget_the_run_was_measured_with() {
        let mut tight = run(vec![vec![lock(LockMode::Share, 300, RelationKind::Table)]]);
        tight.lock_budget_ms = 200;
        let found = found(&tight);
        assert_eq!(found.len(), 1);
        assert!(found[0].1.message.contains("The budget is 200 ms"));
        assert_eq!(found[0].1.severity, Some(Severity::Warning));
    }
}
