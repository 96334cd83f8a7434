//! `uncommitted-transaction`: an explicit `BEGIN` that the migration never closes.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

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
    if ctx.migration.migration.up.transactional() || ctx.state.explicit_transaction {
        return None;
    }
    if ctx.later().iter().any(ends_transaction) {
        return None;
    }
    Some(Risk::new(
        "BEGIN is never committed: the migration ends with the transaction open, holding its \
         locks until the connection closes and then rolling everything back; end it with COMMIT",
    ))
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
    use crate::rules::test_support::{check, count};

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
        // The first statement is BEGIN, so the runner does not wrap the file.
        assert_eq!(count(&RULE, "BEGIN;\nCREATE TABLE t (id bigint);"), 1);
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
