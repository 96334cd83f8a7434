//! Measuring what a migration's session holds: snapshots of the user relations
//! (`pg_class.relfilenode`, size, row estimate) to detect rewrites, samples of the session's
//! own `pg_locks` rows, an observer connection that polls another session's locks while a
//! statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY) is running, and the
//! bookkeeping that turns samples into "held ACCESS EXCLUSIVE on orders for 29.5 s".
//!
//! Why sampling after the statement is enough inside a transaction: PostgreSQL keeps every
//! table lock until the transaction ends (docs: "Explicit Locking", 13.3.1), so a sample
//! taken after the statement, with the transaction still open, sees all of them. Outside a
//! transaction the locks are gone when the statement returns, hence the observer.

use super::trace::{HeldLock, RelationKind, Rewrite, Until};
use crate::locks::LockMode;
use crate::model::QualifiedName;
use anyhow::{Context as _, Result};
use sqlx::postgres::PgConnection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the observer connection polls `pg_locks`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Objects with lower OIDs are built into PostgreSQL (`FirstNormalObjectId`): catalogs, whose
/// locks every query takes and no migration is responsible for.
const FIRST_USER_OID: i64 = 16384;

/// One user relation as `pg_class` describes it at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub name: QualifiedName,
    pub kind: RelationKind,
    /// `relfilenode`; 0 for relations without storage (partitioned tables, mapped catalogs).
    pub filenode: i64,
    /// `reltuples`; `None` when never analyzed (-1).
    pub rows: Option<i64>,
    /// `relpages` × block size.
    pub bytes: Option<i64>,
}

/// The user relations of the database by OID, as one session sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relations {
    pub by_oid: HashMap<i64, Relation>,
}

impl Relations {
    /// Relations whose storage changed between `self` (before) and `after`: same OID, new
    /// relfilenode. A relation created or dropped in between is not a rewrite.
    pub fn rewrites(&self, after: &Relations) -> Vec<(i64, Rewrite)> {
        let mut found: Vec<(i64, Rewrite)> = after
            .by_oid
            .iter()
            .filter_map(|(oid, new)| {
                let old = self.by_oid.get(oid)?;
                (old.filenode != 0 && new.filenode != 0 && old.filenode != new.filenode).then(
                    || {
                        (
                            *oid,
                            Rewrite {
                                relation: new.name.clone(),
                                kind: new.kind,
                                old_filenode: old.filenode,
                                new_filenode: new.filenode,
                                rows: old.rows,
                                bytes: None,
                            },
                        )
                    },
                )
            })
            .collect();
        // Tables first, then by name: deterministic output.
        found.sort_by(|a, b| {
            (a.1.kind != RelationKind::Table, &a.1.relation)
                .cmp(&(b.1.kind != RelationKind::Table, &b.1.relation))
        });
        found
    }
}

/// Reads every user relation's name, kind, relfilenode, row estimate and size.
///
/// One scan of `pg_class`, a few milliseconds even with thousands of relations; taken
/// between statements, so it costs the migration nothing it would not wait for anyway.
pub async fn relations(conn: &mut PgConnection) -> Result<Relations> {
    let rows: Vec<(i64, String, String, String, i64, f64, i64)> = sqlx::query_as(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, \
                c.relfilenode::int8, c.reltuples::float8, \
                c.relpages::int8 * current_setting('block_size')::int8 \
         FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
         WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S') \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg\\_toast%'",
    )
    .fetch_all(conn)
    .await
    .context("Failed to read the relations of the clone (pg_class)")?;
    let by_oid = rows
        .into_iter()
        .map(|(oid, schema, name, relkind, filenode, rows, bytes)| {
            (
                oid,
                Relation {
                    name: QualifiedName::new(Some(&schema), &name),
                    kind: RelationKind::from_relkind(&relkind),
                    filenode,
                    // `as` saturates: a corrupt estimate cannot panic.
                    rows: (rows >= 0.0).then_some(rows as i64),
                    bytes: Some(bytes),
                },
            )
        })
        .collect();
    Ok(Relations { by_oid })
}

/// Size of a relation's main fork now (after a rewrite: what the rewrite wrote).
pub async fn relation_bytes(conn: &mut PgConnection, oid: i64) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT pg_relation_size($1::int8::oid)")
        .bind(oid)
        .fetch_one(conn)
        .await
        .with_context(|| format!("Failed to read the size of relation {oid}"))
}

