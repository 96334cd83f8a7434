//! `DROP` of objects other than tables, indexes, schemas and databases (views, functions,
//! types, sequences, extensions), and `CREATE`/`ALTER ... RENAME` of such objects: which
//! objects, so that rules can tell an object created (or renamed) in the same migration from
//! one that running code depends on.

use super::tokens::{tokenize, Tok, Token};
use crate::model::{QualifiedName, Rename, StatementKind};

const OBJECTS: &[&str] = &[
    "materialized view",
    "view",
    "function",
    "procedure",
    "routine",
    "type",
    "domain",
    "sequence",
    "extension",
];

/// Reads `DROP <object> [IF EXISTS] name [(args)], ... [CASCADE|RESTRICT]`.
pub(crate) fn drop_object(text: &str) -> Option<StatementKind> {
    let toks = tokenize(text);
    if !toks.first()?.is("drop") {
        return None;
    }
    let (object, mut k) = OBJECTS.iter().find_map(|o| {
        let words: Vec<&str> = o.split(' ').collect();
        words
            .iter()
            .enumerate()
            .all(|(i, w)| toks.get(1 + i).is_some_and(|t| t.is(w)))
            .then_some((o.to_string(), 1 + words.len()))
    })?;
    let if_exists =
        toks.get(k).is_some_and(|t| t.is("if")) && toks.get(k + 1).is_some_and(|t| t.is("exists"));
    if if_exists {
        k += 2;
    }
    let mut names = Vec::new();
    loop {
        let (name, next) = qualified(&toks, k)?;
        names.push(name);
        k = next;
        // A routine's argument list.
        if toks.get(k).is_some_and(|t| t.is_punct("(")) {
            let mut depth = 0usize;
            while let Some(t) = toks.get(k) {
                if t.is_punct("(") {
                    depth += 1;
                } else if t.is_punct(")") {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        k += 1;
                        break;
                    }
                }
                k += 1;
            }
        }
        if toks.get(k).is_some_and(|t| t.is_punct(",")) {
            k += 1;
            continue;
        }
        break;
    }
    let cascade = toks.get(k).is_some_and(|t| t.is("cascade"));
    Some(StatementKind::DropObject {
        object,
        names,
        if_exists,
        cascade,
    })
}

