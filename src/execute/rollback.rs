//! Rollback, proven (issue 5 item 7): a snapshot of the user schema taken before a
//! migration's `up` and after its rollback, and the human-readable differences between the
//! two. An empty difference list means the rollback restores the schema.
//!
//! What a snapshot holds, per object, is a definition string as PostgreSQL itself deparses
//! it (`format_type`, `pg_get_constraintdef`, `pg_get_indexdef`, `pg_get_viewdef`,
//! `pg_get_triggerdef`, a hash of `pg_get_functiondef`), keyed by kind and name:
//! schemas, tables (kind, persistence), columns (type, nullability, default, identity,
//! generated), constraints, indexes (definition, validity), sequences (type, start,
//! increment, bounds, cache, cycle), views and materialized views, functions and procedures,
//! triggers, enums (labels in order) and extensions (with their version).
//!
//! Deliberately ignored, because a faithful rollback legitimately changes them:
//! - OIDs and relfilenodes (a dropped and recreated table or index gets new ones);
//! - statistics, sizes, `reltuples`, and sequences' current values (a recreated sequence
//!   starts over; data is not the schema);
//! - column positions: a column dropped by `up` and re-added by `down` comes back last,
//!   which only matters to `SELECT *` and column-list-free `INSERT`s;
//! - objects that belong to an extension (covered by the extension and its version);
//! - the migration frameworks' own history tables (`_sqlx_migrations`, `schema_migrations`,
//!   `goose_db_version`, `flyway_schema_history`, `alembic_version`,
//!   `__diesel_schema_migrations`) and everything attached to them: applying a migration
//!   writes to them by design.
//!
//! Not compared yet: domains, composite types, privileges, row-level security policies,
//! comments, ownership, publications.

use anyhow::{Context as _, Result};
use sha2::{Digest as _, Sha256};
use sqlx::postgres::PgConnection;
use std::collections::BTreeMap;
use std::fmt;

/// The frameworks' migration history tables (in any schema): never part of the comparison.
const HISTORY_TABLES_SQL: &str = "('_sqlx_migrations', 'schema_migrations', \
     'goose_db_version', 'flyway_schema_history', 'alembic_version', \
     '__diesel_schema_migrations')";

/// Schemas holding PostgreSQL's own objects or other sessions' temporary ones.
const USER_SCHEMA_SQL: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// What a rollback round trip showed; the input of `rollback-fails` and
/// `rollback-does-not-restore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackOutcome {
    /// PostgreSQL's error when the rollback SQL failed (its message and detail).
    pub error: Option<String>,
    /// `compare(before up, after down)`: empty when the rollback restores the schema.
    pub differences: Vec<String>,
}

/// The kinds of objects a snapshot holds, in the order differences are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Extension,
    Schema,
    Enum,
    Sequence,
    Table,
    Column,
    Constraint,
    Index,
    View,
    MaterializedView,
    Function,
    Trigger,
}

impl ObjectKind {
    /// The word a reader expects before the object's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Extension => "extension",
            ObjectKind::Schema => "schema",
            ObjectKind::Enum => "enum type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Trigger => "trigger",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of the user schema: every object's definition, keyed by (kind, name).
///
/// Names are schema-qualified except in `public` (`orders.status`, `billing.invoices`);
/// constraints, indexes and triggers are named `<table>.<name>`'s way: `name on table`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaState {
    pub objects: BTreeMap<(ObjectKind, String), String>,
}

