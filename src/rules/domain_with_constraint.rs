//! `domain-with-constraint`: `CREATE DOMAIN ... CHECK (...)` (squawk's
//! ban-create-domain-with-constraint): harmless today, costly to change later.

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};
use crate::parse::objects::domain_constraint;

pub const RULE: Rule = Rule {
    code: "M083",
    name: "domain-with-constraint",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "Flags `CREATE DOMAIN ... CHECK (...)`: a domain that carries a check constraint.",
    why: "Creating the domain is instant, but its check becomes hard to change. Tightening it \
          later (`ALTER DOMAIN ... ADD CONSTRAINT`) scans every column of every table that uses \
          the domain under a SHARE lock on each; there is no way to change the check of one \
          table's column without changing the column's type, which rewrites that table. A \
          CHECK on each table's column can be replaced one table at a time with `NOT VALID` \
          and `VALIDATE`. (PostgreSQL docs: CREATE DOMAIN, ALTER DOMAIN.)",
    instead: "Create the domain without the check (`CREATE DOMAIN <domain> AS <type>;`) and put \
              the check on each column that uses it (`ALTER TABLE <table> ADD CONSTRAINT \
              <table>_<column>_check CHECK (<column> ...) NOT VALID;`), or use the base type \
              with a column check; keep the domain's check only where it will never change.",
    rollback: "`DROP DOMAIN <domain>;` while no column uses it (instant).",
    bad: include_str!("../../fixtures/rules/domain-with-constraint/bad.sql"),
    good: include_str!("../../fixtures/rules/domain-with-constraint/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Other { keywords } = &stmt.kind else {
        return None;
    };
    if keywords != "create domain" {
        return None;
    }
    let change = domain_constraint(&stmt.text)?;
    if !change.check {
        return None;
    }
    let domain = &change.domain;
    Some(
        Risk::new(format!(
            "Domain {domain} carries a CHECK: changing it later scans every table that uses {domain} \
             under lock; put the check on the columns instead"
        ))
        .with_instead(format!(
            "Create `{}` without the check and add the check to each column that uses it \
             (`ALTER TABLE <table> ADD CONSTRAINT <table>_<column>_check CHECK (...) NOT \
             VALID;`, validated later), so that each table's check can change on its own.",
            instead::table(domain)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_domains_created_with_a_check() {
        let found = check(
            &RULE,
            "CREATE DOMAIN us_postal_code AS text CHECK (VALUE ~ '^\\d{5}$' OR VALUE ~ '^\\d{5}-\\d{4}$');",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("us_postal_code"),
            "{}",
            found[0].message
        );
        assert_eq!(
            count(&RULE, "CREATE DOMAIN cents AS bigint NOT NULL DEFAULT 0;"),
            0
        );
        assert_eq!(
            count(&RULE, "CREATE TABLE t (zip text CHECK (zip <> ''));"),
            0
        );
    }
}
