//! Predicted production cost (issue #15 item 2c): each statement measured on the copy is
//! scaled to production's size with a cost model chosen by what the statement does.
//!
//! The models, and why (PostgreSQL's own implementation; see notes/production.md):
//! - index build (`CREATE INDEX`, `ADD PRIMARY KEY/UNIQUE` without `USING INDEX`,
//!   `REINDEX`): a btree build is a heap scan feeding a tuplesort, then a bottom-up write of
//!   the leaf pages. While the sort fits in `maintenance_work_mem` (production's setting,
//!   from the snapshot) the scan and the tuple handling dominate and the time is linear in
//!   rows (measured: the bench in README); once production's table exceeds it the sort
//!   spills into an external merge of n·log n comparisons and logarithmically many passes,
//!   so the model is n·log n in rows. GIN, GiST, SP-GiST and BRIN builds insert entry by
//!   entry or summarise page ranges: linear in the table's bytes.
//! - rewrite (`ALTER COLUMN TYPE`, volatile `ADD COLUMN` default, `SET LOGGED`, `VACUUM FULL`,
//!   `CLUSTER`, any statement the executor saw give the table a new relfilenode): every heap
//!   page is read and written once and every index rebuilt: linear in heap + TOAST + index
//!   bytes.
//! - backfill (`UPDATE`, `DELETE`, `INSERT … SELECT`): the work is per touched row (the new
//!   tuple version, WAL, index entries), so linear in rows; the rows touched scale with the
//!   table's rows.
//! - validation scan (`ADD FOREIGN KEY`/`CHECK` without `NOT VALID`, `VALIDATE CONSTRAINT`,
//!   `SET NOT NULL`): one sequential scan of the table: linear in heap bytes.
//! - catalog-only (everything else: `ADD COLUMN` without a volatile default, `DROP`, renames,
//!   `NOT VALID` constraints): the time does not depend on the table's size, so the
//!   measurement stands.
//!
//! Every measurement carries a fixed part that does not grow: parsing and locking, and for
//! statements that create relation files (index builds, rewrites) the new files, their
//! catalog entries and the commit's flush of them. On the reference machine a CREATE INDEX
//! or rewrite of a 1,600-row table took 5–20 ms whatever its size, so `fixed_ms` keeps up to
//! 10 ms of those as is (1 ms of every other statement) and scales only the rest.

use crate::evidence::catalog::Table;
use crate::evidence::snapshot::SnapshotTable;
use crate::execute::trace::{StatementRun, Until};
use crate::model::{AlterAction, ConstraintKind, QualifiedName, StatementKind};

/// The part of an index build's or rewrite's duration that does not grow with the table (ms).
pub const NEW_FILES_FIXED_MS: f64 = 10.0;
/// The same for statements that create no relation files (backfills, validation scans).
pub const FIXED_MS: f64 = 1.0;

/// What a statement does, for choosing its cost model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A btree (or hash) index build: n·log n in rows.
    SortedIndexBuild,
    /// A btree build whose sort fits in production's `maintenance_work_mem`: linear in rows.
    InMemoryIndexBuild,
    /// A GIN, GiST, SP-GiST or BRIN build: linear in bytes.
    LinearIndexBuild,
    Rewrite,
    Backfill,
    ValidationScan,
    CatalogOnly,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::SortedIndexBuild
            | Operation::InMemoryIndexBuild
            | Operation::LinearIndexBuild => "index-build",
            Operation::Rewrite => "rewrite",
            Operation::Backfill => "backfill",
            Operation::ValidationScan => "validation-scan",
            Operation::CatalogOnly => "catalog-only",
        }
    }

    /// The part of a measurement that does not grow with the table.
    pub fn fixed_ms(self) -> f64 {
        match self {
            Operation::SortedIndexBuild
            | Operation::InMemoryIndexBuild
            | Operation::LinearIndexBuild
            | Operation::Rewrite => NEW_FILES_FIXED_MS,
            _ => FIXED_MS,
        }
    }

    pub fn model(self) -> &'static str {
        match self {
            Operation::SortedIndexBuild => {
                "n·log n in rows (btree build whose sort exceeds production's \
                 maintenance_work_mem: external merge sort)"
            }
            Operation::InMemoryIndexBuild => {
                "linear in rows (btree build whose sort fits in production's \
                 maintenance_work_mem: heap scan and in-memory sort)"
            }
            Operation::LinearIndexBuild => "linear in table bytes (GIN/GiST/BRIN build)",
            Operation::Rewrite => "linear in table + index bytes (every page rewritten)",
            Operation::Backfill => "linear in rows touched",
            Operation::ValidationScan => "linear in table bytes (one sequential scan)",
            Operation::CatalogOnly => "constant (catalog change; independent of table size)",
        }
    }
}

