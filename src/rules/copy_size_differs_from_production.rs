//! `copy-size-differs-from-production`: a table a reviewed migration touches whose size on
//! the copy is far from production's (`check --production`). Produced by `production::drift`.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M101",
    name: "copy-size-differs-from-production",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "With `--production SNAPSHOT`: flags each table a reviewed migration touches whose \
           row estimate on the copy is less than half or more than twice production's, with \
           both sizes and the ratio.",
    why: "Lock and rewrite times grow with the table: a CREATE INDEX that locks a 120,000-row \
          copy for 0.4 s locks 1.2 million production rows for about ten times as long. Plans \
          change with size too (an index scan on the copy is a seq scan in production). \
          Severities are judged at production size and measurements are scaled with a cost \
          model, but a prediction from a small sample is less certain than a measurement on \
          a copy of the real size.",
    instead: "Review on a copy of production's size where you can (a full restore, a thin clone \
              or a database branch); otherwise read the predicted durations, not the measured \
              ones, and size the lock budget from them.",
    rollback: "Nothing to roll back: this describes the copy, not a change.",
    bad: include_str!("../../fixtures/rules/copy-size-differs-from-production/bad.sql"),
    good: include_str!("../../fixtures/rules/copy-size-differs-from-production/good.sql"),
    check: Check::Engine,
};
