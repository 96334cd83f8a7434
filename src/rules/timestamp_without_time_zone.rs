//! `timestamp-without-time-zone`: a column declared `timestamp` (without time zone).
//!
//! Also home of the small column-type helpers the other type rules (char-column,
//! json-column, int-primary-key) share: which columns a statement declares or retypes, and a
//! normalised spelling of their types.

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M031",
    name: "timestamp-without-time-zone",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "Flags columns declared `timestamp`, `timestamp(n)` or `timestamp without time zone` in \
           `CREATE TABLE`, `ADD COLUMN` or `ALTER COLUMN ... TYPE`.",
    why: "`timestamp` stores a wall-clock reading with no zone: PostgreSQL keeps whatever the \
          writer sent and never converts it. The same instant written by sessions with different \
          `TimeZone` settings (an app server in UTC, a cron job in Europe/Berlin, a developer's \
          psql) is stored as different values, comparisons with `now()` silently cast through the \
          reader's zone, and local times around DST changes are ambiguous. Fixing it later is a \
          type change on a full table. (PostgreSQL docs: 8.5.1.3 \"Time Stamps\"; PostgreSQL wiki \
          \"Don't Do This: Don't use timestamp (without time zone)\".)",
    instead: "Declare the column `timestamptz` (`timestamp with time zone`). It stores an absolute \
              instant (internally UTC) and converts to the session's zone on output, so every \
              writer and reader agrees. Keep `timestamp` only for true calendar values that must \
              not shift (e.g. \"opening time 09:00 local\"), and say so in a column comment.",
    rollback: "For a new column: drop it, or change its type before the table holds data: \
               `ALTER TABLE <table> ALTER COLUMN <column> TYPE timestamptz USING <column> AT TIME ZONE 'UTC';`. \
               On a filled table that type change rewrites it under ACCESS EXCLUSIVE unless the \
               session `TimeZone` is UTC (PostgreSQL 12+ then skips the rewrite).",
    bad: include_str!("../../fixtures/rules/timestamp-without-time-zone/bad.sql"),
    good: include_str!("../../fixtures/rules/timestamp-without-time-zone/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let risk = type_risk(stmt, is_timestamp_without_time_zone, |subject| {
        format!(
            "{subject} `timestamp` without time zone: the stored values depend on the writer's \
             TimeZone setting; use `timestamptz`"
        )
    })?;
    let declared = declare_as(stmt, is_timestamp_without_time_zone, |t| {
        match t.strip_prefix("timestamp").map(strip_precision) {
            Some(Some(p)) => format!("timestamptz({p})"),
            _ => "timestamptz".to_string(),
        }
    });
    Some(risk.with_instead(format!(
        "Declare {declared}. `timestamptz` stores an absolute instant (internally UTC) and \
         converts to the session's zone on output, so every writer and reader agrees. Keep \
         `timestamp` only for true calendar values that must not shift (e.g. \"opening time \
         09:00 local\"), and say so in a column comment."
    )))
}

/// The `n` of a leading `(n)`.
fn strip_precision(rest: &str) -> Option<&str> {
    let rest = rest.trim_start().strip_prefix('(')?;
    rest.get(..rest.find(')')?).map(str::trim)
}

