//! `add-column-volatile-default`: `ADD COLUMN` with a volatile DEFAULT, which rewrites the
//! table.

use super::{Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M008",
    name: "add-column-volatile-default",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD COLUMN ... DEFAULT <expr>` on a table that existed before \
           this migration when the default calls a volatile function such as `random()`, \
           `gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()` or `nextval()`.",
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

/// Built-in and common extension functions that are VOLATILE, so a default calling one of
/// them rewrites the table. Stable ones (`now`, `current_timestamp`, `statement_timestamp`,
/// `txid_current`) are deliberately absent: they are evaluated once.
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "setseed",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuid_generate_v7",
    "gen_random_bytes",
    "gen_salt",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "currval",
    "lastval",
    "gen_ulid",
    "generate_ulid",
];

fn volatile_function(functions: &[String]) -> Option<&str> {
    functions.iter().map(String::as_str).find(|f| {
        // Schema-qualified calls (`public.gen_random_uuid`) count as well.
        let bare = f.rsplit('.').next().unwrap_or(f);
        VOLATILE.contains(&bare)
    })
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
        let default = column.default.as_ref()?;
        let function = volatile_function(&default.functions)?;
        Some(
            Risk::new(format!(
                "Adding column {}.{} with the volatile default {function}() rewrites all of \
                 {name} under an ACCESS EXCLUSIVE lock: reads and writes wait until every row \
                 has its own value",
                name, column.name
            ))
            .on_table(name)
            .with_lock(LockMode::AccessExclusive),
        )
    })
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
}
