//! The catalog snapshot: what a read-only look at the copy tells the rules (PRODUCT.md §3,
//! evidence level "catalog") — tables with their size and row estimates, columns, indexes
//! with their keys, validity and usage, constraints, foreign keys and whether an index covers
//! them, sequences and views.
//!
//! Everything is read in a handful of set-based queries (one per kind of object, never one
//! per table), so a database with thousands of tables costs the same few round trips. The
//! database may be production, where a migration can hold an ACCESS EXCLUSIVE lock on a
//! table, so the snapshot is read in two phases:
//!
//! 1. The structure (names, columns, keys, constraints, statistics counters) in one
//!    `REPEATABLE READ READ ONLY` transaction, so the parts agree with each other. These
//!    queries read system catalogs and statistics views only: they take no lock on any user
//!    relation and cannot wait behind a migration.
//! 2. Everything that must open a relation — sizes (`pg_relation_size`), deparsed text
//!    (`pg_get_expr`, `pg_get_indexdef` and CHECK `pg_get_constraintdef` open the table to
//!    name its columns) and sequence positions — in statements of at most [`CHUNK`]
//!    relations. Each statement releases its locks when it ends, so a database with 10,000
//!    tables never holds 10,000 locks at once (which can exhaust the shared lock table,
//!    `max_locks_per_transaction`). Relations another session holds or awaits in ACCESS
//!    EXCLUSIVE mode are skipped rather than waited for, and a chunk that still runs into
//!    `lock_timeout` is skipped as a whole: their sizes fall back to `relpages` estimates,
//!    their texts stay unknown, and the objects are flagged `locked` with a note.
//!
//! Queries use catalogs that exist unchanged in PostgreSQL 12–17.
//!
//! Names: every object's schema is known here. A migration's unqualified name resolves
//! against the search path read from the server (`current_schemas(false)`: the schemas that
//! exist among the connecting role's `search_path`, normally just `public`), falling back to
//! `public` when that is empty. A migration that sets its own `search_path` is not followed.

use super::connect::{server_identity, ServerIdentity};
use crate::config::Thresholds;
use crate::model::{IndexKey, QualifiedName};
use anyhow::{Context as _, Result};
use serde::{Serialize, Serializer};
use sqlx::postgres::PgConnection;
use sqlx::Connection as _;
use std::collections::{BTreeMap, BTreeSet};

/// Relations per phase-2 statement: bounds the locks one statement holds.
pub const CHUNK: usize = 500;

/// Schemas that hold PostgreSQL's own objects, never the application's.
const SYSTEM_SCHEMAS_SQL: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// What kind of table a relation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// An ordinary table that is not a partition.
    Table,
    /// A partitioned table (`PARTITION BY`, possibly itself a partition of another): holds no
    /// rows itself; its sizes and row estimate are the sums over its partitions.
    Partitioned,
    /// A leaf partition (see `Table::partition_of`).
    Partition,
}

/// Where a table's row estimate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSource {
    /// `pg_class.reltuples` from the last ANALYZE/VACUUM, scaled to the table's current
    /// number of pages the way the planner does.
    Analyze,
    /// Never analyzed: the statistics collector's live-tuple counter (`n_live_tup`).
    LiveTuples,
    /// Never analyzed and no live-tuple count (statistics reset, or a clone recovered from
    /// a base backup, which discards them): the table's pages times the tuple density its
    /// column types imply, as the planner estimates such a table.
    Pages,
    /// A partitioned table: the sum of its partitions' estimates.
    Partitions,
}

/// A user table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: QualifiedName,
    pub kind: TableKind,
    /// The partitioned table this one is a partition of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<QualifiedName>,
    /// Estimated rows (see `row_source`).
    pub rows: i64,
    pub row_source: RowSource,
    /// Main fork of the heap.
    pub heap_bytes: i64,
    /// All indexes of the table.
    pub index_bytes: i64,
    /// The TOAST table and its index (out-of-line values).
    pub toast_bytes: i64,
    /// User triggers (not the internal ones behind foreign keys).
    pub triggers: i64,
    /// Another session held (or awaited) an ACCESS EXCLUSIVE lock on the table or one of its
    /// indexes during the snapshot: some sizes are `relpages` estimates and default, CHECK
    /// and index expression texts may be missing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
    /// Columns in `attnum` order.
    pub columns: Vec<Column>,
}

impl Table {
    /// The table's data: heap plus TOAST, what psql's `\dt+` shows as Size and what a scan or
    /// rewrite reads.
    pub fn bytes(&self) -> i64 {
        self.heap_bytes.saturating_add(self.toast_bytes)
    }

    /// Data plus indexes (`pg_total_relation_size`).
    pub fn total_bytes(&self) -> i64 {
        self.bytes().saturating_add(self.index_bytes)
    }

    pub fn size_class(&self, thresholds: &Thresholds) -> SizeClass {
        SizeClass::of(self.rows, self.bytes(), thresholds)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column of a user table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// `format_type`: `integer`, `character varying(255)`, `timestamp with time zone`.
    pub data_type: String,
    pub not_null: bool,
    /// Whether the column has a default (or generation) expression, even when its text could
    /// not be read (see `Table::locked`).
    pub has_default: bool,
    /// Default expression as PostgreSQL prints it (`nextval('orders_id_seq'::regclass)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (...) STORED`: the column is computed; its expression.
    pub generated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_expression: Option<String>,
    /// `GENERATED ... AS IDENTITY`.
    pub identity: bool,
    pub attnum: i16,
}

/// An index (on a table, partitioned table or materialized view).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: QualifiedName,
    pub table: QualifiedName,
    /// Key columns in order; expressions as PostgreSQL prints them (empty text when the table
    /// was locked, see `locked`). INCLUDE columns are in `include`, not here.
    #[serde(serialize_with = "serialize_keys")]
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    /// A partial index (`WHERE ...`); the predicate's text is in `predicate` when known.
    pub partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    pub unique: bool,
    pub primary: bool,
    /// `indisvalid`: false for a failed `CREATE INDEX CONCURRENTLY` (still maintained on every
    /// write, never used by the planner) or a partitioned index missing on some partition.
    pub valid: bool,
    /// Access method: `btree`, `hash`, `gin`, `gist`, `brin`, ...
    pub method: String,
    pub bytes: i64,
    /// Scans since statistics were last reset; `None` when the server keeps none for it.
    /// A partitioned index reports the sum over its partitions' indexes.
    pub scans: Option<i64>,
    /// For an index of a partition: the partitioned index it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<QualifiedName>,
    /// Locked by another session during the snapshot: `bytes` is a `relpages` estimate and
    /// expression texts may be missing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
}

impl Index {
    /// Whether the planner can use this index to find the rows of `columns` by equality, as
    /// the foreign-key checks on DELETE/UPDATE of the referenced row do: a valid, non-partial
    /// btree whose leading `columns.len()` keys are exactly those columns (in any order), or
    /// a hash index on that single column.
    pub fn covers(&self, columns: &[String]) -> bool {
        if !self.valid || self.partial || columns.is_empty() {
            return false;
        }
        match self.method.as_str() {
            "btree" => {}
            "hash" if columns.len() == 1 => {}
            _ => return false,
        }
        let Some(leading) = self.keys.get(..columns.len()) else {
            return false;
        };
        let leading: Option<BTreeSet<&str>> = leading
            .iter()
            .map(|k| match k {
                IndexKey::Column(c) => Some(c.as_str()),
                IndexKey::Expression(_) => None,
            })
            .collect();
        let wanted: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
        leading.is_some_and(|l| l.len() == columns.len() && l == wanted)
    }

