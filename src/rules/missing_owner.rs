//! `missing-owner`: TODO(placeholder until the rule is written).

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M040",
    name: "missing-owner",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/missing-owner/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-owner/good.sql"),
    check: Check::Migration(check),
};

fn check(_ctx: &MigrationContext) -> Option<Risk> {
    None
}
