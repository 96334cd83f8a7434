//! `add-check-validating`: a CHECK constraint added to an existing table and validated in the
//! same step.

use super::{Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, ConstraintKind, Evidence, Severity, Statement, StatementKind};

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
    let label = actions.iter().find_map(|action| match action {
        AlterAction::AddConstraint(c)
            if !c.not_valid && matches!(c.kind, ConstraintKind::Check(_)) =>
        {
            Some(match (&c.name, &c.kind) {
                (Some(n), _) => format!("CHECK constraint {n}"),
                (None, ConstraintKind::Check(expr)) => format!("CHECK {}", expr.text.trim()),
                (None, _) => "a CHECK constraint".to_string(),
            })
        }
        AlterAction::AddColumn { column, .. } if column.check.is_some() => {
            Some(format!("column {} with a CHECK constraint", column.name))
        }
        _ => None,
    })?;
    Some(
        Risk::new(format!(
            "Adding {label} to {name} scans every row of {name} while holding an ACCESS \
             EXCLUSIVE lock: reads and writes wait; add it NOT VALID and VALIDATE it in a \
             separate transaction"
        ))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

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
