//! The production snapshot (issue #15): production's catalog facts as a stable, sorted JSON
//! document, read with the same read-only session as the catalog level, and holding no row
//! values unless the user opts in (`--include-statistics`).
//!
//! The format is migsafe's own (documented in README "Production snapshot") rather than a
//! dump of the internal `CatalogSnapshot`, so that internal changes never break a snapshot
//! a team has committed: fields are added, never renamed, and unknown fields are ignored
//! when reading (an older migsafe reads a newer snapshot).
//!
//! What is deliberately absent: `pg_stats` most-common values and histogram bounds, sample
//! rows, sequence values, and `pg_stat_statements` texts that are not normalised (utility
//! statements keep their literals before PostgreSQL 16, so only plannable DML is kept).

use super::catalog::{CatalogSnapshot, ConstraintType, TableKind};
use super::connect::{connect_read_only, server_identity};
use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnection;
use std::collections::BTreeMap;
use std::path::Path;

/// The snapshot format's version; bumped only for an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Settings that change what a migration costs or how long it may wait (maintenance memory
/// and parallel workers for index builds, the timeouts that end it, WAL and checkpoint
/// settings for rewrites, and the planner settings behind watched queries' plans).
pub const SETTINGS: &[&str] = &[
    "autovacuum",
    "checkpoint_timeout",
    "deadlock_timeout",
    "default_statistics_target",
    "effective_cache_size",
    "effective_io_concurrency",
    "idle_in_transaction_session_timeout",
    "jit",
    "lock_timeout",
    "maintenance_io_concurrency",
    "maintenance_work_mem",
    "max_parallel_maintenance_workers",
    "max_parallel_workers",
    "max_parallel_workers_per_gather",
    "max_wal_size",
    "random_page_cost",
    "seq_page_cost",
    "shared_buffers",
    "statement_timeout",
    "synchronous_commit",
    "wal_level",
    "work_mem",
];

/// How many `pg_stat_statements` queries a snapshot keeps by default.
pub const DEFAULT_TOP_QUERIES: usize = 20;

/// A production snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    #[serde(default)]
    pub tool: SnapshotTool,
    pub server: SnapshotServer,
    /// `SETTINGS` as the application's sessions get them (`pg_settings.reset_val` with its
    /// unit), by name.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Installed extensions: name → version.
    #[serde(default)]
    pub extensions: BTreeMap<String, String>,
    #[serde(default)]
    pub tables: Vec<SnapshotTable>,
    #[serde(default)]
    pub indexes: Vec<SnapshotIndex>,
    #[serde(default)]
    pub constraints: Vec<SnapshotConstraint>,
    /// Views and materialized views with the tables they read.
    #[serde(default)]
    pub views: Vec<SnapshotView>,
    /// Top `pg_stat_statements` queries by total time (normalised texts, `$n` for values);
    /// empty when the extension is not there, with the reason in `notes`.
    #[serde(default)]
    pub top_queries: Vec<TopQuery>,
    /// Only with `--include-statistics`: per-column statistics, which hold row values
    /// (most common values, histogram bounds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_statistics: Vec<ColumnStatistics>,
    /// Whether the snapshot holds row values (only with `--include-statistics`).
    #[serde(default)]
    pub row_values: bool,
    /// What the reader should know about the snapshot's accuracy.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTool {
    pub name: String,
    pub version: String,
}

