//! `int-primary-key`: TODO(placeholder until the rule is written).

use super::{Check, Context, Risk, Rule};
use crate::model::Statement;
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M030",
    name: "int-primary-key",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/int-primary-key/bad.sql"),
    good: include_str!("../../fixtures/rules/int-primary-key/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, _stmt: &Statement) -> Option<Risk> {
    None
}
