//! Pieces of the *instead* text that rules build from the statement (issue #12): names written
//! the way the user writes them, PostgreSQL's own names for derived objects, the lock timeout
//! and the batched loop with the configured sizes. The rule files own their recipes; this file
//! owns only the pieces several recipes share, so the same step reads the same everywhere.

use crate::config::Settings;
use crate::model::{Layout, QualifiedName};
use crate::quote;

/// `schema.table` or `table`, quoted only where PostgreSQL needs it.
pub fn table(t: &QualifiedName) -> String {
    quote::qualified(t.schema.as_deref(), &t.name)
}

/// A column, index or constraint name, quoted only where PostgreSQL needs it.
pub fn name(n: &str) -> String {
    quote::name(n)
}

/// `schema.name` for an object in a named schema.
pub fn qualified_name(schema: &str, object: &str) -> String {
    quote::qualified(Some(schema), object)
}

/// The expression of `GENERATED ALWAYS AS (<expr>) STORED` in a statement's text, with its
/// parentheses (the model keeps only that the column is generated).
pub fn generated_expression(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("generated always as")? + "generated always as".len();
    let rest = text.get(at..)?;
    let open = rest.find('(')?;
    if !rest.get(..open)?.trim().is_empty() {
        return None;
    }
    let mut depth = 0usize;
    for (i, ch) in rest.char_indices().skip_while(|(i, _)| *i < open) {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return rest.get(open..=i).map(str::to_string);
                }
            }
            _ => {}
        }
    }
    None
}

/// `a, b` for a column list.
pub fn columns(cols: &[String]) -> String {
    cols.iter().map(|c| name(c)).collect::<Vec<_>>().join(", ")
}

/// The name PostgreSQL itself gives an index or constraint it names (`<table>_<cols>_<suffix>`,
/// cut to 63 bytes, NAMEDATALEN - 1), so the recipe's object is the one a plain statement
/// would have made.
pub fn derived(table: &str, cols: &[String], suffix: &str) -> String {
    let mut base = table.to_string();
    for c in cols {
        base.push('_');
        base.push_str(c);
    }
    let room = 63usize.saturating_sub(suffix.len() + 1);
    if base.len() > room {
        let mut cut = room;
        while !base.is_char_boundary(cut) {
            cut -= 1;
        }
        base.truncate(cut);
    }
    format!("{base}_{suffix}")
}

/// The `lock_timeout` to recommend: `[execution] lock_budget`, the longest a blocking lock may
/// be held according to the project's config, which is also the longest a migration queued
/// behind a lock should let everyone else queue behind it (notes/static.md).
pub fn lock_timeout(settings: &Settings) -> String {
    let ms = settings.execution.lock_budget.as_millis();
    if ms.is_multiple_of(1000) && ms > 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `SET lock_timeout = '2s';` with the configured value.
pub fn set_lock_timeout(settings: &Settings) -> String {
    format!("SET lock_timeout = '{}';", lock_timeout(settings))
}

/// How this migration's runner is told not to wrap it in a transaction, for the layout
/// migsafe detected (src/load: each framework's own marker); `None` when the layout has none
/// migsafe knows, and the rule keeps its list of every framework's marker.
pub fn no_transaction(layout: Layout) -> Option<&'static str> {
    Some(match layout {
        Layout::Plain | Layout::Sqlx => "`-- no-transaction` as the file's first line",
        Layout::Goose => "`-- +goose NO TRANSACTION` at the top of the file",
        Layout::Dbmate => "`-- migrate:up transaction:false`",
        Layout::Flyway => "`-- flyway:executeInTransaction=false` in the script",
        Layout::Atlas => "`-- atlas:txmode none` in the file's header",
        Layout::Popx => "an `.autocommit.up.sql` file name",
        Layout::Diesel => {
            "`run_in_transaction = false` in the migration's metadata.toml, with the statement \
             alone in up.sql (diesel sends the file as one query)"
        }
        Layout::GolangMigrate => {
            "a migration file of its own holding only this statement (golang-migrate sends a \
             file as one query, which PostgreSQL runs as one implicit transaction)"
        }
        Layout::Liquibase => "`runInTransaction:false` on its `--changeset` line",
        Layout::Alembic => "`with op.get_context().autocommit_block():` around it",
        Layout::Django => "`atomic = False` on the Migration class",
        _ => return None,
    })
}

/// `in a migration that does not run inside a transaction (<marker>)`.
pub fn outside_transaction(layout: Layout) -> String {
    match no_transaction(layout) {
        Some(marker) => format!("in a migration without a transaction ({marker})"),
        None => "in a migration that does not run inside a transaction".to_string(),
    }
}

/// The statement on one line, cut after `max` characters (the finding shows it whole).
pub fn statement_head(text: &str, max: usize) -> String {
    let one: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .to_string();
    if one.chars().count() <= max {
        format!("{one};")
    } else {
        format!(
            "{} …;",
            one.chars().take(max).collect::<String>().trim_end()
        )
    }
}

/// The column's type on the copy, or a placeholder that says where to look.
pub fn column_type(ctx: &super::Context, table: &QualifiedName, column: &str) -> String {
    ctx.schema
        .and_then(|s| s.column(table, column))
        .map(|c| c.data_type.clone())
        .unwrap_or_else(|| format!("<type of {}>", name(column)))
}

