//! `duplicate-index`: a new index that an existing valid index already serves, or one that
//! makes an existing index redundant. Also home of the small number formatters the catalog
//! rules share.

use super::{instead, Check, Context, Risk, Rule};
use crate::evidence::catalog::{ConstraintType, Index};
use crate::model::{
    AlterAction, ConstraintKind, Evidence, IndexKey, QualifiedName, Severity, Statement,
    StatementKind,
};
use crate::report::text::{bytes as size, thousands as count};
use crate::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M050",
    name: "duplicate-index",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags a new index (`CREATE INDEX`, or the index behind `ADD PRIMARY KEY` / `ADD \
           UNIQUE`) whose key columns equal, or are a leading prefix of, the keys of an \
           existing valid index on the same table with the same access method and predicate, \
           when that index already enforces at least the same uniqueness. A new index that \
           makes an existing non-unique index redundant (the existing keys are a prefix of the \
           new ones) is reported as info.",
    why: "Every index is updated by every INSERT and by every UPDATE of its columns (and an \
          indexed column rules out HOT updates), takes disk and cache, and is carried by every \
          backup and replica. A btree on (a) serves no lookup that a btree on (a, b) does not \
          serve: the planner uses the leading columns of a multicolumn index on their own \
          (PostgreSQL docs: \"Multicolumn Indexes\"). A duplicate makes writes slower and buys \
          no faster read.",
    instead: "Use the existing index (check with EXPLAIN that your query uses it). If the new \
              index really is the better one (it adds a column or uniqueness), create it with \
              `CREATE INDEX CONCURRENTLY`, confirm the plans switch to it, then drop the \
              redundant one with `DROP INDEX CONCURRENTLY` in a later migration. To make an \
              existing unique index a constraint, use `ADD CONSTRAINT ... UNIQUE USING INDEX`.",
    rollback: "`DROP INDEX CONCURRENTLY IF EXISTS <new index>;`",
    bad: include_str!("../../fixtures/rules/duplicate-index/bad.sql"),
    good: include_str!("../../fixtures/rules/duplicate-index/good.sql"),
    check: Check::Statement(check),
};

/// The index a statement is about to build.
struct NewIndex {
    /// How to call it in the message.
    label: String,
    table: QualifiedName,
    keys: Vec<IndexKey>,
    unique: bool,
    method: String,
    predicate: Option<String>,
}

/// How an existing index relates to the new one.
enum Overlap {
    /// The existing index serves every lookup the new one would.
    NewIsRedundant { prefix: bool },
    /// The new index serves every lookup of the existing, non-unique one.
    ExistingIsRedundant,
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let schema = ctx.schema?;
    let new = new_index(schema, stmt)?;
    let existing: Vec<&Index> = schema
        .indexes_on(&new.table)
        .filter(|i| i.valid && !i.locked)
        .collect();
    let redundant = existing.iter().find_map(|e| match overlap(&new, e)? {
        Overlap::NewIsRedundant { prefix } => Some((*e, prefix)),
        Overlap::ExistingIsRedundant => None,
    });
    if let Some((e, prefix)) = redundant {
        let how = if prefix {
            format!(
                "its keys ({}) are the leading columns of {} ({})",
                keys_text(&new.keys),
                e.name.name,
                keys_text(&e.keys)
            )
        } else {
            format!(
                "{} already indexes ({}){}",
                e.name.name,
                keys_text(&e.keys),
                if e.unique && !new.unique {
                    ", uniquely"
                } else {
                    ""
                }
            )
        };
        let message = format!(
            "{} on {} duplicates an existing index: {how}, so every lookup it would serve is \
             already served. {} {}; the new index only adds write and storage cost",
            new.label,
            new.table,
            e.name.name,
            describe(schema, e)
        );
        let keep = instead::table(&e.name);
        return Some(risk(message, &new, e, schema).with_instead(format!(
            "Leave this index out and use {keep}, which already serves these lookups (check with \
             EXPLAIN that your query uses it). If the new index really is the better one, build \
             it with `CREATE INDEX CONCURRENTLY`, confirm the plans switch to it, then `DROP \
             INDEX CONCURRENTLY IF EXISTS {keep};` in a later migration."
        )));
    }
    let made_redundant = existing.iter().find(|e| {
        matches!(overlap(&new, e), Some(Overlap::ExistingIsRedundant))
            && !backs_constraint(schema, e)
            && !dropped_later(ctx, &e.name)
    })?;
    let message = format!(
        "{} on {} ({}) makes {} ({}) redundant: it serves no lookup the new index does not \
         ({} {}); drop it once the new index is in use",
        new.label,
        new.table,
        keys_text(&new.keys),
        made_redundant.name.name,
        keys_text(&made_redundant.keys),
        made_redundant.name.name,
        describe(schema, made_redundant)
    );
    let old = instead::table(&made_redundant.name);
    Some(
        risk(message, &new, made_redundant, schema)
            .with_severity(Severity::Info)
            .with_instead(format!(
                "Keep the new index, confirm with EXPLAIN that the queries on {} use it, then drop \
                 the redundant one in a later migration: `DROP INDEX CONCURRENTLY IF EXISTS \
                 {old};` {}.",
                instead::table(&new.table),
                instead::outside_transaction(ctx.migration.migration.layout)
            )),
    )
}

