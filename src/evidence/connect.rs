//! Opening a connection to a database that may be production: read-only session, short lock
//! and statement timeouts, errors that name the server but never the password, and the
//! server's identity (version, database, size, freshness of statistics).
//!
//! PRODUCT.md §4: `--database-url` is a copy that migsafe only reads. The session is made
//! read-only with `default_transaction_read_only`, so even a bug in migsafe cannot write
//! there, and `lock_timeout` keeps a catalog read from queueing behind a migration that holds
//! an ACCESS EXCLUSIVE lock (and from making every later query queue behind us).

use anyhow::{bail, Context as _, Result};
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::fmt;
use std::time::Duration;

/// Limits applied to every session migsafe opens for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// How long a statement may wait for a lock before it fails (`lock_timeout`).
    pub lock_timeout: Duration,
    /// How long a statement may run (`statement_timeout`); also bounds how long a
    /// transaction may sit idle (`idle_in_transaction_session_timeout`), so that a stalled
    /// migsafe never pins the xmin horizon of the copy for long.
    pub statement_timeout: Duration,
    /// How long to wait for the server to accept the connection.
    pub connect_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a connection could not be opened; callers branch on it to give advice (e.g. the test
/// harness tells the developer to start PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The URL itself could not be understood.
    InvalidUrl,
    /// Nothing answered at host:port (refused, unresolvable, timed out, server starting up).
    Unreachable,
    /// The server answered but has no database of that name.
    UnknownDatabase,
    /// The server refused the user or password.
    AuthenticationFailed,
    /// Anything else (TLS, too many connections, protocol errors).
    Other,
}

/// A connection failure with everything a user needs to fix it, and no password.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub failure: ConnectFailure,
    message: String,
}

/// Opens a read-only session with the default [`SessionLimits`].
pub async fn connect_read_only(url: &str) -> Result<PgConnection> {
    connect_read_only_with(url, SessionLimits::default()).await
}

/// Opens a session on which every transaction is read-only and no statement waits for a lock
/// longer than `limits.lock_timeout` or runs longer than `limits.statement_timeout`.
///
/// The settings are session-level `set_config` calls, so they hold for every later statement
/// on this connection. Behind a pooler in transaction mode (PgBouncer
/// `pool_mode = transaction`) a later transaction may run on another server connection
/// without them: connect to PostgreSQL directly (or through a session-mode pool). The
/// catalog's structure is additionally read in an explicit `READ ONLY` transaction.
pub async fn connect_read_only_with(url: &str, limits: SessionLimits) -> Result<PgConnection> {
    let (mut conn, target) = connect(url, limits.connect_timeout).await?;
    let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
    let (read_only, _, _, _): (String, String, String, String) = sqlx::query_as(
        "SELECT set_config('default_transaction_read_only', 'on', false), \
                set_config('lock_timeout', $1, false), \
                set_config('statement_timeout', $2, false), \
                set_config('idle_in_transaction_session_timeout', $2, false)",
    )
    .bind(ms(limits.lock_timeout))
    .bind(ms(limits.statement_timeout))
    .fetch_one(&mut conn)
    .await
    .map_err(|e| anyhow::anyhow!("{}", scrub(&e.to_string(), url)))
    .with_context(|| format!("Failed to make the session on {target} read-only"))?;
    if read_only != "on" {
        bail!("Failed to make the session on {target} read-only: default_transaction_read_only is {read_only:?}");
    }
    Ok(conn)
}

/// Opens an ordinary (writable) session with `limits`' timeouts, for the few things migsafe
/// writes: creating and dropping its own clones (on the server's maintenance database) and
/// running migrations on a disposable database. Never used on the copy itself.
pub async fn connect_writable(url: &str, limits: SessionLimits) -> Result<PgConnection> {
    let (mut conn, target) = connect(url, limits.connect_timeout).await?;
    let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
    sqlx::query(
        "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
    )
    .bind(ms(limits.lock_timeout))
    .bind(ms(limits.statement_timeout))
    .execute(&mut conn)
    .await
    .map_err(|e| anyhow::anyhow!("{}", scrub(&e.to_string(), url)))
    .with_context(|| format!("Failed to set timeouts on {target}"))?;
    Ok(conn)
}