/// `` `return_date varchar(2)` `` for every column of `stmt` whose type is `bad`, the type
/// `better` gives it: the short form once the columns have been named.
pub(super) fn columns_as(
    stmt: &Statement,
    bad: fn(&str) -> bool,
    better: impl Fn(&str) -> String,
) -> String {
    typed_columns(stmt)
        .iter()
        .filter(|c| bad(&c.data_type))
        .map(|c| format!("`{} {}`", instead::name(c.column), better(&c.data_type)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `rental.return_date timestamptz` `` for every column of `stmt` whose type is `bad`,
/// with the type `better` gives it (for the rules on column types, issue #12).
pub(super) fn declare_as(
    stmt: &Statement,
    bad: fn(&str) -> bool,
    better: impl Fn(&str) -> String,
) -> String {
    typed_columns(stmt)
        .iter()
        .filter(|c| bad(&c.data_type))
        .map(|c| {
            format!(
                "`{}` of {} as `{} {}`",
                c.column,
                instead::table(c.table),
                instead::name(c.column),
                better(&c.data_type)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a normalised type is `timestamp[(n)] [without time zone]`.
fn is_timestamp_without_time_zone(data_type: &str) -> bool {
    let Some(rest) = data_type.strip_prefix("timestamp") else {
        return false;
    };
    let rest = strip_length(rest);
    rest.is_empty() || rest == "without time zone"
}

/// Strips a leading `(n)` (and surrounding spaces) from what follows a type's base name.
pub(super) fn strip_length(rest: &str) -> &str {
    let rest = rest.trim_start();
    match rest
        .strip_prefix('(')
        .and_then(|r| r.find(')').map(|i| &r[i + 1..]))
    {
        Some(after) => after.trim(),
        None => rest.trim(),
    }
}

/// A column a statement declares or gives a new type.
pub(super) struct TypedColumn<'a> {
    pub table: &'a QualifiedName,
    pub column: &'a str,
    /// Normalised by [`normalize_type`].
    pub data_type: String,
}

/// Lower-case, single-spaced, without a `pg_catalog.` prefix or array brackets, so that
/// `TIMESTAMP[]`, `pg_catalog.json` and `json` compare equal: an array of a problematic type
/// has the same problem.
pub(super) fn normalize_type(data_type: &str) -> String {
    let lower = data_type.to_ascii_lowercase();
    let joined = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t = joined.as_str();
    t = t.strip_prefix("pg_catalog.").unwrap_or(t);
    while let Some(base) = t.strip_suffix("[]") {
        t = base.trim_end();
    }
    t.to_string()
}

/// Columns declared by `CREATE TABLE` (not temporary: its data does not outlive the session)
/// and `ADD COLUMN`, and columns retyped by `ALTER COLUMN ... TYPE`.
pub(super) fn typed_columns(stmt: &Statement) -> Vec<TypedColumn<'_>> {
    match &stmt.kind {
        StatementKind::CreateTable {
            name,
            columns,
            temporary: false,
            ..
        } => columns
            .iter()
            .map(|c| TypedColumn {
                table: name,
                column: &c.name,
                data_type: normalize_type(&c.data_type),
            })
            .collect(),
        StatementKind::AlterTable { name, actions, .. } => actions
            .iter()
            .filter_map(|a| match a {
                AlterAction::AddColumn { column, .. } => Some(TypedColumn {
                    table: name,
                    column: &column.name,
                    data_type: normalize_type(&column.data_type),
                }),
                AlterAction::AlterColumnType {
                    column, data_type, ..
                } => Some(TypedColumn {
                    table: name,
                    column,
                    data_type: normalize_type(data_type),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One risk naming every column of `stmt` whose type matches `bad`. `message` gets the subject
/// with its verb: "Column `a` of t is" or "Columns `a`, `b` of t are".
pub(super) fn type_risk(
    stmt: &Statement,
    bad: fn(&str) -> bool,
    message: impl Fn(&str) -> String,
) -> Option<Risk> {
    let columns = typed_columns(stmt);
    let hits: Vec<&TypedColumn> = columns.iter().filter(|c| bad(&c.data_type)).collect();
    let first = hits.first()?;
    let names = hits
        .iter()
        .map(|c| format!("`{}`", c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let subject = if hits.len() == 1 {
        format!("Column {names} of {} is", first.table)
    } else {
        format!("Columns {names} of {} are", first.table)
    };
    Some(Risk::new(message(&subject)).on_table(first.table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_column_and_precision() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ADD COLUMN returned_at timestamp(3);",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`returned_at` of rental as `returned_at timestamptz(3)`"),
            "{instead}"
        );
    }

    #[test]
    fn recognises_every_spelling_of_timestamp_without_zone() {
        for t in [
            "timestamp",
            "timestamp(3)",
            "timestamp (6) without time zone",
            "timestamp without time zone",
            "TIMESTAMP[]",
        ] {
            assert!(is_timestamp_without_time_zone(&normalize_type(t)), "{t}");
        }
        for t in [
            "timestamptz",
            "timestamp with time zone",
            "timestamp(3) with time zone",
            "date",
        ] {
            assert!(!is_timestamp_without_time_zone(&normalize_type(t)), "{t}");
        }
    }

    #[test]
    fn flags_timestamp_columns_in_create_add_and_retype() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp NOT NULL);"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE events ADD COLUMN seen_at timestamp(3) without time zone;"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE events ALTER COLUMN seen_at TYPE timestamp;"
            ),
            1
        );
    }

    #[test]
    fn names_the_columns_once_per_statement() {
        let found = crate::rules::test_support::check(
            &RULE,
            "CREATE TABLE events (created_at timestamp, updated_at timestamp);",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`created_at`"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("`updated_at`"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("events"), "{}", found[0].message);
    }

    #[test]
    fn ignores_timestamptz_and_temporary_tables() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE events (happened_at timestamptz, seen_at timestamp with time zone);"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "ALTER TABLE events ALTER COLUMN seen_at TYPE timestamptz USING seen_at AT TIME ZONE 'UTC';"),
            0
        );
        assert_eq!(
            count(&RULE, "CREATE TEMPORARY TABLE scratch (t timestamp);"),
            0
        );
    }
}
