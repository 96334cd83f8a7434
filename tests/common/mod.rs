//! The PostgreSQL test harness every database test uses: a fresh database per test, created
//! on the server named by `MIGSAFE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), loaded with SQL fixtures, and dropped when
//! the `TestDb` goes out of scope — also when the test panics.
//!
//! When `MIGSAFE_TEST_DATABASE_URL` is unset and nothing answers at the default address, the
//! harness starts a temporary local cluster with migsafe's own `evidence::cluster` (once per
//! test process) and uses it. That cluster outlives every test of the process and no
//! destructor runs at process exit (statics are never dropped), so it is handed to its
//! watchdog (`LocalCluster::stop_when_process_exits`): a small process in its own process
//! group that stops the postmaster and removes its directory within about a second after the
//! test process exits, however it exits (normally, by panic, or killed).
//!
//! No server and no way to start one means a loud failure with instructions, never a silent
//! skip (STYLE.md "Tests", as sqlx's `#[sqlx::test]` does): a skipped database test looks
//! exactly like a passing one.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod cluster;
pub mod fingerprint;
pub mod json;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const URL_ENV: &str = "MIGSAFE_TEST_DATABASE_URL";
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Replaces [`DEFAULT_URL`]; only for testing the fallback (point it at a dead port).
pub const DEFAULT_URL_ENV: &str = "MIGSAFE_TEST_DEFAULT_URL";

/// Why the fallback cluster could not be started, for the failure message.
static FALLBACK_PROBLEM: OnceLock<String> = OnceLock::new();

/// Lines consisting of this comment split a fixture into parts run one after another, each
/// in its own implicit transaction. psql ignores it, so fixtures stay runnable with `psql -f`.
pub const BATCH_MARKER: &str = "-- batch";

/// The maintenance URL: a database on the test server that tests connect to in order to
/// create and drop their own.
pub fn server_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(resolve_server_url).clone()
}

/// The explicit URL; else the default when something listens there; else a temporary
/// cluster; else the default (and the connection failure explains).
fn resolve_server_url() -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|u| !u.trim().is_empty());
    if let Some(url) = env(URL_ENV) {
        return url;
    }
    let default = env(DEFAULT_URL_ENV).unwrap_or_else(|| DEFAULT_URL.to_string());
    if listening(&default) {
        return default;
    }
    match start_fallback_cluster() {
        Ok(url) => url,
        Err(problem) => {
            let _ = FALLBACK_PROBLEM.set(problem);
            default
        }
    }
}

/// Whether anything accepts TCP connections at the URL's host and port (within 2 s).
fn listening(url: &str) -> bool {
    use std::net::ToSocketAddrs as _;
    let Ok(options) = PgConnectOptions::from_str(url) else {
        return false;
    };
    if options.get_socket().is_some() {
        return true;
    }
    let Ok(addresses) = (options.get_host(), options.get_port()).to_socket_addrs() else {
        return false;
    };
    addresses
        .into_iter()
        .any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// Starts a temporary cluster on its own thread and runtime (the caller may be inside a
/// runtime, where blocking on another is not allowed) and hands it to its watchdog.
fn start_fallback_cluster() -> Result<String, String> {
    use migsafe::evidence::cluster::{DataDir, LocalCluster, Needs, PgBinaries};
    std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let bins = PgBinaries::find(Needs::Server).map_err(|e| format!("{e:#}"))?;
            let cluster = LocalCluster::start(bins, DataDir::Temporary)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let url = cluster.url("postgres");
            eprintln!("note: no PostgreSQL answered at the default address; the tests use a temporary cluster at {url}");
            cluster.stop_when_process_exits();
            Ok(url)
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the thread starting it panicked".to_string()))
}

/// `url` pointing at database `name` instead, keeping user, host, port and parameters.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..path_start])
}

/// Host and port the test server URL resolves to (for building URLs that must fail).
pub fn server_host_port() -> (String, u16) {
    let options = PgConnectOptions::from_str(&server_url())
        .unwrap_or_else(|e| panic!("{URL_ENV} is not a valid PostgreSQL URL: {e}"));
    (options.get_host().to_string(), options.get_port())
}

/// The user the test server URL connects as.
pub fn server_user() -> String {
    PgConnectOptions::from_str(&server_url())
        .map(|o| o.get_username().to_string())
        .unwrap_or_else(|_| "postgres".to_string())
}

