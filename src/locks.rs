//! Which table-level lock each statement takes, and what that lock blocks.
//!
//! This is PostgreSQL knowledge shared by several rules (lock-without-timeout,
//! statements-after-exclusive-lock) and by size-aware severity, kept in one table,
//! [`LOCK_MODEL`]: one row per statement form, with the table it locks (every table the
//! statement names: a `CREATE TABLE ... REFERENCES` locks the referenced table, a trigger
//! its table), the mode, the manual section, and an example that `tests/static_model.rs`
//! runs on a real server to check the mode against `pg_locks`.

use crate::model::{
    AlterAction, ColumnDef, Constraint, ConstraintKind, QualifiedName, StatementKind,
};

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

/// The statement forms the lock model knows, one per row of [`LOCK_MODEL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    AlterTable,
    ValidateConstraint,
    AddForeignKey,
    ForeignKeyReferenced,
    SetStatistics,
    ToggleTrigger,
    AttachPartition,
    DetachPartitionConcurrently,
    CreateIndex,
    CreateIndexConcurrently,
    ReindexTable,
    ReindexTableConcurrently,
    DropTable,
    Truncate,
    VacuumFull,
    Vacuum,
    Cluster,
    RefreshMaterializedView,
    RefreshMaterializedViewConcurrently,
    LockTable,
    Dml,
    CreateTableReferences,
    CreatePartitionOf,
    CreateTrigger,
    DropTrigger,
    AlterTrigger,
    Policy,
    CreateRule,
    DropRule,
}

/// One row of the lock model: a statement form, the table it locks, the mode, the manual
/// section that documents it, and an example (setup + statement) that the test
/// `tests/static_model.rs` runs on a real server to check the mode in `pg_locks`.
#[derive(Debug)]
pub struct LockEntry {
    pub form: Form,
    /// How the statement reads, for messages: `CREATE TRIGGER ... ON <table>`.
    pub statement: &'static str,
    /// Which table of the statement the lock is on, for messages.
    pub target: &'static str,
    pub mode: LockMode,
    /// The PostgreSQL documentation section that says so.
    pub docs: &'static str,
    /// Tables `example` needs, created before it runs.
    pub setup: &'static str,
    /// A statement of this form whose lock on table `t` is the entry's mode.
    pub example: &'static str,
}

const SETUP: &str = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, \
                     pid int, CONSTRAINT t_id_check CHECK (id > 0) NOT VALID); \
                     CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS \
                     'BEGIN RETURN NEW; END'; CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW \
                     EXECUTE FUNCTION trg(); CREATE POLICY pol ON t USING (true); \
                     CREATE RULE ru AS ON UPDATE TO t DO ALSO NOTHING; \
                     CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id; CREATE UNIQUE INDEX ON mv (id)";

const PARTITIONED: &str = "CREATE TABLE t (id int) PARTITION BY RANGE (id); \
                           CREATE TABLE t_old (id int)";