/// Opens a plain connection, mapping failures to a [`ConnectError`] that names host, port,
/// database and user and says what to check.
async fn connect(url: &str, timeout: Duration) -> Result<(PgConnection, Target)> {
    let options = super::conninfo::options(url).map_err(|e| ConnectError {
        failure: ConnectFailure::InvalidUrl,
        message: format!(
            "Failed to parse database URL {}: {}",
            redact_url(url),
            scrub(&e.to_string(), url)
        ),
    })?;
    let options = if options.get_application_name().is_none() {
        options.application_name("migsafe")
    } else {
        options
    };
    let target = Target::of(&options);
    let result = tokio::time::timeout(timeout, super::conninfo::open(&options)).await;
    let error = match result {
        Ok(Ok(conn)) => return Ok((conn, target)),
        Ok(Err(e)) => e,
        Err(_) => {
            return Err(ConnectError {
                failure: ConnectFailure::Unreachable,
                message: format!(
                    "Failed to connect to {target}: the server is unreachable (no answer \
                     within {}s); is PostgreSQL running there, and reachable from this machine?",
                    timeout.as_secs()
                ),
            }
            .into())
        }
    };
    let (failure, problem, hint) = classify(&error);
    Err(ConnectError {
        failure,
        message: format!(
            "Failed to connect to {target}: {problem} ({}){hint}",
            scrub(&cause(&error), url)
        ),
    }
    .into())
}

/// The driver error's own words: the server's message for server errors (sqlx's Display
/// adds the server's source line, which means nothing to a user).
fn cause(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(e) => e.to_string(),
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    }
}

/// Sorts a driver error into a [`ConnectFailure`], a short statement of the problem and a
/// hint for the user.
fn classify(error: &sqlx::Error) -> (ConnectFailure, &'static str, &'static str) {
    const UNREACHABLE: &str = "; is PostgreSQL running and listening on that host and port?";
    if super::conninfo::is_tls_failure(error) {
        return (
            ConnectFailure::Other,
            "TLS failed",
            "; check sslmode, sslrootcert and the host name against the server's certificate",
        );
    }
    match error {
        sqlx::Error::Io(_) => (
            ConnectFailure::Unreachable,
            "the server is unreachable",
            UNREACHABLE,
        ),
        sqlx::Error::Configuration(_) => (
            ConnectFailure::InvalidUrl,
            "invalid connection settings",
            "",
        ),
        sqlx::Error::Tls(_) => (
            ConnectFailure::Other,
            "TLS failed",
            "; check sslmode and the certificates in the URL",
        ),
        // SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("3D000") => (
                ConnectFailure::UnknownDatabase,
                "the database does not exist",
                "; check the database name in the URL",
            ),
            Some("28P01") | Some("28000") => (
                ConnectFailure::AuthenticationFailed,
                "authentication failed",
                "; check the user name and password (the password is not shown)",
            ),
            Some("57P03") => (
                ConnectFailure::Unreachable,
                "the server is not accepting connections",
                "; it is starting up or shutting down: retry in a moment",
            ),
            _ => (
                ConnectFailure::Other,
                "the server refused the connection",
                "",
            ),
        },
        _ => (ConnectFailure::Other, "the connection failed", ""),
    }
}

/// Where a connection goes, for messages: `PostgreSQL at 127.0.0.1:5432, database "shop",
/// user "app"`. Built from the parsed options, so it shows what the driver will actually use
/// (defaults and PG* environment variables included) and cannot contain the password.
struct Target {
    host: String,
    port: u16,
    database: Option<String>,
    user: String,
}

