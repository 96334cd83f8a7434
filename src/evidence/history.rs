//! Which migrations a database has already applied, read from the migration framework's own
//! history table, and the checksums frameworks store for them (pending-migration detection,
//! PRODUCT.md §3 "catalog").
//!
//! Each framework records history differently:
//!
//! | layout         | table                         | meaning of the rows                       |
//! |----------------|-------------------------------|-------------------------------------------|
//! | sqlx           | `_sqlx_migrations`            | one per applied version; SHA-384 checksum |
//! | diesel         | `__diesel_schema_migrations`  | one per applied version                   |
//! | golang-migrate | `schema_migrations`           | ONE row: the current version, `dirty`     |
//! | dbmate         | `schema_migrations`           | one per applied version                   |
//! | goose          | `goose_db_version`            | a log: the latest row per version wins    |
//! | flyway         | `flyway_schema_history`       | a log with baseline/undo rows; CRC32      |
//! | alembic        | `alembic_version`             | the current head revision(s) only         |
//! | popx           | `schema_migration`            | one per applied version (14-digit legacy) |
//! | Prisma         | `_prisma_migrations`          | a log: finished / rolled back; SHA-256    |
//! | Atlas          | `atlas_schema_revisions`      | one per version: statements applied/total |
//! | Liquibase      | `databasechangelog`           | one per changeset run: `author:id`        |
//! | temporal       | `schema_version`              | the current version only                  |
//! | DolphinScheduler | `t_ds_version`              | the current version only                  |
//! | authelia       | `migrations`                  | a log: the latest row's `version_after`   |
//!
//! Atlas keeps its table in its own schema (`atlas_schema_revisions.atlas_schema_revisions`)
//! unless `--revisions-schema` says otherwise; the unqualified name is tried next.
//!
//! A missing table means nothing was applied yet; it is not an error. Unqualified table names
//! resolve through the session's `search_path`, as the frameworks' own unqualified queries do.

use crate::model::{Layout, QualifiedName};
use anyhow::{Context as _, Result};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256, Sha384};
use sqlx::postgres::PgConnection;
use std::cmp::Ordering;

/// What the history table's rows mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Semantics {
    /// Every listed version is applied (sqlx, diesel, dbmate, goose, flyway).
    PerVersion,
    /// golang-migrate, temporal, DolphinScheduler, authelia: the single listed version (the
    /// current one) and every version below it are applied.
    UpTo,
    /// alembic: the listed revisions are the current heads; their ancestors (known only from
    /// the migration files' `down_revision`s) are applied too.
    Heads,
}

/// A stored checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// sqlx: SHA-384 of the migration file (see [`sqlx_checksum`]).
    Sha384(Vec<u8>),
    /// Flyway: CRC32 over the file's lines (see [`flyway_checksum`]).
    Crc32(i32),
    /// Prisma: SHA-256 of `migration.sql`, stored as hex.
    Sha256(Vec<u8>),
}

impl Serialize for Checksum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Checksum::Sha384(bytes) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                s.serialize_str(&format!("sha384:{hex}"))
            }
            Checksum::Crc32(c) => s.serialize_str(&format!("crc32:{c}")),
            Checksum::Sha256(bytes) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                s.serialize_str(&format!("sha256:{hex}"))
            }
        }
    }
}

/// One applied (or attempted) migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedVersion {
    /// As the framework stores it (`20240101120000`, `1.2`, alembic revision id). Empty for
    /// Flyway repeatable migrations, which are identified by `description`.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// False when the framework recorded a failure (sqlx `success`, Flyway `success`,
    /// golang-migrate `dirty`): the database may be half-migrated.
    pub success: bool,
}

