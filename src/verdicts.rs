//! Verdicts that never overstate (issue #11): what the execution level may and may not say
//! about a migration, decided in one place so that the report formats only print it.
//!
//! - A migration the run never reached is not "not checked because this is a static run":
//!   every `not checked` it carries names what stopped it (`settle_not_checked`).
//! - A migration that stopped the run tells the ones after it why it ran at all, when the
//!   copy's history is the reason (no history table, a stale copy): `explain_stops`.
//! - A statement cancelled by a timeout held its locks for at least as long as it ran:
//!   `cancelled_lock_ms`, the lower bound expectations are judged on.

use crate::execute::trace::{MigrationRun, Trace};
use crate::execute::watch::Regression;
use crate::metadata::{EXPECT_CHECKABLE, ROLLBACK_NOT_CHECKED};
use crate::model::{
    ExpectStatus, MigrationSummary, ParsedMigration, RollbackStatus, StatementKind,
};

/// How long a statement cancelled by `statement_timeout` held the strongest write-blocking
/// lock it takes: all of its run (its lock is taken when it starts). 0 when the run was not
/// cancelled that way (a `lock_timeout` means the lock was never granted).
pub fn cancelled_lock_ms(run: &MigrationRun, migration: &ParsedMigration) -> u64 {
    let Some(failure) = &run.failed else {
        return 0;
    };
    if failure.error.code != "57014" {
        return 0;
    }
    let blocks = migration
        .statements
        .get(failure.statement)
        .and_then(|s| crate::locks::strongest_lock(&s.kind))
        .is_some_and(|l| l.mode.blocks_writes());
    if !blocks {
        return 0;
    }
    run.statement(failure.statement)
        .map_or(0, |s| s.duration_ms)
}

/// Why a migration of an execution-level run has nothing measured: `None` when it ran.
fn not_run_reason(run: Option<&MigrationRun>) -> Option<String> {
    match run {
        None => Some("it is already applied on the copy, so it was not run again".to_string()),
        Some(run) => run
            .not_executed
            .as_ref()
            .map(|r| r.strip_prefix("not executed: ").unwrap_or(r).to_string()),
    }
}

/// Replaces the static run's "checkable only after running …" placeholders of an
/// execution-level review with the true reason each expectation and rollback stayed
/// unchecked: the migration was not executed (and why), it was already applied, it failed
/// before its rollback could run, or its rollback is prose.
pub fn settle_not_checked(
    summary: &mut MigrationSummary,
    pm: &ParsedMigration,
    run: Option<&MigrationRun>,
) {
    let reason = not_run_reason(run);
    for e in &mut summary.expected {
        if e.status != ExpectStatus::NotChecked || e.detail != EXPECT_CHECKABLE {
            continue;
        }
        if let Some(reason) = &reason {
            e.detail = format!("not checked: {reason}");
        }
    }
    let r = &mut summary.rollback;
    if r.status != RollbackStatus::NotChecked || r.detail != ROLLBACK_NOT_CHECKED {
        return;
    }
    r.detail = if let Some(reason) = reason {
        format!("not checked: {reason}")
    } else if let Some(failure) = run.and_then(|run| run.failed.as_ref()) {
        format!(
            "not checked: the migration itself failed on the copy ({}), so there was nothing \
             to roll back",
            failure.error.message
        )
    } else if crate::execute::run::rollback_sql(pm).is_none() {
        "not checked: the rollback note is prose, not SQL migsafe can run".to_string()
    } else {
        "not checked: the rollback was not run on the copy".to_string()
    };
}

/// When the migration that stopped the run ran only because the copy's history did not
/// record it (no history table, a stale copy), says so in the reason of every migration it
/// stopped: the fix is then the copy, not the migration. `pending_reason(i)` is the pending
/// classifier's reason for reviewed migration `i`.
pub fn explain_stops(
    trace: &mut Trace,
    reviewed: &[usize],
    mut pending_reason: impl FnMut(usize) -> Option<String>,
) {
    let mut stopper: Option<(String, String)> = None;
    for (run, &index) in trace.migrations.iter_mut().zip(reviewed) {
        if run.not_executed.is_none() {
            let stopped_here = run.failed.is_some() || run.rollback.is_some();
            if stopped_here {
                stopper = pending_reason(index)
                    .filter(|r| informative(r))
                    .map(|r| (run.path.clone(), r));
            }
            continue;
        }
        if let (Some(reason), Some((path, why))) = (run.not_executed.as_mut(), &stopper) {
            reason.push_str(&format!(
                "; {path} ran on the copy because its history says: {why} (is the copy stale, \
                 or not the database these migrations run on?)"
            ));
        }
    }
}

/// Pending reasons that tell the user something about the copy (not "the plain layout keeps
/// no history", which is the normal case of a plain folder).
fn informative(reason: &str) -> bool {
    !reason.is_empty() && !reason.contains("plain layout")
}

