//! Quoting of identifiers and literals for SQL that migsafe builds itself (the ground floor:
//! the evidence, execute and restore stages all send such SQL). Bind parameters are used
//! where a statement takes them; these are for the statements that do not (`CREATE
//! DATABASE`, `COMMENT ON DATABASE … IS`, `DO` blocks).
//!
//! A literal must mean the same whatever the server's `standard_conforming_strings`: with it
//! off, a backslash in `'…'` escapes the next character, so `'x\'; DROP …'` would end early
//! (issue #9: a dump file name with `\'` injected SQL into `COMMENT ON DATABASE`). An escape
//! string `E'…'` reads backslashes the same way under either setting, so a literal with a
//! backslash is written as one, with `\` and `'` doubled.

/// `"name"`, with `"` doubled: PostgreSQL keeps the name exactly (case, spaces, quotes).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal that means `text` under any `standard_conforming_strings`.
pub fn literal(text: &str) -> String {
    let doubled = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

/// Keywords PostgreSQL reserves (SQL Key Words appendix, "reserved" in the PostgreSQL column):
/// a name spelled like one must be quoted even when it is lower case.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// A name as the user would write it in SQL: bare when PostgreSQL reads it back unchanged
/// (lower case, no reserved word), else `"quoted"`. The model keeps names as PostgreSQL folded
/// them, so `Rental` written with quotes comes back quoted and `rental` stays bare, which is
/// how a user's own statement spells them (issue #12: advice written with their names).
pub fn name(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&name);
    if plain {
        name.to_string()
    } else {
        ident(name)
    }
}

/// `schema.table` (or `table`) with each part written as [`name`] writes it.
pub fn qualified(schema: Option<&str>, object: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", name(s), name(object)),
        None => name(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_survive_backslashes_and_quotes() {
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"dumps/x\'; DROP"), r"E'dumps/x\\''; DROP'");
        assert_eq!(ident(r#"We"ird"#), r#""We""ird""#);
    }

    #[test]
    fn names_are_quoted_only_where_postgresql_needs_it() {
        assert_eq!(name("return_date"), "return_date");
        assert_eq!(name("Rental"), "\"Rental\"");
        assert_eq!(name("order"), "\"order\"");
        assert_eq!(name("user"), "\"user\"");
        assert_eq!(name("2fa"), "\"2fa\"");
        assert_eq!(name("due date"), "\"due date\"");
        assert_eq!(qualified(Some("billing"), "Invoice"), "billing.\"Invoice\"");
        assert_eq!(qualified(None, "rental"), "rental");
    }
}
