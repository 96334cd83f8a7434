//! `transaction-nesting`: explicit transaction control that fights the transaction the
//! migration already runs in.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind, Transaction};

pub const RULE: Rule = Rule {
    code: "M034",
    name: "transaction-nesting",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `BEGIN`/`START TRANSACTION` in a migration the framework already runs in a \
           transaction, or while an explicit transaction is already open, and `COMMIT`/\
           `ROLLBACK` that end the framework's transaction. A `COMMIT` followed by a `BEGIN` \
           that reopens it (alembic's `autocommit_block()`, written on purpose to run a \
           statement outside the transaction) is allowed.",
    why: "PostgreSQL has no nested transactions: a second `BEGIN` only prints \"WARNING: there \
          is already a transaction in progress\". The `COMMIT` meant to close it then commits \
          the framework's transaction instead, so the statements after it, and the framework's \
          own bookkeeping (its migrations table), run outside any transaction: a later failure \
          leaves the migration half applied and possibly unrecorded. A `ROLLBACK` inside the \
          framework's transaction silently discards everything before it. (PostgreSQL docs: \
          BEGIN, COMMIT, ROLLBACK, Notes.)",
    instead: "Let the framework own the transaction: remove `BEGIN`/`COMMIT` from a \
              transactional migration. If you need to control transactions yourself (batches, \
              `CREATE INDEX CONCURRENTLY`), turn the framework's wrapping off for that migration \
              (`-- no-transaction` for sqlx/plain, `-- +goose NO TRANSACTION`, \
              `transaction:false` for dbmate) and write each `BEGIN` with its matching `COMMIT`. \
              Use `SAVEPOINT` for a nested rollback point.",
    rollback: "Nothing to undo for the finding itself; if the migration stopped half applied, \
               reverse the statements that ran after the early COMMIT and fix its entry in the \
               framework's migrations table.",
    bad: include_str!("../../fixtures/rules/transaction-nesting/bad.sql"),
    good: include_str!("../../fixtures/rules/transaction-nesting/good.sql"),
    check: Check::Statement(check),
};

/// PostgreSQL's view of the session's transaction just before the current statement.
struct TxState {
    /// A transaction block is open.
    open: bool,
    /// The open block is the one the runner started (not one the author reopened).
    runner_owns_it: bool,
}

/// Replays the transaction-control statements before the current one the way PostgreSQL
/// executes them: a BEGIN inside a block is ignored, a COMMIT/ROLLBACK ends whichever block
/// is open. Only transaction-control statements are looked at, so the replay is cheap.
fn replay(ctx: &Context) -> TxState {
    // Only a File runner opens a block of its own. A BEGIN in a query string of several
    // statements (Implicit) turns PostgreSQL's implicit transaction into an explicit one
    // without a warning, and an unknown runner is judged as psql: the file's BEGIN is its own.
    let wrapped = ctx.transaction() == Transaction::File;
    let mut tx = TxState {
        open: wrapped,
        runner_owns_it: wrapped,
    };
    if !wrapped {
        // Without a runner transaction the engine's state is exact.
        tx.open = ctx.state.explicit_transaction;
        return tx;
    }
    for s in ctx.earlier() {
        match s.kind {
            StatementKind::Begin if !tx.open => tx.open = true,
            StatementKind::Commit | StatementKind::Rollback if tx.open => {
                tx.open = false;
                tx.runner_owns_it = false;
            }
            _ => {}
        }
    }
    tx
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    if !matches!(
        stmt.kind,
        StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback
    ) {
        return None;
    }
    let tx = replay(ctx);
    let runner = ctx.migration.migration.layout;
    let keyword = keyword(stmt);
    let message = match &stmt.kind {
        StatementKind::Begin if tx.open && tx.runner_owns_it && !ctx.state.explicit_transaction => {
            format!(
                "{keyword} in a migration the {runner} runner already wraps in a transaction: \
                 PostgreSQL ignores it, and the matching COMMIT ends the runner's transaction \
                 early, so later statements run outside it; remove BEGIN/COMMIT or mark the \
                 migration non-transactional"
            )
        }
        StatementKind::Begin if tx.open => format!(
            "{keyword} while a transaction is already open: PostgreSQL ignores it with a \
             warning, and the next COMMIT ends the outer transaction"
        ),
        // The author believes this closes their own BEGIN: reported at that BEGIN.
        _ if ctx.state.explicit_transaction => return None,
        StatementKind::Rollback if tx.open && tx.runner_owns_it => format!(
            "{keyword} inside the transaction the {runner} runner wraps this migration in: it \
             silently discards every statement before it, and later statements run outside \
             any transaction"
        ),
        // `COMMIT; ...; BEGIN;` steps out of the runner's transaction and back in on purpose
        // (alembic's autocommit_block, CREATE INDEX CONCURRENTLY in a wrapped migration).
        StatementKind::Commit if tx.open && tx.runner_owns_it && !reopened_later(ctx) => {
            format!(
                "{keyword} inside the transaction the {runner} runner wraps this migration in: \
                 it ends that transaction early, so later statements and the runner's \
                 bookkeeping run outside it"
            )
        }
        _ => return None,
    };
    let risk = Risk::new(message);
    Some(match super::instead::no_transaction(runner) {
        Some(marker) if tx.runner_owns_it => risk.with_instead(format!(
            "Let the {runner} runner own the transaction: remove `{keyword}` and its partner from \
             this migration. If you need to control transactions yourself (batches, `CREATE \
             INDEX CONCURRENTLY`), turn the runner's wrapping off for this migration with \
             {marker} and write each `BEGIN` with its matching `COMMIT`. Use `SAVEPOINT` for a \
             nested rollback point."
        )),
        _ => risk,
    })
}

