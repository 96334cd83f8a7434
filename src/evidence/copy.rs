//! Everything a catalog-level review reads from the copy, in one place and in one order:
//! who the server is, the catalog snapshot, and the framework's history table.
//!
//! Reading happens before any rule runs, so the rules stay pure and a slow or unreachable
//! server fails the run once, with one clear error, instead of once per statement.

use super::catalog::{CatalogSnapshot, RowSource};
use super::connect::{connect_read_only, server_identity, ServerIdentity};
use super::explain::{explain, explain_candidate};
use super::history::{read_applied, AppliedMigrations};
use crate::model::{
    CopyIdentity, Layout, ParsedMigration, QualifiedName, Statement, StatementKind,
};
use crate::plan::PlanOutcome;
use crate::review::Plans;
use crate::schema::Schema;
use anyhow::{Context as _, Result};
use sqlx::postgres::PgConnection;

/// What was read from the copy before the review.
#[derive(Debug, Clone)]
pub struct CopyFacts {
    pub identity: CopyIdentity,
    pub snapshot: CatalogSnapshot,
    /// The history table of the migrations' layout; `None` for the plain layout, which
    /// keeps none.
    pub applied: Option<AppliedMigrations>,
}

/// Opens a read-only session on `url` and reads the copy's identity, catalog and history.
/// The connection is returned open for the EXPLAIN pass.
pub async fn read(url: &str, layout: Option<Layout>) -> Result<(PgConnection, CopyFacts)> {
    let mut conn = connect_read_only(url).await?;
    let server = server_identity(&mut conn).await?;
    let mut snapshot = CatalogSnapshot::read(&mut conn)
        .await
        .with_context(|| format!("Failed to read the catalog of {}", server.database))?;
    match super::depends::read(&mut conn).await {
        Ok(dependents) => snapshot.dependents = dependents,
        // Without the graph the dependency rule stays silent; say why once.
        Err(e) => snapshot.notes.push(format!(
            "the dependency graph (pg_depend) could not be read, so failures caused by views, \
             policies or triggers are not predicted: {e:#}"
        )),
    }
    let applied = match layout {
        Some(layout) => read_applied(&mut conn, layout, None)
            .await
            .with_context(|| {
                format!(
                    "Failed to read the migration history of {}",
                    server.database
                )
            })?,
        None => None,
    };
    let identity = identity(&server, &snapshot);
    Ok((
        conn,
        CopyFacts {
            identity,
            snapshot,
            applied,
        },
    ))
}

fn identity(server: &ServerIdentity, snapshot: &CatalogSnapshot) -> CopyIdentity {
    let mut notes = snapshot.notes.clone();
    let planner_stats = snapshot
        .tables
        .iter()
        .any(|t| t.row_source == RowSource::Analyze);
    if server.last_analyzed.is_none() && planner_stats {
        notes.push(
            "this database's statistics views start empty (a clone or a freshly restored \
             database): row estimates come from the ANALYZE recorded in pg_class, and index \
             scan counts are 0"
                .to_string(),
        );
    } else if server.last_analyzed.is_none() {
        notes.push(
            "no user table of the copy was ever analyzed: row counts are estimates from \
             pg_class (0 or -1 for tables never vacuumed or analyzed); run ANALYZE on the copy \
             for real numbers"
                .to_string(),
        );
    }
    if server.in_recovery {
        notes.push(
            "the copy is a standby: its index usage statistics describe only the queries run \
             on the standby"
                .to_string(),
        );
    }
    CopyIdentity {
        server_version: server.version.clone(),
        database: server.database.clone(),
        database_bytes: server.database_bytes,
        last_analyzed: server.last_analyzed.clone(),
        in_recovery: server.in_recovery,
        notes,
    }
}

/// Plain EXPLAIN of every statement of `migrations` that is worth explaining
/// (`explain::explain_candidate`), keyed by (migration index, statement index), except
/// those of `applied` migrations (already in the copy, reviewed anyway with `--all`).
///
/// The schema is replayed in memory alongside, because the copy itself never changes at
/// this level: a statement on a table that an earlier pending statement creates cannot be
/// planned on the copy, and one on a table an earlier pending statement alters would be
/// planned against the old shape. Those are skipped with the reason rather than explained
/// wrongly; execution level (a disposable clone) measures them for real. A statement the
/// server refuses to plan is skipped with the server's message; a lost connection is an
/// error (`evidence::lost`), never a skip.
pub async fn explain_pending(
    conn: &mut PgConnection,
    migrations: &[ParsedMigration],
    applied: &[usize],
    snapshot: &CatalogSnapshot,
) -> Result<Plans> {
    let mut plans = Plans::new();
    let mut schema = Schema::new(snapshot.clone());
    // Tables whose shape an earlier pending statement changed, with where.
    let mut changed: Vec<(QualifiedName, String)> = Vec::new();
    for (mi, pm) in migrations.iter().enumerate() {
        // Already applied on the copy (reviewed with --all): its effect is in the catalog.
        if applied.contains(&mi) {
            continue;
        }
        for (si, stmt) in pm.statements.iter().enumerate() {
            if explain_candidate(stmt) {
                let outcome = match dml_table(&stmt.kind).filter(|t| schema.table_is_new(t)) {
                    Some(table) => PlanOutcome::Skipped(format!(
                        "{table} is created by an earlier pending statement, so the copy \
                         cannot plan this statement; execution level (--clone or --restore) \
                         measures it"
                    )),
                    None => match explain(conn, &stmt.text).await {
                        Ok(plan) => PlanOutcome::Explained(plan),
                        // A dead server is no reason to skip a rule: the run stops.
                        Err(e) if super::lost::is_connection_lost(&e) => {
                            return Err(e.context(format!(
                                "Failed to EXPLAIN {}:{}",
                                pm.migration.path, stmt.start.line
                            )));
                        }
                        Err(e) => PlanOutcome::Skipped(refused(&e, stmt, &changed)),
                    },
                };
                plans.insert((mi, si), outcome);
            }
            if let Some(table) = reshaped_table(&stmt.kind) {
                let at = format!("{}:{}", pm.migration.path, stmt.start.line);
                changed.push((table.clone(), at));
            }
            schema.apply(stmt);
        }
    }
    Ok(plans)
}

/// The server's reason for not planning `stmt`, and when an earlier pending statement
/// reshaped its table (the usual cause: a backfill of a column added just before), where.
fn refused(error: &anyhow::Error, stmt: &Statement, changed: &[(QualifiedName, String)]) -> String {
    let earlier = dml_table(&stmt.kind).and_then(|table| {
        changed
            .iter()
            .rev()
            .find(|(t, _)| t.matches(table))
            .map(|(_, at)| (table, at))
    });
    match earlier {
        Some((table, at)) => format!(
            "{error:#}; {table} is altered by an earlier pending statement ({at}) that the copy \
             has not run: execution level (--clone or --restore) measures it"
        ),
        None => format!("{error:#}"),
    }
}

fn dml_table(kind: &StatementKind) -> Option<&QualifiedName> {
    match kind {
        StatementKind::Update { table, .. }
        | StatementKind::Delete { table, .. }
        | StatementKind::Insert { table, .. } => Some(table),
        _ => None,
    }
}

/// The table whose columns or indexes a statement changes, if any: its later DML would plan
/// differently than on the copy.
fn reshaped_table(kind: &StatementKind) -> Option<&QualifiedName> {
    match kind {
        StatementKind::AlterTable { name, .. } => Some(name),
        StatementKind::CreateIndex { table, .. } => Some(table),
        _ => None,
    }
}
