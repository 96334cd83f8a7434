//! `int-primary-key`: a primary key, identity or serial column of a 32- or 16-bit integer type.

use super::timestamp_without_time_zone::normalize_type;
use super::{instead, Check, Context, Risk, Rule};
use crate::model::{
    AlterAction, ColumnDef, ConstraintKind, Evidence, QualifiedName, Severity, Statement,
    StatementKind,
};

pub const RULE: Rule = Rule {
    code: "M030",
    name: "int-primary-key",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags primary keys, identity columns and serial columns of type `integer`/`int`/`int4`/\
           `serial`/`serial4` or `smallint`/`int2`/`smallserial`, in `CREATE TABLE` and \
           `ADD COLUMN` (and `ADD PRIMARY KEY`/`ADD GENERATED ... AS IDENTITY` on a column \
           declared earlier in the migration).",
    why: "A 4-byte key runs out at 2,147,483,647 (a 2-byte one at 32,767). When the sequence \
          gets there every INSERT fails (\"integer out of range\" or \"nextval: reached maximum \
          value of sequence\") and the table accepts no new rows until the key is widened. \
          Widening it then is `ALTER COLUMN ... TYPE bigint`: a full rewrite of the table and \
          all its indexes under an ACCESS EXCLUSIVE lock, repeated for every foreign key column \
          that references it, on what is by then a very large table. (PostgreSQL docs: 8.1 \
          \"Numeric Types\", 8.1.4 \"Serial Types\".)",
    instead: "Use `bigint` from the start: `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` \
              (or `bigserial`), and make the foreign key columns that reference it `bigint` too. \
              The extra 4 bytes per row are often absorbed by alignment padding. For a table \
              that already exists, migrate online: add a `bigint` column, fill it by trigger and \
              batched backfill, build a unique index CONCURRENTLY, then swap the primary key in \
              one short transaction.",
    rollback: "For a new table or column, drop it. Changing the type later is the expensive \
               rewrite this rule warns about, so fix the type before the table is in use: \
               `ALTER TABLE <table> ALTER COLUMN <column> TYPE bigint;` (and \
               `ALTER SEQUENCE <seq> AS bigint;` for a serial or identity column).",
    bad: include_str!("../../fixtures/rules/int-primary-key/bad.sql"),
    good: include_str!("../../fixtures/rules/int-primary-key/good.sql"),
    check: Check::Statement(check),
};

/// The largest key a narrow integer type can hold, if the type is narrow.
fn narrow_int_limit(data_type: &str) -> Option<&'static str> {
    match normalize_type(data_type).as_str() {
        "integer" | "int" | "int4" | "serial" | "serial4" => Some("2,147,483,647"),
        "smallint" | "int2" | "smallserial" | "serial2" => Some("32,767"),
        _ => None,
    }
}

fn is_serial(data_type: &str) -> bool {
    matches!(
        normalize_type(data_type).as_str(),
        "serial" | "serial4" | "smallserial" | "serial2"
    )
}

/// A column that generates or is the table's key: the values keep growing.
fn is_key_column(c: &ColumnDef) -> bool {
    c.primary_key || c.identity || is_serial(&c.data_type)
}

