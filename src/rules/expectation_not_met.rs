//! `expectation-not-met`: a migration's declared, checkable expected result (`-- expect:`)
//! that running it on a disposable copy contradicted. The checking is
//! `execute::expect::check`; the engine hands its result to `risks`.

use super::{Check, Risk, Rule};
use crate::model::{Evidence, ExpectStatus, Expected, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M063",
    name: "expectation-not-met",
    severity: Severity::Error,
    evidence: Evidence::Execution,
    what: "Flags an `-- expect:` line whose checkable form was measured on a disposable copy and \
           did not hold: rows affected, run duration, longest blocking lock, `fails` / \
           `succeeds`, or a query's plan after the migration (`plan \"<query>\" uses index \
           <name>`, `... no seq scan`).",
    why: "The expected result is what the author and the reviewers agreed the migration does. \
          When the copy of the real data says otherwise — ten times the rows, a lock held past \
          the budget, a plan that still reads the whole table — either the migration or the \
          author's picture of the data is wrong, and production will show the same surprise, \
          at a worse moment.",
    instead: "Find out why the measurement differs (the finding shows the measured value): fix \
              the migration (narrow its WHERE, batch it, build the index it needs), or, if the \
              new number is right and acceptable, correct the `-- expect:` line so that the \
              review records what will really happen.",
    rollback: "Nothing to undo: this rule compares a declaration with a measurement on the copy.",
    bad: include_str!("../../fixtures/rules/expectation-not-met/bad.sql"),
    good: include_str!("../../fixtures/rules/expectation-not-met/good.sql"),
    check: Check::Engine,
};

/// One risk per expectation the copy contradicted, pointing at its `-- expect:` line.
pub(crate) fn risks(checked: &[Expected]) -> Vec<Risk> {
    checked
        .iter()
        .filter(|e| e.status == ExpectStatus::NotMet)
        .map(|e| Risk {
            position: Some(Position {
                line: e.line.max(1),
                column: 1,
            }),
            ..Risk::new(format!(
                "Expected `{}`, but on the copy: {}",
                e.text.trim(),
                e.detail
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(text: &str, status: ExpectStatus, detail: &str, line: usize) -> Expected {
        Expected {
            text: text.into(),
            status,
            detail: detail.into(),
            line,
        }
    }

    #[test]
    fn one_risk_per_unmet_expectation_at_its_line() {
        let found = risks(&[
            expected(
                "rows <= 50000",
                ExpectStatus::NotMet,
                "rows affected 120,000 > 50,000",
                3,
            ),
            expected(
                "lock <= 2s",
                ExpectStatus::Met,
                "longest blocking lock held 12 ms <= 2.0 s",
                4,
            ),
            expected("faster", ExpectStatus::NotChecked, "free text", 5),
            expected(
                "succeeds",
                ExpectStatus::NotMet,
                "the migration failed on the copy: x",
                0,
            ),
        ]);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].message,
            "Expected `rows <= 50000`, but on the copy: rows affected 120,000 > 50,000"
        );
        assert_eq!(found[0].position, Some(Position { line: 3, column: 1 }));
        assert_eq!(found[1].position, Some(Position { line: 1, column: 1 }));
    }
}
