//! `rollback-fails`: the migration's rollback SQL (annotation or down file) errors when run
//! on a disposable copy right after the migration. The executor runs the round trip
//! (`execute::rollback`); the engine hands its outcome to `risks`.

use super::{Check, Risk, Rule};
use crate::execute::rollback::RollbackOutcome;
use crate::model::{Evidence, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M066",
    name: "rollback-fails",
    severity: Severity::Error,
    evidence: Evidence::Execution,
    what: "Flags a migration whose rollback SQL (the `-- rollback:` annotation or the down/undo \
           migration) fails when run on a disposable copy right after the migration itself, \
           and shows PostgreSQL's error.",
    why: "A rollback is run when something has already gone wrong, under pressure, often by \
          someone who did not write it. If it fails then — a wrong object name, a missing IF \
          EXISTS, statements in the wrong order, a CONCURRENTLY inside a transaction — the \
          incident gets longer and the database is left half-way between two versions.",
    instead: "Fix the rollback until it runs cleanly after the migration: drop objects in \
              reverse order of creation, use the names the migration really gave them, use IF \
              EXISTS, and mark it non-transactional when it uses CONCURRENTLY. If the change \
              cannot be undone, say so: `-- rollback: irreversible`.",
    rollback: "Not applicable: this rule is about the rollback itself.",
    bad: include_str!("../../fixtures/rules/rollback-fails/bad.sql"),
    good: include_str!("../../fixtures/rules/rollback-fails/good.sql"),
    check: Check::Engine,
};

/// The failure, when the rollback SQL failed on the copy.
pub(crate) fn risks(outcome: &RollbackOutcome) -> Vec<Risk> {
    let Some(error) = &outcome.error else {
        return Vec::new();
    };
    vec![Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(format!(
            "The rollback fails on the copy right after the migration: {}",
            error.trim()
        ))
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_postgresql_s_error() {
        let found = risks(&RollbackOutcome {
            error: Some("index \"orders_status_ix\" does not exist".into()),
            differences: Vec::new(),
        });
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .ends_with("index \"orders_status_ix\" does not exist"));
        assert!(risks(&RollbackOutcome::default()).is_empty());
    }
}
