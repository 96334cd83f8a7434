//! `drop-view`: `DROP VIEW` of an object that existed before this migration.

use super::{dropped_object, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M072",
    name: "drop-view",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP VIEW` and `DROP MATERIALIZED VIEW` of a view that existed before this migration.",
    why: "Views are read by application code, reports, BI dashboards and other services that are not in this repository. From the moment the migration commits, every query naming the view fails with \"relation does not exist\" until those readers are changed; with CASCADE, views and other objects built on it are dropped silently too. The drop takes an ACCESS EXCLUSIVE lock on the view. (PostgreSQL docs: DROP VIEW.)",
    instead: "Stop reading the view first: find its readers (`pg_stat_statements`, the code, the BI tool), move them to the replacement and deploy; then drop it in a later migration with `DROP VIEW IF EXISTS <view>;` (no CASCADE, so PostgreSQL refuses if something still depends on it), and say so: `-- migsafe:allow drop-view reason: unused since <release>`.",
    rollback: "Recreate it from its definition: keep `SELECT pg_get_viewdef('<view>'::regclass, true);` with the migration, and for a materialized view `REFRESH` it after recreating (the data must be recomputed).",
    bad: include_str!("../../fixtures/rules/drop-view/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-view/good.sql"),
    check: Check::Statement(check),
};

fn message(names: &str, object: &str, cascade: bool) -> String {
    let _ = object;
    format!(
        "Dropping view {names} breaks every query, report and service that still reads it{}; move its readers to the replacement and deploy first",
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
        &["view", "materialized view"],
        message,
        instead_for,
    )
}

/// The rule's steps with the user's names and statement (without CASCADE).
fn instead_for(names: &str, drop: &str) -> String {
    format!(
        "Stop reading {names} first: find its readers (`pg_stat_statements`, the code, the BI \
         tool), move them to the replacement and deploy; then drop it in a later migration with \
         `{drop}` (no CASCADE, so PostgreSQL refuses if something still depends on it), and say \
         so: `-- migsafe:allow drop-view reason: unused since <release>`."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_the_users_drop_without_cascade() {
        let found = check(&RULE, "DROP VIEW IF EXISTS rental_summary CASCADE;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("Stop reading rental_summary first"),
            "{instead}"
        );
        assert!(
            instead.contains("`DROP VIEW IF EXISTS rental_summary;`"),
            "{instead}"
        );
        assert!(!instead.contains("<view>"), "{instead}");
    }

    #[test]
    fn flags_dropping_an_existing_object_and_not_one_created_here() {
        let found = check(&RULE, "DROP VIEW reporting.active_customers;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`"), "{}", found[0].message);
        assert_eq!(count(&RULE, "CREATE VIEW reporting.active_customers_v2 AS SELECT id, email FROM customers WHERE deleted_at IS NULL;"), 0);
        assert_eq!(count(&RULE, "CREATE VIEW reporting.active_customers_v2 AS SELECT id, email FROM customers WHERE deleted_at IS NULL;\nDROP VIEW reporting.active_customers_v2;"), 0);
    }
}
