//! `add-check-validating`: a CHECK constraint added to an existing table and validated in the
//! same step.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ColumnDef, ConstraintKind, Evidence, QualifiedName, Severity, Statement,
    StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M006",
    name: "add-check-validating",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD [CONSTRAINT] CHECK (...)` without `NOT VALID`, and \
           `ADD COLUMN ... CHECK (...)`, on a table that existed before this migration.",
    why: "Adding a CHECK constraint takes an ACCESS EXCLUSIVE lock on the table and, unless it is \
          NOT VALID, scans every row to verify it while holding that lock: all reads and writes \
          wait for the whole scan. A CHECK on a newly added column is verified the same way. \
          (PostgreSQL docs: ALTER TABLE, \"ADD table_constraint\" and \"Notes\": NOT VALID and \
          VALIDATE CONSTRAINT.)",
    instead: "Add the constraint without checking old rows, then validate it in a separate \
              transaction: (1) `ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0) \
              NOT VALID;` (brief lock; new writes are checked from now on); (2) `ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;` (scans under \
              SHARE UPDATE EXCLUSIVE, so reads and writes continue). For a new column, add the \
              column first and the CHECK with this recipe afterwards.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT IF EXISTS <constraint>;`",
    bad: include_str!("../../fixtures/rules/add-check-validating/bad.sql"),
    good: include_str!("../../fixtures/rules/add-check-validating/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let (label, instead) = actions.iter().find_map(|action| match action {
        AlterAction::AddConstraint(c)
            if !c.not_valid && matches!(c.kind, ConstraintKind::Check(_)) =>
        {
            let ConstraintKind::Check(expr) = &c.kind else {
                return None;
            };
            let label = match &c.name {
                Some(n) => format!("CHECK constraint {n}"),
                None => format!("CHECK {}", expr.text.trim()),
            };
            let constraint = c
                .name
                .clone()
                .unwrap_or_else(|| instead::derived(&name.name, &c.columns, "check"));
            Some((label, instead_for(name, &constraint, &expr.text, None)))
        }
        AlterAction::AddColumn { column, .. } if column.check.is_some() => {
            let expr = column.check.as_ref()?;
            let constraint =
                instead::derived(&name.name, std::slice::from_ref(&column.name), "check");
            Some((
                format!("column {} with a CHECK constraint", column.name),
                instead_for(name, &constraint, &expr.text, Some(column)),
            ))
        }
        _ => None,
    })?;
    Some(
        Risk::new(format!(
            "Adding {label} to {name} scans every row of {name} while holding an ACCESS \
             EXCLUSIVE lock: reads and writes wait; add it NOT VALID and VALIDATE it in a \
             separate transaction"
        ))
        .with_instead(instead)
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The NOT VALID / VALIDATE recipe for this table's check (for a new column: the column first,
/// without its check).
fn instead_for(
    table: &QualifiedName,
    constraint: &str,
    expr: &str,
    column: Option<&ColumnDef>,
) -> String {
    let t = instead::table(table);
    let c = instead::name(constraint);
    let expr = expr.trim();
    let expr = if expr.starts_with('(') && expr.ends_with(')') {
        expr.to_string()
    } else {
        format!("({expr})")
    };
    let first = match column {
        Some(col) => format!(
            "(0) `ALTER TABLE {t} ADD COLUMN {} {};` without the CHECK; ",
            instead::name(&col.name),
            col.data_type
        ),
        None => String::new(),
    };
    format!(
        "Add the constraint without checking old rows, then validate it in a separate \
         transaction: {first}(1) `ALTER TABLE {t} ADD CONSTRAINT {c} CHECK {expr} NOT VALID;` \
         (brief lock; new writes are checked from now on); (2) `ALTER TABLE {t} VALIDATE \
         CONSTRAINT {c};` (scans under SHARE UPDATE EXCLUSIVE, so reads and writes continue)."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_constraint() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ADD CONSTRAINT rental_return_after_start CHECK (return_date >= rental_date);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ADD CONSTRAINT rental_return_after_start CHECK (return_date >= rental_date) NOT VALID;`"),
            "{instead}"
        );
        assert!(
            instead.contains("`ALTER TABLE rental VALIDATE CONSTRAINT rental_return_after_start;`"),
            "{instead}"
        );
        assert!(!instead.contains("orders"), "{instead}");
        // A column's inline check gets the name PostgreSQL would give it.
        let found = check(
            &RULE,
            "ALTER TABLE \"Rental\" ADD COLUMN fee int CHECK (fee >= 0);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE \"Rental\" ADD COLUMN fee integer;`")
                || instead.contains("`ALTER TABLE \"Rental\" ADD COLUMN fee int;`"),
            "{instead}"
        );
        assert!(
            instead.contains("ADD CONSTRAINT \"Rental_fee_check\" CHECK (fee >= 0) NOT VALID"),
            "{instead}"
        );
    }

    #[test]
    fn flags_validating_checks_on_existing_tables() {
        let findings = check(
            &RULE,
            "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0);",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("orders_amount_positive"));
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert_eq!(
            count(&RULE, "alter table orders add check (amount_cents > 0);"),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN discount_cents bigint CHECK (discount_cents >= 0);"
            ),
            1
        );
    }

    #[test]
    fn allows_not_valid_validation_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive \
                 CHECK (amount_cents > 0) NOT VALID;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE refunds (id bigint PRIMARY KEY, amount_cents bigint);\n\
                 ALTER TABLE refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount_cents > 0);"
            ),
            0
        );
        assert_eq!(count(&RULE, "ALTER TABLE orders ADD COLUMN note text;"), 0);
    }
}
