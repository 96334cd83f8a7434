//! `add-unique-constraint`: a UNIQUE or PRIMARY KEY constraint added to an existing table by
//! building its index under an exclusive lock.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{
    AlterAction, ColumnDef, ConstraintKind, Evidence, QualifiedName, Severity, Statement,
    StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M011",
    name: "add-unique-constraint",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ADD [CONSTRAINT] UNIQUE (...)` or `PRIMARY KEY (...)` without \
           `USING INDEX`, and `ADD COLUMN ... UNIQUE` / `PRIMARY KEY`, on a table that existed \
           before this migration.",
    why: "The constraint's unique index is built inside the ALTER TABLE, which holds an ACCESS \
          EXCLUSIVE lock for the whole build: every read and write on the table waits. A \
          PRIMARY KEY additionally scans the table to set its columns NOT NULL, unless they \
          already are. If existing rows \
          contain duplicates, the build fails only after all that work. (PostgreSQL docs: ALTER \
          TABLE, \"ADD table_constraint_using_index\".)",
    instead: "Build the index first without blocking, then attach it as the constraint: (1) `CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);` (in a \
              migration without a transaction; if it fails on duplicates, drop the INVALID \
              index, fix the data, retry); (2) `ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX \
              users_email_key;` (brief lock, no scan). For a PRIMARY KEY, first make the \
              columns NOT NULL with the CHECK ... NOT VALID / VALIDATE recipe, then `ADD \
              CONSTRAINT ... PRIMARY KEY USING INDEX ...`. For a new column, add it plainly and \
              follow the same two steps.",
    rollback: "`ALTER TABLE <table> DROP CONSTRAINT IF EXISTS <constraint>;` (also drops the \
               index).",
    bad: include_str!("../../fixtures/rules/add-unique-constraint/bad.sql"),
    good: include_str!("../../fixtures/rules/add-unique-constraint/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let (label, recipe) = actions.iter().find_map(|action| match action {
        AlterAction::AddConstraint(c) if c.using_index.is_none() => {
            let (kind, primary) = match c.kind {
                ConstraintKind::PrimaryKey => ("PRIMARY KEY", true),
                ConstraintKind::Unique => ("UNIQUE constraint", false),
                _ => return None,
            };
            let label = match &c.name {
                Some(n) => format!("{kind} {n} ({})", c.columns.join(", ")),
                None => format!("{kind} ({})", c.columns.join(", ")),
            };
            let derived = if primary {
                format!("{}_pkey", name.name)
            } else {
                instead::derived(&name.name, &c.columns, "key")
            };
            let constraint = c.name.clone().unwrap_or(derived);
            Some((
                label,
                instead_for(name, &constraint, &c.columns, primary, None),
            ))
        }
        AlterAction::AddColumn { column, .. } if column.primary_key || column.unique => {
            let kind = if column.primary_key {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let cols = std::slice::from_ref(&column.name);
            let constraint = if column.primary_key {
                format!("{}_pkey", name.name)
            } else {
                instead::derived(&name.name, cols, "key")
            };
            Some((
                format!("column {} as {kind}", column.name),
                instead_for(name, &constraint, cols, column.primary_key, Some(column)),
            ))
        }
        _ => None,
    })?;
    Some(
        Risk::new(format!(
            "Adding {label} to {name} builds a unique index while holding an ACCESS EXCLUSIVE \
             lock on {name}: reads and writes wait for the whole build; create the index \
             CONCURRENTLY and add the constraint USING INDEX"
        ))
        .with_instead(recipe)
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// Build the unique index CONCURRENTLY under the constraint's own name, then attach it (for a
/// new column: the plain column first; for a primary key: NOT NULL first).
fn instead_for(
    table: &QualifiedName,
    constraint: &str,
    cols: &[String],
    primary: bool,
    column: Option<&ColumnDef>,
) -> String {
    let t = instead::table(table);
    let c = instead::name(constraint);
    let list = instead::columns(cols);
    let first = match column {
        Some(col) => format!(
            "(0) `ALTER TABLE {t} ADD COLUMN {} {};` and fill it; ",
            instead::name(&col.name),
            col.data_type
        ),
        None => String::new(),
    };
    let (kind, not_null) = if primary {
        (
            "PRIMARY KEY",
            format!(
                " Before step 2 make {list} NOT NULL with the CHECK ... NOT VALID / VALIDATE \
                 recipe (see set-not-null), or step 2 scans {t} under its lock."
            ),
        )
    } else {
        ("UNIQUE", String::new())
    };
    format!(
        "Build the index first without blocking, then attach it as the constraint: {first}(1) \
         `CREATE UNIQUE INDEX CONCURRENTLY {c} ON {t} ({list});` (in a migration without a \
         transaction; if it fails on duplicates, `DROP INDEX CONCURRENTLY {c};`, fix the data, \
         retry); (2) `ALTER TABLE {t} ADD CONSTRAINT {c} {kind} USING INDEX {c};` (brief lock, no \
         scan; the index keeps its name).{not_null}"
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_index_and_constraint() {
        let found = check(
            &RULE,
            "ALTER TABLE customer ADD CONSTRAINT customer_email_uniq UNIQUE (email);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains(
                "`CREATE UNIQUE INDEX CONCURRENTLY customer_email_uniq ON customer (email);`"
            ),
            "{instead}"
        );
        assert!(
            instead.contains("`ALTER TABLE customer ADD CONSTRAINT customer_email_uniq UNIQUE USING INDEX customer_email_uniq;`"),
            "{instead}"
        );
        assert!(!instead.contains("users"), "{instead}");
        // Unnamed: the index gets the name PostgreSQL would give the constraint.
        let found = check(&RULE, "ALTER TABLE rental ADD PRIMARY KEY (rental_id);");
        let instead = &found[0].instead;
        assert!(
            instead.contains("CREATE UNIQUE INDEX CONCURRENTLY rental_pkey ON rental (rental_id);"),
            "{instead}"
        );
        assert!(
            instead.contains("PRIMARY KEY USING INDEX rental_pkey;"),
            "{instead}"
        );
    }

    #[test]
    fn flags_unique_and_primary_key_constraints() {
        let findings = check(
            &RULE,
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        );
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("users_email_key"));
        assert_eq!(findings[0].table.as_deref(), Some("users"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert_eq!(count(&RULE, "alter table users add primary key (id);"), 1);
        assert_eq!(
            count(&RULE, "ALTER TABLE users ADD COLUMN handle text UNIQUE;"),
            1
        );
    }

    #[test]
    fn allows_using_index_and_new_tables() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_id_idx;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, owner bigint);\n\
                 ALTER TABLE carts ADD CONSTRAINT carts_owner_key UNIQUE (owner);"
            ),
            0
        );
        assert_eq!(count(&RULE, "ALTER TABLE users ADD COLUMN handle text;"), 0);
    }
}