impl Target {
    fn of(options: &PgConnectOptions) -> Target {
        let host = match options.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => options.get_host().to_string(),
        };
        Target {
            host,
            port: options.get_port(),
            database: options.get_database().map(str::to_string),
            user: options.get_username().to_string(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgreSQL at {}:{}", self.host, self.port)?;
        if let Some(db) = &self.database {
            write!(f, ", database \"{db}\"")?;
        }
        write!(f, ", user \"{}\"", self.user)
    }
}

/// The URL with its password replaced by `***`, for every message and report.
///
/// Handles the userinfo password (`postgres://user:secret@host/db`) and `password=` query
/// parameters. When the URL is malformed (e.g. an unescaped `@` or `/` in the password) it
/// errs towards hiding too much rather than too little.
pub fn redact_url(url: &str) -> String {
    // A scheme with too few slashes (`postgres:/app:pw@host`) still carries a userinfo.
    let scheme_end = match url.find("://") {
        Some(i) => Some(i + 3),
        None => url
            .find(':')
            .filter(|&i| {
                url[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            })
            .filter(|&i| i > 0 && url[i + 1..].starts_with('/') && url[i..].contains('@'))
            .map(|i| i + 1 + url[i + 1..].len() - url[i + 1..].trim_start_matches('/').len()),
    };
    let (scheme, rest) = match scheme_end {
        Some(i) => (&url[..i], &url[i..]),
        None => ("", url),
    };
    // Without a scheme, `user:pw@host/db` still has a userinfo; `key=value` strings do not.
    let userinfo_form = !scheme.is_empty() || (!rest.contains(' ') && !rest.contains('='));
    // The userinfo ends at the last '@' before the query; a password with an unescaped '?'
    // or '#' pushes the '@' past it, so fall back to the last '@' anywhere.
    let query_start = rest.find(['?', '#']).unwrap_or(rest.len());
    let at = rest[..query_start]
        .rfind('@')
        .or_else(|| rest.rfind('@').filter(|&at| rest[..at].contains(':')));
    let (userinfo, after) = match (userinfo_form, at) {
        (true, Some(at)) => (&rest[..at], &rest[at..]),
        _ => ("", rest),
    };
    let userinfo = match userinfo.find(':') {
        Some(colon) => format!("{}:***", &userinfo[..colon]),
        None => userinfo.to_string(),
    };
    format!(
        "{scheme}{userinfo}{}",
        redact_encoded_password_keys(&redact_password_params(after))
    )
}

/// A query pair whose key is percent-encoded (`password%3Ds3cret`) is no parameter the
/// driver reads, but it still holds the password: hide every pair that mentions one once
/// decoded.
fn redact_encoded_password_keys(text: &str) -> String {
    let Some((base, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let decoded = percent_decode(pair).to_ascii_lowercase();
            if decoded.contains("password") && !pair.ends_with("=***") {
                "***".to_string()
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// Replaces the value of every `password`-like key (`password=`, `sslpassword=`) in a query
/// string or a `key=value` connection string.
fn redact_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key_start = rest[..eq]
            .rfind(['?', '&', ' ', ';', '#'])
            .map(|i| i + 1)
            .unwrap_or(0);
        let key = &rest[key_start..eq];
        out.push_str(&rest[..=eq]);
        rest = &rest[eq + 1..];
        if key.to_ascii_lowercase().contains("password") {
            let end = rest.find(['&', ' ', ';', '#']).unwrap_or(rest.len());
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Removes any password from `url` that appears in a driver message, raw or percent-decoded.
/// The driver is not known to echo passwords; this keeps it that way if it ever does.
fn scrub(message: &str, url: &str) -> String {
    let mut out = message.to_string();
    for secret in passwords_in(url) {
        if secret.len() >= 3 {
            out = out.replace(&secret, "***");
        }
    }
    out
}

/// Every password-looking value in a URL, raw and percent-decoded.
fn passwords_in(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    if let Some(at) = rest.rfind('@') {
        if let Some((_, password)) = rest[..at].split_once(':') {
            found.push(password.to_string());
        }
    }
    for pair in rest.split(['?', '&', ' ']) {
        if let Some((key, value)) = pair.split_once('=') {
            if key.to_ascii_lowercase().contains("password") {
                found.push(value.to_string());
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|p| percent_decode(p)).collect();
    found.extend(decoded);
    found
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (Some(&b), _, _) => {
                out.push(b);
                i += 1;
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which server and database a session is talking to, and how fresh its statistics are.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ServerIdentity {
    /// `server_version_num`, e.g. `150020` for 15.20.
    pub version_num: i32,
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub version: String,
    pub database: String,
    /// `pg_database_size` of the current database.
    pub database_bytes: i64,
    /// A standby: read-only by nature, and its statistics views describe only the standby.
    pub in_recovery: bool,
    /// Latest `last_analyze`/`last_autoanalyze` over user tables, UTC ISO 8601; `None` when
    /// no user table was ever analyzed (row estimates are then guesses).
    pub last_analyzed: Option<String>,
    /// Seconds between that analyze and now.
    pub seconds_since_analyze: Option<f64>,
}

impl ServerIdentity {
    /// Major version: 15 for `150020`.
    pub fn major(&self) -> i32 {
        self.version_num / 10_000
    }
}

/// Reads the server version, current database, its size and the latest analyze time.
pub async fn server_identity(conn: &mut PgConnection) -> Result<ServerIdentity> {
    sqlx::query_as(
        "SELECT current_setting('server_version_num')::int4 AS version_num, \
                current_setting('server_version') AS version, \
                current_database()::text AS database, \
                pg_database_size(current_database()) AS database_bytes, \
                pg_is_in_recovery() AS in_recovery, \
                to_char(s.last AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                    AS last_analyzed, \
                extract(epoch FROM now() - s.last)::float8 AS seconds_since_analyze \
         FROM (SELECT max(greatest(last_analyze, last_autoanalyze)) AS last \
               FROM pg_stat_user_tables) AS s",
    )
    .fetch_one(conn)
    .await
    .context("Failed to read the server version and database identity")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/shop"),
            "postgres://app:***@db.internal:5432/shop"
        );
        assert_eq!(
            redact_url("postgresql://:s3cret@localhost/shop?sslmode=require"),
            "postgresql://:***@localhost/shop?sslmode=require"
        );
    }

    #[test]
    fn leaves_urls_without_password_alone() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://localhost/shop?sslmode=disable&application_name=x",
            "postgres:///shop?host=/var/run/postgresql",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn redacts_password_query_parameters() {
        assert_eq!(
            redact_url("postgres://app@db/shop?password=s3cret&sslmode=require"),
            "postgres://app@db/shop?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/shop?sslmode=verify-full&sslpassword=k3y"),
            "postgres://db/shop?sslmode=verify-full&sslpassword=***"
        );
        assert_eq!(
            redact_url("host=db user=app password=s3cret dbname=shop"),
            "host=db user=app password=*** dbname=shop"
        );
    }

    #[test]
    fn malformed_passwords_never_leak() {
        for (url, secret) in [
            ("postgres://app:pa@ss@db/shop", "pa@ss"),
            ("postgres://app:pa?ss@db/shop", "pa?ss"),
            ("postgres://app:pa/ss@db/shop", "pa/ss"),
            ("postgres://app:pa#ss@db/shop", "pa#ss"),
            ("postgres://app:p%40ss@db/shop", "p%40ss"),
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url} shown as {shown}");
            assert!(shown.contains("***"), "{url} shown as {shown}");
        }
    }

    #[test]
    fn odd_url_shapes_hide_their_password() {
        for (url, shown) in [
            (
                "postgres:/app:s3cret@db:9/shop",
                "postgres:/app:***@db:9/shop",
            ),
            ("app:s3cret@db/shop", "app:***@db/shop"),
            (
                "postgres://app@db/shop?password%3Ds3cret&sslmode=require",
                "postgres://app@db/shop?***&sslmode=require",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }

    #[test]
    fn scrub_removes_raw_and_decoded_passwords() {
        let url = "postgres://app:p%40ss%21@db/shop";
        assert_eq!(
            scrub("auth failed for p@ss! and p%40ss%21", url),
            "auth failed for *** and ***"
        );
    }

    #[tokio::test]
    async fn unparseable_url_error_hides_the_password() {
        let err = connect_read_only("postgres://app:s3cret@db:notaport/shop")
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("app:***@db"), "{text}");
        let failure = err.downcast_ref::<ConnectError>().map(|e| e.failure);
        assert_eq!(failure, Some(ConnectFailure::InvalidUrl));
    }
}
