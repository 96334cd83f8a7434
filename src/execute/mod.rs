//! Evidence level "execution" (PRODUCT.md §3): running the pending migrations on a
//! disposable clone of the copy and measuring what they do.
//!
//! - `run`: the executor (transaction semantics, timeouts, refusal on non-disposable
//!   targets) and the rollback round trip.
//! - `trace`: what the run measured, per migration and statement (pure data).
//! - `locks`: relation snapshots, `pg_locks` sampling, the observer connection and the
//!   lock-hold bookkeeping.
//! - `ceiling`: the configured timeouts held as ceilings the migration cannot lift.
//! - `progress_views`: the server's own progress report for the running statement.
//! - `server_state`: the server's shared state before and after a run (issue #9).
//! - `rollback`, `expect`, `watch`: schema comparison for rollbacks, expected results and
//!   watched queries; `replan`: watched plans between a migration's statements and the
//!   statement a regression is blamed on.

pub mod ceiling;
pub mod content;
pub mod expect;
pub mod locks;
pub mod progress_views;
pub mod replan;
pub mod rollback;
pub mod run;
pub mod server_state;
pub mod trace;
pub mod watch;

pub use run::{run_pending, run_pending_watched, ExecOptions};
pub use trace::Trace;

use crate::config::Settings;
use crate::evidence::catalog::CatalogSnapshot;
use crate::evidence::connect::connect_read_only;
use crate::model::{Expected, ParsedMigration};
use anyhow::Result;
use std::collections::HashMap;
use watch::{Regression, WatchThresholds};

/// Everything a run on a disposable copy measured, keyed to the reviewed migrations.
#[derive(Debug, Default)]
pub struct ExecutionFacts {
    pub trace: Trace,
    /// For each run in `trace`, the index of its migration among the reviewed ones.
    pub reviewed: Vec<usize>,
    /// Checked expected results, by reviewed migration index.
    pub checked: HashMap<usize, Vec<Expected>>,
    /// Watched queries whose plans got worse over the run.
    pub regressions: Vec<Regression>,
    /// The same, per reviewed migration index: each migration's plans compared with those
    /// right before it ran, each blamed on the statement that caused it (`replan`).
    pub regressions_by_migration: HashMap<usize, Vec<Regression>>,
    /// The watched queries' plans before the pending migrations ran (for naming the
    /// queries that use an index a migration drops).
    pub watched_before: Vec<(watch::WatchedQuery, crate::plan::Plan)>,
}

/// Runs the reviewed migrations that are not `applied` on the disposable database at
/// `url` (the caller vouches for it with `options.disposable_confirmed`), checks their
/// expected results, and compares the watched queries' plans before and after.
pub async fn measure(
    url: &str,
    reviewed: &[ParsedMigration],
    applied: &[usize],
    snapshot: &CatalogSnapshot,
    settings: &Settings,
    options: &ExecOptions,
) -> Result<ExecutionFacts> {
    measure_with(url, reviewed, applied, snapshot, settings, options, &[]).await
}

/// [`measure`] with more watched queries than the watch file's: production's top queries
/// from a `--production` snapshot (issue #15), planned before and after like the others.
pub async fn measure_with(
    url: &str,
    reviewed: &[ParsedMigration],
    applied: &[usize],
    snapshot: &CatalogSnapshot,
    settings: &Settings,
    options: &ExecOptions,
    extra_watched: &[watch::WatchedQuery],
) -> Result<ExecutionFacts> {
    let mut facts = ExecutionFacts::default();
    let pending: Vec<ParsedMigration> = reviewed
        .iter()
        .enumerate()
        .filter(|(i, _)| !applied.contains(i))
        .map(|(i, m)| {
            facts.reviewed.push(i);
            m.clone()
        })
        .collect();

    let mut watched = match &settings.execution.watch {
        Some(path) => watch::load(path, settings.execution.watch_top)?,
        None => Vec::new(),
    };
    watched.extend(extra_watched.iter().cloned());
    let before = if watched.is_empty() {
        Vec::new()
    } else {
        let mut conn = connect_read_only(url).await?;
        watch::plans(&mut conn, &watched).await
    };

    facts.watched_before = watch::explained(&before);
    let ran = run::run_pending_watched(url, &pending, options, &watched).await;
    // Also when the run stopped with an error: the spinner line must not stay behind.
    crate::progress::finish();
    let (trace, plans_after) = ran?;
    facts.trace = trace;
    let thresholds = WatchThresholds {
        cost_factor: settings.execution.plan_cost_factor,
        large_table_rows: settings.thresholds.large_table_rows,
    };
    for ((planned, &index), run) in plans_after
        .iter()
        .zip(&facts.reviewed)
        .zip(&facts.trace.migrations)
    {
        let (Some(watched), Some(migration)) = (planned, reviewed.get(index)) else {
            continue;
        };
        let found = replan::attribute(watched, &migration.statements, run, &thresholds, |t| {
            snapshot.table(t).map(|t| t.rows)
        });
        if !found.is_empty() {
            facts.regressions_by_migration.insert(index, found);
        }
    }

    let mut conn = connect_read_only(url).await?;
    for (run, &index) in facts.trace.migrations.iter().zip(&facts.reviewed) {
        let Some(migration) = reviewed.get(index) else {
            continue;
        };
        if run.not_executed.is_some() {
            continue;
        }
        let measured = expect::MigrationMeasure {
            rows_affected: Some(run.statements.iter().filter_map(|s| s.rows).sum()),
            duration_ms: Some(run.duration_ms),
            longest_blocking_lock_ms: Some(
                run.statements
                    .iter()
                    .flat_map(|s| &s.locks)
                    .filter(|l| l.mode.blocks_writes())
                    .map(|l| l.held_ms)
                    .max()
                    .unwrap_or(0)
                    .max(crate::verdicts::cancelled_lock_ms(run, migration)),
            ),
            failed: run.failed.as_ref().map(|f| f.error.describe()),
            cancelled: run.failed.as_ref().is_some_and(|f| f.error.is_timeout()),
        };
        let checked = expect::check(&migration.meta.expected, &measured, Some(&mut conn)).await;
        facts.checked.insert(index, checked);
    }
    if !watched.is_empty() {
        let after = watch::plans(&mut conn, &watched).await;
        facts.regressions = watch::regressions(&before, &after, &thresholds, |t| {
            snapshot.table(t).map(|t| t.rows)
        });
    }
    Ok(facts)
}
