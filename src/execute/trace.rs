//! What running the pending migrations on a disposable clone measured: per migration and
//! per statement, the wall time, the table locks held and for how long, the relations
//! rewritten, rows affected, the DML plan and PostgreSQL's error. Pure data, serialisable;
//! `run` fills it in, the execution rules (fails-on-copy, lock-held-too-long, table-rewrite)
//! and the reports read it.
//!
//! Every duration is a measurement on the copy, not a prediction for production: the copy's
//! hardware, cache and concurrent load differ (PRODUCT.md §3).

use crate::locks::LockMode;
use crate::model::QualifiedName;
use crate::plan::Plan;
use serde::{Serialize, Serializer};

/// The run of a list of migrations, in the order given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    /// One entry per migration given to `run_pending`, also those not executed (see
    /// [`MigrationRun::not_executed`]).
    pub migrations: Vec<MigrationRun>,
}

impl Trace {
    /// The run of the migration at `index` of the slice given to `run_pending`.
    pub fn migration(&self, index: usize) -> Option<&MigrationRun> {
        self.migrations.iter().find(|m| m.index == index)
    }

    /// Milliseconds each relation was held under a lock that blocks writes or reads, summed
    /// over the run, strongest mode first seen: the "time the copy was locked per table" total.
    pub fn locked_per_relation(&self) -> Vec<(QualifiedName, LockMode, u64)> {
        let mut totals: Vec<(QualifiedName, LockMode, u64)> = Vec::new();
        for lock in self
            .migrations
            .iter()
            .flat_map(|m| &m.statements)
            .flat_map(|s| &s.locks)
            .filter(|l| l.mode.blocks_writes() && l.kind == RelationKind::Table)
        {
            match totals.iter_mut().find(|t| t.0 == lock.relation) {
                Some(t) => {
                    t.1 = t.1.max(lock.mode);
                    t.2 = t.2.saturating_add(lock.held_ms);
                }
                None => totals.push((lock.relation.clone(), lock.mode, lock.held_ms)),
            }
        }
        totals.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        totals
    }
}

/// One migration's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrationRun {
    /// Index into the slice of migrations given to `run_pending`.
    pub index: usize,
    /// The migration's path as reports show it.
    pub path: String,
    /// The statements that ran, in order, up to and including the one that failed.
    pub statements: Vec<StatementRun>,
    /// The statement that failed; the migration stopped there (its transaction, if any, was
    /// rolled back).
    pub failed: Option<Failure>,
    /// Wall time of the whole migration: its statements, BEGIN and COMMIT (migsafe's own
    /// sampling queries excluded).
    pub duration_ms: u64,
    /// The rollback round trip (up, down, compare, up again), when the migration has rollback
    /// SQL and is not declared irreversible.
    pub rollback: Option<RollbackRun>,
    /// Why the migration did not run at all (an earlier migration failed); `None` when it ran.
    pub not_executed: Option<String>,
    /// The lock budget this run was measured against (`ExecOptions::lock_budget`), so that the
    /// rules judge the trace by the budget it was made with.
    pub lock_budget_ms: u64,
    /// Statements of the up part that were not sent to the copy because they act beyond its
    /// database (issue #9): the migration only partly ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<Withheld>,
    /// Why the rollback round trip was not run although rollback SQL exists (it holds a
    /// statement that acts beyond the database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_withheld: Option<String>,
    /// The `statement_timeout` and `lock_timeout` in force on the copy (0: unknown), so that a
    /// cancellation is reported with the limit it hit.
    pub statement_timeout_ms: u64,
    pub lock_timeout_ms: u64,
}

/// A statement migsafe did not send to the copy, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withheld {
    /// Index of the statement in the migration's up part.
    pub statement: usize,
    /// Its line in the file.
    pub line: usize,
    /// What it is, e.g. `CREATE ROLE`.
    pub what: String,
    pub reason: String,
}

impl MigrationRun {
    /// The run of statement `index` of the migration's up part.
    pub fn statement(&self, index: usize) -> Option<&StatementRun> {
        self.statements.iter().find(|s| s.index == index)
    }
}

/// A statement that failed, with PostgreSQL's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Index of the statement in the migration's up part.
    pub statement: usize,
    pub error: DbError,
}

/// PostgreSQL's error report for a failed statement (its ErrorResponse fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DbError {
    /// SQLSTATE, e.g. `23505` unique_violation, `23502` not_null_violation, `23503`
    /// foreign_key_violation, `55P03` lock_not_available, `57014` query_canceled.
    pub code: String,
    pub message: String,
    /// Where the offending value is: `Key (email)=(a@example.com) is duplicated.`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

impl DbError {
    /// `message: detail (hint: hint)`, as one line for a finding.
    pub fn describe(&self) -> String {
        let mut text = self.message.clone();
        if let Some(detail) = &self.detail {
            text.push_str(": ");
            text.push_str(detail);
        }
        if let Some(hint) = &self.hint {
            text.push_str(&format!(" (hint: {hint})"));
        }
        text
    }

    /// A timeout migsafe itself set on the copy (`lock_timeout`, `statement_timeout`)
    /// rather than a problem with the data.
    pub fn is_timeout(&self) -> bool {
        matches!(self.code.as_str(), "55P03" | "57014")
    }
}

