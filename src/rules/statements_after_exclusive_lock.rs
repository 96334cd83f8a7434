//! `statements-after-exclusive-lock`: more work in a transaction that already holds an
//! ACCESS EXCLUSIVE lock on an existing table.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::{referenced_tables, table_locks, LockMode};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M018",
    name: "statements-after-exclusive-lock",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags the first statement that runs, in the same transaction, after a statement took \
           an ACCESS EXCLUSIVE lock on a table that existed before the migration. Transaction \
           control, SET and quick catalog-only statements (CREATE VIEW, COMMENT ON, GRANT, \
           CREATE FUNCTION, DDL on tables created in this migration) are ignored. Reported \
           once per lock.",
    why: "PostgreSQL releases table locks only at COMMIT or ROLLBACK. Once a statement holds \
          ACCESS EXCLUSIVE, every read and write of that table waits until the transaction \
          ends, so every later statement in the transaction — a backfill, an index build, an \
          ALTER of another table that first has to wait for its own lock — lengthens the \
          outage. A quick ADD COLUMN followed by a slow UPDATE turns a millisecond lock into \
          minutes. (PostgreSQL docs: Explicit Locking, \"Table-Level Locks\": locks are held \
          until the end of the transaction.)",
    instead: "Keep the exclusively locking statement alone, or last, in its transaction: run \
              data backfills and other tables' changes in separate migrations (or in a \
              migration without a transaction, where each statement commits on its own), and \
              combine several changes to the same table into one ALTER TABLE statement.",
    rollback: "Nothing specific: this is about ordering. Roll back the individual statements.",
    bad: include_str!("../../fixtures/rules/statements-after-exclusive-lock/bad.sql"),
    good: include_str!("../../fixtures/rules/statements-after-exclusive-lock/good.sql"),
    check: Check::Statement(check),
};

/// Catalog-only statements (no data work, no lock on another existing table): they keep the
/// lock a millisecond longer, and some belong in the same transaction on purpose, like the
/// compatibility view created right after a table rename.
const CATALOG_ONLY: &[&str] = &[
    "comment on",
    "grant",
    "revoke",
    "create function",
    "create or replace function",
    "create procedure",
    "create or replace procedure",
    "create type",
    "create sequence",
    "create domain",
    "create extension",
];