/// Whether the next transaction-control statement after this one is a BEGIN.
fn reopened_later(ctx: &Context) -> bool {
    ctx.later()
        .iter()
        .find(|s| {
            matches!(
                s.kind,
                StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback
            )
        })
        .is_some_and(|s| matches!(s.kind, StatementKind::Begin))
}

/// The statement's opening keyword as written (`BEGIN`, `START TRANSACTION`, `END`, `ABORT`),
/// so the message quotes what the author typed.
fn keyword(stmt: &Statement) -> String {
    let first = stmt
        .text
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_ascii_uppercase();
    if first == "START" {
        "START TRANSACTION".to_string()
    } else if first.is_empty() {
        match stmt.kind {
            StatementKind::Begin => "BEGIN",
            StatementKind::Commit => "COMMIT",
            _ => "ROLLBACK",
        }
        .to_string()
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Transaction;
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn instead_uses_the_detected_runners_marker() {
        let report = crate::review::review_sql(
            "00042_rental_backfill.sql",
            "-- +goose Up\nBEGIN;\nUPDATE rental SET note = '';\nCOMMIT;\n",
            &crate::config::Settings::default(),
        )
        .unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == RULE.name)
            .unwrap();
        assert!(
            f.instead
                .contains("Let the goose runner own the transaction: remove `BEGIN`"),
            "{}",
            f.instead
        );
        assert!(
            f.instead.contains("`-- +goose NO TRANSACTION`"),
            "{}",
            f.instead
        );
    }

    #[test]
    fn flags_begin_inside_the_framework_transaction_once() {
        let found = check(
            &RULE,
            "SET lock_timeout = '2s'; BEGIN; CREATE TABLE t (id bigint); COMMIT;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.starts_with("BEGIN"),
            "{}",
            found[0].message
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint); START TRANSACTION; CREATE TABLE u (id bigint); COMMIT;"
            ),
            1
        );
    }

    #[test]
    fn flags_stray_commit_and_rollback_in_a_framework_transaction() {
        let found = check(
            &RULE,
            "CREATE TABLE t (id bigint); COMMIT; CREATE TABLE u (id bigint);",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.starts_with("COMMIT"),
            "{}",
            found[0].message
        );
        let found = check(&RULE, "CREATE TABLE t (id bigint); ROLLBACK;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("discards"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn allows_stepping_out_of_the_runner_transaction_and_back_in() {
        // alembic's autocommit_block() and the hand-written equivalent.
        assert_eq!(
            count(
                &RULE,
                "ALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\nCREATE TABLE u (id bigint);"
            ),
            0
        );
        // Several batches each committed and reopened.
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout = '2s';\nBEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;"
            ),
            1
        );
    }

    #[test]
    fn flags_nested_begin_without_framework_transaction() {
        let found = check(
            &RULE,
            "-- no-transaction\nBEGIN;\nCREATE TABLE t (id bigint);\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("already open"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn allows_explicit_transactions_in_non_transactional_migrations() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;"
            ),
            0
        );
        assert_eq!(count(&RULE, "CREATE TABLE t (id bigint);"), 0);
        // A plain file whose first statement is BEGIN, run by an unknown runner, is judged as
        // psql runs it: the file's BEGIN is its own.
        assert_eq!(
            check_as(&RULE, "BEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;", None).len(),
            0
        );
    }

    #[test]
    fn a_begin_in_a_query_string_is_not_nesting() {
        // golang-migrate sends the file as one query: PostgreSQL turns its implicit transaction
        // into the explicit one without a warning.
        let sql = "BEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;\nBEGIN;\nCREATE TABLE u (id bigint);\nCOMMIT;";
        assert_eq!(check_as(&RULE, sql, Some(Transaction::Implicit)).len(), 0);
        // A second BEGIN inside the first still warns.
        let nested = "BEGIN;\nBEGIN;\nCREATE TABLE t (id bigint);\nCOMMIT;";
        let found = check_as(&RULE, nested, Some(Transaction::Implicit));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("already open"),
            "{}",
            found[0].message
        );
        // Temporal-style: each statement on its own, the file's BEGIN/COMMIT its own.
        assert_eq!(check_as(&RULE, sql, Some(Transaction::Statement)).len(), 0);
        assert_eq!(check_as(&RULE, sql, None).len(), 0);
    }
}
