//! `set-schema`: `ALTER ... SET SCHEMA` of an object that existed before this migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M077",
    name: "set-schema",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE|VIEW|TYPE|FUNCTION|SEQUENCE ... SET SCHEMA` of an object that \
           existed before this migration.",
    why: "Moving an object to another schema is a rename as far as running code is concerned: \
          every query that names it unqualified, or qualified with the old schema, fails with \
          \"does not exist\" (or silently finds another object of that name on the search_path) \
          from the moment the migration commits. Function bodies, which are stored as text, are \
          not updated. The move takes an ACCESS EXCLUSIVE lock. (PostgreSQL docs: ALTER TABLE, \
          SET SCHEMA.)",
    instead: "Deploy code that names the object with its new schema first, keeping it working \
              with the old place (for a table, a view in the old schema: `CREATE VIEW \
              public.<table> AS SELECT * FROM <schema>.<table>;` right after the move, in the \
              same transaction); drop the compatibility view once no code uses it.",
    rollback:
        "`ALTER TABLE <schema>.<table> SET SCHEMA <old schema>;` (instant), after dropping any \
               compatibility view of the same name.",
    bad: include_str!("../../fixtures/rules/set-schema/bad.sql"),
    good: include_str!("../../fixtures/rules/set-schema/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    match &stmt.kind {
        StatementKind::AlterTable { name, actions, .. } => {
            if ctx.table_is_new(name)
                || !actions
                    .iter()
                    .any(|a| matches!(a, AlterAction::Other(k) if k == "set schema"))
            {
                return None;
            }
            let schema = crate::parse::objects::sets_schema(&stmt.text)
                .map(|(_, s)| s)
                .unwrap_or_else(|| "another schema".to_string());
            Some(
                Risk::new(format!(
                    "Moving {name} to schema {schema} breaks every running query that names it \
                     where it was; deploy code that uses {schema}.{} first, or leave a view in \
                     its place",
                    name.name
                ))
                .with_instead({
                    let old = instead::table(name);
                    let moved = instead::qualified_name(&schema, &name.name);
                    format!(
                        "Deploy code that names {moved} first, keeping the old place working: in \
                         the same transaction as the move, `ALTER TABLE {old} SET SCHEMA {}; \
                         CREATE VIEW {old} AS SELECT * FROM {moved};` (a simple view is \
                         updatable); `DROP VIEW {old};` once no code uses it.",
                        instead::name(&schema)
                    )
                })
                .on_table(name)
                .with_lock(LockMode::AccessExclusive),
            )
        }
        StatementKind::Other { .. }
        | StatementKind::AlterType { .. }
        | StatementKind::AlterSequence { .. }
        | StatementKind::AlterIndex { .. } => {
            let (object, schema) = crate::parse::objects::sets_schema(&stmt.text)?;
            Some(Risk::new(format!(
                "Moving this {object} to schema {schema} breaks the code and function bodies \
                 that name it where it was; deploy code that uses the new schema first"
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_leaves_a_view_under_the_users_old_name() {
        let found = check(&RULE, "ALTER TABLE rental SET SCHEMA archive;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental SET SCHEMA archive; CREATE VIEW rental AS SELECT * FROM archive.rental;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_moving_existing_objects_between_schemas() {
        let found = check(&RULE, "ALTER TABLE invoices SET SCHEMA billing;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("billing.invoices"),
            "{}",
            found[0].message
        );
        assert_eq!(
            count(&RULE, "ALTER TYPE payment_status SET SCHEMA billing;"),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id int);\nALTER TABLE t SET SCHEMA billing;"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE invoices ADD COLUMN note text;"),
            0
        );
    }
}
