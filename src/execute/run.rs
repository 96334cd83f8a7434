//! The executor: runs pending migrations on a disposable database exactly as their framework
//! would (the part's runner model, see [`Grouping`]; explicit BEGIN/COMMIT honoured) and
//! measures each statement:
//! wall time, rows, the table locks it held and for how long, the relations it rewrote, the
//! plan of its DML, and PostgreSQL's error when it fails.
//!
//! Safety (PRODUCT.md §4): nothing here runs unless the caller confirms the target is
//! disposable (a clone migsafe made, a database it restored, or `--disposable`), and every
//! session sets `lock_timeout` and `statement_timeout`.
//!
//! Decisions:
//! - Statements are grouped into transactions as the part's runner groups them (issue #10):
//!   `File` runs them inside one `BEGIN` … `COMMIT`; `Implicit` (a runner that sends the file
//!   as one query string) inside one transaction that begins before the first statement and
//!   again after every `COMMIT`, exactly as PostgreSQL runs a multi-statement query, so a
//!   `CREATE INDEX CONCURRENTLY` among other statements fails here as it fails in production
//!   (the same happens after a `COMMIT` in a `File` part that is sent as one query);
//!   `Statement` runs each on its own; `Unknown` runs each on its own as psql would, and the
//!   report says that assumption.
//! - A statement outside any transaction is run as `BEGIN; <statement>; COMMIT`, which is
//!   what PostgreSQL's implicit transaction does anyway, so that its locks can be sampled
//!   before they are released. Statements that refuse to run in a transaction block
//!   (CREATE INDEX CONCURRENTLY, VACUUM, ...; SQLSTATE 25001) run bare instead, while a
//!   second connection polls their locks every 10 ms.
//! - Hold times are on a "migration clock" that counts the migration's own statements and
//!   COMMIT but not migsafe's sampling queries in between, so the measurement is what the
//!   migration alone would hold, not what migsafe's instrumentation adds.
//! - When a statement fails, the migration's transaction is rolled back and the run stops:
//!   later migrations usually depend on the failed one, and running them against a state
//!   production would never reach would report failures that are only echoes. They are listed
//!   with `not_executed` and the reason.
//! - EXPLAIN of DML is plain (`VERBOSE, FORMAT JSON`, in a savepoint inside a transaction);
//!   with `analyze` the statement itself is run as `EXPLAIN (ANALYZE, BUFFERS, ...)`, so it
//!   executes once, and its rows come from the plan.

use super::ceiling::{Cancelled, Watchdog};
use super::locks::{self, LockBook, Observer, Relations};
use super::server_state;
use super::trace::{
    DbError, Failure, MigrationRun, RollbackRun, StatementRun, Trace, Until, Withheld,
};
use crate::evidence::connect::{connect_writable, redact_url, SessionLimits};
use crate::evidence::explain::explain_candidate;
use crate::model::{
    AlterAction, ParsedMigration, Part, RollbackSource, Statement, StatementKind, Transaction,
};
use crate::parse::server_wide::{self, ServerWide};
use crate::plan::Plan;
use anyhow::{anyhow, bail, Context as _, Result};
use sqlx::postgres::{PgConnection, PgDatabaseError};
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::time::{Duration, Instant};

/// How a run on a disposable database behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOptions {
    /// The caller vouches that the target is disposable: a clone migsafe made
    /// (`--clone`), a database it restored (`--restore`), or one the user marked
    /// `--disposable`. Without it `run_pending` refuses to touch the database.
    pub disposable_confirmed: bool,
    /// `lock_timeout` of the migration session.
    pub lock_timeout: Duration,
    /// `statement_timeout` of the migration session.
    pub statement_timeout: Duration,
    /// A lock that blocks reads or writes held longer than this is `lock-held-too-long`.
    pub lock_budget: Duration,
    /// Run DML as `EXPLAIN (ANALYZE, BUFFERS)` (it still executes once).
    pub analyze: bool,
    /// Run the rollback round trip (up, down, compare, up again) where rollback SQL exists.
    pub verify_rollback: bool,
    /// How long to wait for the server to accept a connection.
    pub connect_timeout: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            disposable_confirmed: false,
            // Generous: real copies are large, and a timeout here is a failed review.
            lock_timeout: Duration::from_secs(300),
            statement_timeout: Duration::from_secs(300),
            lock_budget: Duration::from_secs(2),
            analyze: false,
            verify_rollback: true,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Runs `migrations` in order on the disposable database at `url` and returns what was
/// measured. Refuses unless `options.disposable_confirmed`.
///
/// `Err` means the run itself could not proceed (no connection, the connection was lost, a
/// sampling query failed); a migration that fails on the data is not an error but a
/// `MigrationRun::failed` in the trace.
pub async fn run_pending(
    url: &str,
    migrations: &[ParsedMigration],
    options: &ExecOptions,
) -> Result<Trace> {
    Ok(run_pending_watched(url, migrations, options, &[]).await?.0)
}

/// The watched queries' plans before each migration that ran and after each of its
/// statements that could change them (`None` for a migration that did not run), in the
/// order of the migrations given.
pub type PlansAfter = Vec<Option<super::replan::WatchedRun>>;