impl Default for SnapshotTool {
    fn default() -> Self {
        SnapshotTool {
            name: "migsafe".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotServer {
    /// `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
    /// `server_version_num`, e.g. `150018`.
    pub version_num: i32,
    pub database: String,
    pub database_bytes: i64,
    #[serde(default)]
    pub in_recovery: bool,
    /// Latest ANALYZE of any user table (UTC); `null`: row estimates are guesses.
    #[serde(default)]
    pub last_analyzed: Option<String>,
}

impl SnapshotServer {
    pub fn major(&self) -> i32 {
        self.version_num / 10_000
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTable {
    /// `schema.name`.
    pub name: String,
    /// `table`, `partitioned` or `partition`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
    /// Estimated rows (`reltuples` scaled like the planner does).
    pub rows: i64,
    pub heap_bytes: i64,
    #[serde(default)]
    pub toast_bytes: i64,
    #[serde(default)]
    pub index_bytes: i64,
    #[serde(default)]
    pub triggers: i64,
    #[serde(default)]
    pub columns: Vec<SnapshotColumn>,
}

impl SnapshotTable {
    /// Heap plus TOAST: what a scan or rewrite reads.
    pub fn bytes(&self) -> i64 {
        self.heap_bytes.saturating_add(self.toast_bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotIndex {
    /// `schema.name`.
    pub name: String,
    pub table: String,
    /// An equivalent `CREATE INDEX` statement.
    pub definition: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    pub bytes: i64,
    /// Index scans since statistics were last reset.
    #[serde(default)]
    pub scans: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotConstraint {
    pub table: String,
    pub name: String,
    /// `primary_key`, `unique`, `foreign_key`, `check` or `exclusion`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub columns: Vec<String>,
    pub validated: bool,
    /// Foreign keys: the referenced table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotView {
    pub name: String,
    pub materialized: bool,
    /// Tables and views it reads (from `pg_depend`), sorted.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopQuery {
    /// Normalised text: constants replaced by `$1`, `$2`, ….
    pub query: String,
    pub calls: i64,
    pub total_exec_ms: f64,
    pub mean_exec_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStatistics {
    pub table: String,
    pub column: String,
    pub null_frac: f64,
    pub n_distinct: f64,
    pub avg_width: i32,
    #[serde(default)]
    pub correlation: Option<f64>,
    /// Row values.
    #[serde(default)]
    pub most_common_vals: Option<String>,
    #[serde(default)]
    pub most_common_freqs: Option<Vec<f64>>,
    /// Row values.
    #[serde(default)]
    pub histogram_bounds: Option<String>,
}

/// What `migsafe snapshot` reads beyond the catalog.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotOptions {
    /// Top `pg_stat_statements` queries to keep (0: none).
    pub top_queries: usize,
    /// Include `pg_stats` (most common values and histograms: row values).
    pub statistics: bool,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            top_queries: DEFAULT_TOP_QUERIES,
            statistics: false,
        }
    }
}

/// Connects read-only to `url` and takes the snapshot.
pub async fn take(url: &str, options: &SnapshotOptions) -> Result<Snapshot> {
    let mut conn = connect_read_only(url).await?;
    let result = take_on(&mut conn, options).await;
    let _ = sqlx::Connection::close(conn).await;
    result
}

/// Takes the snapshot on an open read-only session.
pub async fn take_on(conn: &mut PgConnection, options: &SnapshotOptions) -> Result<Snapshot> {
    let catalog = CatalogSnapshot::read(conn)
        .await
        .context("Failed to read the catalog for the snapshot")?;
    let mut snapshot = from_catalog(&catalog);
    snapshot.settings = read_settings(conn).await?;
    snapshot.extensions = read_extensions(conn).await?;
    let dependencies = read_view_dependencies(conn).await?;
    for view in &mut snapshot.views {
        if let Some(deps) = dependencies.get(&view.name) {
            view.depends_on = deps.clone();
        }
    }
    if options.top_queries > 0 {
        match read_top_queries(conn, options.top_queries).await {
            Ok(queries) => snapshot.top_queries = queries,
            Err(reason) => snapshot.notes.push(reason),
        }
    }
    if options.statistics {
        snapshot.column_statistics = read_column_statistics(conn).await?;
        snapshot.row_values = true;
        snapshot.notes.push(
            "--include-statistics: column_statistics holds most common values and histogram \
             bounds, which are row values; treat this file like the data"
                .to_string(),
        );
    }
    snapshot.sort();
    Ok(snapshot)
}

/// The snapshot of what a `CatalogSnapshot` holds (tables, indexes, constraints, views);
/// settings, extensions, dependencies and queries are read separately.
pub fn from_catalog(catalog: &CatalogSnapshot) -> Snapshot {
    let s = &catalog.server;
    let tables = catalog
        .tables
        .iter()
        .map(|t| SnapshotTable {
            name: qualified(&t.name),
            kind: match t.kind {
                TableKind::Table => "table",
                TableKind::Partitioned => "partitioned",
                TableKind::Partition => "partition",
            }
            .to_string(),
            partition_of: t.partition_of.as_ref().map(qualified),
            rows: t.rows,
            heap_bytes: t.heap_bytes,
            toast_bytes: t.toast_bytes,
            index_bytes: t.index_bytes,
            triggers: t.triggers,
            columns: t
                .columns
                .iter()
                .map(|c| SnapshotColumn {
                    name: c.name.clone(),
                    data_type: c.data_type.clone(),
                    not_null: c.not_null,
                    default: c.default.clone(),
                })
                .collect(),
        })
        .collect();
    let indexes = catalog
        .indexes
        .iter()
        .map(|i| SnapshotIndex {
            name: qualified(&i.name),
            table: qualified(&i.table),
            definition: i.create_statement(),
            unique: i.unique,
            primary: i.primary,
            valid: i.valid,
            bytes: i.bytes,
            scans: i.scans,
        })
        .collect();
    let constraints = catalog
        .constraints
        .iter()
        .filter(|c| !c.inherited)
        .map(|c| SnapshotConstraint {
            table: qualified(&c.table),
            name: c.name.clone(),
            kind: match c.kind {
                ConstraintType::PrimaryKey => "primary_key",
                ConstraintType::Unique => "unique",
                ConstraintType::ForeignKey => "foreign_key",
                ConstraintType::Check => "check",
                ConstraintType::Exclusion => "exclusion",
            }
            .to_string(),
            columns: c.columns.clone(),
            validated: c.validated,
            references: c.references.as_ref().map(|r| qualified(&r.table)),
            definition: c.definition.clone(),
        })
        .collect();
    let views = catalog
        .views
        .iter()
        .map(|v| SnapshotView {
            name: qualified(&v.name),
            materialized: v.materialized,
            depends_on: Vec::new(),
        })
        .collect();
    let mut snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        tool: SnapshotTool::default(),
        server: SnapshotServer {
            version: s.version.clone(),
            version_num: s.version_num,
            database: s.database.clone(),
            database_bytes: s.database_bytes,
            in_recovery: s.in_recovery,
            last_analyzed: s.last_analyzed.clone(),
        },
        settings: BTreeMap::new(),
        extensions: BTreeMap::new(),
        tables,
        indexes,
        constraints,
        views,
        top_queries: Vec::new(),
        column_statistics: Vec::new(),
        row_values: false,
        notes: catalog.notes.clone(),
    };
    snapshot.sort();
    snapshot
}

/// `schema.name`, always qualified (the catalog knows every object's schema).
fn qualified(name: &crate::model::QualifiedName) -> String {
    match &name.schema {
        Some(schema) => format!("{schema}.{}", name.name),
        None => name.name.clone(),
    }
}

impl Snapshot {
    /// Sorts every list by name, so that two snapshots of the same database are identical
    /// and a diff of two snapshots shows only what changed.
    pub fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.constraints
            .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        self.views.sort_by(|a, b| a.name.cmp(&b.name));
        self.column_statistics
            .sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
        for view in &mut self.views {
            view.depends_on.sort();
            view.depends_on.dedup();
        }
    }

    /// The table named `name` (`schema.name`, or a bare name found in any schema, `public`
    /// first).
    pub fn table(&self, name: &str) -> Option<&SnapshotTable> {
        find_by_name(&self.tables, name, |t| &t.name)
    }

    /// The index named `name` (qualified or bare, as [`Snapshot::table`]).
    pub fn index(&self, name: &str) -> Option<&SnapshotIndex> {
        find_by_name(&self.indexes, name, |i| &i.name)
    }

    /// Writes the snapshot as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Result<String> {
        let mut text =
            serde_json::to_string_pretty(self).context("Failed to serialise the snapshot")?;
        text.push('\n');
        Ok(text)
    }

    /// Reads a snapshot file, with an error that names the file and what to do.
    pub fn read_file(path: &Path) -> Result<Snapshot> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("Failed to read the production snapshot {}", path.display())
        })?;
        Snapshot::parse(&text).with_context(|| {
            format!(
                "Failed to read the production snapshot {}: make it with `migsafe snapshot \
                 --database-url URL --output {}`",
                path.display(),
                path.display()
            )
        })
    }

    /// Parses a snapshot, naming the line and column of a syntax error.
    pub fn parse(text: &str) -> Result<Snapshot> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "line {}, column {}: not valid JSON: {e}",
                e.line(),
                e.column()
            )
        })?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        match version {
            None => bail!("no `schema_version`: this is not a migsafe production snapshot"),
            Some(v) if v != u64::from(SCHEMA_VERSION) => bail!(
                "schema_version {v} is not supported (this migsafe reads {SCHEMA_VERSION}); \
                 take the snapshot again with this version"
            ),
            Some(_) => {}
        }
        let mut snapshot: Snapshot = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("line {}, column {}: {e}", e.line(), e.column()))?;
        snapshot.sort();
        Ok(snapshot)
    }
}