impl SchemaState {
    /// The definition of one object, if present.
    pub fn get(&self, kind: ObjectKind, name: &str) -> Option<&str> {
        self.objects
            .get(&(kind, name.to_string()))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// Reads the snapshot; called by the executor before `up` and after the rollback.
///
/// Reads system catalogs only (plus the deparsing functions), so it takes no lock that a
/// migration could wait for beyond the instant each function opens a relation.
pub async fn schema_state(conn: &mut PgConnection) -> Result<SchemaState> {
    let mut state = SchemaState::default();
    let reads: [(ObjectKind, String, &str); 12] = [
        (ObjectKind::Extension, extensions_sql(), "extensions"),
        (ObjectKind::Schema, schemas_sql(), "schemas"),
        (ObjectKind::Enum, enums_sql(), "enum types"),
        (ObjectKind::Sequence, sequences_sql(), "sequences"),
        (ObjectKind::Table, tables_sql(), "tables"),
        (ObjectKind::Column, columns_sql(), "columns"),
        (ObjectKind::Constraint, constraints_sql(), "constraints"),
        (ObjectKind::Index, indexes_sql(), "indexes"),
        (ObjectKind::View, views_sql('v'), "views"),
        (
            ObjectKind::MaterializedView,
            views_sql('m'),
            "materialized views",
        ),
        (ObjectKind::Function, functions_sql(), "functions"),
        (ObjectKind::Trigger, triggers_sql(), "triggers"),
    ];
    for (kind, sql, what) in reads {
        for (name, definition) in read_pairs(conn, sql, what).await? {
            let definition = if kind == ObjectKind::Function {
                // Whole function bodies would make every difference line pages long; a hash
                // tells "changed" apart from "same", which is all the comparison needs.
                short_hash(&definition)
            } else {
                definition
            };
            state.objects.insert((kind, name), definition);
        }
    }
    Ok(state)
}

/// Runs one `SELECT name, definition` snapshot query.
async fn read_pairs(
    conn: &mut PgConnection,
    sql: String,
    what: &str,
) -> Result<Vec<(String, String)>> {
    sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read the {what} of the schema snapshot"))
}

/// `schema.name`, or just `name` in `public`, as SQL text over the given columns.
fn display_name(schema: &str, name: &str) -> String {
    format!("CASE WHEN {schema} = 'public' THEN '' ELSE {schema} || '.' END || {name}")
}

/// A relation that is not (and does not belong to) a framework history table. `rel` is the
/// alias of a `pg_class` row.
fn not_history(rel: &str) -> String {
    format!(
        "{rel}.relname NOT IN {HISTORY_TABLES_SQL} AND NOT EXISTS ( \
           SELECT 1 FROM pg_depend hd JOIN pg_class ht ON ht.oid = hd.refobjid \
           WHERE hd.classid = 'pg_class'::regclass AND hd.objid = {rel}.oid \
             AND hd.refclassid = 'pg_class'::regclass AND hd.deptype IN ('a', 'i') \
             AND ht.relname IN {HISTORY_TABLES_SQL})"
    )
}

/// An object (by catalog and OID expression) that an extension does not own.
fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend ed WHERE ed.classid = '{catalog}'::regclass \
           AND ed.objid = {oid} AND ed.deptype = 'e')"
    )
}

/// Reads installed extensions with their version.
fn extensions_sql() -> String {
    "SELECT e.extname::text, 'version ' || e.extversion || ' in schema ' || n.nspname \
     FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
     WHERE e.extname <> 'plpgsql' ORDER BY 1"
        .to_string()
}

/// Reads the user schemas (public included, as it can be dropped too).
fn schemas_sql() -> String {
    format!(
        "SELECT n.nspname::text, 'exists' FROM pg_namespace n \
         WHERE {USER_SCHEMA_SQL} AND {} ORDER BY 1",
        not_extension_member("pg_namespace", "n.oid")
    )
}

/// Reads enum types with their labels in sort order.
fn enums_sql() -> String {
    format!(
        "SELECT {}, '(' || string_agg(quote_literal(e.enumlabel), ', ' \
                 ORDER BY e.enumsortorder) || ')' \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_enum e ON e.enumtypid = t.oid \
         WHERE {USER_SCHEMA_SQL} AND {} \
         GROUP BY n.nspname, t.typname ORDER BY 1",
        display_name("n.nspname::text", "t.typname::text"),
        not_extension_member("pg_type", "t.oid")
    )
}

