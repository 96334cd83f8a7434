//! `add-exclusion-constraint`: an EXCLUDE constraint added to an existing table.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, ConstraintKind, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M012",
    name: "add-exclusion-constraint",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD [CONSTRAINT] EXCLUDE ...` on a table that existed before \
           this migration.",
    why: "An exclusion constraint builds its index and checks every existing row inside the \
          ALTER TABLE, holding an ACCESS EXCLUSIVE lock throughout: every read and write on the \
          table waits. Unlike CHECK and FOREIGN KEY it cannot be added NOT VALID, and unlike \
          UNIQUE it cannot adopt an index built CONCURRENTLY, so there is no online way to add \
          it. (PostgreSQL docs: ALTER TABLE, \"ADD table_constraint\"; CREATE TABLE, \"EXCLUDE\".)",
    instead: "Declare exclusion constraints when the table is created. On an existing table, \
              either schedule the change in a maintenance window (measure its duration on a copy \
              first, keep `lock_timeout` short), or build a new table with the constraint, copy \
              the rows over in batches while writes go to both, and swap the tables. Where a \
              plain equality suffices, a UNIQUE index built CONCURRENTLY is the online \
              alternative.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT IF EXISTS <constraint>;`",
    bad: include_str!("../../fixtures/rules/add-exclusion-constraint/bad.sql"),
    good: include_str!("../../fixtures/rules/add-exclusion-constraint/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let constraint = actions.iter().find_map(|action| match action {
        AlterAction::AddConstraint(c) if matches!(c.kind, ConstraintKind::Exclusion) => Some(c),
        _ => None,
    })?;
    let label = match &constraint.name {
        Some(n) => format!("exclusion constraint {n}"),
        None => "an exclusion constraint".to_string(),
    };
    Some(
        Risk::new(format!(
            "Adding {label} to {name} builds its index and checks every row under an ACCESS \
             EXCLUSIVE lock: reads and writes on {name} wait, and there is no NOT VALID or \
             CONCURRENTLY form to avoid it"
        ))
        .with_instead(instead_for(name, constraint, &stmt.text, ctx))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The maintenance-window or copy-and-swap advice for this table's constraint, the user's
/// statement behind the configured lock_timeout.
fn instead_for(
    table: &crate::model::QualifiedName,
    constraint: &crate::model::Constraint,
    text: &str,
    ctx: &Context,
) -> String {
    let t = instead::table(table);
    let statement = instead::statement_head(text, 240);
    let unique = if constraint.columns.is_empty() {
        String::new()
    } else {
        let index = instead::derived(&table.name, &constraint.columns, "key");
        format!(
            " Where plain equality on ({cols}) suffices, `CREATE UNIQUE INDEX CONCURRENTLY {} ON \
             {t} ({cols});` is the online alternative.",
            instead::name(&index),
            cols = instead::columns(&constraint.columns)
        )
    };
    format!(
        "Declare exclusion constraints when the table is created. On the existing {t}, either run \
         it in a maintenance window (measure its duration on a copy first) behind a short lock \
         timeout: `{} {statement}`, or build a new table like {t} with the constraint, copy the \
         rows over in batches of {} while writes go to both, and swap the tables by rename in one \
         short transaction.{unique}",
        instead::set_lock_timeout(ctx.settings),
        instead::batch(ctx.settings),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_statement() {
        let found = check(
            &RULE,
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`SET lock_timeout = '2s'; ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);`"),
            "{instead}"
        );
        assert!(instead.contains("a new table like booking"), "{instead}");
    }

    #[test]
    fn flags_exclusion_constraints_on_existing_tables() {
        let findings = check(
            &RULE,
            "ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_no_overlap \
             EXCLUDE USING gist (room_id WITH =, during WITH &&);",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("room_bookings_no_overlap"));
        assert_eq!(findings[0].table.as_deref(), Some("room_bookings"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
    }

    #[test]
    fn allows_exclusion_constraints_on_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE maintenance_windows (id bigint, during tstzrange NOT NULL);\n\
                 ALTER TABLE maintenance_windows ADD CONSTRAINT maintenance_windows_no_overlap \
                 EXCLUDE USING gist (during WITH &&);"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE maintenance_windows (id bigint, during tstzrange NOT NULL, \
                 EXCLUDE USING gist (during WITH &&));"
            ),
            0
        );
    }

    #[test]
    fn ignores_other_constraints() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE room_bookings ADD CONSTRAINT room_bookings_key UNIQUE USING INDEX room_bookings_key;"
            ),
            0
        );
    }
}