/// [`run_pending`], planning the `watched` queries on the same session after each statement
/// that can change their plans (`execute::replan`), so that a plan regression is blamed on
/// the statement that caused it (issue #11, item 3).
pub async fn run_pending_watched(
    url: &str,
    migrations: &[ParsedMigration],
    options: &ExecOptions,
    watched: &[super::watch::WatchedQuery],
) -> Result<(Trace, PlansAfter)> {
    let mut plans_after: PlansAfter = Vec::with_capacity(migrations.len());
    if !options.disposable_confirmed {
        bail!(
            "Refusing to run migrations on {}: it is not known to be disposable. migsafe only \
             executes migrations on a clone it made (--clone), a database it restored \
             (--restore), or a database you mark as a throwaway copy (--disposable).",
            redact_url(url)
        );
    }
    let mut session = Session::open(url, options).await?;
    if !watched.is_empty() {
        session.watching = Some(Watching::start(&mut session.conn, watched, options).await?);
    }
    let mut trace = Trace::default();
    let mut stopped: Option<String> = None;
    for (index, migration) in migrations.iter().enumerate() {
        let mut run = MigrationRun {
            index,
            path: migration.migration.path.clone(),
            lock_budget_ms: locks::millis(options.lock_budget),
            statement_timeout_ms: locks::millis(options.statement_timeout),
            lock_timeout_ms: locks::millis(options.lock_timeout),
            ..MigrationRun::default()
        };
        if let Some(reason) = &stopped {
            run.not_executed = Some(reason.clone());
            trace.migrations.push(run);
            plans_after.push(None);
            continue;
        }
        crate::progress::migration(&migration.migration.path, index, migrations.len());
        let mut down = options
            .verify_rollback
            .then(|| rollback_sql(migration))
            .flatten();
        // A rollback that acts beyond the database is never run (issue #9): its round trip
        // is not checked, and the report says why instead of "restores".
        if let Some((statements, _)) = &down {
            if let Some((stmt, found)) = statements.iter().find_map(|s| {
                crate::parse::server_wide::server_wide(&s.text).map(|found| (s, found))
            }) {
                run.rollback_withheld = Some(format!(
                    "not checked: the rollback was not run on the copy because its statement \
                     {} {}",
                    first_words(&stmt.text),
                    withheld_why(&found)
                ));
                down = None;
            }
        }
        let before = match down {
            Some(_) => Some((
                super::rollback::schema_state(&mut session.conn).await?,
                super::content::fingerprint(&mut session.conn, &super::content::touched(migration))
                    .await?,
            )),
            None => None,
        };
        let plans_before = session.watching.as_mut().map(|w| {
            w.steps = Some(Vec::new());
            w.latest.clone()
        });
        session
            .run_statements(
                &migration.statements,
                Grouping::of(&migration.migration.up),
                &mut run,
            )
            .await
            .with_context(|| format!("Failed to run {} on the clone", migration.migration.path))?;
        // Only the up part's own run is followed: the rollback round trip re-applies it.
        let steps = session
            .watching
            .as_mut()
            .and_then(|w| w.steps.take())
            .unwrap_or_default();
        if let Some(failure) = &run.failed {
            let line = migration
                .statements
                .get(failure.statement)
                .map_or(0, |s| s.start.line);
            stopped = Some(format!(
                "not executed: {} failed at line {line} ({}), and later migrations usually \
                 depend on it",
                migration.migration.path,
                failure.error.describe()
            ));
        } else if let (Some((down, grouping)), Some(before)) = (down, before) {
            let (rollback, continue_after) = session
                .round_trip(migration, &down, grouping, &before)
                .await
                .with_context(|| {
                    format!(
                        "Failed to verify the rollback of {} on the clone",
                        migration.migration.path
                    )
                })?;
            if let Some(reason) = continue_after {
                stopped = Some(reason);
            }
            run.rollback = Some(rollback);
        }
        plans_after.push(plans_before.map(|before| super::replan::WatchedRun { before, steps }));
        trace.migrations.push(run);
    }
    session.close().await;
    crate::progress::finish();
    Ok((trace, plans_after))
}

/// How a runner groups a part's statements into transactions (the part's [`Transaction`]
/// mode and whether it sends the part as one query string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    pub mode: Transaction,
    pub one_query: bool,
}

impl Grouping {
    /// The grouping of a loaded part.
    pub fn of(part: &Part) -> Grouping {
        Grouping {
            mode: part.transaction,
            one_query: part.transaction == Transaction::Implicit
                || (part.transaction == Transaction::File && part.runner.one_query),
        }
    }

    /// Each statement on its own, as psql runs a script.
    pub const STATEMENT: Grouping = Grouping {
        mode: Transaction::Statement,
        one_query: false,
    };

    /// The runner opens a transaction around the whole part.
    fn wraps(self) -> bool {
        self.mode == Transaction::File
    }

    /// Statements outside an explicit block run in an implicit transaction: the part is one
    /// query string of several statements.
    fn implicit(self, statements: &[Statement]) -> bool {
        self.one_query
            && statements
                .iter()
                .filter(|s| !matches!(s.kind, StatementKind::PsqlMeta { .. }))
                .count()
                > 1
    }

