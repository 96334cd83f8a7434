//! The copy's schema, replayed in memory statement by statement, so that statement N of the
//! pending migrations is judged against the schema that statements 1..N-1 left behind
//! (issue 3, "Schema replay in memory").
//!
//! Pure: built once from a `CatalogSnapshot` read by `evidence::catalog`; no I/O here.
//! `Schema::new` copies the snapshot's objects into maps keyed by qualified name (once per
//! review); `apply` then changes only the objects a statement touches, so a review of a
//! database with thousands of tables costs O(changes) per statement. The original snapshot
//! stays available through [`Schema::snapshot`].
//!
//! Objects a pending statement creates are marked new: empty, 0 rows, 0 bytes, 0 scans.
//! Names PostgreSQL generates (`orders_customer_id_idx`, `orders_pkey`, `orders_email_key`,
//! `orders_customer_id_fkey`) are generated the same way (`makeObjectName` and
//! `ChooseRelationName` in PostgreSQL's indexcmds.c), because later statements drop and
//! rename them by those names.
//!
//! [`Schema::drift`] says what a statement expects that the schema contradicts. It must never
//! cry wolf on a correct migration, so it only judges what the replay knows for certain:
//!
//! - only tables, columns, indexes and named constraints, never functions, types,
//!   sequences, extensions or schemas, and only in schemas the copy has objects in;
//! - after a statement the replay cannot see into (a `DO` block or `SELECT` that calls
//!   unknown functions, dynamic SQL, an unparsed statement, a psql meta-command,
//!   `CREATE EXTENSION`, `CALL`) it stops judging altogether: that code may have created or
//!   dropped anything;
//! - names mentioned by statements it only half understands (`ALTER VIEW`, `CREATE FOREIGN
//!   TABLE`, `SELECT ... INTO`, `ALTER TABLE ... SET SCHEMA`, a `DO` block without calls) and
//!   objects already reported as drift are left alone from then on;
//! - after a `SET search_path` unqualified names are no longer judged;
//! - tables whose column list the replay could not read (`LIKE`, `INHERITS`, `AS SELECT`,
//!   typed tables) get no column claims, and names of CHECK/exclusion constraints or
//!   expression indexes it had to guess get no "missing" claims.
//!
//! Statements are assumed to succeed: a statement that would fail changes nothing, and an
//! explicit `ROLLBACK` in a migration is not undone.

use crate::evidence::catalog::{
    CatalogSnapshot, Column, Constraint, ConstraintType, Index, Reference, RowSource, Table,
    TableKind,
};
use crate::model::{
    AlterAction, ColumnDef, Constraint as ConstraintDef, ConstraintKind, ForeignKeyRef, IndexKey,
    QualifiedName, Statement, StatementKind, Volatility,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The schema temporary tables live in, ahead of the search path for relations.
const TEMP_SCHEMA: &str = "pg_temp";

/// PostgreSQL's `NAMEDATALEN - 1`: identifiers are truncated to 63 bytes.
const MAX_IDENTIFIER: usize = 63;

/// What a drift is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftObject {
    Table,
    Column,
    Index,
    Constraint,
}

impl DriftObject {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftObject::Table => "table",
            DriftObject::Column => "column",
            DriftObject::Index => "index",
            DriftObject::Constraint => "constraint",
        }
    }
}

/// Which way the schema contradicts the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftKind {
    /// The statement needs an object that does not exist at this point.
    Missing,
    /// The statement creates an object that already exists (without IF NOT EXISTS).
    AlreadyExists,
}

/// One contradiction between a statement and the schema at that point: on the copy the
/// statement would fail, or the copy is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub kind: DriftKind,
    pub object: DriftObject,
    /// The object's own name (unqualified; for a column or constraint without its table).
    pub name: String,
    /// The table the object belongs to, or the table itself.
    pub table: Option<QualifiedName>,
    /// One sentence saying what is wrong and where the schema's view comes from.
    pub message: String,
}

/// A table with what the replay knows about it beyond the catalog's `Table`.
#[derive(Debug, Clone)]
struct TableState {
    table: Table,
    /// Created by a pending statement.
    new: bool,
    /// Its name in the copy, however it is called now (`None` when new).
    copy_name: Option<QualifiedName>,
    /// The column list is known in full (false after `LIKE`, `INHERITS`, `AS SELECT`).
    columns_complete: bool,
    /// Every constraint and its name is known.
    constraints_complete: bool,
    constraints: Vec<Constraint>,
}

#[derive(Debug, Clone)]
struct IndexState {
    index: Index,
    new: bool,
}

/// The schema at one point of the replay.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The copy's catalog as read, before any replay.
    snapshot: CatalogSnapshot,
    /// Where unqualified names resolve (the snapshot's, until a `SET search_path`).
    search_path: Vec<String>,
    /// A statement changed the search path: unqualified names are not judged any more.
    path_uncertain: bool,
    tables: HashMap<QualifiedName, TableState>,
    indexes: HashMap<QualifiedName, IndexState>,
    /// Index names per table or materialized view, in creation order.
    index_lists: HashMap<QualifiedName, Vec<QualifiedName>>,
    /// Views and materialized views: only their existence (they share the relation namespace).
    views: HashSet<QualifiedName>,
    /// Sequences: only their existence, for the same reason.
    sequences: HashSet<QualifiedName>,
    /// (schema, name) of every constraint: PostgreSQL keeps generated names unique per schema.
    constraint_names: HashSet<(String, String)>,
    /// Referenced table → tables with a foreign key to it.
    referencing: HashMap<QualifiedName, BTreeSet<QualifiedName>>,
    /// Schemas known to exist or to hold objects the copy has.
    known_schemas: HashSet<String>,
    /// Bare names whose state the replay cannot vouch for.
    unknown: HashSet<String>,
    /// `<table>_`: index or constraint names of that table were guessed.
    guessed_prefixes: Vec<String>,
    /// Code the replay cannot see into ran: judge nothing from here on.
    opaque: bool,
    /// A temporary table exists (`pg_temp` is searched first).
    has_temp: bool,
    /// Bare function name → volatility (the most volatile of that name), from the copy's
    /// pg_proc and the pending `CREATE FUNCTION`s replayed so far.
    functions: HashMap<String, Volatility>,
}

impl Schema {
    /// The schema as the copy has it, before any pending statement.
    pub fn new(snapshot: CatalogSnapshot) -> Schema {
        let mut tables: HashMap<QualifiedName, TableState> = snapshot
            .tables
            .iter()
            .map(|t| {
                let state = TableState {
                    table: t.clone(),
                    new: false,
                    copy_name: Some(t.name.clone()),
                    columns_complete: true,
                    constraints_complete: true,
                    constraints: Vec::new(),
                };
                (t.name.clone(), state)
            })
            .collect();
        let mut constraint_names = HashSet::new();
        let mut referencing: HashMap<QualifiedName, BTreeSet<QualifiedName>> = HashMap::new();
        for c in &snapshot.constraints {
            constraint_names.insert((schema_of(&c.table), c.name.clone()));
            if let Some(r) = &c.references {
                referencing
                    .entry(r.table.clone())
                    .or_default()
                    .insert(c.table.clone());
            }
            if let Some(t) = tables.get_mut(&c.table) {
                t.constraints.push(c.clone());
            }
        }
        let mut indexes = HashMap::with_capacity(snapshot.indexes.len());
        let mut index_lists: HashMap<QualifiedName, Vec<QualifiedName>> = HashMap::new();
        for i in &snapshot.indexes {
            index_lists
                .entry(i.table.clone())
                .or_default()
                .push(i.name.clone());
            let state = IndexState {
                index: i.clone(),
                new: false,
            };
            indexes.insert(i.name.clone(), state);
        }
        let views: HashSet<QualifiedName> = snapshot.views.iter().map(|v| v.name.clone()).collect();
        let sequences: HashSet<QualifiedName> =
            snapshot.sequences.iter().map(|s| s.name.clone()).collect();
        let mut known_schemas: HashSet<String> = snapshot.search_path.iter().cloned().collect();
        known_schemas.extend(
            tables
                .keys()
                .chain(indexes.keys())
                .chain(views.iter())
                .chain(sequences.iter())
                .map(schema_of),
        );
        let search_path = if snapshot.search_path.is_empty() {
            vec!["public".to_string()]
        } else {
            snapshot.search_path.clone()
        };
        let mut functions: HashMap<String, Volatility> = HashMap::new();
        for f in &snapshot.functions {
            let v = functions.entry(f.name.name.clone()).or_insert(f.volatility);
            *v = (*v).max(f.volatility);
        }
        Schema {
            functions,
            snapshot,
            search_path,
            path_uncertain: false,
            tables,
            indexes,
            index_lists,
            views,
            sequences,
            constraint_names,
            referencing,
            known_schemas,
            unknown: HashSet::new(),
            guessed_prefixes: Vec::new(),
            opaque: false,
            has_temp: false,
        }
    }

    /// The volatility of a function of this bare name, as the copy's pg_proc and the
    /// pending migrations replayed so far define it; `None` when neither knows it.
    pub fn function_volatility(&self, name: &str) -> Option<Volatility> {
        self.functions.get(name).copied()
    }

    /// The copy's catalog as read, before any pending statement.
    pub fn snapshot(&self) -> &CatalogSnapshot {
        &self.snapshot
    }

