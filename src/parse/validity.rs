//! Text that PostgreSQL itself rejects, found before sqlparser gets a chance to read it
//! generously (sqlparser accepts MySQL's and SQLite's column options, and reads two
//! statements without a `;` as one), and PostgreSQL syntax that sqlparser misreads
//! (PostgreSQL 18's `ADD CONSTRAINT name NOT NULL column`).

use super::tokens::{tokenize, Tok, Token};
use crate::model::{AlterAction, QualifiedName, StatementKind};

/// Object words that, after `CREATE`, `ALTER` or `DROP` at the start of a line, begin a new
/// statement (and never an ALTER TABLE sub-command such as `ALTER COLUMN` or `DROP COLUMN`).
const STATEMENT_OBJECTS: &[&str] = &[
    "table",
    "index",
    "unique",
    "view",
    "materialized",
    "sequence",
    "type",
    "function",
    "procedure",
    "trigger",
    "extension",
    "schema",
    "policy",
    "domain",
    "role",
    "user",
    "database",
    "or",
];

/// Why PostgreSQL would reject `text`, if migsafe can tell for certain: a statement that runs
/// into the next one without a `;`, or another database's syntax.
pub(crate) fn invalid(text: &str) -> Option<String> {
    let toks = tokenize(text);
    let first = toks.first()?;
    // CREATE SCHEMA may hold CREATE TABLE/VIEW/INDEX elements without semicolons.
    let schema_elements = first.is("create") && toks.get(1).is_some_and(|t| t.is("schema"));
    // In an ALTER statement, `ALTER x` / `DROP x` on a new line is usually a sub-command whose
    // COLUMN keyword was left out (`DROP type`); only `ALTER TABLE` / `DROP TABLE` is certain.
    let in_alter = first.is("alter");
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate() {
        if t.is_punct("(") {
            depth += 1;
            continue;
        }
        if t.is_punct(")") {
            depth = depth.saturating_sub(1);
            continue;
        }
        if let Some(reason) = other_dialect(&toks, k) {
            return Some(reason);
        }
        if k == 0 || depth > 0 || schema_elements || !starts_line(text, &toks, k) {
            continue;
        }
        let next = toks.get(k + 1);
        let objects: &[&str] = if in_alter && !t.is("create") {
            &["table"]
        } else {
            STATEMENT_OBJECTS
        };
        let begins = (t.is("create") || t.is("alter") || t.is("drop"))
            && next.is_some_and(|n| objects.iter().any(|o| n.is(o)))
            || t.is("truncate")
            || (t.is("comment") && next.is_some_and(|n| n.is("on")));
        if begins {
            let line = text.get(..t.at).map_or(0, |b| b.matches('\n').count()) + 1;
            let words: Vec<&str> = toks
                .iter()
                .skip(k)
                .take(3)
                .take_while(|w| w.tok == Tok::Word)
                .map(|w| w.text)
                .collect();
            return Some(format!(
                "a new statement (`{}`) starts on line {line} of this statement without a `;` \
                 before it: PostgreSQL rejects the pair with a syntax error; add the missing `;`",
                words.join(" ")
            ));
        }
    }
    None
}