/// Reads sequence definitions (never their current value).
fn sequences_sql() -> String {
    format!(
        "SELECT {}, format_type(s.seqtypid, NULL) || ' start ' || s.seqstart \
                || ' increment ' || s.seqincrement || ' min ' || s.seqmin \
                || ' max ' || s.seqmax || ' cache ' || s.seqcache \
                || CASE WHEN s.seqcycle THEN ' cycle' ELSE ' no cycle' END \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_SCHEMA_SQL} AND {} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_history("c"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads tables with their kind, persistence and partition bound.
fn tables_sql() -> String {
    format!(
        "SELECT {}, \
                CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' \
                     ELSE 'table' END \
                || CASE c.relpersistence WHEN 'u' THEN ', unlogged' ELSE '' END \
                || COALESCE(', partition ' || pg_get_expr(c.relpartbound, c.oid), '') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'f') AND {USER_SCHEMA_SQL} AND {} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_history("c"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads table columns: type, nullability, default, identity and generation.
fn columns_sql() -> String {
    format!(
        "SELECT {} || '.' || a.attname, \
                format_type(a.atttypid, a.atttypmod) \
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END \
                || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' \
                     WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END \
                || CASE WHEN a.attgenerated = 's' \
                     THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) \
                          || ') STORED' \
                     WHEN d.adbin IS NOT NULL \
                     THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') \
           AND {USER_SCHEMA_SQL} AND {} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_history("c"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads table constraints as `pg_get_constraintdef` deparses them.
fn constraints_sql() -> String {
    format!(
        "SELECT k.conname || ' on ' || {}, pg_get_constraintdef(k.oid) \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_SCHEMA_SQL} AND {} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_history("c"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads index definitions and whether each is valid.
fn indexes_sql() -> String {
    format!(
        "SELECT {}, pg_get_indexdef(i.indexrelid) \
                || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = ic.relnamespace \
         WHERE {USER_SCHEMA_SQL} AND {} AND {} ORDER BY 1",
        display_name("n.nspname::text", "ic.relname::text"),
        not_history("c"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads views (`relkind = 'v'`) or materialized views (`'m'`) as `pg_get_viewdef` prints
/// them.
fn views_sql(relkind: char) -> String {
    format!(
        "SELECT {}, regexp_replace(pg_get_viewdef(c.oid), '\\s+', ' ', 'g') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = '{relkind}' AND {USER_SCHEMA_SQL} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_extension_member("pg_class", "c.oid")
    )
}

/// Reads functions and procedures (aggregates and window functions have no
/// `pg_get_functiondef`) with their full definition, hashed by the caller.
fn functions_sql() -> String {
    format!(
        "SELECT {} || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
                pg_get_functiondef(p.oid) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind IN ('f', 'p') AND {USER_SCHEMA_SQL} AND {} ORDER BY 1",
        display_name("n.nspname::text", "p.proname::text"),
        not_extension_member("pg_proc", "p.oid")
    )
}

/// Reads user triggers (not the internal ones behind foreign keys).
fn triggers_sql() -> String {
    format!(
        "SELECT t.tgname || ' on ' || {}, pg_get_triggerdef(t.oid) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND {USER_SCHEMA_SQL} AND {} ORDER BY 1",
        display_name("n.nspname::text", "c.relname::text"),
        not_history("c")
    )
}

/// The first 12 hex digits of the text's SHA-256: enough to tell definitions apart.
fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("definition sha256:{}", hex.get(..12).unwrap_or(&hex))
}

/// One line per difference between the schema before `up` and after the rollback, in a
/// stable order (by kind, then name); empty when the rollback restored everything compared.
///
/// An object that is missing after the rollback and another of the same kind whose
/// definition matches it once names are ignored (an index or constraint recreated under a
/// different name) are reported as one rename.
pub fn compare(before: &SchemaState, after: &SchemaState) -> Vec<String> {
    let mut lines: Vec<((ObjectKind, String), String)> = Vec::new();
    let mut leftovers: Vec<&(ObjectKind, String)> = after
        .objects
        .keys()
        .filter(|key| !before.objects.contains_key(*key))
        .collect();
    for (key, old) in &before.objects {
        let (kind, name) = key;
        match after.objects.get(key) {
            Some(new) if new == old => {}
            Some(new) => lines.push((
                key.clone(),
                format!("{kind} {name} differs: before `{old}`, after `{new}`"),
            )),
            None => {
                let renamed =
                    leftovers.iter().position(|(k, other)| {
                        k == kind
                            && after.objects.get(&(*k, other.clone())).map(|d| {
                                without_name(*k, d, other) == without_name(*kind, old, name)
                            }) == Some(true)
                    });
                match renamed {
                    Some(at) => {
                        let (_, other) = leftovers.remove(at);
                        lines.push((
                            key.clone(),
                            format!(
                                "{kind} {name} came back as {other} (same definition, new name)"
                            ),
                        ));
                    }
                    None => lines.push((
                        key.clone(),
                        format!(
                            "{kind} {name} is missing (present before up, not restored by the \
                             rollback): `{old}`"
                        ),
                    )),
                }
            }
        }
    }
    for key in leftovers {
        let (kind, name) = key;
        let definition = after.objects.get(key).map(String::as_str).unwrap_or("");
        lines.push((
            key.clone(),
            format!(
                "{kind} {name} is still present (added by up, not removed by the rollback): \
                 `{definition}`"
            ),
        ));
    }
    // By the object each line is about, so the output reads in the snapshot's order
    // whichever branch produced the line.
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect()
}

/// A definition with the object's own name taken out, for spotting renames. Index and
/// trigger definitions spell their name; constraint definitions and names of the form
/// `name on table` keep the table part.
fn without_name(kind: ObjectKind, definition: &str, name: &str) -> (String, String) {
    let (own, on) = match name.split_once(" on ") {
        Some((own, table)) => (own, table.to_string()),
        None => (name.rsplit('.').next().unwrap_or(name), String::new()),
    };
    let definition = match kind {
        ObjectKind::Index | ObjectKind::Trigger => {
            definition.replacen(&format!(" {own} "), " ? ", 1)
        }
        _ => definition.to_string(),
    };
    // Renames are only recognised for objects hanging off a table; a table or column whose
    // definition matches another's is a different object, not a rename.
    let on = match kind {
        ObjectKind::Index => index_table(&definition),
        ObjectKind::Constraint | ObjectKind::Trigger => on,
        _ => format!("{kind} {name}"),
    };
    (definition, on)
}

/// The `ON <table>` part of an index definition.
fn index_table(definition: &str) -> String {
    definition
        .split_once(" ON ")
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(objects: &[(ObjectKind, &str, &str)]) -> SchemaState {
        SchemaState {
            objects: objects
                .iter()
                .map(|(k, n, d)| ((*k, n.to_string()), d.to_string()))
                .collect(),
        }
    }

    #[test]
    fn identical_snapshots_have_no_differences() {
        let s = state(&[
            (ObjectKind::Table, "orders", "table"),
            (ObjectKind::Column, "orders.id", "bigint NOT NULL"),
        ]);
        assert!(compare(&s, &s.clone()).is_empty());
    }

    #[test]
    fn leftovers_missing_objects_and_changes_are_each_one_line() {
        let before = state(&[
            (ObjectKind::Table, "orders", "table"),
            (
                ObjectKind::Column,
                "orders.note",
                "text NULL DEFAULT ''::text",
            ),
            (
                ObjectKind::Constraint,
                "orders_note_check on orders",
                "CHECK (length(note) < 100)",
            ),
        ]);
        let after = state(&[
            (ObjectKind::Table, "orders", "table"),
            (ObjectKind::Column, "orders.note", "text NULL"),
            (ObjectKind::Column, "orders.status", "text NULL"),
        ]);
        assert_eq!(
            compare(&before, &after),
            [
                "column orders.note differs: before `text NULL DEFAULT ''::text`, after `text NULL`",
                "column orders.status is still present (added by up, not removed by the rollback): `text NULL`",
                "constraint orders_note_check on orders is missing (present before up, not restored by the rollback): `CHECK (length(note) < 100)`",
            ]
        );
    }

    #[test]
    fn an_index_recreated_under_another_name_is_one_rename() {
        let before = state(&[(
            ObjectKind::Index,
            "orders_status_idx",
            "CREATE INDEX orders_status_idx ON public.orders USING btree (status)",
        )]);
        let after = state(&[(
            ObjectKind::Index,
            "orders_status_idx1",
            "CREATE INDEX orders_status_idx1 ON public.orders USING btree (status)",
        )]);
        assert_eq!(
            compare(&before, &after),
            ["index orders_status_idx came back as orders_status_idx1 (same definition, new name)"]
        );
    }

    #[test]
    fn function_bodies_are_compared_by_hash() {
        assert_eq!(short_hash("a"), short_hash("a"));
        assert_ne!(short_hash("a"), short_hash("b"));
        assert!(short_hash("a").starts_with("definition sha256:"));
    }
}
