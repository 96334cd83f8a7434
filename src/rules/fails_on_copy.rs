//! `fails-on-copy`: a statement that PostgreSQL rejected when the migration ran on the
//! disposable clone of the real data.

use super::{Check, Risk, Rule};
use crate::config::Settings;
use crate::execute::trace::MigrationRun;
use crate::model::{Evidence, ParsedMigration, QualifiedName, Severity};

pub const RULE: Rule = Rule {
    code: "M060",
    name: "fails-on-copy",
    severity: Severity::Error,
    evidence: Evidence::Execution,
    what: "Flags the statement at which a migration failed when it was run on a disposable \
           clone of the copy, with PostgreSQL's error and its detail: the duplicated key of a \
           unique index, the NULL row of SET NOT NULL, the orphan value of a foreign key.",
    why: "A migration that works on an empty development database can fail on real data: \
          existing duplicates, NULLs or orphan rows make the constraint impossible. In \
          production the deploy stops halfway; a transactional migration is rolled back after \
          holding its locks for as long as it ran, a non-transactional one leaves its earlier \
          statements applied (and a failed CREATE INDEX CONCURRENTLY leaves an INVALID index \
          behind). The run on the clone stops at the failed statement, as production would.",
    instead: "Fix the data first, in its own migration or a batched backfill (delete or merge \
              the duplicates, fill the NULLs, remove or repair the orphans), then add the \
              constraint; for large tables add it `NOT VALID` and `VALIDATE CONSTRAINT` \
              separately. Re-run the review to confirm the clone accepts it.",
    rollback: "Nothing to roll back for the failed statement itself; a non-transactional \
               migration's earlier statements stay applied and need their own rollback, and an \
               INVALID index left by CONCURRENTLY must be dropped (`DROP INDEX CONCURRENTLY`).",
    bad: include_str!("../../fixtures/rules/fails-on-copy/bad.sql"),
    good: include_str!("../../fixtures/rules/fails-on-copy/good.sql"),
    check: Check::Engine,
};

/// The failed statement of a measured run, if any: (statement index, risk).
pub(crate) fn risks(
    run: &MigrationRun,
    migration: &ParsedMigration,
    _settings: &Settings,
) -> Vec<(usize, Risk)> {
    let Some(failure) = &run.failed else {
        return Vec::new();
    };
    let error = &failure.error;
    // A cancellation by a timeout is a measured duration, not a data problem:
    // times-out-on-copy reports it.
    if error.is_timeout() {
        return Vec::new();
    }
    let mut message = format!("Fails on the copy: {}", error.describe());
    if !error.code.is_empty() {
        message.push_str(&format!(" (SQLSTATE {})", error.code));
    }
    message.push('.');
    let transactional = migration
        .statements
        .get(failure.statement)
        .is_none_or(|s| s.in_transaction);
    message.push_str(if transactional {
        " The migration stops here and its transaction is rolled back; the statements after it \
         never run."
    } else {
        " The migration stops here; the statements before it ran outside a transaction and stay \
         applied, the ones after it never run."
    });
    let mut risk = Risk::new(message);
    if let Some(table) = &error.table {
        let t = super::instead::name(table);
        let statement = migration
            .statements
            .get(failure.statement)
            .map(|s| format!(" `{}`", super::instead::statement_head(&s.text, 120)))
            .unwrap_or_default();
        risk = risk
            .with_instead(format!(
                "Fix the data of {t} first, in its own migration or a batched backfill (delete \
                 or merge the duplicates, fill the NULLs, remove or repair the orphans), then \
                 run{statement}; on a large {t} add a constraint `NOT VALID` and `VALIDATE \
                 CONSTRAINT` separately. Re-run the review to confirm the clone accepts it."
            ))
            .on_table(&QualifiedName::new(None, table));
    }
    risk.facts.duration_ms = run.statement(failure.statement).map(|s| s.duration_ms);
    vec![(failure.statement, risk)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::trace::{DbError, Failure, StatementRun};

    fn migration(sql: &str, transactional: bool) -> ParsedMigration {
        let migrations = crate::load::load_text("test.sql", sql, None).unwrap();
        let mut m = crate::review::prepare(
            migrations.into_iter().next().unwrap(),
            &crate::metadata::Owners::default(),
        );
        for s in &mut m.statements {
            s.in_transaction = transactional;
        }
        m
    }

    fn failed(statement: usize, error: DbError) -> MigrationRun {
        MigrationRun {
            statements: vec![StatementRun {
                index: statement,
                duration_ms: 840,
                error: Some(error.clone()),
                ..StatementRun::default()
            }],
            failed: Some(Failure { statement, error }),
            ..MigrationRun::default()
        }
    }

    #[test]
    fn reports_postgres_error_with_the_duplicate_key() {
        let m = migration(
            "SET lock_timeout = '2s';\nCREATE UNIQUE INDEX users_email_key ON users (email);",
            true,
        );
        let run = failed(
            1,
            DbError {
                code: "23505".into(),
                message: "could not create unique index \"users_email_key\"".into(),
                detail: Some("Key (email)=(ann@example.com) is duplicated.".into()),
                table: Some("users".into()),
                ..DbError::default()
            },
        );
        let found = risks(&run, &m, &Settings::default());
        assert_eq!(found.len(), 1);
        let (index, risk) = &found[0];
        assert_eq!(*index, 1);
        assert!(
            risk.message.contains(
                "could not create unique index \"users_email_key\": Key (email)=(ann@example.com) is duplicated."
            ),
            "{}",
            risk.message
        );
        assert!(risk.message.contains("SQLSTATE 23505"), "{}", risk.message);
        assert!(
            risk.message.contains("transaction is rolled back"),
            "{}",
            risk.message
        );
        assert_eq!(risk.table.as_ref().map(|t| t.name.as_str()), Some("users"));
        assert_eq!(risk.facts.duration_ms, Some(840));
        let instead = risk.instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("Fix the data of users first")
                && instead
                    .contains("then run `CREATE UNIQUE INDEX users_email_key ON users (email);`"),
            "{instead}"
        );
    }

    #[test]
    fn says_when_earlier_statements_stay_applied_and_leaves_timeouts_to_their_rule() {
        let m = migration(
            "CREATE INDEX CONCURRENTLY a ON t (a);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;",
            false,
        );
        let error = |code: &str| DbError {
            code: code.into(),
            message: "column \"a\" of relation \"t\" contains null values".into(),
            ..DbError::default()
        };
        let found = risks(&failed(1, error("23502")), &m, &Settings::default());
        let message = &found[0].1.message;
        assert!(message.contains("stay applied"), "{message}");
        // times-out-on-copy reports cancellations: no advice about the data here.
        assert!(risks(&failed(1, error("57014")), &m, &Settings::default()).is_empty());
        assert!(risks(&failed(1, error("55P03")), &m, &Settings::default()).is_empty());
    }

    #[test]
    fn a_run_that_succeeded_has_nothing_to_report() {
        let m = migration("SELECT 1;", true);
        assert!(risks(&MigrationRun::default(), &m, &Settings::default()).is_empty());
    }
}