    /// A `CREATE INDEX` statement equivalent to this index, for messages and rollback
    /// advice. Rebuilt from the parts (PostgreSQL's own `pg_get_indexdef` would lock the
    /// table); identifiers are not quoted.
    pub fn create_statement(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(key_text).collect();
        let mut sql = format!(
            "CREATE {}INDEX {} ON {} USING {} ({})",
            if self.unique { "UNIQUE " } else { "" },
            self.name.name,
            self.table,
            self.method,
            keys.join(", ")
        );
        if !self.include.is_empty() {
            sql.push_str(&format!(" INCLUDE ({})", self.include.join(", ")));
        }
        if let Some(predicate) = &self.predicate {
            sql.push_str(&format!(" WHERE {predicate}"));
        }
        sql
    }
}

/// A key the way `CREATE INDEX` writes it: a column by name, an expression in parentheses.
fn key_text(key: &IndexKey) -> String {
    match key {
        IndexKey::Column(c) => c.clone(),
        IndexKey::Expression(e) => format!("({e})"),
    }
}

fn serialize_keys<S: Serializer>(keys: &[IndexKey], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(key_text))
}

/// Constraint types, as `pg_constraint.contype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintType {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclusion,
}

impl ConstraintType {
    fn from_contype(c: &str) -> Option<ConstraintType> {
        Some(match c {
            "p" => ConstraintType::PrimaryKey,
            "u" => ConstraintType::Unique,
            "f" => ConstraintType::ForeignKey,
            "c" => ConstraintType::Check,
            "x" => ConstraintType::Exclusion,
            _ => return None,
        })
    }
}

/// What a foreign key points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub table: QualifiedName,
    pub columns: Vec<String>,
    /// `ON DELETE` action: `no action`, `restrict`, `cascade`, `set null`, `set default`.
    pub on_delete: String,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub table: QualifiedName,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ConstraintType,
    pub columns: Vec<String>,
    /// `convalidated`: false for a constraint added `NOT VALID` and not validated since.
    pub validated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Reference>,
    /// The index behind a primary key, unique or exclusion constraint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Cloned onto a partition from its partitioned parent's constraint.
    pub inherited: bool,
    /// `pg_get_constraintdef`, e.g. `FOREIGN KEY (customer_id) REFERENCES customers(id)`;
    /// `None` for a CHECK or exclusion constraint of a locked table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// A foreign key and whether an index on the referencing side serves its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub table: QualifiedName,
    pub name: String,
    pub columns: Vec<String>,
    pub references: Reference,
    pub validated: bool,
    /// Some valid index on `table` covers `columns` (see [`Index::covers`]). Without one,
    /// every DELETE or key UPDATE on the referenced table scans this table.
    pub covered_by_index: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covering_index: Option<QualifiedName>,
}

/// A function or procedure name of the copy and its volatility (`pg_proc.provolatile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    pub name: QualifiedName,
    pub volatility: crate::model::Volatility,
}

/// Reads every routine name with its most volatile overload's volatility. pg_proc is a
/// system catalog: no lock on a user relation.
async fn read_functions(conn: &mut PgConnection) -> Result<Vec<Function>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, p.proname::text, max(p.provolatile::text) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         GROUP BY 1, 2",
    )
    .fetch_all(conn)
    .await
    .context("Failed to read function volatility from pg_proc")?;
    // 'v' > 's' > 'i', so max() picks the most volatile overload.
    Ok(rows
        .into_iter()
        .filter_map(|(schema, name, code)| {
            Some(Function {
                name: QualifiedName::new(Some(&schema), &name),
                volatility: crate::model::Volatility::from_provolatile(&code)?,
            })
        })
        .collect())
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    pub name: QualifiedName,
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    /// `None` when never used, when the role may not read it, or when it was locked.
    pub last_value: Option<i64>,
    pub max_value: i64,
    pub increment: i64,
    /// The column it feeds (`serial`, identity, or `OWNED BY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<OwnedBy>,
}

impl Sequence {
    /// Share of the sequence's range already used (0.0–1.0), when known.
    pub fn used_fraction(&self) -> Option<f64> {
        let last = self.last_value?;
        (self.max_value > 0 && self.increment > 0).then(|| last as f64 / self.max_value as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedBy {
    pub table: QualifiedName,
    pub column: String,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// Materialized views only: estimated rows and size (what a REFRESH rewrites).
    pub rows: i64,
    pub bytes: i64,
}

/// How big a table is, for size-aware severities (`config::Thresholds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    /// Below both small thresholds: locks are held for milliseconds.
    Small,
    Medium,
    /// Above either large threshold.
    Large,
}

impl SizeClass {
    pub fn of(rows: i64, bytes: i64, t: &Thresholds) -> SizeClass {
        if rows > t.large_table_rows || bytes > t.large_table_bytes {
            SizeClass::Large
        } else if rows < t.small_table_rows && bytes < t.small_table_bytes {
            SizeClass::Small
        } else {
            SizeClass::Medium
        }
    }
}

/// Everything the catalog says about the copy.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogSnapshot {
    pub server: ServerIdentity,
    /// Schemas an unqualified name is looked up in, in order.
    pub search_path: Vec<String>,
    pub tables: Vec<Table>,
    pub indexes: Vec<Index>,
    pub constraints: Vec<Constraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub sequences: Vec<Sequence>,
    pub views: Vec<View>,
    /// Objects that depend on tables and their columns (views, rules, policies, triggers,
    /// generated columns, publications), from pg_depend (`evidence::depends`).
    pub dependents: Vec<super::depends::Dependent>,
    /// What the reader of this snapshot should know about its accuracy.
    pub notes: Vec<String>,
    /// Every function and procedure name with its volatility (the most volatile overload),
    /// for judging defaults that call them (issue #12). Not exported: it is not a fact about
    /// production's size.
    #[serde(skip)]
    pub functions: Vec<Function>,
    /// Tables and indexes share one namespace per schema; these map names to positions.
    #[serde(skip)]
    table_pos: BTreeMap<QualifiedName, usize>,
    #[serde(skip)]
    index_pos: BTreeMap<QualifiedName, usize>,
}

impl CatalogSnapshot {
    /// Reads the structure in one read-only, repeatable-read transaction, then everything
    /// that needs a lock in short statements (see the module documentation).
    pub async fn read(conn: &mut PgConnection) -> Result<CatalogSnapshot> {
        let structure = read_structure(conn).await?;
        let details = read_details(conn, &structure).await?;
        let mut snapshot = CatalogSnapshot::assemble(structure, details);
        snapshot.functions = read_functions(conn).await?;
        Ok(snapshot)
    }

