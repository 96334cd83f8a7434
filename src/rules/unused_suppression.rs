//! `unused-suppression`: TODO(placeholder until the rule is written).

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M044",
    name: "unused-suppression",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/unused-suppression/bad.sql"),
    good: include_str!("../../fixtures/rules/unused-suppression/good.sql"),
    check: Check::Engine,
};
