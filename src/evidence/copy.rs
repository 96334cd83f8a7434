//! Everything a catalog-level review reads from the copy, in one place and in one order:
//! who the server is, the catalog snapshot, and the framework's history table.
//!
//! Reading happens before any rule runs, so the rules stay pure and a slow or unreachable
//! server fails the run once, with one clear error, instead of once per statement.

use super::catalog::CatalogSnapshot;
use super::connect::{connect_read_only, server_identity, ServerIdentity};
use super::history::{read_applied, AppliedMigrations};
use crate::model::{CopyIdentity, Layout};
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
    let snapshot = CatalogSnapshot::read(&mut conn)
        .await
        .with_context(|| format!("Failed to read the catalog of {}", server.database))?;
    let applied = match layout {
        Some(layout) => read_applied(&mut conn, layout, None)
            .await
            .with_context(|| {
                format!("Failed to read the migration history of {}", server.database)
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
    if server.last_analyzed.is_none() {
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
