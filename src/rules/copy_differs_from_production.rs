//! `copy-differs-from-production`: an object (table, index, constraint, view, extension)
//! that production's snapshot has and the copy lacks, or the reverse (`check --production`).
//! Produced by `production::drift`; the rule holds the catalog entry.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M100",
    name: "copy-differs-from-production",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "With `--production SNAPSHOT`: flags each table, index, constraint, view or extension \
           that production has and the copy lacks, or that the copy has and production lacks, \
           and each index or constraint whose definition or validity differs. A warning when a \
           reviewed migration touches the object's table, info otherwise.",
    why: "The review's verdicts rest on the copy. An index production relies on but the copy \
          lacks changes the plans (a watched query that uses it in production seq-scans on the \
          copy), hides a duplicate-index or drop-index-in-use finding, and changes whether a \
          foreign key is covered. An object only the copy has makes a migration succeed on the \
          copy that fails in production (or the reverse).",
    instead: "Refresh the copy from production (or from a restore of its backup), or apply the \
              missing migrations to it, then review again. When the difference is intended \
              (a staging-only index), suppress the finding with the reason.",
    rollback: "Nothing to roll back: this describes the copy, not a change.",
    bad: include_str!("../../fixtures/rules/copy-differs-from-production/bad.sql"),
    good: include_str!("../../fixtures/rules/copy-differs-from-production/good.sql"),
    check: Check::Engine,
};
