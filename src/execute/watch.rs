//! Watched queries (issue 5 item 6): the application's important queries, planned on the
//! clone before and after the pending migrations, and the plans that got worse.
//!
//! Queries come from a `.sql` file (statements separated by `;`, each optionally preceded by
//! a `-- name: <name>` comment) or from an export of `pg_stat_statements` as CSV (`\copy ...
//! CSV HEADER`) or JSON (an array of row objects, e.g. `json_agg`), of which the top N by
//! total execution time are kept. Exports hold normalised queries with `$1` placeholders;
//! those are planned with `EXPLAIN (GENERIC_PLAN)` (PostgreSQL 16+), and on older servers
//! through a prepared statement under `plan_cache_mode = force_generic_plan`, which gives
//! the same value-independent plan.
//!
//! A regression is a query that loses an index it used, gains a sequential scan on a large
//! table, whose estimated total cost grows by more than a factor, or that no longer plans at
//! all (a column or table it reads is gone). Costs are the planner's estimates on the copy,
//! never timings.

use crate::model::QualifiedName;
use crate::plan::Plan;
use crate::report::text::thousands;
use anyhow::{bail, Context as _, Result};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};
use std::collections::BTreeMap;
use std::path::Path;

/// How many queries of a `pg_stat_statements` export are watched by default.
pub const DEFAULT_TOP: usize = 20;
/// Default factor by which a query's estimated cost may grow before it is a regression.
pub const DEFAULT_COST_FACTOR: f64 = 2.0;
/// Below this estimated cost (after the migration) growth is noise: the query stays cheap
/// whatever the factor (about a hundred page reads).
pub const NEGLIGIBLE_COST: f64 = 100.0;

/// One query the application depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedQuery {
    /// `-- name:` from the file, else `query N` (its position).
    pub name: String,
    pub sql: String,
    /// Where it came from: `queries.sql:12`, `pg_stat_statements.csv row 3`.
    pub origin: String,
    /// From `pg_stat_statements`: how often it ran and for how long in total.
    pub calls: Option<i64>,
    pub total_ms: Option<f64>,
}

impl WatchedQuery {
    /// The name with, for exports, its weight: `query 1 (1,200 calls, 53 s total)`.
    pub fn title(&self) -> String {
        match (self.calls, self.total_ms) {
            (Some(calls), Some(ms)) => format!(
                "{} ({} calls, {} total)",
                self.name,
                thousands(calls),
                crate::report::text::duration_ms(ms.max(0.0) as u64)
            ),
            _ => self.name.clone(),
        }
    }
}

/// Size thresholds for `regressions`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WatchThresholds {
    /// Estimated total cost after / before above this is a regression (default 2.0).
    pub cost_factor: f64,
    /// A new Seq Scan on a table with at least this many rows is a regression, and an error.
    pub large_table_rows: i64,
}

impl Default for WatchThresholds {
    fn default() -> Self {
        WatchThresholds {
            cost_factor: DEFAULT_COST_FACTOR,
            large_table_rows: 1_000_000,
        }
    }
}

/// A watched query whose plan got worse.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub query: WatchedQuery,
    /// One sentence per way it got worse.
    pub reasons: Vec<String>,
    /// Indexes the query used before and not after.
    pub lost_indexes: Vec<String>,
    /// Tables it reads with a Seq Scan after but not before, with their rows when known.
    pub new_seq_scans: Vec<(QualifiedName, Option<i64>)>,
    /// A new Seq Scan on a large table, or the query no longer plans: an error, not a
    /// warning.
    pub severe: bool,
    pub cost_before: f64,
    /// `None` when the query no longer plans.
    pub cost_after: Option<f64>,
    /// Key nodes of both plans (`Plan::excerpt`); `after` holds the error when it failed.
    pub before: String,
    pub after: String,
    /// The statement that caused it, when plans were taken between the statements of the
    /// migration (`execute::replan`); `None` for a comparison over whole migrations.
    pub blame: Option<Blame>,
}

