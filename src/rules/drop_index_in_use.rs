//! `drop-index-in-use`: dropping an index that the copy's statistics show queries use.

use super::{Check, Context, Risk, Rule};
use crate::evidence::catalog::Index;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::report::text::{bytes as size, thousands as count};

pub const RULE: Rule = Rule {
    code: "M052",
    name: "drop-index-in-use",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags `DROP INDEX` of an index whose `idx_scan` on the copy is above zero, and \
           `ALTER TABLE ... DROP CONSTRAINT` / `DROP COLUMN` that drop such an index with them \
           (a primary key's or unique constraint's index, or any index using the column).",
    why: "pg_stat_user_indexes.idx_scan counts the scans an index served since statistics were \
          last reset: above zero, queries use it. Once it is gone they switch to another plan, \
          often a sequential scan, on every call at once, right after deploy; rebuilding a \
          large index takes minutes. The count only covers the copy's own traffic since its \
          statistics were reset, and a restore resets them: a high count is real evidence of \
          use, but 0 on a copy proves nothing. Production (and each replica, which keeps its \
          own counts) is where to look. (PostgreSQL docs: \"The Cumulative Statistics \
          System\", pg_stat_all_indexes.)",
    instead: "Confirm on production and its replicas that idx_scan stays flat over a \
              representative period (a week, a month-end), and that EXPLAIN of the queries that \
              used it picks a plan you accept. Then drop it alone with `DROP INDEX CONCURRENTLY \
              IF EXISTS`, with its definition in the rollback note so it can be rebuilt.",
    rollback: "Rebuild it from its definition (the finding shows it): `CREATE INDEX \
               CONCURRENTLY <index> ON <table> (...);` — minutes on a large table, during which \
               the queries that needed it stay slow.",
    bad: include_str!("../../fixtures/rules/drop-index-in-use/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-index-in-use/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let schema = ctx.schema?;
    // (index, how the statement drops it)
    let mut dropped: Vec<(&Index, String)> = Vec::new();
    match &stmt.kind {
        StatementKind::DropIndex { names, .. } => {
            dropped.extend(
                names
                    .iter()
                    .filter_map(|n| schema.index(n))
                    .map(|i| (i, format!("Dropping index {}", i.name.name))),
            );
        }
        StatementKind::AlterTable { name, actions, .. } => {
            let table = schema.resolve_table(name)?;
            for action in actions {
                match action {
                    AlterAction::DropConstraint { name: c, .. } => {
                        let index = schema
                            .constraint(&table, c)
                            .and_then(|k| k.index.as_deref())
                            .and_then(|i| {
                                schema.index(&QualifiedName::new(table.schema.as_deref(), i))
                            });
                        if let Some(i) = index {
                            dropped.push((
                                i,
                                format!("Dropping constraint {c} drops its index {}", i.name.name),
                            ));
                        }
                    }
                    AlterAction::DropColumn { name: column, .. } => {
                        dropped.extend(schema.indexes_using_column(&table, column).map(|i| {
                            (
                                i,
                                format!(
                                    "Dropping column {column} drops index {} with it",
                                    i.name.name
                                ),
                            )
                        }));
                    }
                    _ => {}
                }
            }
        }
        _ => return None,
    }
    let mut in_use: Vec<(&Index, String, i64)> = dropped
        .into_iter()
        .filter(|(i, _)| !schema.index_is_new(&i.name))
        .filter_map(|(i, how)| Some((i, how, i.scans.filter(|s| *s > 0)?)))
        .collect();
    in_use.sort_by_key(|i| std::cmp::Reverse(i.2));
    in_use.dedup_by(|a, b| a.0.name == b.0.name);
    let (top, _, scans) = in_use.first()?;
    let parts: Vec<String> = in_use
        .iter()
        .map(|(i, how, scans)| {
            let rows = schema
                .table(&i.table)
                .map(|t| format!(" ({} rows)", count(t.rows)))
                .unwrap_or_default();
            format!(
                "{how}, which has served {} since statistics were last reset ({}): queries \
                 that use it fall back to another plan, possibly a sequential scan of {}{rows}. \
                 To rebuild it: `{};`",
                plural(*scans, "scan"),
                size(i.bytes),
                i.table,
                i.create_statement()
                    .replacen("INDEX ", "INDEX CONCURRENTLY ", 1)
            )
        })
        .collect();
    let mut message = parts.join(" ");
    message.push_str(
        " (The copy counts only its own traffic since its statistics were reset, and a \
         restore resets them: this count is a floor, and 0 on a copy would prove nothing.)",
    );
    let mut risk = Risk::new(message).on_table(&top.table);
    risk.instead = Some(instead_for(ctx, top));
    risk.facts.index_scans = Some(*scans);
    risk.facts.bytes = Some(top.bytes);
    risk.facts.rows = schema.table(&top.table).map(|t| t.rows);
    Some(risk)
}

/// The wait-and-watch steps for the user's index, its own rebuild statement as the rollback.
fn instead_for(ctx: &Context, index: &Index) -> String {
    let name = super::instead::table(&index.name);
    format!(
        "Confirm on production and its replicas that idx_scan of {name} stays flat over a \
         representative period (a week, a month-end): `SELECT idx_scan FROM pg_stat_user_indexes \
         WHERE indexrelid = {}::regclass;`, and that EXPLAIN of the queries that used it picks a \
         plan you accept. Then drop it alone with `DROP INDEX CONCURRENTLY IF EXISTS {name};` {}, \
         with `-- rollback: {};` in the header so it can be rebuilt.",
        crate::quote::literal(&name),
        super::instead::outside_transaction(ctx.migration.migration.layout),
        index
            .create_statement()
            .replacen("INDEX ", "INDEX CONCURRENTLY ", 1)
    )
}

fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", count(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::{CatalogSnapshot, ConstraintType as CT};
    use crate::rules::test_support::{catalog_risks, constraint, index, snapshot, table};

    /// orders (50,000 rows): orders_status_idx served 2,345 scans, orders_note_idx none,
    /// orders_email_key (unique constraint) 17, orders_lower_email_idx (expression) 3.
    fn copy() -> CatalogSnapshot {
        let mut status = index("orders_status_idx", "orders", &["status"]);
        status.scans = Some(2345);
        status.bytes = 12 << 20;
        let mut email = index("orders_email_key", "orders", &["email"]);
        email.unique = true;
        email.scans = Some(17);
        let mut lower = index("orders_lower_email_idx", "orders", &["(lower(email))"]);
        lower.scans = Some(3);
        snapshot(
            vec![table(
                "orders",
                50_000,
                &[
                    ("id", "bigint"),
                    ("status", "text"),
                    ("email", "text"),
                    ("note", "text"),
                ],
            )],
            vec![
                status,
                index("orders_note_idx", "orders", &["note"]),
                email,
                lower,
            ],
            vec![constraint(
                "orders",
                "orders_email_key",
                CT::Unique,
                &["email"],
                None,
            )],
        )
    }

    fn risks(sql: &str) -> Vec<Risk> {
        catalog_risks(&RULE, copy(), sql)
    }

    #[test]
    fn instead_names_the_users_index_and_its_rebuild() {
        let found = risks("DROP INDEX CONCURRENTLY orders_status_idx;");
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("`DROP INDEX CONCURRENTLY IF EXISTS public.orders_status_idx;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`-- rollback: CREATE INDEX CONCURRENTLY orders_status_idx ON public.orders USING btree (status);`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_dropping_a_scanned_index_with_its_count_and_definition() {
        let found = risks("DROP INDEX CONCURRENTLY orders_status_idx;");
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("Dropping index orders_status_idx, which has served 2,345 scans"),
            "{m}"
        );
        assert!(m.contains("12 MB"), "{m}");
        assert!(m.contains("public.orders (50,000 rows)"), "{m}");
        assert!(
            m.contains(
                "CREATE INDEX CONCURRENTLY orders_status_idx ON public.orders USING btree (status)"
            ),
            "{m}"
        );
        assert!(m.contains("0 on a copy would prove nothing"), "{m}");
        assert_eq!(found[0].facts.index_scans, Some(2345));
        assert_eq!(found[0].facts.bytes, Some(12 << 20));
    }

    #[test]
    fn flags_indexes_dropped_with_a_constraint_or_column() {
        let found = risks("ALTER TABLE orders DROP CONSTRAINT orders_email_key;");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .contains("Dropping constraint orders_email_key drops its index"));
        let found = risks("ALTER TABLE orders DROP COLUMN email;");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("orders_email_key"));
        assert!(found[0].message.contains("orders_lower_email_idx"));
        assert_eq!(found[0].facts.index_scans, Some(17));
    }

    #[test]
    fn ignores_unused_missing_and_new_indexes() {
        for sql in [
            "DROP INDEX CONCURRENTLY orders_note_idx;",
            "DROP INDEX CONCURRENTLY IF EXISTS orders_gone_idx;",
            "ALTER TABLE orders DROP COLUMN note;",
            "CREATE INDEX orders_id_idx ON orders (id);\nDROP INDEX orders_id_idx;",
            "ALTER INDEX orders_status_idx RENAME TO orders_state_idx;",
        ] {
            assert!(risks(sql).is_empty(), "{sql}");
        }
        // Renamed first: still the same, still used.
        assert_eq!(
            risks("ALTER INDEX orders_status_idx RENAME TO orders_state_idx;\nDROP INDEX orders_state_idx;").len(),
            1
        );
    }

    #[test]
    fn needs_the_catalog() {
        assert_eq!(
            crate::rules::test_support::count(&RULE, "DROP INDEX CONCURRENTLY orders_status_idx;"),
            0
        );
    }
}