    /// The table `name` denotes at this point (unqualified names follow the search path).
    pub fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.table_state(name).map(|s| &s.table)
    }

    /// Whether the table was created by a pending statement (so it is new and empty).
    pub fn table_is_new(&self, name: &QualifiedName) -> bool {
        self.table_state(name).is_some_and(|s| s.new)
    }

    /// A column of a table at this point.
    pub fn column(&self, table: &QualifiedName, column: &str) -> Option<&Column> {
        self.table(table)?.column(column)
    }

    /// The index `name` denotes at this point.
    pub fn index(&self, name: &QualifiedName) -> Option<&Index> {
        let key = self.resolve_index(name)?;
        self.indexes.get(&key).map(|s| &s.index)
    }

    /// Whether the index was created by a pending statement (so it has never been scanned).
    pub fn index_is_new(&self, name: &QualifiedName) -> bool {
        self.resolve_index(name)
            .and_then(|k| self.indexes.get(&k))
            .is_some_and(|s| s.new)
    }

    /// Indexes on a table or materialized view, in creation order (empty when unknown).
    pub fn indexes_on(&self, table: &QualifiedName) -> impl Iterator<Item = &Index> + '_ {
        let key = self.resolve_indexed_relation(table);
        key.and_then(|k| self.index_lists.get(&k))
            .into_iter()
            .flatten()
            .filter_map(|n| self.indexes.get(n).map(|s| &s.index))
    }

    /// Indexes of a table that use `column` as a key or INCLUDE column, or name it in an
    /// expression or predicate: what `DROP COLUMN` drops along with it.
    pub fn indexes_using_column<'a>(
        &'a self,
        table: &QualifiedName,
        column: &'a str,
    ) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes_on(table)
            .filter(move |i| index_uses_column(i, column))
    }

    /// Constraints of a table at this point (empty when the table is unknown).
    pub fn constraints_on(&self, table: &QualifiedName) -> impl Iterator<Item = &Constraint> + '_ {
        self.table_state(table)
            .into_iter()
            .flat_map(|s| s.constraints.iter())
    }

    /// A named constraint of a table.
    pub fn constraint(&self, table: &QualifiedName, name: &str) -> Option<&Constraint> {
        self.constraints_on(table).find(|c| c.name == name)
    }

    /// Foreign keys of other tables (and the table itself) that point at `table`: what a
    /// DELETE or key UPDATE on it has to check.
    pub fn foreign_keys_referencing(&self, table: &QualifiedName) -> Vec<&Constraint> {
        let Some(key) = self.resolve_table(table) else {
            return Vec::new();
        };
        self.referencing
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|t| self.tables.get(t))
            .flat_map(|s| s.constraints.iter())
            .filter(|c| c.references.as_ref().is_some_and(|r| r.table == key))
            .collect()
    }

    /// Whether some valid index on `table` covers `columns` for foreign-key checks (see
    /// `Index::covers`); `None` when the table is unknown.
    pub fn fk_covered(&self, table: &QualifiedName, columns: &[String]) -> Option<bool> {
        self.table_state(table)?;
        Some(self.indexes_on(table).any(|i| i.covers(columns)))
    }

    /// The qualified name `name` resolves to as a table at this point.
    pub fn resolve_table(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.candidates(name).find(|k| self.tables.contains_key(k))
    }

    /// Whether a view or materialized view of that name exists.
    pub fn view_exists(&self, name: &QualifiedName) -> bool {
        self.candidates(name).any(|k| self.views.contains(&k))
    }

    /// The search path unqualified names currently resolve through.
    pub fn search_path(&self) -> &[String] {
        &self.search_path
    }

    // -----------------------------------------------------------------------------------
    // Name resolution
    // -----------------------------------------------------------------------------------

    /// Qualified names `name` may denote, in lookup order.
    fn candidates<'a>(
        &'a self,
        name: &'a QualifiedName,
    ) -> Box<dyn Iterator<Item = QualifiedName> + 'a> {
        match &name.schema {
            Some(s) if s.starts_with(TEMP_SCHEMA) => Box::new(std::iter::once(QualifiedName::new(
                Some(TEMP_SCHEMA),
                &name.name,
            ))),
            Some(_) => Box::new(std::iter::once(name.clone())),
            None => {
                let temp = self
                    .has_temp
                    .then(|| QualifiedName::new(Some(TEMP_SCHEMA), &name.name));
                Box::new(
                    temp.into_iter().chain(
                        self.search_path
                            .iter()
                            .map(move |s| QualifiedName::new(Some(s), &name.name)),
                    ),
                )
            }
        }
    }

    fn table_state(&self, name: &QualifiedName) -> Option<&TableState> {
        self.candidates(name).find_map(|k| self.tables.get(&k))
    }

    fn resolve_index(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.candidates(name).find(|k| self.indexes.contains_key(k))
    }

    /// A table or materialized view: what an index can be built on.
    fn resolve_indexed_relation(&self, name: &QualifiedName) -> Option<QualifiedName> {
        self.candidates(name)
            .find(|k| self.tables.contains_key(k) || self.views.contains(k))
    }

    /// Any relation of the shared namespace (table, index, view, sequence) at this key.
    fn relation_exists(&self, key: &QualifiedName) -> bool {
        self.tables.contains_key(key)
            || self.indexes.contains_key(key)
            || self.views.contains(key)
            || self.sequences.contains(key)
    }

    fn any_relation(&self, name: &QualifiedName) -> bool {
        self.candidates(name).any(|k| self.relation_exists(&k))
    }

    /// Where `CREATE` puts an object called `name`: its schema, else the first schema of the
    /// search path (temporary tables: `pg_temp`).
    fn creation_key(&self, name: &QualifiedName, temporary: bool) -> QualifiedName {
        let schema = match &name.schema {
            _ if temporary => TEMP_SCHEMA,
            Some(s) if s.starts_with(TEMP_SCHEMA) => TEMP_SCHEMA,
            Some(s) => s.as_str(),
            None => self.search_path.first().map_or("public", String::as_str),
        };
        QualifiedName::new(Some(schema), &name.name)
    }

    // -----------------------------------------------------------------------------------
    // What may be judged
    // -----------------------------------------------------------------------------------

    /// Whether claims about the relation `name` (as written) can be trusted.
    fn judged(&self, name: &QualifiedName) -> bool {
        !self.opaque
            && !self.unknown.contains(&name.name)
            && match &name.schema {
                Some(s) => !is_system_schema(s) && self.known_schemas.contains(s),
                None => !self.path_uncertain && !name.name.starts_with("pg_"),
            }
    }

    /// Whether a claim about a sub-object (column, constraint) name can be trusted.
    fn sub_judged(&self, name: &str) -> bool {
        !self.unknown.contains(name)
    }

    /// Whether an index or constraint name may be one the replay had to guess.
    fn guessed(&self, name: &str) -> bool {
        self.guessed_prefixes.iter().any(|p| name.starts_with(p))
    }

    // -----------------------------------------------------------------------------------
    // Drift
    // -----------------------------------------------------------------------------------

    /// What `stmt` expects that the schema at this point contradicts (call before `apply`).
    /// Empty when the statement fits, and whenever the replay is not sure (module docs).
    pub fn drift(&self, stmt: &Statement) -> Vec<Drift> {
        let mut out = Vec::new();
        if self.opaque {
            return out;
        }
        use StatementKind as K;
        match &stmt.kind {
            K::CreateTable {
                name,
                columns,
                constraints,
                if_not_exists,
                temporary,
                partition_of,
                ..
            } => {
                if !temporary && !if_not_exists {
                    let key = self.creation_key(name, false);
                    self.conflict(&key, name, DriftObject::Table, "CREATE TABLE", &mut out);
                }
                if let Some(parent) = partition_of {
                    self.require_relation(parent, &mut out);
                }
                let references = columns.iter().filter_map(|c| c.references.as_ref()).chain(
                    constraints.iter().filter_map(|c| match &c.kind {
                        ConstraintKind::ForeignKey(r) => Some(r),
                        _ => None,
                    }),
                );
                for r in references {
                    // A table may reference itself.
                    if !r.table.matches(name) {
                        self.require_reference(r, &HashSet::new(), &mut out);
                    }
                }
            }
            K::AlterTable {
                name,
                if_exists,
                actions,
            } => self.alter_table_drift(name, *if_exists, actions, &mut out),
            K::DropTable {
                names, if_exists, ..
            } if !if_exists => {
                for n in names {
                    self.require_relation(n, &mut out);
                }
            }
            K::CreateIndex {
                name,
                table,
                keys,
                if_not_exists,
                ..
            } => {
                let Some(on) = self.resolve_indexed_relation(table) else {
                    self.require_relation(table, &mut out);
                    return out;
                };
                if let (Some(index), false) = (name, if_not_exists) {
                    let key = QualifiedName::new(Some(&schema_of(&on)), &index.name);
                    self.conflict(&key, index, DriftObject::Index, "CREATE INDEX", &mut out);
                }
                if self.judged(table) {
                    for key in keys {
                        if let IndexKey::Column(c) = key {
                            self.require_column(&on, c, &HashSet::new(), &mut out);
                        }
                    }
                }
            }
            K::DropIndex {
                names, if_exists, ..
            } if !if_exists => {
                for n in names {
                    self.require_index(n, &mut out);
                }
            }
            K::AlterIndex { name, .. } => {
                let parts = alter_index_parts(&stmt.text);
                if !parts.if_exists {
                    self.require_index(name, &mut out);
                }
                if let (Some(new), Some(key)) = (&parts.rename_to, self.resolve_index(name)) {
                    let target = QualifiedName::new(Some(&schema_of(&key)), new);
                    let written = QualifiedName::new(name.schema.as_deref(), new);
                    self.conflict(
                        &target,
                        &written,
                        DriftObject::Index,
                        "ALTER INDEX ... RENAME",
                        &mut out,
                    );
                }
            }
            K::Insert { table, .. } | K::Update { table, .. } | K::Delete { table, .. }
                if plain_name(table) =>
            {
                self.require_relation(table, &mut out);
            }
            K::Truncate { tables } | K::LockTable { tables, .. } => {
                for t in tables.iter().filter(|t| plain_name(t)) {
                    self.require_relation(t, &mut out);
                }
            }
            _ => {}
        }
        out
    }

    fn alter_table_drift(
        &self,
        name: &QualifiedName,
        if_exists: bool,
        actions: &[AlterAction],
        out: &mut Vec<Drift>,
    ) {
        let Some(key) = self.resolve_table(name) else {
            // ALTER TABLE also renames views, sequences and indexes.
            if !if_exists {
                self.require_relation(name, out);
            }
            return;
        };
        if !self.judged(name) {
            return;
        }
        // PostgreSQL runs one ALTER TABLE's actions in passes (drops first, then adds), so a
        // name added or dropped anywhere in the statement counts for all its actions.
        let mut added_columns = HashSet::new();
        let mut dropped_columns = HashSet::new();
        let mut added_constraints = HashSet::new();
        let mut dropped_constraints = HashSet::new();
        for action in actions {
            match action {
                AlterAction::AddColumn { column, .. } => {
                    added_columns.insert(column.name.as_str());
                }
                AlterAction::DropColumn { name, .. } => {
                    dropped_columns.insert(name.as_str());
                }
                AlterAction::AddConstraint(ConstraintDef { name: Some(n), .. }) => {
                    added_constraints.insert(n.as_str());
                }
                AlterAction::DropConstraint { name, .. } => {
                    dropped_constraints.insert(name.as_str());
                }
                _ => {}
            }
        }
        let Some(state) = self.tables.get(&key) else {
            return;
        };
        let column_exists =
            |c: &str| state.table.column(c).is_some() && !dropped_columns.contains(c);
        for action in actions {
            match action {
                AlterAction::AddColumn {
                    column,
                    if_not_exists: false,
                } => {
                    if column_exists(&column.name) && self.sub_judged(&column.name) {
                        out.push(self.exists_drift(
                            DriftObject::Column,
                            &column.name,
                            &key,
                            state,
                            "ADD COLUMN",
                        ));
                    }
                    if let Some(r) = &column.references {
                        if !r.table.matches(&key) {
                            self.require_reference(r, &HashSet::new(), out);
                        }
                    }
                }
                AlterAction::AddColumn { column, .. } => {
                    if let Some(r) = &column.references {
                        if !r.table.matches(&key) {
                            self.require_reference(r, &HashSet::new(), out);
                        }
                    }
                }
                AlterAction::DropColumn {
                    name: c,
                    if_exists: false,
                } => self.require_column(&key, c, &added_columns, out),
                AlterAction::AlterColumnType { column, .. }
                | AlterAction::SetNotNull { column }
                | AlterAction::DropNotNull { column }
                | AlterAction::SetDefault { column, .. }
                | AlterAction::DropDefault { column }
                | AlterAction::AddIdentity { column } => {
                    self.require_column(&key, column, &added_columns, out)
                }
                AlterAction::RenameColumn { old, new } => {
                    self.require_column(&key, old, &added_columns, out);
                    if column_exists(new) && self.sub_judged(new) {
                        out.push(self.exists_drift(
                            DriftObject::Column,
                            new,
                            &key,
                            state,
                            "RENAME COLUMN",
                        ));
                    }
                }
                AlterAction::AddConstraint(c) => self.add_constraint_drift(
                    &key,
                    state,
                    c,
                    &added_columns,
                    &dropped_constraints,
                    out,
                ),
                AlterAction::ValidateConstraint { name: c } => {
                    self.require_constraint(&key, state, c, &added_constraints, out)
                }
                AlterAction::DropConstraint {
                    name: c,
                    if_exists: false,
                } => self.require_constraint(&key, state, c, &added_constraints, out),
                AlterAction::RenameConstraint { old, new } => {
                    self.require_constraint(&key, state, old, &added_constraints, out);
                    if state.constraints.iter().any(|c| &c.name == new) && self.sub_judged(new) {
                        out.push(self.exists_drift(
                            DriftObject::Constraint,
                            new,
                            &key,
                            state,
                            "RENAME CONSTRAINT",
                        ));
                    }
                }
                AlterAction::RenameTable { new } => {
                    let target = QualifiedName::new(Some(&schema_of(&key)), new);
                    let written = QualifiedName::new(name.schema.as_deref(), new);
                    self.conflict(&target, &written, DriftObject::Table, "RENAME TO", out);
                }
                AlterAction::AttachPartition { partition }
                | AlterAction::DetachPartition { partition, .. } => {
                    self.require_relation(partition, out)
                }
                _ => {}
            }
        }
    }

    fn add_constraint_drift(
        &self,
        key: &QualifiedName,
        state: &TableState,
        c: &ConstraintDef,
        added_columns: &HashSet<&str>,
        dropped_constraints: &HashSet<&str>,
        out: &mut Vec<Drift>,
    ) {
        if let Some(n) = &c.name {
            let exists = state.constraints.iter().any(|k| &k.name == n)
                && !dropped_constraints.contains(n.as_str());
            if exists && self.sub_judged(n) {
                out.push(self.exists_drift(
                    DriftObject::Constraint,
                    n,
                    key,
                    state,
                    "ADD CONSTRAINT",
                ));
            }
        }
        if c.kind == ConstraintKind::PrimaryKey && state.constraints_complete {
            let existing = state.constraints.iter().find(|k| {
                k.kind == ConstraintType::PrimaryKey
                    && !dropped_constraints.contains(k.name.as_str())
            });
            if let Some(pk) = existing {
                if c.name.as_deref() != Some(pk.name.as_str()) && self.sub_judged(&pk.name) {
                    let origin = if state.new {
                        "it was given one by an earlier pending statement"
                    } else {
                        "the copy's table has one"
                    };
                    out.push(Drift {
                        kind: DriftKind::AlreadyExists,
                        object: DriftObject::Constraint,
                        name: pk.name.clone(),
                        table: Some(key.clone()),
                        message: format!(
                            "{key} already has a primary key ({}) and a table can have only \
                             one ({origin})",
                            pk.name
                        ),
                    });
                }
            }
        }
        match &c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
                for col in &c.columns {
                    self.require_column(key, col, added_columns, out);
                }
                if let Some(index) = &c.using_index {
                    let q = QualifiedName::new(Some(&schema_of(key)), index);
                    self.require_index(&q, out);
                }
            }
            ConstraintKind::ForeignKey(r) => {
                for col in &c.columns {
                    self.require_column(key, col, added_columns, out);
                }
                if !r.table.matches(key) {
                    self.require_reference(r, &HashSet::new(), out);
                }
            }
            ConstraintKind::Check(_) | ConstraintKind::Exclusion => {}
        }
    }

    /// A relation the statement needs: missing when no table, view, index or sequence of
    /// that name exists.
    fn require_relation(&self, name: &QualifiedName, out: &mut Vec<Drift>) {
        if self.any_relation(name) || !self.judged(name) {
            return;
        }
        let origin = if self.snapshot.table(name).is_some() {
            "it was dropped or renamed by an earlier pending statement"
        } else {
            "the copy has no such table"
        };
        out.push(Drift {
            kind: DriftKind::Missing,
            object: DriftObject::Table,
            name: name.name.clone(),
            table: Some(name.clone()),
            message: format!("table {name} does not exist at this point ({origin})"),
        });
    }

    /// The referenced side of a foreign key: its table, and its columns when listed.
    fn require_reference(
        &self,
        r: &ForeignKeyRef,
        added_columns: &HashSet<&str>,
        out: &mut Vec<Drift>,
    ) {
        match self.resolve_table(&r.table) {
            Some(key) => {
                if self.judged(&r.table) {
                    for col in &r.columns {
                        self.require_column(&key, col, added_columns, out);
                    }
                }
            }
            None => self.require_relation(&r.table, out),
        }
    }

    /// A column of a table (by key) the statement needs.
    fn require_column(
        &self,
        key: &QualifiedName,
        column: &str,
        added_columns: &HashSet<&str>,
        out: &mut Vec<Drift>,
    ) {
        let Some(state) = self.tables.get(key) else {
            return;
        };
        if state.table.column(column).is_some()
            || added_columns.contains(column)
            || !state.columns_complete
            || !self.sub_judged(column)
            || !self.sub_judged(&key.name)
            || is_system_column(column)
        {
            return;
        }
        let origin = if state.new {
            format!("{} was created by a pending statement without it", key.name)
        } else if state
            .copy_name
            .as_ref()
            .and_then(|n| self.snapshot.table(n))
            .is_some_and(|t| t.column(column).is_some())
        {
            "it was dropped or renamed by an earlier pending statement".to_string()
        } else {
            format!("the copy's {} has no such column", key.name)
        };
        out.push(Drift {
            kind: DriftKind::Missing,
            object: DriftObject::Column,
            name: column.to_string(),
            table: Some(key.clone()),
            message: format!(
                "column {}.{column} does not exist at this point ({origin})",
                key
            ),
        });
    }

    fn require_index(&self, name: &QualifiedName, out: &mut Vec<Drift>) {
        if self.any_relation(name) || !self.judged(name) || self.guessed(&name.name) {
            return;
        }
        let origin = if self.snapshot.index(name).is_some() {
            "it was dropped or renamed by an earlier pending statement"
        } else {
            "the copy has no such index"
        };
        out.push(Drift {
            kind: DriftKind::Missing,
            object: DriftObject::Index,
            name: name.name.clone(),
            table: None,
            message: format!("index {name} does not exist at this point ({origin})"),
        });
    }

    fn require_constraint(
        &self,
        key: &QualifiedName,
        state: &TableState,
        name: &str,
        added_constraints: &HashSet<&str>,
        out: &mut Vec<Drift>,
    ) {
        // PostgreSQL 18 records NOT NULL constraints in pg_constraint under names the snapshot
        // does not read (`orders_status_not_null`).
        let unread_not_null =
            self.snapshot.server.major() >= 18 && state.table.columns.iter().any(|c| c.not_null);
        if state.constraints.iter().any(|c| c.name == name)
            || added_constraints.contains(name)
            || !state.constraints_complete
            || unread_not_null
            || !self.sub_judged(name)
            || self.guessed(name)
        {
            return;
        }
        let in_copy = state
            .copy_name
            .as_ref()
            .is_some_and(|n| self.snapshot.constraints_on(n).any(|c| c.name == name));
        let origin = if in_copy {
            "it was dropped or renamed by an earlier pending statement".to_string()
        } else if state.new {
            format!("{} was created by a pending statement without it", key.name)
        } else {
            format!("the copy's {} has no such constraint", key.name)
        };
        out.push(Drift {
            kind: DriftKind::Missing,
            object: DriftObject::Constraint,
            name: name.to_string(),
            table: Some(key.clone()),
            message: format!("constraint {name} of {key} does not exist at this point ({origin})"),
        });
    }

    /// A table or index about to be created at `key` (written as `written`) that already
    /// exists as a table or index there.
    fn conflict(
        &self,
        key: &QualifiedName,
        written: &QualifiedName,
        object: DriftObject,
        statement: &str,
        out: &mut Vec<Drift>,
    ) {
        let judged = !self.opaque
            && !self.unknown.contains(&key.name)
            && (written.schema.is_some() || !self.path_uncertain)
            && !key.schema.as_deref().is_some_and(is_system_schema);
        if !judged {
            return;
        }
        let (what, new) = if let Some(t) = self.tables.get(key) {
            ("table", t.new)
        } else if let Some(i) = self.indexes.get(key) {
            ("index", i.new)
        } else {
            return;
        };
        let origin = if new {
            "created by an earlier pending statement"
        } else {
            "in the copy"
        };
        let same = what == object.as_str();
        let message = if same {
            format!(
                "{what} {key} already exists ({origin}); {statement} without IF NOT EXISTS fails"
            )
        } else {
            format!(
                "{key} already exists as a {what} ({origin}); tables and indexes share one \
                 namespace, so {statement} fails"
            )
        };
        out.push(Drift {
            kind: DriftKind::AlreadyExists,
            object,
            name: key.name.clone(),
            table: (what == "table").then(|| key.clone()),
            message,
        });
    }

    fn exists_drift(
        &self,
        object: DriftObject,
        name: &str,
        table: &QualifiedName,
        state: &TableState,
        statement: &str,
    ) -> Drift {
        let in_copy = state.copy_name.as_ref().is_some_and(|n| match object {
            DriftObject::Column => self
                .snapshot
                .table(n)
                .is_some_and(|t| t.column(name).is_some()),
            _ => self.snapshot.constraints_on(n).any(|c| c.name == name),
        });
        let origin = if state.new {
            "on a table created by an earlier pending statement"
        } else if in_copy {
            "in the copy"
        } else {
            "added or renamed by an earlier pending statement"
        };
        let what = object.as_str();
        Drift {
            kind: DriftKind::AlreadyExists,
            object,
            name: name.to_string(),
            table: Some(table.clone()),
            message: format!(
                "{what} {name} of {table} already exists ({origin}); {statement} fails"
            ),
        }
    }

    // -----------------------------------------------------------------------------------
    // Replay
    // -----------------------------------------------------------------------------------

    /// Folds one statement's effect into the schema (call after the statement's checks).
    pub fn apply(&mut self, stmt: &Statement) {
        // An object the statement contradicts is in a state the replay cannot vouch for:
        // one finding for it, not one for every later statement that touches it.
        for d in self.drift(stmt) {
            self.unknown.insert(d.name);
        }
        use StatementKind as K;
        match &stmt.kind {
            K::CreateTable {
                name,
                columns,
                constraints,
                if_not_exists: _,
                temporary,
                partition_of,
                as_select,
            } => self.create_table(
                stmt,
                name,
                columns,
                constraints,
                *temporary,
                partition_of.as_ref(),
                *as_select,
            ),
            K::AlterTable { name, actions, .. } => {
                if let Some(key) = self.resolve_table(name) {
                    self.alter_table(stmt, key, actions);
                }
            }
            K::DropTable { names, .. } => {
                for n in names {
                    if let Some(key) = self.resolve_table(n) {
                        self.drop_table(&key);
                    }
                }
            }
            K::CreateIndex {
                name,
                table,
                keys,
                unique,
                if_not_exists: _,
                predicate,
                method,
                ..
            } => {
                let Some(on) = self.resolve_indexed_relation(table) else {
                    return;
                };
                let schema = schema_of(&on);
                let key = match name {
                    Some(n) => {
                        let key = QualifiedName::new(Some(&schema), &n.name);
                        if self.relation_exists(&key) {
                            // IF NOT EXISTS skips; without it the statement fails.
                            return;
                        }
                        key
                    }
                    None => {
                        let (columns, certain) = index_column_names(keys);
                        if !certain {
                            self.guess(&on.name);
                        }
                        let name = self.choose_relation_name(
                            &schema,
                            &on.name,
                            Some(&columns.join("_")),
                            "idx",
                            false,
                        );
                        QualifiedName::new(Some(&schema), &name)
                    }
                };
                if self
                    .tables
                    .get(&on)
                    .is_some_and(|t| t.table.kind == TableKind::Partitioned)
                {
                    // Each partition gets its own index under a generated name.
                    self.guess_partitions(&on);
                }
                let index = Index {
                    name: key,
                    table: on,
                    keys: keys.clone(),
                    include: Vec::new(),
                    partial: predicate.is_some(),
                    predicate: predicate.clone(),
                    unique: *unique,
                    primary: false,
                    // `ON ONLY` a partitioned table: invalid until every partition's index
                    // is attached.
                    valid: !sql_words(&stmt.text)
                        .collect::<Vec<_>>()
                        .windows(2)
                        .any(|w| w[0] == "on" && w[1] == "only"),
                    method: method.clone().unwrap_or_else(|| "btree".to_string()),
                    bytes: 0,
                    scans: Some(0),
                    parent: None,
                    locked: false,
                };
                self.insert_index(index, true);
            }
            K::DropIndex { names, .. } => {
                for n in names {
                    if let Some(key) = self.resolve_index(n) {
                        self.remove_index(&key);
                    }
                }
            }
            K::AlterIndex { name, .. } => {
                let parts = alter_index_parts(&stmt.text);
                match (parts.rename_to, self.resolve_index(name)) {
                    (Some(new), Some(key)) => {
                        let target = QualifiedName::new(Some(&schema_of(&key)), &new);
                        if !self.relation_exists(&target) {
                            self.rename_index(&key, &new);
                        }
                    }
                    (None, _) if !parts.understood => self.taint_words(&stmt.text),
                    _ => {}
                }
            }
            K::CreateView { name, .. } => {
                let key = self.creation_key(name, false);
                self.known_schemas.insert(schema_of(&key));
                self.views.insert(key);
            }
            K::CreateSchema { name } => {
                self.known_schemas.insert(name.clone());
            }
            K::DropSchema { names, cascade, .. } => {
                for schema in names {
                    self.drop_schema(schema, *cascade);
                }
            }
            K::Set { name, value, .. } => {
                let name = name.to_ascii_lowercase();
                if name == "search_path" || name == "schema" {
                    self.set_search_path(value);
                }
            }
            K::CreateFunction {
                name, volatility, ..
            } => {
                // CREATE OR REPLACE replaces: the latest definition wins.
                self.functions.insert(
                    name.name.clone(),
                    volatility.unwrap_or(Volatility::Volatile),
                );
            }
            K::Do => {
                if calls_unknown_code(&stmt.text) {
                    self.opaque = true;
                } else {
                    self.taint_words(&stmt.text);
                }
            }
            K::Select => {
                if calls_unknown_code(&stmt.text) {
                    self.opaque = true;
                } else if sql_words(&stmt.text).any(|w| w == "into") {
                    // SELECT ... INTO creates a table.
                    self.taint_words(&stmt.text);
                }
            }
            K::Unparsed { .. } | K::Invalid { .. } => self.opaque = true,
            K::PsqlMeta { command } => {
                let command = command.trim_start_matches('\\').to_ascii_lowercase();
                let harmless = [
                    "set", "unset", "echo", "qecho", "warn", "timing", "pset", "encoding",
                    "conninfo", "x", "a", "t",
                ];
                let word = command.split_whitespace().next().unwrap_or_default();
                if !harmless.contains(&word) {
                    self.opaque = true;
                }
            }
            K::Other { keywords } => self.other(keywords, &stmt.text),
            K::DropObject { object, .. } => self.other(&format!("drop {object}"), &stmt.text),
            _ => {}
        }
    }

    /// `Other` statements: some may create, drop or rename relations the replay cannot follow.
    fn other(&mut self, keywords: &str, text: &str) {
        let mut words = keywords.split_whitespace();
        let first = words.next().unwrap_or_default();
        let object: Vec<&str> = words.collect();
        let object = object.join(" ");
        match first {
            // Extensions create tables (postgis' spatial_ref_sys); CALL and EXECUTE run code.
            "call" | "execute" | "import" => self.opaque = true,
            "create" | "alter" | "drop" if object.starts_with("extension") => self.opaque = true,
            "reset" => self.set_search_path_uncertain(),
            "create" | "alter" | "drop"
                if [
                    "table",
                    "view",
                    "materialized",
                    "foreign",
                    "index",
                    "sequence",
                ]
                .iter()
                .any(|o| object.starts_with(o)) =>
            {
                self.taint_words(text)
            }
            _ => {}
        }
    }

    fn set_search_path(&mut self, value: &str) {
        let schemas: Vec<String> = value
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    Some(quoted) => quoted.to_string(),
                    None => s.to_lowercase(),
                },
            )
            .filter(|s| s != "$user" && s != "default" && !s.starts_with("pg_"))
            .collect();
        if !schemas.is_empty() {
            self.search_path = schemas;
        }
        self.set_search_path_uncertain();
    }

    fn set_search_path_uncertain(&mut self) {
        self.path_uncertain = true;
    }

    /// Marks every identifier-like word of `text` as a name in an unknown state.
    fn taint_words(&mut self, text: &str) {
        for word in raw_words(text) {
            self.unknown.insert(word.to_lowercase());
            self.unknown.insert(word.to_string());
        }
    }

    /// Index and constraint names of `table` may have been guessed wrongly.
    fn guess(&mut self, table: &str) {
        // Generated names may shorten a long table name, so a long one matches by its start.
        let prefix = if table.len() <= 20 {
            format!("{table}_")
        } else {
            clip(table, 20).to_string()
        };
        if !self.guessed_prefixes.contains(&prefix) {
            self.guessed_prefixes.push(prefix);
        }
    }

    /// Scans the tables once: an index on a partitioned table is rare enough not to need a
    /// per-parent index.
    fn guess_partitions(&mut self, parent: &QualifiedName) {
        let children: Vec<String> = self
            .tables
            .values()
            .filter(|t| t.table.partition_of.as_ref() == Some(parent))
            .map(|t| t.table.name.name.clone())
            .collect();
        for child in children {
            self.guess(&child);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create_table(
        &mut self,
        stmt: &Statement,
        name: &QualifiedName,
        columns: &[ColumnDef],
        constraints: &[ConstraintDef],
        temporary: bool,
        partition_of: Option<&QualifiedName>,
        as_select: bool,
    ) {
        let key = self.creation_key(name, temporary);
        if self.relation_exists(&key) {
            // IF NOT EXISTS skips; without it the statement fails.
            return;
        }
        let words: Vec<String> = sql_words(&stmt.text).collect();
        let has = |w: &str| words.iter().any(|x| x == w);
        let has_pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
        // `LIKE other`, `INHERITS (parent)`, `OF type` and `AS SELECT` bring columns (and,
        // with LIKE ... INCLUDING, indexes and constraints) the statement does not list.
        let borrowed =
            as_select || has("like") || has("inherits") || (has("of") && partition_of.is_none());
        let parent = partition_of.and_then(|p| self.resolve_table(p));
        let mut table_columns: Vec<Column> = Vec::new();
        let mut complete = !borrowed;
        if let Some(p) = &parent {
            if let Some(ps) = self.tables.get(p) {
                table_columns.extend(ps.table.columns.iter().cloned());
                complete &= ps.columns_complete;
            }
        } else if partition_of.is_some() {
            complete = false;
        }
        for c in columns {
            if table_columns.iter().all(|x| x.name != c.name) {
                let attnum = next_attnum(&table_columns);
                table_columns.push(column_from_def(c, attnum));
            }
        }
        let kind = if has_pair("partition", "by") {
            TableKind::Partitioned
        } else if parent.is_some() {
            TableKind::Partition
        } else {
            TableKind::Table
        };
        let table = Table {
            name: key.clone(),
            kind,
            partition_of: parent.clone(),
            rows: 0,
            row_source: RowSource::LiveTuples,
            heap_bytes: 0,
            index_bytes: 0,
            toast_bytes: 0,
            triggers: 0,
            locked: false,
            columns: table_columns,
        };
        self.tables.insert(
            key.clone(),
            TableState {
                table,
                new: true,
                copy_name: None,
                columns_complete: complete,
                constraints_complete: !borrowed && parent.is_none(),
                constraints: Vec::new(),
            },
        );
        self.known_schemas.insert(schema_of(&key));
        if temporary || key.schema.as_deref() == Some(TEMP_SCHEMA) {
            self.has_temp = true;
        }
        if borrowed || partition_of.is_some() {
            self.guess(&key.name);
        }
        for c in columns {
            self.inline_constraints(&key, c);
        }
        for c in constraints {
            self.add_constraint(&key, c, &stmt.text);
        }
        if let Some(p) = parent {
            self.clone_partition_indexes(&p, &key);
        }
    }

    /// A partition gets a copy of each of its parent's partitioned indexes.
    fn clone_partition_indexes(&mut self, parent: &QualifiedName, child: &QualifiedName) {
        let schema = schema_of(child);
        let parents: Vec<Index> = self
            .index_lists
            .get(parent)
            .into_iter()
            .flatten()
            .filter_map(|n| self.indexes.get(n).map(|s| s.index.clone()))
            .collect();
        for p in parents {
            let (columns, _) = index_column_names(&p.keys);
            let label = if p.primary {
                "pkey"
            } else if p.unique {
                "key"
            } else {
                "idx"
            };
            let addition = (!p.primary).then(|| columns.join("_"));
            let name =
                self.choose_relation_name(&schema, &child.name, addition.as_deref(), label, false);
            let index = Index {
                name: QualifiedName::new(Some(&schema), &name),
                table: child.clone(),
                parent: Some(p.name.clone()),
                bytes: 0,
                scans: Some(0),
                ..p
            };
            self.insert_index(index, true);
        }
    }

    /// PRIMARY KEY, UNIQUE, REFERENCES and CHECK written on a column.
    fn inline_constraints(&mut self, table: &QualifiedName, c: &ColumnDef) {
        let columns = vec![c.name.clone()];
        let add = |schema: &mut Schema, kind: ConstraintKind| {
            let def = ConstraintDef {
                name: None,
                kind,
                columns: columns.clone(),
                using_index: None,
                not_valid: false,
            };
            schema.add_constraint(table, &def, "");
        };
        if c.primary_key {
            add(self, ConstraintKind::PrimaryKey);
        }
        if c.unique {
            add(self, ConstraintKind::Unique);
        }
        if let Some(r) = &c.references {
            add(self, ConstraintKind::ForeignKey(r.clone()));
        }
        if let Some(check) = &c.check {
            add(self, ConstraintKind::Check(check.clone()));
        }
    }

    fn alter_table(&mut self, stmt: &Statement, key: QualifiedName, actions: &[AlterAction]) {
        let mut key = key;
        for action in actions {
            match action {
                AlterAction::AddColumn {
                    column,
                    if_not_exists: _,
                } => {
                    let Some(state) = self.tables.get_mut(&key) else {
                        return;
                    };
                    if state.table.column(&column.name).is_some() {
                        continue;
                    }
                    let attnum = next_attnum(&state.table.columns);
                    state.table.columns.push(column_from_def(column, attnum));
                    self.inline_constraints(&key, column);
                }
                AlterAction::DropColumn { name, .. } => self.drop_column(&key, name),
                AlterAction::AlterColumnType {
                    column, data_type, ..
                } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.data_type = canonical_type(data_type);
                    }
                }
                AlterAction::SetNotNull { column } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.not_null = true;
                    }
                }
                AlterAction::DropNotNull { column } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.not_null = false;
                    }
                }
                AlterAction::SetDefault { column, default } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.has_default = true;
                        c.default = Some(default.text.clone());
                    }
                }
                AlterAction::DropDefault { column } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.has_default = c.generated || c.identity;
                        c.default = None;
                    }
                }
                AlterAction::AddIdentity { column } => {
                    if let Some(c) = self.column_mut(&key, column) {
                        c.identity = true;
                        c.not_null = true;
                    }
                }
                AlterAction::AddConstraint(c) => self.add_constraint(&key, c, &stmt.text),
                AlterAction::ValidateConstraint { name } => {
                    if let Some(c) = self
                        .tables
                        .get_mut(&key)
                        .and_then(|s| s.constraints.iter_mut().find(|c| &c.name == name))
                    {
                        c.validated = true;
                    }
                }
                AlterAction::DropConstraint { name, .. } => self.remove_constraint(&key, name),
                AlterAction::RenameColumn { old, new } => self.rename_column(&key, old, new),
                AlterAction::RenameTable { new } => {
                    let target = QualifiedName::new(Some(&schema_of(&key)), new);
                    if self.relation_exists(&target) {
                        return;
                    }
                    self.rename_table(&key, &target);
                    key = target;
                }
                AlterAction::RenameConstraint { old, new } => {
                    self.rename_constraint(&key, old, new)
                }
                AlterAction::AttachPartition { partition } => {
                    if let Some(p) = self.resolve_table(partition) {
                        if let Some(s) = self.tables.get_mut(&p) {
                            s.table.partition_of = Some(key.clone());
                            s.table.kind = TableKind::Partition;
                        }
                        // The parent's indexes are attached or built under generated names.
                        self.guess(&p.name);
                    }
                }
                AlterAction::DetachPartition { partition, .. } => {
                    if let Some(s) = self
                        .resolve_table(partition)
                        .and_then(|p| self.tables.get_mut(&p))
                    {
                        s.table.partition_of = None;
                        s.table.kind = TableKind::Table;
                    }
                }
                AlterAction::Other(what) => {
                    // SET SCHEMA moves the table (and its indexes) where names no longer
                    // resolve as the replay thinks; INHERIT adds columns.
                    if what.starts_with("set schema") || what.starts_with("inherit") {
                        self.unknown.insert(key.name.clone());
                    }
                }
                AlterAction::SetStorage { .. } => {}
            }
        }
    }

    fn column_mut(&mut self, table: &QualifiedName, column: &str) -> Option<&mut Column> {
        self.tables
            .get_mut(table)?
            .table
            .columns
            .iter_mut()
            .find(|c| c.name == column)
    }

    fn add_constraint(&mut self, table: &QualifiedName, c: &ConstraintDef, text: &str) {
        if !self.tables.contains_key(table) {
            return;
        }
        let schema = schema_of(table);
        if let Some(name) = &c.name {
            let exists = self
                .tables
                .get(table)
                .is_some_and(|s| s.constraints.iter().any(|k| &k.name == name));
            if exists {
                // The statement fails.
                return;
            }
        }
        let mut constraint = Constraint {
            table: table.clone(),
            name: String::new(),
            kind: ConstraintType::Check,
            columns: c.columns.clone(),
            validated: !c.not_valid,
            references: None,
            index: None,
            inherited: false,
            definition: None,
        };
        match &c.kind {
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
                let primary = c.kind == ConstraintKind::PrimaryKey;
                constraint.kind = if primary {
                    ConstraintType::PrimaryKey
                } else {
                    ConstraintType::Unique
                };
                let index_name = match &c.using_index {
                    Some(existing) => {
                        let ikey = QualifiedName::new(Some(&schema), existing);
                        let Some(state) = self.indexes.get(&ikey) else {
                            return;
                        };
                        constraint.columns = state
                            .index
                            .keys
                            .iter()
                            .filter_map(|k| match k {
                                IndexKey::Column(c) => Some(c.clone()),
                                IndexKey::Expression(_) => None,
                            })
                            .collect();
                        // The index takes the constraint's name.
                        let name = c.name.clone().unwrap_or_else(|| existing.clone());
                        if &name != existing {
                            self.rename_index(&ikey, &name);
                        }
                        let ikey = QualifiedName::new(Some(&schema), &name);
                        if let Some(state) = self.indexes.get_mut(&ikey) {
                            state.index.unique = true;
                            state.index.primary = primary;
                        }
                        name
                    }
                    None => {
                        let name = match &c.name {
                            Some(n) => n.clone(),
                            None if primary => {
                                self.choose_relation_name(&schema, &table.name, None, "pkey", true)
                            }
                            None => self.choose_relation_name(
                                &schema,
                                &table.name,
                                Some(&name_addition(&c.columns)),
                                "key",
                                true,
                            ),
                        };
                        let index = Index {
                            name: QualifiedName::new(Some(&schema), &name),
                            table: table.clone(),
                            keys: c.columns.iter().cloned().map(IndexKey::Column).collect(),
                            include: Vec::new(),
                            partial: false,
                            predicate: None,
                            unique: true,
                            primary,
                            valid: true,
                            method: "btree".to_string(),
                            bytes: 0,
                            scans: Some(0),
                            parent: None,
                            locked: false,
                        };
                        self.insert_index(index, true);
                        name
                    }
                };
                if primary {
                    for col in constraint.columns.clone() {
                        if let Some(column) = self.column_mut(table, &col) {
                            column.not_null = true;
                        }
                    }
                }
                constraint.name = index_name.clone();
                constraint.index = Some(index_name);
            }
            ConstraintKind::ForeignKey(r) => {
                constraint.kind = ConstraintType::ForeignKey;
                constraint.name = match &c.name {
                    Some(n) => n.clone(),
                    None => self.choose_constraint_name(
                        &schema,
                        &table.name,
                        Some(&name_addition(&c.columns)),
                        "fkey",
                    ),
                };
                let referenced = self
                    .resolve_table(&r.table)
                    .unwrap_or_else(|| self.creation_key(&r.table, false));
                let columns = if r.columns.is_empty() {
                    // REFERENCES t without columns means t's primary key.
                    self.tables
                        .get(&referenced)
                        .and_then(|s| {
                            s.constraints
                                .iter()
                                .find(|k| k.kind == ConstraintType::PrimaryKey)
                        })
                        .map(|k| k.columns.clone())
                        .unwrap_or_default()
                } else {
                    r.columns.clone()
                };
                self.referencing
                    .entry(referenced.clone())
                    .or_default()
                    .insert(table.clone());
                constraint.references = Some(Reference {
                    table: referenced,
                    columns,
                    on_delete: on_delete(text),
                });
            }
            ConstraintKind::Check(expr) => {
                constraint.kind = ConstraintType::Check;
                constraint.definition = Some(format!("CHECK ({})", expr.text));
                if let Some(col) = c.not_null_column() {
                    constraint.columns = vec![col];
                }
                constraint.name = match &c.name {
                    Some(n) => n.clone(),
                    None => {
                        // PostgreSQL names it after the one column the expression uses, if
                        // exactly one: the replay cannot tell from the text for sure.
                        self.guess(&table.name);
                        let column = constraint.columns.first().cloned();
                        self.choose_constraint_name(
                            &schema,
                            &table.name,
                            column.as_deref(),
                            "check",
                        )
                    }
                };
            }
            ConstraintKind::Exclusion => {
                constraint.kind = ConstraintType::Exclusion;
                let name = match &c.name {
                    Some(n) => n.clone(),
                    None => {
                        self.guess(&table.name);
                        self.choose_relation_name(
                            &schema,
                            &table.name,
                            Some(&name_addition(&c.columns)),
                            "excl",
                            true,
                        )
                    }
                };
                let index = Index {
                    name: QualifiedName::new(Some(&schema), &name),
                    table: table.clone(),
                    keys: c.columns.iter().cloned().map(IndexKey::Column).collect(),
                    include: Vec::new(),
                    partial: false,
                    predicate: None,
                    unique: false,
                    primary: false,
                    valid: true,
                    method: exclusion_method(text),
                    bytes: 0,
                    scans: Some(0),
                    parent: None,
                    locked: false,
                };
                self.insert_index(index, true);
                constraint.name = name.clone();
                constraint.index = Some(name);
            }
        }
        self.constraint_names
            .insert((schema, constraint.name.clone()));
        if let Some(state) = self.tables.get_mut(table) {
            state.constraints.push(constraint);
        }
    }

    fn remove_constraint(&mut self, table: &QualifiedName, name: &str) {
        let Some(state) = self.tables.get_mut(table) else {
            return;
        };
        let Some(pos) = state.constraints.iter().position(|c| c.name == name) else {
            return;
        };
        let removed = state.constraints.remove(pos);
        let schema = schema_of(table);
        self.constraint_names
            .remove(&(schema.clone(), removed.name.clone()));
        if let Some(index) = &removed.index {
            self.remove_index(&QualifiedName::new(Some(&schema), index));
        }
        if let Some(r) = &removed.references {
            self.unlink_reference(table, &r.table);
        }
    }

    /// Forgets that `from` references `to`, unless another of its foreign keys still does.
    fn unlink_reference(&mut self, from: &QualifiedName, to: &QualifiedName) {
        let still = self.tables.get(from).is_some_and(|s| {
            s.constraints
                .iter()
                .any(|c| c.references.as_ref().is_some_and(|r| &r.table == to))
        });
        if still {
            return;
        }
        if let Some(set) = self.referencing.get_mut(to) {
            set.remove(from);
            if set.is_empty() {
                self.referencing.remove(to);
            }
        }
    }

    fn rename_constraint(&mut self, table: &QualifiedName, old: &str, new: &str) {
        let schema = schema_of(table);
        let Some(state) = self.tables.get_mut(table) else {
            return;
        };
        if state.constraints.iter().any(|c| c.name == new) {
            return;
        }
        let Some(c) = state.constraints.iter_mut().find(|c| c.name == old) else {
            return;
        };
        c.name = new.to_string();
        let index = c.index.take();
        if index.is_some() {
            c.index = Some(new.to_string());
        }
        self.constraint_names
            .remove(&(schema.clone(), old.to_string()));
        self.constraint_names
            .insert((schema.clone(), new.to_string()));
        // Renaming an index-backed constraint renames its index.
        if let Some(index) = index {
            let ikey = QualifiedName::new(Some(&schema), &index);
            self.move_index(&ikey, new);
        }
    }

    fn insert_index(&mut self, index: Index, new: bool) {
        self.index_lists
            .entry(index.table.clone())
            .or_default()
            .push(index.name.clone());
        self.known_schemas.insert(schema_of(&index.name));
        self.indexes
            .insert(index.name.clone(), IndexState { index, new });
    }

    fn remove_index(&mut self, key: &QualifiedName) {
        let Some(state) = self.indexes.remove(key) else {
            return;
        };
        if let Some(list) = self.index_lists.get_mut(&state.index.table) {
            list.retain(|n| n != key);
        }
    }

    /// `ALTER INDEX ... RENAME TO`: also renames the constraint the index backs.
    fn rename_index(&mut self, key: &QualifiedName, new: &str) {
        let Some(table) = self.indexes.get(key).map(|s| s.index.table.clone()) else {
            return;
        };
        let schema = schema_of(key);
        if let Some(c) = self.tables.get_mut(&table).and_then(|s| {
            s.constraints
                .iter_mut()
                .find(|c| c.index.as_deref() == Some(key.name.as_str()))
        }) {
            let old = std::mem::replace(&mut c.name, new.to_string());
            c.index = Some(new.to_string());
            self.constraint_names.remove(&(schema.clone(), old));
            self.constraint_names
                .insert((schema.clone(), new.to_string()));
        }
        self.move_index(key, new);
    }

    /// Re-keys an index under a new name in the same schema.
    fn move_index(&mut self, key: &QualifiedName, new: &str) {
        let Some(mut state) = self.indexes.remove(key) else {
            return;
        };
        let new_key = QualifiedName::new(Some(&schema_of(key)), new);
        state.index.name = new_key.clone();
        if let Some(list) = self.index_lists.get_mut(&state.index.table) {
            for n in list.iter_mut().filter(|n| *n == key) {
                *n = new_key.clone();
            }
        }
        self.indexes.insert(new_key, state);
    }

    fn rename_table(&mut self, old: &QualifiedName, new: &QualifiedName) {
        let Some(mut state) = self.tables.remove(old) else {
            return;
        };
        state.table.name = new.clone();
        for c in &mut state.constraints {
            c.table = new.clone();
            if let Some(r) = c.references.as_mut().filter(|r| &r.table == old) {
                r.table = new.clone();
            }
        }
        // Its own foreign keys: the tables it references now see the new name.
        let referenced: Vec<QualifiedName> = state
            .constraints
            .iter()
            .filter_map(|c| c.references.as_ref().map(|r| r.table.clone()))
            .collect();
        for r in referenced {
            if let Some(set) = self.referencing.get_mut(&r) {
                if set.remove(old) {
                    set.insert(new.clone());
                }
            }
        }
        // Foreign keys of other tables pointing at it.
        if let Some(from) = self.referencing.remove(old) {
            for t in &from {
                let t = if t == old { new } else { t };
                if let Some(s) = self.tables.get_mut(t) {
                    for r in s
                        .constraints
                        .iter_mut()
                        .filter_map(|c| c.references.as_mut())
                        .filter(|r| &r.table == old)
                    {
                        r.table = new.clone();
                    }
                }
            }
            let from = from
                .into_iter()
                .map(|t| if &t == old { new.clone() } else { t })
                .collect();
            self.referencing.insert(new.clone(), from);
        }
        if let Some(list) = self.index_lists.remove(old) {
            for n in &list {
                if let Some(i) = self.indexes.get_mut(n) {
                    i.index.table = new.clone();
                }
            }
            self.index_lists.insert(new.clone(), list);
        }
        self.tables.insert(new.clone(), state);
    }

    fn rename_column(&mut self, table: &QualifiedName, old: &str, new: &str) {
        let Some(state) = self.tables.get_mut(table) else {
            return;
        };
        if state.table.column(new).is_some() {
            return;
        }
        let Some(c) = state.table.columns.iter_mut().find(|c| c.name == old) else {
            return;
        };
        c.name = new.to_string();
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| *c == old) {
                *c = new.to_string();
            }
        };
        for c in &mut state.constraints {
            rename(&mut c.columns);
            if let Some(r) = c.references.as_mut().filter(|r| &r.table == table) {
                rename(&mut r.columns);
            }
        }
        for n in self.index_lists.get(table).into_iter().flatten() {
            if let Some(i) = self.indexes.get_mut(n) {
                for k in &mut i.index.keys {
                    if matches!(k, IndexKey::Column(c) if c == old) {
                        *k = IndexKey::Column(new.to_string());
                    }
                }
                rename(&mut i.index.include);
            }
        }
        let from: Vec<QualifiedName> = self
            .referencing
            .get(table)
            .into_iter()
            .flatten()
            .filter(|t| *t != table)
            .cloned()
            .collect();
        for t in from {
            if let Some(s) = self.tables.get_mut(&t) {
                for r in s
                    .constraints
                    .iter_mut()
                    .filter_map(|c| c.references.as_mut())
                    .filter(|r| &r.table == table)
                {
                    rename(&mut r.columns);
                }
            }
        }
    }

    /// DROP COLUMN also drops the indexes and constraints that use the column, and the
    /// foreign keys of other tables that reference it.
    fn drop_column(&mut self, table: &QualifiedName, column: &str) {
        let Some(state) = self.tables.get_mut(table) else {
            return;
        };
        let before = state.table.columns.len();
        state.table.columns.retain(|c| c.name != column);
        if state.table.columns.len() == before {
            return;
        }
        let constraints: Vec<String> = state
            .constraints
            .iter()
            .filter(|c| c.columns.iter().any(|c| c == column))
            .map(|c| c.name.clone())
            .collect();
        for c in constraints {
            self.remove_constraint(table, &c);
        }
        let indexes: Vec<QualifiedName> = self
            .index_lists
            .get(table)
            .into_iter()
            .flatten()
            .filter(|n| {
                self.indexes
                    .get(*n)
                    .is_some_and(|s| index_uses_column(&s.index, column))
            })
            .cloned()
            .collect();
        for i in indexes {
            self.remove_index(&i);
        }
        let from: Vec<QualifiedName> = self
            .referencing
            .get(table)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for t in from {
            let names: Vec<String> = self
                .tables
                .get(&t)
                .into_iter()
                .flat_map(|s| s.constraints.iter())
                .filter(|c| {
                    c.references
                        .as_ref()
                        .is_some_and(|r| &r.table == table && r.columns.iter().any(|c| c == column))
                })
                .map(|c| c.name.clone())
                .collect();
            for n in names {
                self.remove_constraint(&t, &n);
            }
        }
    }

    fn drop_table(&mut self, key: &QualifiedName) {
        let Some(state) = self.tables.remove(key) else {
            return;
        };
        let schema = schema_of(key);
        for c in &state.constraints {
            self.constraint_names
                .remove(&(schema.clone(), c.name.clone()));
            if let Some(r) = &c.references {
                if let Some(set) = self.referencing.get_mut(&r.table) {
                    set.remove(key);
                }
            }
        }
        for n in self.index_lists.remove(key).unwrap_or_default() {
            self.indexes.remove(&n);
        }
        // Foreign keys pointing at it go too (DROP ... CASCADE; without CASCADE the drop
        // fails, and the migration stops there anyway).
        for t in self.referencing.remove(key).unwrap_or_default() {
            let names: Vec<String> = self
                .tables
                .get(&t)
                .into_iter()
                .flat_map(|s| s.constraints.iter())
                .filter(|c| c.references.as_ref().is_some_and(|r| &r.table == key))
                .map(|c| c.name.clone())
                .collect();
            for n in names {
                self.remove_constraint(&t, &n);
            }
        }
    }

    /// DROP SCHEMA: with CASCADE everything in it goes; without, it only succeeds when empty.
    /// Scans the tables once: rare enough not to need a per-schema index.
    fn drop_schema(&mut self, schema: &str, cascade: bool) {
        if !cascade {
            return;
        }
        let tables: Vec<QualifiedName> = self
            .tables
            .keys()
            .filter(|k| k.schema.as_deref() == Some(schema))
            .cloned()
            .collect();
        for t in tables {
            self.drop_table(&t);
        }
        let indexes: Vec<QualifiedName> = self
            .indexes
            .keys()
            .filter(|k| k.schema.as_deref() == Some(schema))
            .cloned()
            .collect();
        for i in indexes {
            self.remove_index(&i);
        }
        self.views.retain(|v| v.schema.as_deref() != Some(schema));
        self.sequences
            .retain(|s| s.schema.as_deref() != Some(schema));
        self.known_schemas.remove(schema);
    }

    // -----------------------------------------------------------------------------------
    // Generated names (PostgreSQL's makeObjectName / ChooseRelationName)
    // -----------------------------------------------------------------------------------

    /// A relation name PostgreSQL would generate: `<table>_<addition>_<label>`, truncated to
    /// 63 bytes, with a number appended to the label until it is free. Index names of
    /// constraints must also be free as constraint names.
    fn choose_relation_name(
        &self,
        schema: &str,
        table: &str,
        addition: Option<&str>,
        label: &str,
        constraint: bool,
    ) -> String {
        let mut pass = 0u32;
        loop {
            let label = if pass == 0 {
                label.to_string()
            } else {
                format!("{label}{pass}")
            };
            let name = make_object_name(table, addition, &label);
            let key = QualifiedName::new(Some(schema), &name);
            let taken = self.relation_exists(&key)
                || (constraint
                    && self
                        .constraint_names
                        .contains(&(schema.to_string(), name.clone())));
            if !taken || pass > 1000 {
                return name;
            }
            pass += 1;
        }
    }

    /// A constraint name PostgreSQL would generate (`ChooseConstraintName`).
    fn choose_constraint_name(
        &self,
        schema: &str,
        table: &str,
        addition: Option<&str>,
        label: &str,
    ) -> String {
        let mut pass = 0u32;
        loop {
            let label = if pass == 0 {
                label.to_string()
            } else {
                format!("{label}{pass}")
            };
            let name = make_object_name(table, addition, &label);
            if !self
                .constraint_names
                .contains(&(schema.to_string(), name.clone()))
                || pass > 1000
            {
                return name;
            }
            pass += 1;
        }
    }
}