    /// Whether a failure leaves nothing of the part applied.
    pub fn atomic(self) -> bool {
        self.mode.is_transactional()
    }
}

/// The machine-readable rollback of a migration, and how its statements are grouped into
/// transactions: the down/undo part, or `-- rollback:` text that is SQL (prose is not run).
/// `None` when there is none or the migration is declared irreversible.
pub fn rollback_sql(migration: &ParsedMigration) -> Option<(Vec<Statement>, Grouping)> {
    let rollback = &migration.meta.rollback;
    if rollback.irreversible {
        return None;
    }
    match rollback.source {
        RollbackSource::DownFile if !migration.down_statements.is_empty() => Some((
            migration.down_statements.clone(),
            migration
                .migration
                .down
                .as_ref()
                .map_or(Grouping::STATEMENT, Grouping::of),
        )),
        RollbackSource::Annotation => {
            let statements = crate::parse::parse_sql(&rollback.text, false).statements;
            let is_sql = !statements.is_empty()
                && statements.iter().all(|s| {
                    !matches!(
                        s.kind,
                        StatementKind::Unparsed { .. }
                            | StatementKind::Invalid { .. }
                            | StatementKind::PsqlMeta { .. }
                    )
                });
            // Annotation rollbacks run statement by statement, like a person pasting them
            // into psql: `DROP INDEX CONCURRENTLY` cannot run inside a transaction.
            is_sql.then_some((statements, Grouping::STATEMENT))
        }
        _ => None,
    }
}

/// How one statement is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inside the transaction already open on the session.
    InTransaction,
    /// Outside a transaction: run as BEGIN; statement; COMMIT so its locks can be sampled.
    Wrapped,
    /// Cannot run in a transaction block: bare, observed from the second connection.
    Bare,
}

/// Statements PostgreSQL refuses inside a transaction block; run bare right away rather
/// than after a failed attempt (the attempt would be harmless, but costs a round trip).
fn cannot_run_in_transaction(kind: &StatementKind) -> bool {
    match kind {
        StatementKind::CreateIndex { concurrently, .. }
        | StatementKind::DropIndex { concurrently, .. }
        | StatementKind::Reindex { concurrently, .. } => *concurrently,
        StatementKind::Vacuum { .. } | StatementKind::DropDatabase { .. } => true,
        StatementKind::AlterTable { actions, .. } => actions.iter().any(|a| {
            matches!(
                a,
                AlterAction::DetachPartition {
                    concurrently: true,
                    ..
                }
            )
        }),
        StatementKind::Other { keywords } => [
            "create database",
            "alter system",
            "create tablespace",
            "drop tablespace",
        ]
        .iter()
        .any(|k| keywords.starts_with(k)),
        _ => false,
    }
}

/// SQLSTATE 25001 active_sql_transaction: "cannot run inside a transaction block".
const ACTIVE_SQL_TRANSACTION: &str = "25001";

/// The migration session and the observer session, both on the disposable database.
struct Session {
    conn: PgConnection,
    /// Taken while an observer task polls; always put back.
    observer: Option<PgConnection>,
    pid: i32,
    analyze: bool,
    /// Holds the configured timeouts as ceilings while each statement runs.
    watchdog: Watchdog,
    /// Set when the watchdog cancelled the last statement: the ceiling it hit.
    cancelled: Option<Cancelled>,
    /// Reads the server's progress views while a long statement runs (shown on a terminal).
    server_progress: super::progress_views::Poller,
    /// Set when a wrapped statement's transaction was rolled back because it wrote shared
    /// catalogs: the failure to report for it.
    refusal: Option<DbError>,
    /// Roles whose `CREATE ROLE` was withheld, with its line: later statements naming them
    /// would fail on the copy only because of that, so they are withheld too.
    withheld_roles: Vec<(String, usize)>,
    /// The watched queries, planned after each statement that can change their plans.
    watching: Option<Watching>,
}

/// The watched queries during a run and their latest plans.
struct Watching {
    queries: Vec<super::watch::WatchedQuery>,
    latest: super::replan::Planned,
    reads: super::replan::Reads,
    /// Plans taken after statements of the migration being run; `None` while nothing is
    /// recorded (the rollback round trip).
    steps: Option<Vec<super::replan::Step>>,
    limits: (Duration, Duration),
    server_version: i64,
}

impl Watching {
    /// Plans the queries once before the first migration.
    async fn start(
        conn: &mut PgConnection,
        queries: &[super::watch::WatchedQuery],
        options: &ExecOptions,
    ) -> Result<Watching> {
        let server_version: i64 =
            sqlx::query_scalar("SELECT current_setting('server_version_num')::int8")
                .fetch_one(&mut *conn)
                .await
                .context("Failed to read the server version")?;
        let limits = (options.statement_timeout, options.lock_timeout);
        let latest =
            super::replan::plans_in_session(conn, queries, false, limits, server_version).await?;
        Ok(Watching {
            reads: super::replan::Reads::of(queries, &latest),
            queries: queries.to_vec(),
            latest,
            steps: None,
            limits,
            server_version,
        })
    }
}

/// What running one statement's SQL returned.
struct Executed {
    rows: Option<u64>,
    plan: Option<Plan>,
}

