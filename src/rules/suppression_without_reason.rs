//! `suppression-without-reason`: a `migsafe:allow` comment with no `reason:`. Produced by
//! the review engine, which does not honour such a suppression.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M045",
    name: "suppression-without-reason",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags a `migsafe:allow` or `migsafe:allow-file` comment without `reason: ...`. \
           Such a comment suppresses nothing: the findings it names are still reported.",
    why: "A suppression records a decision that a known risk is acceptable in this one place. \
          Without the reason, the next reviewer cannot tell whether that decision still \
          holds, and bare allow comments turn into a habit of silencing rules.",
    instead: "Say why the risk is acceptable here: \
              `-- migsafe:allow create-index-non-concurrently reason: table is created above`.",
    rollback: "Not applicable: this rule concerns review comments, not the schema.",
    bad: include_str!("../../fixtures/rules/suppression-without-reason/bad.sql"),
    good: include_str!("../../fixtures/rules/suppression-without-reason/good.sql"),
    check: Check::Engine,
};

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn instead_completes_the_users_own_comment() {
        let found = check(
            &RULE,
            "-- migsafe:allow drop-column\nALTER TABLE rental DROP COLUMN last_update;\n",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`-- migsafe:allow drop-column reason: <why this is safe here>`"),
            "{instead}"
        );
        assert!(
            !instead.contains("create-index-non-concurrently"),
            "{instead}"
        );
    }
}