/// `makeObjectName`: `name1_name2_label`, shortening the longer of name1 and name2 a byte at
/// a time until the whole fits in 63 bytes.
fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = MAX_IDENTIFIER.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// The longest prefix of `s` of at most `bytes` bytes that ends on a character boundary.
fn clip(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// `ChooseIndexNameAddition`: column names joined by `_`.
fn name_addition(columns: &[String]) -> String {
    let mut out = String::new();
    for c in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(c, MAX_IDENTIFIER));
        if out.len() > MAX_IDENTIFIER {
            break;
        }
    }
    out
}

/// `ChooseIndexColumnNames`: a name per key (the column, the function an expression calls,
/// else `expr`), made unique by appending digits. The flag says whether every name is
/// certainly the one PostgreSQL picks.
fn index_column_names(keys: &[IndexKey]) -> (Vec<String>, bool) {
    let mut certain = true;
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        let base = match key {
            IndexKey::Column(c) => c.clone(),
            IndexKey::Expression(e) => match expression_column_name(e) {
                Some(n) => n,
                None => {
                    certain = false;
                    "expr".to_string()
                }
            },
        };
        let mut name = base.clone();
        let mut n = 0;
        while out.contains(&name) {
            n += 1;
            name = format!("{base}{n}");
        }
        out.push(name);
    }
    (out, certain)
}

