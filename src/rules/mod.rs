//! The rule catalog: one file per rule, registered in the sorted `RULES` slice.
//!
//! A rule is a record (code, name, default severity, evidence it needs, four text slots,
//! bad and good example) plus a pure check. Checks never do I/O, never panic and never
//! return `Result`: missing evidence gives a weaker message, not an error.

use crate::config::Settings;
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ConstraintKind, Evidence, Facts, ParsedMigration, Position, QualifiedName,
    Severity, Statement, StatementKind, Transaction,
};
use crate::plan::PlanOutcome;
use crate::schema::Schema;

mod add_check_validating;
mod add_column_required;
mod add_column_volatile_default;
mod add_domain_constraint;
mod add_exclusion_constraint;
mod add_foreign_key_validating;
mod add_stored_generated_or_serial_column;
mod add_unique_constraint;
mod char_column;
mod column_type_change;
mod concurrently_in_transaction;
mod copy_differs_from_production;
mod copy_size_differs_from_production;
mod create_index_non_concurrently;
mod delete_without_where;
mod dependent_objects_block_change;
mod detach_partition_non_concurrently;
mod dml_touches_many_rows;
mod domain_with_constraint;
mod drop_column;
mod drop_constraint;
mod drop_database;
mod drop_default;
mod drop_extension;
mod drop_function;
mod drop_generated_expression;
mod drop_index_in_use;
mod drop_index_non_concurrently;
mod drop_not_null;
mod drop_schema;
mod drop_sequence;
mod drop_table;
mod drop_trigger;
mod drop_type;
mod drop_view;
mod dropped_object;
mod duplicate_index;
mod dynamic_sql;
mod expectation_not_met;
mod fails_on_copy;
mod foreign_key_without_index;
mod identifier_too_long;
mod identity_change;
mod instead;
mod int_primary_key;
mod invalid_syntax;
mod json_column;
mod lock_held_too_long;
mod lock_table;
mod lock_without_timeout;
mod malformed_migration;
mod missing_expected_result;
mod missing_owner;
mod missing_rollback;
mod not_executed_on_copy;
mod plan_regression;
mod primary_key_sets_not_null;
mod refresh_materialized_view_non_concurrently;
mod reindex_non_concurrently;
mod rename_column;
mod rename_object;
mod rename_table;
mod rollback_does_not_restore;
mod rollback_fails;
mod schema_drift;
mod seq_scan_on_large_table;
mod server_differs_from_production;
mod set_logged_or_tablespace;
mod set_not_null;
mod set_schema;
mod statements_after_exclusive_lock;
mod suppression_without_reason;
mod table_rewrite;
mod times_out_on_copy;
mod timestamp_without_time_zone;
mod transaction_nesting;
mod truncate_table;
mod uncommitted_transaction;
mod unparsed_statement;
mod unused_suppression;
mod update_without_where;
mod vacuum_full_or_cluster;
mod validate_in_same_transaction;
pub mod volatility;

#[cfg(test)]
pub(crate) mod test_support;

/// How a rule is checked.
#[derive(Clone, Copy)]
pub enum Check {
    /// Called once per statement of a migration's up part.
    Statement(fn(&Context, &Statement) -> Option<Risk>),
    /// Called once per migration (metadata rules).
    Migration(fn(&MigrationContext) -> Option<Risk>),
    /// Produced by the review engine itself (suppression bookkeeping, loader problems).
    Engine,
}

/// One rule of the catalog.
pub struct Rule {
    /// Permanent code, `M` + three digits; never reused.
    pub code: &'static str,
    /// kebab-case name that reads as "allow <name>".
    pub name: &'static str,
    pub severity: Severity,
    /// The least evidence the rule needs; with less it is listed as skipped.
    pub evidence: Evidence,
    /// What it flags.
    pub what: &'static str,
    /// Why that is risky.
    pub why: &'static str,
    /// The safer alternative.
    pub instead: &'static str,
    /// How to roll back the flagged change.
    pub rollback: &'static str,
    /// A migration that triggers exactly this rule (fixtures/rules/<name>/bad.sql).
    pub bad: &'static str,
    /// Its safe counterpart, which triggers nothing (fixtures/rules/<name>/good.sql).
    pub good: &'static str,
    pub check: Check,
}

