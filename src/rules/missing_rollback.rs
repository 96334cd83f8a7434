//! `missing-rollback`: TODO(placeholder until the rule is written).

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M042",
    name: "missing-rollback",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/missing-rollback/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-rollback/good.sql"),
    check: Check::Migration(check),
};

fn check(_ctx: &MigrationContext) -> Option<Risk> {
    None
}