/// `FigureIndexColname` for the two shapes it is sure about: a column (possibly in
/// parentheses) and a function call `f(...)` (its name).
fn expression_column_name(expr: &str) -> Option<String> {
    let mut e = expr.trim();
    while let Some(inner) = e.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        if !balanced(inner) {
            break;
        }
        e = inner.trim();
    }
    if is_identifier(e) {
        return Some(e.to_lowercase());
    }
    let open = e.find('(')?;
    let (function, rest) = e.split_at(open);
    let function = function.trim();
    let last = function.rsplit('.').next()?.trim();
    if is_identifier(last) && rest.ends_with(')') && balanced(rest.get(1..rest.len() - 1)?) {
        Some(last.to_lowercase())
    } else {
        None
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether parentheses are balanced and never close below zero.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn index_uses_column(index: &Index, column: &str) -> bool {
    let mentions = |text: &str| raw_words(text).any(|w| w == column);
    index.keys.iter().any(|k| match k {
        IndexKey::Column(c) => c == column,
        IndexKey::Expression(e) => mentions(e),
    }) || index.include.iter().any(|c| c == column)
        || index.predicate.as_deref().is_some_and(mentions)
}

fn schema_of(name: &QualifiedName) -> String {
    name.schema.clone().unwrap_or_else(|| "public".to_string())
}

fn is_system_schema(schema: &str) -> bool {
    schema == "pg_catalog"
        || schema == "information_schema"
        || schema.starts_with("pg_toast")
        || schema.starts_with(TEMP_SCHEMA)
}

/// Columns every table has without declaring them.
fn is_system_column(column: &str) -> bool {
    matches!(
        column,
        "ctid" | "xmin" | "xmax" | "cmin" | "cmax" | "tableoid" | "oid"
    )
}

/// A DML target that is a plain (possibly qualified) name, not a function or subquery.
fn plain_name(name: &QualifiedName) -> bool {
    !name.name.is_empty()
        && !name
            .name
            .contains(|c: char| c == '(' || c == ')' || c.is_whitespace())
}

fn next_attnum(columns: &[Column]) -> i16 {
    columns
        .iter()
        .map(|c| c.attnum)
        .max()
        .unwrap_or(0)
        .saturating_add(1)
}

fn column_from_def(c: &ColumnDef, attnum: i16) -> Column {
    let serial = matches!(
        c.data_type.as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    );
    Column {
        name: c.name.clone(),
        data_type: canonical_type(&c.data_type),
        not_null: c.not_null || c.primary_key || c.identity || serial,
        has_default: c.default.is_some() || c.generated_stored || c.identity || serial,
        default: c.default.as_ref().map(|d| d.text.clone()),
        generated: c.generated_stored,
        generation_expression: None,
        identity: c.identity,
        attnum,
    }
}

/// `ON DELETE` action of a foreign key, from the statement text (`no action` by default).
fn on_delete(text: &str) -> String {
    let words: Vec<String> = sql_words(text).collect();
    let Some(at) = words
        .windows(2)
        .position(|p| p[0] == "on" && p[1] == "delete")
    else {
        return "no action".to_string();
    };
    match (words.get(at + 2).map(String::as_str), words.get(at + 3)) {
        (Some("set"), Some(what)) => format!("set {what}"),
        (Some(action @ ("cascade" | "restrict")), _) => action.to_string(),
        _ => "no action".to_string(),
    }
}

/// Access method of `EXCLUDE USING <method>` (btree when not given).
fn exclusion_method(text: &str) -> String {
    let words: Vec<String> = sql_words(text).collect();
    words
        .windows(3)
        .find(|w| w[0] == "exclude" && w[1] == "using")
        .map(|w| w[2].clone())
        .unwrap_or_else(|| "btree".to_string())
}

/// What an `ALTER INDEX` statement says beyond the model: IF EXISTS and the new name.
struct AlterIndexParts {
    if_exists: bool,
    rename_to: Option<String>,
    /// A form the replay follows (rename) or knows to change no name.
    understood: bool,
}

fn alter_index_parts(text: &str) -> AlterIndexParts {
    let tokens = sql_tokens(text);
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    let if_exists = word(2) == Some("if") && word(3) == Some("exists");
    let rename = tokens
        .windows(2)
        .position(|p| p[0] == Token::Word("rename".into()) && p[1] == Token::Word("to".into()));
    let rename_to = rename.and_then(|i| match tokens.get(i + 2) {
        Some(Token::Word(w)) | Some(Token::Quoted(w)) => Some(w.clone()),
        _ => None,
    });
    let understood = rename_to.is_some()
        || tokens.iter().any(|t| {
            matches!(t, Token::Word(w) if w == "set" || w == "reset" || w == "attach" || w == "alter")
        });
    AlterIndexParts {
        if_exists,
        rename_to,
        understood,
    }
}

/// A lexical token of SQL text, enough to read a few clauses the model does not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word, lower-cased.
    Word(String),
    /// A double-quoted identifier, as written.
    Quoted(String),
    Punct(char),
}

