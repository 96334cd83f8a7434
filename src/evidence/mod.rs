//! Evidence from a real database: the only modules that talk to PostgreSQL.
//!
//! - `connect`: read-only sessions with timeouts, password-free errors, server identity.
//! - `conninfo`: libpq's sslmode semantics for sqlx, and URL settings as `PG*` environment
//!   variables for psql / pg_restore (no secret on a command line).
//! - `catalog`: one consistent snapshot of tables, columns, indexes, constraints, sequences
//!   and views, with the lookups rules need (PRODUCT.md §3, evidence level "catalog").
//! - `history`: which migrations the database's framework history table says are applied,
//!   and the frameworks' file checksums (pending-migration detection).
//! - `explain`: plain EXPLAIN (never ANALYZE) of pending DML, which cannot write.
//! - `copy`: reads all of the above from a copy, once, before the rules run, and explains
//!   the pending DML with the schema replayed alongside.
//! - `clone`: `--clone`, a `CREATE DATABASE … TEMPLATE` copy dropped when the run ends.
//! - `cluster`: a throwaway local PostgreSQL (initdb, socket-only postmaster, cleanup).
//! - `dump_scan`: what a plain dump may make psql do (checked before it is restored).
//! - `restore`: dump formats, pg_restore / psql into a fresh database, ANALYZE.
//! - `lost`: a lost connection at any phase is a run that could not finish (exit 2).
//! - `cache`: restored dumps kept as templates, the per-run disposable clone, the cache lock.
//! - `template_check`: what a cached template held at restore, checked before each use.

pub mod cache;
pub mod catalog;
pub mod clone;
pub mod cluster;
pub mod connect;
pub mod conninfo;
pub mod copy;
pub mod depends;
pub mod dump_scan;
pub mod explain;
pub mod history;
pub mod lost;
pub mod restore;
pub mod snapshot;
pub mod template_check;