/// A narrow key column found in the statement: (column, type as written, limit).
type Hit = (String, String, &'static str);

fn hit(column: &str, data_type: &str) -> Option<Hit> {
    narrow_int_limit(data_type).map(|limit| (column.to_string(), data_type.to_string(), limit))
}

/// The type of `column` of `table` as declared earlier in this migration, if it was.
fn declared_earlier(ctx: &Context, table: &QualifiedName, column: &str) -> Option<String> {
    ctx.earlier().iter().rev().find_map(|s| match &s.kind {
        StatementKind::CreateTable { name, columns, .. } if name.matches(table) => columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.data_type.clone()),
        StatementKind::AlterTable { name, actions, .. } if name.matches(table) => {
            actions.iter().rev().find_map(|a| match a {
                AlterAction::AddColumn { column: c, .. } if c.name == column => {
                    Some(c.data_type.clone())
                }
                AlterAction::AlterColumnType {
                    column: c,
                    data_type,
                    ..
                } if c == column => Some(data_type.clone()),
                _ => None,
            })
        }
        _ => None,
    })
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let mut hits: Vec<Hit> = Vec::new();
    let table = match &stmt.kind {
        StatementKind::CreateTable {
            name,
            columns,
            constraints,
            temporary: false,
            ..
        } => {
            for c in columns.iter().filter(|c| is_key_column(c)) {
                hits.extend(hit(&c.name, &c.data_type));
            }
            // A composite key is made of references to other tables' keys, which are
            // judged where those tables are created.
            for c in constraints {
                if let (ConstraintKind::PrimaryKey, [col]) = (&c.kind, c.columns.as_slice()) {
                    if let Some(def) = columns.iter().find(|d| &d.name == col) {
                        hits.extend(hit(&def.name, &def.data_type));
                    }
                }
            }
            name
        }
        StatementKind::AlterTable { name, actions, .. } => {
            for action in actions {
                match action {
                    AlterAction::AddColumn { column, .. } if is_key_column(column) => {
                        hits.extend(hit(&column.name, &column.data_type));
                    }
                    AlterAction::AddConstraint(c) if c.kind == ConstraintKind::PrimaryKey => {
                        if let [col] = c.columns.as_slice() {
                            if let Some(t) = declared_earlier(ctx, name, col) {
                                hits.extend(hit(col, &t));
                            }
                        }
                    }
                    AlterAction::AddIdentity { column } => {
                        if let Some(t) = declared_earlier(ctx, name, column) {
                            hits.extend(hit(column, &t));
                        }
                    }
                    _ => {}
                }
            }
            name
        }
        _ => return None,
    };
    // `id serial PRIMARY KEY` is both a key column and the primary key: name it once.
    let mut seen = Vec::new();
    hits.retain(|(col, _, _)| {
        let fresh = !seen.contains(col);
        seen.push(col.clone());
        fresh
    });
    let (column, data_type, limit) = hits.first()?;
    let others = if hits.len() > 1 {
        format!(
            " (also {})",
            hits.iter()
                .skip(1)
                .map(|(c, t, _)| format!("`{c}` {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    Some(
        Risk::new(format!(
            "Key column `{column}` of {table} is `{data_type}`{others}: inserts start failing once \
             it reaches {limit}; use `bigint` (e.g. `bigint GENERATED ALWAYS AS IDENTITY`)"
        ))
        .with_instead(instead_for(
            table,
            column,
            data_type,
            matches!(stmt.kind, StatementKind::CreateTable { .. }),
        ))
        .on_table(table),
    )
}

/// `bigint` for the user's key column: in the CREATE TABLE, or (on an existing table) the
/// online swap to a new bigint column.
fn instead_for(table: &QualifiedName, column: &str, data_type: &str, created: bool) -> String {
    let t = instead::table(table);
    let c = instead::name(column);
    let serial = normalize_type(data_type).contains("serial");
    let declared = if serial {
        format!("`{c} bigserial`")
    } else {
        format!("`{c} bigint GENERATED ALWAYS AS IDENTITY`")
    };
    if created {
        return format!(
            "Use `bigint` from the start: declare {declared} in {t} (instead of `{data_type}`), \
             and make the foreign key columns that reference {t}.{c} `bigint` too. The extra 4 \
             bytes per row are often absorbed by alignment padding."
        );
    }
    let fresh = instead::name(&format!("{column}_bigint"));
    let index = instead::name(&instead::derived(
        &table.name,
        &[format!("{column}_bigint")],
        "key",
    ));
    format!(
        "Declare {declared} (not `{data_type}`). If {t} already has rows, migrate online: `ALTER \
         TABLE {t} ADD COLUMN {fresh} bigint;`, fill it by trigger and batched backfill, `CREATE \
         UNIQUE INDEX CONCURRENTLY {index} ON {t} ({fresh});`, then swap the primary key to it in \
         one short transaction, and make the referencing columns `bigint` too."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table_and_key() {
        let found = check(
            &RULE,
            "CREATE TABLE rental (rental_id serial PRIMARY KEY, note text);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("declare `rental_id bigserial` in rental"),
            "{instead}"
        );
        assert!(instead.contains("reference rental.rental_id"), "{instead}");
        let found = check(
            &RULE,
            "CREATE TABLE payment (payment_id integer PRIMARY KEY);",
        );
        assert!(
            found[0]
                .instead
                .contains("`payment_id bigint GENERATED ALWAYS AS IDENTITY`"),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_narrow_inline_primary_keys_and_serials() {
        for sql in [
            "CREATE TABLE customers (id serial PRIMARY KEY, email text);",
            "CREATE TABLE customers (id integer PRIMARY KEY, email text);",
            "CREATE TABLE customers (id int4 NOT NULL PRIMARY KEY);",
            "CREATE TABLE flags (id smallserial PRIMARY KEY, name text);",
            "CREATE TABLE flags (id int2 PRIMARY KEY);",
            "CREATE TABLE customers (id int GENERATED ALWAYS AS IDENTITY, email text);",
            "CREATE TABLE customers (id serial, email text);",
            "ALTER TABLE customers ADD COLUMN id serial PRIMARY KEY;",
        ] {
            assert_eq!(count(&RULE, sql), 1, "{sql}");
        }
    }

    #[test]
    fn flags_table_constraint_on_a_narrow_column() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE customers (id integer NOT NULL, email text, PRIMARY KEY (id));"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE customers (id integer NOT NULL, email text);
                 ALTER TABLE customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);"
            ),
            1
        );
    }

    #[test]
    fn message_names_table_column_and_limit() {
        let found = check(&RULE, "CREATE TABLE customers (id serial PRIMARY KEY);");
        assert_eq!(found.len(), 1);
        let m = &found[0].message;
        assert!(
            m.contains("`id`") && m.contains("customers") && m.contains("2,147,483,647"),
            "{m}"
        );
    }

    #[test]
    fn ignores_bigint_keys_and_plain_int_columns() {
        for sql in [
            "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, age integer);",
            "CREATE TABLE customers (id bigserial PRIMARY KEY);",
            "CREATE TABLE customers (id int8 PRIMARY KEY);",
            "CREATE TABLE customers (id uuid PRIMARY KEY, visits int NOT NULL);",
            "CREATE TABLE memberships (user_id int, group_id int, PRIMARY KEY (user_id, group_id));",
            "ALTER TABLE customers ADD COLUMN visits integer;",
            "CREATE TEMPORARY TABLE scratch (id serial PRIMARY KEY);",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }
}