/// The granted table locks the current session holds on user relations: (OID, mode).
pub async fn own_locks(conn: &mut PgConnection) -> Result<Vec<(i64, LockMode)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT relation::int8, mode FROM pg_locks \
         WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND relation::int8 >= $1",
    )
    .bind(FIRST_USER_OID)
    .fetch_all(conn)
    .await
    .context("Failed to read the migration session's locks (pg_locks)")?;
    Ok(parse_modes(rows))
}

/// The granted table locks of backend `pid` on user relations of the current database.
async fn locks_of(conn: &mut PgConnection, pid: i32) -> Result<Vec<(i64, LockMode)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT relation::int8, mode FROM pg_locks \
         WHERE pid = $1 AND locktype = 'relation' AND granted \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND relation::int8 >= $2",
    )
    .bind(pid)
    .bind(FIRST_USER_OID)
    .fetch_all(conn)
    .await
    .context("Failed to poll the migration session's locks from the observer connection")?;
    Ok(parse_modes(rows))
}

fn parse_modes(rows: Vec<(i64, String)>) -> Vec<(i64, LockMode)> {
    rows.into_iter()
        .filter_map(|(oid, mode)| Some((oid, mode_from_pg(&mode)?)))
        .collect()
}

const ALL_MODES: [LockMode; 8] = [
    LockMode::AccessShare,
    LockMode::RowShare,
    LockMode::RowExclusive,
    LockMode::ShareUpdateExclusive,
    LockMode::Share,
    LockMode::ShareRowExclusive,
    LockMode::Exclusive,
    LockMode::AccessExclusive,
];

/// Parses `pg_locks.mode` (`AccessExclusiveLock`); predicate locks (`SIReadLock`) are not
/// table locks and give `None`.
pub fn mode_from_pg(name: &str) -> Option<LockMode> {
    ALL_MODES.into_iter().find(|m| m.pg_name() == name)
}

/// The SQL spelling of a mode, as `LOCK TABLE` and the manual write it: `ACCESS EXCLUSIVE`.
pub fn sql_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::AccessShare => "ACCESS SHARE",
        LockMode::RowShare => "ROW SHARE",
        LockMode::RowExclusive => "ROW EXCLUSIVE",
        LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
        LockMode::Share => "SHARE",
        LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
        LockMode::Exclusive => "EXCLUSIVE",
        LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
    }
}

/// Strongest mode per relation.
fn strongest(sample: &[(i64, LockMode)]) -> HashMap<i64, LockMode> {
    let mut out: HashMap<i64, LockMode> = HashMap::new();
    for &(oid, mode) in sample {
        let entry = out.entry(oid).or_insert(mode);
        *entry = (*entry).max(mode);
    }
    out
}

/// Where a lock recorded in the trace lives until its release time is known.
#[derive(Debug, Clone, Copy)]
struct OpenLock {
    /// Position of the statement in the migration's `statements`.
    statement: usize,
    /// Position of the lock in that statement's `locks`.
    lock: usize,
    /// Migration clock when the statement that took it started.
    acquired_at: Duration,
}

/// The locks of the transaction that is open on the migration's session.
///
/// Times are on the migration clock: the sum of the migration's own statement times, so that
/// migsafe's sampling queries between statements do not inflate hold times.
#[derive(Debug, Default)]
pub struct LockBook {
    held: HashMap<i64, LockMode>,
    open: Vec<OpenLock>,
}

