//! `--clone`: a disposable copy of the `--database-url` database, made with
//! `CREATE DATABASE … TEMPLATE` on the same server and dropped when the run ends.
//!
//! PostgreSQL copies a template only while nobody else is connected to it, so the clone is
//! made before migsafe opens its own read session on the copy; when other sessions are
//! connected the error says what to do instead.

use super::connect::{connect_writable, redact_url, SessionLimits};
use super::restore::{quote_ident, with_database};
use anyhow::{bail, Context as _, Result};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A database migsafe created and must drop.
#[derive(Debug)]
pub struct Clone {
    /// URL of the clone (the copy's URL with the clone's database name).
    pub url: String,
    pub name: String,
    /// URL of the maintenance database used to create and drop it.
    admin_url: String,
    dropped: bool,
}

fn database_of(url: &str) -> Result<String> {
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("Failed to parse database URL {}", redact_url(url)))?;
    match options.get_database() {
        Some(db) if !db.is_empty() => Ok(db.to_string()),
        _ => bail!(
            "--clone needs a database name in {}: which database should be cloned?",
            redact_url(url)
        ),
    }
}

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

/// Prefix of every clone label: `migsafe clone host=<h> pid=<p> started=<unix seconds>`.
const LABEL_PREFIX: &str = "migsafe clone ";

/// A clone older than this is abandoned whatever its host says (no review runs a day).
const STALE_AFTER_SECS: u64 = 24 * 3600;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This machine's host name, reduced to characters safe in a label.
fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(64)
        .collect();
    if clean.is_empty() {
        "unknown".to_string()
    } else {
        clean
    }
}

fn label_text() -> String {
    format!(
        "{LABEL_PREFIX}host={} pid={} started={}",
        host_name(),
        std::process::id(),
        now_secs()
    )
}

/// (host, pid, started) of a label migsafe wrote; `None` for any other comment.
fn parse_label(text: &str) -> Option<(String, u32, u64)> {
    let rest = text.strip_prefix(LABEL_PREFIX)?;
    let mut host = None;
    let mut pid = None;
    let mut started = None;
    for part in rest.split_whitespace() {
        match part.split_once('=')? {
            ("host", h) => host = Some(h.to_string()),
            ("pid", p) => pid = p.parse().ok(),
            ("started", t) => started = t.parse().ok(),
            _ => return None,
        }
    }
    Some((host?, pid?, started?))
}

/// Whether a labelled clone is abandoned: made on this host by a process that is gone, or
/// older than [`STALE_AFTER_SECS`].
fn is_stale(label: &(String, u32, u64), here: &str, now: u64) -> bool {
    let (host, pid, started) = label;
    let dead_here =
        host == here && *pid != std::process::id() && !super::cluster::process_alive(*pid);
    dead_here || now.saturating_sub(*started) > STALE_AFTER_SECS
}

/// Drops the server's `migsafe_clone_*` databases whose label says they are abandoned.
/// Unlabelled ones (not provably migsafe's) are left alone. Dead-run clones on this host
/// are dropped WITH (FORCE) (their client is gone); old ones from elsewhere only when nobody
/// is connected.
async fn sweep_stale_clones(admin: &mut sqlx::PgConnection) {
    let rows: Vec<(String, Option<String>)> = match sqlx::query_as(
        "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database \
         WHERE starts_with(datname, 'migsafe_clone_')",
    )
    .fetch_all(&mut *admin)
    .await
    {
        Ok(rows) => rows,
        Err(_) => return,
    };
    let here = host_name();
    let now = now_secs();
    for (name, comment) in rows {
        let Some(label) = comment.as_deref().and_then(parse_label) else {
            continue;
        };
        if !is_stale(&label, &here, now) {
            continue;
        }
        let force = if label.0 == here { " WITH (FORCE)" } else { "" };
        let dropped = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {}{force}",
            quote_ident(&name)
        )))
        .execute(&mut *admin)
        .await;
        if dropped.is_ok() {
            crate::progress::always(&format!(
                "note: removed {name}, a clone left behind by an earlier migsafe run"
            ));
        }
    }
}

