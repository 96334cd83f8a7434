//! `primary-key-sets-not-null`: `ADD PRIMARY KEY USING INDEX` whose index columns are not all
//! `NOT NULL` on the copy (eugene's W14): PostgreSQL then sets NOT NULL itself, scanning the
//! table under the ACCESS EXCLUSIVE lock the safe recipe was meant to avoid.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ConstraintKind, Evidence, IndexKey, QualifiedName, Severity, Statement,
    StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M086",
    name: "primary-key-sets-not-null",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags `ALTER TABLE ... ADD [CONSTRAINT ...] PRIMARY KEY USING INDEX <index>` on an \
           existing table when a column of the index is nullable on the copy (and not made \
           NOT NULL earlier in the migration).",
    why: "A primary key's columns must be NOT NULL, so PostgreSQL sets NOT NULL on each \
          nullable column as part of the ALTER TABLE: a full scan of the table while it holds \
          the ACCESS EXCLUSIVE lock that blocks reads and writes, and the statement fails with \
          \"column ... contains null values\" if a single row has one. Building the unique \
          index concurrently first avoided the index build's lock, but not this one. \
          (PostgreSQL docs: ALTER TABLE, ADD table_constraint_using_index.)",
    instead: "Make the columns NOT NULL first without a long lock: `ALTER TABLE <table> ADD \
              CONSTRAINT <table>_<column>_not_null CHECK (<column> IS NOT NULL) NOT VALID;`, \
              `VALIDATE CONSTRAINT` it in a separate transaction, then `ALTER TABLE <table> \
              ALTER COLUMN <column> SET NOT NULL;` (PostgreSQL 12+ uses the validated check \
              instead of scanning); then add the primary key USING INDEX.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT <constraint>;` drops the primary key and its \
               index (recreate the index concurrently if it is still needed); `ALTER COLUMN ... \
               DROP NOT NULL` is instant.",
    bad: include_str!("../../fixtures/rules/primary-key-sets-not-null/bad.sql"),
    good: include_str!("../../fixtures/rules/primary-key-sets-not-null/good.sql"),
    check: Check::Statement(check),
};

/// Whether an earlier statement of the migration made `column` NOT NULL.
fn made_not_null_earlier(ctx: &Context, table: &QualifiedName, column: &str) -> bool {
    ctx.state
        .not_null_checks
        .iter()
        .any(|(t, c)| t.matches(table) && c == column)
        || ctx.earlier().iter().any(|s| match &s.kind {
            StatementKind::AlterTable { name, actions, .. } if name.matches(table) => actions
                .iter()
                .any(|a| matches!(a, AlterAction::SetNotNull { column: c } if c == column)),
            _ => false,
        })
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let schema = ctx.schema?;
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let (constraint, index) = actions.iter().find_map(|a| match a {
        AlterAction::AddConstraint(c) if matches!(c.kind, ConstraintKind::PrimaryKey) => {
            c.using_index.as_ref().map(|i| (c.name.clone(), i))
        }
        _ => None,
    })?;
    let index_name = QualifiedName {
        schema: name.schema.clone(),
        name: index.clone(),
    };
    let keys = &schema.index(&index_name)?.keys;
    let nullable: Vec<&str> = keys
        .iter()
        .filter_map(|k| match k {
            IndexKey::Column(c) => Some(c.as_str()),
            IndexKey::Expression(_) => None,
        })
        .filter(|c| {
            schema.column(name, c).is_some_and(|col| !col.not_null)
                && !made_not_null_earlier(ctx, name, c)
        })
        .collect();
    let first = nullable.first()?;
    let list = nullable
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let check_name = instead::name(&instead::derived(
        &name.name,
        &[first.to_string()],
        "not_null",
    ));
    let constraint = instead::name(&constraint.unwrap_or_else(|| format!("{}_pkey", name.name)));
    let (t, c, i) = (
        instead::table(name),
        instead::name(first),
        instead::name(index),
    );
    let mut risk = Risk::new(format!(
        "Adding primary key {constraint} using index {index} makes PostgreSQL set NOT NULL on \
         {list} of {name}: a full scan under ACCESS EXCLUSIVE, failing on any NULL; make them \
         NOT NULL through a validated check first"
    ))
    .on_table(name)
    .with_lock(LockMode::AccessExclusive)
    .with_instead(format!(
        "First, in its own migrations: `ALTER TABLE {t} ADD CONSTRAINT {check_name} CHECK ({c} \
         IS NOT NULL) NOT VALID;`, then `ALTER TABLE {t} VALIDATE CONSTRAINT {check_name};`, \
         then `ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;` (no scan with the validated \
         check) for each of {list}; then `ALTER TABLE {t} ADD CONSTRAINT {constraint} PRIMARY \
         KEY USING INDEX {i};`."
    ));
    if let Some(table) = schema.table(name) {
        risk.facts.rows = Some(table.rows);
        risk.facts.bytes = Some(table.heap_bytes);
    }
    Some(risk)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{catalog_risks, count, index, snapshot, table};

    fn copy() -> crate::evidence::catalog::CatalogSnapshot {
        let mut accounts = table(
            "accounts",
            50_000,
            &[("id", "bigint"), ("legacy_id", "integer")],
        );
        for c in &mut accounts.columns {
            c.not_null = c.name == "id";
        }
        let mut by_id = index("accounts_id_idx", "accounts", &["id"]);
        by_id.unique = true;
        let mut by_legacy = index("accounts_legacy_id_idx", "accounts", &["legacy_id"]);
        by_legacy.unique = true;
        snapshot(vec![accounts], vec![by_id, by_legacy], vec![])
    }

    #[test]
    fn flags_a_primary_key_over_nullable_columns_on_the_copy() {
        let risks = catalog_risks(
            &RULE,
            copy(),
            "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_legacy_id_idx;",
        );
        assert_eq!(risks.len(), 1, "{risks:?}");
        assert!(
            risks[0].message.contains("`legacy_id`"),
            "{}",
            risks[0].message
        );
        assert_eq!(risks[0].facts.rows, Some(50_000));
        let instead = risks[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains("ALTER TABLE accounts ALTER COLUMN legacy_id SET NOT NULL;"),
            "{instead}"
        );
    }

    #[test]
    fn not_null_columns_and_static_reviews_pass() {
        assert!(catalog_risks(
            &RULE,
            copy(),
            "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx;",
        )
        .is_empty());
        // Made NOT NULL earlier in the migration.
        assert!(catalog_risks(
            &RULE,
            copy(),
            "ALTER TABLE accounts ALTER COLUMN legacy_id SET NOT NULL;\nALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_legacy_id_idx;",
        )
        .is_empty());
        // Without a copy the columns' nullability is unknown: the rule is skipped, not guessed.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_legacy_id_idx;"
            ),
            0
        );
    }
}
