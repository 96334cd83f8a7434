//! `truncate-table`: TODO(placeholder until the rule is written).

use super::{Check, Context, Risk, Rule};
use crate::model::Statement;
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M026",
    name: "truncate-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/truncate-table/bad.sql"),
    good: include_str!("../../fixtures/rules/truncate-table/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, _stmt: &Statement) -> Option<Risk> {
    None
}