/// Whether a later statement of this migration drops `index`: the usual "build the wider
/// index, then drop the narrow one" change, which is exactly what this rule would advise.
fn dropped_later(ctx: &Context, index: &QualifiedName) -> bool {
    ctx.later().iter().any(|s| match &s.kind {
        StatementKind::DropIndex { names, .. } => names.iter().any(|n| n.name == index.name),
        _ => false,
    })
}

fn risk(message: String, new: &NewIndex, other: &Index, schema: &Schema) -> Risk {
    let mut risk = Risk::new(message).on_table(&new.table);
    risk.facts.bytes = Some(other.bytes);
    risk.facts.index_scans = other.scans;
    risk.facts.rows = schema.table(&new.table).map(|t| t.rows);
    risk
}

/// The index `stmt` builds, when it can be compared with existing ones.
fn new_index(schema: &Schema, stmt: &Statement) -> Option<NewIndex> {
    match &stmt.kind {
        StatementKind::CreateIndex {
            name,
            table,
            keys,
            unique,
            predicate,
            method,
            ..
        } => {
            let table = schema
                .resolve_table(table)
                .or_else(|| schema.view_exists(table).then(|| table.clone()))?;
            if let Some(n) = name {
                let key = QualifiedName::new(table.schema.as_deref(), &n.name);
                // IF NOT EXISTS does nothing, and without it the statement fails.
                if schema.index(&key).is_some() || schema.table(&key).is_some() {
                    return None;
                }
            }
            // INCLUDE columns, operator classes, collations and sort orders are not in the
            // model; an index that differs only in those is not a duplicate.
            if has_unmodelled_key_options(&stmt.text) {
                return None;
            }
            Some(NewIndex {
                label: name
                    .as_ref()
                    .map(|n| format!("Index {}", n.name))
                    .unwrap_or_else(|| "The new index".to_string()),
                table,
                keys: keys.clone(),
                unique: *unique,
                method: method.clone().unwrap_or_else(|| "btree".to_string()),
                predicate: predicate.clone(),
            })
        }
        StatementKind::AlterTable { name, actions, .. } => {
            let table = schema.resolve_table(name)?;
            actions.iter().find_map(|a| {
                let AlterAction::AddConstraint(c) = a else {
                    return None;
                };
                let what = match c.kind {
                    ConstraintKind::PrimaryKey => "primary key",
                    ConstraintKind::Unique => "unique constraint",
                    _ => return None,
                };
                let has_pk = schema
                    .constraints_on(&table)
                    .any(|k| k.kind == ConstraintType::PrimaryKey);
                if c.using_index.is_some()
                    || (c.kind == ConstraintKind::PrimaryKey && has_pk)
                    || c.columns.is_empty()
                {
                    return None;
                }
                Some(NewIndex {
                    label: match &c.name {
                        Some(n) => format!("The index of {what} {n}"),
                        None => format!("The index of the new {what}"),
                    },
                    table: table.clone(),
                    keys: c.columns.iter().cloned().map(IndexKey::Column).collect(),
                    unique: true,
                    method: "btree".to_string(),
                    predicate: None,
                })
            })
        }
        _ => None,
    }
}