impl Session {
    async fn open(url: &str, options: &ExecOptions) -> Result<Session> {
        let mut conn = connect_writable(
            url,
            SessionLimits {
                lock_timeout: options.lock_timeout,
                statement_timeout: options.statement_timeout,
                connect_timeout: options.connect_timeout,
            },
        )
        .await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .context("Failed to read the migration session's process id")?;
        // The observer only reads pg_locks, which takes no table locks: short limits.
        let observer = connect_writable(
            url,
            SessionLimits {
                lock_timeout: Duration::from_secs(1),
                statement_timeout: Duration::from_secs(10),
                connect_timeout: options.connect_timeout,
            },
        )
        .await?;
        Ok(Session {
            conn,
            observer: Some(observer),
            pid,
            analyze: options.analyze,
            watchdog: Watchdog {
                url: url.to_string(),
                pid,
                statement: options.statement_timeout,
                lock: options.lock_timeout,
                connect_timeout: options.connect_timeout,
            },
            cancelled: None,
            server_progress: super::progress_views::Poller::new(url, pid, options.connect_timeout),
            refusal: None,
            withheld_roles: Vec::new(),
            watching: None,
        })
    }

    async fn close(self) {
        self.server_progress.close().await;
        let _ = self.conn.close().await;
        if let Some(observer) = self.observer {
            let _ = observer.close().await;
        }
    }

    /// Runs a list of statements with the framework's transaction semantics, recording each
    /// into `run`; stops at the first failure (recorded in `run.failed`).
    async fn run_statements(
        &mut self,
        statements: &[Statement],
        grouping: Grouping,
        run: &mut MigrationRun,
    ) -> Result<()> {
        let mut clock = Duration::ZERO;
        let mut book = LockBook::default();
        let mut current = locks::relations(&mut self.conn).await?;
        let mut tx_start = current.clone();
        let mut tx_open = false;
        let implicit = grouping.implicit(statements);
        if grouping.wraps() {
            let started = Instant::now();
            control(&mut self.conn, "BEGIN").await?;
            clock += started.elapsed();
            tx_open = true;
        }
        for (index, stmt) in statements.iter().enumerate() {
            let position = run.statements.len();
            let mut record = StatementRun {
                index,
                ..StatementRun::default()
            };
            if implicit && !tx_open && !matches!(stmt.kind, StatementKind::PsqlMeta { .. }) {
                // PostgreSQL opens an implicit transaction for each statement of a query string
                // outside an explicit block, committed at its end or at the next COMMIT.
                let started = Instant::now();
                control(&mut self.conn, "BEGIN").await?;
                clock += started.elapsed();
                tx_start = current.clone();
                tx_open = true;
            }
            match &stmt.kind {
                StatementKind::PsqlMeta { command } => {
                    record.note = Some(format!(
                        "not executed: `{command}` is a psql meta-command, not SQL"
                    ));
                    run.statements.push(record);
                    continue;
                }
                StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback => {
                    if tx_open && matches!(stmt.kind, StatementKind::Commit) {
                        if let Some(refusal) = self.shared_writes().await {
                            run.statements.push(record);
                            self.fail(run, index, refusal, &mut book, clock).await;
                            return Ok(());
                        }
                    }
                    let started = Instant::now();
                    let result = self.execute(stmt, false).await;
                    let took = started.elapsed();
                    clock += took;
                    record.duration_ms = locks::millis(took);
                    if let Err(error) = result {
                        let error = self.db_error(error)?;
                        run.statements.push(record);
                        self.fail(run, index, error, &mut book, clock).await;
                        return Ok(());
                    }
                    run.statements.push(record);
                    if matches!(stmt.kind, StatementKind::Begin) {
                        if !tx_open {
                            tx_start = current.clone();
                        }
                        tx_open = true;
                    } else {
                        let until = if matches!(stmt.kind, StatementKind::Commit) {
                            Until::Commit
                        } else {
                            Until::Rollback
                        };
                        book.release(clock, until, &mut run.statements);
                        tx_open = false;
                        current = locks::relations(&mut self.conn).await?;
                    }
                    continue;
                }
                _ => {}
            }
            let dependent = self
                .withheld_roles
                .iter()
                .find(|(role, _)| server_wide::names_role(&stmt.text, role))
                .cloned();
            if let Some((role, line)) = dependent {
                let what = format!("a statement naming role {role}");
                let reason = format!(
                    "{what}: its CREATE ROLE at line {line} was withheld from the copy, so the \
                     role does not exist there"
                );
                record.note = Some(format!("not executed: {reason}"));
                run.statements.push(record);
                run.withheld.push(Withheld {
                    statement: index,
                    line: stmt.start.line,
                    what,
                    reason,
                });
                continue;
            }
            if let Some(found) = server_wide::server_wide(&stmt.text) {
                if let Some(role) = server_wide::created_role(&stmt.text) {
                    self.withheld_roles.push((role, stmt.start.line));
                }
                let reason = withheld_reason(&found);
                record.note = Some(format!("not executed: {reason}"));
                run.statements.push(record);
                run.withheld.push(Withheld {
                    statement: index,
                    line: stmt.start.line,
                    what: found.what.clone(),
                    reason,
                });
                continue;
            }
            let mode = if tx_open {
                Mode::InTransaction
            } else if cannot_run_in_transaction(&stmt.kind) {
                Mode::Bare
            } else {
                Mode::Wrapped
            };
            crate::progress::statement(stmt.start.line, &stmt.text);
            let analyze = self.analyze && explain_candidate(stmt);
            if explain_candidate(stmt) && !analyze {
                record.plan = self.explain(&stmt.text, tx_open).await?;
            }
            let started_at = clock;
            let outcome = match mode {
                Mode::InTransaction => {
                    let started = Instant::now();
                    let result = self.execute(stmt, analyze).await;
                    let took = started.elapsed();
                    clock += took;
                    record.duration_ms = locks::millis(took);
                    match result {
                        Ok(executed) => {
                            let sample = locks::own_locks(&mut self.conn).await?;
                            record.locks = book.record(&sample, position, 0, started_at, &tx_start);
                            Ok(executed)
                        }
                        Err(e) => Err(e),
                    }
                }
                Mode::Wrapped => {
                    let wrapped = self
                        .run_wrapped(stmt, analyze, &current, &mut record)
                        .await?;
                    match wrapped {
                        Some(result) => {
                            clock += Duration::from_millis(record.duration_ms);
                            result
                        }
                        // Refused inside a transaction block: run it bare after all.
                        None => {
                            self.run_bare(stmt, analyze, &current, &mut record, &mut clock)
                                .await?
                        }
                    }
                }
                Mode::Bare => {
                    self.run_bare(stmt, analyze, &current, &mut record, &mut clock)
                        .await?
                }
            };
            match outcome {
                Ok(executed) => {
                    record.rows = executed.rows;
                    if executed.plan.is_some() {
                        record.plan = executed.plan;
                    }
                }
                Err(error) => {
                    let mut error = self.db_error(error)?;
                    if tx_open {
                        // The transaction is aborted: end it before looking at the data.
                        let _ = control(&mut self.conn, "ROLLBACK").await;
                    }
                    self.explain_failure(stmt, &mut error).await;
                    record.error = Some(error.clone());
                    run.statements.push(record);
                    if tx_open {
                        self.fail(run, index, error, &mut book, clock).await;
                    } else {
                        // The wrapper already rolled back; nothing is held.
                        run.failed = Some(Failure {
                            statement: index,
                            error,
                        });
                        run.duration_ms = locks::millis(clock);
                    }
                    return Ok(());
                }
            }
            let after = locks::relations(&mut self.conn).await?;
            for (oid, mut rewrite) in current.rewrites(&after) {
                rewrite.bytes = locks::relation_bytes(&mut self.conn, oid).await?;
                record.rewritten.push(rewrite);
            }
            self.plan_watched(stmt, index, tx_open, record.rows, &current)
                .await?;
            current = after;
            run.statements.push(record);
        }
        if tx_open {
            if let Some(refusal) = self.shared_writes().await {
                let last = statements.len().saturating_sub(1);
                self.fail(run, last, refusal, &mut book, clock).await;
                return Ok(());
            }
            let started = Instant::now();
            let committed = control(&mut self.conn, "COMMIT").await;
            clock += started.elapsed();
            if let Err(error) = committed {
                // A deferred constraint checked at COMMIT: the last statement is where the
                // migration failed.
                let error = self.db_error(error)?;
                let last = statements.len().saturating_sub(1);
                self.fail(run, last, error, &mut book, clock).await;
                return Ok(());
            }
            book.release(clock, Until::Commit, &mut run.statements);
        }
        run.duration_ms = locks::millis(clock);
        Ok(())
    }

