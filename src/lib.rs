//! migsafe reviews database migrations before they ship: it reads the migration files of a
//! change, judges each statement with rules that know PostgreSQL's locking and rewrite
//! behaviour, and reports every risky step with its owner, expected result and rollback.
//!
//! The modules follow the pipeline: `load` → `parse` → `metadata` → `rules` (via `review`)
//! → `report`. `model` holds the types passed between them.

pub mod changed;
pub mod cli;
pub mod config;
pub mod dist;
pub mod evidence;
pub mod execute;
pub mod load;
pub mod locks;
pub mod metadata;
pub mod model;
pub mod parse;
pub mod pending;
pub mod plan;
pub mod production;
pub mod progress;
pub mod quote;
pub mod report;
pub mod review;
pub mod rules;
pub mod schema;
pub mod suppress;
pub mod verdicts;
