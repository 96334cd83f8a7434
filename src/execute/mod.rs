//! Evidence level "execution" (PRODUCT.md §3): running the pending migrations on a
//! disposable clone of the copy and measuring what they do.
//!
//! - `run`: the executor (transaction semantics, timeouts, refusal on non-disposable
//!   targets) and the rollback round trip.
//! - `trace`: what the run measured, per migration and statement (pure data).
//! - `locks`: relation snapshots, `pg_locks` sampling, the observer connection and the
//!   lock-hold bookkeeping.
//! - `rollback`, `expect`, `watch`: schema comparison for rollbacks, expected results and
//!   watched queries.

pub mod expect;
pub mod locks;
pub mod rollback;
pub mod run;
pub mod trace;
pub mod watch;

pub use run::{run_pending, ExecOptions};
pub use trace::Trace;
