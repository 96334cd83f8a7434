//! `schema-drift`: a statement that contradicts the copy's schema as the earlier pending
//! statements leave it (see `Schema::drift`). The review engine reports migration-level drift
//! (applied migrations missing from the folder, checksum mismatches) under the same rule.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};
use crate::schema::DriftKind;

pub const RULE: Rule = Rule {
    code: "M053",
    name: "schema-drift",
    severity: Severity::Error,
    evidence: Evidence::Catalog,
    what: "Flags a statement that, against the copy as the earlier pending statements leave it, \
           references a table, column, index or constraint that does not exist (without IF \
           EXISTS), or creates a table, column, index or constraint that already exists \
           (without IF NOT EXISTS). Also, from the copy's migration history table: a migration \
           the copy has applied that the folder lacks, or whose checksum differs from the file.",
    why: "Either the migration fails on the copy, and will fail in production if production \
          matches the copy (leaving a half-applied release when the migration is not one \
          transaction), or the copy is stale: restored before a change production already has, \
          and every size, index and plan in this review describes a schema production does \
          not have. Migrations that applied history no longer matches (edited after they ran, \
          or deleted) mean environments built from the folder differ from the live database.",
    instead: "Refresh the copy and review again. If the copy is current, fix the migration: \
              use the names objects have at that point (an earlier migration may rename or \
              drop them), and keep IF [NOT] EXISTS for objects whose presence really varies \
              between environments. Never edit a migration that has been applied: add a new \
              one.",
    rollback: "Nothing to undo for the failing statement (its transaction rolls back; in a \
               non-transactional migration, the statements before it stay applied and need \
               their own rollback).",
    bad: include_str!("../../fixtures/rules/schema-drift/bad.sql"),
    good: include_str!("../../fixtures/rules/schema-drift/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let drift = ctx.schema?.drift(stmt);
    let first = drift.first()?;
    let consequence = if drift.iter().all(|d| d.kind == DriftKind::Missing) {
        "the statement fails on the copy, or the copy is stale"
    } else {
        "the statement fails on the copy, or the copy is stale (or was already migrated by hand)"
    };
    let details: Vec<&str> = drift.iter().map(|d| d.message.as_str()).collect();
    let mut risk = Risk::new(format!(
        "{}: {consequence}",
        capitalize(&details.join("; "))
    ));
    if let Some(table) = &first.table {
        risk = risk.on_table(table);
    }
    if let Some(rows) = first
        .table
        .as_ref()
        .and_then(|t| ctx.schema?.table(t))
        .map(|t| t.rows)
    {
        risk.facts.rows = Some(rows);
    }
    Some(risk)
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::{CatalogSnapshot, ConstraintType as CT};
    use crate::model::QualifiedName;
    use crate::rules::test_support::{catalog_risks, constraint, index, snapshot, table};

    fn copy() -> CatalogSnapshot {
        snapshot(
            vec![table(
                "orders",
                20_000,
                &[
                    ("id", "bigint"),
                    ("status", "text"),
                    ("created_at", "timestamp with time zone"),
                ],
            )],
            vec![
                index("orders_pkey", "orders", &["id"]),
                index("orders_status_idx", "orders", &["status"]),
            ],
            vec![constraint(
                "orders",
                "orders_pkey",
                CT::PrimaryKey,
                &["id"],
                None,
            )],
        )
    }

    fn risks(sql: &str) -> Vec<Risk> {
        catalog_risks(&RULE, copy(), sql)
    }

    #[test]
    fn flags_a_missing_column_with_the_table() {
        let found = risks("CREATE INDEX CONCURRENTLY orders_region_idx ON orders (region);");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "Column public.orders.region does not exist at this point (the copy's orders has \
             no such column): the statement fails on the copy, or the copy is stale"
        );
        assert_eq!(
            found[0].table,
            Some(QualifiedName::new(Some("public"), "orders"))
        );
        assert_eq!(found[0].facts.rows, Some(20_000));
    }

    #[test]
    fn flags_an_existing_index() {
        let found = risks("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .starts_with("Index public.orders_status_idx already exists (in the copy)"));
        assert!(found[0].message.contains("already migrated by hand"));
    }

    #[test]
    fn follows_the_migration_across_statements() {
        let found = risks(
            "ALTER TABLE orders RENAME COLUMN status TO state;\n\
             CREATE INDEX orders_state_idx ON orders (state);\n\
             UPDATE orders SET status = 'x';\n\
             ALTER TABLE orders ADD COLUMN state text;",
        );
        let messages: Vec<&str> = found.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with(
                "Column state of public.orders already exists (added or renamed by an earlier \
                 pending statement)"
            ),
            "{}",
            messages[0]
        );
    }

    #[test]
    fn quiet_on_consistent_migrations_and_without_the_catalog() {
        assert!(risks(
            "CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint REFERENCES orders);\n\
             CREATE INDEX invoices_order_id_idx ON invoices (order_id);\n\
             ALTER TABLE orders ADD COLUMN invoice_id bigint;\n\
             DROP INDEX orders_status_idx;\n\
             CREATE INDEX orders_status_idx ON orders (status, created_at);"
        )
        .is_empty());
        assert_eq!(
            crate::rules::test_support::count(
                &RULE,
                "CREATE INDEX orders_region_idx ON orders (region);"
            ),
            0
        );
    }
}
