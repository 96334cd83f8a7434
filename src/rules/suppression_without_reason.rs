//! `suppression-without-reason`: TODO(placeholder until the rule is written).

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M045",
    name: "suppression-without-reason",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/suppression-without-reason/bad.sql"),
    good: include_str!("../../fixtures/rules/suppression-without-reason/good.sql"),
    check: Check::Engine,
};