/// Which lock each statement form takes on which table. The single place migsafe's static
/// rules learn locks from; sources are the "Table-Level Locks" list of the manual
/// (explicit-locking.html), the lock each ALTER TABLE sub-command needs (sql-altertable.html,
/// "Description"), and the command pages named per row.
pub const LOCK_MODEL: &[LockEntry] = &[
    LockEntry {
        form: Form::AlterTable,
        statement: "ALTER TABLE <table> ...",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-altertable.html, Description: \"an ACCESS EXCLUSIVE lock is acquired unless explicitly noted\"",
        setup: SETUP,
        example: "ALTER TABLE t ADD COLUMN c int",
    },
    LockEntry {
        form: Form::ValidateConstraint,
        statement: "ALTER TABLE <table> VALIDATE CONSTRAINT",
        target: "the table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "sql-altertable.html, VALIDATE CONSTRAINT",
        setup: SETUP,
        example: "ALTER TABLE t VALIDATE CONSTRAINT t_id_check",
    },
    LockEntry {
        form: Form::AddForeignKey,
        statement: "ALTER TABLE <table> ADD FOREIGN KEY",
        target: "the referencing table",
        mode: LockMode::ShareRowExclusive,
        docs: "sql-altertable.html, ADD table_constraint: \"SHARE ROW EXCLUSIVE lock\" for a foreign key",
        setup: SETUP,
        example: "ALTER TABLE t ADD CONSTRAINT t_pid_fkey FOREIGN KEY (pid) REFERENCES p (id) NOT VALID",
    },
    LockEntry {
        form: Form::ForeignKeyReferenced,
        statement: "a new foreign key REFERENCES <table>",
        target: "the referenced table",
        mode: LockMode::ShareRowExclusive,
        docs: "sql-altertable.html, ADD table_constraint: \"also requires a SHARE ROW EXCLUSIVE lock on the referenced table\"",
        setup: SETUP,
        example: "ALTER TABLE p ADD COLUMN tid int REFERENCES t (id)",
    },
    LockEntry {
        form: Form::SetStatistics,
        statement: "ALTER TABLE <table> ALTER COLUMN ... SET STATISTICS / CLUSTER ON",
        target: "the table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "sql-altertable.html, SET STATISTICS and CLUSTER ON",
        setup: SETUP,
        example: "ALTER TABLE t ALTER COLUMN pid SET STATISTICS 500",
    },
    LockEntry {
        form: Form::ToggleTrigger,
        statement: "ALTER TABLE <table> ENABLE/DISABLE TRIGGER",
        target: "the table",
        mode: LockMode::ShareRowExclusive,
        docs: "sql-altertable.html, DISABLE/ENABLE TRIGGER",
        setup: SETUP,
        example: "ALTER TABLE t DISABLE TRIGGER tr",
    },
    LockEntry {
        form: Form::AttachPartition,
        statement: "ALTER TABLE <parent> ATTACH PARTITION",
        target: "the partitioned table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "sql-altertable.html, ATTACH PARTITION",
        setup: PARTITIONED,
        example: "ALTER TABLE t ATTACH PARTITION t_old FOR VALUES FROM (0) TO (10)",
    },
    LockEntry {
        form: Form::DetachPartitionConcurrently,
        statement: "ALTER TABLE <parent> DETACH PARTITION ... CONCURRENTLY",
        target: "the partitioned table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "sql-altertable.html, DETACH PARTITION ... CONCURRENTLY",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::CreateIndex,
        statement: "CREATE INDEX ... ON <table>",
        target: "the table",
        mode: LockMode::Share,
        docs: "sql-createindex.html, Building Indexes Concurrently; explicit-locking.html, SHARE",
        setup: SETUP,
        example: "CREATE INDEX ON t (pid)",
    },
    LockEntry {
        form: Form::CreateIndexConcurrently,
        statement: "CREATE INDEX CONCURRENTLY ... ON <table>",
        target: "the table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "explicit-locking.html, SHARE UPDATE EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::ReindexTable,
        statement: "REINDEX TABLE <table>",
        target: "the table",
        mode: LockMode::Share,
        docs: "sql-reindex.html, Notes",
        setup: SETUP,
        example: "REINDEX TABLE t",
    },
    LockEntry {
        form: Form::ReindexTableConcurrently,
        statement: "REINDEX TABLE CONCURRENTLY <table>",
        target: "the table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "sql-reindex.html, Rebuilding Indexes Concurrently",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::DropTable,
        statement: "DROP TABLE <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "explicit-locking.html, ACCESS EXCLUSIVE",
        setup: SETUP,
        example: "DROP TABLE t",
    },
    LockEntry {
        form: Form::Truncate,
        statement: "TRUNCATE <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "explicit-locking.html, ACCESS EXCLUSIVE",
        setup: SETUP,
        example: "TRUNCATE t",
    },
    LockEntry {
        form: Form::VacuumFull,
        statement: "VACUUM FULL <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "explicit-locking.html, ACCESS EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::Vacuum,
        statement: "VACUUM <table>",
        target: "the table",
        mode: LockMode::ShareUpdateExclusive,
        docs: "explicit-locking.html, SHARE UPDATE EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::Cluster,
        statement: "CLUSTER <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "explicit-locking.html, ACCESS EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::RefreshMaterializedView,
        statement: "REFRESH MATERIALIZED VIEW <view>",
        target: "the view",
        mode: LockMode::AccessExclusive,
        docs: "explicit-locking.html, ACCESS EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::RefreshMaterializedViewConcurrently,
        statement: "REFRESH MATERIALIZED VIEW CONCURRENTLY <view>",
        target: "the view",
        mode: LockMode::Exclusive,
        docs: "explicit-locking.html, EXCLUSIVE",
        setup: "",
        example: "",
    },
    LockEntry {
        form: Form::LockTable,
        statement: "LOCK TABLE <table> IN <mode> MODE",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-lock.html (ACCESS EXCLUSIVE when no mode is given)",
        setup: SETUP,
        example: "LOCK TABLE t",
    },
    LockEntry {
        form: Form::Dml,
        statement: "INSERT / UPDATE / DELETE on <table>",
        target: "the table",
        mode: LockMode::RowExclusive,
        docs: "explicit-locking.html, ROW EXCLUSIVE",
        setup: SETUP,
        example: "DELETE FROM t WHERE id = 1",
    },
    LockEntry {
        form: Form::CreateTableReferences,
        statement: "CREATE TABLE ... REFERENCES <table>",
        target: "the referenced table",
        mode: LockMode::ShareRowExclusive,
        docs: "sql-altertable.html, ADD table_constraint (the same foreign key triggers are created on the referenced table)",
        setup: SETUP,
        example: "CREATE TABLE child (id int, tid int REFERENCES t (id))",
    },
    LockEntry {
        form: Form::CreatePartitionOf,
        statement: "CREATE TABLE ... PARTITION OF <parent>",
        target: "the partitioned table",
        mode: LockMode::AccessExclusive,
        docs: "sql-createtable.html, PARTITION OF; ddl-partitioning.html (attach instead: SHARE UPDATE EXCLUSIVE)",
        setup: PARTITIONED,
        example: "CREATE TABLE t_new PARTITION OF t FOR VALUES FROM (10) TO (20)",
    },
    LockEntry {
        form: Form::CreateTrigger,
        statement: "CREATE TRIGGER ... ON <table>",
        target: "the table",
        mode: LockMode::ShareRowExclusive,
        docs: "sql-createtrigger.html; explicit-locking.html, SHARE ROW EXCLUSIVE (\"CREATE TRIGGER\")",
        setup: SETUP,
        example: "CREATE TRIGGER tr2 AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg()",
    },
    LockEntry {
        form: Form::DropTrigger,
        statement: "DROP TRIGGER ... ON <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-droptrigger.html; explicit-locking.html, ACCESS EXCLUSIVE (\"many forms of ALTER TABLE\" and DROP of table objects)",
        setup: SETUP,
        example: "DROP TRIGGER tr ON t",
    },
    LockEntry {
        form: Form::AlterTrigger,
        statement: "ALTER TRIGGER ... ON <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-altertrigger.html",
        setup: SETUP,
        example: "ALTER TRIGGER tr ON t RENAME TO tr_renamed",
    },
    LockEntry {
        form: Form::Policy,
        statement: "CREATE / ALTER / DROP POLICY ... ON <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-createpolicy.html, sql-droppolicy.html",
        setup: SETUP,
        example: "CREATE POLICY pol2 ON t USING (id > 0)",
    },
    LockEntry {
        form: Form::CreateRule,
        statement: "CREATE RULE ... TO <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-createrule.html",
        setup: SETUP,
        example: "CREATE RULE ru2 AS ON DELETE TO t DO ALSO NOTHING",
    },
    LockEntry {
        form: Form::DropRule,
        statement: "DROP RULE ... ON <table>",
        target: "the table",
        mode: LockMode::AccessExclusive,
        docs: "sql-droprule.html",
        setup: SETUP,
        example: "DROP RULE ru ON t",
    },
];