/// Where in a migration a regression was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blame {
    /// Index of the statement (in the migration's up part) after which the plan got worse
    /// and stayed so, and its line.
    pub statement: usize,
    pub line: usize,
    /// A later statement of the migration that restored the plan, `(index, line)`, after a
    /// commit in between: the application sees the worse plan only in that window.
    pub fixed_by: Option<(usize, usize)>,
    /// The line at which the migration failed after the plan was measured.
    pub failed_at: Option<usize>,
    /// How long the window lasted on the copy (the statements after the culprit up to and
    /// including the one that restored the plan).
    pub window_ms: Option<u64>,
}

/// Loads watched queries from `path`: `.csv` and `.json` are `pg_stat_statements` exports
/// (the `top` by total time are kept), anything else a file of SQL statements.
pub fn load(path: &Path, top: usize) -> Result<Vec<WatchedQuery>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read watched queries from {}", path.display()))?;
    let origin = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let parsed = match extension.as_deref() {
        Some("csv") => parse_stat_statements_csv(&text, &origin, top),
        Some("json") => parse_stat_statements_json(&text, &origin, top),
        _ => Ok(parse_sql_file(&text, &origin)),
    };
    parsed.with_context(|| format!("Failed to read watched queries from {}", path.display()))
}

/// The statements of a SQL file; a `-- name: x` comment right before one names it.
pub fn parse_sql_file(text: &str, origin: &str) -> Vec<WatchedQuery> {
    crate::parse::parse_sql(text, false)
        .statements
        .into_iter()
        .filter(|s| !s.text.trim().is_empty())
        .enumerate()
        .map(|(i, s)| {
            let name = s
                .leading_comments
                .iter()
                .rev()
                .find_map(|c| {
                    let (key, value) = c.text.split_once(':')?;
                    (key.trim().eq_ignore_ascii_case("name") && !value.trim().is_empty())
                        .then(|| value.trim().to_string())
                })
                .unwrap_or_else(|| format!("query {}", i + 1));
            WatchedQuery {
                name,
                sql: s.text.trim().to_string(),
                origin: format!("{origin}:{}", s.start.line),
                calls: None,
                total_ms: None,
            }
        })
        .collect()
}

/// One row of a `pg_stat_statements` export.
struct StatRow {
    query: String,
    calls: Option<i64>,
    total_ms: f64,
    row: usize,
}

/// A CSV export with a header naming `query`, `calls` and `total_exec_time` (PostgreSQL 13+)
/// or `total_time` (older).
pub fn parse_stat_statements_csv(
    text: &str,
    origin: &str,
    top: usize,
) -> Result<Vec<WatchedQuery>> {
    let records = csv_records(text)?;
    let Some((header, rows)) = records.split_first() else {
        bail!("the CSV file is empty");
    };
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let Some(query_at) = column(&["query"]) else {
        bail!(
            "the CSV header has no `query` column (found: {})",
            header.join(", ")
        );
    };
    let Some(total_at) = column(&["total_exec_time", "total_time"]) else {
        bail!("the CSV header has neither `total_exec_time` nor `total_time`");
    };
    let calls_at = column(&["calls"]);
    let mut stats = Vec::new();
    for (i, record) in rows.iter().enumerate() {
        let Some(query) = record.get(query_at).filter(|q| !q.trim().is_empty()) else {
            continue;
        };
        stats.push(StatRow {
            query: query.clone(),
            calls: calls_at
                .and_then(|at| record.get(at))
                .and_then(|c| c.trim().parse::<f64>().ok())
                .map(|c| c as i64),
            total_ms: record
                .get(total_at)
                .and_then(|t| t.trim().parse::<f64>().ok())
                .filter(|t| t.is_finite())
                .unwrap_or(0.0),
            // Line numbers are unknown once quoted fields span lines; the record is what a
            // reader can find in a spreadsheet.
            row: i + 1,
        });
    }
    Ok(top_queries(stats, origin, top))
}

