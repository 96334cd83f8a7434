//! `add-foreign-key-validating`: a foreign key added to an existing table and validated in
//! the same step.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ColumnDef, ConstraintKind, Evidence, ForeignKeyRef, QualifiedName, Severity,
    Statement, StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M005",
    name: "add-foreign-key-validating",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD [CONSTRAINT] FOREIGN KEY` without `NOT VALID` on a table \
           that existed before this migration, and `ADD COLUMN ... REFERENCES` when the new \
           column has a DEFAULT (which forces the same validation).",
    why: "Adding a foreign key takes a SHARE ROW EXCLUSIVE lock on both the altered and the \
          referenced table and, unless the constraint is NOT VALID, checks every existing row \
          while holding it: INSERT, UPDATE and DELETE on both tables wait for the whole scan. \
          (PostgreSQL docs: ALTER TABLE, \"ADD table_constraint\" and \"Notes\": NOT VALID and \
          VALIDATE CONSTRAINT.) A new column with REFERENCES and no DEFAULT is all NULL, so \
          PostgreSQL skips that check; with a DEFAULT it does not.",
    instead: "Add the constraint without checking old rows, then validate it in a separate \
              transaction: (1) `ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) \
              REFERENCES customers (id) NOT VALID;` (brief lock; new writes are checked from now \
              on); (2) `ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;` (scans under \
              SHARE UPDATE EXCLUSIVE on orders and ROW SHARE on customers, so writes continue). \
              Index the referencing column (CREATE INDEX CONCURRENTLY) so that deletes on the \
              referenced table stay fast.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT IF EXISTS <constraint>;`",
    bad: include_str!("../../fixtures/rules/add-foreign-key-validating/bad.sql"),
    good: include_str!("../../fixtures/rules/add-foreign-key-validating/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    actions.iter().find_map(|action| {
        let (label, referenced, recipe) = match action {
            AlterAction::AddConstraint(c) if !c.not_valid => {
                let ConstraintKind::ForeignKey(fk) = &c.kind else {
                    return None;
                };
                let label = match &c.name {
                    Some(n) => format!("foreign key {n}"),
                    None => format!("a foreign key on ({})", c.columns.join(", ")),
                };
                let constraint = c
                    .name
                    .clone()
                    .unwrap_or_else(|| instead::derived(&name.name, &c.columns, "fkey"));
                (
                    label,
                    &fk.table,
                    instead_for(name, &constraint, &c.columns, fk, None),
                )
            }
            // Without a DEFAULT the new column is all NULL and PostgreSQL skips validation
            // (parse_utilcmd.c, transformAlterTableStmt).
            AlterAction::AddColumn { column, .. } if column.default.is_some() => {
                let fk = column.references.as_ref()?;
                let cols = std::slice::from_ref(&column.name);
                let constraint = instead::derived(&name.name, cols, "fkey");
                (
                    format!("column {} with a DEFAULT and REFERENCES", column.name),
                    &fk.table,
                    instead_for(name, &constraint, cols, fk, Some(column)),
                )
            }
            _ => return None,
        };
        Some(
            Risk::new(format!(
                "Adding {label} to {name} checks every existing row of {name} against \
                 {referenced} while blocking writes to both tables; add it NOT VALID and \
                 VALIDATE it in a separate transaction"
            ))
            .with_instead(recipe)
            .on_table(name)
            .with_lock(LockMode::ShareRowExclusive),
        )
    })
}

/// The NOT VALID / VALIDATE recipe for this foreign key, plus the index on its columns (for a
/// new column with a default: the column first, without REFERENCES).
fn instead_for(
    table: &QualifiedName,
    constraint: &str,
    cols: &[String],
    fk: &ForeignKeyRef,
    column: Option<&ColumnDef>,
) -> String {
    let t = instead::table(table);
    let c = instead::name(constraint);
    let referenced = instead::table(&fk.table);
    let target = if fk.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", instead::columns(&fk.columns))
    };
    let first = match column {
        Some(col) => format!(
            "(0) `ALTER TABLE {t} ADD COLUMN {} {}{};` without REFERENCES; ",
            instead::name(&col.name),
            col.data_type,
            col.default
                .as_ref()
                .map(|d| format!(" DEFAULT {}", d.text.trim()))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    let index = instead::derived(&table.name, cols, "idx");
    format!(
        "Add the constraint without checking old rows, then validate it in a separate \
         transaction: {first}(1) `ALTER TABLE {t} ADD CONSTRAINT {c} FOREIGN KEY ({}) REFERENCES \
         {referenced}{target} NOT VALID;` (brief lock; new writes are checked from now on); (2) \
         `ALTER TABLE {t} VALIDATE CONSTRAINT {c};` (scans under SHARE UPDATE EXCLUSIVE on {t} and \
         ROW SHARE on {referenced}, so writes continue). Index the referencing columns so that \
         deletes on {referenced} stay fast: `CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {t} \
         ({});` in a migration without a transaction.",
        instead::columns(cols),
        instead::name(&index),
        instead::columns(cols),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_foreign_key() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ADD CONSTRAINT rental_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (customer_id);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ADD CONSTRAINT rental_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (customer_id) NOT VALID;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`ALTER TABLE rental VALIDATE CONSTRAINT rental_customer_fk;`"),
            "{instead}"
        );
        assert!(
            instead.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS rental_customer_id_idx ON rental (customer_id);"),
            "{instead}"
        );
        assert!(!instead.contains("orders"), "{instead}");
        // Unnamed: the name PostgreSQL would give it.
        let found = check(
            &RULE,
            "ALTER TABLE rental ADD FOREIGN KEY (staff_id) REFERENCES staff;",
        );
        assert!(
            found[0].instead.contains("ADD CONSTRAINT rental_staff_id_fkey FOREIGN KEY (staff_id) REFERENCES staff NOT VALID;"),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_validating_foreign_keys_on_existing_tables() {
        let findings = check(
            &RULE,
            "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey \
             FOREIGN KEY (customer_id) REFERENCES customers (id);",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("orders_customer_id_fkey"));
        assert!(findings[0].message.contains("customers"));
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("ShareRowExclusiveLock")
        );
        assert_eq!(
            count(
                &RULE,
                "alter table orders add foreign key (customer_id) references customers;"
            ),
            1
        );
    }

    #[test]
    fn flags_a_referencing_column_with_a_default() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN region_id bigint DEFAULT 1 REFERENCES regions (id);"
            ),
            1
        );
    }

    #[test]
    fn allows_not_valid_new_tables_and_nullable_referencing_columns() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey \
                 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint);\n\
                 ALTER TABLE refunds ADD CONSTRAINT refunds_order_id_fkey \
                 FOREIGN KEY (order_id) REFERENCES orders (id);"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN region_id bigint REFERENCES regions (id);"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;"
            ),
            0
        );
    }
}