/// The model's row for a form.
pub fn entry(form: Form) -> &'static LockEntry {
    LOCK_MODEL
        .iter()
        .find(|e| e.form == form)
        .unwrap_or(&LOCK_MODEL[0])
}

/// A lock one statement takes on one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLock {
    pub table: QualifiedName,
    pub mode: LockMode,
    /// Why: the model's row.
    pub form: Form,
}

impl TableLock {
    fn of(table: &QualifiedName, form: Form) -> TableLock {
        TableLock {
            table: table.clone(),
            mode: entry(form).mode,
            form,
        }
    }

    /// The manual section that documents this lock.
    pub fn docs(&self) -> &'static str {
        entry(self.form).docs
    }

    /// `CREATE TRIGGER ... ON <table>` (the model's wording of the statement form).
    pub fn statement(&self) -> &'static str {
        entry(self.form).statement
    }
}

fn alter_action_form(action: &AlterAction) -> Form {
    use AlterAction::*;
    match action {
        ValidateConstraint { .. } => Form::ValidateConstraint,
        // FINALIZE takes the lock of the CONCURRENTLY form it completes.
        DetachPartition {
            concurrently: true, ..
        }
        | DetachPartition { finalize: true, .. } => Form::DetachPartitionConcurrently,
        AttachPartition { .. } => Form::AttachPartition,
        AddConstraint(c) if matches!(c.kind, ConstraintKind::ForeignKey(_)) => Form::AddForeignKey,
        // Written `alter column c set statistics n` (sub-command keywords as parsed).
        Other(kw)
            if kw.contains("set statistics")
                || kw.starts_with("cluster on")
                || kw.starts_with("set without cluster") =>
        {
            Form::SetStatistics
        }
        Other(kw)
            if kw.starts_with("enable trigger")
                || kw.starts_with("disable trigger")
                || kw.starts_with("enable replica")
                || kw.starts_with("enable always") =>
        {
            Form::ToggleTrigger
        }
        _ => Form::AlterTable,
    }
}