    /// BEGIN; statement; sample locks; COMMIT. `Ok(None)` when PostgreSQL refuses to run the
    /// statement inside a transaction block (it must run bare).
    async fn run_wrapped(
        &mut self,
        stmt: &Statement,
        analyze: bool,
        current: &Relations,
        record: &mut StatementRun,
    ) -> Result<Option<Result<Executed, sqlx::Error>>> {
        control(&mut self.conn, "BEGIN").await?;
        let started = Instant::now();
        let result = self.execute(stmt, analyze).await;
        let ran = started.elapsed();
        let executed = match result {
            Ok(executed) => executed,
            Err(error) => {
                control(&mut self.conn, "ROLLBACK").await?;
                if sqlstate(&error).as_deref() == Some(ACTIVE_SQL_TRANSACTION) {
                    return Ok(None);
                }
                record.duration_ms = locks::millis(ran);
                return Ok(Some(Err(error)));
            }
        };
        let sample = locks::own_locks(&mut self.conn).await?;
        let mut book = LockBook::default();
        record.locks = book.record(&sample, 0, 0, Duration::ZERO, current);
        if let Some(refusal) = self.shared_writes().await {
            control(&mut self.conn, "ROLLBACK").await?;
            record.duration_ms = locks::millis(ran);
            self.refusal = Some(refusal);
            return Ok(Some(Err(sqlx::Error::Protocol(
                "rolled back: wrote shared catalogs".to_string(),
            ))));
        }
        let started = Instant::now();
        let committed = control(&mut self.conn, "COMMIT").await;
        let took = ran + started.elapsed();
        record.duration_ms = locks::millis(took);
        for lock in &mut record.locks {
            lock.held_ms = locks::millis(took);
            lock.until = Until::StatementEnd;
        }
        Ok(Some(committed.map(|()| executed)))
    }

