//! `drop-sequence`: `DROP SEQUENCE` of an object that existed before this migration.

use super::{dropped_object, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M075",
    name: "drop-sequence",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP SEQUENCE` of a sequence that existed before this migration.",
    why: "Defaults (`nextval('orders_id_seq')`) and running code that calls `nextval` on the sequence fail with \"relation does not exist\" as soon as the migration commits, so every INSERT relying on it fails; with CASCADE the defaults are dropped instead and inserts fail on NOT NULL. Recreating it later restarts the numbering unless the last value is restored. (PostgreSQL docs: DROP SEQUENCE.)",
    instead: "Make sure nothing uses it: no column default (`SELECT adrelid::regclass, pg_get_expr(adbin, adrelid) FROM pg_attrdef;`), no `nextval` in the code; deploy; then drop it without CASCADE.",
    rollback: "Recreate it starting after the last value used: `CREATE SEQUENCE <sequence> START WITH <last value + 1>;` and restore the defaults that used it.",
    bad: include_str!("../../fixtures/rules/drop-sequence/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-sequence/good.sql"),
    check: Check::Statement(check),
};

fn message(names: &str, object: &str, cascade: bool) -> String {
    let _ = object;
    format!(
        "Dropping sequence {names} breaks every default and INSERT that still takes numbers from it{}; remove its uses and deploy first",
        if cascade {
            " (CASCADE also drops whatever depends on it)"
        } else {
            ""
        }
    )
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    dropped_object::check_with_instead(ctx, stmt, &["sequence"], message, instead_for)
}

/// The rule's steps with the user's names and statement (without CASCADE).
fn instead_for(names: &str, drop: &str) -> String {
    format!(
        "Make sure nothing uses {names}: no column default (`SELECT adrelid::regclass, \
         pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE pg_get_expr(adbin, adrelid) LIKE \
         '%nextval%';`), no `nextval` of it in the code; deploy; then `{drop}` without CASCADE."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_sequence() {
        let found = check(&RULE, "DROP SEQUENCE rental_rental_id_seq CASCADE;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("nothing uses rental_rental_id_seq"),
            "{instead}"
        );
        assert!(
            instead.contains("`DROP SEQUENCE rental_rental_id_seq;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_dropping_an_existing_object_and_not_one_created_here() {
        let found = check(&RULE, "DROP SEQUENCE invoice_number_seq;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("`"), "{}", found[0].message);
        assert_eq!(
            count(
                &RULE,
                "CREATE SEQUENCE invoice_number_v2_seq START WITH 100000;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE SEQUENCE invoice_number_v2_seq START WITH 100000;\nDROP SEQUENCE invoice_number_v2_seq;;"
            ),
            0
        );
    }
}