/// Finds an object by `schema.name`, or by a bare name in any schema (`public` first).
fn find_by_name<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &String) -> Option<&'a T> {
    if let Some(hit) = items.iter().find(|t| key(t) == name) {
        return Some(hit);
    }
    if name.contains('.') {
        return None;
    }
    let bare = |t: &&T| key(t).rsplit('.').next() == Some(name);
    let public = format!("public.{name}");
    items
        .iter()
        .find(|t| key(t) == &public)
        .or_else(|| items.iter().find(bare))
}

/// Reads `SETTINGS` as sessions get them: `reset_val` ignores migsafe's own session-level
/// timeouts and includes database- and role-level settings.
async fn read_settings(conn: &mut PgConnection) -> Result<BTreeMap<String, String>> {
    let names: Vec<String> = SETTINGS.iter().map(|s| s.to_string()).collect();
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT name::text, coalesce(reset_val, setting)::text, unit::text \
         FROM pg_settings WHERE name = ANY($1) ORDER BY name",
    )
    .bind(&names)
    .fetch_all(conn)
    .await
    .context("Failed to read the server settings (pg_settings)")?;
    Ok(rows
        .into_iter()
        .map(|(name, value, unit)| {
            let value = with_unit(&value, unit.as_deref().unwrap_or(""));
            (name, value)
        })
        .collect())
}