/// The operation a statement performs and the table whose size drives it.
pub fn classify(kind: &StatementKind, run: &StatementRun) -> (Operation, Option<QualifiedName>) {
    let rewrote = run.rewritten.first().map(|r| r.relation.clone());
    match kind {
        StatementKind::CreateIndex { table, method, .. } => {
            let op = match method.as_deref() {
                None | Some("btree") | Some("hash") => Operation::SortedIndexBuild,
                Some(_) => Operation::LinearIndexBuild,
            };
            (op, Some(table.clone()))
        }
        StatementKind::Reindex { .. } => (
            Operation::SortedIndexBuild,
            run.strongest_lock().map(|l| l.relation.clone()),
        ),
        StatementKind::AlterTable { name, actions, .. } => {
            if rewrote.is_some() {
                return (Operation::Rewrite, Some(name.clone()));
            }
            let builds = actions.iter().any(|a| {
                matches!(a, AlterAction::AddConstraint(c)
                    if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                        && c.using_index.is_none())
            });
            let validates = actions.iter().any(|a| match a {
                AlterAction::AddConstraint(c) => {
                    !c.not_valid
                        && matches!(
                            c.kind,
                            ConstraintKind::ForeignKey(_) | ConstraintKind::Check(_)
                        )
                }
                AlterAction::ValidateConstraint { .. } | AlterAction::SetNotNull { .. } => true,
                AlterAction::AttachPartition { .. } => true,
                _ => false,
            });
            let op = if builds {
                Operation::SortedIndexBuild
            } else if validates {
                Operation::ValidationScan
            } else {
                Operation::CatalogOnly
            };
            (op, Some(name.clone()))
        }
        StatementKind::Update { table, .. } | StatementKind::Delete { table, .. } => {
            (Operation::Backfill, Some(table.clone()))
        }
        StatementKind::Insert {
            table,
            from_select: true,
        } => (Operation::Backfill, Some(table.clone())),
        StatementKind::Vacuum { full: true, tables } => {
            (Operation::Rewrite, tables.first().cloned())
        }
        StatementKind::Cluster { table } => (Operation::Rewrite, table.clone()),
        _ => match rewrote {
            Some(relation) => (Operation::Rewrite, Some(relation)),
            None => (Operation::CatalogOnly, None),
        },
    }
}

/// The factor production's size multiplies the statement's scalable time by, or why there
/// is none (the copy's table is empty, production has no such table).
pub fn factor(op: Operation, copy: &Table, production: &SnapshotTable) -> Result<f64, String> {
    let ratio = |c: i64, p: i64, what: &str| -> Result<f64, String> {
        if c <= 0 {
            return Err(format!(
                "{} has no {what} on the copy: nothing to scale from",
                copy.name
            ));
        }
        Ok(p.max(0) as f64 / c as f64)
    };
    match op {
        Operation::CatalogOnly => Ok(1.0),
        Operation::InMemoryIndexBuild => match ratio(copy.rows, production.rows, "rows") {
            Ok(r) => Ok(r),
            Err(_) => ratio(copy.bytes(), production.bytes(), "data"),
        },
        Operation::SortedIndexBuild => {
            if copy.rows <= 1 {
                return ratio(copy.bytes(), production.bytes(), "data");
            }
            let n_log_n = |n: i64| {
                let n = n.max(2) as f64;
                n * n.ln()
            };
            Ok(n_log_n(production.rows) / n_log_n(copy.rows))
        }
        Operation::Backfill => match ratio(copy.rows, production.rows, "rows") {
            Ok(r) => Ok(r),
            Err(_) => ratio(copy.bytes(), production.bytes(), "data"),
        },
        Operation::LinearIndexBuild | Operation::ValidationScan => {
            ratio(copy.bytes(), production.bytes(), "data")
        }
        Operation::Rewrite => ratio(
            copy.total_bytes(),
            production.bytes().saturating_add(production.index_bytes),
            "data",
        ),
    }
}

/// A btree build's model at production's size: n·log n once production's table exceeds its
/// `maintenance_work_mem` (the sort spills to disk), else linear.
pub fn refine(
    op: Operation,
    production: &SnapshotTable,
    maintenance_work_mem: Option<i64>,
) -> Operation {
    match (op, maintenance_work_mem) {
        (Operation::SortedIndexBuild, Some(memory)) if production.bytes() <= memory => {
            Operation::InMemoryIndexBuild
        }
        _ => op,
    }
}