    /// Runs a statement outside any transaction while the observer polls its locks.
    async fn run_bare(
        &mut self,
        stmt: &Statement,
        analyze: bool,
        current: &Relations,
        record: &mut StatementRun,
        clock: &mut Duration,
    ) -> Result<Result<Executed, sqlx::Error>> {
        let observer_conn = self
            .observer
            .take()
            .ok_or_else(|| anyhow!("the observer connection was lost"))?;
        let observer = Observer::start(observer_conn, self.pid);
        let started = Instant::now();
        let result = self.execute(stmt, analyze).await;
        let took = started.elapsed();
        let (observer_conn, seen) = observer.finish().await?;
        self.observer = Some(observer_conn);
        *clock += took;
        record.duration_ms = locks::millis(took);
        record.locks = locks::observed_locks(&seen, current);
        record.note = Some(
            "ran outside a transaction block; its locks were polled every 10 ms from a second \
             connection"
                .to_string(),
        );
        Ok(result)
    }

    /// Sends one statement of the migration (with `analyze`, as EXPLAIN ANALYZE) while the
    /// watchdog holds the configured timeouts as ceilings.
    async fn execute(&mut self, stmt: &Statement, analyze: bool) -> Result<Executed, sqlx::Error> {
        self.cancelled = None;
        let dog = self.watchdog.clone();
        let started = Instant::now();
        let sent = Self::send(&mut self.conn, stmt, analyze);
        tokio::pin!(sent);
        let poller = &mut self.server_progress;
        let result = tokio::select! {
            result = &mut sent => result,
            never = poller.follow() => match never {},
            hit = dog.watch(started) => {
                self.cancelled = Some(hit);
                dog.cancel_now().await;
                loop {
                    tokio::select! {
                        result = &mut sent => break result,
                        () = tokio::time::sleep(Duration::from_secs(1)) => dog.cancel_now().await,
                    }
                }
            }
        };
        crate::progress::server(None);
        result
    }

    /// PostgreSQL's error for a statement of the migration, in words that say when migsafe's
    /// watchdog cancelled it.
    fn db_error(&mut self, error: sqlx::Error) -> Result<DbError> {
        if let Some(refusal) = self.refusal.take() {
            return Ok(refusal);
        }
        let mut error = database_error(error)?;
        if let Some(hit) = self.cancelled.take() {
            if error.code == "57014" {
                error.message = hit.message();
                error.hint = Some(format!(
                    "raise {} in migsafe.toml ([execution]) if the copy needs longer",
                    hit.setting
                ));
            }
        }
        Ok(error)
    }

    async fn send(
        conn: &mut PgConnection,
        stmt: &Statement,
        analyze: bool,
    ) -> Result<Executed, sqlx::Error> {
        if analyze {
            let sql = format!(
                "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) {}",
                stmt.text.trim()
            );
            let row = sqlx::query(AssertSqlSafe(sql))
                .persistent(false)
                .fetch_one(&mut *conn)
                .await?;
            let json: String = row.try_get_unchecked(0)?;
            return Ok(Executed {
                rows: analyzed_rows(&json),
                plan: Plan::from_json(&json).ok(),
            });
        }
        let done = sqlx::raw_sql(AssertSqlSafe(stmt.text.clone()))
            .execute(&mut *conn)
            .await?;
        let counts_rows = matches!(
            stmt.kind,
            StatementKind::Insert { .. }
                | StatementKind::Update { .. }
                | StatementKind::Delete { .. }
                | StatementKind::CreateTable {
                    as_select: true,
                    ..
                }
        );
        Ok(Executed {
            rows: (counts_rows || done.rows_affected() > 0).then_some(done.rows_affected()),
            plan: None,
        })
    }

    /// Before migsafe commits a transaction of the migration: the failure to report instead
    /// when the transaction wrote the server's shared catalogs (see `server_state`); the
    /// caller rolls back.
    async fn shared_writes(&mut self) -> Option<DbError> {
        let xid = server_state::current_xid(&mut self.conn).await?;
        let writes =
            server_state::shared_rows_written(&mut self.conn, self.observer.as_mut(), &xid).await;
        if writes.is_empty() {
            return None;
        }
        Some(DbError {
            // insufficient_privilege: the nearest SQLSTATE to "not allowed here".
            code: "42501".to_string(),
            message: server_state::refused(&writes),
            ..DbError::default()
        })
    }

    /// Plain `EXPLAIN (VERBOSE, FORMAT JSON)`; inside a transaction, in a savepoint so that a
    /// planning error cannot abort the migration's transaction. `None` when PostgreSQL cannot
    /// plan it (the reason does not matter to the run: the statement itself will tell).
    ///
    /// Not `evidence::explain::explain`: that one opens its own transaction through sqlx,
    /// which does not know about a `BEGIN` sent as SQL and would end the migration's.
    async fn explain(&mut self, sql: &str, in_transaction: bool) -> Result<Option<Plan>> {
        let query = format!("EXPLAIN (VERBOSE, FORMAT JSON) {}", sql.trim());
        if in_transaction {
            control(&mut self.conn, "SAVEPOINT migsafe_explain").await?;
        }
        let result = sqlx::query(AssertSqlSafe(query))
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await;
        if in_transaction {
            control(&mut self.conn, "ROLLBACK TO SAVEPOINT migsafe_explain").await?;
            control(&mut self.conn, "RELEASE SAVEPOINT migsafe_explain").await?;
        }
        Ok(result
            .ok()
            .and_then(|row| row.try_get_unchecked::<String, _>(0).ok())
            .and_then(|json| Plan::from_json(&json).ok()))
    }

