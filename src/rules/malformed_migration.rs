//! `malformed-migration`: TODO(placeholder until the rule is written).

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M046",
    name: "malformed-migration",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/malformed-migration/bad.sql"),
    good: include_str!("../../fixtures/rules/malformed-migration/good.sql"),
    check: Check::Engine,
};
