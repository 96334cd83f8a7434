//! `char-column`: a column declared `char(n)` / `character(n)` / `bpchar`.

use super::timestamp_without_time_zone::{columns_as, declare_as, strip_length, type_risk};
use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement};

pub const RULE: Rule = Rule {
    code: "M032",
    name: "char-column",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "Flags columns declared `char`, `char(n)`, `character(n)` or `bpchar` (blank-padded, \
           fixed length) in `CREATE TABLE`, `ADD COLUMN` or `ALTER COLUMN ... TYPE`.",
    why: "`char(n)` pads every value with spaces to n characters and returns it padded \
          (`'ab'` in a `char(4)` comes back with two trailing spaces), yet treats the trailing spaces as \
          insignificant in comparisons and strips them when the value is converted to `text`, \
          so the same value behaves differently by context and surprises applications. It \
          still accepts values shorter than n, so it does not enforce a fixed length either, \
          and it is never faster: the manual notes it is usually the slowest of the character \
          types because of its extra storage. (PostgreSQL docs: 8.3 \"Character Types\"; \
          PostgreSQL wiki \"Don't Do This: Don't use char(n)\".)",
    instead: "Use `text` (or `varchar(n)` when a maximum length is a real rule). To require an \
              exact length, add `CHECK (length(<column>) = n)`.",
    rollback: "For a new column: drop it, or change its type before the table holds data: \
               `ALTER TABLE <table> ALTER COLUMN <column> TYPE text;` (on a filled table that \
               rewrites it under ACCESS EXCLUSIVE).",
    bad: include_str!("../../fixtures/rules/char-column/bad.sql"),
    good: include_str!("../../fixtures/rules/char-column/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let risk = type_risk(stmt, is_blank_padded, |subject| {
        format!(
            "{subject} blank-padded `char(n)`: values are padded with spaces and the length is \
             not enforced; use `text` or `varchar(n)`"
        )
    })?;
    let text = declare_as(stmt, is_blank_padded, |_| "text".to_string());
    let varchar = columns_as(stmt, is_blank_padded, |t| match length(t) {
        Some(n) => format!("varchar({n})"),
        None => "varchar(1)".to_string(),
    });
    Some(risk.with_instead(format!(
        "Declare {text} (or {varchar} when the maximum length is a real rule). To require an \
         exact length, add a `CHECK (length(<column>) = n)`."
    )))
}

/// The `n` of `char(n)`; a bare `char` is `char(1)`.
fn length(data_type: &str) -> Option<&str> {
    let open = data_type.find('(')?;
    let rest = data_type.get(open + 1..)?;
    rest.get(..rest.find(')')?).map(str::trim)
}

/// Whether a normalised type is the blank-padded `character` type. `"char"` (quoted, the
/// one-byte internal type) and `character varying` are different types and do not match.
fn is_blank_padded(data_type: &str) -> bool {
    // Longest spellings first: `char` is a prefix of `character`.
    [
        "national character",
        "national char",
        "character",
        "bpchar",
        "nchar",
        "char",
    ]
    .iter()
    .any(|base| {
        data_type.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty() || (rest.trim_start().starts_with('(') && strip_length(rest).is_empty())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_column_and_length() {
        let found = check(&RULE, "ALTER TABLE rental ADD COLUMN country_code char(2);");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`country_code` of rental as `country_code text`"),
            "{instead}"
        );
        assert!(instead.contains("`country_code varchar(2)`"), "{instead}");
    }
    use crate::rules::timestamp_without_time_zone::normalize_type;

    #[test]
    fn recognises_blank_padded_spellings_only() {
        for t in [
            "char",
            "char(2)",
            "CHARACTER (10)",
            "bpchar",
            "character(3)[]",
        ] {
            assert!(is_blank_padded(&normalize_type(t)), "{t}");
        }
        for t in [
            "character varying(10)",
            "char varying",
            "varchar(2)",
            "text",
            "\"char\"",
            "citext",
        ] {
            assert!(!is_blank_padded(&normalize_type(t)), "{t}");
        }
    }

    #[test]
    fn flags_char_columns() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE countries (code char(2) PRIMARY KEY, name text);"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE invoices ADD COLUMN currency character(3);"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE invoices ALTER COLUMN currency TYPE char(3);"
            ),
            1
        );
    }

    #[test]
    fn ignores_text_and_varchar() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE countries (code varchar(2) PRIMARY KEY, name character varying(100), notes text);"
            ),
            0
        );
    }
}
