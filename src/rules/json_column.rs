//! `json-column`: a column declared `json` rather than `jsonb`.

use super::timestamp_without_time_zone::{declare_as, type_risk};
use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M033",
    name: "json-column",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what:
        "Flags columns declared `json` in `CREATE TABLE`, `ADD COLUMN` or `ALTER COLUMN ... TYPE`.",
    why: "`json` stores the input text verbatim and re-parses it on every access, so every \
          `->`/`->>` is slower than on `jsonb`. It has no equality operator, so `DISTINCT`, \
          `GROUP BY`, `UNION` and unique indexes on the column fail, and it cannot use GIN \
          indexes or the containment operators (`@>`, `?`). The manual recommends `jsonb` for \
          most applications. (PostgreSQL docs: 8.14 \"JSON Types\".)",
    instead: "Declare the column `jsonb`. Keep `json` only when the exact input text must be \
              preserved: key order, duplicate keys or whitespace.",
    rollback: "For a new column: drop it, or change its type before the table holds data: \
               `ALTER TABLE <table> ALTER COLUMN <column> TYPE jsonb USING <column>::jsonb;` \
               (on a filled table that rewrites it under ACCESS EXCLUSIVE).",
    bad: include_str!("../../fixtures/rules/json-column/bad.sql"),
    good: include_str!("../../fixtures/rules/json-column/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let declared = declare_as(stmt, |t| t == "json", |_| "jsonb".to_string());
    let risk = type_risk(
        stmt,
        |t| t == "json",
        |subject| {
            format!(
                "{subject} `json`: it is re-parsed on every access and cannot be compared or \
                 GIN-indexed; use `jsonb`"
            )
        },
    )?;
    Some(risk.with_instead(format!(
        "Declare {declared}. Keep `json` only when the exact input text must be preserved: key \
         order, duplicate keys or whitespace."
    )))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_column() {
        let found = check(
            &RULE,
            "CREATE TABLE rental_event (id bigint, payload json);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`payload` of rental_event as `payload jsonb`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_json_columns() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE hooks (id bigint PRIMARY KEY, payload json NOT NULL);"
            ),
            1
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE hooks ADD COLUMN headers JSON;"),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE hooks ALTER COLUMN headers TYPE json USING headers::json;"
            ),
            1
        );
    }

    #[test]
    fn ignores_jsonb() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb NOT NULL);"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE hooks ALTER COLUMN headers TYPE jsonb USING headers::jsonb;"
            ),
            0
        );
    }
}
