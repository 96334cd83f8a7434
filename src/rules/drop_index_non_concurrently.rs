//! `drop-index-non-concurrently`: a plain `DROP INDEX` on an index that existed before this
//! migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M002",
    name: "drop-index-non-concurrently",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP INDEX` without `CONCURRENTLY` on an index that was not created on a new \
           table earlier in this migration.",
    why: "A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table: every \
          SELECT, INSERT, UPDATE and DELETE on that table waits until the drop commits. The drop \
          itself is quick, but it must first wait for every running query on the table, and all \
          new queries queue up behind it; inside a transaction the lock is then held until \
          COMMIT. (PostgreSQL docs: DROP INDEX, \"CONCURRENTLY\".)",
    instead: "Use `DROP INDEX CONCURRENTLY IF EXISTS <index>;` in a migration that does not run \
              inside a transaction (one index per statement). It waits for conflicting \
              transactions without blocking reads or writes. It cannot drop an index that backs \
              a PRIMARY KEY or UNIQUE constraint (drop the constraint instead) nor an index of a \
              partitioned table.",
    rollback:
        "Recreate the index with its original definition (read it from `pg_indexes.indexdef` \
               before dropping): `CREATE INDEX CONCURRENTLY <index> ON <table> (...);`",
    bad: include_str!("../../fixtures/rules/drop-index-non-concurrently/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-index-non-concurrently/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::DropIndex {
        names,
        concurrently: false,
        ..
    } = &stmt.kind
    else {
        return None;
    };
    let existing: Vec<&QualifiedName> = names
        .iter()
        .filter(|index| !built_on_new_table(ctx, index))
        .collect();
    if existing.is_empty() {
        return None;
    }
    let list = existing
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let (noun, its) = if existing.len() == 1 {
        ("index", "its table")
    } else {
        ("indexes", "their tables")
    };
    Some(
        Risk::new(format!(
            "Dropping {noun} {list} without CONCURRENTLY locks {its} ACCESS EXCLUSIVE: reads and \
             writes wait until the drop commits"
        ))
        .with_instead(instead_for(ctx, stmt, &existing))
        .with_lock(LockMode::AccessExclusive),
    )
}

/// `DROP INDEX CONCURRENTLY` for each of the user's indexes, one statement each (PostgreSQL
/// refuses a list with CONCURRENTLY), with the runner's no-transaction marker.
fn instead_for(ctx: &Context, stmt: &Statement, indexes: &[&QualifiedName]) -> String {
    let cascade = stmt
        .text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w.eq_ignore_ascii_case("cascade"));
    let drops = indexes
        .iter()
        .map(|i| format!("`DROP INDEX CONCURRENTLY IF EXISTS {};`", instead::table(i)))
        .collect::<Vec<_>>()
        .join(" then ");
    let cascade = if cascade {
        " CONCURRENTLY does not take CASCADE: drop what depends on the index first."
    } else {
        ""
    };
    format!(
        "Use {drops}, one index per statement, {}. It waits for conflicting transactions \
         without blocking reads or writes. It cannot drop an index that backs a PRIMARY KEY or \
         UNIQUE constraint (drop the constraint instead) nor an index of a partitioned \
         table.{cascade}",
        instead::outside_transaction(ctx.migration.migration.layout)
    )
}

/// An index built earlier in this migration on a table that is itself new: dropping it
/// blocks nobody. (The table of any other index is unknown without a catalog.)
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
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_each_of_the_users_indexes() {
        let found = check(
            &RULE,
            "DROP INDEX idx_rental_return_date, public.\"Rental_Staff\";",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`DROP INDEX CONCURRENTLY IF EXISTS idx_rental_return_date;` then `DROP INDEX CONCURRENTLY IF EXISTS public.\"Rental_Staff\";`"),
            "{instead}"
        );
        assert!(instead.contains("`-- no-transaction`"), "{instead}");
        assert!(!instead.contains("<index>"), "{instead}");
    }

    #[test]
    fn flags_plain_drop_of_an_existing_index() {
        assert_eq!(count(&RULE, "DROP INDEX orders_status_idx;"), 1);
        assert_eq!(
            count(
                &RULE,
                "drop index if exists public.orders_status_idx, orders_legacy_idx;"
            ),
            1
        );
        let findings = check(&RULE, "DROP INDEX orders_status_idx;");
        assert!(findings[0].message.contains("orders_status_idx"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
    }

    #[test]
    fn ignores_concurrent_drops_and_indexes_of_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, owner bigint);\n\
                 CREATE INDEX carts_owner_idx ON carts (owner);\n\
                 DROP INDEX carts_owner_idx;"
            ),
            0
        );
    }

    #[test]
    fn still_flags_an_index_built_earlier_on_an_existing_table() {
        assert_eq!(
            count(
                &RULE,
                "CREATE INDEX orders_tmp_idx ON orders (status);\nDROP INDEX orders_tmp_idx;"
            ),
            1
        );
    }
}
