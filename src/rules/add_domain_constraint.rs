//! `add-domain-constraint`: `ALTER DOMAIN ... ADD CONSTRAINT ... CHECK` without `NOT VALID`,
//! or `ALTER DOMAIN ... SET NOT NULL`, on a domain that existed before this migration
//! (squawk's ban-alter-domain-with-add-constraint).

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};
use crate::parse::objects::domain_constraint;

pub const RULE: Rule = Rule {
    code: "M082",
    name: "add-domain-constraint",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER DOMAIN ... ADD [CONSTRAINT ...] CHECK (...)` without `NOT VALID`, and \
           `ALTER DOMAIN ... SET NOT NULL`, on a domain that existed before this migration.",
    why: "PostgreSQL checks the new constraint against every column of every table that uses \
          the domain (and every composite or array built on it), in one statement that holds a \
          SHARE lock on each of those tables for the whole scan: writes to all of them wait, \
          and the statement fails if a single row anywhere violates it. Nothing in the \
          statement names those tables, so the blast radius is invisible in review. \
          (PostgreSQL docs: ALTER DOMAIN, ADD domain_constraint [ NOT VALID ].)",
    instead: "Add the check as `NOT VALID` (new and updated rows are checked at once), then \
              validate it in a later migration with `ALTER DOMAIN <domain> VALIDATE \
              CONSTRAINT <constraint>;`, which scans without blocking writes. For NOT NULL, \
              add `CHECK (VALUE IS NOT NULL) NOT VALID` the same way.",
    rollback: "`ALTER DOMAIN <domain> DROP CONSTRAINT <constraint>;` (or `DROP NOT NULL`): \
               instant.",
    bad: include_str!("../../fixtures/rules/add-domain-constraint/bad.sql"),
    good: include_str!("../../fixtures/rules/add-domain-constraint/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Other { keywords } = &stmt.kind else {
        return None;
    };
    if keywords != "alter domain" {
        return None;
    }
    let change = domain_constraint(&stmt.text)?;
    if change.not_valid || ctx.state.object_is_new("domain", None, &change.domain) {
        return None;
    }
    let domain = &change.domain;
    let d = instead::table(domain);
    // PostgreSQL names an unnamed domain check `<domain>_check`.
    let constraint = instead::name(
        &change
            .name
            .clone()
            .unwrap_or_else(|| format!("{}_check", domain.name)),
    );
    let (what, instead) = if change.check {
        (
            format!("Adding a check to domain {domain}"),
            format!(
                "Add it `NOT VALID` now: `{} NOT VALID;` — new and updated rows are checked \
                 at once — and validate it in a later migration with `ALTER DOMAIN {d} \
                 VALIDATE CONSTRAINT {constraint};`, which scans without blocking writes.",
                stmt.text.trim().trim_end_matches(';')
            ),
        )
    } else {
        let not_null = instead::derived(&domain.name, &[], "not_null");
        (
            format!("Setting NOT NULL on domain {domain}"),
            format!(
                "Add `ALTER DOMAIN {d} ADD CONSTRAINT {} CHECK (VALUE IS NOT NULL) NOT VALID;` \
                 now and `ALTER DOMAIN {d} VALIDATE CONSTRAINT {};` in a later migration.",
                instead::name(&not_null),
                instead::name(&not_null)
            ),
        )
    };
    Some(
        Risk::new(format!(
            "{what} checks every column of every table that uses it, holding a SHARE lock \
             (writes wait) on each of them for the whole scan; add it NOT VALID and validate \
             it later"
        ))
        .with_instead(instead),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_validating_constraints_on_existing_domains() {
        let found = check(
            &RULE,
            "ALTER DOMAIN email_address ADD CONSTRAINT email_address_format CHECK (VALUE ~ '^[^@]+@[^@]+$');",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .instead
                .contains("ALTER DOMAIN email_address VALIDATE CONSTRAINT email_address_format;"),
            "{}",
            found[0].instead
        );
        assert_eq!(count(&RULE, "ALTER DOMAIN email_address SET NOT NULL;"), 1);
    }

    #[test]
    fn not_valid_new_domains_and_other_changes_pass() {
        for sql in [
            "ALTER DOMAIN email_address ADD CONSTRAINT f CHECK (VALUE ~ '@') NOT VALID;",
            "ALTER DOMAIN email_address VALIDATE CONSTRAINT f;",
            "ALTER DOMAIN email_address DROP NOT NULL;",
            "CREATE DOMAIN cents AS bigint;\nALTER DOMAIN cents ADD CONSTRAINT cents_positive CHECK (VALUE >= 0);",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }
}
