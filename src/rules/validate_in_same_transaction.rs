//! `validate-in-same-transaction`: `VALIDATE CONSTRAINT` in the same transaction as the
//! `ADD CONSTRAINT ... NOT VALID` that created the constraint.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ConstraintKind, Evidence, QualifiedName, Severity, Statement, StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M036",
    name: "validate-in-same-transaction",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... VALIDATE CONSTRAINT` that runs in the same transaction as the \
           `ADD CONSTRAINT ... NOT VALID` that added the constraint.",
    why: "`NOT VALID` exists to split a constraint into a quick catalog change and a validation \
          scan that takes only a SHARE UPDATE EXCLUSIVE lock, so reads and writes continue \
          while existing rows are checked. Locks are held until the transaction ends, so when \
          both run in one transaction the lock taken by `ADD CONSTRAINT` (ACCESS EXCLUSIVE for \
          a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key) is still held during \
          the whole validation scan: writes (and for a CHECK, reads) wait exactly as if the \
          constraint had been added without `NOT VALID`. (PostgreSQL docs: ALTER TABLE, \
          VALIDATE CONSTRAINT and Notes; 13.3.1 \"Table-Level Locks\".)",
    instead: "Commit in between: add the constraint `NOT VALID` in one migration (or one \
              transaction) and run `VALIDATE CONSTRAINT` in the next migration, or in a \
              non-transactional migration where each statement commits on its own.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT <constraint>;` (quick; takes an ACCESS \
               EXCLUSIVE lock briefly).",
    bad: include_str!("../../fixtures/rules/validate-in-same-transaction/bad.sql"),
    good: include_str!("../../fixtures/rules/validate-in-same-transaction/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    if !stmt.in_transaction {
        return None;
    }
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    let constraint = actions.iter().find_map(|a| match a {
        AlterAction::ValidateConstraint { name: cname } => ctx
            .state
            .not_valid_constraints
            .iter()
            .find(|c| c.in_open_transaction && c.table.matches(name) && &c.name == cname),
        _ => None,
    })?;
    let lock = added_with_lock(ctx, name, &constraint.name);
    Some(
        Risk::new(format!(
            "Constraint {} on {name} is validated in the same transaction that added it NOT \
             VALID: the {} lock taken by ADD CONSTRAINT is held for the whole validation scan, \
             blocking {}; commit in between",
            constraint.name,
            if lock == LockMode::ShareRowExclusive {
                "SHARE ROW EXCLUSIVE"
            } else {
                "ACCESS EXCLUSIVE"
            },
            lock.blocks()
        ))
        .with_instead({
            let t = instead::table(name);
            let c = instead::name(&constraint.name);
            format!(
                "Commit in between: keep the `ADD CONSTRAINT {c} ... NOT VALID` in this migration \
                 and run `ALTER TABLE {t} VALIDATE CONSTRAINT {c};` in the next migration, or {} \
                 where each statement commits on its own.",
                instead::outside_transaction(ctx.migration.migration.layout)
            )
        })
        .on_table(name)
        .with_lock(lock),
    )
}

/// The lock the earlier `ADD CONSTRAINT` took: foreign keys SHARE ROW EXCLUSIVE, the rest
/// ACCESS EXCLUSIVE (ALTER TABLE's documented lock levels).
fn added_with_lock(ctx: &Context, table: &QualifiedName, constraint: &str) -> LockMode {
    let foreign_key = ctx.earlier().iter().rev().find_map(|s| match &s.kind {
        StatementKind::AlterTable { name, actions, .. } if name.matches(table) => {
            actions.iter().find_map(|a| match a {
                AlterAction::AddConstraint(c) if c.name.as_deref() == Some(constraint) => {
                    Some(matches!(c.kind, ConstraintKind::ForeignKey(_)))
                }
                _ => None,
            })
        }
        _ => None,
    });
    if foreign_key == Some(true) {
        LockMode::ShareRowExclusive
    } else {
        LockMode::AccessExclusive
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Transaction;
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn instead_names_the_users_constraint() {
        let found = check(&RULE, &format!("{ADD_FK}\n{VALIDATE_FK}"));
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;` in the next migration"),
            "{instead}"
        );
        assert!(instead.contains("`-- no-transaction`"), "{instead}");
    }

    const ADD_FK: &str = "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
    const VALIDATE_FK: &str = "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;";

    #[test]
    fn flags_validation_in_the_adding_transaction() {
        let found = check(&RULE, &format!("{ADD_FK}\n{VALIDATE_FK}"));
        assert_eq!(found.len(), 1, "{found:?}");
        let m = &found[0].message;
        assert!(
            m.contains("orders_customer_fk") && m.contains("orders"),
            "{m}"
        );
        assert_eq!(
            found[0].facts.lock.as_deref(),
            Some("ShareRowExclusiveLock")
        );

        let found = check(
            &RULE,
            "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT amount_positive;",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].facts.lock.as_deref(), Some("AccessExclusiveLock"));
    }

    #[test]
    fn accepts_validation_after_a_commit() {
        assert_eq!(
            count(
                &RULE,
                &format!("-- no-transaction\n{ADD_FK}\n{VALIDATE_FK}")
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                &format!(
                    "-- no-transaction\nBEGIN;\n{ADD_FK}\nCOMMIT;\nBEGIN;\n{VALIDATE_FK}\nCOMMIT;"
                )
            ),
            0
        );
    }

    #[test]
    fn ignores_constraints_added_by_earlier_migrations() {
        assert_eq!(count(&RULE, VALIDATE_FK), 0);
    }

    #[test]
    fn follows_how_the_runner_sends_the_file() {
        let sql = format!("{ADD_FK}\n{VALIDATE_FK}");
        assert_eq!(check_as(&RULE, &sql, Some(Transaction::Implicit)).len(), 1);
        assert_eq!(check_as(&RULE, &sql, Some(Transaction::Statement)).len(), 0);
        assert_eq!(check_as(&RULE, &sql, None).len(), 0);
    }
}
