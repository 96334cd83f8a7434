//! `drop-constraint`: `ALTER TABLE ... DROP CONSTRAINT` on a table that existed before this
//! migration (squawk's ban-drop-constraint, with our four slots).

use super::{instead, Check, Context, Risk, Rule};
use crate::evidence::catalog::ConstraintType;
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::quote;

pub const RULE: Rule = Rule {
    code: "M080",
    name: "drop-constraint",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... DROP CONSTRAINT` of a constraint that existed before this \
           migration, on a table that existed before it. A constraint added earlier in the same \
           migration, or dropped and re-added under the same name later in it (changing its \
           definition), is not flagged. At catalog level the copy says what the constraint \
           is, and dropping a primary key or unique constraint that foreign keys depend on is \
           an error without CASCADE (PostgreSQL refuses) and names those foreign keys with it.",
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

/// Foreign keys on the copy (`name on table`) whose referenced columns are those of a primary
/// key or unique constraint being dropped: they depend on its index.
fn dependent_foreign_keys(
    schema: &crate::schema::Schema,
    table: &QualifiedName,
    dropped: &[&String],
) -> Vec<String> {
    let mut out = Vec::new();
    for c in dropped {
        let Some(key) = schema.constraint(table, c) else {
            continue;
        };
        if !matches!(
            key.kind,
            ConstraintType::PrimaryKey | ConstraintType::Unique
        ) {
            continue;
        }
        let mut columns = key.columns.clone();
        columns.sort();
        for fk in schema.foreign_keys_referencing(table) {
            let Some(r) = &fk.references else { continue };
            let mut referenced = r.columns.clone();
            referenced.sort();
            if referenced == columns {
                out.push(format!("`{}` on {}", fk.name, fk.table));
            }
        }
    }
    out
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
    let first = *dropped.first()?;
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
    let cascades = crate::parse::objects::cascades(&stmt.text);
    let dependents = ctx
        .schema
        .map(|schema| dependent_foreign_keys(schema, name, &dropped))
        .unwrap_or_default();
    if !dependents.is_empty() && !cascades {
        // PostgreSQL refuses: the foreign keys depend on the key's unique index.
        return Some(
            Risk::new(format!(
                "Dropping constraint `{first}` of {name} fails on the copy's schema: foreign \
                 key{} {} depend{} on it, and PostgreSQL refuses without CASCADE (\"cannot drop \
                 constraint ... because other objects depend on it\"); drop or move them first",
                if dependents.len() == 1 { "" } else { "s" },
                dependents.join(", "),
                if dependents.len() == 1 { "s" } else { "" },
            ))
            .on_table(name)
            .with_severity(Severity::Error)
            .with_lock(LockMode::AccessExclusive)
            .with_instead(format!(
                "Drop the foreign keys that reference `{first}` first, each with its own \
                 decision ({}), then `ALTER TABLE {} DROP CONSTRAINT {};`; never CASCADE, which \
                 drops them without a word.",
                dependents.join(", "),
                instead::table(name),
                instead::name(first)
            )),
        );
    }
    let cascade = match (cascades, dependents.is_empty()) {
        (true, false) => format!(
            "; CASCADE also drops the foreign keys {} without a word",
            dependents.join(", ")
        ),
        (true, true) => "; CASCADE also drops the foreign keys that reference it".to_string(),
        _ => String::new(),
    };
    // Written the way the user writes the names (quoted only where PostgreSQL needs it).
    let (t, c) = (instead::table(name), instead::name(first));
    let (t_lit, c_lit) = (quote::literal(&t), quote::literal(first));
    let instead = format!(
        "Make sure no running code relies on `{c}` of {t} (ON CONFLICT targets, code that \
         catches its violation, cascading deletes, replication) and deploy that first. Keep its \
         definition for the rollback: `SELECT pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = {t_lit}::regclass AND conname = {c_lit};`. Then drop it in its own \
         migration: `ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {c};` with `-- migsafe:allow \
         drop-constraint reason: <why>`. To change its definition instead, drop and re-add it \
         in one statement: `ALTER TABLE {t} DROP CONSTRAINT {c}, ADD CONSTRAINT {c} <new \
         definition> NOT VALID;` and `VALIDATE CONSTRAINT {c}` in a later migration."
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
    fn the_instead_keeps_the_users_quoting() {
        let found = check(
            &RULE,
            "ALTER TABLE \"Invoices\" DROP CONSTRAINT \"Invoices_Number_key\";",
        );
        assert!(
            found[0].instead.contains(
                "ALTER TABLE \"Invoices\" DROP CONSTRAINT IF EXISTS \"Invoices_Number_key\";"
            ) && found[0]
                .instead
                .contains("conrelid = '\"Invoices\"'::regclass"),
            "{}",
            found[0].instead
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
    fn on_the_copy_a_key_that_foreign_keys_depend_on_fails_without_cascade() {
        use crate::evidence::catalog::ConstraintType::{ForeignKey, PrimaryKey};
        use crate::model::Severity;
        use crate::rules::test_support::{catalog_risks, constraint, snapshot, table};
        let copy = || {
            snapshot(
                vec![
                    table("customers", 1000, &[("id", "bigint")]),
                    table(
                        "orders",
                        5000,
                        &[("id", "bigint"), ("customer_id", "bigint")],
                    ),
                ],
                vec![],
                vec![
                    constraint("customers", "customers_pk", PrimaryKey, &["id"], None),
                    constraint(
                        "orders",
                        "orders_customer_ref",
                        ForeignKey,
                        &["customer_id"],
                        Some(("customers", &["id"])),
                    ),
                ],
            )
        };
        let plain = catalog_risks(
            &RULE,
            copy(),
            "ALTER TABLE customers DROP CONSTRAINT customers_pk;",
        );
        assert_eq!(plain.len(), 1, "{plain:?}");
        assert_eq!(plain[0].severity, Some(Severity::Error));
        assert!(
            plain[0]
                .message
                .contains("`orders_customer_ref` on public.orders"),
            "{}",
            plain[0].message
        );
        let cascade = catalog_risks(
            &RULE,
            copy(),
            "ALTER TABLE customers DROP CONSTRAINT customers_pk CASCADE;",
        );
        assert_eq!(cascade[0].severity, None);
        assert!(
            cascade[0].message.contains("(a primary key")
                && cascade[0]
                    .message
                    .contains("drops the foreign keys `orders_customer_ref`"),
            "{}",
            cascade[0].message
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
