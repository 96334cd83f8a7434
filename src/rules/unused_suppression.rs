//! `unused-suppression`: a `migsafe:allow` comment that suppresses nothing. Produced by the
//! review engine (`review::apply_suppressions`), which knows what each suppression matched.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M044",
    name: "unused-suppression",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags a `migsafe:allow` comment that suppresses nothing: the rule it names found \
           nothing on that statement (or, for `allow-file`, in the file), the name is not a \
           rule, or it names no rule at all.",
    why: "A stale suppression is a trap: when the statement below it changes, it silently \
          covers a new risk that nobody reviewed. A misspelt rule name looks like a reviewed \
          exception while suppressing nothing.",
    instead: "Remove the comment, or correct the rule name (`migsafe rules` lists them) and put \
              it on the line right above the statement it is about: \
              `-- migsafe:allow <rule> reason: <why this is safe here>`.",
    rollback: "Not applicable: this rule concerns review comments, not the schema.",
    bad: include_str!("../../fixtures/rules/unused-suppression/bad.sql"),
    good: include_str!("../../fixtures/rules/unused-suppression/good.sql"),
    check: Check::Engine,
};