/// A setting's raw value in its `pg_settings.unit`, written the way `SHOW` writes it: memory
/// in the largest unit that divides it exactly (`64MB`, `8kB`), times in `ms`, `s` or `min`
/// (`0` stays `0`, which means "off" for the timeouts).
fn with_unit(value: &str, unit: &str) -> String {
    let Ok(n) = value.trim().parse::<i64>() else {
        return value.to_string();
    };
    let memory_kb = match unit {
        "B" => None,
        "kB" => Some(1),
        "8kB" => Some(8),
        "16kB" => Some(16),
        "MB" => Some(1024),
        "16MB" => Some(16 * 1024),
        _ => None,
    };
    if let Some(factor) = memory_kb {
        let kb = n.saturating_mul(factor);
        return match kb {
            k if k > 0 && k % (1024 * 1024) == 0 => format!("{}GB", k / (1024 * 1024)),
            k if k > 0 && k % 1024 == 0 => format!("{}MB", k / 1024),
            k => format!("{k}kB"),
        };
    }
    let ms = match unit {
        "ms" => Some(1),
        "s" => Some(1000),
        "min" => Some(60_000),
        _ => None,
    };
    match ms {
        Some(_) if n <= 0 => n.to_string(),
        Some(f) => {
            let ms = n.saturating_mul(f);
            match ms {
                m if m % 60_000 == 0 => format!("{}min", m / 60_000),
                m if m % 1000 == 0 => format!("{}s", m / 1000),
                m => format!("{m}ms"),
            }
        }
        None if unit.is_empty() => value.to_string(),
        None => format!("{value}{unit}"),
    }
}

