//! `drop-schema`: `DROP SCHEMA ... CASCADE` of a schema that existed before this migration.
//!
//! Without `CASCADE` (the default is `RESTRICT`) PostgreSQL refuses to drop a schema that
//! still contains anything, so only the cascading form can destroy data.

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M025",
    name: "drop-schema",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags `DROP SCHEMA ... CASCADE` of a schema that was not created in the same \
           migration. A plain `DROP SCHEMA` (RESTRICT) is not flagged: it fails instead of \
           dropping a schema that still contains objects.",
    why: "`CASCADE` drops every table, view, sequence, function and type in the schema, with \
          their data, and then every object elsewhere that depends on them (views, foreign \
          keys in other schemas), without listing any of it. Nothing in the migration shows \
          what is lost, and it takes an ACCESS EXCLUSIVE lock on every table it drops. \
          (PostgreSQL docs: DROP SCHEMA; \"Dependency Tracking\" in the Data \
          Definition chapter.)",
    instead: "Drop the schema's objects explicitly, each in its own reviewed statement (after \
              the code stops using them), then drop the now empty schema without `CASCADE`: \
              `DROP SCHEMA <schema>;` fails loudly if anything was missed.",
    rollback: "None in SQL: `CREATE SCHEMA` brings back an empty schema. Restore its objects \
               and data from a dump (`pg_dump -n <schema>` taken before the drop) or a backup.",
    bad: include_str!("../../fixtures/rules/drop-schema/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-schema/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::DropSchema {
        names,
        cascade: true,
        ..
    } = &stmt.kind
    else {
        return None;
    };
    let existing: Vec<&str> = names
        .iter()
        .filter(|n| !created_earlier(ctx, n))
        .map(String::as_str)
        .collect();
    if existing.is_empty() {
        return None;
    }
    let names = existing
        .iter()
        .map(|n| instead::name(n))
        .collect::<Vec<_>>()
        .join(", ");
    Some(
        Risk::new(format!(
            "DROP SCHEMA {} CASCADE deletes every object in it and everything that depends on \
             them, with their data; drop the objects explicitly and the empty schema without \
             CASCADE",
            existing.join(", ")
        ))
        .with_instead(format!(
            "Drop the objects of {names} explicitly, each in its own reviewed statement (after \
             the code stops using them; `\\d {}.*` in psql lists them), then drop the now empty \
             schema without `CASCADE`: `DROP SCHEMA {names};` fails loudly if anything was \
             missed.",
            existing
                .first()
                .map(|n| instead::name(n))
                .unwrap_or_default()
        )),
    )
}

fn created_earlier(ctx: &Context, schema: &str) -> bool {
    ctx.earlier()
        .iter()
        .any(|s| matches!(&s.kind, StatementKind::CreateSchema { name } if name == schema))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_schema() {
        let found = check(&RULE, "DROP SCHEMA legacy_store CASCADE;");
        let instead = &found[0].instead;
        assert!(instead.contains("`DROP SCHEMA legacy_store;`"), "{instead}");
        assert!(!instead.contains("<schema>"), "{instead}");
    }

    #[test]
    fn flags_cascading_schema_drops() {
        let found = check(&RULE, "DROP SCHEMA reporting CASCADE;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("reporting"),
            "{}",
            found[0].message
        );
        assert_eq!(count(&RULE, "DROP SCHEMA IF EXISTS a, b CASCADE;"), 1);
    }

    #[test]
    fn ignores_restrict_and_schemas_created_here() {
        assert_eq!(count(&RULE, "DROP SCHEMA reporting;"), 0);
        assert_eq!(count(&RULE, "DROP SCHEMA IF EXISTS reporting RESTRICT;"), 0);
        assert_eq!(
            count(&RULE, "CREATE SCHEMA scratch; DROP SCHEMA scratch CASCADE;"),
            0
        );
    }
}
