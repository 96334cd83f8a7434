//! `foreign-key-without-index`: a new foreign key whose referencing columns no index leads
//! with.

use super::{instead, Check, Context, Risk, Rule};
use crate::evidence::catalog::Index;
use crate::model::{
    AlterAction, ConstraintKind, Evidence, ForeignKeyRef, IndexKey, QualifiedName, Severity,
    Statement, StatementKind,
};
use crate::report::text::thousands as count;
use crate::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M051",
    name: "foreign-key-without-index",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags a new foreign key (`ADD [CONSTRAINT] ... FOREIGN KEY`, `ADD COLUMN ... \
           REFERENCES`, or one declared in `CREATE TABLE`) when no valid, non-partial btree \
           index on the referencing table leads with its referencing columns: none in the \
           copy, none created by an earlier pending statement, and none created later in the \
           same migration. New tables are included: they start empty, but the cost grows with \
           them and the index is cheapest to add now.",
    why: "PostgreSQL requires an index on the referenced side of a foreign key (its primary key \
          or unique constraint) but creates none on the referencing side. Every DELETE of a \
          referenced row, and every UPDATE of its key, must look for referencing rows: without \
          an index that is a sequential scan of the referencing table for each such row, and \
          ON DELETE CASCADE / SET NULL do the same. A bulk delete of parents then scans the \
          child table once per parent, and joins from parent to children have no index either. \
          (PostgreSQL docs: \"Constraints\", Foreign Keys: \"it is often a good idea to index \
          the referencing columns too\".)",
    instead: "Create the index before (or in the same release as) the foreign key, with \
              `CREATE INDEX CONCURRENTLY <table>_<column>_idx ON <table> (<columns>);` in a \
              migration that does not run in a transaction. An existing multicolumn index \
              whose leading columns are the foreign key's columns already serves.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT IF EXISTS <constraint>;` (or drop the \
               index you add with it: `DROP INDEX CONCURRENTLY IF EXISTS <index>;`)",
    bad: include_str!("../../fixtures/rules/foreign-key-without-index/bad.sql"),
    good: include_str!("../../fixtures/rules/foreign-key-without-index/good.sql"),
    check: Check::Statement(check),
};

