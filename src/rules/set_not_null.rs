//! `set-not-null`: `ALTER COLUMN ... SET NOT NULL` on an existing table without a validated
//! `CHECK (col IS NOT NULL)` that lets PostgreSQL skip the scan.

use super::{Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M007",
    name: "set-not-null",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` on a table that existed before \
           this migration, unless a validated `CHECK (col IS NOT NULL)` was added earlier in the \
           same migration.",
    why: "SET NOT NULL takes an ACCESS EXCLUSIVE lock and scans the whole table to prove that no \
          row is NULL: every read and write waits for the scan. Since PostgreSQL 12 the scan is \
          skipped when a valid CHECK constraint already proves the column is not null. \
          (PostgreSQL docs: ALTER TABLE, \"SET/DROP NOT NULL\".)",
    instead: "Prove the column first, without blocking writes, then set it (PostgreSQL 12+): (1) `ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) \
              NOT VALID;` (brief lock); (2) `ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;` in a separate \
              transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue); (3) `ALTER TABLE users ALTER COLUMN email SET NOT NULL;` (no scan: uses the check); (4) `ALTER TABLE users DROP CONSTRAINT users_email_not_null;`",
    rollback: "`ALTER TABLE <table> ALTER COLUMN <column> DROP NOT NULL;` (instant).",
    bad: include_str!("../../fixtures/rules/set-not-null/bad.sql"),
    good: include_str!("../../fixtures/rules/set-not-null/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let column = actions.iter().find_map(|action| match action {
        AlterAction::SetNotNull { column }
            if !ctx
                .state
                .not_null_checks
                .iter()
                .any(|(t, c)| t.matches(name) && c == column) =>
        {
            Some(column)
        }
        _ => None,
    })?;
    // A NOT VALID check proves nothing yet; say so, since the author clearly meant to use it.
    let unvalidated =
        ctx.state.not_valid_constraints.iter().find(|c| {
            c.table.matches(name) && c.not_null_column.as_deref() == Some(column.as_str())
        });
    let hint = match unvalidated {
        Some(c) => format!(
            "; the CHECK constraint {} is still NOT VALID, so VALIDATE it first (in its own \
             transaction)",
            c.name
        ),
        None => "; add and VALIDATE a CHECK (... IS NOT NULL) constraint first, which \
                 PostgreSQL 12+ uses to skip the scan"
            .to_string(),
    };
    Some(
        Risk::new(format!(
            "Setting {name}.{column} NOT NULL scans all of {name} under an ACCESS EXCLUSIVE \
             lock: reads and writes wait{hint}"
        ))
        .with_instead(instead_for(
            name,
            column,
            unvalidated.map(|c| c.name.as_str()),
        ))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The CHECK / VALIDATE / SET NOT NULL recipe written for this table and column (reusing the
/// NOT VALID check the migration already added, if any).
fn instead_for(
    table: &crate::model::QualifiedName,
    column: &str,
    existing: Option<&str>,
) -> String {
    let check = super::instead::name(&existing.map(str::to_string).unwrap_or_else(|| {
        super::instead::derived(&table.name, &[column.to_string()], "not_null")
    }));
    let (table, column) = (super::instead::table(table), super::instead::name(column));
    let first = if existing.is_some() {
        String::new()
    } else {
        format!(
            "(1) `ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT \
             VALID;` (brief lock); "
        )
    };
    format!(
        "Prove the column first, without blocking writes, then set it (PostgreSQL 12+): \
         {first}(2) `ALTER TABLE {table} VALIDATE CONSTRAINT {check};` in a separate transaction \
         (SHARE UPDATE EXCLUSIVE: reads and writes continue); (3) `ALTER TABLE {table} ALTER \
         COLUMN {column} SET NOT NULL;` (no scan: uses the check); (4) `ALTER TABLE {table} DROP \
         CONSTRAINT {check};`"
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_statements_names() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ALTER COLUMN return_date SET NOT NULL;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("ALTER TABLE rental ADD CONSTRAINT rental_return_date_not_null CHECK (return_date IS NOT NULL) NOT VALID;"),
            "{instead}"
        );
        assert!(instead.contains("ALTER TABLE rental ALTER COLUMN return_date SET NOT NULL;"));
        assert!(!instead.contains("users"), "{instead}");
    }

    #[test]
    fn flags_set_not_null_on_existing_table() {
        let findings = check(&RULE, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("users.email"));
        assert_eq!(findings[0].table.as_deref(), Some("users"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
    }

    #[test]
    fn allows_set_not_null_after_a_validated_check() {
        // Added valid in one step (itself flagged by add-check-validating, not by this rule).
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL);\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
            ),
            0
        );
        // The recommended recipe.
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\n\
                 ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
                 ALTER TABLE users DROP CONSTRAINT users_email_nn;"
            ),
            0
        );
    }

    #[test]
    fn a_not_valid_check_alone_does_not_help() {
        let findings = check(
            &RULE,
            "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("users_email_nn"));
        // A check on another column does not help either.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD CONSTRAINT users_name_nn CHECK (name IS NOT NULL);\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
            ),
            1
        );
    }

    #[test]
    fn ignores_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, owner bigint);\n\
                 ALTER TABLE carts ALTER COLUMN owner SET NOT NULL;"
            ),
            0
        );
    }

    #[test]
    fn matches_quoted_and_qualified_names() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\n\
                 ALTER TABLE public.users ADD CONSTRAINT users_email_nn CHECK (\"email\" IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE public.users VALIDATE CONSTRAINT users_email_nn;\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
            ),
            0
        );
    }
}