impl LockBook {
    /// Folds a sample taken after statement `statement` (position in the migration's runs),
    /// which started at `started_at`, into the book, and returns the locks it took or
    /// strengthened (held time still 0; set by [`LockBook::release`]).
    ///
    /// `at_start` is the relation snapshot from when the transaction began: a relation not in
    /// it was created by this transaction, and nobody else can see it, so its lock blocks
    /// nothing and is left out.
    pub fn record(
        &mut self,
        sample: &[(i64, LockMode)],
        statement: usize,
        first_lock: usize,
        started_at: Duration,
        at_start: &Relations,
    ) -> Vec<HeldLock> {
        let mut strongest: Vec<(i64, LockMode)> = strongest(sample).into_iter().collect();
        strongest.sort_by_key(|&(oid, mode)| (std::cmp::Reverse(mode), oid));
        let mut taken = Vec::new();
        for (oid, mode) in strongest {
            if self.held.get(&oid).is_some_and(|&had| had >= mode) {
                continue;
            }
            self.held.insert(oid, mode);
            let Some(relation) = at_start.by_oid.get(&oid) else {
                continue;
            };
            self.open.push(OpenLock {
                statement,
                lock: first_lock + taken.len(),
                acquired_at: started_at,
            });
            taken.push(HeldLock {
                relation: relation.name.clone(),
                kind: relation.kind,
                mode,
                held_ms: 0,
                until: Until::Commit,
                rows: relation.rows,
                bytes: relation.bytes,
                observed: false,
            });
        }
        taken
    }

    /// The transaction ended at `now` (`until` says how): sets the held time of every lock it
    /// held, and empties the book.
    pub fn release(
        &mut self,
        now: Duration,
        until: Until,
        statements: &mut [super::trace::StatementRun],
    ) {
        for open in self.open.drain(..) {
            if let Some(lock) = statements
                .get_mut(open.statement)
                .and_then(|s| s.locks.get_mut(open.lock))
            {
                lock.held_ms = millis(now.saturating_sub(open.acquired_at));
                lock.until = until;
            }
        }
        self.held.clear();
    }

    /// Whether any lock is waiting for its release time.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty() && self.held.is_empty()
    }
}

/// Whole milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A lock the observer saw, first and last time.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub oid: i64,
    pub mode: LockMode,
    pub first: Instant,
    pub last: Instant,
}

/// Polls the locks of another backend from a second connection while that backend runs a
/// statement outside a transaction (whose locks are gone when it returns).
pub struct Observer {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(PgConnection, Result<Vec<Seen>>)>,
}

impl Observer {
    /// Starts polling backend `pid` every [`POLL_INTERVAL`] on `conn`.
    pub fn start(mut conn: PgConnection, pid: i32) -> Observer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut seen: Vec<Seen> = Vec::new();
            loop {
                // Checked after the poll too, so the last state before the stop is recorded.
                let stopping = flag.load(Ordering::Acquire);
                let sample = match locks_of(&mut conn, pid).await {
                    Ok(sample) => sample,
                    Err(e) => return (conn, Err(e)),
                };
                let now = Instant::now();
                for (oid, mode) in sample {
                    match seen.iter_mut().find(|s| s.oid == oid && s.mode == mode) {
                        Some(s) => s.last = now,
                        None => seen.push(Seen {
                            oid,
                            mode,
                            first: now,
                            last: now,
                        }),
                    }
                }
                if stopping {
                    return (conn, Ok(seen));
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        });
        Observer { stop, task }
    }

    /// Stops polling; gives the connection back with what was seen.
    pub async fn finish(self) -> Result<(PgConnection, Vec<Seen>)> {
        self.stop.store(true, Ordering::Release);
        let (conn, seen) = self
            .task
            .await
            .context("Failed to stop the observer connection's polling")?;
        Ok((conn, seen?))
    }
}

