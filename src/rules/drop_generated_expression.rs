//! `drop-generated-expression`: `ALTER TABLE ... ALTER COLUMN ... DROP EXPRESSION` on a table
//! that existed before this migration (squawk's ban-drop-generated-expression).

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M084",
    name: "drop-generated-expression",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ALTER COLUMN ... DROP EXPRESSION` on a table that existed \
           before this migration.",
    why: "The generated column becomes an ordinary column that keeps its current values: from \
          the moment the migration commits, rows that running code inserts or updates no longer \
          get it computed, so it silently goes stale or NULL for every writer that relied on \
          the database to fill it (and writers that never set it cannot, until they are \
          changed). Turning it back into a generated column rewrites the table under an ACCESS \
          EXCLUSIVE lock. The statement itself takes an ACCESS EXCLUSIVE lock briefly. \
          (PostgreSQL docs: ALTER TABLE, DROP EXPRESSION.)",
    instead: "Deploy code that writes the column itself (computing the same value) first; then \
              drop the expression. To change the formula rather than stop computing it, use \
              `ALTER COLUMN <column> SET EXPRESSION AS (...)` on PostgreSQL 17+ (a rewrite: plan \
              it like a type change), or add a new generated column next to it.",
    rollback:
        "Not instant: re-adding the expression means dropping the column and adding `<column> \
               <type> GENERATED ALWAYS AS (...) STORED` again, which rewrites the table; keep \
               the expression (`pg_get_expr(adbin, adrelid)` from `pg_attrdef`) with the \
               migration.",
    bad: include_str!("../../fixtures/rules/drop-generated-expression/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-generated-expression/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name)
        || !actions
            .iter()
            .any(|a| matches!(a, AlterAction::Other(k) if k.ends_with("drop expression")))
    {
        return None;
    }
    let written = crate::parse::objects::dropped_expressions(&stmt.text);
    let columns: Vec<String> = written
        .iter()
        .filter(|c| !ctx.state.column_is_new(name, c))
        .cloned()
        .collect();
    if !written.is_empty() && columns.is_empty() {
        return None;
    }
    let named = if columns.is_empty() {
        "a generated column".to_string()
    } else {
        columns
            .iter()
            .map(|c| ctx.state.describe_column(name, c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let first = columns.first().map(String::as_str).unwrap_or("<column>");
    Some(
        Risk::new(format!(
            "Dropping the generation expression of {named} on {name}: rows written from now on \
             no longer get it computed, and restoring it rewrites the table"
        ))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive)
        .with_instead(format!(
            "Deploy code that writes `{first}` itself first; keep the expression for the \
             rollback (`SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = \
             {t_lit}::regclass;`); then `ALTER TABLE {t} ALTER COLUMN {c} DROP EXPRESSION;`. To \
             change the formula instead, add a new generated column next to `{first}`.",
            t = instead::table(name),
            c = instead::name(first),
            t_lit = crate::quote::literal(&instead::table(name)),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_dropping_an_existing_generation_expression() {
        let found = check(
            &RULE,
            "ALTER TABLE line_items ALTER COLUMN total_cents DROP EXPRESSION;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("`total_cents`"),
            "{}",
            found[0].message
        );
        assert!(
            found[0]
                .instead
                .contains("ALTER TABLE line_items ALTER COLUMN total_cents DROP EXPRESSION;"),
            "{}",
            found[0].instead
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) STORED);\nALTER TABLE t ALTER COLUMN b DROP EXPRESSION;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE line_items ALTER COLUMN total_cents DROP DEFAULT;"
            ),
            0
        );
    }
}
