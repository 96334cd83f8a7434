//! `rollback-does-not-restore`: the rollback runs, but the schema afterwards differs from the
//! schema before the migration. The executor snapshots both (`execute::rollback`); the
//! engine hands the outcome to `risks`.

use super::{Check, Risk, Rule};
use crate::execute::rollback::RollbackOutcome;
use crate::model::{Evidence, Position, Severity};

/// Differences listed in the message before the rest are counted.
const LISTED: usize = 20;

pub const RULE: Rule = Rule {
    code: "M065",
    name: "rollback-does-not-restore",
    severity: Severity::Warning,
    evidence: Evidence::Execution,
    what: "Flags a migration whose rollback SQL runs on a disposable copy but leaves the schema \
           different from before the migration (tables, columns with their types and \
           defaults, constraints, indexes, sequences, views, functions, triggers, enums, \
           extensions), and lists each difference.",
    why: "A rollback that does not restore the schema is a new, untested migration: an index \
          left behind slows writes, a constraint not put back lets bad data in, a default that \
          comes back different changes what the application stores. And the next attempt to \
          apply the migration may fail on what the rollback left over. It is a warning rather \
          than an error because the rollback did run; some leftovers (an unused index) are \
          harmless.",
    instead: "Make the rollback the exact inverse of the migration: remove everything it adds, \
              restore what it drops with the same definition (type, default, NOT NULL, \
              constraints, indexes), in reverse order. If a part cannot be restored (dropped \
              data), say so in the rollback note.",
    rollback: "Not applicable: this rule is about the rollback itself.",
    bad: include_str!("../../fixtures/rules/rollback-does-not-restore/bad.sql"),
    good: include_str!("../../fixtures/rules/rollback-does-not-restore/good.sql"),
    check: Check::Engine,
};

/// The differences, when the rollback ran (a failed rollback is `rollback-fails`' business)
/// and left the schema changed.
pub(crate) fn risks(outcome: &RollbackOutcome) -> Vec<Risk> {
    if outcome.error.is_some() || outcome.differences.is_empty() {
        return Vec::new();
    }
    let n = outcome.differences.len();
    let mut message = format!(
        "The rollback runs on the copy but does not restore the schema ({} difference{}): {}",
        n,
        if n == 1 { "" } else { "s" },
        outcome
            .differences
            .iter()
            .take(LISTED)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    );
    if n > LISTED {
        message.push_str(&format!("; and {} more", n - LISTED));
    }
    vec![Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(message)
    }]
}

/// A rollback that restores the schema but not the rows (a dropped column re-added empty,
/// deleted rows not put back): "restores the schema, loses data in …".
pub(crate) fn data_risks(data_loss: &[String]) -> Vec<Risk> {
    if data_loss.is_empty() {
        return Vec::new();
    }
    let mut message = format!(
        "The rollback restores the schema, loses data in {}",
        data_loss
            .iter()
            .take(LISTED)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    );
    if data_loss.len() > LISTED {
        message.push_str(&format!("; and {} more", data_loss.len() - LISTED));
    }
    message.push_str(
        ". Rolling back in production would not bring those values back: keep a copy of them \
         (a backup table, or a column that is deprecated before it is dropped), or declare the \
         migration `-- rollback: irreversible`.",
    );
    vec![Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(message)
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_difference() {
        let found = risks(&RollbackOutcome {
            error: None,
            differences: vec![
                "column orders.status is still present (added by up, not removed by the rollback): `text NULL`".into(),
                "index orders_status_idx is still present (added by up, not removed by the rollback): `CREATE INDEX ...`".into(),
            ],
        });
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("(2 differences)"), "{m}");
        assert!(m.contains("column orders.status is still present"), "{m}");
        assert!(m.contains("; index orders_status_idx"), "{m}");
    }

    #[test]
    fn silent_when_restored_or_failed() {
        assert!(risks(&RollbackOutcome::default()).is_empty());
        assert!(risks(&RollbackOutcome {
            error: Some("boom".into()),
            differences: vec!["x".into()],
        })
        .is_empty());
    }

    #[test]
    fn long_lists_are_cut() {
        let found = risks(&RollbackOutcome {
            error: None,
            differences: (0..25).map(|i| format!("d{i}")).collect(),
        });
        assert!(
            found[0].message.ends_with("d19; and 5 more"),
            "{}",
            found[0].message
        );
    }
}
