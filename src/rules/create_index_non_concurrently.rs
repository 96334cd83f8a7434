//! `create-index-non-concurrently`: a plain `CREATE INDEX` on an existing table.

use super::{Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M001",
    name: "create-index-non-concurrently",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `CREATE INDEX` without `CONCURRENTLY` on a table that existed before this migration.",
    why: "A plain index build holds a SHARE lock on the table for the whole build: every INSERT, \
          UPDATE and DELETE waits until the index is complete, which on a large table means \
          minutes of blocked writes. (PostgreSQL docs: CREATE INDEX, \"Building Indexes Concurrently\".)",
    instead: "Use `CREATE INDEX CONCURRENTLY` in a migration that does not run inside a \
              transaction. It takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes \
              continue; if it fails it leaves an INVALID index to drop and retry.",
    rollback: "`DROP INDEX CONCURRENTLY IF EXISTS <index>;`",
    bad: include_str!("../../fixtures/rules/create-index-non-concurrently/bad.sql"),
    good: include_str!("../../fixtures/rules/create-index-non-concurrently/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::CreateIndex {
        name,
        table,
        concurrently: false,
        ..
    } = &stmt.kind
    else {
        return None;
    };
    if ctx.table_is_new(table) {
        return None;
    }
    let index = name
        .as_ref()
        .map(|n| format!("index {n}"))
        .unwrap_or_else(|| "an index".to_string());
    Some(
        Risk::new(format!(
            "Building {index} on {table} without CONCURRENTLY blocks writes to {table} until the build finishes"
        ))
        .with_instead(instead_for(&stmt.text, ctx))
        .on_table(table)
        .with_lock(LockMode::Share),
    )
}

/// The same statement with CONCURRENTLY (and IF NOT EXISTS, so a retry after a failed build
/// is safe once the invalid index is dropped), run outside a transaction.
fn instead_for(text: &str, ctx: &Context) -> String {
    let lower = text.to_ascii_lowercase();
    let concurrent = lower.find("index").map(|at| {
        let (head, tail) = text.split_at(at + "index".len());
        let exists = if lower.contains("if not exists") {
            ""
        } else {
            " IF NOT EXISTS"
        };
        format!("{head} CONCURRENTLY{exists}{tail}")
    });
    match concurrent {
        Some(sql) => format!(
            "Build it without blocking writes, {}: `{};`. If the build fails it leaves an \
             INVALID index: drop it with `DROP INDEX CONCURRENTLY` and retry.",
            super::instead::outside_transaction(ctx.migration.migration.layout),
            sql.trim().trim_end_matches(';')
        ),
        None => RULE.instead.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::count;

    #[test]
    fn instead_is_the_users_statement_with_concurrently() {
        let found = crate::rules::test_support::check(
            &RULE,
            "CREATE INDEX rental_customer_id_idx ON rental (customer_id);",
        );
        assert!(
            found[0].instead.contains(
                "`CREATE INDEX CONCURRENTLY IF NOT EXISTS rental_customer_id_idx ON rental (customer_id);`"
            ),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_plain_index_on_existing_table() {
        assert_eq!(count(&RULE, "CREATE INDEX idx ON orders (customer_id);"), 1);
        assert_eq!(
            count(
                &RULE,
                "create unique index on public.orders using btree (a, b) where b > 0;"
            ),
            1
        );
    }

    #[test]
    fn ignores_concurrent_builds_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE INDEX CONCURRENTLY idx ON orders (customer_id);"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint); CREATE INDEX t_idx ON t (id);"
            ),
            0
        );
    }

    #[test]
    fn indexes_built_inside_do_blocks_and_called_functions_are_judged() {
        use crate::rules::test_support::check;
        // The "create it if it is missing" DO block many projects write by hand.
        let found = check(
            &RULE,
            "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'orders_status_idx') THEN\n    CREATE INDEX orders_status_idx ON orders (status);\n  END IF;\nEND\n$$;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 4);
        assert!(found[0].message.contains("inside the DO block on line 1"));
        let found = check(
            &RULE,
            "CREATE OR REPLACE FUNCTION add_missing_indexes() RETURNS void LANGUAGE plpgsql AS $$\n\
             BEGIN\n  CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status);\nEND $$;\n\
             SELECT add_missing_indexes();\nDROP FUNCTION add_missing_indexes();",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 3);
        assert!(found[0]
            .message
            .contains("function add_missing_indexes() (created on line 1), called on line 5"));
    }
}