    /// Joins the query results: columns and sizes into tables, partition sums into
    /// partitioned parents, foreign keys with their covering indexes.
    fn assemble(structure: Structure, details: Details) -> CatalogSnapshot {
        let Structure {
            server,
            settings,
            locked: _,
            tables,
            columns,
            indexes,
            constraints,
            sequences,
            views,
        } = structure;

        let mut columns_of: BTreeMap<i64, Vec<Column>> = BTreeMap::new();
        for c in columns {
            let table = c.table_oid;
            columns_of
                .entry(table)
                .or_default()
                .push(c.into_column(&details));
        }
        // Index bytes of each table, and whether any index was locked.
        let mut index_bytes: BTreeMap<i64, (i64, bool)> = BTreeMap::new();
        for i in &indexes {
            let entry = index_bytes.entry(i.table_oid).or_default();
            entry.0 = entry.0.saturating_add(details.size(i.oid).total);
            entry.1 |= details.skipped.contains(&i.oid);
        }
        let mut tables: Vec<Table> = tables
            .into_iter()
            .map(|t| {
                let columns = columns_of.remove(&t.oid).unwrap_or_default();
                let indexes = index_bytes.get(&t.oid).copied().unwrap_or_default();
                t.into_table(columns, &details, indexes, settings.block_size)
            })
            .collect();
        roll_up_partitions(&mut tables);

        let mut indexes: Vec<Index> = indexes
            .into_iter()
            .map(|i| i.into_index(&details))
            .collect();
        roll_up_partition_indexes(&mut indexes);

        let constraints: Vec<Constraint> = constraints
            .into_iter()
            .filter_map(|c| c.into_constraint(&details))
            .collect();

        let mut notes = Vec::new();
        let locked_tables = tables.iter().filter(|t| t.locked).count();
        if locked_tables > 0 {
            notes.push(format!(
                "{locked_tables} table(s) were locked by another session (ACCESS EXCLUSIVE, \
                 e.g. a running migration) during the snapshot: their sizes are estimates from \
                 pg_class.relpages (as of the last VACUUM or ANALYZE) and their default, CHECK \
                 and index expression texts were not read"
            ));
        }
        let search_path = if settings.search_path.is_empty() {
            vec!["public".to_string()]
        } else {
            settings.search_path
        };
        let mut snapshot = CatalogSnapshot {
            server,
            search_path,
            tables,
            indexes,
            constraints,
            foreign_keys: Vec::new(),
            sequences: sequences
                .into_iter()
                .map(|s| s.into_sequence(&details))
                .collect(),
            views: views.into_iter().map(|v| v.into_view(&details)).collect(),
            dependents: Vec::new(),
            notes,
            functions: Vec::new(),
            table_pos: BTreeMap::new(),
            index_pos: BTreeMap::new(),
        };
        snapshot.reindex();
        snapshot.foreign_keys = snapshot
            .constraints
            .iter()
            .filter_map(|c| {
                let references = c.references.clone()?;
                let covering = snapshot
                    .indexes
                    .iter()
                    .find(|i| i.table == c.table && i.covers(&c.columns));
                Some(ForeignKey {
                    table: c.table.clone(),
                    name: c.name.clone(),
                    columns: c.columns.clone(),
                    references,
                    validated: c.validated,
                    covered_by_index: covering.is_some(),
                    covering_index: covering.map(|i| i.name.clone()),
                })
            })
            .collect();
        snapshot
    }

    /// A snapshot assembled from parts already in hand (tests, benchmarks, and anything that
    /// builds a schema without a server): the name lookups are indexed and the foreign keys
    /// linked to their covering indexes exactly as [`CatalogSnapshot::read`] does. An empty
    /// `search_path` means `public`, as on a server whose path names no existing schema.
    pub fn from_parts(
        server: ServerIdentity,
        search_path: Vec<String>,
        tables: Vec<Table>,
        indexes: Vec<Index>,
        constraints: Vec<Constraint>,
        sequences: Vec<Sequence>,
        views: Vec<View>,
    ) -> CatalogSnapshot {
        let search_path = if search_path.is_empty() {
            vec!["public".to_string()]
        } else {
            search_path
        };
        let mut snapshot = CatalogSnapshot {
            server,
            search_path,
            tables,
            indexes,
            constraints,
            foreign_keys: Vec::new(),
            sequences,
            views,
            dependents: Vec::new(),
            notes: Vec::new(),
            functions: Vec::new(),
            table_pos: BTreeMap::new(),
            index_pos: BTreeMap::new(),
        };
        snapshot.reindex();
        snapshot.link_foreign_keys();
        snapshot
    }

    /// Derives `foreign_keys` from the foreign-key constraints and the indexes that cover
    /// them (the same join `assemble` makes).
    fn link_foreign_keys(&mut self) {
        let foreign_keys = self
            .constraints
            .iter()
            .filter_map(|c| {
                let references = c.references.clone()?;
                let covering = self
                    .indexes
                    .iter()
                    .find(|i| i.table == c.table && i.covers(&c.columns));
                Some(ForeignKey {
                    table: c.table.clone(),
                    name: c.name.clone(),
                    columns: c.columns.clone(),
                    references,
                    validated: c.validated,
                    covered_by_index: covering.is_some(),
                    covering_index: covering.map(|i| i.name.clone()),
                })
            })
            .collect();
        self.foreign_keys = foreign_keys;
    }

    fn reindex(&mut self) {
        self.table_pos = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        self.index_pos = self
            .indexes
            .iter()
            .enumerate()
            .map(|(i, x)| (x.name.clone(), i))
            .collect();
    }

    /// The position of the object `name` denotes: as written when it has a schema, else in
    /// the first schema of the search path that has an object of that name.
    fn resolve(
        &self,
        positions: &BTreeMap<QualifiedName, usize>,
        name: &QualifiedName,
    ) -> Option<usize> {
        match &name.schema {
            Some(_) => positions.get(name).copied(),
            None => self.search_path.iter().find_map(|schema| {
                positions
                    .get(&QualifiedName::new(Some(schema), &name.name))
                    .copied()
            }),
        }
    }

    /// Whether an object's name is what `name` denotes, among `candidates` that exist.
    fn resolves_to(&self, name: &QualifiedName, candidate: &QualifiedName) -> bool {
        match &name.schema {
            Some(_) => name == candidate,
            None => self
                .search_path
                .iter()
                .any(|s| candidate.name == name.name && candidate.schema.as_deref() == Some(s)),
        }
    }

    /// The table `name` denotes (unqualified names follow the search path).
    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.resolve(&self.table_pos, name)
            .and_then(|i| self.tables.get(i))
    }

    /// The index `name` denotes (unqualified names follow the search path).
    pub fn index(&self, name: &QualifiedName) -> Option<&Index> {
        self.resolve(&self.index_pos, name)
            .and_then(|i| self.indexes.get(i))
    }

    /// A column of a table.
    pub fn column(&self, table: &QualifiedName, column: &str) -> Option<&Column> {
        self.table(table)?.column(column)
    }

    /// The qualified name of the table or materialized view `name` denotes.
    fn relation_name(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.table(name)
            .map(|t| t.name.clone())
            .or_else(|| self.view(name).map(|v| v.name.clone()))
    }

    /// Indexes on a table or materialized view (empty when it is unknown).
    pub fn indexes_on<'a>(&'a self, table: &QualifiedName) -> impl Iterator<Item = &'a Index> {
        let resolved = self.relation_name(table);
        self.indexes
            .iter()
            .filter(move |i| resolved.as_ref() == Some(&i.table))
    }

    /// Constraints of a table (empty when the table is unknown).
    pub fn constraints_on<'a>(
        &'a self,
        table: &QualifiedName,
    ) -> impl Iterator<Item = &'a Constraint> {
        let resolved = self.table(table).map(|t| t.name.clone());
        self.constraints
            .iter()
            .filter(move |c| resolved.as_ref() == Some(&c.table))
    }

    /// Foreign keys declared on a table.
    pub fn foreign_keys_on<'a>(
        &'a self,
        table: &QualifiedName,
    ) -> impl Iterator<Item = &'a ForeignKey> {
        let resolved = self.table(table).map(|t| t.name.clone());
        self.foreign_keys
            .iter()
            .filter(move |f| resolved.as_ref() == Some(&f.table))
    }

    /// Foreign keys (of any table, this one included) that point at a table: what a DELETE,
    /// TRUNCATE or DROP of it has to check.
    pub fn foreign_keys_referencing<'a>(
        &'a self,
        table: &QualifiedName,
    ) -> impl Iterator<Item = &'a ForeignKey> {
        let resolved = self.table(table).map(|t| t.name.clone());
        self.foreign_keys
            .iter()
            .filter(move |f| resolved.as_ref() == Some(&f.references.table))
    }

    /// Whether an existing valid index on `table` covers `columns` for foreign-key checks;
    /// `None` when the table is not in the catalog (e.g. created by the migration itself).
    pub fn fk_covered(&self, table: &QualifiedName, columns: &[String]) -> Option<bool> {
        self.table(table)?;
        Some(self.indexes_on(table).any(|i| i.covers(columns)))
    }

    /// The sequence `name` denotes.
    pub fn sequence(&self, name: &QualifiedName) -> Option<&Sequence> {
        self.search_path_order(name, self.sequences.iter().map(|s| (&s.name, s)))
    }

    /// The view or materialized view `name` denotes.
    pub fn view(&self, name: &QualifiedName) -> Option<&View> {
        self.search_path_order(name, self.views.iter().map(|v| (&v.name, v)))
    }

    /// The candidate `name` denotes, preferring earlier search-path schemas.
    fn search_path_order<'a, T>(
        &self,
        name: &QualifiedName,
        candidates: impl Iterator<Item = (&'a QualifiedName, &'a T)>,
    ) -> Option<&'a T> {
        let rank = |n: &QualifiedName| {
            self.search_path
                .iter()
                .position(|s| n.schema.as_deref() == Some(s.as_str()))
        };
        candidates
            .filter(|(n, _)| self.resolves_to(name, n))
            .min_by_key(|(n, _)| rank(n))
            .map(|(_, item)| item)
    }
}