/// Reads the installed extensions and their versions.
async fn read_extensions(conn: &mut PgConnection) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT extname::text, extversion::text FROM pg_extension ORDER BY 1")
            .fetch_all(conn)
            .await
            .context("Failed to read the installed extensions (pg_extension)")?;
    Ok(rows.into_iter().collect())
}

/// Reads which relations each user view and materialized view reads (its rewrite rule's
/// dependencies), by `schema.name`.
async fn read_view_dependencies(conn: &mut PgConnection) -> Result<BTreeMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT vn.nspname || '.' || v.relname, tn.nspname || '.' || t.relname \
         FROM pg_rewrite r \
         JOIN pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm') \
         JOIN pg_namespace vn ON vn.oid = v.relnamespace \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
              AND d.refclassid = 'pg_class'::regclass \
         JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid \
         JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         WHERE vn.nspname NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY 1, 2",
    )
    .fetch_all(conn)
    .await
    .context("Failed to read the views' dependencies (pg_depend)")?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (view, table) in rows {
        out.entry(view).or_default().push(table);
    }
    Ok(out)
}

/// Reads the top `limit` plannable queries of this database from `pg_stat_statements` by
/// total execution time. `Err` is the reason there are none, for the snapshot's notes.
async fn read_top_queries(
    conn: &mut PgConnection,
    limit: usize,
) -> std::result::Result<Vec<TopQuery>, String> {
    let schema: Option<String> = sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
         WHERE e.extname = 'pg_stat_statements'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| format!("top queries not read: {e}"))?;
    let Some(schema) = schema else {
        return Err(
            "top queries not read: the pg_stat_statements extension is not installed in this \
             database (CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries)"
                .to_string(),
        );
    };
    let sql = format!(
        "SELECT query, calls::int8, total_exec_time::float8, mean_exec_time::float8 \
         FROM {}.pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND query ~* '^\\s*\\(*\\s*(select|with|insert|update|delete|merge|values|table)\\M' \
         ORDER BY total_exec_time DESC LIMIT {}",
        quote_ident(&schema),
        limit
    );
    // Savepoint-free: the session is read-only and autocommit, so a failure leaves nothing.
    let rows: Vec<(Option<String>, i64, f64, f64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| {
            format!(
                "top queries not read from pg_stat_statements: {e} (is it in \
                 shared_preload_libraries, and may this role read it? grant pg_read_all_stats)"
            )
        })?;
    Ok(rows
        .into_iter()
        .filter_map(|(query, calls, total, mean)| {
            let query = query?;
            // Without pg_read_all_stats other users' texts read `<insufficient privilege>`.
            (!query.starts_with('<')).then_some(TopQuery {
                query: query.trim().to_string(),
                calls,
                total_exec_ms: round3(total),
                mean_exec_ms: round3(mean),
            })
        })
        .collect())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads `pg_stats` for user tables: only with the explicit opt-in, since most common values