impl Clone {
    /// Creates `migsafe_clone_<pid>_<n>` from the database `url` names.
    pub async fn create(url: &str) -> Result<Clone> {
        let source = database_of(url)?;
        let name = format!(
            "migsafe_clone_{}_{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let admin_url = with_database(url, "postgres");
        let shown = crate::progress::phase(
            "clone",
            &format!("CREATE DATABASE {name} TEMPLATE {source}"),
        );
        let limits = SessionLimits {
            lock_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(3600),
            ..SessionLimits::default()
        };
        let mut admin = connect_writable(&admin_url, limits).await?;
        // Clones of runs that died (SIGKILL, a server crash) are full copies of the data:
        // remove those that are provably migsafe's and provably abandoned. Best effort.
        sweep_stale_clones(&mut admin).await;
        // From here until the clone is handed over, dropping this future (Ctrl-C while the
        // server copies the template) must not leave a half-made clone on the server.
        let mut guard = CreateGuard {
            admin_url: admin_url.clone(),
            name: name.clone(),
            armed: true,
        };
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(&source)
        );
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await {
            let _ = admin.close().await;
            guard.armed = false;
            let text = e.to_string();
            if text.contains("being accessed by other users") {
                bail!(
                    "Failed to clone {source}: other sessions are connected to it, and PostgreSQL \
                     copies a database only while nobody uses it. Point --database-url at a copy \
                     nobody is connected to, use --restore with a dump, or, if {source} itself \
                     is a throwaway copy, use --disposable instead of --clone"
                );
            }
            bail!("Failed to clone {source} into {name}: {text}");
        }
        // The label that lets a later run recognise an abandoned clone. Its text is made of
        // [A-Za-z0-9 .:=_-] only, so no quoting rule of any server setting can matter.
        let label = sqlx::raw_sql(AssertSqlSafe(format!(
            "COMMENT ON DATABASE {} IS '{}'",
            quote_ident(&name),
            label_text()
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
        guard.armed = false;
        label.with_context(|| format!("Failed to label the clone {name}"))?;
        shown.done();
        Ok(Clone {
            url: with_database(url, &name),
            name,
            admin_url,
            dropped: false,
        })
    }

    /// Drops the clone, disconnecting whatever is still connected to it.
    pub async fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await
    }
}

/// Armed while `CREATE DATABASE` runs: if the future is dropped there, the server goes on
/// copying after the client is gone, so cancel that backend, wait for it to stop, and drop
/// whatever it made.
struct CreateGuard {
    admin_url: String,
    name: String,
    armed: bool,
}

impl Drop for CreateGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let abandon = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(abandon(&admin_url, &name)).ok()
        });
        let _ = abandon.join();
    }
}

/// Cancels a `CREATE DATABASE name` still running for a client that went away, waits until
/// no backend runs it, then drops the database if it was made.
async fn abandon(admin_url: &str, name: &str) -> Result<()> {
    let mut admin = connect_writable(admin_url, SessionLimits::default()).await?;
    let pattern = format!("CREATE DATABASE {}%", quote_ident(name));
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let running: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND query LIKE $1 AND state = 'active'",
        )
        .bind(&pattern)
        .fetch_all(&mut admin)
        .await?;
        if running.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = sqlx::Connection::close(admin).await;
    drop_database(admin_url, name).await
}

async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    let mut admin = connect_writable(admin_url, SessionLimits::default()).await?;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    let result = sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .with_context(|| format!("Failed to drop the clone {name}"));
    let _ = admin.close().await;
    result.map(|_| ())
}

impl Drop for Clone {
    /// A clone must not outlive the run even when the caller returned early with an error:
    /// drop it synchronously on a small runtime of its own.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(drop_database(&admin_url, &name)).ok()
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_foreign_comments_are_not_ours() {
        let label = parse_label(&label_text()).unwrap();
        assert_eq!(label.1, std::process::id());
        assert!(!is_stale(&label, &host_name(), now_secs()));
        assert_eq!(parse_label("production copy, keep"), None);
        assert_eq!(parse_label("migsafe clone host=a pid=x started=1"), None);
        // Old enough: stale from any host.
        assert!(is_stale(&("elsewhere".into(), 1, 0), "here", now_secs()));
        // Another host's recent clone: its pid means nothing here.
        assert!(!is_stale(
            &("elsewhere".into(), 1, now_secs()),
            "here",
            now_secs()
        ));
    }
}
