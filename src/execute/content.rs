//! The data half of the rollback round trip (issue #11, item 2): a fingerprint of the rows of
//! every table a migration touches, taken before up and after its rollback, so that a down
//! migration that restores the schema but not the data (a re-added column comes back empty
//! and at the end of the table) is reported as losing data, never as "restores".
//!
//! Decisions:
//! - Per table: the row count, the column order, and per column the number of non-NULL
//!   values and an order-independent checksum of them (the sum of `hashtextextended` of each
//!   value's text). Order-independent, so that no key is needed and a rollback that only
//!   moves rows physically (a rewrite) compares equal; a lost, NULLed or changed value
//!   changes the column's sum.
//! - Only tables that existed before up and that the up migration locks (the tables its
//!   statements act on) are fingerprinted: one sequential read each, on the disposable copy.
//! - Columns are compared by name, so that a column re-added at the end is judged on its
//!   values; the changed position is a difference of its own (an application that reads
//!   `SELECT *` or `COPY` without a column list sees it).

use crate::model::{ParsedMigration, QualifiedName};
use anyhow::{Context as _, Result};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row as _};

/// What one table held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableContent {
    pub table: String,
    pub rows: i64,
    /// (column, non-NULL values, checksum) in attnum order.
    pub columns: Vec<(String, i64, String)>,
    /// Why the rows could not be read (the copy's statement_timeout on a large table): the
    /// table's data is then not compared, and the verdict says so.
    pub unreadable: Option<String>,
}

/// Whether the up part changes rows on purpose (a backfill, a data fix).
pub fn changes_rows(migration: &ParsedMigration) -> bool {
    use crate::model::StatementKind;
    migration.statements.iter().any(|s| {
        matches!(
            s.kind,
            StatementKind::Insert { .. }
                | StatementKind::Update { .. }
                | StatementKind::Delete { .. }
        )
    })
}

/// The existing tables the migration's up statements act on.
pub fn touched(migration: &ParsedMigration) -> Vec<QualifiedName> {
    let mut out: Vec<QualifiedName> = Vec::new();
    for stmt in &migration.statements {
        for lock in crate::locks::table_locks(&stmt.kind) {
            if !out.iter().any(|t| t.matches(&lock.table)) {
                out.push(lock.table);
            }
        }
    }
    out
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn regclass(name: &QualifiedName) -> String {
    match &name.schema {
        Some(s) => format!("{}.{}", quote(s), quote(&name.name)),
        None => quote(&name.name),
    }
}

/// Fingerprints the tables that exist (others are skipped: up creates them).
pub async fn fingerprint(
    conn: &mut PgConnection,
    tables: &[QualifiedName],
) -> Result<Vec<TableContent>> {
    let rels: Vec<String> = tables.iter().map(regclass).collect();
    fingerprint_shown(conn, &rels).await
}

/// Fingerprints tables named as `regclass` text (what [`TableContent::table`] holds).
pub async fn fingerprint_shown(
    conn: &mut PgConnection,
    rels: &[String],
) -> Result<Vec<TableContent>> {
    let mut out = Vec::new();
    for rel in rels {
        let name = rel;
        let found: Option<(String, String)> = sqlx::query_as(
            "SELECT c.oid::regclass::text, c.relkind::text FROM pg_class c \
             WHERE c.oid = to_regclass($1)",
        )
        .bind(rel)
        .fetch_optional(&mut *conn)
        .await
        .with_context(|| format!("Failed to look up {name} on the copy"))?;
        let Some((shown, relkind)) = found else {
            continue;
        };
        if !matches!(relkind.as_str(), "r" | "p" | "m") {
            continue;
        }
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        )
        .bind(rel)
        .fetch_all(&mut *conn)
        .await?;
        let mut select = vec!["count(*)::bigint".to_string()];
        for c in &columns {
            let q = quote(c);
            select.push(format!("count({q})::bigint"));
            select.push(format!(
                "coalesce(sum(hashtextextended({q}::text, 0)::numeric), 0)::text"
            ));
        }
        let sql = format!("SELECT {} FROM {shown}", select.join(", "));
        let read = sqlx::query(AssertSqlSafe(sql))
            .persistent(false)
            .fetch_one(&mut *conn)
            .await;
        let row = match read {
            Ok(row) => row,
            // A server error (the statement_timeout on a huge table) leaves the session
            // usable: the data of this table is not compared, and that is said.
            Err(sqlx::Error::Database(e)) => {
                out.push(TableContent {
                    table: shown,
                    rows: 0,
                    columns: Vec::new(),
                    unreadable: Some(e.message().to_string()),
                });
                continue;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("Failed to read the rows of {shown} on the copy")))
            }
        };
        let rows: i64 = row.try_get(0)?;
        let mut cols = Vec::with_capacity(columns.len());
        for (i, c) in columns.into_iter().enumerate() {
            let values: i64 = row.try_get(1 + 2 * i)?;
            let sum: String = row.try_get(2 + 2 * i)?;
            cols.push((c, values, sum));
        }
        out.push(TableContent {
            table: shown,
            rows,
            columns: cols,
            unreadable: None,
        });
    }
    Ok(out)
}

