//! `missing-owner`: a migration nobody is named for (PRODUCT.md §2).

use super::{Check, MigrationContext, Risk, Rule};
use crate::model::{Evidence, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M040",
    name: "missing-owner",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags a migration with no owner: no `-- owner:` line in its leading comments, no \
           CODEOWNERS entry matching the file, and no `owner` in migsafe.toml.",
    why: "When a migration locks a table or fails halfway at 3 a.m., whoever is on call needs \
          to know whom to ask what it was meant to do and whether it may be rolled back. \
          Migrations outlive their pull requests; the owner written next to the SQL is the \
          only record that travels with it.",
    instead: "Name the team or person in the file's leading comments, e.g. \
              `-- owner: @payments-team` (several owners separated by spaces), or add a \
              CODEOWNERS entry for the migrations folder, or set `owner = \"@team\"` in \
              migsafe.toml.",
    rollback: "Not applicable: this rule concerns documentation.",
    bad: include_str!("../../fixtures/rules/missing-owner/bad.sql"),
    good: include_str!("../../fixtures/rules/missing-owner/good.sql"),
    check: Check::Migration(check),
};

fn check(ctx: &MigrationContext) -> Option<Risk> {
    if ctx.migration.meta.owner.is_some() {
        return None;
    }
    Some(Risk {
        position: Some(Position { line: 1, column: 1 }),
        ..Risk::new(
            "No owner: add `-- owner: @team` to the file's leading comments, or a CODEOWNERS entry",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::check;

    #[test]
    fn flags_a_migration_without_owner_at_line_one() {
        let found = check(&RULE, "-- expect: fails\nCREATE TABLE t (id bigint);\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (1, 1));
        assert!(
            found[0].message.contains("-- owner: @team"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn an_owner_annotation_satisfies_it() {
        assert!(check(&RULE, "-- owner: @db\nCREATE TABLE t (id bigint);\n").is_empty());
        assert!(check(
            &RULE,
            "/*\n  Owner : alice@example.com\n*/\nCREATE TABLE t (id bigint);\n"
        )
        .is_empty());
    }
}
