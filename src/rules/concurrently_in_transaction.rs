//! `concurrently-in-transaction`: TODO(placeholder until the rule is written).

use super::{Check, Context, Risk, Rule};
use crate::model::Statement;
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M004",
    name: "concurrently-in-transaction",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/concurrently-in-transaction/bad.sql"),
    good: include_str!("../../fixtures/rules/concurrently-in-transaction/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, _stmt: &Statement) -> Option<Risk> {
    None
}