/// Statements that do not prolong the lock in any way that matters.
fn is_harmless(ctx: &Context, kind: &StatementKind) -> bool {
    match kind {
        StatementKind::Begin
        | StatementKind::Commit
        | StatementKind::Rollback
        | StatementKind::Set { .. }
        | StatementKind::PsqlMeta { .. }
        | StatementKind::CreateSchema { .. }
        | StatementKind::AlterSequence { .. } => true,
        StatementKind::CreateView { materialized, .. } => !materialized,
        StatementKind::Other { keywords } => CATALOG_ONLY.iter().any(|k| keywords.starts_with(k)),
        // New tables are empty: creating or altering them is catalog work, unless a foreign
        // key reaches out to (and locks) an existing table or a query fills the table.
        StatementKind::CreateTable {
            columns,
            constraints,
            as_select,
            ..
        } => {
            let references_existing =
                referenced_tables(columns, constraints).any(|t| !ctx.table_is_new(t));
            !as_select && !references_existing
        }
        StatementKind::AlterTable { .. } | StatementKind::CreateIndex { .. } => {
            let locks = table_locks(kind);
            !locks.is_empty() && locks.iter().all(|l| ctx.table_is_new(&l.table))
        }
        _ => false,
    }
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let (lock_index, table) = ctx.state.exclusive_lock.as_ref()?;
    if !stmt.in_transaction || is_harmless(ctx, &stmt.kind) {
        return None;
    }
    // Once per lock: only the first statement that matters after the locking one. The scan
    // stops at the first such statement, so it stays short.
    let between = ctx.migration.statements.get(lock_index + 1..ctx.index)?;
    if between.iter().any(|s| !is_harmless(ctx, &s.kind)) {
        return None;
    }
    let line = ctx
        .migration
        .statements
        .get(*lock_index)
        .map(|s| format!(" on line {}", s.start.line))
        .unwrap_or_default();
    Some(
        Risk::new(format!(
            "{table} is locked ACCESS EXCLUSIVE by the statement{line} until this transaction \
             commits, so reads and writes on {table} also wait for this statement (and any \
             after it); run it in a separate transaction"
        ))
        .with_instead(format!(
            "Keep the statement{line} that locks {} alone, or last, in its transaction: move \
             `{}` (and what follows it) into a separate migration, or end the transaction with \
             `COMMIT;` right after the locking statement. Combine several changes to {} into one \
             ALTER TABLE statement.",
            instead::table(table),
            instead::statement_head(&stmt.text, 120),
            instead::table(table)
        ))
        .on_table(table)
        .with_lock(LockMode::AccessExclusive),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Transaction;
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn instead_names_the_locked_table_and_the_users_statement() {
        let found = check(
            &RULE,
            "SET lock_timeout = '2s';\n\
             ALTER TABLE rental ADD COLUMN returned_by int;\n\
             UPDATE rental SET returned_by = staff_id;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("on line 2 that locks rental alone"),
            "{instead}"
        );
        assert!(
            instead.contains("move `UPDATE rental SET returned_by = staff_id;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_the_first_statement_after_the_lock() {
        let findings = check(
            &RULE,
            "SET lock_timeout = '2s';\n\
             ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n\
             UPDATE orders SET shipped_at = updated_at WHERE status = 'shipped';\n\
             UPDATE orders SET shipped_at = created_at WHERE status = 'delivered';",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].line, 3);
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert!(findings[0].message.contains("line 2"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
    }

    #[test]
    fn ignores_transaction_control_and_settings() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n\
                 SET statement_timeout = '5s';\n\
                 COMMENT ON COLUMN orders.shipped_at IS 'when it left the warehouse';"
            ),
            0
        );
    }

    #[test]
    fn ignores_catalog_only_follow_ups() {
        // The safe rename: the compatibility view must be created in the same transaction.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE customers RENAME TO clients;\n\
                 CREATE VIEW customers AS SELECT * FROM clients;\n\
                 GRANT SELECT ON customers TO reporting;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN cart_id bigint;\n\
                 CREATE TABLE carts (id bigint PRIMARY KEY, owner bigint);\n\
                 CREATE INDEX carts_owner_idx ON carts (owner);"
            ),
            0
        );
    }

    #[test]
    fn flags_follow_ups_that_do_work_or_lock_other_tables() {
        for sql in [
            "ALTER TABLE orders ADD COLUMN a text;\nCREATE MATERIALIZED VIEW m AS SELECT * FROM orders;",
            "ALTER TABLE orders ADD COLUMN a text;\n\
             CREATE TABLE carts (id bigint, customer_id bigint REFERENCES customers (id));",
            "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE users ADD COLUMN b text;",
        ] {
            assert_eq!(count(&RULE, sql), 1, "{sql}");
        }
    }

    #[test]
    fn quiet_when_each_statement_commits_on_its_own() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\n\
                 ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n\
                 UPDATE orders SET shipped_at = updated_at WHERE status = 'shipped';"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\n\
                 ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\nCOMMIT;\n\
                 UPDATE orders SET shipped_at = updated_at WHERE status = 'shipped';"
            ),
            0
        );
    }

    #[test]
    fn ignores_weaker_locks_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE INDEX orders_status_idx ON orders (status);\n\
                 UPDATE orders SET status = 'new' WHERE status IS NULL;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint);\nALTER TABLE carts ADD COLUMN owner bigint;\n\
                 INSERT INTO carts (id) VALUES (1);"
            ),
            0
        );
    }

    #[test]
    fn follows_how_the_runner_sends_the_file() {
        let sql = "ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n\
                   UPDATE orders SET shipped_at = updated_at WHERE status = 'shipped';";
        // One query string (golang-migrate): one implicit transaction, the lock stays.
        assert_eq!(check_as(&RULE, sql, Some(Transaction::Implicit)).len(), 1);
        // Each statement on its own (temporal's schema tool), or an unknown runner judged as
        // psql: the lock ends with its statement.
        assert_eq!(check_as(&RULE, sql, Some(Transaction::Statement)).len(), 0);
        assert_eq!(check_as(&RULE, sql, None).len(), 0);
    }
}