/// A JSON export: an array of row objects, or an object holding one such array (e.g.
/// `{"pg_stat_statements": [...]}`). Numbers may be JSON numbers or strings.
pub fn parse_stat_statements_json(
    text: &str,
    origin: &str,
    top: usize,
) -> Result<Vec<WatchedQuery>> {
    let value: serde_json::Value =
        serde_json::from_str(text).context("the file is not valid JSON")?;
    let rows = match &value {
        serde_json::Value::Array(rows) => rows,
        serde_json::Value::Object(map) => match map.values().find_map(|v| v.as_array()) {
            Some(rows) => rows,
            None => bail!("the JSON object holds no array of rows"),
        },
        _ => bail!("expected an array of pg_stat_statements rows"),
    };
    let number = |v: Option<&serde_json::Value>| -> Option<f64> {
        match v? {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|n: &f64| n.is_finite())
    };
    let mut stats = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(object) = row.as_object() else {
            continue;
        };
        let Some(query) = object
            .get("query")
            .and_then(|q| q.as_str())
            .filter(|q| !q.trim().is_empty())
        else {
            continue;
        };
        let total = number(object.get("total_exec_time")).or(number(object.get("total_time")));
        stats.push(StatRow {
            query: query.to_string(),
            calls: number(object.get("calls")).map(|c| c as i64),
            total_ms: total.unwrap_or(0.0),
            row: i + 1,
        });
    }
    if stats.is_empty() && !rows.is_empty() {
        bail!("no row has a `query` text");
    }
    Ok(top_queries(stats, origin, top))
}

/// Merges rows of the same query (one per user and database in `pg_stat_statements`) and
/// keeps the `top` by total time, heaviest first.
fn top_queries(rows: Vec<StatRow>, origin: &str, top: usize) -> Vec<WatchedQuery> {
    let mut merged: Vec<StatRow> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        let key = row.query.split_whitespace().collect::<Vec<_>>().join(" ");
        match seen.get(&key).and_then(|&at| merged.get_mut(at)) {
            Some(existing) => {
                existing.total_ms += row.total_ms;
                existing.calls = match (existing.calls, row.calls) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                seen.insert(key, merged.len());
                merged.push(row);
            }
        }
    }
    // Stable: equal totals keep the export's order.
    merged.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    merged
        .into_iter()
        .take(top)
        .enumerate()
        .map(|(i, r)| WatchedQuery {
            name: format!("query {}", i + 1),
            sql: r.query.trim().trim_end_matches(';').trim_end().to_string(),
            origin: format!("{origin} row {}", r.row),
            calls: r.calls,
            total_ms: Some(r.total_ms),
        })
        .collect()
}

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
fn csv_records(text: &str) -> Result<Vec<Vec<String>>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        bail!("a quoted CSV field is never closed");
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

/// Whether the query has `$n` placeholders (outside string literals).
pub fn has_parameters(sql: &str) -> bool {
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_string = !in_string,
            '$' if !in_string && chars.peek().is_some_and(|d| d.is_ascii_digit()) => return true,
            _ => {}
        }
    }
    false
}

/// Whether EXPLAIN can plan the statement at all (exports also hold `BEGIN`, `SET`,
/// `VACUUM`, ...).
pub(crate) fn plannable(sql: &str) -> bool {
    let first = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "select" | "with" | "insert" | "update" | "delete" | "values" | "table" | "merge"
    )
}

/// Plans every watched query on `conn` (plain EXPLAIN, never ANALYZE; nothing is written):
/// run once before the pending migrations and once after. A query that cannot be planned
/// carries the reason instead.
pub async fn plans(
    conn: &mut PgConnection,
    queries: &[WatchedQuery],
) -> Vec<(WatchedQuery, Result<Plan, String>)> {
    let version = server_version_num(conn).await.unwrap_or(0);
    let mut out = Vec::with_capacity(queries.len());
    for query in queries {
        let plan = if !plannable(&query.sql) {
            Err(
                "not a query EXPLAIN can plan (only SELECT, INSERT, UPDATE, DELETE, MERGE)"
                    .to_string(),
            )
        } else {
            read_only_plan(conn, &query.sql, version)
                .await
                .map_err(|e| format!("{e:#}"))
        };
        out.push((query.clone(), plan));
    }
    out
}

/// Reads `server_version_num` (e.g. 150020).
async fn server_version_num(conn: &mut PgConnection) -> Result<i64> {
    let row = sqlx::query("SELECT current_setting('server_version_num')::int8")
        .fetch_one(conn)
        .await
        .context("Failed to read the server version")?;
    row.try_get(0).context("Failed to read the server version")
}