fn has_unmodelled_key_options(text: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_ascii_lowercase)
        .any(|w| {
            matches!(w.as_str(), "include" | "collate" | "desc" | "nulls") || w.ends_with("_ops")
        })
}

/// Whether `e` and the new index overlap so that one of them is redundant.
fn overlap(new: &NewIndex, e: &Index) -> Option<Overlap> {
    if e.method != new.method || !same_predicate(new.predicate.as_deref(), e) {
        return None;
    }
    let prefix_len = new
        .keys
        .iter()
        .zip(&e.keys)
        .take_while(|(a, b)| same_key(a, b))
        .count();
    let equal = prefix_len == new.keys.len() && prefix_len == e.keys.len();
    let btree = new.method == "btree";
    if equal {
        // Same keys: the one with less uniqueness is the redundant one.
        return match (new.unique, e.unique) {
            (true, false) if e.include.is_empty() => Some(Overlap::ExistingIsRedundant),
            (true, false) => None,
            _ => Some(Overlap::NewIsRedundant { prefix: false }),
        };
    }
    if !btree || prefix_len == 0 {
        return None;
    }
    if prefix_len == new.keys.len() && !new.unique {
        // The new keys lead the existing index.
        return Some(Overlap::NewIsRedundant { prefix: true });
    }
    if prefix_len == e.keys.len() && !e.unique && e.include.is_empty() {
        return Some(Overlap::ExistingIsRedundant);
    }
    None
}

/// Whether the index backs a constraint (it cannot simply be dropped).
fn backs_constraint(schema: &Schema, e: &Index) -> bool {
    e.primary
        || schema
            .constraints_on(&e.table)
            .any(|c| c.index.as_deref() == Some(e.name.name.as_str()))
}

fn same_predicate(new: Option<&str>, e: &Index) -> bool {
    match (new, e.partial, e.predicate.as_deref()) {
        (None, false, _) => true,
        (Some(a), true, Some(b)) => normalize_expr(a) == normalize_expr(b),
        _ => false,
    }
}

fn same_key(a: &IndexKey, b: &IndexKey) -> bool {
    let text = |k: &IndexKey| match k {
        IndexKey::Column(c) => c.clone(),
        IndexKey::Expression(e) => normalize_expr(e),
    };
    let (a, b) = (text(a), text(b));
    !a.is_empty() && a == b
}