/// and histogram bounds are row values.
async fn read_column_statistics(conn: &mut PgConnection) -> Result<Vec<ColumnStatistics>> {
    type Row = (
        String,
        String,
        f32,
        f32,
        i32,
        Option<f32>,
        Option<String>,
        Option<Vec<f32>>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT schemaname || '.' || tablename, attname::text, null_frac, n_distinct, \
                avg_width, correlation, most_common_vals::text, most_common_freqs, \
                histogram_bounds::text \
         FROM pg_stats \
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
           AND schemaname NOT LIKE 'pg\\_toast%' \
         ORDER BY 1, 2",
    )
    .fetch_all(conn)
    .await
    .context("Failed to read the column statistics (pg_stats)")?;
    Ok(rows
        .into_iter()
        .map(
            |(table, column, null_frac, n_distinct, avg_width, corr, mcv, freqs, hist)| {
                ColumnStatistics {
                    table,
                    column,
                    null_frac: f64::from(null_frac),
                    n_distinct: f64::from(n_distinct),
                    avg_width,
                    correlation: corr.map(f64::from),
                    most_common_vals: mcv,
                    most_common_freqs: freqs.map(|f| f.into_iter().map(f64::from).collect()),
                    histogram_bounds: hist,
                }
            },
        )
        .collect())
}

/// The server identity as the snapshot records it (used by callers that already hold the
/// catalog of a copy).
pub async fn server(conn: &mut PgConnection) -> Result<SnapshotServer> {
    let s = server_identity(conn).await?;
    Ok(SnapshotServer {
        version: s.version,
        version_num: s.version_num,
        database: s.database,
        database_bytes: s.database_bytes,
        in_recovery: s.in_recovery,
        last_analyzed: s.last_analyzed,
    })
}

/// The settings and extensions of a copy, to compare with production's.
pub async fn read_environment(
    conn: &mut PgConnection,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    Ok((read_settings(conn).await?, read_extensions(conn).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> String {
        r#"{"schema_version": 1,
            "server": {"version": "15.18", "version_num": 150018, "database": "shop",
                       "database_bytes": 100},
            "tables": [{"name": "public.b", "kind": "table", "rows": 1, "heap_bytes": 8192},
                       {"name": "public.a", "kind": "table", "rows": 2, "heap_bytes": 8192}],
            "future_field": {"ignored": true}}"#
            .to_string()
    }

    #[test]
    fn settings_read_as_show_writes_them() {
        assert_eq!(with_unit("65536", "kB"), "64MB");
        assert_eq!(with_unit("16384", "8kB"), "128MB");
        assert_eq!(with_unit("524288", "8kB"), "4GB");
        assert_eq!(with_unit("1000", "ms"), "1s");
        assert_eq!(with_unit("300", "s"), "5min");
        assert_eq!(with_unit("0", "ms"), "0");
        assert_eq!(with_unit("1500", "ms"), "1500ms");
        assert_eq!(with_unit("on", ""), "on");
        assert_eq!(with_unit("4", ""), "4");
    }

    #[test]
    fn reads_a_snapshot_sorted_and_ignores_unknown_fields() {
        let s = Snapshot::parse(&minimal()).unwrap();
        let names: Vec<_> = s.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["public.a", "public.b"]);
        assert_eq!(s.table("b").map(|t| t.rows), Some(1));
        assert!(s.table("other.b").is_none());
        let again = Snapshot::parse(&s.to_json().unwrap()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn bad_snapshots_name_the_place_and_what_to_do() {
        let err = Snapshot::parse("{\"schema_version\": 1,\n \"server\": 3}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = Snapshot::parse("{\n  oops").unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("not valid JSON"),
            "{err}"
        );
        let err = Snapshot::parse("{\"tables\": []}").unwrap_err().to_string();
        assert!(err.contains("not a migsafe production snapshot"), "{err}");
        let err =
            Snapshot::parse(&minimal().replace("\"schema_version\": 1", "\"schema_version\": 9"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("schema_version 9"), "{err}");
    }
}
