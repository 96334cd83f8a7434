//! `uncommitted-transaction`: an explicit `BEGIN` that the migration never closes.

use super::{Check, Context, Risk, Rule, UNKNOWN_RUNNER};
use crate::model::{Evidence, Severity, Statement, StatementKind, Transaction};

pub const RULE: Rule = Rule {
    code: "M035",
    name: "uncommitted-transaction",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags an explicit `BEGIN`/`START TRANSACTION` with no later `COMMIT`, `END` or \
           `ROLLBACK` in a migration the framework does not wrap in a transaction (inside a \
           framework transaction, transaction-nesting reports it).",
    why: "The migration ends with its transaction still open. What happens next depends on the \
          tool, and none of it is what the author meant: the session sits \"idle in \
          transaction\" holding every lock its statements took (an ACCESS EXCLUSIVE lock from \
          an ALTER TABLE blocks all reads of that table) until the connection closes, at which \
          point PostgreSQL rolls everything back; or the framework's next statement (its \
          migrations-table insert) runs inside it and the outcome depends on whether anything \
          ever commits. (PostgreSQL docs: BEGIN; the `idle in transaction` state of \
          `pg_stat_activity`; `idle_in_transaction_session_timeout`.)",
    instead: "Close every explicit transaction in the same migration: end it with `COMMIT;`. \
              Better, let the framework own the transaction and remove the explicit `BEGIN`.",
    rollback: "If a deploy left a session idle in transaction, end it \
               (`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in \
               transaction' AND ...`): its changes roll back. Then fix the migration and run it \
               again.",
    bad: include_str!("../../fixtures/rules/uncommitted-transaction/bad.sql"),
    good: include_str!("../../fixtures/rules/uncommitted-transaction/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    if !matches!(stmt.kind, StatementKind::Begin) {
        return None;
    }
    // Inside the framework's transaction the framework's COMMIT closes it; that misuse is
    // transaction-nesting's finding. A BEGIN nested in an open one is closed by the same COMMIT.
    if ctx.transaction() == Transaction::File || ctx.state.explicit_transaction {
        return None;
    }
    if ctx.later().iter().any(ends_transaction) {
        return None;
    }
    let message = "BEGIN is never committed: the migration ends with the transaction open, \
                   holding its locks until the connection closes and then rolling everything \
                   back; end it with COMMIT";
    Some(if ctx.runner_unknown() {
        // A runner that wraps the file would commit it after all.
        Risk::new(format!(
            "{message} (unless the runner wraps the file in a transaction of its own and \
             commits that; {UNKNOWN_RUNNER})"
        ))
        .with_severity(Severity::Warning)
    } else {
        Risk::new(message)
    })
}

fn ends_transaction(stmt: &Statement) -> bool {
    match &stmt.kind {
        StatementKind::Commit | StatementKind::Rollback => true,
        // Two-phase commit also ends the session's transaction.
        StatementKind::Other { keywords } => keywords.starts_with("prepare transaction"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{Severity, Transaction};
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn flags_begin_without_commit() {
        let found = check(
            &RULE,
            "-- no-transaction\nBEGIN;\nALTER TABLE orders ADD COLUMN note text;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 2);
    }

    #[test]
    fn flags_a_self_managed_plain_file_left_open() {
        // An unknown runner: psql leaves it open, a wrapping runner would commit it, so a
        // warning that names the assumption rather than an error.
        let found = check_as(&RULE, "BEGIN;\nCREATE TABLE t (id bigint);", None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message.contains("assumed psql"),
            "{}",
            found[0].message
        );
        // Statement by statement or as one query, nothing commits it: an error.
        for mode in [Transaction::Statement, Transaction::Implicit] {
            let found = check_as(&RULE, "BEGIN;\nCREATE TABLE t (id bigint);", Some(mode));
            assert_eq!(found.len(), 1, "{mode}");
            assert_eq!(found[0].severity, Severity::Error, "{mode}");
        }
    }

    #[test]
    fn flags_only_the_begin_left_open() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE u (id bigint);"
            ),
            1
        );
    }

    #[test]
    fn accepts_commit_end_and_rollback() {
        for close in ["COMMIT", "END", "ROLLBACK", "COMMIT TRANSACTION"] {
            let sql = format!("-- no-transaction\nBEGIN;\nCREATE TABLE t (id bigint);\n{close};");
            assert_eq!(count(&RULE, &sql), 0, "{close}");
        }
    }

    #[test]
    fn leaves_framework_transactions_to_transaction_nesting() {
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout = '2s'; BEGIN; CREATE TABLE t (id bigint);"
            ),
            0
        );
    }
}
