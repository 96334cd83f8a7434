//! `concurrently-in-transaction`: a `CONCURRENTLY` operation that PostgreSQL refuses to run
//! inside a transaction block.

use super::{instead, Check, Context, Risk, Rule, UNKNOWN_RUNNER};
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind, Transaction};

pub const RULE: Rule = Rule {
    code: "M004",
    name: "concurrently-in-transaction",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... \
           CONCURRENTLY` and `ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY` where the \
           runner sends it inside a transaction: in the framework's BEGIN … COMMIT, in an \
           explicit BEGIN, or among other statements sent as one query (golang-migrate, sqlx \
           `-- no-transaction`, diesel `run_in_transaction = false`, dbmate \
           `transaction:false`), which PostgreSQL runs as one implicit transaction. Where the \
           runner is unknown (a plain file) it is info that names the assumption.",
    why: "These commands commit several transactions of their own internally, so PostgreSQL \
          rejects them inside a transaction block (\"ERROR: CREATE INDEX CONCURRENTLY cannot run \
          inside a transaction block\"): the migration fails on deploy even though it passed on \
          a developer machine that ran it statement by statement. (PostgreSQL docs: CREATE \
          INDEX, DROP INDEX, REINDEX and ALTER TABLE, \"CONCURRENTLY\".) `REFRESH MATERIALIZED \
          VIEW CONCURRENTLY` is not affected: it may run in a transaction.",
    instead: "Move the statement into its own migration that runs outside a transaction, \
              alone in its file when the runner sends the file as one query: \
              `-- no-transaction` (sqlx, plain), `-- +goose NO TRANSACTION`, \
              `-- migrate:up transaction:false` (dbmate), `executeInTransaction=false` \
              (Flyway), `disable_ddl_transaction!` (Rails), `atomic = False` (Django), \
              `autocommit_block()` (Alembic). Keep one concurrent statement per migration so that \
              a failure leaves an obvious state (an INVALID index to drop and retry). Do not \
              wrap it in an explicit BEGIN/COMMIT either.",
    rollback: "Nothing was applied: the statement fails and the surrounding transaction rolls \
               back.",
    bad: include_str!("../../fixtures/rules/concurrently-in-transaction/bad.sql"),
    good: include_str!("../../fixtures/rules/concurrently-in-transaction/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    // Outside any block, only an unknown runner leaves room for a transaction around it.
    let assumed = !stmt.in_transaction;
    if assumed && !ctx.runner_unknown() {
        return None;
    }
    let (command, object) = match &stmt.kind {
        StatementKind::CreateIndex {
            name,
            table,
            concurrently: true,
            ..
        } => (
            "CREATE INDEX CONCURRENTLY",
            match name {
                Some(name) => format!("index {name} on {table}"),
                None => format!("an index on {table}"),
            },
        ),
        StatementKind::DropIndex {
            names,
            concurrently: true,
            ..
        } => (
            "DROP INDEX CONCURRENTLY",
            format!(
                "index {}",
                names
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        StatementKind::Reindex {
            name,
            concurrently: true,
            ..
        } => (
            "REINDEX CONCURRENTLY",
            name.as_ref()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "the indexes".to_string()),
        ),
        StatementKind::AlterTable { name, actions, .. } => {
            let partition = actions.iter().find_map(|a| match a {
                AlterAction::DetachPartition {
                    partition,
                    concurrently: true,
                    ..
                } => Some(partition),
                _ => None,
            })?;
            (
                "DETACH PARTITION CONCURRENTLY",
                format!("partition {partition} of {name}"),
            )
        }
        _ => return None,
    };
    let risk = if assumed {
        Risk::new(format!(
            "{command} for {object} runs only outside a transaction block: psql runs it, but a \
             runner that wraps the file in a transaction, or sends it with other statements as \
             one query, makes PostgreSQL reject it; {UNKNOWN_RUNNER}"
        ))
        .with_severity(Severity::Info)
    } else {
        let how = match ctx.transaction() {
            Transaction::Implicit if !inside_explicit_block(ctx) => {
                " (the runner sends the file as one query, which PostgreSQL runs as one \
                 implicit transaction)"
            }
            _ => "",
        };
        Risk::new(format!(
            "{command} cannot run inside a transaction block{how}: PostgreSQL rejects the \
             statement for {object} and the migration fails; run it in a migration without a \
             transaction, alone in its file"
        ))
    };
    let risk = match instead::no_transaction(ctx.migration.migration.layout) {
        Some(marker) => risk.with_instead(format!(
            "Move `{}` into its own migration that runs outside a transaction: {marker}, alone \
             in its file, with no explicit BEGIN/COMMIT around it. One concurrent statement per \
             migration leaves an obvious state when it fails (an INVALID index to drop and \
             retry).",
            instead::statement_head(&stmt.text, 120)
        )),
        None => risk,
    };
    Some(match &stmt.kind {
        StatementKind::CreateIndex { table, .. } => risk.on_table(table),
        StatementKind::AlterTable { name, .. } => risk.on_table(name),
        _ => risk,
    })
}

/// Whether an explicit `BEGIN` the file wrote is open before the current statement.
fn inside_explicit_block(ctx: &Context) -> bool {
    ctx.state.explicit_transaction
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::{Severity, Transaction};
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn instead_uses_the_detected_runners_marker() {
        let found = check(
            &RULE,
            "CREATE INDEX CONCURRENTLY idx_rental_return_date ON rental (return_date);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains(
                "Move `CREATE INDEX CONCURRENTLY idx_rental_return_date ON rental (return_date);`"
            ),
            "{instead}"
        );
        assert!(
            instead.contains("`-- no-transaction` as the file's first line"),
            "{instead}"
        );
        assert!(!instead.contains("dbmate"), "{instead}");
        let goose = crate::review::review_sql(
            "00042_rental_index.sql",
            "-- +goose Up\nCREATE INDEX CONCURRENTLY idx_rental_return_date ON rental (return_date);\n",
            &crate::config::Settings::default(),
        )
        .unwrap();
        let f = goose.findings.iter().find(|f| f.rule == RULE.name).unwrap();
        assert!(
            f.instead.contains("`-- +goose NO TRANSACTION`"),
            "{}",
            f.instead
        );
    }

    #[test]
    fn flags_concurrent_commands_inside_a_transaction() {
        let findings = check(
            &RULE,
            "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("orders_status_idx"));
        assert_eq!(
            count(&RULE, "DROP INDEX CONCURRENTLY orders_status_idx;"),
            1
        );
        assert_eq!(
            count(&RULE, "REINDEX INDEX CONCURRENTLY orders_status_idx;"),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;"
            ),
            1
        );
    }

    #[test]
    fn flags_an_explicit_transaction_in_a_non_transactional_migration() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\nCOMMIT;"
            ),
            1
        );
    }

    #[test]
    fn allows_concurrent_commands_outside_transactions() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n\
                 DROP INDEX CONCURRENTLY orders_old_idx;\nREINDEX TABLE CONCURRENTLY orders;"
            ),
            0
        );
    }

    #[test]
    fn allows_refresh_concurrently_and_plain_commands_in_a_transaction() {
        assert_eq!(
            count(&RULE, "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_daily;"),
            0
        );
        assert_eq!(
            count(&RULE, "CREATE INDEX orders_status_idx ON orders (status);"),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE measurements DETACH PARTITION measurements_2023;"
            ),
            0
        );
    }

    #[test]
    fn flags_unique_and_if_not_exists_variants() {
        assert_eq!(
            count(
                &RULE,
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);"
            ),
            1
        );
        assert_eq!(
            count(&RULE, "DROP INDEX CONCURRENTLY IF EXISTS users_email_key;"),
            1
        );
    }

    #[test]
    fn an_unknown_runner_gives_info_that_names_the_assumption() {
        let found = check_as(
            &RULE,
            "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
            None,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Info);
        assert!(
            found[0].message.contains("assumed psql"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("[[runner]]"),
            "{}",
            found[0].message
        );
        // Inside the file's own BEGIN it fails under any runner.
        let found = check_as(
            &RULE,
            "BEGIN;\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\nCOMMIT;",
            None,
        );
        assert_eq!(found[0].severity, Severity::Error);
    }

    #[test]
    fn among_other_statements_sent_as_one_query_it_fails() {
        let sql = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);";
        let found = check_as(&RULE, sql, Some(Transaction::Implicit));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("one query"),
            "{}",
            found[0].message
        );
        // Alone in the query string it runs outside any block.
        assert_eq!(
            check_as(
                &RULE,
                "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
                Some(Transaction::Implicit)
            )
            .len(),
            0
        );
        // Statement by statement, each on its own: fine.
        assert_eq!(check_as(&RULE, sql, Some(Transaction::Statement)).len(), 0);
    }
}
