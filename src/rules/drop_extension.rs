//! `drop-extension`: `DROP EXTENSION` of an object that existed before this migration.

use super::{dropped_object, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M076",
    name: "drop-extension",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP EXTENSION` of an extension that existed before this migration.",
    why: "An extension brings types, functions, operators and index methods (`uuid-ossp`'s `uuid_generate_v4()`, `pg_trgm`'s gin operator classes, `postgis` geometry). Columns, defaults, indexes and code that use them fail, or with CASCADE are dropped with their data and indexes. Dropping an extension is a whole-database change that rarely belongs in an application migration. (PostgreSQL docs: DROP EXTENSION.)",
    instead: "Move every use off the extension first (defaults, indexes, columns, calls in the code), in reviewed migrations, and deploy; then drop it without CASCADE, so PostgreSQL refuses while anything still depends on it. Often it is simpler to leave the extension installed.",
    rollback: "`CREATE EXTENSION IF NOT EXISTS <name>;` brings the extension back, but objects dropped by CASCADE (indexes, columns, defaults) must be recreated by hand.",
    bad: include_str!("../../fixtures/rules/drop-extension/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-extension/good.sql"),
    check: Check::Statement(check),
};

fn message(names: &str, object: &str, cascade: bool) -> String {
    let _ = object;
    format!(
        "Dropping extension {names} breaks the columns, defaults, indexes and code that use its types and functions{}; move them off it first",
        if cascade {
            " (CASCADE also drops whatever depends on it)"
        } else {
            ""
        }
    )
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    dropped_object::check_with_instead(ctx, stmt, &["extension"], message, instead_for)
}

/// The rule's steps with the user's names and statement (without CASCADE).
fn instead_for(names: &str, drop: &str) -> String {
    format!(
        "Move every use off {names} first (defaults, indexes, columns, calls in the code), in \
         reviewed migrations, and deploy; then `{drop}` without CASCADE, so PostgreSQL refuses \
         while anything still depends on it. Often it is simpler to leave {names} installed."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_extension() {
        let found = check(&RULE, "DROP EXTENSION pg_trgm CASCADE;");
        let instead = &found[0].instead;
        assert!(instead.contains("`DROP EXTENSION pg_trgm;`"), "{instead}");
        assert!(instead.contains("leave pg_trgm installed"), "{instead}");
    }

    #[test]
    fn flags_dropping_an_existing_object_and_not_one_created_here() {
        let found = check(&RULE, "DROP EXTENSION pg_trgm;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`"), "{}", found[0].message);
        assert_eq!(count(&RULE, "CREATE EXTENSION IF NOT EXISTS citext;"), 0);
        assert_eq!(
            count(
                &RULE,
                "CREATE EXTENSION IF NOT EXISTS citext;\nDROP EXTENSION citext;"
            ),
            0
        );
    }
}