/// What a check found; the engine adds location, owner and the rule's texts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Risk {
    pub message: String,
    pub table: Option<QualifiedName>,
    pub facts: Facts,
    /// Overrides the rule's default severity (e.g. size-aware severity).
    pub severity: Option<Severity>,
    /// For migration-level risks: where to point (default: line 1).
    pub position: Option<Position>,
    /// The rule's *instead* written with this statement's own names (issue #12); `None`
    /// keeps the rule's generic text.
    pub instead: Option<String>,
}

impl Risk {
    pub fn new(message: impl Into<String>) -> Self {
        Risk {
            message: message.into(),
            ..Risk::default()
        }
    }

    pub fn on_table(mut self, table: &QualifiedName) -> Self {
        self.table = Some(table.clone());
        self
    }

    pub fn with_lock(mut self, mode: LockMode) -> Self {
        self.facts.lock = Some(mode.pg_name().to_string());
        self.facts.blocks = Some(mode.blocks().to_string());
        self
    }

    /// The safe version written with the statement's own table, column and index names.
    pub fn with_instead(mut self, instead: String) -> Self {
        self.instead = Some(instead);
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// What a migration-level check sees.
pub struct MigrationContext<'a> {
    pub migration: &'a ParsedMigration,
    pub settings: &'a Settings,
}

/// What the statements before the current one did, within the same migration.
///
/// Built incrementally by the engine (`MigrationState::apply`) so that checks stay O(1) per
/// statement even on huge files.
#[derive(Debug, Default, Clone)]
pub struct MigrationState {
    /// Tables created earlier in this migration: new and empty, so lock and rewrite rules
    /// do not apply to them.
    pub created_tables: Vec<QualifiedName>,
    /// `SET lock_timeout` (or `SET LOCAL`) ran earlier in this migration.
    pub lock_timeout_set: bool,
    /// An explicit `BEGIN` is open.
    pub explicit_transaction: bool,
    /// Earlier statement (index, table) in the still-open transaction that took an ACCESS
    /// EXCLUSIVE lock on an existing table.
    pub exclusive_lock: Option<(usize, QualifiedName)>,
    /// (table, column) pairs guaranteed by a validated `CHECK (col IS NOT NULL)`.
    pub not_null_checks: Vec<(QualifiedName, String)>,
    /// Constraints added `NOT VALID` earlier in this migration.
    pub not_valid_constraints: Vec<NotValidConstraint>,
    /// Columns added to existing tables earlier in this migration, under their current name
    /// (a rename of a new column keeps it new; a rename of an old one does not make it new).
    pub new_columns: Vec<(QualifiedName, String)>,
    /// Columns of existing tables renamed earlier in this migration, so that later findings
    /// on the new name say where the column came from.
    pub renamed_columns: Vec<RenamedColumn>,
    /// Functions and procedures this migration created, latest last.
    pub functions: Vec<DefinedFunction>,
    /// Views, sequences, indexes, types, routines, schemas and triggers created earlier in this
    /// migration, under their current name (a rename keeps them new).
    pub new_objects: Vec<NewObject>,
    /// Existing objects (and members of them: constraints, enum values...) renamed earlier in
    /// this migration, so that a later drop or rename of the new name says where it came from.
    pub renamed_objects: Vec<RenamedObject>,
    /// Named constraints added to existing tables earlier in this migration (current name).
    pub new_constraints: Vec<(QualifiedName, String)>,
}

/// An object created earlier in this migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// See [`object_class`].
    pub class: &'static str,
    /// The table of a trigger.
    pub scope: Option<QualifiedName>,
    pub name: QualifiedName,
}

/// An existing object, or a member of one, renamed earlier in this migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenamedObject {
    /// See [`object_class`]; members keep their own words (`constraint`, `enum value`).
    pub class: String,
    /// For a member or trigger: the object it belongs to (the table, the enum type).
    pub scope: Option<QualifiedName>,
    /// The name before this migration (the first rename of a chain).
    pub old: QualifiedName,
    pub new: QualifiedName,
    /// Line of that first rename.
    pub line: usize,
}