/// What a database's history table says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigrations {
    pub layout: Layout,
    /// The table looked for, schema-qualified when it was found.
    pub table: String,
    /// False when the table does not exist: nothing applied yet (or the wrong database).
    pub table_found: bool,
    pub semantics: Semantics,
    /// In the framework's order.
    pub versions: Vec<AppliedVersion>,
    /// Flyway baseline: every version at or below it counts as applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// Whether a migration file's version is applied according to the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Applied,
    /// Recorded, but as failed or dirty.
    Failed,
    Pending,
    /// The history cannot tell (alembic revisions other than the head).
    Unknown,
}

impl AppliedMigrations {
    /// The status of a migration file's version, comparing versions the way the framework
    /// does (numbers numerically, Flyway's dotted versions part by part).
    pub fn status(&self, version: &str) -> VersionStatus {
        if let Some(applied) = self.find(version) {
            return if applied.success {
                VersionStatus::Applied
            } else {
                VersionStatus::Failed
            };
        }
        match self.semantics {
            Semantics::PerVersion => match &self.baseline {
                Some(b) if compare_versions(self.layout, version, b) != Some(Ordering::Greater) => {
                    VersionStatus::Applied
                }
                _ => VersionStatus::Pending,
            },
            Semantics::UpTo => match self.versions.first() {
                Some(current) => match compare_versions(self.layout, version, &current.version) {
                    Some(Ordering::Less) => VersionStatus::Applied,
                    Some(_) => VersionStatus::Pending,
                    None => VersionStatus::Unknown,
                },
                None => VersionStatus::Pending,
            },
            Semantics::Heads if self.versions.is_empty() => VersionStatus::Pending,
            Semantics::Heads => VersionStatus::Unknown,
        }
    }

    /// The history entry recorded for exactly this version.
    pub fn find(&self, version: &str) -> Option<&AppliedVersion> {
        self.versions.iter().rev().find(|v| {
            !v.version.is_empty()
                && compare_versions(self.layout, version, &v.version) == Some(Ordering::Equal)
        })
    }

    /// Whether an applied migration's file still has the checksum recorded when it ran;
    /// `None` when the framework stores no checksum or the version is not recorded. A
    /// mismatch means the file was edited after it was applied: the copy does not have what
    /// the file now says.
    pub fn checksum_matches(&self, version: &str, file: &[u8]) -> Option<bool> {
        match self.find(version)?.checksum.as_ref()? {
            Checksum::Sha384(stored) => Some(*stored == sqlx_checksum(file)),
            Checksum::Crc32(stored) => Some(*stored == flyway_checksum(file)),
            Checksum::Sha256(stored) => Some(*stored == Sha256::digest(file).to_vec()),
        }
    }

    /// The latest checksum of a Flyway repeatable migration (`R__<description>.sql`), which
    /// is re-applied whenever its checksum changes.
    pub fn repeatable_checksum(&self, description: &str) -> Option<&Checksum> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.version.is_empty() && v.description.as_deref() == Some(description))
            .and_then(|v| v.checksum.as_ref())
    }
}

/// Compares two versions as `layout` orders them; `None` when they are not comparable.
pub(crate) fn compare_versions(layout: Layout, a: &str, b: &str) -> Option<Ordering> {
    match layout {
        Layout::Sqlx | Layout::GolangMigrate | Layout::Goose => {
            match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
                (Ok(a), Ok(b)) => Some(a.cmp(&b)),
                _ => (a == b).then_some(Ordering::Equal),
            }
        }
        // diesel stores the folder's leading timestamp without separators.
        Layout::Diesel => {
            let digits = |s: &str| {
                s.chars()
                    .filter(|c| *c != '-' && *c != '_')
                    .collect::<String>()
            };
            Some(digits(a).cmp(&digits(b)))
        }
        Layout::Flyway => flyway_version_parts(a)
            .zip(flyway_version_parts(b))
            .map(|(a, b)| a.cmp(&b)),
        // popx orders its digit strings as strings (all of one length in practice) and counts
        // a row of the 14-digit legacy version as the 20-digit version it prefixes.
        Layout::Popx => {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
            let (a, b) = (a.trim(), b.trim());
            if !(digits(a) && digits(b)) {
                return (a == b).then_some(Ordering::Equal);
            }
            let legacy = |long: &str, short: &str| {
                short.len() == 14 && long.len() > 14 && long.starts_with(short)
            };
            if legacy(a, b) || legacy(b, a) {
                return Some(Ordering::Equal);
            }
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            Some(x.len().cmp(&y.len()).then_with(|| x.cmp(y)))
        }
        Layout::Authelia => match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
            (Ok(a), Ok(b)) => Some(a.cmp(&b)),
            _ => (a == b).then_some(Ordering::Equal),
        },
        Layout::Temporal | Layout::Dolphinscheduler => {
            dotted_parts(a).zip(dotted_parts(b)).map(|(a, b)| a.cmp(&b))
        }
        Layout::Dbmate
        | Layout::Alembic
        | Layout::Plain
        | Layout::Prisma
        | Layout::Atlas
        | Layout::Liquibase
        | Layout::Django => (a == b).then_some(Ordering::Equal),
    }
}

