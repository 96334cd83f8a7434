//! `not-executed-on-copy`: a reviewed migration that the run on the disposable copy never
//! executed (an earlier migration failed or timed out there, its rollback left the copy in a
//! state production would not reach, ...). Without this finding a run at execution level
//! would print "0 errors" for migrations nothing was measured for (issue #11, item 1).

use super::{Check, Risk, Rule};
use crate::execute::trace::MigrationRun;
use crate::model::{Evidence, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M067",
    name: "not-executed-on-copy",
    severity: Severity::Error,
    evidence: Evidence::Execution,
    what: "Flags a migration that was to be run on the disposable copy but never ran there, \
           and names what stopped it: the earlier migration that failed or timed out on the \
           copy (with its file, line and error), or a rollback round trip that left the copy \
           in a state production would not be in.",
    why: "An execution-level review vouches for what it ran. A migration that never ran was \
          not checked against the real data at all: its locks, rewrites, failures and expected \
          results are unknown. When the earlier migration that stopped it is unchanged (a \
          `--changed-since` run narrows the report to the changed files) or the copy is stale \
          or has no migration history, so that old migrations ran first, the report would \
          otherwise look green although nothing of the change was tried.",
    instead: "Fix what stopped the run: make the earlier migration pass on the copy (or mark it \
              applied by restoring a copy whose history table records it), refresh a stale \
              copy, or point `--database-url` at the database these migrations really run on. \
              Then re-run the review so that this migration is executed.",
    rollback: "Not applicable: nothing was executed.",
    bad: include_str!("../../fixtures/rules/not-executed-on-copy/bad.sql"),
    good: include_str!("../../fixtures/rules/not-executed-on-copy/good.sql"),
    check: Check::Engine,
};

/// The migration's own verdict when the run never reached it.
pub(crate) fn risks(run: &MigrationRun) -> Vec<Risk> {
    let Some(reason) = &run.not_executed else {
        return Vec::new();
    };
    let reason = reason.strip_prefix("not executed: ").unwrap_or(reason);
    vec![Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(format!(
            "Not executed on the copy, so nothing about it was measured and it is not known to \
             pass: {reason}."
        ))
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_that_ran_has_no_verdict_of_its_own_here() {
        assert!(risks(&MigrationRun::default()).is_empty());
    }

    #[test]
    fn names_what_stopped_it() {
        let run = MigrationRun {
            not_executed: Some(
                "not executed: db/1_init.sql failed at line 3 (relation \"users\" already exists)"
                    .into(),
            ),
            ..MigrationRun::default()
        };
        let found = risks(&run);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("db/1_init.sql failed at line 3"));
        assert!(found[0].message.starts_with("Not executed on the copy"));
    }
}
