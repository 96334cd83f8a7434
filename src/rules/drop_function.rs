//! `drop-function`: `DROP FUNCTION` of an object that existed before this migration.

use super::{dropped_object, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M073",
    name: "drop-function",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP FUNCTION`, `DROP PROCEDURE` and `DROP ROUTINE` of a routine that existed before this migration.",
    why: "Running code calls functions by name, and so do triggers, defaults, check constraints, generated columns, views and scheduled jobs. After the drop each of those fails with \"function does not exist\" (with CASCADE, PostgreSQL drops the triggers, defaults and views that use it instead, silently). Dropping one overload can also change which overload a call resolves to. (PostgreSQL docs: DROP FUNCTION.)",
    instead: "Stop calling it first: remove the calls from the code and from triggers, defaults and views and deploy; then drop it in a later migration without CASCADE, naming its argument types (`DROP FUNCTION IF EXISTS <name>(<argument types>);`) so that only that overload goes.",
    rollback: "Recreate it from its definition: keep `SELECT pg_get_functiondef('<name>(<argument types>)'::regprocedure);` with the migration.",
    bad: include_str!("../../fixtures/rules/drop-function/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-function/good.sql"),
    check: Check::Statement(check),
};

fn message(names: &str, object: &str, cascade: bool) -> String {
    let _ = object;
    format!(
        "Dropping {object} {names} breaks the code, triggers, defaults and views that still call it{}; remove the calls and deploy first",
        if cascade {
            " (CASCADE also drops whatever depends on it)"
        } else {
            ""
        }
    )
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    dropped_object::check_with_instead(
        ctx,
        stmt,
        &["function", "procedure", "routine"],
        message,
        instead_for,
    )
}

/// The rule's steps with the user's names and statement (without CASCADE).
fn instead_for(names: &str, drop: &str) -> String {
    format!(
        "Stop calling {names} first: remove the calls from the code and from triggers, defaults \
         and views and deploy; then `{drop}` in a later migration without CASCADE, naming its \
         argument types so that only that overload goes."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_the_users_drop_without_cascade() {
        let found = check(&RULE, "DROP FUNCTION rental_days(date, date) CASCADE;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`DROP FUNCTION rental_days(date, date);`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_dropping_an_existing_object_and_not_one_created_here() {
        let found = check(&RULE, "DROP FUNCTION normalize_email(text);");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`"), "{}", found[0].message);
        assert_eq!(count(&RULE, "CREATE FUNCTION normalize_email_v2(address text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim(address)) $$;"), 0);
        assert_eq!(count(&RULE, "CREATE FUNCTION normalize_email_v2(address text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim(address)) $$;\nDROP FUNCTION normalize_email_v2(text);"), 0);
    }
}
