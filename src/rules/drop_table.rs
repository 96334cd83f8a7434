//! `drop-table`: TODO(placeholder until the rule is written).

use super::{Check, Context, Risk, Rule};
use crate::model::Statement;
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M023",
    name: "drop-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "",
    why: "",
    instead: "",
    rollback: "",
    bad: include_str!("../../fixtures/rules/drop-table/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-table/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, _stmt: &Statement) -> Option<Risk> {
    None
}