    /// After a statement that ran: plans the watched queries when it can change their plans
    /// (`before` holds the relations as they were before it, for the size of a table it
    /// wrote), and records them as a step of the migration.
    async fn plan_watched(
        &mut self,
        stmt: &Statement,
        index: usize,
        in_transaction: bool,
        rows: Option<u64>,
        before: &Relations,
    ) -> Result<()> {
        let Some(watching) = self.watching.as_mut() else {
            return Ok(());
        };
        let Some(steps) = watching.steps.as_mut() else {
            return Ok(());
        };
        let table_rows = |table: &crate::model::QualifiedName| {
            before
                .by_oid
                .values()
                .find(|r| r.name.matches(table))
                .and_then(|r| r.rows)
        };
        if !super::replan::can_change_plans(stmt, &watching.reads, rows, table_rows) {
            return Ok(());
        }
        let plans = super::replan::plans_in_session(
            &mut self.conn,
            &watching.queries,
            in_transaction,
            watching.limits,
            watching.server_version,
        )
        .await?;
        // A query planned now may read what a later statement touches (a new index).
        watching
            .reads
            .merge(super::replan::Reads::of(&watching.queries, &plans));
        watching.latest = plans.clone();
        steps.push(super::replan::Step {
            statement: index,
            in_transaction,
            plans,
        });
        Ok(())
    }

    /// Adds the offending rows to an error whose detail PostgreSQL leaves out: `SET NOT NULL`
    /// over NULLs reports only the column (`23502`, no detail). Runs after the failed
    /// transaction ended, on the unchanged data; best effort, bounded by statement_timeout.
    async fn explain_failure(&mut self, stmt: &Statement, error: &mut DbError) {
        if error.code != "23502" || error.detail.is_some() {
            return;
        }
        let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
            return;
        };
        let Some(column) = actions.iter().find_map(|a| match a {
            AlterAction::SetNotNull { column } => Some(column),
            _ => None,
        }) else {
            return;
        };
        let table = match &name.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&name.name)),
            None => quote_ident(&name.name),
        };
        let sql = format!(
            "SELECT t::text FROM {table} AS t WHERE t.{} IS NULL LIMIT 3",
            quote_ident(column)
        );
        let found: Result<Vec<String>, _> = sqlx::query_scalar(AssertSqlSafe(sql))
            .persistent(false)
            .fetch_all(&mut self.conn)
            .await;
        if let Ok(rows) = found {
            if !rows.is_empty() {
                let more = if rows.len() == 3 { ", ..." } else { "" };
                error.detail = Some(format!(
                    "Rows with {column} NULL, e.g. {}{more} (found by migsafe; PostgreSQL does \
                     not name them)",
                    rows.join(", ")
                ));
            }
        }
    }

    /// Records a failure inside a transaction: rolls it back and closes the book.
    async fn fail(
        &mut self,
        run: &mut MigrationRun,
        statement: usize,
        error: DbError,
        book: &mut LockBook,
        clock: Duration,
    ) {
        // Best effort: on a lost connection the next call reports it.
        let _ = control(&mut self.conn, "ROLLBACK").await;
        book.release(clock, Until::Rollback, &mut run.statements);
        run.failed = Some(Failure { statement, error });
        run.duration_ms = locks::millis(clock);
    }

    /// Up is applied; runs the rollback, compares the schema with `before`, and applies up
    /// again so later migrations see what they expect. Returns the round trip and, when the
    /// run cannot continue faithfully, why.
    async fn round_trip(
        &mut self,
        migration: &ParsedMigration,
        down: &[Statement],
        down_grouping: Grouping,
        before: &(
            super::rollback::SchemaState,
            Vec<super::content::TableContent>,
        ),
    ) -> Result<(RollbackRun, Option<String>)> {
        let (before, data_before) = before;
        let path = &migration.migration.path;
        let mut scratch = MigrationRun::default();
        crate::progress::rollback_round_trip();
        self.run_statements(down, down_grouping, &mut scratch)
            .await?;
        if let Some(failure) = scratch.failed {
            // A rollback that failed in one transaction left up applied: carry on. One that
            // failed halfway outside a transaction left a state production would not have.
            let stop = (!down_grouping.atomic()).then(|| {
                format!(
                    "not executed: the rollback of {path} failed halfway outside a transaction, \
                     leaving the clone in a state production would not be in"
                )
            });
            return Ok((
                RollbackRun {
                    error: Some(failure.error),
                    ..RollbackRun::default()
                },
                stop,
            ));
        }
        let after = super::rollback::schema_state(&mut self.conn).await?;
        let differences = super::rollback::compare(before, &after);
        let tables: Vec<String> = data_before.iter().map(|t| t.table.clone()).collect();
        let data_after = super::content::fingerprint_shown(&mut self.conn, &tables).await?;
        let data_loss = super::content::compare(
            data_before,
            &data_after,
            super::content::changes_rows(migration),
        );
        let mut again = MigrationRun::default();
        self.run_statements(
            &migration.statements,
            Grouping::of(&migration.migration.up),
            &mut again,
        )
        .await?;
        let stop = again.failed.map(|f| {
            format!(
                "not executed: re-applying {path} after its rollback failed ({}), so the clone \
                 is not in the state production would be in",
                f.error.message
            )
        });
        Ok((
            RollbackRun {
                error: None,
                differences,
                data_loss,
            },
            stop,
        ))
    }
}

