//! The configured `statement_timeout` and `lock_timeout` as ceilings a migration cannot
//! lift (issue #9 item 4). The migration session starts with both set, but a migration may
//! change its own session: `SET statement_timeout = 0`, `SET LOCAL`, `set_config(…)`, a
//! function with a `SET` clause. So while a statement of the migration runs, a watchdog on a
//! connection of its own checks it from outside and cancels it (`pg_cancel_backend`) once it
//! has run longer than the statement ceiling, or has waited for a lock longer than the lock
//! ceiling (`pg_locks.waitstart`, PostgreSQL 14+; on older servers only the statement ceiling
//! holds). The server's own timeouts fire first when the migration left them alone; the
//! watchdog only acts a little later, so its cancel is the one that explains itself.
//!
//! Rewriting or refusing the migration's SETs was rejected: `set_config` and function `SET`
//! clauses make the text an unreliable guide, and a migration that raises its own timeout
//! (common before a long backfill) should still run, only within the ceiling.

use crate::evidence::connect::{connect_writable, SessionLimits};
use sqlx::PgConnection;
use std::time::{Duration, Instant};

/// Which ceiling a cancelled statement hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// `statement_timeout` or `lock_timeout`.
    pub setting: &'static str,
    pub ceiling: Duration,
}

impl Cancelled {
    /// The message a report shows instead of PostgreSQL's "canceling statement due to user
    /// request".
    pub fn message(&self) -> String {
        format!(
            "canceled by migsafe: the statement {} longer than the configured {} of {} \
             (a ceiling: the migration's own SET, SET LOCAL or set_config cannot lift it)",
            if self.setting == "lock_timeout" {
                "waited for a lock"
            } else {
                "ran"
            },
            self.setting,
            human(self.ceiling)
        )
    }
}

fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// What the watchdog needs to reach the server on its own.
#[derive(Debug, Clone)]
pub struct Watchdog {
    pub url: String,
    /// The migration session's backend pid.
    pub pid: i32,
    /// Zero: no ceiling.
    pub statement: Duration,
    /// Zero: no ceiling.
    pub lock: Duration,
    pub connect_timeout: Duration,
}

/// How often a running statement is looked at. The first look comes after one interval, so
/// a short statement costs nothing.
const POLL: Duration = Duration::from_millis(200);

/// Slack after the ceiling before the watchdog acts, so that an untouched server timeout
/// fires first with PostgreSQL's own message.
const GRACE: Duration = Duration::from_millis(150);

impl Watchdog {
    /// Resolves when the statement started at `started` went past a ceiling; never resolves
    /// otherwise (the caller races it with the statement, then cancels it with
    /// [`Watchdog::cancel_now`]: cancelling here would let the statement's error win the race
    /// before the caller knows why).
    pub async fn watch(&self, started: Instant) -> Cancelled {
        let mut conn: Option<PgConnection> = None;
        loop {
            tokio::time::sleep(POLL).await;
            let hit = if !self.statement.is_zero() && started.elapsed() > self.statement + GRACE {
                Some(Cancelled {
                    setting: "statement_timeout",
                    ceiling: self.statement,
                })
            } else if !self.lock.is_zero() && started.elapsed() > self.lock + GRACE {
                self.lock_wait(&mut conn).await.and_then(|waited| {
                    (waited > self.lock + GRACE).then_some(Cancelled {
                        setting: "lock_timeout",
                        ceiling: self.lock,
                    })
                })
            } else {
                None
            };
            if let Some(hit) = hit {
                if let Some(conn) = conn {
                    let _ = sqlx::Connection::close(conn).await;
                }
                return hit;
            }
        }
    }

    /// How long the migration session has been waiting for a lock right now.
    async fn lock_wait(&self, conn: &mut Option<PgConnection>) -> Option<Duration> {
        let conn = self.connection(conn).await?;
        let seconds: Option<f64> = sqlx::query_scalar(
            "SELECT max(extract(epoch FROM now() - waitstart))::float8 FROM pg_locks \
             WHERE pid = $1 AND NOT granted",
        )
        .bind(self.pid)
        .fetch_one(conn)
        .await
        .ok()
        .flatten();
        seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    }

    /// Cancels the migration session's current statement. The caller repeats it while the
    /// statement has not ended: a cancel that lands just between two statements is lost.
    pub async fn cancel_now(&self) {
        let mut conn = None;
        self.cancel(&mut conn).await;
        if let Some(conn) = conn {
            let _ = sqlx::Connection::close(conn).await;
        }
    }

    async fn cancel(&self, conn: &mut Option<PgConnection>) {
        if let Some(conn) = self.connection(conn).await {
            let _ = sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(self.pid)
                .execute(conn)
                .await;
        }
    }

    async fn connection<'a>(
        &self,
        conn: &'a mut Option<PgConnection>,
    ) -> Option<&'a mut PgConnection> {
        if conn.is_none() {
            *conn = connect_writable(
                &self.url,
                SessionLimits {
                    lock_timeout: Duration::from_secs(1),
                    statement_timeout: Duration::from_secs(10),
                    connect_timeout: self.connect_timeout,
                },
            )
            .await
            .ok();
        }
        conn.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_ceiling_and_why_it_held() {
        let m = Cancelled {
            setting: "statement_timeout",
            ceiling: Duration::from_secs(3),
        }
        .message();
        assert!(m.contains("statement_timeout of 3 s"), "{m}");
        assert!(m.contains("cannot lift"), "{m}");
        let m = Cancelled {
            setting: "lock_timeout",
            ceiling: Duration::from_millis(1500),
        }
        .message();
        assert!(
            m.contains("waited for a lock") && m.contains("1500 ms"),
            "{m}"
        );
    }
}