/// The table locks a statement takes on every table it names (strongest per table, and per
/// table the form that explains it), excluding tables it creates.
/// The tables a new table's foreign keys (column `REFERENCES` and table constraints) point
/// at: `CREATE TABLE` locks each of them.
pub fn referenced_tables<'a>(
    columns: &'a [ColumnDef],
    constraints: &'a [Constraint],
) -> impl Iterator<Item = &'a QualifiedName> {
    columns
        .iter()
        .filter_map(|c| c.references.as_ref())
        .map(|fk| &fk.table)
        .chain(constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey(fk) => Some(&fk.table),
            _ => None,
        }))
}

pub fn table_locks(kind: &StatementKind) -> Vec<TableLock> {
    use StatementKind::*;
    let mut locks: Vec<TableLock> = Vec::new();
    let mut add = |lock: TableLock| match locks.iter_mut().find(|l| l.table == lock.table) {
        Some(existing) if existing.mode < lock.mode => *existing = lock,
        Some(_) => {}
        None => locks.push(lock),
    };
    match kind {
        AlterTable { name, actions, .. } => {
            if let Some(form) = actions
                .iter()
                .map(alter_action_form)
                .max_by_key(|f| entry(*f).mode)
            {
                add(TableLock::of(name, form));
            }
            for action in actions {
                if let AlterAction::AddConstraint(c) = action {
                    if let ConstraintKind::ForeignKey(fk) = &c.kind {
                        add(TableLock::of(&fk.table, Form::ForeignKeyReferenced));
                    }
                }
                if let AlterAction::AddColumn { column, .. } = action {
                    if let Some(fk) = &column.references {
                        add(TableLock::of(&fk.table, Form::ForeignKeyReferenced));
                    }
                }
            }
        }
        CreateTable {
            name,
            columns,
            constraints,
            partition_of,
            ..
        } => {
            for table in referenced_tables(columns, constraints) {
                // A self-reference locks only the table being created.
                if !table.matches(name) {
                    add(TableLock::of(table, Form::CreateTableReferences));
                }
            }
            if let Some(parent) = partition_of {
                add(TableLock::of(parent, Form::CreatePartitionOf));
            }
        }
        TableDdl {
            keywords, table, ..
        } => {
            let form = match keywords.as_str() {
                "create trigger" => Form::CreateTrigger,
                "drop trigger" => Form::DropTrigger,
                "alter trigger" => Form::AlterTrigger,
                "create rule" | "alter rule" => Form::CreateRule,
                "drop rule" => Form::DropRule,
                _ => Form::Policy,
            };
            add(TableLock::of(table, form));
        }
        CreateIndex {
            table,
            concurrently,
            ..
        } => add(TableLock::of(
            table,
            if *concurrently {
                Form::CreateIndexConcurrently
            } else {
                Form::CreateIndex
            },
        )),
        Reindex {
            target: crate::model::ReindexTarget::Table,
            name: Some(name),
            concurrently,
        } => add(TableLock::of(
            name,
            if *concurrently {
                Form::ReindexTableConcurrently
            } else {
                Form::ReindexTable
            },
        )),
        DropTable { names, .. } => {
            for t in names {
                add(TableLock::of(t, Form::DropTable));
            }
        }
        Truncate { tables } => {
            for t in tables {
                add(TableLock::of(t, Form::Truncate));
            }
        }
        Vacuum { full, tables } => {
            for t in tables {
                add(TableLock::of(
                    t,
                    if *full {
                        Form::VacuumFull
                    } else {
                        Form::Vacuum
                    },
                ));
            }
        }
        Cluster { table: Some(t) } => add(TableLock::of(t, Form::Cluster)),
        RefreshMaterializedView { name, concurrently } => add(TableLock::of(
            name,
            if *concurrently {
                Form::RefreshMaterializedViewConcurrently
            } else {
                Form::RefreshMaterializedView
            },
        )),
        LockTable { tables, mode } => {
            let mode = LockMode::from_sql(mode).unwrap_or(LockMode::AccessExclusive);
            for t in tables {
                add(TableLock {
                    table: t.clone(),
                    mode,
                    form: Form::LockTable,
                });
            }
        }
        Update { table, .. } | Delete { table, .. } | Insert { table, .. } => {
            add(TableLock::of(table, Form::Dml))
        }
        _ => {}
    }
    locks
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