/// One statement's run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatementRun {
    /// Index of the statement in the migration's up part.
    pub index: usize,
    /// Wall time of the statement alone, as the client saw it.
    pub duration_ms: u64,
    /// Table locks this statement took or strengthened, one per relation (its strongest mode),
    /// with how long each was held: until the statement ended (autocommit) or until the
    /// transaction ended. A lock the transaction already held at that strength is listed
    /// under the earlier statement that took it.
    pub locks: Vec<HeldLock>,
    /// Relations whose storage was rewritten (`pg_class.relfilenode` changed).
    pub rewritten: Vec<Rewrite>,
    /// Rows inserted, updated or deleted (the command tag's count); `None` for statements
    /// whose tag carries none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// EXPLAIN of a DML statement taken right before it ran (with `ANALYZE, BUFFERS` when
    /// the run was asked to analyze).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "plan_excerpt"
    )]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DbError>,
    /// What migsafe did differently from a plain run, e.g. "not executed: psql meta-command".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StatementRun {
    /// The strongest lock the statement took, for timelines.
    pub fn strongest_lock(&self) -> Option<&HeldLock> {
        self.locks
            .iter()
            .filter(|l| l.kind == RelationKind::Table)
            .max_by_key(|l| (l.mode, l.held_ms))
            .or_else(|| self.locks.iter().max_by_key(|l| (l.mode, l.held_ms)))
    }
}

/// What kind of relation a lock or rewrite concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// An ordinary, partitioned or materialized table: what queries read and write.
    #[default]
    Table,
    Index,
    Sequence,
    Other,
}

impl RelationKind {
    /// From `pg_class.relkind`.
    pub fn from_relkind(relkind: &str) -> RelationKind {
        match relkind {
            "r" | "p" | "m" => RelationKind::Table,
            "i" | "I" => RelationKind::Index,
            "S" => RelationKind::Sequence,
            _ => RelationKind::Other,
        }
    }
}

/// When a lock was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// The statement ran outside a transaction block.
    #[default]
    StatementEnd,
    /// The transaction's COMMIT (framework-wrapped or explicit).
    Commit,
    /// The transaction was rolled back (a later statement failed).
    Rollback,
}

/// A table-level lock held by the migration's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldLock {
    pub relation: QualifiedName,
    pub kind: RelationKind,
    #[serde(serialize_with = "lock_mode")]
    pub mode: LockMode,
    /// From the start of the statement that took it to its release, counting the migration's
    /// statements and COMMIT but not migsafe's sampling queries in between.
    pub held_ms: u64,
    pub until: Until,
    /// `pg_class.reltuples` before the statement; `None` when never analyzed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    /// Size of the relation's main fork before the statement (`relpages` × block size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
    /// Seen only by the observer connection (a statement that cannot run in a transaction,
    /// such as CREATE INDEX CONCURRENTLY): polled every few milliseconds, so the time is
    /// accurate to about one poll interval.
    pub observed: bool,
}

/// A relation whose storage file was replaced by a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    pub relation: QualifiedName,
    pub kind: RelationKind,
    pub old_filenode: i64,
    pub new_filenode: i64,
    /// `pg_class.reltuples` before the statement; `None` when never analyzed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    /// Size of the new main fork (what the rewrite wrote).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
}

/// The rollback round trip of one migration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RollbackRun {
    /// The rollback SQL failed (or re-applying up after it did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DbError>,
    /// What the schema after up + down differs in from the schema before up; empty when the
    /// rollback restores it.
    pub differences: Vec<String>,
    /// What the rows of the tables the migration touches differ in after up + down
    /// (`execute::content`); empty when the data is restored too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_loss: Vec<String>,
}

fn lock_mode<S: Serializer>(mode: &LockMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(mode.pg_name())
}

fn plan_excerpt<S: Serializer>(plan: &Option<Plan>, s: S) -> Result<S::Ok, S::Error> {
    match plan {
        Some(p) => s.serialize_str(&p.excerpt()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(table: &str, mode: LockMode, held_ms: u64) -> HeldLock {
        HeldLock {
            relation: QualifiedName::new(Some("public"), table),
            kind: RelationKind::Table,
            mode,
            held_ms,
            until: Until::Commit,
            rows: None,
            bytes: None,
            observed: false,
        }
    }

    #[test]
    fn totals_add_up_blocking_locks_per_table() {
        let statement = |locks| StatementRun {
            locks,
            ..StatementRun::default()
        };
        let trace = Trace {
            migrations: vec![MigrationRun {
                statements: vec![
                    statement(vec![
                        lock("orders", LockMode::AccessExclusive, 1200),
                        lock("users", LockMode::RowExclusive, 5000),
                    ]),
                    statement(vec![lock("orders", LockMode::Share, 300)]),
                ],
                ..MigrationRun::default()
            }],
        };
        let totals = trace.locked_per_relation();
        assert_eq!(totals.len(), 1, "{totals:?}");
        assert_eq!(totals[0].0.name, "orders");
        assert_eq!(totals[0].1, LockMode::AccessExclusive);
        assert_eq!(totals[0].2, 1500);
    }

    #[test]
    fn serialises_lock_modes_by_postgres_name() {
        let json = serde_json::to_string(&lock("orders", LockMode::AccessExclusive, 7)).unwrap();
        assert!(json.contains("\"mode\":\"AccessExclusiveLock\""), "{json}");
        assert!(json.contains("\"until\":\"commit\""), "{json}");
    }

    #[test]
    fn describes_errors_with_detail_and_hint() {
        let e = DbError {
            code: "23505".into(),
            message: "could not create unique index \"u\"".into(),
            detail: Some("Key (email)=(a@x) is duplicated.".into()),
            hint: None,
            ..DbError::default()
        };
        assert_eq!(
            e.describe(),
            "could not create unique index \"u\": Key (email)=(a@x) is duplicated."
        );
        assert!(!e.is_timeout());
    }
}