fn qualified(toks: &[Token<'_>], k: usize) -> Option<(QualifiedName, usize)> {
    let first = toks.get(k).filter(|t| t.is_name())?;
    if toks.get(k + 1).is_some_and(|t| t.is_punct(".")) {
        let second = toks.get(k + 2).filter(|t| t.is_name())?;
        Some((
            QualifiedName::new(Some(&first.ident()), &second.ident()),
            k + 3,
        ))
    } else {
        Some((QualifiedName::new(None, &first.ident()), k + 1))
    }
}

/// Whether `text` creates `object` named `name` (`CREATE [OR REPLACE] [MATERIALIZED] VIEW v`).
pub fn creates(text: &str, object: &str, name: &QualifiedName) -> bool {
    let toks = tokenize(text);
    if !toks.first().is_some_and(|t| t.is("create")) {
        return false;
    }
    let mut k = 1;
    while toks
        .get(k)
        .is_some_and(|t| t.is("or") || t.is("replace") || t.is("temp") || t.is("temporary"))
    {
        k += 1;
    }
    for w in object.split(' ') {
        if !toks.get(k).is_some_and(|t| t.is(w)) {
            return false;
        }
        k += 1;
    }
    if toks.get(k).is_some_and(|t| t.is("if")) {
        k += 3;
    }
    qualified(&toks, k).is_some_and(|(n, _)| n.matches(name))
}

/// For `ALTER <object> name ... SET SCHEMA s`: the object words and `s`.
pub fn sets_schema(text: &str) -> Option<(String, String)> {
    let toks = tokenize(text);
    if !toks.first()?.is("alter") {
        return None;
    }
    let k = toks
        .windows(2)
        .position(|w| w[0].is("set") && w[1].is("schema"))?;
    let schema = toks.get(k + 2).filter(|t| t.is_name())?.ident();
    let object = toks
        .iter()
        .skip(1)
        .take_while(|t| t.is("materialized") || !t.is_name() || OBJECTS.iter().any(|o| t.is(o)))
        .take(2)
        .map(|t| t.text.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    Some((object, schema))
}

/// Objects whose `ALTER ... RENAME` the rename-object rule reads (tables and their columns
/// are `AlterTable` actions). Longest first, so `materialized view` wins over `view`.
const RENAMED: &[&str] = &[
    "materialized view",
    "view",
    "sequence",
    "index",
    "type",
    "domain",
    "function",
    "procedure",
    "routine",
    "aggregate",
    "schema",
    "trigger",
];

/// The object words at `toks[k..]` from `objects`, and the index after them.
fn object_words(toks: &[Token<'_>], k: usize, objects: &[&str]) -> Option<(String, usize)> {
    objects.iter().find_map(|o| {
        let words: Vec<&str> = o.split(' ').collect();
        words
            .iter()
            .enumerate()
            .all(|(i, w)| toks.get(k + i).is_some_and(|t| t.is(w)))
            .then(|| (o.to_string(), k + words.len()))
    })
}

/// Skips a routine's argument list at `k`, if any.
fn skip_parens(toks: &[Token<'_>], mut k: usize) -> usize {
    if !toks.get(k).is_some_and(|t| t.is_punct("(")) {
        return k;
    }
    let mut depth = 0usize;
    while let Some(t) = toks.get(k) {
        k += 1;
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                break;
            }
        }
    }
    k
}

/// A name or an enum label: identifiers as PostgreSQL resolves them, strings unquoted.
fn name_or_label(tok: &Token<'_>) -> Option<String> {
    match tok.tok {
        Tok::Word | Tok::Quoted => Some(tok.ident()),
        Tok::Str => {
            let inner = tok.text.strip_prefix('\'').unwrap_or(tok.text);
            let inner = inner.strip_suffix('\'').unwrap_or(inner);
            Some(inner.replace("''", "'"))
        }
        _ => None,
    }
}

/// Reads `ALTER <object> [IF EXISTS] name [(args)] [ON table] RENAME [member] old TO new` for
/// the objects in [`RENAMED`]; `None` for anything else (including `ALTER TABLE`).
pub fn rename(text: &str) -> Option<Rename> {
    let toks = tokenize(text);
    if !toks.first()?.is("alter") {
        return None;
    }
    let (object, mut k) = object_words(&toks, 1, RENAMED)?;
    if toks.get(k).is_some_and(|t| t.is("if")) && toks.get(k + 1).is_some_and(|t| t.is("exists")) {
        k += 2;
    }
    let (name, next) = qualified(&toks, k)?;
    k = skip_parens(&toks, next);
    let mut table = None;
    if object == "trigger" {
        if !toks.get(k)?.is("on") {
            return None;
        }
        let (t, next) = qualified(&toks, k + 1)?;
        table = Some(t);
        k = next;
    }
    if !toks.get(k)?.is("rename") {
        return None;
    }
    k += 1;
    let member = |word: &str| -> Option<&'static str> {
        Some(match (object.as_str(), word) {
            ("type", "value") => "enum value",
            ("type", "attribute") => "attribute",
            ("domain", "constraint") => "domain constraint",
            ("view" | "materialized view", "column") => "view column",
            _ => return None,
        })
    };
    let first = toks.get(k)?;
    let (member, old, to_at) = if first.is("to") {
        (None, name.name.clone(), k)
    } else if let Some(m) = first
        .is_name()
        .then(|| member(&first.text.to_lowercase()))
        .flatten()
    {
        (Some(m), name_or_label(toks.get(k + 1)?)?, k + 2)
    } else if object.ends_with("view") && first.is_name() {
        // `ALTER VIEW v RENAME a TO b`: COLUMN is optional.
        (Some("view column"), first.ident(), k + 1)
    } else {
        return None;
    };
    if !toks.get(to_at)?.is("to") {
        return None;
    }
    let new = name_or_label(toks.get(to_at + 1)?)?;
    Some(Rename {
        object: member.map(str::to_string).unwrap_or(object),
        name,
        old,
        new,
        table,
    })
}

/// Objects whose `CREATE` the migration state remembers, so that a later rename or drop of
/// them is known to touch something no deployed code uses yet.
const CREATED: &[&str] = &[
    "materialized view",
    "view",
    "sequence",
    "type",
    "domain",
    "function",
    "procedure",
    "aggregate",
    "schema",
    "extension",
];

/// For `CREATE [OR REPLACE] [TEMP] <object> [IF NOT EXISTS] name`: the object words and name.
pub fn created(text: &str) -> Option<(String, QualifiedName)> {
    let toks = tokenize(text);
    if !toks.first()?.is("create") {
        return None;
    }
    let mut k = 1;
    while toks.get(k).is_some_and(|t| {
        t.is("or")
            || t.is("replace")
            || t.is("temp")
            || t.is("temporary")
            || t.is("recursive")
            || t.is("unlogged")
    }) {
        k += 1;
    }
    let (object, mut k) = object_words(&toks, k, CREATED)?;
    if toks.get(k).is_some_and(|t| t.is("if")) {
        k += 3;
    }
    let (name, _) = qualified(&toks, k)?;
    Some((object, name))
}

/// Whether an `ALTER TABLE` drops something `CASCADE` (dropping a primary key or unique
/// constraint that way also drops the foreign keys that reference it).
pub fn cascades(text: &str) -> bool {
    tokenize(text).iter().any(|t| t.is("cascade"))
}

/// What a `CREATE DOMAIN` or `ALTER DOMAIN` does with constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainConstraint {
    pub domain: QualifiedName,
    /// `CREATE DOMAIN` (rather than `ALTER DOMAIN`).
    pub create: bool,
    /// `CONSTRAINT name`, when written.
    pub name: Option<String>,
    /// A `CHECK (...)` is declared or added.
    pub check: bool,
    /// `NOT NULL` is declared, added or set.
    pub not_null: bool,
    /// `ALTER DOMAIN ... ADD ... NOT VALID`.
    pub not_valid: bool,
}

