//! The server's own progress reports for the statement running on the copy (issue #11,
//! item 7): `pg_stat_progress_create_index`, `_cluster` (also VACUUM FULL), `_vacuum`,
//! `_analyze` and `_copy`, read for the migration session's backend pid from a connection of
//! their own and shown by [`crate::progress`] as a bar.
//!
//! The views came one release at a time (vacuum 9.6, create_index and cluster 12, analyze 13,
//! copy 14) and gained columns since (vacuum's `indexes_total` in 17), so which views exist is
//! asked once per session (`to_regclass`) and rows are read as `to_jsonb(view)`: a view or a
//! column the server does not have is simply absent, never an error. See
//! <https://www.postgresql.org/docs/current/progress-reporting.html>.
//!
//! Polling must never change what the executor measures: it runs beside the statement on
//! another connection, only after the statement has run for [`FIRST_LOOK`], and any failure
//! (no connection, a query error) just means no bar.

use crate::evidence::connect::{connect_read_only_with, SessionLimits};
use crate::progress::{Counter, ServerProgress};
use anyhow::{Context as _, Result};
use serde_json::Value;
use sqlx::{AssertSqlSafe, PgConnection};
use std::convert::Infallible;
use std::time::Duration;

/// A statement shorter than this never costs a poll.
const FIRST_LOOK: Duration = Duration::from_secs(1);

/// How often a long statement's progress is read.
const EVERY: Duration = Duration::from_millis(500);

/// Every progress view migsafe knows about, with the release it appeared in.
const VIEWS: [&str; 5] = [
    "pg_stat_progress_create_index",
    "pg_stat_progress_cluster",
    "pg_stat_progress_vacuum",
    "pg_stat_progress_analyze",
    "pg_stat_progress_copy",
];

/// Reads the progress views for one backend, keeping its connection between statements.
pub struct Poller {
    url: String,
    pid: i32,
    connect_timeout: Duration,
    conn: Option<PgConnection>,
    /// The UNION over the views this server has; `None` until first asked.
    query: Option<String>,
    /// Set once connecting or asking which views exist failed: the session shows spinners only.
    given_up: bool,
}

impl Poller {
    pub fn new(url: &str, pid: i32, connect_timeout: Duration) -> Poller {
        Poller {
            url: url.to_string(),
            pid,
            connect_timeout,
            conn: None,
            query: None,
            given_up: false,
        }
    }

    /// Follows the running statement's progress until the caller drops this future (when the
    /// statement ends); never resolves. Shows each reading, or no bar when the views have no
    /// row for the backend.
    pub async fn follow(&mut self) -> Infallible {
        if !crate::progress::drawn() {
            // CI, --quiet, a pipe: nobody would see a bar, so the server is not asked.
            return std::future::pending().await;
        }
        tokio::time::sleep(FIRST_LOOK).await;
        loop {
            if !self.given_up {
                let reading = self.read().await;
                crate::progress::server(reading.as_ref());
            }
            tokio::time::sleep(EVERY).await;
        }
    }

    /// One reading of the views for the backend (`None`: no row, or the read failed).
    async fn read(&mut self) -> Option<ServerProgress> {
        // Taken out while in use: if the statement ends mid-read this future is dropped with
        // the connection, and a fresh one is opened next time instead of reusing a
        // connection with a half-finished exchange.
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => match self.connect().await {
                Some(conn) => conn,
                None => {
                    self.given_up = true;
                    return None;
                }
            },
        };
        if self.query.is_none() {
            match existing_views(&mut conn).await {
                Ok(views) => self.query = Some(union_query(&views)),
                Err(_) => {
                    self.given_up = true;
                    let _ = sqlx::Connection::close(conn).await;
                    return None;
                }
            }
        }
        let rows = match self.query.as_deref() {
            Some("") | None => Ok(Vec::new()),
            Some(sql) => readings(&mut conn, sql, self.pid).await,
        };
        match rows {
            Ok(rows) => {
                self.conn = Some(conn);
                rows.iter().find_map(|(view, row)| {
                    serde_json::from_str(row)
                        .ok()
                        .and_then(|row| describe(view, &row))
                })
            }
            // A failed read leaves no bar; the next poll reconnects.
            Err(_) => None,
        }
    }

    async fn connect(&self) -> Option<PgConnection> {
        connect_read_only_with(
            &self.url,
            SessionLimits {
                lock_timeout: Duration::from_secs(1),
                statement_timeout: Duration::from_secs(2),
                connect_timeout: self.connect_timeout,
            },
        )
        .await
        .ok()
    }

    /// Closes the polling connection, if one was opened.
    pub async fn close(self) {
        if let Some(conn) = self.conn {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// Which of [`VIEWS`] this server has.
async fn existing_views(conn: &mut PgConnection) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS u(v, n) \
         WHERE to_regclass('pg_catalog.' || v) IS NOT NULL ORDER BY n",
    )
    .bind(VIEWS.map(str::to_string).to_vec())
    .fetch_all(conn)
    .await
    .context("Failed to list the server's progress views")
}

