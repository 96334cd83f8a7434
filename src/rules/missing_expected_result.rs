//! `missing-expected-result`: TODO(placeholder until the rule is written).

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M041",
    name: "missing-expected-result",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/missing-expected-result/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-expected-result/good.sql"),
    check: Check::Migration(check),
};

fn check(_ctx: &MigrationContext) -> Option<Risk> {
    None
}