/// Why a statement that acts beyond the database was not sent, as the report shows it.
fn withheld_reason(found: &ServerWide) -> String {
    format!(
        "{}; {}",
        found.describe(),
        "migsafe runs migrations on a disposable database, not a disposable server, so it \
         never sends such a statement to a copy (statements after it that depend on it may \
         fail on the copy for that reason)"
    )
}

/// The same, after "the rollback's statement …".
fn withheld_why(found: &ServerWide) -> String {
    format!(
        "is {}, which acts beyond this database: {}; migsafe never runs such a statement on a copy",
        found.what, found.reaches
    )
}

/// The first few words of a statement, for a one-line mention.
fn first_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(4).collect();
    let mut out = words.join(" ");
    if text.split_whitespace().nth(4).is_some() {
        out.push_str(" …");
    }
    format!("`{out}`")
}

/// Sends a transaction-control command.
async fn control(conn: &mut PgConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await.map(|_| ())
}

/// An identifier as PostgreSQL quotes it: names in the model are already normalised
/// (unquoted ones lower-cased), so quoting keeps them exactly.
fn quote_ident(name: &str) -> String {
    crate::quote::ident(name)
}

/// The SQLSTATE of a server error.
fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// PostgreSQL's error for a statement that failed; any other error (connection lost,
/// protocol) means the run cannot go on.
fn database_error(error: sqlx::Error) -> Result<DbError> {
    // `57P01` and friends arrive as server errors, but they say the server went away, not
    // that the statement failed on the data (evidence::lost).
    if crate::evidence::lost::is_lost(&error) {
        return Err(anyhow::Error::new(error).context("Failed to talk to the disposable database"));
    }
    let sqlx::Error::Database(db) = &error else {
        return Err(anyhow::Error::new(error).context("Failed to talk to the disposable database"));
    };
    let pg = db.try_downcast_ref::<PgDatabaseError>();
    Ok(DbError {
        code: db.code().map(|c| c.into_owned()).unwrap_or_default(),
        message: db.message().to_string(),
        detail: pg.and_then(|p| p.detail()).map(str::to_string),
        hint: pg.and_then(|p| p.hint()).map(str::to_string),
        constraint: db.constraint().map(str::to_string),
        table: db.table().map(str::to_string),
    })
}

/// Rows an EXPLAIN ANALYZE'd DML statement fed to its ModifyTable node.
fn analyzed_rows(json: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let plan = value.get(0)?.get("Plan")?;
    if plan.get("Node Type")?.as_str()? != "ModifyTable" {
        return None;
    }
    let input = plan.get("Plans")?.get(0)?;
    let rows = input.get("Actual Rows")?.as_f64()?;
    let loops = input
        .get("Actual Loops")
        .and_then(|l| l.as_f64())
        .unwrap_or(1.0);
    Some((rows * loops).max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_sql;

    fn kind(sql: &str) -> StatementKind {
        parse_sql(sql, false).statements.remove(0).kind
    }

    #[test]
    fn concurrent_and_maintenance_statements_run_outside_a_transaction() {
        for sql in [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "DROP INDEX CONCURRENTLY i",
            "REINDEX INDEX CONCURRENTLY i",
            "VACUUM t",
        ] {
            assert!(cannot_run_in_transaction(&kind(sql)), "{sql}");
        }
        for sql in [
            "CREATE INDEX i ON t (a)",
            "ALTER TABLE t ADD COLUMN b int",
            "UPDATE t SET a = 1",
        ] {
            assert!(!cannot_run_in_transaction(&kind(sql)), "{sql}");
        }
    }

    #[test]
    fn rows_of_an_analyzed_update_come_from_the_modify_table_input() {
        let json = r#"[{"Plan": {"Node Type": "ModifyTable", "Operation": "Update",
            "Plan Rows": 0, "Startup Cost": 0, "Total Cost": 1, "Actual Rows": 0,
            "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 10, "Startup Cost": 0,
                       "Total Cost": 1, "Actual Rows": 42, "Actual Loops": 1}]}}]"#;
        assert_eq!(analyzed_rows(json), Some(42));
        assert_eq!(analyzed_rows("not json"), None);
    }

    #[tokio::test]
    async fn refuses_a_target_not_confirmed_disposable() {
        let err = run_pending(
            "postgres://app:s3cret@db.internal/production",
            &[],
            &ExecOptions::default(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("Refusing to run migrations"), "{err}");
        assert!(err.contains("--disposable"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
