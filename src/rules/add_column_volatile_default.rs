//! `add-column-volatile-default`: `ADD COLUMN` with a volatile DEFAULT, which rewrites the
//! table.

use super::{volatility, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M008",
    name: "add-column-volatile-default",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD COLUMN ... DEFAULT <expr>` on a table that existed before \
           this migration when the default calls a volatile function such as `random()`, \
           `gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()` or `nextval()`, or \
           a function the migration creates without IMMUTABLE or STABLE (VOLATILE is \
           PostgreSQL's default). A function migsafe cannot find (not created in the \
           migration, not in the copy's pg_proc, not a known built-in) is assumed volatile, \
           and the finding says so.",
    why: "Since PostgreSQL 11 a new column with a constant or stable default (`0`, `'new'`, \
          `now()`, `current_timestamp`) is added instantly: the value is computed once and kept \
          in the catalog. A volatile default must be computed for every existing row, so \
          PostgreSQL rewrites the whole table (and rebuilds its indexes) while holding an ACCESS \
          EXCLUSIVE lock: every read and write waits. (PostgreSQL docs: ALTER TABLE, \"Notes\"; \
          Function Volatility Categories.)",
    instead: "Add the column without a default (or with a constant one), then set the default \
              for new rows only, then backfill old rows in batches: (1) `ALTER TABLE orders ADD COLUMN public_id uuid, ALTER COLUMN public_id SET DEFAULT \
              gen_random_uuid();` (instant: existing rows get NULL); (2) `UPDATE orders SET public_id = gen_random_uuid() WHERE id BETWEEN ... AND ... AND \
              public_id IS NULL;` (repeat in small batches, in separate transactions); (3) make it NOT NULL with the CHECK ... NOT VALID / VALIDATE recipe.",
    rollback: "`ALTER TABLE <table> DROP COLUMN IF EXISTS <column>;`",
    bad: include_str!("../../fixtures/rules/add-column-volatile-default/bad.sql"),
    good: include_str!("../../fixtures/rules/add-column-volatile-default/good.sql"),
    check: Check::Statement(check),
};

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
        let default = column.default.as_ref()?;
        let (function, source) = volatility::first_volatile(ctx, &default.functions)?;
        let known = source != volatility::Source::Unknown;
        Some(
            Risk::new(format!(
                "Adding column {}.{} with the {}default {function}() rewrites all of \
                 {name} under an ACCESS EXCLUSIVE lock: reads and writes wait until every row \
                 has its own value ({})",
                name,
                column.name,
                if known { "volatile " } else { "" },
                volatility::explain(&function, &source, ctx.schema.is_some()),
            ))
            .with_instead(instead_for(
                name,
                &column.name,
                &column.data_type,
                &default.text,
                ctx.settings.thresholds.batch_rows,
            ))
            .on_table(name)
            .with_lock(LockMode::AccessExclusive),
        )
    })
}

/// The add / default-for-new-rows / batched backfill recipe for this column, with the batch
/// size from migsafe.toml (`[thresholds] batch_rows`).
fn instead_for(
    table: &crate::model::QualifiedName,
    column: &str,
    data_type: &str,
    default: &str,
    batch: i64,
) -> String {
    let (table, column) = (super::instead::table(table), super::instead::name(column));
    format!(
        "Add the column without the default, set the default for new rows only, then backfill \
         old rows in batches: (1) `ALTER TABLE {table} ADD COLUMN {column} {data_type};` \
         (instant: existing rows get NULL); (2) `ALTER TABLE {table} ALTER COLUMN {column} SET \
         DEFAULT {default};` (instant: only new rows); (3) repeat `UPDATE {table} SET {column} = \
         {default} WHERE ctid IN (SELECT ctid FROM {table} WHERE {column} IS NULL LIMIT {batch});` \
         in separate transactions until it updates no rows; (4) if it must be NOT NULL, use the \
         CHECK ... NOT VALID / VALIDATE recipe (see set-not-null)."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_volatile_defaults() {
        let findings = check(
            &RULE,
            "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("orders.public_id"));
        assert!(findings[0].message.contains("gen_random_uuid"));
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        for sql in [
            "ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT uuid_generate_v4();",
            "ALTER TABLE orders ADD COLUMN bucket int DEFAULT (random() * 10)::int;",
            "ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();",
            "ALTER TABLE orders ADD COLUMN seq bigint DEFAULT nextval('orders_seq');",
            "alter table orders add column stamp text default timeofday();",
        ] {
            assert_eq!(count(&RULE, sql), 1, "{sql}");
        }
    }

    #[test]
    fn allows_constant_and_stable_defaults() {
        for sql in [
            "ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();",
            "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT current_timestamp;",
            "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';",
            "ALTER TABLE orders ADD COLUMN xid bigint DEFAULT txid_current();",
            "ALTER TABLE orders ADD COLUMN public_id uuid;",
            // Setting a default on an existing column only affects future rows.
            "ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }

    #[test]
    fn ignores_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint);\n\
                 ALTER TABLE carts ADD COLUMN token uuid DEFAULT gen_random_uuid();"
            ),
            0
        );
    }

    #[test]
    fn flags_schema_qualified_volatile_functions() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE ONLY public.orders ADD COLUMN token uuid DEFAULT public.gen_random_uuid();"
            ),
            1
        );
    }

    #[test]
    fn a_function_created_without_a_volatility_clause_is_volatile() {
        // lemmy shape: a helper that builds a unique placeholder, then a default calling it.
        let sql = "CREATE OR REPLACE FUNCTION generate_unique_changeme() RETURNS text\n\
                   LANGUAGE sql AS $$ SELECT 'changeme_' || md5(random()::text) $$;\n\
                   ALTER TABLE person ADD COLUMN actor_id varchar(255) NOT NULL \
                   DEFAULT generate_unique_changeme();";
        let found = check(&RULE, sql);
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("created on line 1 without IMMUTABLE or STABLE, is VOLATILE"),
            "{m}"
        );
        // Declared STABLE or IMMUTABLE: evaluated once, no rewrite.
        for clause in ["STABLE", "IMMUTABLE"] {
            let sql = format!(
                "CREATE FUNCTION default_locale() RETURNS text LANGUAGE sql {clause} AS $$ SELECT 'en' $$;\n\
                 ALTER TABLE person ADD COLUMN locale text DEFAULT default_locale();"
            );
            assert_eq!(count(&RULE, &sql), 0, "{clause}");
        }
        // Declared VOLATILE says so.
        let found = check(
            &RULE,
            "CREATE FUNCTION new_token() RETURNS text VOLATILE LANGUAGE sql AS $$ SELECT md5(random()::text) $$;\n\
             ALTER TABLE person ADD COLUMN token text DEFAULT new_token();",
        );
        assert!(found[0].message.contains("declared VOLATILE on line 1"));
    }

    #[test]
    fn instead_uses_the_column_default_and_batch_size() {
        let found = check(
            &RULE,
            "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE orders ADD COLUMN public_id uuid;`"),
            "{instead}"
        );
        assert!(
            instead.contains("SET DEFAULT gen_random_uuid();"),
            "{instead}"
        );
        assert!(instead.contains("LIMIT 100000"), "{instead}");
    }

    #[test]
    fn an_unknown_function_is_assumed_volatile_and_the_finding_says_so() {
        let found = check(
            &RULE,
            "ALTER TABLE crates ADD COLUMN slug text DEFAULT make_slug();",
        );
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(m.contains("does not know make_slug()"), "{m}");
        assert!(m.contains("assumes it is VOLATILE"), "{m}");
        assert!(m.contains("--database-url"), "{m}");
    }

    #[test]
    fn the_copys_pg_proc_decides_at_catalog_level() {
        use crate::evidence::catalog::Function;
        use crate::model::Volatility;
        use crate::rules::test_support::{catalog_risks, qualified, snapshot, table};
        let copy = |v: Volatility| {
            let mut s = snapshot(
                vec![table("crates", 1000, &[("id", "integer")])],
                vec![],
                vec![],
            );
            s.functions = vec![Function {
                name: qualified("make_slug"),
                volatility: v,
            }];
            s
        };
        let sql = "ALTER TABLE crates ADD COLUMN slug text DEFAULT make_slug();";
        assert!(catalog_risks(&RULE, copy(Volatility::Stable), sql).is_empty());
        let risks = catalog_risks(&RULE, copy(Volatility::Volatile), sql);
        assert_eq!(risks.len(), 1);
        assert!(risks[0].message.contains("VOLATILE in the copy's pg_proc"));
        // Not in pg_proc either: still assumed volatile, and the message says where it looked.
        let risks = catalog_risks(
            &RULE,
            snapshot(
                vec![table("crates", 1000, &[("id", "integer")])],
                vec![],
                vec![],
            ),
            sql,
        );
        assert!(risks[0].message.contains("not in the copy's pg_proc"));
    }
}