/// Byte offset of the first `keyword` (case-insensitive, a whole word) outside parentheses,
/// quotes and identifiers in double quotes: where `SET` or `WHERE` of a DML statement starts.
fn top_level(text: &str, keyword: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut quote) = (0usize, None::<u8>);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                _ if depth == 0 && i >= from => {
                    let boundary_before = i == 0 || !is_word(bytes[i - 1]);
                    let end = i + keyword.len();
                    if boundary_before
                        && text
                            .get(i..end)
                            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
                        && bytes.get(end).is_none_or(|b| !is_word(*b))
                    {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.'
}

/// The `SET` list and `WHERE` condition of an `UPDATE`, as written; `None` when the statement
/// has more than that (`FROM`, `RETURNING`, a CTE), whose batched form migsafe cannot write.
pub fn update_parts(text: &str) -> Option<(String, Option<String>)> {
    let text = text.trim().trim_end_matches(';').trim_end();
    if !text.get(..6)?.eq_ignore_ascii_case("update") {
        return None;
    }
    let set = top_level(text, "set", 0)?;
    if ["from", "returning"]
        .iter()
        .any(|k| top_level(text, k, set).is_some())
    {
        return None;
    }
    match top_level(text, "where", set) {
        Some(w) => Some((
            text.get(set + 3..w)?.trim().to_string(),
            Some(text.get(w + 5..)?.trim().to_string()),
        )),
        None => Some((text.get(set + 3..)?.trim().to_string(), None)),
    }
}

/// The `WHERE` condition of a `DELETE`, as written; `None` with `USING`/`RETURNING` or without
/// a condition.
pub fn delete_condition(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches(';').trim_end();
    if !text.get(..6)?.eq_ignore_ascii_case("delete") {
        return None;
    }
    if ["using", "returning"]
        .iter()
        .any(|k| top_level(text, k, 0).is_some())
    {
        return None;
    }
    let w = top_level(text, "where", 0)?;
    Some(text.get(w + 5..)?.trim().to_string())
}

/// For `col = <constant>` alone, the rows it has not reached yet (`col IS DISTINCT FROM
/// <constant>`), so a batched loop ends; `None` for anything else.
pub fn not_yet_set(set: &str) -> Option<String> {
    let (column, value) = set.split_once('=')?;
    let (column, value) = (column.trim(), value.trim());
    let plain_column = !column.is_empty()
        && column
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '"');
    let constant = value.starts_with('\'') && value.ends_with('\'') && value.len() >= 2
        || value.parse::<f64>().is_ok()
        || ["true", "false", "null"].contains(&value.to_ascii_lowercase().as_str());
    let single = top_level(set, ",", 0).is_none();
    (plain_column && constant && single).then(|| format!("{column} IS DISTINCT FROM {value}"))
}

/// The batch size from `[thresholds] batch_rows`.
pub fn batch(settings: &Settings) -> i64 {
    settings.thresholds.batch_rows.max(1)
}

/// One batch of an UPDATE that changes at most `[thresholds] batch_rows` rows, to repeat in
/// separate transactions until it updates none. `ctid` works on any table, with or without a
/// primary key migsafe could name.
pub fn batched_update(table: &str, set: &str, pending: &str, settings: &Settings) -> String {
    format!(
        "`UPDATE {table} SET {set} WHERE ctid IN (SELECT ctid FROM {table} WHERE {pending} \
         LIMIT {});`",
        batch(settings)
    )
}

/// One batch of a DELETE, like [`batched_update`].
pub fn batched_delete(table: &str, condition: &str, settings: &Settings) -> String {
    format!(
        "`DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE {condition} LIMIT \
         {});`",
        batch(settings)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn derived_names_follow_postgresql_and_fit_namedatalen() {
        assert_eq!(
            derived("users", &["email".into()], "key"),
            "users_email_key"
        );
        let long = "a".repeat(70);
        let n = derived(&long, &["b".into()], "idx");
        assert_eq!(n.len(), 63);
        assert!(n.ends_with("_idx"));
    }

    #[test]
    fn dml_parts_are_found_outside_parentheses_and_quotes() {
        assert_eq!(
            update_parts(
                "UPDATE rental SET note = 'where set' WHERE id IN (SELECT id FROM x WHERE y);"
            ),
            Some((
                "note = 'where set'".into(),
                Some("id IN (SELECT id FROM x WHERE y)".into())
            ))
        );
        assert_eq!(
            update_parts("update t set a = b.x from b where t.id = b.id"),
            None
        );
        assert_eq!(
            delete_condition("DELETE FROM rental WHERE return_date < '2020-01-01';"),
            Some("return_date < '2020-01-01'".into())
        );
        assert_eq!(
            not_yet_set("status = 'archived'"),
            Some("status IS DISTINCT FROM 'archived'".into())
        );
        assert_eq!(not_yet_set("n = n + 1"), None);
    }

    #[test]
    fn lock_timeout_follows_the_lock_budget() {
        let mut s = Settings::default();
        assert_eq!(set_lock_timeout(&s), "SET lock_timeout = '2s';");
        s.execution.lock_budget = Duration::from_millis(750);
        assert_eq!(lock_timeout(&s), "750ms");
    }
}
