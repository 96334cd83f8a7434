//! `drop-type`: `DROP TYPE` of an object that existed before this migration.

use super::{dropped_object, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M074",
    name: "drop-type",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP TYPE` and `DROP DOMAIN` of a type that existed before this migration.",
    why: "Columns, function arguments and casts in running code use the type by name. PostgreSQL refuses the drop while a column uses it, unless CASCADE, which drops those columns and their data along with it. Code that casts to the type (`'paid'::payment_status`) fails from the moment the migration commits. (PostgreSQL docs: DROP TYPE, DROP DOMAIN.)",
    instead: "Move every column and function off the type first (`ALTER TABLE ... ALTER COLUMN ... TYPE text`, in its own reviewed migration), remove the casts from the code and deploy; then drop the type without CASCADE, so PostgreSQL refuses if anything still uses it.",
    rollback: "Recreate it as it was (`CREATE TYPE <name> AS ENUM (...)` with the same labels in the same order); columns dropped by CASCADE come back empty.",
    bad: include_str!("../../fixtures/rules/drop-type/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-type/good.sql"),
    check: Check::Statement(check),
};

fn message(names: &str, object: &str, cascade: bool) -> String {
    let _ = object;
    format!(
        "Dropping {object} {names} breaks the code that casts to it{}; move its columns and casts off it and deploy first",
        if cascade {
            " (CASCADE also drops whatever depends on it)"
        } else {
            ""
        }
    )
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    dropped_object::check_with_instead(ctx, stmt, &["type", "domain"], message, instead_for)
}

/// The rule's steps with the user's names and statement (without CASCADE).
fn instead_for(names: &str, drop: &str) -> String {
    format!(
        "Move every column and function off {names} first (`ALTER TABLE ... ALTER COLUMN ... \
         TYPE text`, in its own reviewed migration), remove the casts from the code and deploy; \
         then `{drop}` without CASCADE, so PostgreSQL refuses if anything still uses it."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_type() {
        let found = check(&RULE, "DROP TYPE mpaa_rating;");
        let instead = &found[0].instead;
        assert!(instead.contains("off mpaa_rating first"), "{instead}");
        assert!(instead.contains("`DROP TYPE mpaa_rating;`"), "{instead}");
    }

    #[test]
    fn flags_dropping_an_existing_object_and_not_one_created_here() {
        let found = check(&RULE, "DROP TYPE payment_status;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`"), "{}", found[0].message);
        assert_eq!(
            count(
                &RULE,
                "CREATE TYPE payment_state AS ENUM ('pending', 'paid', 'refunded');"
            ),
            0
        );
        assert_eq!(count(&RULE, "CREATE TYPE payment_state AS ENUM ('pending', 'paid', 'refunded');\nDROP TYPE payment_state;"), 0);
    }
}
