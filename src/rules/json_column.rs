//! `json-column`: TODO(placeholder until the rule is written).

use super::{Check, Context, Risk, Rule};
use crate::model::Statement;
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M033",
    name: "json-column",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/json-column/bad.sql"),
    good: include_str!("../../fixtures/rules/json-column/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, _stmt: &Statement) -> Option<Risk> {
    None
}