/// [`explain_in_open`] in a read-only transaction of its own, rolled back; a prepared
/// statement outlives the rollback, so it is removed whatever happened.
async fn read_only_plan(conn: &mut PgConnection, sql: &str, server_version: i64) -> Result<Plan> {
    let mut prepared = false;
    let mut tx = conn
        .begin()
        .await
        .context("Failed to open a read-only transaction for EXPLAIN")?;
    let plan = match sqlx::query("SET TRANSACTION READ ONLY")
        .execute(&mut *tx)
        .await
    {
        Ok(_) => explain_in_open(&mut tx, sql, server_version, &mut prepared).await,
        Err(e) => {
            Err(anyhow::Error::new(e).context("Failed to make the EXPLAIN transaction read-only"))
        }
    };
    let rolled_back = tx.rollback().await;
    if prepared {
        let _ = sqlx::raw_sql("DEALLOCATE migsafe_watched_query")
            .execute(&mut *conn)
            .await;
    }
    let plan = plan?;
    rolled_back.context("Failed to roll back the EXPLAIN transaction")?;
    Ok(plan)
}

/// EXPLAIN of one watched query inside a read-only savepoint or transaction the caller opened
/// and rolls back (before and after the migrations, and between a migration's statements):
/// plain, or generic for a query with `$n` placeholders (`GENERIC_PLAN` on PostgreSQL 16+, a
/// prepared statement under `force_generic_plan` before; `prepared` tells the caller to
/// remove it).
pub(super) async fn explain_in_open(
    conn: &mut PgConnection,
    sql: &str,
    server_version: i64,
    prepared: &mut bool,
) -> Result<Plan> {
    let parts = crate::parse::parse_sql(sql, false);
    let [one] = parts.statements.as_slice() else {
        bail!("Failed to EXPLAIN: the text is not exactly one statement");
    };
    let text = one.text.trim();
    let json: String = if !has_parameters(text) {
        // The extended protocol runs exactly one statement.
        sqlx::query(AssertSqlSafe(format!(
            "EXPLAIN (VERBOSE, FORMAT JSON) {text}"
        )))
        .persistent(false)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| anyhow::anyhow!("{}", server_words(&e)))?
        .try_get_unchecked(0)
        .context("Failed to read the EXPLAIN output")?
    } else {
        let explain = if server_version >= 160_000 {
            format!("EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) {text}")
        } else {
            sqlx::raw_sql(AssertSqlSafe(format!(
                "SET LOCAL plan_cache_mode = force_generic_plan; \
                 PREPARE migsafe_watched_query AS {text}"
            )))
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("{}", server_words(&e)))?;
            *prepared = true;
            let count = max_parameter(text);
            if count == 0 {
                "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE migsafe_watched_query".to_string()
            } else {
                format!(
                    "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE migsafe_watched_query({})",
                    vec!["NULL"; count].join(", ")
                )
            }
        };
        // The simple protocol: with the extended one the server would expect values for `$1`.
        let rows = sqlx::raw_sql(AssertSqlSafe(explain))
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("{}", server_words(&e)))?;
        rows.first()
            .context("EXPLAIN returned no row")?
            .try_get_unchecked(0)
            .context("Failed to read the EXPLAIN output")?
    };
    Plan::from_json(&json)
}

/// PostgreSQL's message for a failed EXPLAIN, without sqlx's prefix.
fn server_words(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// The highest `$n` placeholder (outside string literals); 0 without any.
pub(crate) fn max_parameter(sql: &str) -> usize {
    let mut in_string = false;
    let mut max = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_string = !in_string,
            '$' if !in_string => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                max = max.max(digits.parse().unwrap_or(0));
            }
            _ => {}
        }
    }
    max
}

/// The plans that were made, without the queries that could not be planned.
pub fn explained(plans: &[(WatchedQuery, Result<Plan, String>)]) -> Vec<(WatchedQuery, Plan)> {
    plans
        .iter()
        .filter_map(|(q, p)| Some((q.clone(), p.as_ref().ok()?.clone())))
        .collect()
}

