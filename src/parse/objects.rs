//! `DROP` of objects other than tables, indexes, schemas and databases (views, functions,
//! types, sequences, extensions): which objects, so that rules can tell an object created in
//! the same migration from one that running code depends on.

use super::tokens::{tokenize, Token};
use crate::model::{QualifiedName, StatementKind};

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
}
