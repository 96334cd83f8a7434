//! `drop-constraint`: `ALTER TABLE ... DROP CONSTRAINT` on a table that existed before this
//! migration (squawk's ban-drop-constraint, with our four slots).

use super::{Check, Context, Risk, Rule};
use crate::evidence::catalog::ConstraintType;
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M080",
    name: "drop-constraint",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... DROP CONSTRAINT` of a constraint that existed before this \
           migration, on a table that existed before it. A constraint added earlier in the same \
           migration, or dropped and re-added under the same name later in it (changing its \
           definition), is not flagged.",
    why: "Dropping a constraint is quick (a brief ACCESS EXCLUSIVE lock), but it removes a \
          guarantee running code relies on: without a unique or primary key constraint, \
          `INSERT ... ON CONFLICT (...)` fails with \"there is no unique or exclusion \
          constraint matching the ON CONFLICT specification\" and duplicates can be written; \
          without a foreign key, orphan rows appear and `ON DELETE CASCADE` stops deleting \
          them; a published table without a primary key rejects UPDATE and DELETE under \
          logical replication. A dropped primary key or unique constraint also drops its \
          index, so the queries it served turn into sequential scans, and `CASCADE` drops the \
          foreign keys that reference it. The rollback is the expensive part: re-adding the \
          constraint scans (and for a unique one, indexes) the whole table under lock, and \
          fails if violating rows were written meanwhile. (PostgreSQL docs: ALTER TABLE, DROP \
          CONSTRAINT.)",
    instead: "Make sure nothing relies on the constraint (ON CONFLICT targets, code that catches \
              its violation, cascading deletes, replication) and deploy that first; keep its \
              definition with the migration for the rollback (`SELECT \
              pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '<constraint>';`); \
              then drop it in its own migration with `ALTER TABLE <table> DROP CONSTRAINT IF \
              EXISTS <constraint>;` and say why: `-- migsafe:allow drop-constraint reason: \
              <why>`. To change a constraint's definition, drop and re-add it under the same \
              name in one statement, the new one `NOT VALID`, and validate it in a later \
              migration.",
    rollback: "Re-add it without a long lock: a CHECK or foreign key with `ADD CONSTRAINT ... NOT \
               VALID`, then `VALIDATE CONSTRAINT` in a separate transaction; a unique or primary \
               key with `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... UNIQUE \
               USING INDEX` (or `PRIMARY KEY USING INDEX`). Rows written meanwhile that violate \
               it must be fixed first.",
    bad: include_str!("../../fixtures/rules/drop-constraint/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-constraint/good.sql"),
    check: Check::Statement(check),
};

/// What kind of constraint a name denotes: from the copy's catalog, else from PostgreSQL's
/// default naming (`<table>_pkey`, `_key`, `_fkey`, `_check`, `_excl`), which generated
/// migrations (Rails, Django, Prisma, ...) keep.
fn kind_of(ctx: &Context, table: &QualifiedName, name: &str) -> Option<(ConstraintType, bool)> {
    if let Some(c) = ctx.schema.and_then(|s| s.constraint(table, name)) {
        return Some((c.kind, true));
    }
    let kind = if name.ends_with("_pkey") {
        ConstraintType::PrimaryKey
    } else if name.ends_with("_fkey") {
        ConstraintType::ForeignKey
    } else if name.ends_with("_key") {
        ConstraintType::Unique
    } else if name.ends_with("_check") {
        ConstraintType::Check
    } else if name.ends_with("_excl") {
        ConstraintType::Exclusion
    } else {
        return None;
    };
    Some((kind, false))
}

fn consequence(kind: ConstraintType) -> &'static str {
    match kind {
        ConstraintType::PrimaryKey => {
            "a primary key: its index goes with it, ON CONFLICT on its columns fails, and \
             logical replication rejects UPDATE and DELETE"
        }
        ConstraintType::Unique => {
            "a unique constraint: its index goes with it, ON CONFLICT on its columns fails, and \
             duplicates can be written"
        }
        ConstraintType::ForeignKey => {
            "a foreign key: orphan rows can be written and its ON DELETE action stops"
        }
        ConstraintType::Check => "a check: rows it rejected can be written",
        ConstraintType::Exclusion => {
            "an exclusion constraint: its index goes with it, and overlapping rows can be written"
        }
    }
}

/// Whether a later statement adds a constraint of that name to the same table again (a
/// changed definition: the add has its own findings).
fn re_added_later(ctx: &Context, index: usize, table: &QualifiedName, name: &str) -> bool {
    let same_statement = ctx.migration.statements.get(index).into_iter();
    same_statement.chain(ctx.later()).any(|s| match &s.kind {
        StatementKind::AlterTable {
            name: t, actions, ..
        } if t.matches(table) => actions
            .iter()
            .any(|a| matches!(a, AlterAction::AddConstraint(c) if c.name.as_deref() == Some(name))),
        _ => false,
    })
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let dropped: Vec<&String> = actions
        .iter()
        .filter_map(|a| match a {
            AlterAction::DropConstraint { name: c, .. } => Some(c),
            _ => None,
        })
        .filter(|c| !ctx.state.constraint_is_new(name, c))
        .filter(|c| !re_added_later(ctx, ctx.index, name, c))
        .collect();
    let first = dropped.first()?;
    let described: Vec<String> = dropped
        .iter()
        .map(|c| {
            let label =
                ctx.state
                    .describe_object("constraint", Some(name), &QualifiedName::new(None, c));
            match kind_of(ctx, name, c) {
                Some((kind, true)) => format!("{label} ({})", consequence(kind)),
                Some((kind, false)) => format!("{label} (named like {})", consequence(kind)),
                None => label,
            }
        })
        .collect();
    let cascade = if crate::parse::objects::cascades(&stmt.text) {
        "; CASCADE also drops the foreign keys that reference it"
    } else {
        ""
    };
    let instead = format!(
        "Make sure no running code relies on `{first}` of {name} (ON CONFLICT targets, code \
         that catches its violation, cascading deletes, replication) and deploy that first. Keep \
         its definition for the rollback: `SELECT pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = '{name}'::regclass AND conname = '{first}';`. Then drop it in its own \
         migration: `ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {first};` with `-- \
         migsafe:allow drop-constraint reason: <why>`. To change its definition instead, drop \
         and re-add it in one statement: `ALTER TABLE {name} DROP CONSTRAINT {first}, ADD \
         CONSTRAINT {first} <new definition> NOT VALID;` and `VALIDATE CONSTRAINT {first}` in a \
         later migration."
    );
    Some(
        Risk::new(format!(
            "Dropping constraint {} of {name} removes a guarantee running code relies on{cascade}; \
             re-adding it in a rollback scans the whole table under lock and fails on rows \
             written meanwhile",
            described.join(", ")
        ))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive)
        .with_instead(instead),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_dropping_an_existing_constraint_with_what_it_guaranteed() {
        let found = check(
            &RULE,
            "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let m = &found[0].message;
        assert!(
            m.contains("`orders_customer_id_fkey`") && m.contains("foreign key"),
            "{m}"
        );
        // The safe version is written with the user's own names.
        assert!(
            found[0]
                .instead
                .contains("ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_fkey;"),
            "{}",
            found[0].instead
        );
        let cascade = check(
            &RULE,
            "ALTER TABLE ONLY public.customers DROP CONSTRAINT customers_pkey CASCADE;",
        );
        assert_eq!(cascade.len(), 1);
        assert!(
            cascade[0].message.contains("primary key") && cascade[0].message.contains("CASCADE"),
            "{}",
            cascade[0].message
        );
    }

    #[test]
    fn constraints_added_here_or_redefined_are_not_flagged() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;\nALTER TABLE orders DROP CONSTRAINT orders_total_positive;"
            ),
            0
        );
        // Added, renamed, then dropped: still this migration's own constraint.
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD CONSTRAINT a CHECK (total > 0) NOT VALID;\nALTER TABLE orders RENAME CONSTRAINT a TO b;\nALTER TABLE orders DROP CONSTRAINT b;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey, ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE NOT VALID;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE staging (id bigint CONSTRAINT staging_pkey PRIMARY KEY);\nALTER TABLE staging DROP CONSTRAINT staging_pkey;"
            ),
            0
        );
    }

    #[test]
    fn a_rollback_dropping_what_the_up_part_added_is_not_flagged() {
        let sql = "-- +goose Up\nALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\n-- +goose Down\nALTER TABLE orders DROP CONSTRAINT orders_total_check;\n";
        assert_eq!(count(&RULE, sql), 0);
    }

    #[test]
    fn an_existing_constraint_renamed_then_dropped_names_its_origin() {
        let found = check(
            &RULE,
            "ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_email_key_old;\nALTER TABLE users DROP CONSTRAINT users_email_key_old;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .contains("`users_email_key_old` (renamed from `users_email_key` on line 1)"),
            "{}",
            found[0].message
        );
    }
}