/// Gives every partitioned table the sums of its partitions (recursively: partitions may be
/// partitioned themselves), since a partitioned table stores nothing itself.
fn roll_up_partitions(tables: &mut [Table]) {
    let mut children: BTreeMap<QualifiedName, Vec<usize>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        if let Some(parent) = &t.partition_of {
            children.entry(parent.clone()).or_default().push(i);
        }
    }
    // Deepest parents first: a sub-partitioned partition's sums are complete before its own
    // parent adds them up.
    let parent_of: BTreeMap<&QualifiedName, &QualifiedName> = tables
        .iter()
        .filter_map(|t| Some((&t.name, t.partition_of.as_ref()?)))
        .collect();
    let depth = |name: &QualifiedName| {
        let mut d = 0usize;
        let mut current = name;
        // Bounded so that an (impossible) cycle cannot loop forever.
        while let Some(parent) = parent_of.get(current) {
            d += 1;
            current = parent;
            if d > parent_of.len() {
                break;
            }
        }
        d
    };
    let mut parents: Vec<(usize, usize)> = tables
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TableKind::Partitioned)
        .map(|(i, t)| (depth(&t.name), i))
        .collect();
    parents.sort_by(|a, b| b.cmp(a));
    for (_, parent) in parents {
        let Some(name) = tables.get(parent).map(|t| t.name.clone()) else {
            continue;
        };
        let (mut rows, mut heap, mut index, mut toast) = (0i64, 0i64, 0i64, 0i64);
        let mut locked = false;
        for &child in children.get(&name).into_iter().flatten() {
            if let Some(c) = tables.get(child) {
                rows = rows.saturating_add(c.rows);
                heap = heap.saturating_add(c.heap_bytes);
                index = index.saturating_add(c.index_bytes);
                toast = toast.saturating_add(c.toast_bytes);
                locked |= c.locked;
            }
        }
        if let Some(p) = tables.get_mut(parent) {
            p.rows = rows;
            p.row_source = RowSource::Partitions;
            // A partitioned table has no storage of its own: the sums replace its zeros.
            p.heap_bytes = heap;
            p.index_bytes = index;
            p.toast_bytes = toast;
            p.locked |= locked;
        }
    }
}

/// Gives every partitioned index the summed size and scans of its partitions' indexes
/// (the server keeps no statistics for the partitioned index itself).
fn roll_up_partition_indexes(indexes: &mut [Index]) {
    let mut sums: BTreeMap<QualifiedName, (i64, Option<i64>)> = BTreeMap::new();
    let parent_of: BTreeMap<QualifiedName, QualifiedName> = indexes
        .iter()
        .filter_map(|i| Some((i.name.clone(), i.parent.clone()?)))
        .collect();
    let is_parent: BTreeSet<&QualifiedName> = parent_of.values().collect();
    // Leaf indexes have storage and statistics; add each to every ancestor.
    for leaf in indexes.iter().filter(|i| !is_parent.contains(&i.name)) {
        let mut current = leaf.parent.as_ref();
        let mut hops = 0;
        while let Some(parent) = current {
            let entry = sums.entry(parent.clone()).or_insert((0, None));
            entry.0 = entry.0.saturating_add(leaf.bytes);
            if let Some(scans) = leaf.scans {
                entry.1 = Some(entry.1.unwrap_or(0).saturating_add(scans));
            }
            current = parent_of.get(parent);
            hops += 1;
            if hops > parent_of.len() {
                break;
            }
        }
    }
    for index in indexes.iter_mut() {
        if let Some((bytes, scans)) = sums.get(&index.name) {
            index.bytes = index.bytes.saturating_add(*bytes);
            index.scans = match (index.scans, scans) {
                (Some(a), Some(b)) => Some(a.saturating_add(*b)),
                (a, b) => a.or(*b),
            };
        }
    }
}

/// The planner's row estimate (`estimate_rel_size` in PostgreSQL's plancat.c): tuple density
/// from the last ANALYZE times the table's current size in pages, so growth since then
/// counts. `reltuples` is -1 until the first ANALYZE or VACUUM on PostgreSQL 14+, and 0 with
/// 0 pages on older servers; then the live-tuple counter, and when that is missing or 0 on a
/// table that has pages (statistics reset: a clone recovered from a base backup starts with
/// none), pages times the density `tuple_width` implies, as the planner does.
fn estimate_rows(
    reltuples: f64,
    relpages: i32,
    current_pages: i64,
    live_tuples: Option<i64>,
    tuple_width: i64,
    block_size: i64,
) -> (i64, RowSource) {
    let never_analyzed = reltuples < 0.0 || (reltuples == 0.0 && relpages == 0);
    if never_analyzed {
        let live = live_tuples.unwrap_or(0).max(0);
        if live == 0 && current_pages > 0 {
            // Page header 24 bytes; each tuple costs its width plus a 4-byte line pointer.
            let density = ((block_size - 24).max(1) / (tuple_width + 4).max(1)).max(1);
            return (current_pages.saturating_mul(density), RowSource::Pages);
        }
        return (live, RowSource::LiveTuples);
    }
    let rows = if relpages > 0 && current_pages > 0 {
        reltuples / f64::from(relpages) * current_pages as f64
    } else {
        reltuples
    };
    (rows.round().max(0.0) as i64, RowSource::Analyze)
}

/// A tuple's width as the planner guesses it without statistics (`get_typavgwidth`): fixed
/// widths for fixed-size types, 32 bytes for variable-length ones, plus the 24-byte header.
fn tuple_width(columns: &[Column]) -> i64 {
    let data: i64 = columns
        .iter()
        .map(|c| {
            let t = c.data_type.to_ascii_lowercase();
            match t.split('(').next().unwrap_or("").trim() {
                "boolean" | "\"char\"" => 1,
                "smallint" => 2,
                "integer" | "real" | "date" | "oid" => 4,
                "bigint"
                | "double precision"
                | "money"
                | "time without time zone"
                | "timestamp without time zone"
                | "timestamp with time zone" => 8,
                "time with time zone" | "macaddr" => 8,
                "uuid" | "interval" => 16,
                _ => 32,
            }
        })
        .sum();
    24 + data
}

fn qualified(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(Some(schema), name)
}

// ---------------------------------------------------------------------------------------
// Phase 1: the structure, lock-free, in one transaction.
// ---------------------------------------------------------------------------------------

/// The lock-free part of the snapshot.
struct Structure {
    server: ServerIdentity,
    settings: SettingsRow,
    /// Relations other sessions hold or await in ACCESS EXCLUSIVE mode.
    locked: BTreeSet<i64>,
    tables: Vec<TableRow>,
    columns: Vec<ColumnRow>,
    indexes: Vec<IndexRow>,
    constraints: Vec<ConstraintRow>,
    sequences: Vec<SequenceRow>,
    views: Vec<ViewRow>,
}

