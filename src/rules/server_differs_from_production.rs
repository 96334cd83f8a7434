//! `server-differs-from-production`: the copy's PostgreSQL version or a setting that changes
//! what a migration costs differs from production's (`check --production`). Produced by
//! `production::drift`.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M102",
    name: "server-differs-from-production",
    severity: Severity::Info,
    evidence: Evidence::Catalog,
    what: "With `--production SNAPSHOT`: flags a different PostgreSQL major version (a warning) \
           or minor version, and each setting that changes a migration's cost or outcome \
           (maintenance_work_mem, max_parallel_maintenance_workers, work_mem, lock_timeout, \
           statement_timeout, …) whose value differs between the copy and production.",
    why: "What is safe depends on the version (PostgreSQL 11 made ADD COLUMN with a constant \
          default instant; 12 added REINDEX CONCURRENTLY; 16 EXPLAIN GENERIC_PLAN), index \
          builds use maintenance_work_mem and parallel maintenance workers, and production's \
          lock_timeout or statement_timeout can cancel a migration that finished on the copy.",
    instead: "Run the copy on production's major version with production's settings for \
              maintenance and timeouts, or take the difference into account when reading \
              durations (a smaller maintenance_work_mem makes index builds sort on disk).",
    rollback: "Nothing to roll back: this describes the copy, not a change.",
    bad: include_str!("../../fixtures/rules/server-differs-from-production/bad.sql"),
    good: include_str!("../../fixtures/rules/server-differs-from-production/good.sql"),
    check: Check::Engine,
};