/// The namespace an object's name lives in, as PostgreSQL shares it: a view and a materialized
/// view, a type and a domain, and functions, procedures and aggregates are looked up alike.
pub fn object_class(object: &str) -> &'static str {
    match object {
        "view" | "materialized view" => "view",
        "type" | "domain" => "type",
        "function" | "procedure" | "routine" | "aggregate" => "routine",
        "sequence" => "sequence",
        "index" => "index",
        "schema" => "schema",
        "trigger" => "trigger",
        "extension" => "extension",
        "constraint" => "constraint",
        _ => "other",
    }
}

/// For a member of an object (an enum value, a view column...), the owner's class.
pub fn member_owner_class(object: &str) -> Option<&'static str> {
    match object {
        "enum value" | "attribute" | "domain constraint" => Some("type"),
        "view column" => Some("view"),
        _ => None,
    }
}

fn scope_matches(a: Option<&QualifiedName>, b: Option<&QualifiedName>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.matches(b),
        (None, None) => true,
        _ => false,
    }
}

/// A function or procedure created earlier in this migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinedFunction {
    pub name: QualifiedName,
    /// The clause as written; `None` is PostgreSQL's default, VOLATILE.
    pub volatility: Option<crate::model::Volatility>,
    /// Line of its `CREATE FUNCTION`.
    pub line: usize,
}

/// An existing column renamed earlier in the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenamedColumn {
    pub table: QualifiedName,
    pub old: String,
    pub new: String,
    /// Line of the `RENAME COLUMN` statement.
    pub line: usize,
}

/// A constraint added with `NOT VALID`, remembered until it is validated.
#[derive(Debug, Clone)]
pub struct NotValidConstraint {
    pub table: QualifiedName,
    pub name: String,
    /// For `CHECK (col IS NOT NULL)`: the column.
    pub not_null_column: Option<String>,
    /// Added inside the transaction that is still open (cleared at COMMIT).
    pub in_open_transaction: bool,
}

impl MigrationState {
    pub fn table_is_new(&self, table: &QualifiedName) -> bool {
        self.created_tables.iter().any(|t| t.matches(table))
    }

    /// Whether `column` of `table` was added earlier in this migration (no deployed code can
    /// depend on it yet). A column of an existing table that was only renamed is not new.
    pub fn column_is_new(&self, table: &QualifiedName, column: &str) -> bool {
        self.new_columns
            .iter()
            .any(|(t, c)| t.matches(table) && c == column)
    }

    /// The rename that gave an existing column its current name, if one happened earlier.
    pub fn renamed_column(&self, table: &QualifiedName, column: &str) -> Option<&RenamedColumn> {
        self.renamed_columns
            .iter()
            .rev()
            .find(|r| r.table.matches(table) && r.new == column)
    }

    /// The latest function of that (unqualified) name created earlier in this migration.
    pub fn function(&self, name: &str) -> Option<&DefinedFunction> {
        self.functions.iter().rev().find(|f| f.name.name == name)
    }

    /// Whether `object` (`view`, `index`, `enum value`...) named `name` was created earlier in
    /// this migration, directly or under a name it was since renamed from. `scope` is the
    /// table of a trigger or constraint.
    pub fn object_is_new(
        &self,
        object: &str,
        scope: Option<&QualifiedName>,
        name: &QualifiedName,
    ) -> bool {
        let class = object_class(object);
        match class {
            "view" if self.table_is_new(name) => return true,
            "routine" if self.function(&name.name).is_some() => return true,
            "constraint" => {
                return scope
                    .is_some_and(|t| self.table_is_new(t) || self.constraint_is_new(t, &name.name))
            }
            "trigger" if scope.is_some_and(|t| self.table_is_new(t)) => return true,
            _ => {}
        }
        self.new_objects.iter().any(|o| {
            o.class == class && o.name.matches(name) && scope_matches(o.scope.as_ref(), scope)
        })
    }

    /// Whether the constraint was added to the (existing) table earlier in this migration.
    pub fn constraint_is_new(&self, table: &QualifiedName, name: &str) -> bool {
        self.new_constraints
            .iter()
            .any(|(t, c)| t.matches(table) && c == name)
    }

    /// The rename that gave an existing object (or member) its current name, if one happened
    /// earlier in this migration.
    pub fn renamed_object(
        &self,
        object: &str,
        scope: Option<&QualifiedName>,
        name: &QualifiedName,
    ) -> Option<&RenamedObject> {
        let class = match object_class(object) {
            "other" => object,
            c => c,
        };
        self.renamed_objects.iter().rev().find(|r| {
            r.class == class && r.new.matches(name) && scope_matches(r.scope.as_ref(), scope)
        })
    }

