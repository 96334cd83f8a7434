//! `times-out-on-copy`: a statement that the disposable copy cancelled because it ran longer
//! than `statement_timeout` (SQLSTATE 57014) or waited longer than `lock_timeout` for its lock
//! (55P03). That is not a problem with the data (no duplicate, NULL or orphan made it fail):
//! it is a measured duration, and a lower bound at that (issue #11, item 5).

use super::{Check, Risk, Rule};
use crate::config::Settings;
use crate::execute::trace::MigrationRun;
use crate::model::{Evidence, ParsedMigration, QualifiedName, Severity};
use crate::report::text::duration_ms;

pub const RULE: Rule = Rule {
    code: "M068",
    name: "times-out-on-copy",
    severity: Severity::Error,
    evidence: Evidence::Execution,
    what: "Flags a statement that the disposable copy cancelled because it ran longer than the \
           `statement_timeout` or waited longer than the `lock_timeout` in force there, with how \
           long it had been running: a lower bound of how long it runs (and holds its locks) in \
           production.",
    why: "A statement that outlives the copy's timeout runs at least that long on the real \
          data, and every lock it takes is held for all of it: an ACCESS EXCLUSIVE lock blocks \
          reads and writes of the table, SHARE blocks writes. In production there may be no \
          timeout at all (the deploy hangs while requests pile up behind the lock) or a \
          shorter one (the deploy fails halfway). Its real duration, rows and plan are unknown \
          because it never finished.",
    instead: "Make the statement short: build indexes `CONCURRENTLY`, add constraints `NOT \
              VALID` and validate them separately, backfill in batches of a few thousand rows \
              in their own transactions, avoid rewriting type changes (add a new column, \
              backfill, swap). If the length is expected, raise `[execution] \
              statement_timeout` for the review and plan a maintenance window.",
    rollback: "Nothing to roll back for the cancelled statement itself (its transaction, if \
               any, is rolled back); a non-transactional migration's earlier statements stay \
               applied, and a cancelled CREATE INDEX CONCURRENTLY leaves an INVALID index to \
               drop.",
    bad: include_str!("../../fixtures/rules/times-out-on-copy/bad.sql"),
    good: include_str!("../../fixtures/rules/times-out-on-copy/good.sql"),
    check: Check::Engine,
};

/// The cancelled statement of a measured run, if it was cancelled by a timeout.
pub(crate) fn risks(
    run: &MigrationRun,
    migration: &ParsedMigration,
    settings: &Settings,
) -> Vec<(usize, Risk)> {
    let Some(failure) = &run.failed else {
        return Vec::new();
    };
    let error = &failure.error;
    if !error.is_timeout() {
        return Vec::new();
    }
    let elapsed = run
        .statement(failure.statement)
        .map_or(run.duration_ms, |s| s.duration_ms);
    let lock_wait = error.code == "55P03";
    let limit = if lock_wait {
        run.lock_timeout_ms
    } else {
        run.statement_timeout_ms
    };
    let setting = if lock_wait {
        "lock_timeout"
    } else {
        "statement_timeout"
    };
    let mut message = if lock_wait {
        format!(
            "Times out on the copy: cancelled after waiting {} for its lock ({})",
            duration_ms(elapsed),
            error.message
        )
    } else {
        format!(
            "Times out on the copy: cancelled after running {} ({})",
            duration_ms(elapsed),
            error.message
        )
    };
    if limit > 0 {
        message.push_str(&format!("; the copy's {setting} is {}", duration_ms(limit)));
    }
    message.push_str(if lock_wait {
        ". Something on the copy held a conflicting lock that long: in production the \
         statement queues behind it, and everything after it queues behind the statement."
    } else {
        ". It runs at least that long on this data, holding its locks the whole time; its \
         real duration is unknown because it never finished."
    });
    let transactional = migration
        .statements
        .get(failure.statement)
        .is_none_or(|s| s.in_transaction);
    message.push_str(if transactional {
        " The migration's transaction was rolled back and the statements after it did not run."
    } else {
        " The statements before it ran outside a transaction and stay applied; the ones after \
         it did not run."
    });
    let mut risk = Risk::new(message);
    if let Some(s) = migration.statements.get(failure.statement) {
        risk = risk.with_instead(format!(
            "Make `{}` short: build indexes `CONCURRENTLY`, add constraints `NOT VALID` and \
             validate them separately, backfill in batches of {} rows in their own \
             transactions, avoid rewriting type changes (add a new column, backfill, swap). If \
             the length is expected, raise `[execution] {setting}` for the review and plan a \
             maintenance window.",
            super::instead::statement_head(&s.text, 120),
            settings.thresholds.batch_rows
        ));
    }
    if let Some(table) = &error.table {
        risk = risk.on_table(&QualifiedName::new(None, table));
    }
    risk.facts.duration_ms = Some(elapsed);
    vec![(failure.statement, risk)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::trace::{DbError, Failure, StatementRun};

    fn migration(sql: &str) -> ParsedMigration {
        let migrations = crate::load::load_text("test.sql", sql, None).unwrap();
        crate::review::prepare(
            migrations.into_iter().next().unwrap(),
            &crate::metadata::Owners::default(),
        )
    }

    fn cancelled(code: &str, message: &str) -> MigrationRun {
        let error = DbError {
            code: code.into(),
            message: message.into(),
            ..DbError::default()
        };
        MigrationRun {
            statements: vec![StatementRun {
                index: 0,
                duration_ms: 5_012,
                error: Some(error.clone()),
                ..StatementRun::default()
            }],
            failed: Some(Failure {
                statement: 0,
                error,
            }),
            statement_timeout_ms: 5_000,
            lock_timeout_ms: 2_000,
            ..MigrationRun::default()
        }
    }

    #[test]
    fn a_statement_timeout_is_a_duration_not_a_data_problem() {
        let m = migration("UPDATE orders SET status = 'x';");
        let run = cancelled("57014", "canceling statement due to statement timeout");
        let found = risks(&run, &m, &Settings::default());
        assert_eq!(found.len(), 1);
        let message = &found[0].1.message;
        assert!(message.contains("after running 5.0 s"), "{message}");
        assert!(message.contains("statement_timeout is 5.0 s"), "{message}");
        assert!(message.contains("at least that long"), "{message}");
        assert_eq!(found[0].1.facts.duration_ms, Some(5_012));
    }

    #[test]
    fn instead_names_the_users_statement() {
        let m = migration("UPDATE rental SET status = 'returned';");
        let run = cancelled("57014", "canceling statement due to statement timeout");
        let found = risks(&run, &m, &Settings::default());
        let instead = found[0].1.instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("Make `UPDATE rental SET status = 'returned';` short"),
            "{instead}"
        );
        assert!(
            instead.contains("`[execution] statement_timeout`"),
            "{instead}"
        );
    }

    #[test]
    fn a_lock_timeout_names_the_wait() {
        let m = migration("ALTER TABLE orders ADD COLUMN x int;");
        let run = cancelled("55P03", "canceling statement due to lock timeout");
        let message = &risks(&run, &m, &Settings::default())[0].1.message;
        assert!(message.contains("waiting 5.0 s for its lock"), "{message}");
        assert!(message.contains("lock_timeout is 2.0 s"), "{message}");
    }

    #[test]
    fn a_data_failure_is_not_a_timeout() {
        let m = migration("CREATE UNIQUE INDEX a ON t (a);");
        let run = cancelled("23505", "could not create unique index");
        assert!(risks(&run, &m, &Settings::default()).is_empty());
    }
}