/// A setting as `SHOW` writes memory (`64MB`, `8kB`, `1GB`) in bytes.
pub fn memory_bytes(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "kB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A measured duration scaled by `factor`, keeping `fixed_ms` of it as is.
pub fn scale(measured_ms: u64, factor: f64, fixed_ms: f64) -> u64 {
    let measured = measured_ms as f64;
    let fixed = measured.min(fixed_ms);
    let predicted = fixed + (measured - fixed) * factor.max(0.0);
    if predicted.is_finite() {
        predicted.round().min(u64::MAX as f64) as u64
    } else {
        u64::MAX
    }
}

/// The strongest lock's predicted hold: the measured hold plus how much longer this
/// statement (and, for a lock held to COMMIT, every later statement of the transaction) takes
/// at production size. `deltas_after` is the sum of those later statements' growth.
pub fn lock_held(run: &StatementRun, predicted_ms: u64, deltas_after: u64) -> Option<u64> {
    let lock = run.strongest_lock()?;
    let own = predicted_ms.saturating_sub(run.duration_ms);
    let later = if lock.until == Until::StatementEnd {
        0
    } else {
        deltas_after
    };
    Some(lock.held_ms.saturating_add(own).saturating_add(later))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::{RowSource, TableKind};

    fn copy(rows: i64, bytes: i64) -> Table {
        Table {
            name: QualifiedName::new(Some("public"), "tickets"),
            kind: TableKind::Table,
            partition_of: None,
            rows,
            row_source: RowSource::Analyze,
            heap_bytes: bytes,
            index_bytes: bytes / 4,
            toast_bytes: 0,
            triggers: 0,
            locked: false,
            columns: Vec::new(),
        }
    }

    fn production(rows: i64, bytes: i64) -> SnapshotTable {
        SnapshotTable {
            name: "public.tickets".into(),
            kind: "table".into(),
            partition_of: None,
            rows,
            heap_bytes: bytes,
            toast_bytes: 0,
            index_bytes: bytes / 4,
            triggers: 0,
            columns: Vec::new(),
        }
    }

    #[test]
    fn ten_times_the_rows_is_ten_times_a_backfill_and_more_for_a_sort() {
        let c = copy(120_000, 12 << 20);
        let p = production(1_200_000, 120 << 20);
        let backfill = factor(Operation::Backfill, &c, &p).unwrap();
        assert!((backfill - 10.0).abs() < 1e-9);
        let sort = factor(Operation::SortedIndexBuild, &c, &p).unwrap();
        // n·log n: 10 × ln(1.2M)/ln(120k) ≈ 11.97
        assert!(sort > 11.5 && sort < 12.5, "{sort}");
        let rewrite = factor(Operation::Rewrite, &c, &p).unwrap();
        assert!((rewrite - 10.0).abs() < 1e-9);
        assert_eq!(factor(Operation::CatalogOnly, &c, &p).unwrap(), 1.0);
    }

    #[test]
    fn an_empty_copy_table_cannot_be_scaled() {
        let err = factor(
            Operation::ValidationScan,
            &copy(0, 0),
            &production(10, 8192),
        )
        .unwrap_err();
        assert!(
            err.contains("public.tickets") && err.contains("nothing to scale"),
            "{err}"
        );
    }

    #[test]
    fn the_fixed_part_is_not_scaled() {
        assert_eq!(scale(401, 10.0, 1.0), 4001);
        assert_eq!(scale(0, 10.0, 1.0), 0);
        assert_eq!(scale(1, 1000.0, 1.0), 1);
        assert_eq!(scale(110, 10.0, 10.0), 1010);
        assert_eq!(scale(5, f64::INFINITY, 1.0), u64::MAX);
    }

    #[test]
    fn a_sort_that_fits_in_memory_is_linear() {
        let p = production(1_200_000, 120 << 20);
        let memory = memory_bytes("64MB");
        assert_eq!(memory, Some(64 << 20));
        assert_eq!(
            refine(Operation::SortedIndexBuild, &p, memory),
            Operation::SortedIndexBuild
        );
        assert_eq!(
            refine(Operation::SortedIndexBuild, &p, memory_bytes("1GB")),
            Operation::InMemoryIndexBuild
        );
        assert_eq!(
            refine(Operation::SortedIndexBuild, &p, None),
            Operation::SortedIndexBuild
        );
        let c = copy(120_000, 12 << 20);
        assert_eq!(factor(Operation::InMemoryIndexBuild, &c, &p).unwrap(), 10.0);
        assert_eq!(memory_bytes("lots"), None);
    }
}