    /// `` `v_old` (renamed from `v` on line 3)`` or `` `v` ``, for messages about an object.
    pub fn describe_object(
        &self,
        object: &str,
        scope: Option<&QualifiedName>,
        name: &QualifiedName,
    ) -> String {
        match self.renamed_object(object, scope, name) {
            Some(r) => format!("`{name}` (renamed from `{}` on line {})", r.old, r.line),
            None => format!("`{name}`"),
        }
    }

    /// Records a rename of `class` from `old` to `new`: a new object stays new under its new
    /// name, an existing one is remembered with the name it had before this migration.
    fn track_rename(
        &mut self,
        object: &str,
        scope: Option<QualifiedName>,
        old: QualifiedName,
        new: QualifiedName,
        line: usize,
    ) {
        let class = match object_class(object) {
            "other" => object.to_string(),
            c => c.to_string(),
        };
        if class == "constraint" {
            if let Some(table) = &scope {
                if let Some(entry) = self
                    .new_constraints
                    .iter_mut()
                    .find(|(t, c)| t.matches(table) && *c == old.name)
                {
                    entry.1 = new.name.clone();
                    return;
                }
            }
        }
        if let Some(o) = self.new_objects.iter_mut().find(|o| {
            o.class == class
                && o.name.matches(&old)
                && scope_matches(o.scope.as_ref(), scope.as_ref())
        }) {
            o.name = new;
            return;
        }
        if class == "view" {
            if let Some(t) = self.created_tables.iter_mut().find(|t| t.matches(&old)) {
                t.name = new.name;
                return;
            }
        }
        if let Some(owner) = member_owner_class(object) {
            if scope
                .as_ref()
                .is_some_and(|s| self.object_is_new(owner, None, s))
            {
                return;
            }
        } else if self.object_is_new(&class, scope.as_ref(), &old) {
            self.new_objects.push(NewObject {
                class: object_class(&class),
                scope,
                name: new,
            });
            return;
        }
        let origin = self
            .renamed_object(&class, scope.as_ref(), &old)
            .map(|r| (r.old.clone(), r.line))
            .unwrap_or_else(|| (old.clone(), line));
        self.renamed_objects.retain(|r| {
            !(r.class == class
                && r.new.matches(&old)
                && scope_matches(r.scope.as_ref(), scope.as_ref()))
        });
        self.renamed_objects.push(RenamedObject {
            class,
            scope,
            old: origin.0,
            new,
            line: origin.1,
        });
    }

