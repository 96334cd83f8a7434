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
}