/// Tokens of SQL text: comments, string literals and dollar-quoted bodies are skipped.
fn sql_tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while chars.get(i).is_some_and(|&c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while let Some(&c) = chars.get(i) {
                i += 1;
                if c == '\'' {
                    if chars.get(i) == Some(&'\'') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
        } else if c == '"' {
            let mut ident = String::new();
            i += 1;
            while let Some(&c) = chars.get(i) {
                i += 1;
                if c == '"' {
                    if chars.get(i) == Some(&'"') {
                        ident.push('"');
                        i += 1;
                    } else {
                        break;
                    }
                } else {
                    ident.push(c);
                }
            }
            out.push(Token::Quoted(ident));
        } else if c == '$' {
            // $tag$ ... $tag$ (or a positional parameter $1).
            let start = i;
            let mut j = i + 1;
            while chars
                .get(j)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                j += 1;
            }
            if chars.get(j) == Some(&'$') {
                let tag: String = chars.get(start..=j).unwrap_or_default().iter().collect();
                let tag: Vec<char> = tag.chars().collect();
                i = j + 1;
                while i < chars.len() && !chars[i..].starts_with(&tag) {
                    i += 1;
                }
                i += tag.len();
            } else {
                i = j;
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars.get(i) {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    word.push(c);
                    i += 1;
                } else {
                    break;
                }
            }
            out.push(Token::Word(word.to_lowercase()));
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

/// Lower-cased unquoted words of SQL text, outside comments and literals.
fn sql_words(text: &str) -> impl Iterator<Item = String> {
    sql_tokens(text).into_iter().filter_map(|t| match t {
        Token::Word(w) => Some(w),
        _ => None,
    })
}

/// Every identifier-like run of characters, literals and bodies included: what a DO block or
/// dynamic SQL string may name.
fn raw_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        })
}