/// Reads the structure. Every query here reads system catalogs and statistics views only,
/// so it takes no lock on a user relation and cannot queue behind a migration.
async fn read_structure(conn: &mut PgConnection) -> Result<Structure> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .context("Failed to start a read-only transaction for the catalog snapshot")?;
    let structure = Structure {
        server: server_identity(&mut tx).await?,
        settings: read_settings(&mut tx).await?,
        locked: read_exclusively_locked(&mut tx).await?,
        tables: read_tables(&mut tx).await?,
        columns: read_columns(&mut tx).await?,
        indexes: read_indexes(&mut tx).await?,
        constraints: read_constraints(&mut tx).await?,
        sequences: read_sequences(&mut tx).await?,
        views: read_views(&mut tx).await?,
    };
    // Nothing was written; rolling back says so.
    tx.rollback()
        .await
        .context("Failed to end the catalog snapshot transaction")?;
    Ok(structure)
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    search_path: Vec<String>,
    block_size: i64,
}

/// Reads the schemas unqualified names resolve in (in order) and the page size.
async fn read_settings(conn: &mut PgConnection) -> Result<SettingsRow> {
    sqlx::query_as(
        "SELECT current_schemas(false)::text[] AS search_path, \
                current_setting('block_size')::int8 AS block_size",
    )
    .fetch_one(conn)
    .await
    .context("Failed to read the search path and block size")
}

/// Reads the relations of this database that another session holds or is queued for in
/// ACCESS EXCLUSIVE mode: the only mode that conflicts with the ACCESS SHARE lock phase 2
/// takes (a queued request counts, because later requests line up behind it).
async fn read_exclusively_locked(conn: &mut PgConnection) -> Result<BTreeSet<i64>> {
    let oids: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT l.relation::int8 FROM pg_locks l \
         WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' \
           AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(conn)
    .await
    .context("Failed to read which relations other sessions hold locked")?;
    Ok(oids.into_iter().collect())
}

#[derive(sqlx::FromRow)]
struct TableRow {
    oid: i64,
    schema: String,
    name: String,
    relkind: String,
    parent_schema: Option<String>,
    parent_name: Option<String>,
    reltuples: f64,
    relpages: i32,
    /// 0 when the table has no TOAST table.
    toast_oid: i64,
    toast_relpages: i32,
    live_tuples: Option<i64>,
    triggers: i64,
}

impl TableRow {
    fn into_table(
        self,
        columns: Vec<Column>,
        details: &Details,
        (index_bytes, index_locked): (i64, bool),
        block_size: i64,
    ) -> Table {
        let partition_of = match (self.parent_schema, self.parent_name) {
            (Some(schema), Some(parent)) => Some(qualified(&schema, &parent)),
            _ => None,
        };
        let kind = match (self.relkind.as_str(), &partition_of) {
            ("p", _) => TableKind::Partitioned,
            (_, Some(_)) => TableKind::Partition,
            _ => TableKind::Table,
        };
        let heap_bytes = details.size(self.oid).main;
        let toast_bytes = match self.toast_oid {
            0 => 0,
            toast => details.size(toast).total,
        };
        let current_pages = heap_bytes / block_size.max(1);
        let (rows, row_source) = estimate_rows(
            self.reltuples,
            self.relpages,
            current_pages,
            self.live_tuples,
            tuple_width(&columns),
            block_size,
        );
        Table {
            name: qualified(&self.schema, &self.name),
            kind,
            partition_of,
            rows,
            row_source,
            heap_bytes,
            index_bytes,
            toast_bytes,
            triggers: self.triggers,
            locked: index_locked
                || details.skipped.contains(&self.oid)
                || details.skipped.contains(&self.toast_oid),
            columns,
        }
    }
}

/// Reads every user table with its statistics and trigger count.
async fn read_tables(conn: &mut PgConnection) -> Result<Vec<TableRow>> {
    let sql = format!(
        "SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name, \
                c.relkind::text AS relkind, \
                pn.nspname::text AS parent_schema, p.relname::text AS parent_name, \
                c.reltuples::float8 AS reltuples, c.relpages AS relpages, \
                c.reltoastrelid::int8 AS toast_oid, coalesce(tt.relpages, 0) AS toast_relpages, \
                s.n_live_tup AS live_tuples, \
                coalesce(t.triggers, 0) AS triggers \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class tt ON tt.oid = c.reltoastrelid \
         LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
         LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition \
         LEFT JOIN pg_class p ON p.oid = i.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace \
         LEFT JOIN (SELECT tgrelid, count(*) AS triggers FROM pg_trigger \
                    WHERE NOT tgisinternal GROUP BY tgrelid) t ON t.tgrelid = c.oid \
         WHERE c.relkind IN ('r', 'p') AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY n.nspname, c.relname"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read tables")
}

#[derive(sqlx::FromRow)]
struct ColumnRow {
    table_oid: i64,
    name: String,
    data_type: String,
    not_null: bool,
    has_default: bool,
    identity: bool,
    generated: bool,
    attnum: i16,
}

impl ColumnRow {
    fn into_column(self, details: &Details) -> Column {
        let text = details
            .texts
            .get(&(TextKind::Default, self.table_oid, i32::from(self.attnum)))
            .cloned();
        let (default, generation_expression) = if self.generated {
            (None, text)
        } else {
            (text, None)
        };
        Column {
            name: self.name,
            data_type: self.data_type,
            not_null: self.not_null,
            has_default: self.has_default,
            default,
            generated: self.generated,
            generation_expression,
            identity: self.identity,
            attnum: self.attnum,
        }
    }
}

