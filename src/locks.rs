//! Which table-level lock each statement takes, and what that lock blocks.
//!
//! This is PostgreSQL knowledge shared by several rules (lock-without-timeout,
//! statements-after-exclusive-lock) and by size-aware severity. The source is the
//! "Table-Level Locks" section of the PostgreSQL manual (explicit-locking.html) and the
//! lock level documented for each ALTER TABLE sub-command (sql-altertable.html).

use crate::model::{AlterAction, ConstraintKind, QualifiedName, StatementKind};

/// The eight table lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    /// The name PostgreSQL's `pg_locks.mode` uses (`AccessExclusiveLock`).
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// Parses the SQL spelling used by `LOCK TABLE ... IN <mode> MODE`.
    pub fn from_sql(mode: &str) -> Option<LockMode> {
        let m = mode.to_ascii_uppercase();
        let m = m.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(match m.as_str() {
            "ACCESS SHARE" => LockMode::AccessShare,
            "ROW SHARE" => LockMode::RowShare,
            "ROW EXCLUSIVE" => LockMode::RowExclusive,
            "SHARE UPDATE EXCLUSIVE" => LockMode::ShareUpdateExclusive,
            "SHARE" => LockMode::Share,
            "SHARE ROW EXCLUSIVE" => LockMode::ShareRowExclusive,
            "EXCLUSIVE" => LockMode::Exclusive,
            "ACCESS EXCLUSIVE" => LockMode::AccessExclusive,
            _ => return None,
        })
    }

    /// Plain SELECTs wait behind this lock.
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }

    /// INSERT/UPDATE/DELETE wait behind this lock.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// "reads and writes", "writes" or "" (blocks neither; only other DDL and maintenance).
    pub fn blocks(self) -> &'static str {
        if self.blocks_reads() {
            "reads and writes"
        } else if self.blocks_writes() {
            "writes"
        } else {
            "schema changes and maintenance only"
        }
    }
}

/// A lock one statement takes on one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLock {
    pub table: QualifiedName,
    pub mode: LockMode,
}

fn alter_action_lock(action: &AlterAction) -> LockMode {
    use AlterAction::*;
    match action {
        // Validation scans without blocking writes.
        ValidateConstraint { .. } => LockMode::ShareUpdateExclusive,
        // DETACH ... CONCURRENTLY and ATTACH take SHARE UPDATE EXCLUSIVE on the parent (PG 12+/14+).
        DetachPartition {
            concurrently: true, ..
        } => LockMode::ShareUpdateExclusive,
        AttachPartition { .. } => LockMode::ShareUpdateExclusive,
        // Adding a foreign key locks the referencing table SHARE ROW EXCLUSIVE.
        AddConstraint(c) if matches!(c.kind, ConstraintKind::ForeignKey(_)) => {
            LockMode::ShareRowExclusive
        }
        Other(kw) if kw.starts_with("set statistics") || kw.starts_with("cluster on") => {
            LockMode::ShareUpdateExclusive
        }
        Other(kw)
            if kw.starts_with("enable trigger")
                || kw.starts_with("disable trigger")
                || kw.starts_with("enable replica")
                || kw.starts_with("enable always") =>
        {
            LockMode::ShareRowExclusive
        }
        _ => LockMode::AccessExclusive,
    }
}

/// The table locks a statement takes (strongest per table), excluding tables it creates.
pub fn table_locks(kind: &StatementKind) -> Vec<TableLock> {
    use StatementKind::*;
    let one = |table: &QualifiedName, mode| {
        vec![TableLock {
            table: table.clone(),
            mode,
        }]
    };
    let many = |tables: &[QualifiedName], mode: LockMode| {
        tables
            .iter()
            .map(|t| TableLock {
                table: t.clone(),
                mode,
            })
            .collect()
    };
    match kind {
        AlterTable { name, actions, .. } => {
            let mut locks = Vec::new();
            if let Some(mode) = actions.iter().map(alter_action_lock).max() {
                locks.push(TableLock {
                    table: name.clone(),
                    mode,
                });
            }
            // A new foreign key also locks the referenced table.
            for action in actions {
                if let AlterAction::AddConstraint(c) = action {
                    if let ConstraintKind::ForeignKey(fk) = &c.kind {
                        locks.push(TableLock {
                            table: fk.table.clone(),
                            mode: LockMode::ShareRowExclusive,
                        });
                    }
                }
                if let AlterAction::AddColumn { column, .. } = action {
                    if let Some(fk) = &column.references {
                        locks.push(TableLock {
                            table: fk.table.clone(),
                            mode: LockMode::ShareRowExclusive,
                        });
                    }
                }
            }
            locks
        }
        CreateIndex {
            table,
            concurrently,
            ..
        } => one(
            table,
            if *concurrently {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::Share
            },
        ),
        DropIndex { concurrently, .. } => {
            // The index's table is unknown statically; the lock is on the index and its table.
            let _ = concurrently;
            Vec::new()
        }
        Reindex {
            target: crate::model::ReindexTarget::Table,
            name: Some(name),
            concurrently,
        } => one(
            name,
            if *concurrently {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::Share
            },
        ),
        DropTable { names, .. } | Truncate { tables: names } => {
            many(names, LockMode::AccessExclusive)
        }
        Vacuum { full: true, tables } => many(tables, LockMode::AccessExclusive),
        Vacuum {
            full: false,
            tables,
        } => many(tables, LockMode::ShareUpdateExclusive),
        Cluster { table: Some(t) } => one(t, LockMode::AccessExclusive),
        RefreshMaterializedView { name, concurrently } => one(
            name,
            if *concurrently {
                LockMode::Exclusive
            } else {
                LockMode::AccessExclusive
            },
        ),
        LockTable { tables, mode } => many(
            tables,
            LockMode::from_sql(mode).unwrap_or(LockMode::AccessExclusive),
        ),
        Update { table, .. } | Delete { table, .. } | Insert { table, .. } => {
            one(table, LockMode::RowExclusive)
        }
        _ => Vec::new(),
    }
}

/// The strongest lock a statement takes, if any.
pub fn strongest_lock(kind: &StatementKind) -> Option<TableLock> {
    table_locks(kind).into_iter().max_by_key(|l| l.mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_modes_block_what_the_manual_says() {
        assert!(LockMode::AccessExclusive.blocks_reads());
        assert!(!LockMode::Exclusive.blocks_reads());
        assert!(LockMode::Share.blocks_writes());
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
        assert_eq!(
            LockMode::from_sql("share  row exclusive"),
            Some(LockMode::ShareRowExclusive)
        );
    }
}
