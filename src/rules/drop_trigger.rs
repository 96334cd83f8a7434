//! `drop-trigger`: `DROP TRIGGER ... ON t` of a trigger that existed before this migration, on
//! a table that existed before it, unless the migration creates it again (squawk's
//! ban-drop-trigger).

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M087",
    name: "drop-trigger",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `DROP TRIGGER ... ON <table>` of a trigger that existed before this migration \
           on a table that existed before it. Dropping and creating a trigger of the same name \
           on the same table in the migration (the usual way to change one) is not flagged, \
           nor a trigger created earlier in it.",
    why: "Triggers do work that running code counts on without calling it: keeping \
          `updated_at` current, writing the audit log, maintaining a denormalised counter or a \
          search vector, enforcing a rule across tables. From the moment the migration commits \
          every write skips that work silently, and the rows written meanwhile stay wrong after \
          the trigger is restored. The drop takes an ACCESS EXCLUSIVE lock on the table. \
          (PostgreSQL docs: DROP TRIGGER.)",
    instead: "Move the trigger's work into the code (or a replacement trigger) and deploy that \
              first; to change a trigger, create the new version in the same transaction \
              (`CREATE OR REPLACE TRIGGER` on PostgreSQL 14+, or `DROP TRIGGER` and `CREATE \
              TRIGGER` of the same name together); keep its definition for the rollback \
              (`SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = '<trigger>';`).",
    rollback: "Recreate it from the kept definition (`CREATE TRIGGER ...`), then repair the rows \
               written while it was gone (backfill `updated_at`, the audit log, counters).",
    bad: include_str!("../../fixtures/rules/drop-trigger/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-trigger/good.sql"),
    check: Check::Statement(check),
};

/// Whether a later statement creates a trigger of that name on the table again.
fn recreated_later(ctx: &Context, trigger: &str, table: &QualifiedName) -> bool {
    ctx.later().iter().any(|s| {
        matches!(&s.kind, StatementKind::TableDdl { keywords, name, table: t }
            if keywords == "create trigger" && name == trigger && t.matches(table))
    })
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::TableDdl {
        keywords,
        name,
        table,
    } = &stmt.kind
    else {
        return None;
    };
    if keywords != "drop trigger"
        || ctx.table_is_new(table)
        || ctx
            .state
            .object_is_new("trigger", Some(table), &QualifiedName::new(None, name))
        || recreated_later(ctx, name, table)
    {
        return None;
    }
    let label = ctx
        .state
        .describe_object("trigger", Some(table), &QualifiedName::new(None, name));
    Some(
        Risk::new(format!(
            "Dropping trigger {label} on {table}: every write from now on skips the work it did \
             (timestamps, audit rows, counters), silently; move that work first or recreate the \
             trigger in the same transaction"
        ))
        .on_table(table)
        .with_lock(crate::locks::LockMode::AccessExclusive)
        .with_instead(format!(
            "Keep its definition for the rollback (`SELECT pg_get_triggerdef(oid) FROM pg_trigger \
             WHERE tgrelid = {t_lit}::regclass AND tgname = {n_lit};`). To change it, replace it \
             in one transaction: `CREATE OR REPLACE TRIGGER {n} ... ON {t} ...;` (PostgreSQL \
             14+). To remove it, move its work into the code and deploy that first, then `DROP \
             TRIGGER IF EXISTS {n} ON {t};` with `-- migsafe:allow drop-trigger reason: <why>`.",
            t = instead::table(table),
            n = instead::name(name),
            t_lit = crate::quote::literal(&instead::table(table)),
            n_lit = crate::quote::literal(name),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_dropping_an_existing_trigger() {
        let found = check(
            &RULE,
            "DROP TRIGGER IF EXISTS set_updated_at ON public.orders;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("`set_updated_at`")
                && found[0].message.contains("public.orders"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].table.as_deref(), Some("public.orders"));
    }

    #[test]
    fn replacing_or_dropping_this_migrations_own_triggers_passes() {
        for sql in [
            "DROP TRIGGER IF EXISTS set_updated_at ON orders;\nCREATE TRIGGER set_updated_at BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
            "CREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log();\nDROP TRIGGER audit ON orders;",
            "CREATE TABLE t (id int);\nDROP TRIGGER IF EXISTS x ON t;",
            "DROP FUNCTION IF EXISTS set_updated_at_fn() CASCADE;",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }
}