/// Reads the columns of every user table, with type, nullability and whether a default
/// exists (its text is read in phase 2).
async fn read_columns(conn: &mut PgConnection) -> Result<Vec<ColumnRow>> {
    let sql = format!(
        "SELECT c.oid::int8 AS table_oid, a.attname::text AS name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
                a.atthasdef AS has_default, \
                a.attidentity <> '' AS identity, a.attgenerated <> '' AS generated, \
                a.attnum AS attnum \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') \
           AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY c.oid, a.attnum"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read columns")
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    oid: i64,
    table_oid: i64,
    relpages: i32,
    schema: String,
    name: String,
    table_schema: String,
    table_name: String,
    /// Per key: the column name, or NULL for an expression (its text comes in phase 2).
    key_columns: Vec<Option<String>>,
    include: Vec<String>,
    partial: bool,
    unique: bool,
    primary: bool,
    valid: bool,
    method: String,
    scans: Option<i64>,
    parent_schema: Option<String>,
    parent_name: Option<String>,
}

impl IndexRow {
    fn into_index(self, details: &Details) -> Index {
        let oid = self.oid;
        let keys = self
            .key_columns
            .into_iter()
            .zip(1..)
            .map(|(column, k)| match column {
                Some(c) => IndexKey::Column(c),
                None => IndexKey::Expression(
                    details
                        .texts
                        .get(&(TextKind::IndexKey, oid, k))
                        .cloned()
                        .unwrap_or_default(),
                ),
            })
            .collect();
        let predicate = details.texts.get(&(TextKind::Predicate, oid, 0)).cloned();
        let parent = match (self.parent_schema, self.parent_name) {
            (Some(s), Some(n)) => Some(qualified(&s, &n)),
            _ => None,
        };
        Index {
            name: qualified(&self.schema, &self.name),
            table: qualified(&self.table_schema, &self.table_name),
            keys,
            include: self.include,
            partial: self.partial,
            predicate,
            unique: self.unique,
            primary: self.primary,
            valid: self.valid,
            method: self.method,
            bytes: details.size(oid).total,
            scans: self.scans,
            parent,
            locked: details.skipped.contains(&oid) || details.skipped.contains(&self.table_oid),
        }
    }
}

/// Reads every index on user tables and materialized views, with key and INCLUDE columns,
/// validity and scan count (expression and predicate texts are read in phase 2).
async fn read_indexes(conn: &mut PgConnection) -> Result<Vec<IndexRow>> {
    // indkey is an int2vector, subscripted from 0: key k (1-based) is indkey[k - 1], and 0
    // there means an expression. Keys come first, INCLUDE columns after indnkeyatts.
    let sql = format!(
        "SELECT ic.oid::int8 AS oid, tc.oid::int8 AS table_oid, ic.relpages AS relpages, \
                n.nspname::text AS schema, ic.relname::text AS name, \
                n.nspname::text AS table_schema, tc.relname::text AS table_name, \
                ARRAY(SELECT a.attname::text FROM generate_series(1, x.indnkeyatts) AS k \
                      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid \
                           AND a.attnum = x.indkey[k - 1] AND x.indkey[k - 1] <> 0 \
                      ORDER BY k) AS key_columns, \
                ARRAY(SELECT a.attname::text \
                      FROM generate_series(x.indnkeyatts + 1, x.indnatts) AS k \
                      JOIN pg_attribute a ON a.attrelid = x.indrelid \
                           AND a.attnum = x.indkey[k - 1] \
                      ORDER BY k) AS include, \
                x.indpred IS NOT NULL AS partial, \
                x.indisunique AS unique, x.indisprimary AS primary, x.indisvalid AS valid, \
                am.amname::text AS method, s.idx_scan AS scans, \
                pn.nspname::text AS parent_schema, p.relname::text AS parent_name \
         FROM pg_index x \
         JOIN pg_class ic ON ic.oid = x.indexrelid \
         JOIN pg_class tc ON tc.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = tc.relnamespace \
         JOIN pg_am am ON am.oid = ic.relam \
         LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid \
         LEFT JOIN pg_inherits i ON i.inhrelid = ic.oid AND ic.relispartition \
         LEFT JOIN pg_class p ON p.oid = i.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace \
         WHERE tc.relkind IN ('r', 'p', 'm') AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY n.nspname, ic.relname"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read indexes")
}

#[derive(sqlx::FromRow)]
struct ConstraintRow {
    oid: i64,
    schema: String,
    table: String,
    name: String,
    contype: String,
    columns: Vec<String>,
    validated: bool,
    ref_schema: Option<String>,
    ref_table: Option<String>,
    ref_columns: Vec<String>,
    on_delete: String,
    index: Option<String>,
    inherited: bool,
    /// Primary key, unique and foreign key definitions name columns only and need no lock;
    /// CHECK and exclusion definitions come in phase 2.
    definition: Option<String>,
}

impl ConstraintRow {
    fn into_constraint(self, details: &Details) -> Option<Constraint> {
        let kind = ConstraintType::from_contype(&self.contype)?;
        let references = match (kind, self.ref_schema, self.ref_table) {
            (ConstraintType::ForeignKey, Some(schema), Some(table)) => Some(Reference {
                table: qualified(&schema, &table),
                columns: self.ref_columns,
                on_delete: fk_action(&self.on_delete).to_string(),
            }),
            _ => None,
        };
        let definition = self.definition.or_else(|| {
            details
                .texts
                .get(&(TextKind::Constraint, self.oid, 0))
                .cloned()
        });
        Some(Constraint {
            table: qualified(&self.schema, &self.table),
            name: self.name,
            kind,
            columns: self.columns,
            validated: self.validated,
            references,
            index: self.index,
            inherited: self.inherited,
            definition,
        })
    }
}

/// `pg_constraint.confdeltype` as SQL words.
fn fk_action(code: &str) -> &'static str {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    }
}

/// Reads primary key, unique, foreign key, check and exclusion constraints of user tables.
async fn read_constraints(conn: &mut PgConnection) -> Result<Vec<ConstraintRow>> {
    let sql = format!(
        "SELECT con.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS table, \
                con.conname::text AS name, con.contype::text AS contype, \
                ARRAY(SELECT a.attname::text \
                      FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord) AS columns, \
                con.convalidated AS validated, \
                fn.nspname::text AS ref_schema, fc.relname::text AS ref_table, \
                ARRAY(SELECT a.attname::text \
                      FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord) AS ref_columns, \
                con.confdeltype::text AS on_delete, \
                ix.relname::text AS index, \
                con.conparentid <> 0 AS inherited, \
                CASE WHEN con.contype IN ('p', 'u', 'f') \
                     THEN pg_get_constraintdef(con.oid, true) END AS definition \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         LEFT JOIN pg_class ix ON ix.oid = con.conindid AND con.contype IN ('p', 'u', 'x') \
         WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND c.relkind IN ('r', 'p') \
           AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY n.nspname, c.relname, con.conname"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read constraints")
}

#[derive(sqlx::FromRow)]
struct SequenceRow {
    oid: i64,
    schema: String,
    name: String,
    data_type: String,
    max_value: i64,
    increment: i64,
    owner_schema: Option<String>,
    owner_table: Option<String>,
    owner_column: Option<String>,
}

impl SequenceRow {
    fn into_sequence(self, details: &Details) -> Sequence {
        let owned_by = match (self.owner_schema, self.owner_table, self.owner_column) {
            (Some(s), Some(t), Some(c)) => Some(OwnedBy {
                table: qualified(&s, &t),
                column: c,
            }),
            _ => None,
        };
        Sequence {
            name: qualified(&self.schema, &self.name),
            data_type: self.data_type,
            last_value: details.last_values.get(&self.oid).copied(),
            max_value: self.max_value,
            increment: self.increment,
            owned_by,
        }
    }
}

/// Reads every user sequence with its range and owning column (its position is read in
/// phase 2).
async fn read_sequences(conn: &mut PgConnection) -> Result<Vec<SequenceRow>> {
    let sql = format!(
        "SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name, \
                format_type(seq.seqtypid, NULL) AS data_type, \
                seq.seqmax AS max_value, seq.seqincrement AS increment, \
                tn.nspname::text AS owner_schema, t.relname::text AS owner_table, \
                a.attname::text AS owner_column \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_sequence seq ON seq.seqrelid = c.oid \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
              AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 \
              AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class t ON t.oid = d.refobjid \
         LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
         WHERE c.relkind = 'S' AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY n.nspname, c.relname"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read sequences")
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    oid: i64,
    schema: String,
    name: String,
    materialized: bool,
    reltuples: f64,
    relpages: i32,
}

impl ViewRow {
    fn into_view(self, details: &Details) -> View {
        View {
            name: qualified(&self.schema, &self.name),
            materialized: self.materialized,
            rows: self.reltuples.round().max(0.0) as i64,
            bytes: details.size(self.oid).total,
        }
    }
}

/// Reads views and materialized views.
async fn read_views(conn: &mut PgConnection) -> Result<Vec<ViewRow>> {
    let sql = format!(
        "SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name, \
                c.relkind = 'm' AS materialized, c.reltuples::float8 AS reltuples, \
                c.relpages AS relpages \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND {SYSTEM_SCHEMAS_SQL} \
         ORDER BY n.nspname, c.relname"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .context("Failed to read views")
}

// ---------------------------------------------------------------------------------------
// Phase 2: what needs a lock, in chunks, skipping locked relations.
// ---------------------------------------------------------------------------------------

/// Which deparsed text a `TextRow` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TextKind {
    /// A column default or generation expression: (table oid, attnum).
    Default,
    /// A CHECK or exclusion constraint definition: (constraint oid, 0).
    Constraint,
    /// A partial index's predicate: (index oid, 0).
    Predicate,
    /// An expression key of an index: (index oid, key position from 1).
    IndexKey,
}

impl TextKind {
    fn parse(s: &str) -> Option<TextKind> {
        Some(match s {
            "default" => TextKind::Default,
            "constraint" => TextKind::Constraint,
            "predicate" => TextKind::Predicate,
            "key" => TextKind::IndexKey,
            _ => return None,
        })
    }
}

/// Sizes of one relation: its main fork, and everything (all forks, TOAST, indexes).
#[derive(Debug, Clone, Copy, Default)]
struct RelationSize {
    main: i64,
    total: i64,
}

/// What phase 2 found.
#[derive(Debug, Default)]
struct Details {
    sizes: BTreeMap<i64, RelationSize>,
    texts: BTreeMap<(TextKind, i64, i32), String>,
    last_values: BTreeMap<i64, i64>,
    /// Relations not read because they were locked: sizes are estimates, texts missing.
    skipped: BTreeSet<i64>,
}

impl Details {
    /// A relation dropped since the structure was read has size 0.
    fn size(&self, oid: i64) -> RelationSize {
        self.sizes.get(&oid).copied().unwrap_or_default()
    }

    fn estimate(&mut self, oid: i64, bytes: i64) {
        let size = RelationSize {
            main: bytes,
            total: bytes,
        };
        self.sizes.insert(oid, size);
        self.skipped.insert(oid);
    }
}

/// A relation to measure: its oid, and the bytes to assume if it is locked.
type ToMeasure = (i64, i64);

/// Reads sizes, deparsed texts and sequence positions, [`CHUNK`] relations per statement.
async fn read_details(conn: &mut PgConnection, s: &Structure) -> Result<Details> {
    let mut details = Details::default();
    let pages = |p: i32| i64::from(p.max(0)).saturating_mul(s.settings.block_size);

    // Sizes: every relation with storage, with the estimate to use if it is locked.
    let mut relations: Vec<ToMeasure> = Vec::new();
    for t in &s.tables {
        relations.push((t.oid, pages(t.relpages)));
        if t.toast_oid != 0 {
            relations.push((t.toast_oid, pages(t.toast_relpages)));
        }
    }
    relations.extend(s.indexes.iter().map(|i| (i.oid, pages(i.relpages))));
    relations.extend(
        s.views
            .iter()
            .filter(|v| v.materialized)
            .map(|v| (v.oid, pages(v.relpages))),
    );
    let (locked, free): (Vec<ToMeasure>, Vec<ToMeasure>) = relations
        .into_iter()
        .partition(|(oid, _)| s.locked.contains(oid));
    for (oid, estimate) in locked {
        details.estimate(oid, estimate);
    }
    for chunk in free.chunks(CHUNK) {
        let oids: Vec<i64> = chunk.iter().map(|(oid, _)| *oid).collect();
        match read_sizes(conn, &oids).await {
            Ok(rows) => {
                for row in rows {
                    let size = RelationSize {
                        main: row.main_bytes.unwrap_or(0),
                        total: row.total_bytes.unwrap_or(0),
                    };
                    details.sizes.insert(row.oid, size);
                }
            }
            // Locked between the lock check and the measurement.
            Err(e) if is_lock_timeout(&e) => {
                for &(oid, estimate) in chunk {
                    details.estimate(oid, estimate);
                }
            }
            Err(e) => return Err(e),
        }
    }

    // Texts: deparsing opens the table (or materialized view) the expression belongs to.
    let owners: Vec<i64> = s
        .tables
        .iter()
        .map(|t| t.oid)
        .chain(s.views.iter().filter(|v| v.materialized).map(|v| v.oid))
        .filter(|oid| !s.locked.contains(oid))
        .collect();
    for chunk in owners.chunks(CHUNK) {
        match read_texts(conn, chunk).await {
            Ok(rows) => {
                for row in rows {
                    if let Some(kind) = TextKind::parse(&row.kind) {
                        details.texts.insert((kind, row.object, row.item), row.text);
                    }
                }
            }
            Err(e) if is_lock_timeout(&e) => details.skipped.extend(chunk),
            Err(e) => return Err(e),
        }
    }
    details
        .skipped
        .extend(s.locked.iter().filter(|oid| owners_contains(s, **oid)));

    // Sequence positions.
    let sequences: Vec<i64> = s
        .sequences
        .iter()
        .map(|q| q.oid)
        .filter(|oid| !s.locked.contains(oid))
        .collect();
    for chunk in sequences.chunks(CHUNK) {
        match read_last_values(conn, chunk).await {
            Ok(rows) => details.last_values.extend(rows),
            Err(e) if is_lock_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(details)
}

/// Whether `oid` is a table or materialized view of the structure.
fn owners_contains(s: &Structure, oid: i64) -> bool {
    s.tables.iter().any(|t| t.oid == oid) || s.views.iter().any(|v| v.oid == oid)
}

/// SQLSTATE 55P03 `lock_not_available`: `lock_timeout` expired.
fn is_lock_timeout(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>()
        .and_then(|e| e.as_database_error())
        .and_then(|db| db.code())
        .is_some_and(|code| code == "55P03")
}

#[derive(sqlx::FromRow)]
struct SizeRow {
    oid: i64,
    /// NULL when the relation was dropped after the structure was read.
    main_bytes: Option<i64>,
    total_bytes: Option<i64>,
}

/// Reads the main-fork and total size of each relation in `oids`.
async fn read_sizes(conn: &mut PgConnection, oids: &[i64]) -> Result<Vec<SizeRow>> {
    sqlx::query_as(
        "SELECT r.oid AS oid, pg_relation_size(r.oid::oid) AS main_bytes, \
                pg_total_relation_size(r.oid::oid) AS total_bytes \
         FROM unnest($1::int8[]) AS r(oid)",
    )
    .bind(oids)
    .fetch_all(conn)
    .await
    .with_context(|| format!("Failed to read the sizes of {} relations", oids.len()))
}

#[derive(sqlx::FromRow)]
struct TextRow {
    kind: String,
    object: i64,
    item: i32,
    text: String,
}

/// Reads the deparsed texts belonging to the tables in `owners`: column defaults, CHECK and
/// exclusion definitions, index predicates and expression keys.
async fn read_texts(conn: &mut PgConnection, owners: &[i64]) -> Result<Vec<TextRow>> {
    sqlx::query_as(
        "SELECT 'default' AS kind, d.adrelid::int8 AS object, d.adnum::int4 AS item, \
                pg_get_expr(d.adbin, d.adrelid, true) AS text \
         FROM pg_attrdef d WHERE d.adrelid::int8 = ANY($1) \
         UNION ALL \
         SELECT 'constraint', con.oid::int8, 0, pg_get_constraintdef(con.oid, true) \
         FROM pg_constraint con \
         WHERE con.conrelid::int8 = ANY($1) AND con.contype IN ('c', 'x') \
         UNION ALL \
         SELECT 'predicate', x.indexrelid::int8, 0, pg_get_expr(x.indpred, x.indrelid, true) \
         FROM pg_index x WHERE x.indrelid::int8 = ANY($1) AND x.indpred IS NOT NULL \
         UNION ALL \
         SELECT 'key', x.indexrelid::int8, k, pg_get_indexdef(x.indexrelid, k, true) \
         FROM pg_index x, generate_series(1, x.indnkeyatts) AS k \
         WHERE x.indrelid::int8 = ANY($1) AND x.indkey[k - 1] = 0",
    )
    .bind(owners)
    .fetch_all(conn)
    .await
    .with_context(|| format!("Failed to read expressions of {} tables", owners.len()))
}

/// Reads the last value of each sequence in `oids` the role may read.
async fn read_last_values(conn: &mut PgConnection, oids: &[i64]) -> Result<Vec<(i64, i64)>> {
    // pg_sequence_last_value errors without privileges; guard it as the pg_sequences view
    // does. NULL (never used) rows are dropped.
    sqlx::query_as(
        "SELECT q.oid, v.last_value FROM unnest($1::int8[]) AS q(oid), \
         LATERAL (SELECT CASE WHEN has_sequence_privilege(q.oid::oid, 'SELECT,USAGE') \
                  THEN pg_sequence_last_value(q.oid::oid) END AS last_value) AS v \
         WHERE v.last_value IS NOT NULL",
    )
    .bind(oids)
    .fetch_all(conn)
    .await
    .with_context(|| format!("Failed to read the positions of {} sequences", oids.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(keys: &[&str], method: &str) -> Index {
        Index {
            name: qualified("public", "idx"),
            table: qualified("public", "orders"),
            keys: keys
                .iter()
                .map(|k| match k.strip_prefix('(') {
                    Some(e) => IndexKey::Expression(e.strip_suffix(')').unwrap_or(e).to_string()),
                    None => IndexKey::Column(k.to_string()),
                })
                .collect(),
            include: Vec::new(),
            partial: false,
            predicate: None,
            unique: false,
            primary: false,
            valid: true,
            method: method.to_string(),
            bytes: 0,
            scans: None,
            parent: None,
            locked: false,
        }
    }

    fn cols(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn leading_columns_in_any_order_cover_a_foreign_key() {
        let i = index(&["tenant_id", "customer_id", "created_at"], "btree");
        assert!(i.covers(&cols(&["customer_id", "tenant_id"])));
        assert!(i.covers(&cols(&["tenant_id"])));
        assert!(!i.covers(&cols(&["customer_id"])), "not a leading column");
        assert!(!i.covers(&cols(&["tenant_id", "created_at"])));
    }

    #[test]
    fn invalid_partial_expression_and_gin_indexes_do_not_cover() {
        let mut i = index(&["customer_id"], "btree");
        i.valid = false;
        assert!(!i.covers(&cols(&["customer_id"])));
        let mut i = index(&["customer_id"], "btree");
        i.partial = true;
        assert!(
            !i.covers(&cols(&["customer_id"])),
            "partial, even with its text unknown"
        );
        assert!(!index(&["(lower(email))"], "btree").covers(&cols(&["email"])));
        assert!(!index(&["customer_id"], "gin").covers(&cols(&["customer_id"])));
        assert!(index(&["customer_id"], "hash").covers(&cols(&["customer_id"])));
        assert!(!index(&["a", "b"], "hash").covers(&cols(&["a", "b"])));
    }

    #[test]
    fn create_statement_is_rebuilt_from_the_parts() {
        let mut i = index(&["customer_id", "(lower(email))"], "btree");
        i.unique = true;
        i.include = cols(&["total"]);
        i.partial = true;
        i.predicate = Some("deleted_at IS NULL".into());
        assert_eq!(
            i.create_statement(),
            "CREATE UNIQUE INDEX idx ON public.orders USING btree (customer_id, (lower(email))) \
             INCLUDE (total) WHERE deleted_at IS NULL"
        );
    }

    #[test]
    fn size_class_follows_thresholds() {
        let t = Thresholds::default();
        assert_eq!(SizeClass::of(200, 16_384, &t), SizeClass::Small);
        assert_eq!(SizeClass::of(200_000, 16_384, &t), SizeClass::Medium);
        assert_eq!(SizeClass::of(2_000_000, 16_384, &t), SizeClass::Large);
        assert_eq!(SizeClass::of(10, 2 << 30, &t), SizeClass::Large);
        assert_eq!(SizeClass::of(10, 20 << 20, &t), SizeClass::Medium);
    }

    #[test]
    fn row_estimate_scales_like_the_planner_and_falls_back_when_never_analyzed() {
        let est = |t, p, c, l| estimate_rows(t, p, c, l, 64, 8192);
        assert_eq!(est(1000.0, 10, 20, Some(5)), (2000, RowSource::Analyze));
        assert_eq!(est(-1.0, 0, 30, Some(1234)), (1234, RowSource::LiveTuples));
        assert_eq!(est(0.0, 0, 0, None), (0, RowSource::LiveTuples));
        assert_eq!(est(50.0, 1, 0, Some(9)), (50, RowSource::Analyze));
        // Statistics reset on a never-analyzed table with 150 pages: 8168 / 68 = 120 a page.
        assert_eq!(est(-1.0, 0, 150, Some(0)), (18000, RowSource::Pages));
        assert_eq!(est(-1.0, 0, 150, None), (18000, RowSource::Pages));
    }

    fn table(name: &str, kind: TableKind, parent: Option<&str>, rows: i64, heap: i64) -> Table {
        Table {
            name: qualified("public", name),
            kind,
            partition_of: parent.map(|p| qualified("public", p)),
            rows,
            row_source: RowSource::Analyze,
            heap_bytes: heap,
            index_bytes: 1,
            toast_bytes: 0,
            triggers: 0,
            locked: false,
            columns: Vec::new(),
        }
    }

    #[test]
    fn partitioned_parents_sum_their_partitions_at_every_level() {
        use TableKind::{Partition, Partitioned};
        let mut tables = vec![
            table("events", Partitioned, None, 0, 0),
            table("events_2023", Partition, Some("events"), 100, 8192),
            table("events_2024", Partitioned, Some("events"), 0, 0),
            table("events_2024_h1", Partition, Some("events_2024"), 300, 16384),
            table("events_2024_h2", Partition, Some("events_2024"), 5, 8192),
            table("logs", Partitioned, None, 7, 0),
        ];
        roll_up_partitions(&mut tables);
        let by = |n: &str| tables.iter().find(|t| t.name.name == n).cloned().unwrap();
        assert_eq!(by("events_2024").rows, 305);
        assert_eq!(by("events_2024").heap_bytes, 24576);
        assert_eq!(by("events").rows, 405);
        assert_eq!(by("events").heap_bytes, 32768);
        assert_eq!(by("events").index_bytes, 3, "the three leaves' indexes");
        assert_eq!(by("events").row_source, RowSource::Partitions);
        assert_eq!(
            by("logs").rows,
            0,
            "a partitioned table without partitions is empty"
        );
    }

    #[test]
    fn unqualified_names_follow_the_search_path() {
        let server = ServerIdentity {
            version_num: 150000,
            version: "15.0".into(),
            database: "shop".into(),
            database_bytes: 0,
            in_recovery: false,
            last_analyzed: None,
            seconds_since_analyze: None,
        };
        let mut snapshot = CatalogSnapshot {
            server,
            search_path: vec!["app".into(), "public".into()],
            tables: vec![
                table("orders", TableKind::Table, None, 1, 1),
                Table {
                    name: qualified("app", "orders"),
                    ..table("orders", TableKind::Table, None, 2, 2)
                },
                table("customers", TableKind::Table, None, 3, 3),
            ],
            indexes: vec![index(&["customer_id"], "btree")],
            constraints: Vec::new(),
            foreign_keys: Vec::new(),
            sequences: Vec::new(),
            views: Vec::new(),
            dependents: Vec::new(),
            notes: Vec::new(),
            functions: Vec::new(),
            table_pos: BTreeMap::new(),
            index_pos: BTreeMap::new(),
        };
        snapshot.reindex();
        let orders = QualifiedName::new(None, "orders");
        assert_eq!(snapshot.table(&orders).map(|t| t.rows), Some(2));
        let public_orders = QualifiedName::new(Some("public"), "orders");
        assert_eq!(snapshot.table(&public_orders).map(|t| t.rows), Some(1));
        assert_eq!(
            snapshot
                .table(&QualifiedName::new(None, "customers"))
                .map(|t| t.rows),
            Some(3)
        );
        assert!(snapshot
            .table(&QualifiedName::new(Some("app"), "customers"))
            .is_none());
        assert_eq!(
            snapshot.fk_covered(&public_orders, &cols(&["customer_id"])),
            Some(true)
        );
        assert_eq!(
            snapshot.fk_covered(&orders, &cols(&["customer_id"])),
            Some(false)
        );
        assert_eq!(
            snapshot.fk_covered(&QualifiedName::new(None, "nope"), &cols(&["a"])),
            None
        );
        assert!(snapshot.index(&QualifiedName::new(None, "idx")).is_some());
    }
}