/// Watched queries whose plan (before the migrations) reads `index`, written as in SQL
/// (schema qualifier ignored, unquoted names folded): what dropping it slows down.
pub fn queries_using_index<'a>(
    before: &'a [(WatchedQuery, Plan)],
    index: &str,
) -> Vec<&'a WatchedQuery> {
    before
        .iter()
        .filter(|(_, plan)| plan.uses_index(index))
        .map(|(q, _)| q)
        .collect()
}

/// Compares each query's plan before and after the pending migrations. `table_rows` gives a
/// table's row count (from the catalog); when it does not know, an unfiltered Seq Scan's own
/// estimate is used, since it returns the whole table.
pub fn regressions(
    before: &[(WatchedQuery, Result<Plan, String>)],
    after: &[(WatchedQuery, Result<Plan, String>)],
    thresholds: &WatchThresholds,
    table_rows: impl Fn(&QualifiedName) -> Option<i64>,
) -> Vec<Regression> {
    let mut found = Vec::new();
    for (query, old) in before {
        // Only a query that planned before can regress; one that could not be planned
        // (parameters, an error) has nothing to compare with.
        let Ok(old) = old else { continue };
        let Some((_, new)) = after
            .iter()
            .find(|(q, _)| q.name == query.name && q.sql == query.sql)
        else {
            continue;
        };
        let cost_before = cost(old);
        let new = match new {
            Ok(new) => new,
            Err(error) => {
                found.push(Regression {
                    query: query.clone(),
                    reasons: vec![format!("it no longer plans after the migrations: {error}")],
                    lost_indexes: Vec::new(),
                    new_seq_scans: Vec::new(),
                    severe: true,
                    cost_before,
                    cost_after: None,
                    before: old.excerpt(),
                    after: error.clone(),
                    blame: None,
                });
                continue;
            }
        };
        let mut reasons = Vec::new();
        let mut severe = false;

        let old_indexes = indexes(old);
        // An index the query used is gone from its plan. When the new plan uses an index
        // the old one did not (the usual "replace a narrow index by a wider one"), that is
        // a swap, not a regression by itself: the cost and seq-scan checks still apply.
        let replaced = indexes(new)
            .iter()
            .any(|(index, _)| !old_indexes.iter().any(|(o, _)| o == index));
        let mut lost_indexes: Vec<String> = old_indexes
            .into_iter()
            .filter(|(index, _)| !new.uses_index(&quote(index)))
            .map(|(index, node)| {
                if !replaced {
                    reasons.push(format!("it no longer uses index {index} ({node})"));
                }
                index
            })
            .collect();
        lost_indexes.dedup();

        let mut new_seq_scans = Vec::new();
        for scan in new.seq_scans() {
            if old.uses_seq_scan_on(&scan.relation)
                || new_seq_scans
                    .iter()
                    .any(|(t, _): &(QualifiedName, _)| t.matches(&scan.relation))
            {
                continue;
            }
            let rows =
                table_rows(&scan.relation).or_else(|| scan.filter.is_none().then_some(scan.rows));
            let large = rows.is_some_and(|r| r >= thresholds.large_table_rows);
            if large {
                severe = true;
                reasons.push(format!(
                    "it now reads all of {} with a Seq Scan ({} rows)",
                    scan.relation,
                    thousands(rows.unwrap_or_default())
                ));
            }
            new_seq_scans.push((scan.relation, rows));
        }

        let cost_after = cost(new);
        if cost_after > NEGLIGIBLE_COST && cost_after > cost_before * thresholds.cost_factor {
            let factor = if cost_before > 0.0 {
                format!("{:.1}x", cost_after / cost_before)
            } else {
                "from nothing".to_string()
            };
            reasons.push(format!(
                "its estimated cost grows {factor}: {cost_before:.2} → {cost_after:.2} \
                 (more than the {:.1}x allowed)",
                thresholds.cost_factor
            ));
        }
        if reasons.is_empty() {
            continue;
        }
        found.push(Regression {
            query: query.clone(),
            reasons,
            lost_indexes,
            new_seq_scans,
            severe,
            cost_before,
            cost_after: Some(cost_after),
            before: old.excerpt(),
            after: new.excerpt(),
            blame: None,
        });
    }
    found
}

