//! `identifier-too-long`: a name longer than PostgreSQL keeps (63 bytes) in a statement that
//! creates or renames something (squawk's identifier-too-long).

use super::{renamed, Check, Context, Risk, Rule};
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M085",
    name: "identifier-too-long",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags names longer than 63 bytes given to a table, column, constraint, index, view, \
           function, schema, trigger or other object that a statement creates or renames.",
    why: "PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN - 1) and silently \
          truncates longer ones, with only a NOTICE. The catalog then holds a different name \
          than the migration, the ORM model and the schema file: tools that compare names \
          (Django, Prisma, Atlas, schema-diff checks) see drift and generate the change again, \
          code that recognises a constraint violation by its name never matches, and two long \
          names that share their first 63 bytes collide (\"relation already exists\") in a \
          later migration. (PostgreSQL docs: Lexical Structure, Identifiers and Key Words.)",
    instead: "Give the object a name of at most 63 bytes and use that same name everywhere \
              (migration, model, constraint-name error handling).",
    rollback: "Rename it to the short name (`ALTER ... RENAME TO <short name>;`): instant.",
    bad: include_str!("../../fixtures/rules/identifier-too-long/bad.sql"),
    good: include_str!("../../fixtures/rules/identifier-too-long/good.sql"),
    check: Check::Statement(check),
};

/// PostgreSQL's NAMEDATALEN - 1.
const MAX_BYTES: usize = 63;

/// What PostgreSQL keeps of `name`: the longest prefix of whole characters within 63 bytes
/// (it clips multibyte names at a character boundary).
fn truncated(name: &str) -> &str {
    let mut end = 0;
    for (i, c) in name.char_indices() {
        if i + c.len_utf8() > MAX_BYTES {
            break;
        }
        end = i + c.len_utf8();
    }
    name.get(..end).unwrap_or(name)
}

/// The names this statement gives to objects.
fn given_names(stmt: &Statement) -> Vec<&str> {
    use StatementKind::*;
    let mut out: Vec<&str> = Vec::new();
    match &stmt.kind {
        CreateTable {
            name,
            columns,
            constraints,
            ..
        } => {
            out.push(&name.name);
            out.extend(columns.iter().map(|c| c.name.as_str()));
            out.extend(constraints.iter().filter_map(|c| c.name.as_deref()));
        }
        AlterTable { actions, .. } => {
            for action in actions {
                match action {
                    AlterAction::AddColumn { column, .. } => out.push(&column.name),
                    AlterAction::AddConstraint(c) => out.extend(c.name.as_deref()),
                    AlterAction::RenameColumn { new, .. }
                    | AlterAction::RenameTable { new }
                    | AlterAction::RenameConstraint { new, .. } => out.push(new),
                    _ => {}
                }
            }
        }
        CreateIndex { name: Some(n), .. } | CreateView { name: n, .. } => out.push(&n.name),
        CreateFunction { name, .. } => out.push(&name.name),
        CreateSchema { name } => out.push(name),
        TableDdl { keywords, name, .. } if keywords.starts_with("create") => out.push(name),
        _ => {}
    }
    out
}

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let mut long: Vec<String> = given_names(stmt)
        .into_iter()
        .filter(|n| n.len() > MAX_BYTES)
        .map(str::to_string)
        .collect();
    // Enum labels longer than 63 bytes are rejected outright, not truncated.
    if let Some(r) = renamed(stmt).filter(|r| r.object != "enum value") {
        if r.new.len() > MAX_BYTES {
            long.push(r.new);
        }
    }
    if let StatementKind::Other { keywords } = &stmt.kind {
        if keywords.starts_with("create ") {
            if let Some((_, name)) = crate::parse::objects::created(&stmt.text) {
                if name.name.len() > MAX_BYTES {
                    long.push(name.name);
                }
            }
        }
    }
    let first = long.first()?;
    let described: Vec<String> = long
        .iter()
        .map(|n| {
            format!(
                "`{n}` ({} bytes; PostgreSQL keeps `{}`)",
                n.len(),
                truncated(n)
            )
        })
        .collect();
    Some(
        Risk::new(format!(
            "{} longer than 63 bytes: PostgreSQL silently truncates it, so the catalog's name \
             differs from the one the migration and the code use",
            described.join(", ")
        ))
        .with_instead(format!(
            "Choose a name of at most 63 bytes instead of `{first}` and use it everywhere \
             (migration, model, code that matches constraint names); as written, PostgreSQL \
             would store `{}`.",
            truncated(first)
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::{truncated, RULE};
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_names_postgresql_would_truncate() {
        let index = "index_subscription_events_on_subscription_id_and_event_type_and_created_at";
        let found = check(
            &RULE,
            &format!("CREATE INDEX CONCURRENTLY {index} ON subscription_events (subscription_id, event_type, created_at);"),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains(&format!("`{}`", &index[..63])),
            "{}",
            found[0].message
        );
        let long = "a".repeat(64);
        for sql in [
            format!("CREATE TABLE t ({long} int);"),
            format!("ALTER TABLE t ADD CONSTRAINT {long} CHECK (a > 0) NOT VALID;"),
            format!("ALTER TABLE t RENAME COLUMN a TO {long};"),
            format!("ALTER VIEW v RENAME TO {long};"),
            format!("CREATE SEQUENCE {long};"),
        ] {
            assert_eq!(count(&RULE, &sql), 1, "{sql}");
        }
        let exactly = "a".repeat(63);
        assert_eq!(
            count(&RULE, &format!("CREATE TABLE {exactly} (id bigint);")),
            0
        );
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        // 32 two-byte characters are 64 bytes: PostgreSQL keeps 31 of them (62 bytes).
        let name = "é".repeat(32);
        assert_eq!(truncated(&name), "é".repeat(31));
        assert_eq!(truncated("short"), "short");
    }
}
