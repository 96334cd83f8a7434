//! Plain `EXPLAIN` of a migration's DML on the copy: which statements are worth explaining,
//! and running `EXPLAIN (VERBOSE, FORMAT JSON)` so that it can neither write nor wait long.
//!
//! Never `ANALYZE`: EXPLAIN ANALYZE executes the statement. Plain EXPLAIN only plans it, and
//! PostgreSQL allows that for UPDATE, DELETE and INSERT even in a read-only transaction (the
//! read-only check is skipped for EXPLAIN-only execution; docs: "EXPLAIN", and
//! `default_transaction_read_only` in "Client Connection Defaults"). Planning still takes the
//! statement's table locks (ROW EXCLUSIVE for DML) for the instant of the transaction, which is
//! why the session's `lock_timeout` matters: behind a migration holding ACCESS EXCLUSIVE on
//! the table, EXPLAIN fails after the timeout instead of queueing (and making every later query
//! queue behind it).
//!
//! `VERBOSE` is added for one reason: it is what makes EXPLAIN name each relation's schema, so
//! that `billing.orders` and `public.orders` stay apart. Its `Output` lists are ignored.

use crate::model::{Statement, StatementKind};
use crate::plan::Plan;
use anyhow::{Context as _, Result};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};

/// Why a statement could not be explained, for callers that treat the cases differently
/// (the engine turns both into `PlanOutcome::Skipped` with this message as the reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The text is not exactly one statement (empty, only comments, or several).
    #[error("Failed to EXPLAIN: {0}")]
    NotOneStatement(String),
    /// The server could not plan the statement, in its own words: a column that a pending
    /// statement adds, a table that does not exist yet, a lock timeout.
    #[error("Failed to EXPLAIN the statement: {message}")]
    Rejected {
        /// SQLSTATE, e.g. `42703` (undefined column), `42P01` (undefined table), `55P03`
        /// (lock not available).
        code: Option<String>,
        /// The server's message, with its hint when it gave one.
        message: String,
    },
}

/// Whether a statement's plan says something the rules can use.
///
/// - UPDATE and DELETE (with or without WHERE, and with CTEs): the plan tells how many rows
///   they touch and whether finding them reads the whole table.
/// - INSERT ... SELECT: the same for the rows it copies and the tables it reads.
///
/// Not explained:
/// - INSERT ... VALUES: it touches as many rows as it lists; the plan adds nothing.
/// - SELECT: in a migration it is a `set_config`, a sanity check or a function call
///   (`SELECT pg_advisory_lock(...)`, `SELECT create_hypertable(...)`); its plan shows neither
///   the rows it changes nor what the function does, and it modifies nothing itself.
/// - DDL (CREATE TABLE AS, REFRESH MATERIALIZED VIEW, ...): their risks are lock and rewrite
///   rules' business, and EXPLAIN cannot plan most of them.
pub fn explain_candidate(stmt: &Statement) -> bool {
    matches!(
        stmt.kind,
        StatementKind::Update { .. }
            | StatementKind::Delete { .. }
            | StatementKind::Insert {
                from_select: true,
                ..
            }
    )
}

/// Runs `EXPLAIN (VERBOSE, FORMAT JSON) <sql>` and parses the plan. Never ANALYZE.
///
/// `sql` must be one statement; a trailing semicolon and comments are fine, several
/// statements are an [`ExplainError::NotOneStatement`]. The statement is sent alone through
/// the extended query protocol, which the server refuses to run more than one statement
/// through, so nothing in `sql` can smuggle a second command past this check.
///
/// Runs inside `BEGIN READ ONLY` (or a savepoint, when the caller already has a transaction
/// open) that is always rolled back, so even on a session that is not read-only (a disposable
/// clone) explaining writes nothing. Expects a session from `connect_read_only`, whose
/// `lock_timeout` and `statement_timeout` bound the wait.
pub async fn explain(conn: &mut PgConnection, sql: &str) -> Result<Plan> {
    let statement = single_statement(sql)?;
    let query = format!("EXPLAIN (VERBOSE, FORMAT JSON) {statement}");

    let mut tx = conn
        .begin()
        .await
        .context("Failed to open a read-only transaction for EXPLAIN")?;
    // The session default already makes it read-only; saying so here keeps that true on a
    // connection opened some other way. Always allowed, even inside a savepoint.
    sqlx::query("SET TRANSACTION READ ONLY")
        .execute(&mut *tx)
        .await
        .context("Failed to make the EXPLAIN transaction read-only")?;
    // Not persistent: every EXPLAIN text is different, and caching them would only grow the
    // connection's statement cache.
    let result = sqlx::query(AssertSqlSafe(query))
        .persistent(false)
        .fetch_one(&mut *tx)
        .await;
    let rolled_back = tx.rollback().await;
    let row = result.map_err(rejected)?;
    rolled_back.context("Failed to roll back the EXPLAIN transaction")?;

    // EXPLAIN's column is of type json; its binary form is the JSON text itself, and sqlx's
    // `json` feature (serde_json::Value) is not needed for a value we parse ourselves.
    let json: String = row
        .try_get_unchecked(0)
        .context("Failed to read the EXPLAIN output")?;
    Plan::from_json(&json)
}