/// Whether code in `text` (a DO body, a SELECT) may change the schema in ways the text does
/// not show: dynamic SQL, procedure calls, or calls of functions other than well-known
/// built-ins that cannot create or drop relations.
fn calls_unknown_code(text: &str) -> bool {
    #[rustfmt::skip]
    const HARMLESS: &[&str] = &[
        // Keywords written before a parenthesis.
        "select", "from", "where", "and", "or", "not", "in", "exists", "any", "all", "some",
        "values", "as", "on", "using", "over", "filter", "within", "array", "row", "cast",
        "case", "when", "then", "else", "if", "elsif", "into", "with", "distinct", "join", "by",
        "is", "between", "like", "ilike", "similar", "to", "return", "returns", "raise",
        "lateral", "interval", "varchar", "numeric", "decimal", "char", "character", "bit",
        "timestamp", "time", "float", "varying", "text", "int", "integer", "bigint", "extract",
        "position", "substring", "trim", "overlay", "coalesce", "nullif", "greatest", "least",
        "grouping", "begin", "end", "loop", "while", "for", "foreach", "notice", "exception",
        "others", "null", "true", "false", "set", "limit", "offset", "order", "group", "having",
        "union", "except", "intersect", "returning", "default", "declare",
        // Built-ins that read or compute and never create or drop relations.
        "setval", "nextval", "currval", "lastval", "set_config", "current_setting", "count",
        "sum", "min", "max", "avg", "now", "lower", "upper", "length", "char_length",
        "octet_length", "to_char", "to_date", "to_timestamp", "to_number", "date_trunc",
        "date_part", "age", "format", "concat", "concat_ws", "md5", "random", "gen_random_uuid",
        "uuid_generate_v4", "generate_series", "unnest", "array_agg", "string_agg", "json_agg",
        "jsonb_agg", "json_build_object", "jsonb_build_object", "to_json", "to_jsonb",
        "row_number", "abs", "round", "floor", "ceil", "ceiling", "lpad", "rpad", "replace",
        "split_part", "regexp_replace", "left", "right", "strpos", "quote_ident",
        "quote_literal", "array_length", "cardinality", "pg_sleep", "pg_notify",
        "pg_advisory_lock", "pg_advisory_xact_lock", "pg_advisory_unlock",
        "pg_advisory_unlock_all", "pg_try_advisory_lock", "pg_try_advisory_xact_lock",
        "pg_stat_force_next_flush", "pg_size_pretty", "pg_relation_size",
        "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_get_indexdef",
        "pg_get_constraintdef", "pg_get_expr", "to_regclass", "version", "txid_current",
        "pg_current_xact_id", "current_database", "current_schema", "current_schemas",
        "has_table_privilege", "obj_description", "col_description", "bool_and", "bool_or",
        "every", "coalesce",
    ];
    const DYNAMIC: &[&str] = &["execute", "perform", "call"];
    let mut previous: Option<&str> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| c.is_alphanumeric() || c == '_' || c == '(')
            .unwrap_or(rest.len());
        let gap = rest.get(..start).unwrap_or_default();
        rest = rest.get(start..).unwrap_or_default();
        if let Some(after) = rest.strip_prefix('(') {
            if let Some(word) = previous.filter(|_| gap.trim().is_empty()) {
                let word = word.to_lowercase();
                if !HARMLESS.contains(&word.as_str()) {
                    return true;
                }
            }
            previous = None;
            rest = after;
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        let word = rest.get(..end).unwrap_or_default();
        if DYNAMIC.iter().any(|d| word.eq_ignore_ascii_case(d)) {
            return true;
        }
        previous = (!word.is_empty()).then_some(word);
        rest = rest.get(end..).unwrap_or_default();
    }
    false
}