/// A dotted version (`1.10`, `v3.1.0`) as integer parts, trailing zero parts dropped.
fn dotted_parts(version: &str) -> Option<Vec<u128>> {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let mut parts = v
        .split('.')
        .map(|p| p.parse::<u128>().ok())
        .collect::<Option<Vec<_>>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// Flyway's version as comparable parts: `V1_2__x`, `1.2` and `1.02.0` are all `[1, 2]`
/// (Flyway splits on `.`/`_`, compares parts as integers and ignores trailing zeros).
fn flyway_version_parts(version: &str) -> Option<Vec<u128>> {
    let v = version.trim();
    let v = v.strip_prefix(['V', 'v', 'U', 'u']).unwrap_or(v);
    let v = v.split("__").next().unwrap_or(v);
    let mut parts = v
        .split(['.', '_'])
        .map(|p| p.parse::<u128>().ok())
        .collect::<Option<Vec<_>>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// The history table a framework uses by default.
pub fn default_history_table(layout: Layout) -> Option<&'static str> {
    Some(match layout {
        Layout::Sqlx => "_sqlx_migrations",
        Layout::Diesel => "__diesel_schema_migrations",
        Layout::GolangMigrate | Layout::Dbmate => "schema_migrations",
        Layout::Goose => "goose_db_version",
        Layout::Flyway => "flyway_schema_history",
        Layout::Alembic => "alembic_version",
        Layout::Popx => "schema_migration",
        Layout::Prisma => "_prisma_migrations",
        Layout::Atlas => "atlas_schema_revisions",
        Layout::Liquibase => "databasechangelog",
        Layout::Temporal => "schema_version",
        Layout::Dolphinscheduler => "t_ds_version",
        Layout::Authelia => "migrations",
        Layout::Django => "django_migrations",
        Layout::Plain => return None,
    })
}

/// Reads what `layout`'s history table says is applied. `table` overrides the framework's
/// default name (e.g. golang-migrate's `x-migrations-table`, Flyway's `table`). `Ok(None)`
/// for the plain layout, which keeps no history.
pub async fn read_applied(
    conn: &mut PgConnection,
    layout: Layout,
    table: Option<&QualifiedName>,
) -> Result<Option<AppliedMigrations>> {
    let name = match (table, default_history_table(layout)) {
        (Some(t), _) => t.clone(),
        (None, Some(default)) => QualifiedName::new(None, default),
        (None, None) => return Ok(None),
    };
    let semantics = match layout {
        Layout::GolangMigrate | Layout::Temporal | Layout::Dolphinscheduler | Layout::Authelia => {
            Semantics::UpTo
        }
        Layout::Alembic => Semantics::Heads,
        _ => Semantics::PerVersion,
    };
    let mut applied = AppliedMigrations {
        layout,
        table: name.to_string(),
        table_found: false,
        semantics,
        versions: Vec::new(),
        baseline: None,
    };
    let mut found = find_table(conn, &name).await?;
    // Atlas's default home is its own schema; a configured revisions schema or an older setup
    // puts the table on the search path.
    if found.is_none() && layout == Layout::Atlas && table.is_none() {
        let own = QualifiedName::new(Some("atlas_schema_revisions"), "atlas_schema_revisions");
        found = find_table(conn, &own).await?;
    }
    let Some(found) = found else {
        return Ok(Some(applied));
    };
    applied.table = found.to_string();
    applied.table_found = true;
    let ident = quote_qualified(&found);
    match layout {
        Layout::Sqlx => applied.versions = read_sqlx(conn, &ident, &found).await?,
        Layout::Diesel | Layout::Dbmate => {
            applied.versions = read_version_list(conn, &ident, &found, layout).await?
        }
        Layout::GolangMigrate => {
            applied.versions = read_golang_migrate(conn, &ident, &found).await?
        }
        Layout::Goose => applied.versions = read_goose(conn, &ident, &found).await?,
        Layout::Flyway => {
            let rows = read_flyway(conn, &ident, &found).await?;
            let (versions, baseline) = replay_flyway(rows);
            applied.versions = versions;
            applied.baseline = baseline;
        }
        Layout::Alembic => applied.versions = read_alembic(conn, &ident, &found).await?,
        Layout::Popx => applied.versions = read_version_list(conn, &ident, &found, layout).await?,
        Layout::Prisma => applied.versions = read_prisma(conn, &ident, &found).await?,
        Layout::Atlas => applied.versions = read_atlas(conn, &ident, &found).await?,
        Layout::Liquibase => applied.versions = read_liquibase(conn, &ident, &found).await?,
        Layout::Django => applied.versions = read_django(conn, &ident, &found).await?,
        Layout::Temporal | Layout::Dolphinscheduler | Layout::Authelia => {
            applied.versions = read_current(conn, &ident, &found, layout).await?
        }
        Layout::Plain => return Ok(None),
    }
    Ok(Some(applied))
}

/// Finds a table by name (unqualified names through the search path) and returns its
/// schema-qualified name.
async fn find_table(
    conn: &mut PgConnection,
    name: &QualifiedName,
) -> Result<Option<QualifiedName>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p', 'v')",
    )
    .bind(quote_qualified(name))
    .fetch_optional(conn)
    .await
    .with_context(|| format!("Failed to look for the migration history table {name}"))?;
    Ok(row.map(|(schema, table)| QualifiedName::new(Some(&schema), &table)))
}

