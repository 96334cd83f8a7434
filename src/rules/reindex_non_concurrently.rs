//! `reindex-non-concurrently`: a plain `REINDEX` of an existing index, table, schema or
//! database.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, ReindexTarget, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M003",
    name: "reindex-non-concurrently",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `REINDEX` without `CONCURRENTLY` on anything that existed before this migration.",
    why: "A plain REINDEX locks the table SHARE, so every INSERT, UPDATE and DELETE waits for the \
          whole rebuild, and it takes an ACCESS EXCLUSIVE lock on each index being rebuilt. \
          Because the planner locks every index of a table, even most SELECTs on the table wait. \
          `REINDEX SCHEMA`, `DATABASE` and `SYSTEM` cannot run inside a transaction block at \
          all. (PostgreSQL docs: REINDEX, \"Notes\" and \"Rebuilding Indexes Concurrently\".)",
    instead: "On PostgreSQL 12+ use `REINDEX INDEX CONCURRENTLY <index>;` (or `REINDEX TABLE \
              CONCURRENTLY <table>;`) in a migration that does not run inside a transaction. It \
              builds a replacement next to the old index and swaps them under brief locks, so \
              reads and writes continue. If it fails, drop the leftover INVALID `<index>_ccnew` \
              index and retry. On older versions: `CREATE INDEX CONCURRENTLY` a copy, \
              `DROP INDEX CONCURRENTLY` the old one, then rename the copy.",
    rollback: "Nothing to undo: REINDEX rebuilds the same definition. After an interrupted \
               `REINDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY IF EXISTS <index>_ccnew;`.",
    bad: include_str!("../../fixtures/rules/reindex-non-concurrently/bad.sql"),
    good: include_str!("../../fixtures/rules/reindex-non-concurrently/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Reindex {
        target,
        name,
        concurrently: false,
    } = &stmt.kind
    else {
        return None;
    };
    let named = |what: &str| match name {
        Some(n) => format!("{what} {n}"),
        None => what.to_string(),
    };
    let risk = match target {
        ReindexTarget::Table => {
            let table = name.as_ref()?;
            if ctx.table_is_new(table) {
                return None;
            }
            Risk::new(format!(
                "Rebuilding every index of {table} without CONCURRENTLY blocks writes to {table} \
                 and most reads until the rebuild finishes"
            ))
            .on_table(table)
        }
        ReindexTarget::Index => {
            let index = name.as_ref()?;
            if built_on_new_table(ctx, index) {
                return None;
            }
            Risk::new(format!(
                "Rebuilding index {index} without CONCURRENTLY blocks writes to its table, and \
                 reads that would use the index, until the rebuild finishes"
            ))
        }
        ReindexTarget::Schema | ReindexTarget::Database => Risk::new(format!(
            "Rebuilding every index in {} without CONCURRENTLY blocks writes to each table in \
             turn while its indexes are rebuilt",
            named(if *target == ReindexTarget::Schema {
                "schema"
            } else {
                "database"
            })
        )),
        ReindexTarget::System => Risk::new(
            "REINDEX SYSTEM rebuilds the system catalogs under exclusive locks and has no \
             CONCURRENTLY form: run it in a maintenance window, not in a migration",
        ),
    };
    let mut risk = risk.with_lock(LockMode::Share);
    if let Some(recipe) = instead_for(ctx, *target, name.as_ref()) {
        risk = risk.with_instead(recipe);
    }
    // Schema-, database- and system-wide REINDEX refuse to run in a transaction block.
    let keyword = match target {
        ReindexTarget::Schema => Some("SCHEMA"),
        ReindexTarget::Database => Some("DATABASE"),
        ReindexTarget::System => Some("SYSTEM"),
        ReindexTarget::Table | ReindexTarget::Index => None,
    };
    if let (true, Some(keyword)) = (stmt.in_transaction, keyword) {
        risk.message = format!(
            "{}; besides, REINDEX {keyword} cannot run inside a transaction block, so this \
             migration fails",
            risk.message
        );
        risk = risk.with_severity(Severity::Error);
    }
    Some(risk)
}

/// `REINDEX ... CONCURRENTLY` of the user's index, table or schema, with the runner's
/// no-transaction marker; `None` for SYSTEM (no concurrent form) and an unnamed target.
fn instead_for(
    ctx: &Context,
    target: ReindexTarget,
    name: Option<&QualifiedName>,
) -> Option<String> {
    let name = name?;
    let (keyword, object, leftover) = match target {
        ReindexTarget::Index => (
            "INDEX",
            instead::table(name),
            format!(
                "the leftover INVALID {} index",
                instead::name(&format!("{}_ccnew", name.name))
            ),
        ),
        ReindexTarget::Table => (
            "TABLE",
            instead::table(name),
            "each leftover INVALID `<index>_ccnew` index".to_string(),
        ),
        ReindexTarget::Schema => (
            "SCHEMA",
            instead::name(&name.name),
            "each leftover INVALID `<index>_ccnew` index".to_string(),
        ),
        ReindexTarget::Database | ReindexTarget::System => return None,
    };
    Some(format!(
        "On PostgreSQL 12+ use `REINDEX {keyword} CONCURRENTLY {object};` {}. It builds a \
         replacement next to each old index and swaps them under brief locks, so reads and \
         writes continue. If it fails, `DROP INDEX CONCURRENTLY` {leftover} and retry.",
        instead::outside_transaction(ctx.migration.migration.layout)
    ))
}

/// An index built earlier in this migration on a table that is itself new: rebuilding it
/// blocks nobody.
fn built_on_new_table(ctx: &Context, index: &QualifiedName) -> bool {
    ctx.earlier().iter().any(|s| match &s.kind {
        StatementKind::CreateIndex {
            name: Some(name),
            table,
            ..
        } => name.matches(index) && ctx.table_is_new(table),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_index_or_table() {
        let found = check(&RULE, "REINDEX INDEX idx_rental_return_date;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`REINDEX INDEX CONCURRENTLY idx_rental_return_date;`"),
            "{instead}"
        );
        assert!(
            instead.contains("idx_rental_return_date_ccnew"),
            "{instead}"
        );
        let found = check(&RULE, "REINDEX TABLE rental;");
        assert!(
            found[0]
                .instead
                .contains("`REINDEX TABLE CONCURRENTLY rental;`"),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_plain_reindex_of_existing_objects() {
        assert_eq!(count(&RULE, "REINDEX INDEX orders_customer_id_idx;"), 1);
        assert_eq!(count(&RULE, "reindex table public.orders;"), 1);
        let findings = check(&RULE, "REINDEX TABLE orders;");
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        // Static level: the table's size is unknown, so blocking it is an error.
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("orders"));
    }

    #[test]
    fn reindex_schema_inside_a_transaction_is_an_error() {
        let findings = check(&RULE, "REINDEX SCHEMA sales;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("transaction block"));
        let findings = check(&RULE, "-- no-transaction\nREINDEX SCHEMA sales;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
    }

    #[test]
    fn ignores_concurrent_rebuilds_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nREINDEX INDEX CONCURRENTLY orders_customer_id_idx;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nREINDEX TABLE CONCURRENTLY orders;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, owner bigint);\n\
                 CREATE INDEX carts_owner_idx ON carts (owner);\n\
                 REINDEX INDEX carts_owner_idx;\nREINDEX TABLE carts;"
            ),
            0
        );
    }

    #[test]
    fn understands_options() {
        assert_eq!(count(&RULE, "REINDEX (VERBOSE) TABLE orders;"), 1);
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nREINDEX (VERBOSE) TABLE CONCURRENTLY orders;"
            ),
            0
        );
    }
}
