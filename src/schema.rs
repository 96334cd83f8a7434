//! The copy's schema, replayed in memory statement by statement, so that statement N of the
//! pending migrations is judged against the schema that statements 1..N-1 left behind.
//!
//! Pure: built from a `CatalogSnapshot` read by `evidence::catalog`; no I/O here.

use crate::evidence::catalog::CatalogSnapshot;

/// The schema at one point of the replay.
#[derive(Debug, Clone)]
pub struct Schema {
    pub snapshot: CatalogSnapshot,
}