/// Reads `CREATE DOMAIN d AS t ... [CONSTRAINT n] CHECK (...)` and `ALTER DOMAIN d ADD
/// [CONSTRAINT n] CHECK (...) [NOT VALID]` / `ALTER DOMAIN d SET NOT NULL`; `None` for other
/// statements, and for domain statements that add no constraint.
pub fn domain_constraint(text: &str) -> Option<DomainConstraint> {
    let toks = tokenize(text);
    let create = toks.first()?.is("create");
    if !(create || toks.first()?.is("alter")) || !toks.get(1)?.is("domain") {
        return None;
    }
    let mut k = 2;
    if !create && toks.get(k).is_some_and(|t| t.is("if")) {
        k += 2;
    }
    let (domain, k) = qualified(&toks, k)?;
    // Only the top level: a CHECK's own expression may say `NOT NULL` or `check`.
    let mut depth = 0usize;
    let mut top = Vec::new();
    for t in &toks[k..] {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            top.push(*t);
        }
    }
    let has = |a: &str, b: &str| top.windows(2).any(|w| w[0].is(a) && w[1].is(b));
    if !(create || top.first().is_some_and(|t| t.is("add")) || has("set", "not")) {
        return None;
    }
    let name = top
        .windows(2)
        .find(|w| w[0].is("constraint") && w[1].is_name())
        .map(|w| w[1].ident());
    let change = DomainConstraint {
        domain,
        create,
        name,
        check: top.iter().any(|t| t.is("check")),
        not_null: has("not", "null"),
        not_valid: has("not", "valid"),
    };
    (change.check || change.not_null).then_some(change)
}