/// An expression reduced so that the migration's text and PostgreSQL's deparsed text
/// (`lower((email)::text)`, `(deleted_at IS NULL)`) compare equal: lower case, no spaces,
/// quotes or casts, no parentheses around a lone name or the whole. Texts that still differ
/// are treated as different, which at worst misses a duplicate.
fn normalize_expr(text: &str) -> String {
    let mut s: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect::<String>()
        .to_lowercase();
    // Casts: `::text`, `::charactervarying`, `::timestampwithtimezone`, `::int[]`.
    while let Some(at) = s.find("::") {
        let rest = s.get(at + 2..).unwrap_or_default();
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']'))
            .unwrap_or(rest.len());
        s.replace_range(at..at + 2 + len, "");
    }
    // `(name)` not preceded by a function name → `name`.
    loop {
        let chars: Vec<char> = s.chars().collect();
        let mut changed = false;
        for (i, c) in chars.iter().enumerate() {
            if *c != '(' {
                continue;
            }
            let called = i > 0
                && chars
                    .get(i - 1)
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_');
            let inner: String = chars
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .collect();
            let close = i + 1 + inner.chars().count();
            if !called && !inner.is_empty() && chars.get(close) == Some(&')') {
                let mut out: String = chars.get(..i).unwrap_or_default().iter().collect();
                out.push_str(&inner);
                out.extend(chars.get(close + 1..).unwrap_or_default());
                s = out;
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    while s.starts_with('(') && s.ends_with(')') && wraps_whole(&s) {
        s = s.get(1..s.len() - 1).unwrap_or_default().to_string();
    }
    s
}

/// Whether the first parenthesis of `s` closes at its last character.
fn wraps_whole(s: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

fn keys_text(keys: &[IndexKey]) -> String {
    keys.iter()
        .map(|k| match k {
            IndexKey::Column(c) => c.clone(),
            IndexKey::Expression(e) => format!("({e})"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `is 3.0 MB and has served 420 scans since statistics were last reset`.
fn describe(schema: &Schema, index: &Index) -> String {
    if schema.index_is_new(&index.name) {
        return "is built by an earlier statement of these migrations".to_string();
    }
    let scans = match index.scans {
        Some(1) => "has served 1 scan since statistics were last reset".to_string(),
        Some(n) => format!(
            "has served {} scans since statistics were last reset",
            count(n)
        ),
        None => "has no scan statistics".to_string(),
    };
    format!("is {} and {scans}", size(index.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::catalog::{CatalogSnapshot, ConstraintType as CT};
    use crate::rules::test_support::{catalog_risks, constraint, index, snapshot, table};

    /// orders(id, customer_id, status, created_at, deleted_at) with 50,000 rows and:
    /// orders_pkey (id, unique), orders_customer_id_idx (customer_id; 3 MB, 420 scans),
    /// orders_status_created_idx (status, created_at), orders_lower_note_idx (lower(note)),
    /// orders_open_idx (created_at) WHERE deleted_at IS NULL.
    fn copy() -> CatalogSnapshot {
        let mut pkey = index("orders_pkey", "orders", &["id"]);
        pkey.unique = true;
        pkey.primary = true;
        let mut customer = index("orders_customer_id_idx", "orders", &["customer_id"]);
        customer.bytes = 3 << 20;
        customer.scans = Some(420);
        let mut open = index("orders_open_idx", "orders", &["created_at"]);
        open.partial = true;
        open.predicate = Some("(deleted_at IS NULL)".into());
        snapshot(
            vec![table(
                "orders",
                50_000,
                &[
                    ("id", "bigint"),
                    ("customer_id", "bigint"),
                    ("status", "text"),
                    ("created_at", "timestamp with time zone"),
                    ("deleted_at", "timestamp with time zone"),
                    ("note", "text"),
                ],
            )],
            vec![
                pkey,
                customer,
                index(
                    "orders_status_created_idx",
                    "orders",
                    &["status", "created_at"],
                ),
                index(
                    "orders_lower_note_idx",
                    "orders",
                    &["(lower((note)::text))"],
                ),
                open,
            ],
            vec![constraint(
                "orders",
                "orders_pkey",
                CT::PrimaryKey,
                &["id"],
                None,
            )],
        )
    }

    fn risks(sql: &str) -> Vec<Risk> {
        catalog_risks(&RULE, copy(), sql)
    }

    #[test]
    fn instead_names_the_users_indexes() {
        let found = risks("CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);");
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("use public.orders_customer_id_idx, which already serves"),
            "{instead}"
        );
        let found = risks("CREATE INDEX ON orders (customer_id, created_at);");
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("`DROP INDEX CONCURRENTLY IF EXISTS public.orders_customer_id_idx;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_an_index_that_repeats_an_existing_one() {
        let found = risks("CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);");
        assert_eq!(found.len(), 1);
        let r = &found[0];
        assert!(
            r.message
                .contains("orders_customer_id_idx already indexes (customer_id)"),
            "{}",
            r.message
        );
        assert!(r.message.contains("3.0 MB"), "{}", r.message);
        assert!(r.message.contains("served 420 scans"), "{}", r.message);
        assert_eq!(r.facts.bytes, Some(3 << 20));
        assert_eq!(r.facts.index_scans, Some(420));
        assert_eq!(r.facts.rows, Some(50_000));
        assert_eq!(r.severity, None);
    }

    #[test]
    fn flags_a_leading_prefix_expressions_and_matching_predicates() {
        let found = risks("CREATE INDEX ON orders (status);");
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .contains("leading columns of orders_status_created_idx"));
        assert_eq!(
            risks("CREATE INDEX ON orders USING btree (lower(note));").len(),
            1
        );
        assert_eq!(
            risks("CREATE INDEX ON orders (created_at) WHERE deleted_at IS NULL;").len(),
            1
        );
        assert_eq!(risks("CREATE UNIQUE INDEX ON orders (id);").len(), 1);
        assert_eq!(risks("ALTER TABLE orders ADD UNIQUE (id);").len(), 1);
    }

    #[test]
    fn reports_an_existing_index_the_new_one_makes_redundant_as_info() {
        let found = risks("CREATE INDEX ON orders (customer_id, created_at);");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Some(Severity::Info));
        assert!(found[0]
            .message
            .contains("makes orders_customer_id_idx (customer_id) redundant"));
        assert_eq!(
            risks("CREATE UNIQUE INDEX orders_customer_uniq ON orders (customer_id);")[0].severity,
            Some(Severity::Info)
        );
        // The primary key's index backs a constraint: never "redundant".
        assert!(risks("CREATE INDEX ON orders (id, status);").is_empty());
    }

    #[test]
    fn ignores_indexes_that_differ() {
        for sql in [
            "CREATE INDEX ON orders (created_at);",
            "CREATE INDEX ON orders (created_at, status);",
            "CREATE INDEX ON orders USING hash (customer_id);",
            "CREATE INDEX ON orders (customer_id) WHERE deleted_at IS NULL;",
            "CREATE INDEX ON orders (status) INCLUDE (note);",
            "CREATE INDEX ON orders (status text_pattern_ops);",
            "CREATE INDEX ON orders (lower(status));",
            "CREATE UNIQUE INDEX ON orders (status);",
            "CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);",
            "ALTER TABLE orders ADD PRIMARY KEY (id);",
        ] {
            assert!(risks(sql).is_empty(), "{sql}: {:?}", risks(sql));
        }
    }

    #[test]
    fn sees_indexes_created_earlier_in_the_replay() {
        let found = risks(
            "CREATE TABLE carts (id bigint PRIMARY KEY, customer_id bigint);\n\
             CREATE INDEX carts_customer_idx ON carts (customer_id);\n\
             CREATE INDEX carts_customer_id_idx ON carts (customer_id);\n\
             CREATE INDEX carts_id_idx ON carts (id);",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("carts_customer_idx"));
        assert!(found[0].message.contains("built by an earlier statement"));
        assert!(found[1]
            .message
            .contains("carts_pkey already indexes (id), uniquely"));
        // Dropped earlier: no longer a duplicate.
        assert!(risks(
            "DROP INDEX CONCURRENTLY orders_customer_id_idx;\n\
             CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);"
        )
        .is_empty());
    }

    #[test]
    fn expressions_compare_after_normalising_deparsed_text() {
        assert_eq!(
            normalize_expr("lower((email)::text)"),
            normalize_expr("lower(email)")
        );
        assert_eq!(
            normalize_expr("(deleted_at IS NULL)"),
            normalize_expr("deleted_at IS NULL")
        );
        assert_eq!(
            normalize_expr("(status = 'open'::text)"),
            normalize_expr("status = 'open'")
        );
        assert_ne!(normalize_expr("(a + b) * c"), normalize_expr("a + (b * c)"));
    }

    #[test]
    fn formats_counts_and_sizes() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(size(8192), "8.0 kB");
        assert_eq!(size(3 << 30), "3.0 GB");
        assert_eq!(size(500), "500 bytes");
    }

    #[test]
    fn needs_the_catalog() {
        assert_eq!(
            crate::rules::test_support::count(
                &RULE,
                "CREATE INDEX orders_customer_idx ON orders (customer_id);"
            ),
            0
        );
    }
}