/// The one statement in `sql`, without its terminating semicolon; split by migsafe's own
/// splitter, so semicolons in strings, dollar quotes and comments do not count.
fn single_statement(sql: &str) -> Result<String, ExplainError> {
    let part = crate::parse::parse_sql(sql, false);
    match part.statements.as_slice() {
        [one] => Ok(one.text.trim().to_string()),
        [] => Err(ExplainError::NotOneStatement(
            "the text holds no statement".to_string(),
        )),
        several => Err(ExplainError::NotOneStatement(format!(
            "the text holds {} statements; explain them one at a time",
            several.len()
        ))),
    }
}

/// The server's words for a failed EXPLAIN (sqlx's Display adds noise a user does not need).
fn rejected(error: sqlx::Error) -> anyhow::Error {
    match &error {
        // A terminated session or a server shutting down answers with an error (57P01,
        // 57P02) before it closes: that is a lost connection, never a refusal to plan that
        // would turn into a skipped rule (issue #9).
        sqlx::Error::Database(_) if super::lost::is_lost(&error) => {
            anyhow::Error::new(error).context("Failed to run EXPLAIN")
        }
        sqlx::Error::Database(db) => {
            let mut message = db.message().to_string();
            let hint = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.hint());
            if let Some(hint) = hint {
                message.push_str(&format!(" (hint: {hint})"));
            }
            ExplainError::Rejected {
                code: db.code().map(|c| c.into_owned()),
                message,
            }
            .into()
        }
        _ => anyhow::Error::new(error).context("Failed to run EXPLAIN"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_sql;

    fn first(sql: &str) -> Statement {
        parse_sql(sql, true).statements.remove(0)
    }

    #[test]
    fn dml_that_reads_rows_is_explained() {
        for sql in [
            "UPDATE orders SET status = 'x' WHERE id < 10",
            "UPDATE orders SET status = 'x'",
            "DELETE FROM orders WHERE status = 'stuck'",
            "INSERT INTO archive SELECT * FROM orders WHERE created_at < now()",
            "WITH moved AS (DELETE FROM orders RETURNING *) INSERT INTO archive SELECT * FROM moved",
        ] {
            assert!(explain_candidate(&first(sql)), "{sql}");
        }
    }

    #[test]
    fn values_selects_and_ddl_are_not() {
        for sql in [
            "INSERT INTO orders (customer_id) VALUES (1), (2)",
            "SELECT set_config('lock_timeout', '2s', false)",
            "SELECT count(*) FROM orders",
            "CREATE TABLE archive AS SELECT * FROM orders",
            "CREATE INDEX orders_status_idx ON orders (status)",
            "SET lock_timeout = '2s'",
        ] {
            assert!(!explain_candidate(&first(sql)), "{sql}");
        }
    }

    #[test]
    fn one_statement_with_its_semicolon_and_comments_is_accepted() {
        assert_eq!(
            single_statement("UPDATE t SET a = 'x;y' WHERE b = $$;$$;  -- done\n").unwrap(),
            "UPDATE t SET a = 'x;y' WHERE b = $$;$$"
        );
        assert_eq!(
            single_statement("-- why\nDELETE FROM t WHERE id = 1").unwrap(),
            "DELETE FROM t WHERE id = 1"
        );
    }

    #[test]
    fn several_or_no_statements_are_refused() {
        let err = single_statement("UPDATE t SET a = 1; DROP TABLE t;").unwrap_err();
        assert!(err.to_string().contains("2 statements"), "{err}");
        let err = single_statement("  -- nothing\n ; ").unwrap_err();
        assert!(err.to_string().contains("no statement"), "{err}");
    }
}