/// The observer's sightings as held locks: strongest mode per relation, held from first to
/// last sighting (accurate to one poll interval). `before` (the snapshot from before the
/// statement) resolves names.
pub fn observed_locks(seen: &[Seen], before: &Relations) -> Vec<HeldLock> {
    let mut by_oid: HashMap<i64, (LockMode, Instant, Instant)> = HashMap::new();
    for s in seen {
        let entry = by_oid.entry(s.oid).or_insert((s.mode, s.first, s.last));
        entry.0 = entry.0.max(s.mode);
        entry.1 = entry.1.min(s.first);
        entry.2 = entry.2.max(s.last);
    }
    let mut locks: Vec<HeldLock> = by_oid
        .into_iter()
        .filter_map(|(oid, (mode, first, last))| {
            // A relation the statement created (the new index) is invisible to other
            // sessions until it ends: not a lock anyone waits on.
            let relation = before.by_oid.get(&oid)?;
            Some(HeldLock {
                relation: relation.name.clone(),
                kind: relation.kind,
                mode,
                held_ms: millis(last.saturating_duration_since(first)),
                until: Until::StatementEnd,
                rows: relation.rows,
                bytes: relation.bytes,
                observed: true,
            })
        })
        .collect();
    locks.sort_by(|a, b| {
        b.mode
            .cmp(&a.mode)
            .then_with(|| a.relation.cmp(&b.relation))
    });
    locks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::trace::StatementRun;

    fn relations(entries: &[(i64, &str, RelationKind, i64)]) -> Relations {
        Relations {
            by_oid: entries
                .iter()
                .map(|&(oid, name, kind, filenode)| {
                    (
                        oid,
                        Relation {
                            name: QualifiedName::new(Some("public"), name),
                            kind,
                            filenode,
                            rows: Some(1000),
                            bytes: Some(8192),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn parses_every_pg_locks_mode() {
        for mode in ALL_MODES {
            assert_eq!(mode_from_pg(mode.pg_name()), Some(mode));
            assert_eq!(LockMode::from_sql(sql_name(mode)), Some(mode));
        }
        assert_eq!(mode_from_pg("SIReadLock"), None);
    }

    #[test]
    fn a_changed_filenode_is_a_rewrite_and_a_new_relation_is_not() {
        let before = relations(&[
            (1, "orders", RelationKind::Table, 100),
            (2, "orders_pkey", RelationKind::Index, 101),
            (3, "users", RelationKind::Table, 102),
        ]);
        let after = relations(&[
            (1, "orders", RelationKind::Table, 200),
            (2, "orders_pkey", RelationKind::Index, 201),
            (3, "users", RelationKind::Table, 102),
            (4, "new_idx", RelationKind::Index, 300),
        ]);
        let found = before.rewrites(&after);
        let names: Vec<&str> = found.iter().map(|r| r.1.relation.name.as_str()).collect();
        assert_eq!(names, ["orders", "orders_pkey"]);
        assert_eq!(found[0].1.old_filenode, 100);
        assert_eq!(found[0].1.new_filenode, 200);
    }

    #[test]
    fn locks_are_held_from_the_statement_that_took_them_to_commit() {
        let at_start = relations(&[
            (1, "orders", RelationKind::Table, 1),
            (2, "users", RelationKind::Table, 2),
        ]);
        let mut book = LockBook::default();
        let mut runs = vec![StatementRun::default(), StatementRun::default()];
        // Statement 0 (starts at 0 ms): ROW EXCLUSIVE on orders.
        let taken = book.record(
            &[(1, LockMode::RowExclusive), (1, LockMode::AccessShare)],
            0,
            0,
            Duration::ZERO,
            &at_start,
        );
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].mode, LockMode::RowExclusive);
        runs[0].locks = taken;
        // Statement 1 (starts at 400 ms): upgrades orders to ACCESS EXCLUSIVE; the sample
        // still lists the weaker lock; a table created in the transaction (oid 9) is ignored.
        let taken = book.record(
            &[
                (1, LockMode::RowExclusive),
                (1, LockMode::AccessExclusive),
                (9, LockMode::AccessExclusive),
            ],
            1,
            0,
            Duration::from_millis(400),
            &at_start,
        );
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].mode, LockMode::AccessExclusive);
        runs[1].locks = taken;
        book.release(Duration::from_millis(1500), Until::Commit, &mut runs);
        assert!(book.is_empty());
        assert_eq!(runs[0].locks[0].held_ms, 1500);
        assert_eq!(runs[1].locks[0].held_ms, 1100);
        assert_eq!(runs[1].locks[0].until, Until::Commit);
    }

    #[test]
    fn observed_locks_keep_the_strongest_mode_and_skip_new_relations() {
        let before = relations(&[(1, "orders", RelationKind::Table, 1)]);
        let t0 = Instant::now();
        let seen = [
            Seen {
                oid: 1,
                mode: LockMode::ShareUpdateExclusive,
                first: t0,
                last: t0 + Duration::from_millis(250),
            },
            Seen {
                oid: 7,
                mode: LockMode::AccessExclusive,
                first: t0,
                last: t0 + Duration::from_millis(250),
            },
        ];
        let locks = observed_locks(&seen, &before);
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].mode, LockMode::ShareUpdateExclusive);
        assert_eq!(locks[0].held_ms, 250);
        assert!(locks[0].observed);
        assert!(!locks[0].mode.blocks_writes());
    }
}
