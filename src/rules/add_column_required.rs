//! `add-column-required`: `ADD COLUMN ... NOT NULL` without a DEFAULT on an existing table,
//! which fails as soon as the table has a row.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, ColumnDef, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M009",
    name: "add-column-required",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD COLUMN ... NOT NULL` (or `PRIMARY KEY`) without a \
           `DEFAULT` on a table that existed before this migration.",
    why: "Existing rows have no value for the new column, so they would be NULL: on any table \
          with at least one row PostgreSQL aborts with \"column ... contains null values\" and \
          the migration fails in production although it passed on an empty development \
          database. Application code that inserts without the new column fails as well until it \
          is deployed. (PostgreSQL docs: ALTER TABLE, \"ADD COLUMN\".)",
    instead: "Either give the column a constant default — `ALTER TABLE accounts ADD COLUMN plan \
              text NOT NULL DEFAULT 'free';` is instant since PostgreSQL 11 — or add it nullable, \
              backfill it in batches, and then enforce NOT NULL with `ADD CONSTRAINT ... CHECK \
              (plan IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT`, `SET NOT NULL`.",
    rollback: "`ALTER TABLE <table> DROP COLUMN IF EXISTS <column>;`",
    bad: include_str!("../../fixtures/rules/add-column-required/bad.sql"),
    good: include_str!("../../fixtures/rules/add-column-required/good.sql"),
    check: Check::Statement(check),
};

/// Types that bring their own default (`nextval`), so existing rows do get a value.
fn is_serial(data_type: &str) -> bool {
    matches!(
        data_type,
        "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
    )
}

fn fills_existing_rows(column: &ColumnDef) -> bool {
    column.default.is_some()
        || column.generated_stored
        || column.identity
        || is_serial(&column.data_type)
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    actions.iter().find_map(|action| {
        let AlterAction::AddColumn { column, .. } = action else {
            return None;
        };
        if !(column.not_null || column.primary_key) || fills_existing_rows(column) {
            return None;
        }
        let constraint = if column.primary_key {
            "PRIMARY KEY"
        } else {
            "NOT NULL"
        };
        Some(
            Risk::new(format!(
                "Adding column {name}.{} as {constraint} without a DEFAULT fails with \"column \
                 contains null values\" as soon as {name} has a row; give it a constant DEFAULT \
                 or add it nullable and backfill",
                column.name
            ))
            .with_instead(instead_for(name, column, ctx))
            .on_table(name)
            .with_lock(LockMode::AccessExclusive),
        )
    })
}

/// A constant default for this column, or nullable + batched backfill + the NOT NULL recipe.
fn instead_for(table: &crate::model::QualifiedName, column: &ColumnDef, ctx: &Context) -> String {
    let t = instead::table(table);
    let c = instead::name(&column.name);
    let ty = &column.data_type;
    let check = instead::name(&instead::derived(
        &table.name,
        std::slice::from_ref(&column.name),
        "not_null",
    ));
    format!(
        "Either give the column a constant default — `ALTER TABLE {t} ADD COLUMN {c} {ty} NOT \
         NULL DEFAULT <constant>;` is instant since PostgreSQL 11 — or add it nullable and \
         backfill it: (1) `ALTER TABLE {t} ADD COLUMN {c} {ty};`; (2) repeat {} in separate \
         transactions until it updates no rows; (3) `ALTER TABLE {t} ADD CONSTRAINT {check} CHECK \
         ({c} IS NOT NULL) NOT VALID;`, `ALTER TABLE {t} VALIDATE CONSTRAINT {check};`, `ALTER \
         TABLE {t} ALTER COLUMN {c} SET NOT NULL;`.",
        instead::batched_update(
            &t,
            &format!("{c} = <value>"),
            &format!("{c} IS NULL"),
            ctx.settings
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_column() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ADD COLUMN return_branch integer NOT NULL;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ADD COLUMN return_branch integer NOT NULL DEFAULT <constant>;`"),
            "{instead}"
        );
        assert!(
            instead.contains("CHECK (return_branch IS NOT NULL) NOT VALID"),
            "{instead}"
        );
        assert!(!instead.contains("accounts"), "{instead}");
    }

    #[test]
    fn flags_required_columns_without_default() {
        let findings = check(&RULE, "ALTER TABLE accounts ADD COLUMN plan text NOT NULL;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("accounts.plan"));
        assert_eq!(findings[0].table.as_deref(), Some("accounts"));
        assert_eq!(
            count(
                &RULE,
                "alter table accounts add column external_id bigint primary key;"
            ),
            1
        );
    }

    #[test]
    fn allows_defaults_nullable_columns_and_self_filling_types() {
        for sql in [
            "ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';",
            "ALTER TABLE accounts ADD COLUMN plan text;",
            "ALTER TABLE accounts ADD COLUMN seq bigserial NOT NULL;",
            "ALTER TABLE accounts ADD COLUMN n bigint NOT NULL GENERATED ALWAYS AS IDENTITY;",
            "ALTER TABLE accounts ADD COLUMN total bigint NOT NULL GENERATED ALWAYS AS (a + b) STORED;",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }

    #[test]
    fn ignores_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint);\nALTER TABLE carts ADD COLUMN owner bigint NOT NULL;"
            ),
            0
        );
    }
}