/// `"schema"."name"` with embedded quotes doubled: safe to splice into SQL.
fn quote_qualified(name: &QualifiedName) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    match &name.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(&name.name)),
        None => quote(&name.name),
    }
}

/// Reads sqlx's `_sqlx_migrations`: version, description, SHA-384 checksum, success.
async fn read_sqlx(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!(
        "SELECT version::int8, description::text, checksum, success FROM {ident} ORDER BY version"
    );
    let rows: Vec<(i64, String, Vec<u8>, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read sqlx migration history from {table}"))?;
    Ok(rows
        .into_iter()
        .map(|(version, description, checksum, success)| AppliedVersion {
            version: version.to_string(),
            description: Some(description),
            checksum: Some(Checksum::Sha384(checksum)),
            success,
        })
        .collect())
}

/// Reads a one-row-per-applied-version table (diesel, dbmate, popx): `version` only.
async fn read_version_list(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
    layout: Layout,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!("SELECT version::text FROM {ident} ORDER BY version");
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read {layout} migration history from {table}"))?;
    Ok(rows.into_iter().map(applied).collect())
}

/// Reads golang-migrate's single `schema_migrations` row: current version and dirty flag.
async fn read_golang_migrate(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!("SELECT version::int8, dirty FROM {ident} ORDER BY version DESC LIMIT 1");
    let row: Option<(i64, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_optional(conn)
        .await
        .with_context(|| format!("Failed to read golang-migrate migration history from {table}"))?;
    // -1 is golang-migrate's "no version" (everything rolled back); it only stays when dirty.
    Ok(row
        .filter(|(version, _)| *version >= 0)
        .map(|(version, dirty)| AppliedVersion {
            version: version.to_string(),
            description: None,
            checksum: None,
            success: !dirty,
        })
        .into_iter()
        .collect())
}

/// Reads goose's `goose_db_version` log: the latest row per version decides.
async fn read_goose(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    // Version 0 is the row goose inserts when it creates the table, not a migration.
    let sql = format!(
        "SELECT version_id::int8 FROM ( \
             SELECT DISTINCT ON (version_id) version_id, is_applied FROM {ident} \
             ORDER BY version_id, id DESC) AS latest \
         WHERE is_applied AND version_id <> 0 ORDER BY version_id"
    );
    let rows: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read goose migration history from {table}"))?;
    Ok(rows.into_iter().map(|v| applied(v.to_string())).collect())
}

/// One row of `flyway_schema_history`.
#[derive(sqlx::FromRow)]
struct FlywayRow {
    version: Option<String>,
    description: String,
    kind: String,
    checksum: Option<i32>,
    success: bool,
}

/// Reads Flyway's `flyway_schema_history` log in installation order.
async fn read_flyway(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<FlywayRow>> {
    let sql = format!(
        "SELECT version::text AS version, description::text AS description, \
                type::text AS kind, checksum::int4 AS checksum, success \
         FROM {ident} ORDER BY installed_rank"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read Flyway migration history from {table}"))
}

/// Replays Flyway's log: `SCHEMA` rows only record schema creation, `BASELINE` marks every
/// version up to it as applied, `UNDO_*` and `DELETE` rows cancel a version, and a repeatable
/// migration (no version) keeps only its latest run.
fn replay_flyway(rows: Vec<FlywayRow>) -> (Vec<AppliedVersion>, Option<String>) {
    let mut versions: Vec<AppliedVersion> = Vec::new();
    let mut baseline = None;
    for row in rows {
        let kind = row.kind.to_ascii_uppercase();
        let version = row.version.unwrap_or_default();
        if kind == "SCHEMA" {
            continue;
        }
        let same = |v: &AppliedVersion| {
            if version.is_empty() {
                v.version.is_empty() && v.description.as_deref() == Some(row.description.as_str())
            } else {
                compare_versions(Layout::Flyway, &v.version, &version) == Some(Ordering::Equal)
            }
        };
        if kind.starts_with("UNDO") || kind == "DELETE" {
            versions.retain(|v| !same(v));
            continue;
        }
        if kind.contains("BASELINE") {
            baseline = Some(version.clone());
        }
        versions.retain(|v| !same(v));
        versions.push(AppliedVersion {
            version,
            description: Some(row.description),
            checksum: row.checksum.map(Checksum::Crc32),
            success: row.success,
        });
    }
    (versions, baseline)
}

/// Reads alembic's `alembic_version`: the current head revision(s).
async fn read_alembic(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!("SELECT version_num::text FROM {ident} ORDER BY version_num");
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read alembic migration history from {table}"))?;
    Ok(rows.into_iter().map(applied).collect())
}

/// Reads Prisma's `_prisma_migrations` log: a migration whose latest attempt finished is
/// applied; one that started and neither finished nor was rolled back failed (Prisma refuses to
/// migrate until `prisma migrate resolve`); rolled-back attempts do not count.
async fn read_prisma(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!(
        "SELECT migration_name::text, checksum::text, finished_at IS NOT NULL,                 rolled_back_at IS NOT NULL          FROM {ident} ORDER BY started_at, migration_name"
    );
    let rows: Vec<(String, String, bool, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read Prisma migration history from {table}"))?;
    let mut versions: Vec<AppliedVersion> = Vec::new();
    for (name, checksum, finished, rolled_back) in rows {
        if rolled_back {
            continue;
        }
        versions.retain(|v| v.version != name);
        versions.push(AppliedVersion {
            version: name,
            description: None,
            checksum: from_hex(&checksum).map(Checksum::Sha256),
            success: finished,
        });
    }
    Ok(versions)
}

/// Reads Django's `django_migrations`: one row per applied migration, as `app.name` (the
/// version the Django layout gives each migration file).
async fn read_django(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!("SELECT app::text || '.' || name::text FROM {ident} ORDER BY id");
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read Django migration history from {table}"))?;
    Ok(rows
        .into_iter()
        .map(|(version,)| AppliedVersion {
            version,
            description: None,
            checksum: None,
            success: true,
        })
        .collect())
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim();
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// Reads Atlas's revisions: a version is applied when all its statements were
/// (`applied = total`) without an error; Atlas's own bookkeeping rows (`.atlas_cloud_identifier`)
/// are not versions.
async fn read_atlas(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!(
        "SELECT version::text, description::text, applied::int8, total::int8,                 coalesce(error::text, '')          FROM {ident} ORDER BY version"
    );
    let rows: Vec<(String, String, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read Atlas migration history from {table}"))?;
    Ok(rows
        .into_iter()
        .filter(|(version, ..)| !version.starts_with('.'))
        .map(
            |(version, description, done, total, error)| AppliedVersion {
                version,
                description: Some(description),
                checksum: None,
                success: done >= total && error.is_empty(),
            },
        )
        .collect())
}

/// Reads Liquibase's `databasechangelog`: one row per changeset run, as `author:id`; a
/// `FAILED` run is recorded as failed.
async fn read_liquibase(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
) -> Result<Vec<AppliedVersion>> {
    let sql = format!(
        "SELECT author::text, id::text, coalesce(exectype::text, 'EXECUTED')          FROM {ident} ORDER BY orderexecuted"
    );
    let rows: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read Liquibase changelog history from {table}"))?;
    let mut versions: Vec<AppliedVersion> = Vec::new();
    for (author, id, exectype) in rows {
        let version = format!("{author}:{id}");
        versions.retain(|v| v.version != version);
        versions.push(AppliedVersion {
            version,
            description: None,
            checksum: None,
            success: !exectype.eq_ignore_ascii_case("failed"),
        });
    }
    Ok(versions)
}

/// Reads a current-version history: temporal's `schema_version.curr_version` (the highest of
/// its rows, one per database name), DolphinScheduler's `t_ds_version.version`, authelia's
/// latest `migrations.version_after` (0 is the empty schema: nothing applied).
async fn read_current(
    conn: &mut PgConnection,
    ident: &str,
    table: &QualifiedName,
    layout: Layout,
) -> Result<Vec<AppliedVersion>> {
    let sql = match layout {
        Layout::Authelia => {
            format!("SELECT version_after::text FROM {ident} ORDER BY id DESC LIMIT 1")
        }
        Layout::Temporal => format!("SELECT curr_version::text FROM {ident}"),
        _ => format!("SELECT version::text FROM {ident}"),
    };
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read {layout} schema version from {table}"))?;
    let mut best: Option<String> = None;
    for v in rows {
        let v = v.trim().to_string();
        if v.is_empty() || (layout == Layout::Authelia && v == "0") {
            continue;
        }
        let higher = match &best {
            None => true,
            Some(b) => compare_versions(layout, &v, b) == Some(Ordering::Greater),
        };
        if higher {
            best = Some(v);
        }
    }
    Ok(best.map(applied).into_iter().collect())
}

fn applied(version: String) -> AppliedVersion {
    AppliedVersion {
        version,
        description: None,
        checksum: None,
        success: true,
    }
}

/// sqlx's checksum: SHA-384 of the migration file's bytes exactly as on disk (sqlx reads the
/// file and hashes it; BOM and line endings included). Projects that set sqlx's
/// `migrate.ignored-chars` hash the text without those characters: pass it through
/// [`strip_chars`] first.
pub fn sqlx_checksum(file: &[u8]) -> Vec<u8> {
    Sha384::digest(file).to_vec()
}

/// The text without `ignored` characters, for sqlx's `ignored-chars` setting.
pub fn strip_chars(text: &str, ignored: &[char]) -> String {
    text.chars().filter(|c| !ignored.contains(c)).collect()
}

/// Flyway's checksum of an SQL migration: CRC32 (IEEE) over the UTF-8 bytes of each line
/// without its line ending (`\n`, `\r\n` or `\r`, as Java's `BufferedReader.readLine`
/// splits), a byte-order mark removed from the first line, the result read as a signed
/// 32-bit integer. Line endings therefore never change it; invalid UTF-8 is replaced by
/// U+FFFD as Java's decoder does.
pub fn flyway_checksum(file: &[u8]) -> i32 {
    let text = String::from_utf8_lossy(file);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut crc = Crc32::new();
    for line in text.split(['\n', '\r']) {
        crc.update(line.as_bytes());
    }
    crc.finish() as i32
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as `java.util.zip.CRC32`.
/// Table-driven; a crate (`crc32fast`) can replace it once it is a dependency.
struct Crc32(u32);

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

impl Crc32 {
    fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let slot = ((self.0 ^ u32::from(b)) & 0xFF) as usize;
            self.0 = CRC32_TABLE.get(slot).copied().unwrap_or(0) ^ (self.0 >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc(bytes: &[u8]) -> u32 {
        let mut c = Crc32::new();
        c.update(bytes);
        c.finish()
    }

    #[test]
    fn crc32_matches_the_standard_check_values() {
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(b""), 0);
        assert_eq!(
            crc(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn flyway_checksum_ignores_line_endings_and_bom() {
        let lf = flyway_checksum(b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n");
        let crlf = flyway_checksum(b"CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n");
        let bom = flyway_checksum(
            "\u{feff}CREATE TABLE t (id int);\rINSERT INTO t VALUES (1);".as_bytes(),
        );
        assert_eq!(lf, crlf);
        assert_eq!(lf, bom);
        // The lines concatenated without terminators, CRC32 read as a Java int.
        let joined = crc(b"CREATE TABLE t (id int);INSERT INTO t VALUES (1);") as i32;
        assert_eq!(lf, joined);
        assert_ne!(lf, flyway_checksum(b"CREATE TABLE t (id bigint);\n"));
    }

    #[test]
    fn flyway_checksum_is_a_signed_int() {
        // "123456789" has CRC32 0xCBF43926, which Java's (int) cast makes negative.
        assert_eq!(flyway_checksum(b"123456789\n"), 0xCBF4_3926_u32 as i32);
        assert!(flyway_checksum(b"123456789") < 0);
    }

    #[test]
    fn sqlx_checksum_is_sha384_of_the_bytes() {
        let sum = sqlx_checksum(b"");
        assert_eq!(sum.len(), 48);
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        assert!(hex.starts_with("38b060a751ac9638"), "{hex}");
        assert_ne!(sqlx_checksum(b"a\n"), sqlx_checksum(b"a\r\n"));
    }

    fn history(
        layout: Layout,
        semantics: Semantics,
        versions: &[(&str, bool)],
    ) -> AppliedMigrations {
        AppliedMigrations {
            layout,
            table: "t".into(),
            table_found: true,
            semantics,
            versions: versions
                .iter()
                .map(|(v, ok)| AppliedVersion {
                    version: v.to_string(),
                    description: None,
                    checksum: None,
                    success: *ok,
                })
                .collect(),
            baseline: None,
        }
    }

    #[test]
    fn per_version_history_compares_numbers_numerically() {
        let h = history(
            Layout::Sqlx,
            Semantics::PerVersion,
            &[("1", true), ("20240101", false)],
        );
        assert_eq!(h.status("0001"), VersionStatus::Applied);
        assert_eq!(h.status("20240101"), VersionStatus::Failed);
        assert_eq!(h.status("20240102"), VersionStatus::Pending);
    }

    #[test]
    fn golang_migrate_applies_everything_up_to_its_version() {
        let h = history(Layout::GolangMigrate, Semantics::UpTo, &[("5", true)]);
        assert_eq!(h.status("3"), VersionStatus::Applied);
        assert_eq!(h.status("5"), VersionStatus::Applied);
        assert_eq!(h.status("6"), VersionStatus::Pending);
        let dirty = history(Layout::GolangMigrate, Semantics::UpTo, &[("5", false)]);
        assert_eq!(dirty.status("5"), VersionStatus::Failed);
        assert_eq!(dirty.status("4"), VersionStatus::Applied);
        let empty = history(Layout::GolangMigrate, Semantics::UpTo, &[]);
        assert_eq!(empty.status("1"), VersionStatus::Pending);
    }

    #[test]
    fn diesel_versions_ignore_separators() {
        let h = history(
            Layout::Diesel,
            Semantics::PerVersion,
            &[("20240101120000", true)],
        );
        assert_eq!(h.status("2024-01-01-120000"), VersionStatus::Applied);
        assert_eq!(h.status("2024-01-02-120000"), VersionStatus::Pending);
    }

    #[test]
    fn alembic_head_is_known_and_other_revisions_are_not() {
        let h = history(Layout::Alembic, Semantics::Heads, &[("ae1027a6acf", true)]);
        assert_eq!(h.status("ae1027a6acf"), VersionStatus::Applied);
        assert_eq!(h.status("1975ea83b712"), VersionStatus::Unknown);
        let empty = history(Layout::Alembic, Semantics::Heads, &[]);
        assert_eq!(empty.status("1975ea83b712"), VersionStatus::Pending);
    }

    fn flyway_row(
        version: Option<&str>,
        desc: &str,
        kind: &str,
        checksum: Option<i32>,
    ) -> FlywayRow {
        FlywayRow {
            version: version.map(str::to_string),
            description: desc.into(),
            kind: kind.into(),
            checksum,
            success: true,
        }
    }

    #[test]
    fn flyway_log_replays_baseline_undo_and_repeatables() {
        let (versions, baseline) = replay_flyway(vec![
            flyway_row(None, "<< Flyway Schema Creation >>", "SCHEMA", None),
            flyway_row(Some("1"), "<< Flyway Baseline >>", "BASELINE", None),
            flyway_row(Some("1.1"), "add orders", "SQL", Some(11)),
            flyway_row(Some("1.2"), "add index", "SQL", Some(12)),
            flyway_row(Some("1.2"), "add index", "UNDO_SQL", Some(-12)),
            flyway_row(None, "views", "SQL", Some(1)),
            flyway_row(None, "views", "SQL", Some(2)),
        ]);
        let h = AppliedMigrations {
            layout: Layout::Flyway,
            table: "flyway_schema_history".into(),
            table_found: true,
            semantics: Semantics::PerVersion,
            versions,
            baseline,
        };
        assert_eq!(h.status("V1_1"), VersionStatus::Applied);
        assert_eq!(h.status("1.01"), VersionStatus::Applied);
        assert_eq!(
            h.status("0.9"),
            VersionStatus::Applied,
            "below the baseline"
        );
        assert_eq!(h.status("1.2"), VersionStatus::Pending, "undone");
        assert_eq!(h.status("2"), VersionStatus::Pending);
        assert_eq!(h.repeatable_checksum("views"), Some(&Checksum::Crc32(2)));
        assert_eq!(
            h.versions.iter().filter(|v| v.version.is_empty()).count(),
            1
        );
    }

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(
            quote_qualified(&QualifiedName::new(Some("my schema"), "x\"y")),
            "\"my schema\".\"x\"\"y\""
        );
    }
}