/// How the data after the rollback differs from the data before up; empty when every
/// fingerprinted table holds the same rows in the same columns.
///
/// Only losses count: fewer rows, fewer non-NULL values, a column gone, and (when the up
/// migration is pure DDL) values changed in place. A backfill that fills NULLs, or any DML
/// the up migration runs on purpose, is not undone by a schema rollback and is not a loss of
/// what was there (`changes_rows`: the up part has INSERT, UPDATE or DELETE).
pub fn compare(before: &[TableContent], after: &[TableContent], changes_rows: bool) -> Vec<String> {
    let mut out = Vec::new();
    for b in before {
        let unreadable = b.unreadable.as_ref().or_else(|| {
            after
                .iter()
                .find(|a| a.table == b.table)
                .and_then(|a| a.unreadable.as_ref())
        });
        if unreadable.is_some() {
            continue;
        }
        let Some(a) = after.iter().find(|a| a.table == b.table) else {
            out.push(format!(
                "{}: the table with its {} rows is gone",
                b.table, b.rows
            ));
            continue;
        };
        if a.rows < b.rows {
            out.push(format!(
                "{}: {} rows before up, {} after the rollback",
                b.table, b.rows, a.rows
            ));
        }
        for (name, values, sum) in &b.columns {
            match a.columns.iter().find(|(n, _, _)| n == name) {
                None => out.push(format!(
                    "{}.{name}: the column is gone with its {values} values",
                    b.table
                )),
                Some((_, v, _)) if v < values => out.push(format!(
                    "{}.{name}: {v} of its {values} values are back",
                    b.table
                )),
                Some((_, v, s)) if v == values && s != sum && !changes_rows => out.push(format!(
                    "{}.{name}: its values differ from those before up",
                    b.table
                )),
                Some(_) => {}
            }
        }
        let order = |t: &TableContent| -> Vec<String> {
            t.columns.iter().map(|(n, _, _)| n.clone()).collect()
        };
        let (ob, oa) = (order(b), order(a));
        let common_b: Vec<&String> = ob.iter().filter(|n| oa.contains(n)).collect();
        let common_a: Vec<&String> = oa.iter().filter(|n| ob.contains(n)).collect();
        if common_b != common_a {
            out.push(format!(
                "{}: the column order changed from ({}) to ({})",
                b.table,
                ob.join(", "),
                oa.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: i64, columns: &[(&str, i64, &str)]) -> TableContent {
        TableContent {
            table: "public.customer".into(),
            rows,
            columns: columns
                .iter()
                .map(|(n, v, s)| (n.to_string(), *v, s.to_string()))
                .collect(),
            unreadable: None,
        }
    }

    #[test]
    fn a_readded_column_without_its_values_and_at_the_end_is_data_lost() {
        let before = [table(
            12,
            &[("id", 12, "1"), ("email", 12, "2"), ("name", 12, "3")],
        )];
        let after = [table(
            12,
            &[("id", 12, "1"), ("name", 12, "3"), ("email", 0, "0")],
        )];
        let found = compare(&before, &after, false);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("email: 0 of its 12 values are back"));
        assert!(found[1].contains("column order changed"));
    }

    #[test]
    fn the_same_rows_compare_equal_and_unread_ones_are_not_judged() {
        let t = [table(3, &[("id", 3, "9")])];
        assert!(compare(&t, &t, false).is_empty());
        let filled = [table(3, &[("id", 3, "9"), ("at", 3, "7")])];
        let sparse = [table(3, &[("id", 3, "9"), ("at", 1, "2")])];
        assert!(
            compare(&sparse, &filled, true).is_empty(),
            "a backfill is no loss"
        );
        assert_eq!(compare(&filled, &sparse, true).len(), 1);
        let unread = [TableContent {
            unreadable: Some("canceling statement due to statement timeout".into()),
            ..table(0, &[])
        }];
        assert!(compare(&t, &unread, false).is_empty());
    }
}