    /// Folds creations and renames of objects other than tables and columns into the state.
    fn track_objects(&mut self, stmt: &Statement) {
        use StatementKind::*;
        let line = stmt.start.line;
        let mut created =
            |class: &'static str, scope: Option<QualifiedName>, name: QualifiedName| {
                self.new_objects.push(NewObject { class, scope, name });
            };
        match &stmt.kind {
            CreateIndex { name: Some(n), .. } => created("index", None, n.clone()),
            CreateSchema { name } => created("schema", None, QualifiedName::new(None, name)),
            TableDdl {
                keywords,
                name,
                table,
            } if keywords.starts_with("create") && keywords.ends_with("trigger") => {
                created(
                    "trigger",
                    Some(table.clone()),
                    QualifiedName::new(None, name),
                );
            }
            Other { keywords } if keywords.starts_with("create ") => {
                if let Some((object, name)) = crate::parse::objects::created(&stmt.text) {
                    created(object_class(&object), None, name);
                }
            }
            AlterIndex { .. }
            | AlterType { .. }
            | AlterSequence { .. }
            | TableDdl { .. }
            | Other { .. } => {
                let Some(r) = renamed(stmt) else { return };
                if r.is_member() {
                    self.track_rename(
                        &r.object,
                        Some(r.name.clone()),
                        QualifiedName::new(None, &r.old),
                        QualifiedName::new(None, &r.new),
                        line,
                    );
                } else {
                    let new = QualifiedName {
                        schema: r.name.schema.clone(),
                        name: r.new.clone(),
                    };
                    self.track_rename(&r.object, r.table.clone(), r.name.clone(), new, line);
                }
            }
            AlterTable { name, actions, .. } => {
                let table_new = self.table_is_new(name);
                for action in actions {
                    match action {
                        AlterAction::AddConstraint(c) => {
                            if let Some(cname) = &c.name {
                                if !table_new {
                                    self.new_constraints.push((name.clone(), cname.clone()));
                                }
                                // A primary key, unique or exclusion constraint builds an index
                                // of the same name.
                                if c.using_index.is_none()
                                    && !matches!(
                                        c.kind,
                                        ConstraintKind::Check(_) | ConstraintKind::ForeignKey(_)
                                    )
                                {
                                    self.new_objects.push(NewObject {
                                        class: "index",
                                        scope: None,
                                        name: QualifiedName {
                                            schema: name.schema.clone(),
                                            name: cname.clone(),
                                        },
                                    });
                                }
                            }
                        }
                        AlterAction::RenameConstraint { old, new } if !table_new => {
                            self.track_rename(
                                "constraint",
                                Some(name.clone()),
                                QualifiedName::new(None, old),
                                QualifiedName::new(None, new),
                                line,
                            );
                        }
                        AlterAction::DropConstraint { name: cname, .. } => {
                            self.new_constraints
                                .retain(|(t, c)| !(t.matches(name) && c == cname));
                            self.renamed_objects.retain(|r| {
                                !(r.class == "constraint"
                                    && r.new.name == *cname
                                    && r.scope.as_ref().is_some_and(|t| t.matches(name)))
                            });
                        }
                        AlterAction::RenameTable { new } => {
                            let renamed = QualifiedName {
                                schema: name.schema.clone(),
                                name: new.clone(),
                            };
                            for (t, _) in &mut self.new_constraints {
                                if t.matches(name) {
                                    *t = renamed.clone();
                                }
                            }
                            for r in &mut self.renamed_objects {
                                if r.scope.as_ref().is_some_and(|t| t.matches(name)) {
                                    r.scope = Some(renamed.clone());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// `` `a_old` (renamed from `a` on line 3)`` or `` `a` ``, for messages about a column.
    pub fn describe_column(&self, table: &QualifiedName, column: &str) -> String {
        match self.renamed_column(table, column) {
            Some(r) => format!("`{column}` (renamed from `{}` on line {})", r.old, r.line),
            None => format!("`{column}`"),
        }
    }

    fn track_columns(&mut self, table: &QualifiedName, action: &AlterAction, line: usize) {
        let table_new = self.table_is_new(table);
        match action {
            AlterAction::AddColumn { column, .. } if !table_new => {
                self.new_columns.push((table.clone(), column.name.clone()));
            }
            AlterAction::DropColumn { name: col, .. } => {
                self.new_columns
                    .retain(|(t, c)| !(t.matches(table) && c == col));
                self.renamed_columns
                    .retain(|r| !(r.table.matches(table) && &r.new == col));
            }
            AlterAction::RenameColumn { old, new } => {
                if let Some(entry) = self
                    .new_columns
                    .iter_mut()
                    .find(|(t, c)| t.matches(table) && c == old)
                {
                    entry.1 = new.clone();
                } else if !table_new {
                    // An existing column under a new name: still read by deployed code under
                    // its old name, and still holding its data.
                    let origin = self
                        .renamed_column(table, old)
                        .map(|r| (r.old.clone(), r.line))
                        .unwrap_or_else(|| (old.clone(), line));
                    self.renamed_columns
                        .retain(|r| !(r.table.matches(table) && &r.new == old));
                    self.renamed_columns.push(RenamedColumn {
                        table: table.clone(),
                        old: origin.0,
                        new: new.clone(),
                        line: origin.1,
                    });
                }
            }
            AlterAction::RenameTable { new } => {
                let renamed = QualifiedName {
                    schema: table.schema.clone(),
                    name: new.clone(),
                };
                for (t, _) in &mut self.new_columns {
                    if t.matches(table) {
                        *t = renamed.clone();
                    }
                }
                for r in &mut self.renamed_columns {
                    if r.table.matches(table) {
                        r.table = renamed.clone();
                    }
                }
            }
            _ => {}
        }
    }

    /// Folds one statement's effect into the state (called after the statement's checks).
    pub fn apply(&mut self, index: usize, stmt: &Statement) {
        use StatementKind::*;
        self.track_objects(stmt);
        match &stmt.kind {
            CreateTable { name, .. } | CreateView { name, .. } => {
                self.created_tables.push(name.clone());
            }
            Set { name, .. } if name.eq_ignore_ascii_case("lock_timeout") => {
                self.lock_timeout_set = true;
            }
            CreateFunction {
                name, volatility, ..
            } => self.functions.push(DefinedFunction {
                name: name.clone(),
                volatility: *volatility,
                line: stmt.start.line,
            }),
            Begin => self.explicit_transaction = true,
            Commit | Rollback => {
                self.explicit_transaction = false;
                self.exclusive_lock = None;
                for c in &mut self.not_valid_constraints {
                    c.in_open_transaction = false;
                }
            }
            AlterTable { name, actions, .. } => {
                for action in actions {
                    self.track_columns(name, action, stmt.start.line);
                    match action {
                        AlterAction::AddConstraint(c) if c.not_valid => {
                            if let Some(cname) = &c.name {
                                self.not_valid_constraints.push(NotValidConstraint {
                                    table: name.clone(),
                                    name: cname.clone(),
                                    not_null_column: c.not_null_column(),
                                    in_open_transaction: stmt.in_transaction,
                                });
                            }
                        }
                        AlterAction::AddConstraint(c) => {
                            if let Some(col) = c.not_null_column() {
                                self.not_null_checks.push((name.clone(), col));
                            }
                        }
                        AlterAction::ValidateConstraint { name: cname } => {
                            let col = self
                                .not_valid_constraints
                                .iter()
                                .find(|c| c.table.matches(name) && &c.name == cname)
                                .and_then(|c| c.not_null_column.clone());
                            if let Some(col) = col {
                                self.not_null_checks.push((name.clone(), col));
                            }
                        }
                        AlterAction::RenameTable { new } => {
                            if let Some(t) =
                                self.created_tables.iter_mut().find(|t| t.matches(name))
                            {
                                t.name = new.clone();
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if stmt.in_transaction && self.exclusive_lock.is_none() {
            if let Some(lock) = crate::locks::strongest_lock(&stmt.kind) {
                if lock.mode == LockMode::AccessExclusive && !self.table_is_new(&lock.table) {
                    self.exclusive_lock = Some((index, lock.table));
                }
            }
        }
        if !stmt.in_transaction {
            self.exclusive_lock = None;
        }
    }
}

/// The rename a statement makes of an object other than a table or a table's column (see
/// [`crate::model::Rename`]); only statements whose kind can hold one are read.
pub fn renamed(stmt: &Statement) -> Option<crate::model::Rename> {
    use StatementKind::*;
    let candidate = match &stmt.kind {
        AlterIndex { action, .. } => action.starts_with("rename"),
        AlterType { action, .. } => action.starts_with("rename"),
        AlterSequence { .. } => true,
        TableDdl { keywords, .. } => keywords == "alter trigger",
        Other { keywords } => keywords.starts_with("alter "),
        _ => false,
    };
    if !candidate {
        return None;
    }
    crate::parse::objects::rename(&stmt.text)
}

/// What a statement check sees: the migration, the statement's position in it, the state
/// left by the statements before it, and the settings.
pub struct Context<'a> {
    pub migration: &'a ParsedMigration,
    /// Index of the statement in `migration.statements`.
    pub index: usize,
    pub state: &'a MigrationState,
    pub settings: &'a Settings,
    /// The copy's schema as the statements before this one (in this and earlier pending
    /// migrations) left it; `None` at static level.
    pub schema: Option<&'a Schema>,
    /// Plain EXPLAIN of this statement on the copy; `None` when not a candidate or static.
    pub plan: Option<&'a PlanOutcome>,
}

/// What a finding says when it rests on not knowing the runner (a plain file, issue #10): the
/// assumption, and how to replace it with a declaration.
pub const UNKNOWN_RUNNER: &str = "migsafe does not know this project's runner and assumed psql \
    (each statement on its own); declare it in migsafe.toml ([[runner]] path = \"…\" \
    transaction = \"file\", \"implicit\" or \"statement\") or with --transaction";

impl Context<'_> {
    /// How the runner sends the part being reviewed (the up part, or the down part when the
    /// rollback is reviewed).
    pub fn transaction(&self) -> Transaction {
        self.migration.migration.up.transaction
    }

    /// Whether nobody said how the part is run (see [`UNKNOWN_RUNNER`]).
    pub fn runner_unknown(&self) -> bool {
        self.transaction() == Transaction::Unknown
    }

    /// Statements after the current one.
    pub fn later(&self) -> &[Statement] {
        &self.migration.statements[self.index + 1..]
    }

    /// Statements before the current one.
    pub fn earlier(&self) -> &[Statement] {
        &self.migration.statements[..self.index]
    }

    /// Whether the table was created earlier in this migration (new and empty).
    pub fn table_is_new(&self, table: &QualifiedName) -> bool {
        self.state.table_is_new(table)
    }
}

/// The catalog, sorted by code. `registry_is_sorted_and_unique` guards the order.
pub const RULES: &[&Rule] = &[
    &create_index_non_concurrently::RULE,
    &drop_index_non_concurrently::RULE,
    &reindex_non_concurrently::RULE,
    &concurrently_in_transaction::RULE,
    &add_foreign_key_validating::RULE,
    &add_check_validating::RULE,
    &set_not_null::RULE,
    &add_column_volatile_default::RULE,
    &add_column_required::RULE,
    &column_type_change::RULE,
    &add_unique_constraint::RULE,
    &add_exclusion_constraint::RULE,
    &add_stored_generated_or_serial_column::RULE,
    &vacuum_full_or_cluster::RULE,
    &refresh_materialized_view_non_concurrently::RULE,
    &detach_partition_non_concurrently::RULE,
    &lock_without_timeout::RULE,
    &statements_after_exclusive_lock::RULE,
    &lock_table::RULE,
    &rename_column::RULE,
    &rename_table::RULE,
    &drop_column::RULE,
    &drop_table::RULE,
    &drop_database::RULE,
    &drop_schema::RULE,
    &truncate_table::RULE,
    &drop_not_null::RULE,
    &update_without_where::RULE,
    &delete_without_where::RULE,
    &int_primary_key::RULE,
    &timestamp_without_time_zone::RULE,
    &char_column::RULE,
    &json_column::RULE,
    &transaction_nesting::RULE,
    &uncommitted_transaction::RULE,
    &validate_in_same_transaction::RULE,
    &set_logged_or_tablespace::RULE,
    &missing_owner::RULE,
    &missing_expected_result::RULE,
    &missing_rollback::RULE,
    &unparsed_statement::RULE,
    &unused_suppression::RULE,
    &suppression_without_reason::RULE,
    &malformed_migration::RULE,
    &duplicate_index::RULE,
    &foreign_key_without_index::RULE,
    &drop_index_in_use::RULE,
    &schema_drift::RULE,
    &seq_scan_on_large_table::RULE,
    &dml_touches_many_rows::RULE,
    &fails_on_copy::RULE,
    &lock_held_too_long::RULE,
    &table_rewrite::RULE,
    &expectation_not_met::RULE,
    &plan_regression::RULE,
    &rollback_does_not_restore::RULE,
    &rollback_fails::RULE,
    &not_executed_on_copy::RULE,
    &times_out_on_copy::RULE,
    &dependent_objects_block_change::RULE,
    &dynamic_sql::RULE,
    &invalid_syntax::RULE,
    &drop_view::RULE,
    &drop_function::RULE,
    &drop_type::RULE,
    &drop_sequence::RULE,
    &drop_extension::RULE,
    &set_schema::RULE,
    &identity_change::RULE,
    &drop_default::RULE,
    &drop_constraint::RULE,
    &rename_object::RULE,
    &add_domain_constraint::RULE,
    &domain_with_constraint::RULE,
    &drop_generated_expression::RULE,
    &identifier_too_long::RULE,
    &primary_key_sets_not_null::RULE,
    &drop_trigger::RULE,
    &copy_differs_from_production::RULE,
    &copy_size_differs_from_production::RULE,
    &server_differs_from_production::RULE,
];

/// Looks a rule up by name or code (case-insensitive).
pub fn find(name_or_code: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| {
        r.name.eq_ignore_ascii_case(name_or_code) || r.code.eq_ignore_ascii_case(name_or_code)
    })
}

/// What one migration's run on a disposable copy revealed, for the execution rules.
pub struct ExecutionInputs<'a> {
    pub run: &'a crate::execute::trace::MigrationRun,
    /// Its expected results, checked against the run.
    pub checked: &'a [crate::model::Expected],
    /// Watched queries whose plans got worse in this migration, each blamed on its statement
    /// when plans were taken between statements (else over the whole run, attributed to the
    /// last migration executed).
    pub regressions: &'a [crate::execute::watch::Regression],
    /// The watched queries' plans before the pending migrations ran.
    pub watched_before: &'a [(crate::execute::watch::WatchedQuery, crate::plan::Plan)],
}

/// The execution rules' risks for one migration: (rule, statement index when the risk
/// belongs to one statement, risk). Measurements are not statements, so the engine calls
/// this instead of a per-statement check.
pub fn execution_risks(
    inputs: &ExecutionInputs<'_>,
    migration: &ParsedMigration,
    settings: &Settings,
) -> Vec<(&'static Rule, Option<usize>, Risk)> {
    let mut out = Vec::new();
    let per_statement = [
        (&fails_on_copy::RULE, fails_on_copy::risks as StatementRisks),
        (&lock_held_too_long::RULE, lock_held_too_long::risks),
        (&table_rewrite::RULE, table_rewrite::risks),
        (&times_out_on_copy::RULE, times_out_on_copy::risks),
    ];
    for (rule, risks) in per_statement {
        for (index, risk) in risks(inputs.run, migration, settings) {
            out.push((rule, Some(index), risk));
        }
    }
    for risk in not_executed_on_copy::risks(inputs.run) {
        out.push((&not_executed_on_copy::RULE, None, risk));
    }
    for risk in expectation_not_met::risks(inputs.checked) {
        out.push((&expectation_not_met::RULE, None, risk));
    }
    for (regression, mut risk) in inputs
        .regressions
        .iter()
        .zip(plan_regression::risks(inputs.regressions))
    {
        // Reported at the statement that caused it, where one can be named.
        let statement = crate::verdicts::blame(regression, migration);
        if statement.is_some() {
            risk.position = None;
        }
        out.push((&plan_regression::RULE, statement, risk));
    }
    if let Some(rollback) = &inputs.run.rollback {
        let outcome = crate::execute::rollback::RollbackOutcome {
            error: rollback.error.as_ref().map(|e| e.describe()),
            differences: rollback.differences.clone(),
        };
        for risk in rollback_fails::risks(&outcome) {
            out.push((&rollback_fails::RULE, None, risk));
        }
        for risk in rollback_does_not_restore::risks(&outcome) {
            out.push((&rollback_does_not_restore::RULE, None, risk));
        }
        if rollback.error.is_none() && rollback.differences.is_empty() {
            for risk in rollback_does_not_restore::data_risks(&rollback.data_loss) {
                out.push((&rollback_does_not_restore::RULE, None, risk));
            }
        }
    }
    out
}

type StatementRisks =
    fn(&crate::execute::trace::MigrationRun, &ParsedMigration, &Settings) -> Vec<(usize, Risk)>;

/// The rule with this exact name; the engine's own rules are always registered.
pub fn by_name(name: &str) -> &'static Rule {
    find(name).unwrap_or_else(|| unreachable!("rule {name} is registered"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn registry_is_sorted_and_unique() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for pair in RULES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} must come before {}",
                pair[1].code,
                pair[0].code
            );
        }
        for rule in RULES {
            assert!(codes.insert(rule.code), "duplicate code {}", rule.code);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert!(
                rule.code.len() == 4 && rule.code.starts_with('M'),
                "bad code {}",
                rule.code
            );
            assert!(
                rule.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                rule.name
            );
        }
    }

    #[test]
    fn every_rule_has_docs_and_examples() {
        for rule in RULES {
            for (slot, text) in [
                ("what", rule.what),
                ("why", rule.why),
                ("instead", rule.instead),
                ("rollback", rule.rollback),
                ("bad example", rule.bad),
                ("good example", rule.good),
            ] {
                assert!(!text.trim().is_empty(), "{} has no {slot}", rule.name);
            }
        }
    }
}