/// A type as PostgreSQL's `format_type` prints it, from the way a migration writes it:
/// `varchar(255)` → `character varying(255)`, `int4` → `integer`, `timestamptz` →
/// `timestamp with time zone`, `numeric(10, 2)` → `numeric(10,2)`, `serial` → `integer`.
/// Types it does not know are returned lower-cased and single-spaced.
pub fn canonical_type(written: &str) -> String {
    let mut t = written
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut dims = 0;
    loop {
        let trimmed = t.trim_end();
        if let Some(base) = trimmed.strip_suffix("[]") {
            t = base.trim_end().to_string();
            dims += 1;
        } else if let Some(base) = trimmed.strip_suffix(']').and_then(|b| b.rsplit_once('[')) {
            t = base.0.trim_end().to_string();
            dims += 1;
        } else {
            break;
        }
    }
    // The modifier may sit in the middle: `timestamp(3) with time zone`.
    let (name, modifier) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => {
            let modifier: String = t
                .get(open + 1..close)
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let name = format!(
                "{} {}",
                t.get(..open).unwrap_or_default().trim(),
                t.get(close + 1..).unwrap_or_default().trim()
            );
            (name.trim().to_string(), Some(modifier))
        }
        _ => (t.clone(), None),
    };
    let with_mod = |base: &str, default: Option<&str>| match modifier.as_deref().or(default) {
        Some(m) => format!("{base}({m})"),
        None => base.to_string(),
    };
    let time_like = |base: &str, zone: &str| match &modifier {
        Some(m) => format!("{base}({m}) {zone}"),
        None => format!("{base} {zone}"),
    };
    let base = match name.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => "integer".to_string(),
        "bigint" | "int8" | "bigserial" | "serial8" => "bigint".to_string(),
        "smallint" | "int2" | "smallserial" | "serial2" => "smallint".to_string(),
        "varchar" | "character varying" | "char varying" => with_mod("character varying", None),
        "char" | "character" => with_mod("character", Some("1")),
        "bpchar" => with_mod("bpchar", None),
        "bool" | "boolean" => "boolean".to_string(),
        "float8" | "double precision" => "double precision".to_string(),
        "float4" | "real" => "real".to_string(),
        "float" => match modifier.as_deref().and_then(|m| m.parse::<u32>().ok()) {
            Some(p) if p <= 24 => "real".to_string(),
            _ => "double precision".to_string(),
        },
        "decimal" | "numeric" | "dec" => match modifier.as_deref() {
            Some(m) if !m.contains(',') => format!("numeric({m},0)"),
            _ => with_mod("numeric", None),
        },
        "timestamp" | "timestamp without time zone" => time_like("timestamp", "without time zone"),
        "timestamptz" | "timestamp with time zone" => time_like("timestamp", "with time zone"),
        "time" | "time without time zone" => time_like("time", "without time zone"),
        "timetz" | "time with time zone" => time_like("time", "with time zone"),
        "varbit" | "bit varying" => with_mod("bit varying", None),
        "bit" => with_mod("bit", Some("1")),
        other => with_mod(other, None),
    };
    format!("{base}{}", "[]".repeat(dims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::ConstraintType as CT;
    use crate::rules::test_support::{constraint, index, qualified, replay_drift, snapshot, table};

    /// customers(id PK, email) with 1,000 rows; orders(id PK, customer_id FK, status,
    /// note) with 50,000 rows and an index on status.
    fn shop() -> CatalogSnapshot {
        let mut orders_status = index("orders_status_idx", "orders", &["status"]);
        orders_status.scans = Some(1234);
        snapshot(
            vec![
                table("customers", 1_000, &[("id", "bigint"), ("email", "text")]),
                table(
                    "orders",
                    50_000,
                    &[
                        ("id", "bigint"),
                        ("customer_id", "bigint"),
                        ("status", "character varying(20)"),
                        ("note", "text"),
                    ],
                ),
            ],
            vec![
                index("customers_pkey", "customers", &["id"]),
                index("orders_pkey", "orders", &["id"]),
                orders_status,
            ],
            vec![
                constraint("customers", "customers_pkey", CT::PrimaryKey, &["id"], None),
                constraint("orders", "orders_pkey", CT::PrimaryKey, &["id"], None),
                constraint(
                    "orders",
                    "orders_customer_id_fkey",
                    CT::ForeignKey,
                    &["customer_id"],
                    Some(("customers", &["id"])),
                ),
            ],
        )
    }

    fn q(name: &str) -> QualifiedName {
        match name.split_once('.') {
            Some((s, n)) => QualifiedName::new(Some(s), n),
            None => QualifiedName::new(None, name),
        }
    }

    /// The drift messages of each statement.
    fn drift_of(sql: &str) -> Vec<Vec<String>> {
        replay_drift(shop(), sql)
            .0
            .into_iter()
            .map(|d| d.into_iter().map(|d| d.message).collect())
            .collect()
    }

    /// All drift messages of a migration, flattened.
    fn all_drift(sql: &str) -> Vec<String> {
        drift_of(sql).into_iter().flatten().collect()
    }

    #[test]
    fn reads_the_snapshot_through_the_search_path() {
        let schema = Schema::new(shop());
        assert_eq!(schema.table(&q("orders")).map(|t| t.rows), Some(50_000));
        assert_eq!(
            schema.table(&q("public.orders")).map(|t| t.rows),
            Some(50_000)
        );
        assert!(schema.table(&q("app.orders")).is_none());
        assert!(!schema.table_is_new(&q("orders")));
        assert_eq!(
            schema.index(&q("orders_status_idx")).and_then(|i| i.scans),
            Some(1234)
        );
        let names: Vec<&str> = schema
            .indexes_on(&q("orders"))
            .map(|i| i.name.name.as_str())
            .collect();
        assert_eq!(names, vec!["orders_pkey", "orders_status_idx"]);
        assert_eq!(
            schema.foreign_keys_referencing(&q("customers"))[0].name,
            "orders_customer_id_fkey"
        );
        assert_eq!(
            schema.fk_covered(&q("orders"), &["customer_id".into()]),
            Some(false)
        );
        assert_eq!(schema.fk_covered(&q("orders"), &["id".into()]), Some(true));
    }

    #[test]
    fn created_tables_are_new_and_empty_with_the_names_postgres_generates() {
        let (drift, schema) = replay_drift(
            shop(),
            "CREATE TABLE invoices (id bigint PRIMARY KEY, number text UNIQUE, \
                 customer_id bigint REFERENCES customers (id), total numeric(10, 2) NOT NULL);\n\
             CREATE INDEX ON invoices (customer_id);\n\
             CREATE INDEX ON invoices (customer_id);\n\
             CREATE INDEX ON invoices (lower(number));",
        );
        assert!(drift.iter().all(Vec::is_empty), "{drift:?}");
        let invoices = q("invoices");
        assert!(schema.table_is_new(&invoices));
        let t = schema.table(&invoices).unwrap();
        assert_eq!((t.rows, t.bytes()), (0, 0));
        assert_eq!(t.name, qualified("invoices"));
        assert_eq!(
            schema
                .column(&invoices, "total")
                .map(|c| c.data_type.as_str()),
            Some("numeric(10,2)")
        );
        assert!(schema.column(&invoices, "id").unwrap().not_null);
        let names: Vec<&str> = schema
            .indexes_on(&invoices)
            .map(|i| i.name.name.as_str())
            .collect();
        assert_eq!(
            names,
            vec![
                "invoices_pkey",
                "invoices_number_key",
                "invoices_customer_id_idx",
                "invoices_customer_id_idx1",
                "invoices_lower_idx"
            ]
        );
        assert!(schema.index_is_new(&q("invoices_pkey")));
        assert_eq!(schema.index(&q("invoices_pkey")).unwrap().scans, Some(0));
        let constraints: Vec<&str> = schema
            .constraints_on(&invoices)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            constraints,
            vec![
                "invoices_pkey",
                "invoices_number_key",
                "invoices_customer_id_fkey"
            ]
        );
        assert_eq!(schema.foreign_keys_referencing(&q("customers")).len(), 2);
        // The original snapshot is untouched.
        assert!(schema.snapshot().table(&invoices).is_none());
    }

    #[test]
    fn generated_names_are_truncated_like_postgres() {
        let long_table = "a".repeat(40);
        let long_column = "b".repeat(40);
        let name = make_object_name(&long_table, Some(&long_column), "idx");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_idx", "a".repeat(29), "b".repeat(29)));
        assert_eq!(make_object_name("orders", None, "pkey"), "orders_pkey");
        let (names, certain) = index_column_names(&[
            IndexKey::Expression("lower(email)".into()),
            IndexKey::Expression("lower(name)".into()),
        ]);
        assert_eq!(
            (names, certain),
            (vec!["lower".into(), "lower1".into()], true)
        );
        let (names, certain) = index_column_names(&[IndexKey::Expression("a + b".into())]);
        assert_eq!((names, certain), (vec!["expr".into()], false));
    }

    #[test]
    fn rename_then_reference() {
        assert!(all_drift(
            "ALTER TABLE orders RENAME TO purchases;\n\
             CREATE INDEX purchases_note_idx ON purchases (note);\n\
             ALTER TABLE purchases RENAME COLUMN note TO remark;\n\
             UPDATE purchases SET remark = 'x' WHERE remark IS NULL;\n\
             CREATE INDEX purchases_remark_idx ON purchases (remark);\n\
             ALTER INDEX orders_status_idx RENAME TO purchases_status_idx;\n\
             DROP INDEX purchases_status_idx;"
        )
        .is_empty());
        let drift = drift_of(
            "ALTER TABLE orders RENAME TO purchases;\n\
             UPDATE orders SET note = 'x';\n\
             ALTER TABLE purchases RENAME COLUMN note TO remark;\n\
             CREATE INDEX purchases_note_idx ON purchases (note);",
        );
        assert_eq!(
            drift[1],
            vec![
                "table orders does not exist at this point (it was dropped or renamed by an \
                 earlier pending statement)"
            ]
        );
        assert_eq!(
            drift[3],
            vec![
                "column public.purchases.note does not exist at this point (it was dropped or \
                 renamed by an earlier pending statement)"
            ]
        );
    }

    #[test]
    fn renames_carry_indexes_constraints_and_foreign_keys_along() {
        let (_, schema) = replay_drift(
            shop(),
            "ALTER TABLE customers RENAME TO clients;\n\
             ALTER TABLE clients RENAME COLUMN id TO client_id;\n\
             ALTER TABLE orders RENAME CONSTRAINT orders_pkey TO orders_pk;",
        );
        let fk = &schema.foreign_keys_referencing(&q("clients"))[0];
        let r = fk.references.as_ref().unwrap();
        assert_eq!(
            (r.table.name.as_str(), r.columns.clone()),
            ("clients", vec!["client_id".to_string()])
        );
        assert_eq!(
            schema.index(&q("customers_pkey")).map(|i| i.keys.clone()),
            Some(vec![IndexKey::Column("client_id".into())])
        );
        assert_eq!(
            schema.index(&q("customers_pkey")).unwrap().table,
            qualified("clients")
        );
        assert!(schema.index(&q("orders_pkey")).is_none());
        assert!(schema.index(&q("orders_pk")).is_some());
        assert_eq!(
            schema
                .constraint(&q("orders"), "orders_pk")
                .unwrap()
                .index
                .as_deref(),
            Some("orders_pk")
        );
    }

    #[test]
    fn drop_then_recreate() {
        let (drift, schema) = replay_drift(
            shop(),
            "DROP INDEX orders_status_idx;\n\
             CREATE INDEX orders_status_idx ON orders (status);\n\
             DROP TABLE orders;\n\
             CREATE TABLE orders (id bigint);\n\
             ALTER TABLE orders ADD COLUMN status text;",
        );
        assert!(drift.iter().all(Vec::is_empty), "{drift:?}");
        assert!(schema.table_is_new(&q("orders")));
        assert_eq!(schema.indexes_on(&q("orders")).count(), 0);
        assert!(schema.foreign_keys_referencing(&q("customers")).is_empty());
    }

    #[test]
    fn drop_column_takes_its_indexes_and_constraints() {
        let (_, schema) = replay_drift(
            shop(),
            "ALTER TABLE orders DROP COLUMN status, DROP COLUMN customer_id;\n\
             ALTER TABLE customers DROP COLUMN id CASCADE;",
        );
        assert!(schema.index(&q("orders_status_idx")).is_none());
        assert!(schema
            .constraint(&q("orders"), "orders_customer_id_fkey")
            .is_none());
        assert!(schema.index(&q("customers_pkey")).is_none());
        assert!(schema.column(&q("orders"), "note").is_some());
    }

    #[test]
    fn reports_missing_and_existing_objects() {
        let cases: &[(&str, &str)] = &[
            (
                "CREATE INDEX orders_region_idx ON orders (region)",
                "column public.orders.region does not exist at this point (the copy's orders has no such column)",
            ),
            (
                "CREATE INDEX orders_status_idx ON orders (status)",
                "index public.orders_status_idx already exists (in the copy); CREATE INDEX without IF NOT EXISTS fails",
            ),
            (
                "CREATE TABLE orders (id bigint)",
                "table public.orders already exists (in the copy); CREATE TABLE without IF NOT EXISTS fails",
            ),
            (
                "ALTER TABLE orders ADD COLUMN status text",
                "column status of public.orders already exists (in the copy); ADD COLUMN fails",
            ),
            (
                "ALTER TABLE orders DROP COLUMN legacy",
                "column public.orders.legacy does not exist at this point (the copy's orders has no such column)",
            ),
            (
                "ALTER TABLE orders ALTER COLUMN legacy SET NOT NULL",
                "column public.orders.legacy does not exist at this point (the copy's orders has no such column)",
            ),
            (
                "DROP INDEX orders_legacy_idx",
                "index orders_legacy_idx does not exist at this point (the copy has no such index)",
            ),
            (
                "ALTER TABLE orders DROP CONSTRAINT orders_legacy_check",
                "constraint orders_legacy_check of public.orders does not exist at this point (the copy's orders has no such constraint)",
            ),
            (
                "ALTER TABLE orders VALIDATE CONSTRAINT orders_legacy_fkey",
                "constraint orders_legacy_fkey of public.orders does not exist at this point (the copy's orders has no such constraint)",
            ),
            (
                "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID",
                "constraint orders_customer_id_fkey of public.orders already exists (in the copy); ADD CONSTRAINT fails",
            ),
            (
                "ALTER TABLE orders ADD PRIMARY KEY (id)",
                "public.orders already has a primary key (orders_pkey) and a table can have only one (the copy's table has one)",
            ),
            (
                "ALTER TABLE invoices ADD COLUMN total numeric",
                "table invoices does not exist at this point (the copy has no such table)",
            ),
            (
                "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES clients (id) NOT VALID",
                "table clients does not exist at this point (the copy has no such table)",
            ),
            (
                "ALTER TABLE orders ADD COLUMN client_id bigint REFERENCES customers (client_id)",
                "column public.customers.client_id does not exist at this point (the copy's customers has no such column)",
            ),
            (
                "DELETE FROM order_items WHERE order_id = 1",
                "table order_items does not exist at this point (the copy has no such table)",
            ),
            (
                "ALTER TABLE orders RENAME COLUMN note TO status",
                "column status of public.orders already exists (in the copy); RENAME COLUMN fails",
            ),
            (
                "ALTER INDEX orders_status_idx RENAME TO orders_pkey",
                "index public.orders_pkey already exists (in the copy); ALTER INDEX ... RENAME without IF NOT EXISTS fails",
            ),
            (
                "ALTER TABLE orders RENAME TO customers",
                "table public.customers already exists (in the copy); RENAME TO without IF NOT EXISTS fails",
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(all_drift(sql), vec![expected.to_string()], "{sql}");
        }
    }

    #[test]
    fn guarded_and_consistent_statements_have_no_drift() {
        for sql in [
            "CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status)",
            "CREATE TABLE IF NOT EXISTS orders (id bigint)",
            "ALTER TABLE orders ADD COLUMN IF NOT EXISTS status text",
            "ALTER TABLE orders DROP COLUMN IF EXISTS legacy",
            "ALTER TABLE IF EXISTS invoices ADD COLUMN total numeric",
            "DROP INDEX IF EXISTS orders_legacy_idx",
            "DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx",
            "DROP TABLE IF EXISTS invoices",
            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_legacy_check",
            "ALTER INDEX IF EXISTS orders_legacy_idx RENAME TO orders_old_idx",
            "ALTER TABLE orders ADD COLUMN region text, ADD CONSTRAINT region_len CHECK (length(region) < 9)",
            "ALTER TABLE orders DROP COLUMN status, ADD COLUMN status text",
            "ALTER TABLE orders ADD COLUMN parent_id bigint REFERENCES orders (id)",
            "CREATE TABLE nodes (id bigint PRIMARY KEY, parent_id bigint REFERENCES nodes (id))",
            "CREATE INDEX orders_lower_note_idx ON orders (lower(note))",
            "SELECT xmin FROM orders",
            "ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, customer_id)",
            "UPDATE pg_catalog.pg_class SET relname = relname WHERE false",
            "INSERT INTO audit.events VALUES (1)",
            "ALTER TABLE orders ALTER COLUMN status TYPE text",
        ] {
            assert_eq!(all_drift(sql), Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn names_postgres_generates_can_be_dropped_later() {
        assert!(all_drift(
            "CREATE TABLE t (id bigint PRIMARY KEY, email text UNIQUE, c bigint REFERENCES customers);\n\
             ALTER TABLE orders ADD UNIQUE (note);\n\
             CREATE INDEX ON orders (customer_id);\n\
             ALTER TABLE t DROP CONSTRAINT t_pkey, DROP CONSTRAINT t_email_key, DROP CONSTRAINT t_c_fkey;\n\
             ALTER TABLE orders DROP CONSTRAINT orders_note_key;\n\
             DROP INDEX orders_customer_id_idx;"
        )
        .is_empty());
        // A CHECK's generated name depends on the columns its expression uses: guessed, so a
        // later drop by any orders_ name is not judged.
        assert!(all_drift(
            "ALTER TABLE orders ADD CHECK (status <> '' AND note <> '');\n\
             ALTER TABLE orders DROP CONSTRAINT orders_check;"
        )
        .is_empty());
    }

    #[test]
    fn each_object_drifts_once() {
        let drift = drift_of(
            "ALTER TABLE orders ADD COLUMN status text;\n\
             ALTER TABLE orders ALTER COLUMN region SET NOT NULL;\n\
             CREATE INDEX orders_region_idx ON orders (region);\n\
             ALTER TABLE orders ALTER COLUMN status SET NOT NULL;",
        );
        assert_eq!(
            drift.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1, 1, 0, 0]
        );
    }

    #[test]
    fn opaque_code_stops_judging() {
        for opaque in [
            "DO $$ BEGIN EXECUTE format('CREATE TABLE %I (id int)', 'invoices'); END $$",
            "SELECT create_hypertable('orders', 'created_at')",
            "SELECT partman.create_parent('public.orders', 'created_at')",
            "CREATE EXTENSION IF NOT EXISTS postgis",
            "CALL make_tables()",
        ] {
            let sql =
                format!("{opaque};\nALTER TABLE invoices ADD COLUMN x int;\nDROP INDEX nope_idx");
            assert_eq!(all_drift(&sql), Vec::<String>::new(), "{opaque}");
        }
        // Harmless selects and guard blocks keep the replay judging, except for what they name.
        let drift = all_drift(
            "SELECT setval('orders_id_seq', (SELECT max(id) FROM orders));\n\
             DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'invoices') THEN \
                 RAISE NOTICE 'missing'; END IF; END $$;\n\
             ALTER TABLE invoices ADD COLUMN x int;\n\
             DROP INDEX nope_idx;",
        );
        assert_eq!(
            drift,
            vec!["index nope_idx does not exist at this point (the copy has no such index)"]
        );
    }

    #[test]
    fn half_understood_statements_leave_what_they_name_alone() {
        assert!(all_drift(
            "ALTER VIEW order_totals RENAME TO invoices;\n\
             CREATE FOREIGN TABLE remote_orders (id bigint) SERVER other;\n\
             INSERT INTO remote_orders VALUES (1);\n\
             SELECT * INTO archive FROM orders;\n\
             CREATE TABLE copy (LIKE orders INCLUDING ALL);\n\
             CREATE INDEX ON copy (whatever);\n\
             ALTER TABLE copy DROP CONSTRAINT copy_pkey;\n\
             CREATE TABLE summary AS SELECT status, count(*) FROM orders GROUP BY status;\n\
             CREATE INDEX ON summary (count);"
        )
        .is_empty());
    }

    #[test]
    fn a_changed_search_path_stops_judging_unqualified_names() {
        let drift = all_drift(
            "SET search_path = app, public;\n\
             ALTER TABLE invoices ADD COLUMN total numeric;\n\
             ALTER TABLE public.invoices ADD COLUMN total numeric;",
        );
        assert_eq!(
            drift,
            vec!["table public.invoices does not exist at this point (the copy has no such table)"]
        );
    }

    #[test]
    fn views_sequences_temp_tables_and_unknown_schemas_are_not_missing() {
        let mut snap = shop();
        snap.views.push(crate::evidence::catalog::View {
            name: qualified("order_totals"),
            materialized: false,
            rows: 0,
            bytes: 0,
        });
        snap.sequences.push(crate::evidence::catalog::Sequence {
            name: qualified("orders_id_seq"),
            data_type: "bigint".into(),
            last_value: None,
            max_value: i64::MAX,
            increment: 1,
            owned_by: None,
        });
        let snap = CatalogSnapshot::from_parts(
            snap.server,
            snap.search_path,
            snap.tables,
            snap.indexes,
            snap.constraints,
            snap.sequences,
            snap.views,
        );
        let (drift, _) = replay_drift(
            snap,
            "INSERT INTO order_totals VALUES (1);\n\
             ALTER TABLE orders_id_seq RENAME TO orders_seq;\n\
             CREATE TEMP TABLE scratch (id int);\n\
             CREATE INDEX ON scratch (id);\n\
             INSERT INTO scratch SELECT id FROM orders;\n\
             CREATE VIEW recent AS SELECT * FROM orders;\n\
             UPDATE recent SET note = '';\n\
             CREATE SCHEMA billing;\n\
             CREATE TABLE billing.invoices (id int);\n\
             ALTER TABLE billing.invoices ADD COLUMN total numeric;",
        );
        assert!(drift.iter().all(Vec::is_empty), "{drift:?}");
    }

    #[test]
    fn partitions_inherit_their_parents_columns() {
        let (drift, schema) = replay_drift(
            shop(),
            "CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);\n\
             CREATE INDEX events_at_idx ON events (at);\n\
             CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
             CREATE INDEX events_2024_id_idx ON events_2024 (id);\n\
             ALTER INDEX events_2024_at_idx SET (fillfactor = 90);",
        );
        assert!(drift.iter().all(Vec::is_empty), "{drift:?}");
        let events = schema.table(&q("events")).unwrap();
        assert_eq!(events.kind, TableKind::Partitioned);
        assert_eq!(
            schema
                .column(&q("events_2024"), "at")
                .map(|c| c.data_type.as_str()),
            Some("timestamp with time zone")
        );
        assert_eq!(schema.indexes_on(&q("events_2024")).count(), 2);
    }

    #[test]
    fn not_null_constraints_of_postgres_18_are_not_judged() {
        let mut snap = shop();
        snap.server.version_num = 180_000;
        if let Some(c) = snap.tables[1].columns.get_mut(2) {
            c.not_null = true;
        }
        let (drift, _) = replay_drift(
            snap,
            "ALTER TABLE orders DROP CONSTRAINT orders_status_not_null;",
        );
        assert!(drift.iter().all(Vec::is_empty), "{drift:?}");
    }

    #[test]
    fn types_are_spelled_like_format_type() {
        for (written, canonical) in [
            ("varchar(255)", "character varying(255)"),
            ("character varying", "character varying"),
            ("int4", "integer"),
            ("serial", "integer"),
            ("bigserial", "bigint"),
            ("int[]", "integer[]"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("decimal(12)", "numeric(12,0)"),
            ("numeric", "numeric"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("char", "character(1)"),
            ("bool", "boolean"),
            ("float8", "double precision"),
            ("float(10)", "real"),
            ("varbit(8)", "bit varying(8)"),
            ("TEXT", "text"),
            ("character varying(20)", "character varying(20)"),
        ] {
            assert_eq!(canonical_type(written), canonical, "{written}");
        }
    }

    #[test]
    fn replay_cost_does_not_grow_with_the_catalog() {
        // 1,000 tables and 3,000 indexes, 2,000 statements: fast only if a statement touches
        // just its own objects.
        let mut tables = Vec::new();
        let mut indexes = Vec::new();
        for t in 0..1000 {
            let name = format!("t{t}");
            tables.push(table(
                &name,
                1000,
                &[("id", "bigint"), ("a", "text"), ("b", "text")],
            ));
            for (i, col) in ["id", "a", "b"].iter().enumerate() {
                indexes.push(index(&format!("t{t}_{i}_idx"), &name, &[col]));
            }
        }
        let mut sql = String::new();
        for t in 0..1000 {
            sql.push_str(&format!(
                "ALTER TABLE t{t} ADD COLUMN c int;\nCREATE INDEX t{t}_c_idx ON t{t} (c);\n"
            ));
        }
        // Speed is measured by the catalog bench, not asserted here.
        let (drift, schema) = replay_drift(snapshot(tables, indexes, Vec::new()), &sql);
        assert!(drift.iter().all(Vec::is_empty));
        assert_eq!(schema.indexes_on(&q("t999")).count(), 4);
    }

    #[test]
    fn tokens_skip_comments_and_literals() {
        let parts =
            alter_index_parts("ALTER INDEX IF EXISTS a /* rename to b */ RENAME TO \"New\"");
        assert!(parts.if_exists);
        assert_eq!(parts.rename_to.as_deref(), Some("New"));
        assert!(!calls_unknown_code("SELECT 1"));
        assert!(!calls_unknown_code("SELECT set_config('a', 'b', false)"));
        assert!(calls_unknown_code("SELECT my_fn()"));
        assert!(calls_unknown_code("DO $$ BEGIN PERFORM x; END $$"));
        assert_eq!(
            on_delete("... REFERENCES c (id) ON DELETE CASCADE"),
            "cascade"
        );
        assert_eq!(on_delete("... ON DELETE SET NULL"), "set null");
    }
}