/// Estimated total cost: the sum over the plan's roots (several only with rewrite rules).
fn cost(plan: &Plan) -> f64 {
    plan.roots.iter().map(|r| r.total_cost).sum()
}

/// Indexes the plan reads, each with the label of the first node reading it, in plan order.
fn indexes(plan: &Plan) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for node in plan.nodes() {
        if let Some(index) = &node.index {
            if !out.iter().any(|(i, _)| i == index) {
                out.push((index.clone(), node.label()));
            }
        }
    }
    out
}

/// A plan's index name (exact spelling) in SQL form, so `Plan::uses_index` does not fold it.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_files_split_on_semicolons_and_take_names_from_comments() {
        let text = "-- name: orders by customer\nSELECT * FROM orders WHERE customer_id = 42;\n\n\
                    SELECT ';' AS semi FROM orders;\n-- name: stuck\n-- (hourly)\nSELECT 1;\n";
        let q = parse_sql_file(text, "queries.sql");
        let names: Vec<_> = q.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["orders by customer", "query 2", "stuck"]);
        assert_eq!(q[0].sql, "SELECT * FROM orders WHERE customer_id = 42");
        assert_eq!(q[1].sql, "SELECT ';' AS semi FROM orders");
        assert_eq!(q[0].origin, "queries.sql:2");
    }

    #[test]
    fn csv_keeps_the_heaviest_queries_and_merges_duplicates() {
        let csv = "userid,query,calls,total_exec_time\n\
                   10,\"SELECT * FROM a WHERE x = $1\",5,10.5\n\
                   10,\"SELECT \"\"b\"\", 1,\n2 FROM b\",2,300\n\
                   11,SELECT * FROM a WHERE x = $1,5,400\n\
                   10,BEGIN,100,1\n";
        let q = parse_stat_statements_csv(csv, "pgss.csv", 2).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].sql, "SELECT * FROM a WHERE x = $1");
        assert_eq!(q[0].calls, Some(10));
        assert_eq!(q[0].total_ms, Some(410.5));
        assert_eq!(q[1].sql, "SELECT \"b\", 1,\n2 FROM b");
        assert_eq!(q[1].origin, "pgss.csv row 2");
    }

    #[test]
    fn csv_without_the_needed_columns_is_an_error() {
        let err = parse_stat_statements_csv("a,b\n1,2\n", "x.csv", 5).unwrap_err();
        assert!(err.to_string().contains("query"), "{err}");
        let err = parse_stat_statements_csv("query,calls\nSELECT 1,2\n", "x.csv", 5).unwrap_err();
        assert!(err.to_string().contains("total_exec_time"), "{err}");
        assert!(parse_stat_statements_csv("query,total_time\n\"SELECT 1", "x", 5).is_err());
    }

    #[test]
    fn json_accepts_arrays_objects_and_string_numbers() {
        let json = r#"[{"query": "SELECT 1", "calls": 3, "total_time": 5.0},
                       {"query": "SELECT 2", "calls": "7", "total_exec_time": "50"}]"#;
        let q = parse_stat_statements_json(json, "p.json", 20).unwrap();
        assert_eq!(q[0].sql, "SELECT 2");
        assert_eq!(q[0].calls, Some(7));
        let wrapped = format!(r#"{{"pg_stat_statements": {json}}}"#);
        assert_eq!(
            parse_stat_statements_json(&wrapped, "p.json", 20).unwrap(),
            q
        );
        assert!(parse_stat_statements_json("{\"a\": 1}", "p", 20).is_err());
        assert!(parse_stat_statements_json("nope", "p", 20).is_err());
    }

    #[test]
    fn placeholders_and_plannable_statements() {
        assert!(has_parameters("SELECT * FROM t WHERE id = $1"));
        assert!(!has_parameters("SELECT '$1', $$x$$ FROM t"));
        assert!(plannable("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(plannable(" (select 1)"));
        assert!(!plannable("BEGIN"));
        assert!(!plannable("SET search_path = x"));
    }
}