/// Path of a file under `fixtures/`.
pub fn fixture_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Connects to `url`, or fails the test with a message that says how to get a server.
async fn connect_or_explain(url: &str) -> PgConnection {
    let shown = migsafe::evidence::connect::redact_url(url);
    let attempt = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await;
    let error = match attempt {
        Ok(Ok(conn)) => return conn,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 10s".to_string(),
    };
    panic!(
        "\n\nmigsafe's database tests need a PostgreSQL server, and none answered at {shown}:\n  \
         {error}\n\n\
         Fix it by either\n  \
         - starting PostgreSQL locally (e.g. `pg_ctlcluster 15 main start`, or \
         `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`), or\n  \
         - setting {URL_ENV} to a server where this user may CREATE DATABASE, e.g.\n    \
         {URL_ENV}=postgres://postgres@127.0.0.1:5432/postgres cargo test\n\n\
         Database tests never skip silently: a skipped test would look like a passing one.\n{}",
        FALLBACK_PROBLEM
            .get()
            .map(|p| format!("\nA temporary local cluster could not be started either:\n  {p}\n"))
            .unwrap_or_default()
    );
}

/// A database of its own for one test, dropped on `Drop`.
pub struct TestDb {
    /// The database's name (unique per process, test and run).
    pub name: String,
    /// URL of the database, for code under test that takes a URL.
    pub url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates an empty database named after `prefix`.
    pub async fn create(prefix: &str) -> TestDb {
        let admin_url = server_url();
        let mut admin = connect_or_explain(&admin_url).await;
        let name = unique_name(prefix);
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| {
                panic!("Failed to create test database {name} (does the user have CREATEDB?): {e}")
            });
        let _ = admin.close().await;
        TestDb {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// Creates a database and loads `fixtures/<fixture>` into it.
    pub async fn with_fixture(prefix: &str, fixture: &str) -> TestDb {
        let db = TestDb::create(prefix).await;
        db.load_fixture(fixture).await;
        db
    }

    /// An ordinary read-write connection to the database (for setting up state).
    pub async fn connect(&self) -> PgConnection {
        connect_or_explain(&self.url).await
    }

    /// Runs SQL through the simple query protocol (several statements allowed, no
    /// parameters; they run in one implicit transaction), failing the test on error.
    pub async fn execute(&self, sql: &str) {
        if let Err(e) = self.try_execute(sql).await {
            panic!(
                "Failed to run SQL on {}: {e}\n--- SQL ---\n{sql}",
                self.name
            );
        }
    }

    /// Runs SQL like `execute`, returning the error instead of failing the test (for
    /// statements that are expected to fail).
    pub async fn try_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        let mut conn = self.connect().await;
        let result = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .map(|_| ());
        let _ = conn.close().await;
        result
    }

    /// Loads `fixtures/<relative>`: each part between `-- batch` lines runs separately.
    pub async fn load_fixture(&self, relative: &str) {
        let path = fixture_path(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("Failed to read fixture {}: {e}", path.display()));
        for part in split_batches(&text) {
            if let Err(e) = self.try_execute(part).await {
                panic!(
                    "Failed to load fixture {} into {}: {e}\n--- part ---\n{part}",
                    path.display(),
                    self.name
                );
            }
        }
    }
}

/// The parts of a fixture between `-- batch` lines, without empty ones.
pub fn split_batches(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == BATCH_MARKER {
            parts.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// Drop cannot be async, and it usually runs inside the test's tokio runtime, where a second
/// runtime cannot block. So the drop runs on a fresh thread with its own current-thread
/// runtime, and this thread waits for it. Best effort: a failure is printed, not raised, so a
/// failing test reports its own failure rather than a cleanup one.
impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(drop_database(&admin_url, &name))
        })
        .join();
        let problem = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the cleanup thread panicked".to_string(),
        };
        eprintln!(
            "warning: could not drop test database {}: {problem}",
            self.name
        );
    }
}

/// `DROP DATABASE ... WITH (FORCE)` (PostgreSQL 13+), which also ends sessions the test left
/// open; on older servers, end them by hand and drop.
async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut admin = PgConnection::connect(admin_url)
        .await
        .map_err(|e| e.to_string())?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let forced = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    if forced.is_err() {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {quoted}")))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
    }
    let _ = admin.close().await;
    Ok(())
}

/// `migsafe_<prefix>_<pid>_<counter>_<time>`: unique across parallel tests in one process
/// (counter), parallel test processes (pid) and reruns after a crash left a database behind
/// (time). At most 63 bytes, PostgreSQL's identifier limit.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    let mut name = format!("migsafe_{clean}_{}_{n}_{nanos:x}", std::process::id());
    name.truncate(63);
    name
}