/// The columns of `ALTER [COLUMN] c DROP EXPRESSION` sub-commands in an `ALTER TABLE`.
pub fn dropped_expressions(text: &str) -> Vec<String> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    for (i, w) in toks.windows(2).enumerate() {
        if !(w[0].is("drop") && w[1].is("expression")) {
            continue;
        }
        // `ALTER [COLUMN] c DROP EXPRESSION`: the name right before DROP.
        if let Some(col) = i
            .checked_sub(1)
            .and_then(|j| toks.get(j))
            .filter(|t| t.is_name())
        {
            out.push(col.ident());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_drops_of_other_objects() {
        let Some(StatementKind::DropObject {
            object,
            names,
            if_exists,
            cascade,
        }) = drop_object("DROP FUNCTION IF EXISTS public.touch(), audit(int, text) CASCADE")
        else {
            panic!("not read");
        };
        assert_eq!(object, "function");
        assert_eq!(
            names,
            vec![
                QualifiedName::new(Some("public"), "touch"),
                QualifiedName::new(None, "audit")
            ]
        );
        assert!(if_exists && cascade);
        assert!(matches!(
            drop_object("DROP MATERIALIZED VIEW daily_totals"),
            Some(StatementKind::DropObject { object, .. }) if object == "materialized view"
        ));
        assert!(drop_object("DROP TABLE t").is_none());
        assert_eq!(
            sets_schema("ALTER TYPE payment_status SET SCHEMA billing"),
            Some(("type".to_string(), "billing".to_string()))
        );
        assert!(creates(
            "CREATE OR REPLACE VIEW active_users AS SELECT 1",
            "view",
            &QualifiedName::new(None, "active_users")
        ));
    }

    fn renamed(text: &str) -> (String, String, String, String) {
        let r = rename(text).unwrap_or_else(|| panic!("not read: {text}"));
        (r.object, r.name.to_string(), r.old, r.new)
    }

    #[test]
    fn reads_renames_of_other_objects() {
        let s = |v: &str| v.to_string();
        assert_eq!(
            renamed("ALTER MATERIALIZED VIEW IF EXISTS reporting.daily RENAME TO daily_v1"),
            (
                s("materialized view"),
                s("reporting.daily"),
                s("daily"),
                s("daily_v1")
            )
        );
        assert_eq!(
            renamed("ALTER FUNCTION touch_updated_at(int, text) RENAME TO set_updated_at"),
            (
                s("function"),
                s("touch_updated_at"),
                s("touch_updated_at"),
                s("set_updated_at")
            )
        );
        assert_eq!(
            renamed("ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled'"),
            (
                s("enum value"),
                s("order_status"),
                s("canceled"),
                s("cancelled")
            )
        );
        assert_eq!(
            renamed("ALTER VIEW active_users RENAME last_login TO last_seen"),
            (
                s("view column"),
                s("active_users"),
                s("last_login"),
                s("last_seen")
            )
        );
        assert_eq!(
            renamed("ALTER DOMAIN email RENAME CONSTRAINT email_check TO email_format"),
            (
                s("domain constraint"),
                s("email"),
                s("email_check"),
                s("email_format")
            )
        );
        let trigger = rename("ALTER TRIGGER audit ON public.orders RENAME TO orders_audit");
        assert_eq!(
            trigger.and_then(|r| r.table),
            Some(QualifiedName::new(Some("public"), "orders"))
        );
        assert_eq!(
            renamed("ALTER SCHEMA \"Billing\" RENAME TO billing").2,
            "Billing"
        );
        // Not renames, or renames of tables and columns (AlterTable actions).
        assert!(rename("ALTER TABLE orders RENAME TO purchases").is_none());
        assert!(rename("ALTER INDEX orders_idx SET TABLESPACE fast").is_none());
        assert!(rename("ALTER TYPE order_status ADD VALUE 'refunded'").is_none());
        assert!(rename("ALTER SEQUENCE orders_id_seq RESTART WITH 10").is_none());

        assert_eq!(
            created(
                "CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger AS $$ $$ LANGUAGE plpgsql"
            ),
            Some((s("function"), QualifiedName::new(Some("app"), "touch")))
        );
        assert_eq!(
            created("CREATE SEQUENCE IF NOT EXISTS invoice_no_seq").map(|c| c.0),
            Some(s("sequence"))
        );
        assert!(cascades(
            "ALTER TABLE customers DROP CONSTRAINT customers_pkey CASCADE"
        ));
    }

    #[test]
    fn reads_domain_constraints_and_dropped_expressions() {
        let c = domain_constraint(
            "ALTER DOMAIN public.email ADD CONSTRAINT email_format CHECK (VALUE ~ '@') NOT VALID",
        )
        .unwrap();
        assert!(!c.create && c.check && c.not_valid && !c.not_null);
        assert_eq!(c.name.as_deref(), Some("email_format"));
        assert_eq!(c.domain, QualifiedName::new(Some("public"), "email"));
        assert!(domain_constraint("ALTER DOMAIN email SET NOT NULL").is_some_and(|c| c.not_null));
        let created = domain_constraint(
            "CREATE DOMAIN email AS text CHECK (VALUE IS NOT NULL AND VALUE ~ '@')",
        )
        .unwrap();
        assert!(created.create && created.check && !created.not_null);
        assert!(domain_constraint("CREATE DOMAIN cents AS bigint DEFAULT 0").is_none());
        assert!(domain_constraint("ALTER DOMAIN email VALIDATE CONSTRAINT email_format").is_none());
        assert!(domain_constraint("ALTER DOMAIN email DROP CONSTRAINT email_format").is_none());
        assert_eq!(
            dropped_expressions("ALTER TABLE orders ALTER COLUMN total DROP EXPRESSION IF EXISTS, ALTER tax DROP EXPRESSION"),
            vec!["total".to_string(), "tax".to_string()]
        );
    }
}