/// The statement of `migration` that a watched query's regression comes from: the one after
/// which its plan was measured worse (plans taken between statements), else the one that
/// drops an index the query used, else the first that acts on a table the query now scans
/// sequentially; `None` when no statement can be pointed at (the finding then stays on the
/// migration as a whole).
pub fn blame(regression: &Regression, migration: &ParsedMigration) -> Option<usize> {
    // Measured between statements: no guess needed.
    if let Some(blame) = &regression.blame {
        return Some(blame.statement);
    }
    let unqualified = |s: &str| {
        s.rsplit('.')
            .next()
            .unwrap_or(s)
            .trim_matches('"')
            .to_ascii_lowercase()
    };
    let lost: Vec<String> = regression
        .lost_indexes
        .iter()
        .map(|i| unqualified(i))
        .collect();
    let drops = migration.statements.iter().position(|s| match &s.kind {
        StatementKind::DropIndex { names, .. } => names
            .iter()
            .any(|n| lost.contains(&n.name.to_ascii_lowercase())),
        _ => false,
    });
    if drops.is_some() {
        return drops;
    }
    migration.statements.iter().position(|s| {
        crate::locks::table_locks(&s.kind).iter().any(|l| {
            regression
                .new_seq_scans
                .iter()
                .any(|(t, _)| t.matches(&l.table) || l.table.matches(t))
        })
    })
}

/// `drop-index-in-use` from the watched queries' plans alone: the copy's idx_scan counter
/// is 0 after a restore or clone, but a watched query whose plan reads the index shows that
/// the application uses it. `users` lists those queries.
pub fn index_used_by_watched(index: &str, users: &str) -> Option<crate::rules::Risk> {
    if users.is_empty() {
        return None;
    }
    Some(crate::rules::Risk::new(format!(
        "Dropping index {index}, which the plans of watched queries use: {users}. Their plans \
         change when it is gone (see plan-regression); the copy's own scan counter cannot tell, \
         since a restore or clone resets it."
    )))
}

/// Lock and rewrite rules whose statement, on an existing table, holds a lock that blocks
/// writes (or reads and writes) for as long as reading or rewriting the whole table takes:
/// at static level, where the table's size is unknown, they are errors, so that a CI run
/// without a copy fails on a statement that is an outage on any large table (issue #11).
/// With a copy (`--database-url`) their severity follows the table's size instead. Rules
/// whose lock is brief (dropping an index, detaching a partition), that are about queueing
/// (`lock-without-timeout`) or about DML (`update-without-where`) stay warnings.
pub const STATIC_ERRORS: &[&str] = &[
    "create-index-non-concurrently",
    "reindex-non-concurrently",
    "add-foreign-key-validating",
    "add-check-validating",
    "set-not-null",
    "add-column-volatile-default",
    "column-type-change",
    "add-unique-constraint",
    "add-exclusion-constraint",
    "add-stored-generated-or-serial-column",
    "vacuum-full-or-cluster",
    "set-logged-or-tablespace",
];

/// Raises a static-level risk of a [`STATIC_ERRORS`] rule to an error, unless the rule
/// already chose a severity (a type change that may be metadata-only is info) and says why.
pub fn static_default(rule: &str, stmt: &crate::model::Statement, risk: &mut crate::rules::Risk) {
    if !STATIC_ERRORS.contains(&rule) || risk.severity.is_some() || widens_only(stmt) {
        return;
    }
    risk.severity = Some(crate::model::Severity::Error);
    risk.message.push_str(
        " (an error without a copy: the table's size is unknown, and on a large table this \
         blocks it for minutes; --database-url sizes it)",
    );
}

/// A type change to a length- or precision-limited type of the same family
/// (`varchar(500)`, `numeric(12,2)`) is usually a widening, which needs no rewrite: without
/// a copy to tell, it stays a warning.
fn widens_only(stmt: &crate::model::Statement) -> bool {
    let StatementKind::AlterTable { actions, .. } = &stmt.kind else {
        return false;
    };
    let mut changes = actions
        .iter()
        .filter_map(|a| match a {
            crate::model::AlterAction::AlterColumnType {
                data_type, using, ..
            } => Some((data_type.to_ascii_lowercase(), using.is_none())),
            _ => None,
        })
        .peekable();
    changes.peek().is_some()
        && changes.all(|(t, no_using)| {
            no_using
                && ["varchar(", "character varying(", "numeric(", "decimal("]
                    .iter()
                    .any(|p| t.starts_with(p))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reasons_about_the_copy_are_passed_on() {
        assert!(informative(
            "not applied: the copy has no _sqlx_migrations table"
        ));
        assert!(informative("not recorded in public.schema_migrations"));
        assert!(!informative("the plain layout keeps no migration history"));
    }
}