/// One query over all `views` for backend `$1`: (view name, row as JSON text). Empty when
/// the server has none of them.
fn union_query(views: &[String]) -> String {
    views
        .iter()
        .filter(|v| VIEWS.contains(&v.as_str()))
        .map(|v| {
            format!("SELECT '{v}'::text, to_jsonb(p)::text FROM pg_catalog.{v} p WHERE p.pid = $1")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The views' rows for backend `pid`.
async fn readings(conn: &mut PgConnection, sql: &str, pid: i32) -> Result<Vec<(String, String)>> {
    sqlx::query_as(AssertSqlSafe(sql.to_string()))
        .bind(pid)
        .fetch_all(conn)
        .await
        .with_context(|| format!("Failed to read the progress views for backend {pid}"))
}

fn number(row: &Value, column: &str) -> Option<u64> {
    row.get(column).and_then(Value::as_u64)
}

fn text(row: &Value, column: &str) -> Option<String> {
    row.get(column).and_then(Value::as_str).map(str::to_string)
}

/// A bar `done`/`total` when the total is known and the work is not finished yet: a counter
/// left at its end by an earlier phase (create_index's blocks while tuples load) is not the
/// current phase's progress.
fn running(row: &Value, done: &str, total: &str, unit: &'static str) -> Option<Counter> {
    let (done, total) = (number(row, done)?, number(row, total)?);
    (total > 0 && done < total).then_some(Counter {
        done,
        total: Some(total),
        unit,
    })
}

/// A count without a known end (tuples scanned, indexes rebuilt).
fn count(row: &Value, column: &str, unit: &'static str) -> Option<Counter> {
    number(row, column).map(|done| Counter {
        done,
        total: None,
        unit,
    })
}

/// What a view's row says, for a person watching the run.
pub fn describe(view: &str, row: &Value) -> Option<ServerProgress> {
    let phase = text(row, "phase").unwrap_or_default();
    let (command, counter, note) = match view {
        "pg_stat_progress_create_index" => {
            // Counters outlive their phase (tuples_total is set before the sort, blocks stay
            // at their total while tuples load), so the phase says which one is moving.
            let counter = if phase.starts_with("waiting") {
                running(row, "lockers_done", "lockers_total", "lockers")
            } else if phase.contains("sorting") {
                None
            } else if phase.contains("loading tuples") {
                running(row, "tuples_done", "tuples_total", "tuples")
            } else {
                running(row, "blocks_done", "blocks_total", "blocks")
                    .or_else(|| running(row, "tuples_done", "tuples_total", "tuples"))
            };
            let partitions = number(row, "partitions_total")
                .filter(|total| *total > 0)
                .map(|total| {
                    format!(
                        "partition {} of {total}",
                        number(row, "partitions_done")
                            .unwrap_or(0)
                            .saturating_add(1)
                            .min(total)
                    )
                });
            (
                text(row, "command").unwrap_or_else(|| "CREATE INDEX".to_string()),
                counter,
                partitions,
            )
        }
        "pg_stat_progress_cluster" => {
            let counter = match phase.as_str() {
                "seq scanning heap" => {
                    running(row, "heap_blks_scanned", "heap_blks_total", "blocks")
                }
                "index scanning heap" => count(row, "heap_tuples_scanned", "tuples scanned"),
                "sorting tuples" | "writing new heap" => {
                    count(row, "heap_tuples_written", "tuples written")
                }
                "rebuilding index" => count(row, "index_rebuild_count", "indexes rebuilt"),
                _ => None,
            };
            (
                text(row, "command").unwrap_or_else(|| "CLUSTER".to_string()),
                counter,
                None,
            )
        }
        "pg_stat_progress_vacuum" => {
            let counter = match phase.as_str() {
                "scanning heap" => running(row, "heap_blks_scanned", "heap_blks_total", "blocks"),
                "vacuuming heap" => running(row, "heap_blks_vacuumed", "heap_blks_total", "blocks"),
                // indexes_total/indexes_processed exist from PostgreSQL 17.
                "vacuuming indexes" | "cleaning up indexes" => {
                    running(row, "indexes_processed", "indexes_total", "indexes")
                }
                _ => None,
            };
            ("VACUUM".to_string(), counter, None)
        }
        "pg_stat_progress_analyze" => {
            let counter = running(row, "sample_blks_scanned", "sample_blks_total", "blocks")
                .or_else(|| {
                    running(
                        row,
                        "child_tables_done",
                        "child_tables_total",
                        "child tables",
                    )
                })
                .or_else(|| running(row, "ext_stats_computed", "ext_stats_total", "statistics"));
            ("ANALYZE".to_string(), counter, None)
        }
        "pg_stat_progress_copy" => {
            let counter = running(row, "bytes_processed", "bytes_total", "bytes")
                .or_else(|| count(row, "tuples_processed", "tuples"));
            // COPY has no phases: what it copies from or to is the phase ("copy from file").
            let command = text(row, "command").unwrap_or_else(|| "COPY".to_string());
            let phase = match text(row, "type") {
                Some(kind) => format!("{command} {kind}").to_lowercase(),
                None => command.to_lowercase(),
            };
            return Some(ServerProgress {
                view: "pg_stat_progress_copy",
                command,
                phase,
                counter,
                note: None,
            });
        }
        _ => return None,
    };
    let view = VIEWS.into_iter().find(|v| *v == view)?;
    Some(ServerProgress {
        view,
        command,
        phase,
        counter,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_index_build_shows_the_blocks_of_its_table_scan() {
        let row = json!({"pid": 7, "command": "CREATE INDEX", "phase": "building index: scanning table",
            "lockers_total": 0, "lockers_done": 0, "blocks_total": 400, "blocks_done": 100,
            "tuples_total": 0, "tuples_done": 0, "partitions_total": 0, "partitions_done": 0});
        let p = describe("pg_stat_progress_create_index", &row).unwrap();
        assert_eq!(p.phase, "building index: scanning table");
        assert_eq!(
            p.counter,
            Some(Counter {
                done: 100,
                total: Some(400),
                unit: "blocks"
            })
        );
    }

    #[test]
    fn once_the_scan_is_done_the_loaded_tuples_are_the_progress() {
        let row = json!({"command": "CREATE INDEX CONCURRENTLY",
            "phase": "building index: loading tuples in tree", "blocks_total": 400,
            "blocks_done": 400, "tuples_total": 9000, "tuples_done": 3000,
            "partitions_total": 4, "partitions_done": 1});
        let p = describe("pg_stat_progress_create_index", &row).unwrap();
        assert_eq!(p.command, "CREATE INDEX CONCURRENTLY");
        assert_eq!(p.counter.unwrap().unit, "tuples");
        assert_eq!(p.note.as_deref(), Some("partition 2 of 4"));
    }

    #[test]
    fn a_phase_without_a_counter_is_shown_by_name_only() {
        let row = json!({"command": "CREATE INDEX", "phase": "building index: sorting live tuples",
            "blocks_total": 400, "blocks_done": 400, "tuples_total": 9000, "tuples_done": 0});
        let p = describe("pg_stat_progress_create_index", &row).unwrap();
        assert_eq!(p.counter, None);
        assert_eq!(p.phase, "building index: sorting live tuples");
    }

    #[test]
    fn a_concurrent_build_waiting_for_writers_counts_lockers() {
        let row = json!({"command": "CREATE INDEX CONCURRENTLY",
            "phase": "waiting for writers before build", "lockers_total": 2, "lockers_done": 1,
            "blocks_total": 0, "blocks_done": 0, "tuples_total": 0, "tuples_done": 0});
        let p = describe("pg_stat_progress_create_index", &row).unwrap();
        assert_eq!(
            p.counter,
            Some(Counter {
                done: 1,
                total: Some(2),
                unit: "lockers"
            })
        );
    }

    #[test]
    fn vacuum_full_is_read_from_the_cluster_view_and_old_servers_lack_columns() {
        let row = json!({"command": "VACUUM FULL", "phase": "seq scanning heap",
            "heap_blks_total": 10, "heap_blks_scanned": 3});
        let p = describe("pg_stat_progress_cluster", &row).unwrap();
        assert_eq!(p.command, "VACUUM FULL");
        assert_eq!(p.counter.unwrap().total, Some(10));
        // PostgreSQL 16's vacuum view has no indexes_total: no bar, not an error.
        let row = json!({"phase": "vacuuming indexes", "heap_blks_total": 10});
        let p = describe("pg_stat_progress_vacuum", &row).unwrap();
        assert_eq!(p.counter, None);
    }

    #[test]
    fn copy_counts_bytes_of_a_file_and_tuples_otherwise() {
        let row = json!({"command": "COPY FROM", "type": "FILE", "bytes_processed": 10,
            "bytes_total": 100, "tuples_processed": 5});
        let p = describe("pg_stat_progress_copy", &row).unwrap();
        assert_eq!(
            (p.phase.as_str(), p.counter.unwrap().unit),
            ("copy from file", "bytes")
        );
        let row = json!({"command": "COPY TO", "type": "PIPE", "bytes_processed": 10,
            "bytes_total": 0, "tuples_processed": 5});
        let p = describe("pg_stat_progress_copy", &row).unwrap();
        assert_eq!(
            p.counter,
            Some(Counter {
                done: 5,
                total: None,
                unit: "tuples"
            })
        );
    }

    #[test]
    fn the_query_covers_only_the_views_the_server_has() {
        let sql = union_query(&[
            "pg_stat_progress_vacuum".to_string(),
            "pg_bogus".to_string(),
        ]);
        assert!(sql.contains("pg_catalog.pg_stat_progress_vacuum"), "{sql}");
        assert!(!sql.contains("UNION") && !sql.contains("bogus"), "{sql}");
        assert_eq!(union_query(&[]), "");
    }
}