/// Whether token `k` is the first token on its line.
fn starts_line(text: &str, toks: &[Token<'_>], k: usize) -> bool {
    let Some(prev) = k.checked_sub(1).and_then(|p| toks.get(p)) else {
        return true;
    };
    let Some(t) = toks.get(k) else {
        return false;
    };
    text.get(prev.at + prev.text.len()..t.at)
        .is_some_and(|gap| gap.contains('\n'))
}

const INTEGER_TYPES: &[&str] = &[
    "int",
    "integer",
    "bigint",
    "smallint",
    "tinyint",
    "mediumint",
    "int2",
    "int4",
    "int8",
    "serial",
    "bigserial",
];

/// MySQL's and SQLite's column syntax that PostgreSQL has no equivalent keyword for.
fn other_dialect(toks: &[Token<'_>], k: usize) -> Option<String> {
    let t = toks.get(k)?;
    if t.tok == Tok::Punct && t.text == "`" {
        return Some(
            "backtick-quoted identifiers are MySQL syntax; PostgreSQL rejects them: quote \
             identifiers with double quotes"
                .to_string(),
        );
    }
    if t.tok != Tok::Word {
        return None;
    }
    let prev = k.checked_sub(1).and_then(|p| toks.get(p));
    let after_column_part = prev.is_some_and(|p| {
        p.tok == Tok::Word
            && (INTEGER_TYPES.iter().any(|w| p.is(w))
                || p.is("key")
                || p.is("null")
                || p.is("unsigned"))
            || p.is_punct(")")
    });
    if !after_column_part {
        return None;
    }
    if t.is("autoincrement") {
        return Some(
            "`AUTOINCREMENT` is SQLite syntax; PostgreSQL rejects it: use `bigint GENERATED \
             ALWAYS AS IDENTITY`"
                .to_string(),
        );
    }
    if t.is("auto_increment") {
        return Some(
            "`AUTO_INCREMENT` is MySQL syntax; PostgreSQL rejects it: use `bigint GENERATED \
             ALWAYS AS IDENTITY`"
                .to_string(),
        );
    }
    if t.is("unsigned") && prev.is_some_and(|p| !p.is("unsigned")) {
        return Some(
            "`UNSIGNED` is MySQL/SQLite syntax; PostgreSQL has no unsigned integers and rejects \
             it: use a wider type with `CHECK (col >= 0)`"
                .to_string(),
        );
    }
    None
}

/// PostgreSQL 18's `ALTER TABLE t ADD CONSTRAINT name NOT NULL col [NOT VALID]` (a named NOT
/// NULL constraint), which sqlparser reads as adding a column called `constraint`. Without
/// NOT VALID it scans the table like `SET NOT NULL`; with it, it only records the constraint.
pub(crate) fn not_null_constraint(text: &str) -> Option<StatementKind> {
    let toks = tokenize(text);
    let mut k = 0;
    let word = |k: usize, w: &str| toks.get(k).is_some_and(|t| t.is(w));
    if !(word(0, "alter") && word(1, "table")) {
        return None;
    }
    k += 2;
    let if_exists = word(k, "if") && word(k + 1, "exists");
    if if_exists {
        k += 2;
    }
    if word(k, "only") {
        k += 1;
    }
    let first = toks.get(k).filter(|t| t.is_name())?;
    let name = if toks.get(k + 1).is_some_and(|t| t.is_punct(".")) {
        let second = toks.get(k + 2).filter(|t| t.is_name())?;
        k += 3;
        QualifiedName::new(Some(&first.ident()), &second.ident())
    } else {
        k += 1;
        QualifiedName::new(None, &first.ident())
    };
    if !(word(k, "add") && word(k + 1, "constraint")) {
        return None;
    }
    let cname = toks.get(k + 2).filter(|t| t.is_name())?.ident();
    if !(word(k + 3, "not") && word(k + 4, "null")) {
        return None;
    }
    let column = toks.get(k + 5).filter(|t| t.is_name())?.ident();
    let rest = &toks[(k + 6).min(toks.len())..];
    let not_valid = rest.len() == 2 && rest[0].is("not") && rest[1].is("valid");
    if !(rest.is_empty() || not_valid) {
        return None;
    }
    let action = if not_valid {
        AlterAction::Other(format!("add constraint {cname} not null not valid"))
    } else {
        AlterAction::SetNotNull { column }
    };
    Some(StatementKind::AlterTable {
        name,
        if_exists,
        actions: vec![action],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_semicolon_is_found_with_its_line() {
        let r = invalid("ALTER TABLE users ADD COLUMN a int\nALTER TABLE users ADD COLUMN b int")
            .unwrap();
        assert!(r.contains("(`ALTER TABLE users`) starts on line 2"), "{r}");
        assert!(invalid("CREATE INDEX a ON t (x)\nCREATE INDEX b ON t (y)").is_some());
        // Multi-line statements whose sub-commands start lines are fine.
        for ok in [
            "ALTER TABLE users\n  ALTER COLUMN a TYPE bigint,\n  DROP COLUMN b,\n  DROP CONSTRAINT c",
            "ALTER TABLE assets\n  DROP type,\n  ALTER user SET NOT NULL",
            "CREATE TABLE t (\n  id int,\n  CREATE_at int\n)",
            "INSERT INTO t\nSELECT 1",
            "CREATE SCHEMA app\n  CREATE TABLE t (id int)\n  CREATE VIEW v AS SELECT 1",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA app\nGRANT SELECT ON TABLES TO reader",
            "CREATE FUNCTION f() RETURNS void AS $$\nBEGIN\nCREATE TABLE x (id int);\nEND $$ LANGUAGE plpgsql",
            "CREATE RULE r AS ON DELETE TO t DO INSTEAD\nUPDATE t SET gone = true",
        ] {
            assert_eq!(invalid(ok), None, "{ok}");
        }
    }

    #[test]
    fn other_databases_column_syntax_is_named() {
        let r = invalid("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT)").unwrap();
        assert!(r.contains("SQLite"), "{r}");
        let r = invalid("CREATE TABLE t (age int unsigned NOT NULL)").unwrap();
        assert!(r.contains("UNSIGNED"), "{r}");
        assert!(invalid("CREATE TABLE `t` (id int)").is_some());
        assert!(invalid("CREATE TABLE t (id bigint NOT NULL AUTO_INCREMENT)").is_some());
        // A column named unsigned, and words inside strings, are PostgreSQL.
        assert_eq!(invalid("CREATE TABLE t (unsigned boolean)"), None);
        assert_eq!(invalid("COMMENT ON TABLE t IS 'int unsigned `x`'"), None);
    }

    #[test]
    fn pg18_named_not_null_constraints() {
        assert_eq!(
            not_null_constraint("ALTER TABLE orders ADD CONSTRAINT orders_total_nn NOT NULL total"),
            Some(StatementKind::AlterTable {
                name: QualifiedName::new(None, "orders"),
                if_exists: false,
                actions: vec![AlterAction::SetNotNull {
                    column: "total".into()
                }],
            })
        );
        let Some(StatementKind::AlterTable { actions, .. }) = not_null_constraint(
            "ALTER TABLE public.orders ADD CONSTRAINT orders_total_nn NOT NULL total NOT VALID",
        ) else {
            panic!("not parsed");
        };
        assert!(matches!(&actions[0], AlterAction::Other(k) if k.contains("not valid")));
        assert_eq!(
            not_null_constraint("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"),
            None
        );
    }
}