/// A foreign key a statement adds.
struct NewForeignKey<'a> {
    name: Option<&'a str>,
    columns: Vec<String>,
    references: &'a ForeignKeyRef,
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let schema = ctx.schema?;
    let (table, is_new, fks, same_statement) = match &stmt.kind {
        StatementKind::CreateTable {
            name,
            columns,
            constraints,
            temporary: false,
            ..
        } => {
            // IF NOT EXISTS on an existing table adds nothing (and without it, it fails).
            if schema.resolve_table(name).is_some() {
                return None;
            }
            let mut fks: Vec<NewForeignKey> = columns
                .iter()
                .filter_map(|c| {
                    Some(NewForeignKey {
                        name: None,
                        columns: vec![c.name.clone()],
                        references: c.references.as_ref()?,
                    })
                })
                .collect();
            fks.extend(constraints.iter().filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey(r) => Some(NewForeignKey {
                    name: c.name.as_deref(),
                    columns: c.columns.clone(),
                    references: r,
                }),
                _ => None,
            }));
            // PRIMARY KEY / UNIQUE of the same statement build indexes.
            let mut indexes: Vec<Index> = constraints
                .iter()
                .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
                .map(|c| btree(name, &c.columns))
                .collect();
            indexes.extend(
                columns
                    .iter()
                    .filter(|c| c.primary_key || c.unique)
                    .map(|c| btree(name, std::slice::from_ref(&c.name))),
            );
            (name.clone(), true, fks, indexes)
        }
        StatementKind::AlterTable { name, actions, .. } => {
            let key = schema.resolve_table(name)?;
            let is_new = schema.table_is_new(&key);
            let mut fks = Vec::new();
            let mut indexes = Vec::new();
            for action in actions {
                match action {
                    AlterAction::AddColumn { column, .. } => {
                        if let Some(r) = &column.references {
                            fks.push(NewForeignKey {
                                name: None,
                                columns: vec![column.name.clone()],
                                references: r,
                            });
                        }
                        if column.primary_key || column.unique {
                            indexes.push(btree(&key, std::slice::from_ref(&column.name)));
                        }
                    }
                    AlterAction::AddConstraint(c) => match &c.kind {
                        ConstraintKind::ForeignKey(r) => fks.push(NewForeignKey {
                            name: c.name.as_deref(),
                            columns: c.columns.clone(),
                            references: r,
                        }),
                        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
                            indexes.push(btree(&key, &c.columns))
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            (key, is_new, fks, indexes)
        }
        _ => return None,
    };
    let uncovered: Vec<&NewForeignKey> = fks
        .iter()
        .filter(|fk| !fk.columns.is_empty())
        .filter(|fk| {
            schema.fk_covered(&table, &fk.columns) != Some(true)
                && !same_statement.iter().any(|i| i.covers(&fk.columns))
                && !built_later(ctx, &table, &fk.columns)
        })
        .collect();
    if uncovered.is_empty() {
        return None;
    }
    let rows = if is_new {
        None
    } else {
        schema.table(&table).map(|t| t.rows)
    };
    let described: Vec<String> = uncovered
        .iter()
        .map(|fk| describe(schema, &table, rows, fk))
        .collect();
    let mut risk = Risk::new(described.join("; "))
        .with_instead(instead_for(ctx, stmt, &table, is_new, &uncovered))
        .on_table(&table);
    risk.facts.rows = rows;
    Some(risk)
}

/// The index each uncovered foreign key needs, named as PostgreSQL would name it: built
/// CONCURRENTLY outside a transaction on an existing table, plainly on a new (empty) one.
fn instead_for(
    ctx: &Context,
    stmt: &Statement,
    table: &QualifiedName,
    is_new: bool,
    fks: &[&NewForeignKey],
) -> String {
    // The table as the statement names it (the schema resolves it to `public.x`).
    let written = match &stmt.kind {
        StatementKind::CreateTable { name, .. } | StatementKind::AlterTable { name, .. } => name,
        _ => table,
    };
    let t = instead::table(written);
    let builds = fks
        .iter()
        .map(|fk| {
            let index = instead::name(&instead::derived(&table.name, &fk.columns, "idx"));
            let cols = instead::columns(&fk.columns);
            if is_new {
                format!("`CREATE INDEX {index} ON {t} ({cols});`")
            } else {
                format!("`CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {t} ({cols});`")
            }
        })
        .collect::<Vec<_>>()
        .join(" and ");
    if is_new {
        format!(
            "Index the referencing columns in the same migration, right after the table: \
             {builds} (the table is new and empty, so a plain build blocks nobody). Deletes and \
             key updates on the referenced table then find the referencing rows by index."
        )
    } else {
        format!(
            "Index the referencing columns without blocking writes: {builds} {}. Deletes and key \
             updates on the referenced table then find the referencing rows by index instead of \
             scanning {t}.",
            instead::outside_transaction(ctx.migration.migration.layout)
        )
    }
}

fn describe(
    schema: &Schema,
    table: &QualifiedName,
    rows: Option<i64>,
    fk: &NewForeignKey,
) -> String {
    let columns = fk.columns.join(", ");
    let name = fk
        .name
        .map(|n| format!("Foreign key {n}"))
        .unwrap_or_else(|| "The foreign key".to_string());
    let referenced = &fk.references.table;
    let referenced_rows = match schema.table(referenced) {
        Some(t) if !schema.table_is_new(referenced) => format!(" ({} rows)", count(t.rows)),
        _ => String::new(),
    };
    let scanned = match rows {
        Some(r) => format!("scans {table} ({} rows)", count(r)),
        None => {
            format!("scans {table}, which is new and empty now but grows with every row it gets")
        }
    };
    format!(
        "{name} on {table} ({columns}) → {referenced}{referenced_rows} has no index on \
         {table} leading with ({columns}): every DELETE of a {referenced} row, or UPDATE of its \
         key, {scanned} to find the rows that reference it"
    )
}

/// A valid btree on `columns` (to test coverage with `Index::covers`).
fn btree(table: &QualifiedName, columns: &[String]) -> Index {
    Index {
        name: table.clone(),
        table: table.clone(),
        keys: columns.iter().cloned().map(IndexKey::Column).collect(),
        include: Vec::new(),
        partial: false,
        predicate: None,
        unique: false,
        primary: false,
        valid: true,
        method: "btree".to_string(),
        bytes: 0,
        scans: None,
        parent: None,
        locked: false,
    }
}

/// Whether a later statement of this migration builds an index on `table` that covers
/// `columns` (`CREATE TABLE ...; CREATE INDEX ...` is the usual order).
fn built_later(ctx: &Context, table: &QualifiedName, columns: &[String]) -> bool {
    let same = |t: &QualifiedName| t.matches(table);
    ctx.later().iter().any(|stmt| match &stmt.kind {
        StatementKind::CreateIndex {
            table: t,
            keys,
            predicate: None,
            method,
            ..
        } if same(t) => {
            let mut index = btree(table, &[]);
            index.keys = keys.clone();
            index.method = method.clone().unwrap_or_else(|| "btree".to_string());
            index.covers(columns)
        }
        StatementKind::AlterTable { name, actions, .. } if same(name) => {
            actions.iter().any(|a| match a {
                AlterAction::AddConstraint(c)
                    if matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique) =>
                {
                    btree(table, &c.columns).covers(columns)
                }
                _ => false,
            })
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::{CatalogSnapshot, ConstraintType as CT};
    use crate::rules::test_support::{catalog_risks, constraint, index, snapshot, table};

    /// customers (1,000 rows, PK id); orders (50,000 rows) with an index leading with
    /// (tenant_id, customer_id) and a partial index on region_id.
    fn copy() -> CatalogSnapshot {
        let mut partial = index("orders_region_idx", "orders", &["region_id"]);
        partial.partial = true;
        partial.predicate = Some("(region_id IS NOT NULL)".into());
        snapshot(
            vec![
                table("customers", 1_000, &[("id", "bigint")]),
                table("regions", 20, &[("id", "bigint")]),
                table(
                    "orders",
                    50_000,
                    &[
                        ("id", "bigint"),
                        ("customer_id", "bigint"),
                        ("tenant_id", "bigint"),
                        ("region_id", "bigint"),
                    ],
                ),
            ],
            vec![
                index("customers_pkey", "customers", &["id"]),
                index("regions_pkey", "regions", &["id"]),
                index(
                    "orders_tenant_customer_idx",
                    "orders",
                    &["tenant_id", "customer_id", "id"],
                ),
                partial,
            ],
            vec![
                constraint("customers", "customers_pkey", CT::PrimaryKey, &["id"], None),
                constraint("regions", "regions_pkey", CT::PrimaryKey, &["id"], None),
            ],
        )
    }

    fn risks(sql: &str) -> Vec<Risk> {
        catalog_risks(&RULE, copy(), sql)
    }

    #[test]
    fn instead_indexes_the_users_foreign_key_columns() {
        let found = risks(
            "ALTER TABLE orders ADD CONSTRAINT orders_region_fk FOREIGN KEY (region_id) REFERENCES regions (id) NOT VALID;",
        );
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("`CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_region_id_idx ON orders (region_id);`"),
            "{instead}"
        );
        let found = risks(
            "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id));",
        );
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("`CREATE INDEX invoices_customer_id_idx ON invoices (customer_id);`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_a_foreign_key_on_unindexed_columns_with_both_sizes() {
        let found = risks(
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey \
             FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("Foreign key orders_customer_id_fkey on public.orders (customer_id)"),
            "{m}"
        );
        assert!(m.contains("scans public.orders (50,000 rows)"), "{m}");
        assert!(m.contains("customers (1,000 rows)"), "{m}");
        assert_eq!(found[0].facts.rows, Some(50_000));
        assert_eq!(
            found[0].table,
            Some(QualifiedName::new(Some("public"), "orders"))
        );
    }

    #[test]
    fn flags_add_column_references_and_partial_indexes_do_not_count() {
        assert_eq!(
            risks("ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES customers;").len(),
            1
        );
        assert_eq!(
            risks("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (region_id) REFERENCES regions (id) NOT VALID;").len(),
            1
        );
    }

    #[test]
    fn flags_new_tables_too() {
        let found = risks(
            "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id));",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("new and empty now"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].facts.rows, None);
    }

    #[test]
    fn accepts_existing_earlier_same_statement_and_later_indexes() {
        for sql in [
            // Leading columns of an existing index, in any order.
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id, tenant_id) REFERENCES customers (id, tenant) NOT VALID;",
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (tenant_id) REFERENCES customers (id) NOT VALID;",
            // Indexed by an earlier pending statement.
            "CREATE INDEX orders_customer_id_idx ON orders (customer_id);\n\
             ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
            // Indexed later in the same migration.
            "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);\n\
             CREATE INDEX invoices_customer_id_idx ON invoices (customer_id);",
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n\
             CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);",
            // The table's own key covers it.
            "CREATE TABLE order_tags (order_id bigint REFERENCES orders, tag text, PRIMARY KEY (order_id, tag));",
            "CREATE TABLE profiles (customer_id bigint PRIMARY KEY REFERENCES customers (id));",
            // Not a foreign key; temporary tables vanish.
            "ALTER TABLE orders ADD COLUMN note text;",
            "CREATE TEMP TABLE scratch (customer_id bigint REFERENCES customers);",
        ] {
            assert!(risks(sql).is_empty(), "{sql}: {:?}", risks(sql));
        }
    }

    #[test]
    fn a_composite_key_covers_only_its_leading_column() {
        let found = risks(
            "CREATE TABLE order_tags (order_id bigint REFERENCES orders, tag_id bigint REFERENCES regions, \
             PRIMARY KEY (order_id, tag_id));",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("(tag_id) → regions"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn needs_the_catalog() {
        assert_eq!(
            crate::rules::test_support::count(
                &RULE,
                "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;"
            ),
            0
        );
    }
}
