//! How migsafe reaches a server named by a URL, the way libpq (psql) would, for its own
//! sessions and for the libpq tools it runs.
//!
//! TLS follows libpq's `sslmode` (https://www.postgresql.org/docs/current/libpq-ssl.html,
//! table "SSL Mode Descriptions"): `disable`; `prefer`, the default, tries TLS and falls back
//! to plain text when the server has none *or the handshake fails*; `require` encrypts without
//! checking the certificate — unless a root certificate is known (`sslrootcert`,
//! `PGSSLROOTCERT` or `~/.postgresql/root.crt`), then it behaves as `verify-ca`;
//! `verify-ca` checks the chain; `verify-full` also the host name. Like libpq, the verifying
//! modes need a root certificate file and fail without one, and `sslrootcert=system` trusts
//! the well-known public CAs instead. `sslmode` is ignored on Unix sockets, as in libpq.
//!
//! The tools (psql, pg_restore) get every setting of the URL through `PG*` environment
//! variables ([`libpq_env`]), never through their command line: any local user can read a
//! process's command line (`ps`, /proc/<pid>/cmdline), while its environment is readable only
//! by its owner and root.

use anyhow::{anyhow, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::Connection as _;
use std::path::PathBuf;
use std::str::FromStr as _;

/// The sqlx options for `url` with libpq's TLS semantics applied (see the module doc).
pub fn options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        // Anything else would be guessed at by the URL parser, and a guess can put the
        // password into the database or user name shown in messages.
        return Err(sqlx::Error::Configuration(
            "a database URL must start with postgres:// or postgresql://".into(),
        ));
    }
    let (url, system_roots) = without_system_rootcert(url);
    let mut options = PgConnectOptions::from_str(&url)?;
    if options.get_socket().is_some() {
        // libpq: "sslmode is ignored for Unix domain socket communication".
        return Ok(options.ssl_mode(PgSslMode::Disable));
    }
    let explicit_root = query_value(&url, "sslrootcert")
        .or_else(|| query_value(&url, "ssl-root-cert"))
        .or_else(|| query_value(&url, "ssl-ca"))
        .or_else(|| {
            std::env::var("PGSSLROOTCERT")
                .ok()
                .filter(|v| v != "system")
        })
        .filter(|v| !v.is_empty());
    let system_roots = system_roots || std::env::var("PGSSLROOTCERT").is_ok_and(|v| v == "system");
    let default_root = default_root_cert().filter(|p| p.is_file());
    let mut root_known = explicit_root.is_some();
    if explicit_root.is_none() && !system_roots {
        if let Some(path) = &default_root {
            options = options.ssl_root_cert(path);
            root_known = true;
        }
    }
    let mode = options.get_ssl_mode();
    if matches!(mode, PgSslMode::Require) && root_known {
        options = options.ssl_mode(PgSslMode::VerifyCa);
    }
    if matches!(mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull) && !root_known && !system_roots {
        let name = if matches!(mode, PgSslMode::VerifyCa) {
            "verify-ca"
        } else {
            "verify-full"
        };
        let home = default_root
            .or_else(default_root_cert)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.postgresql/root.crt".to_string());
        return Err(sqlx::Error::Configuration(
            format!(
                "sslmode={name} needs the root certificate that signed the server's \
                 certificate, and {home} does not exist: set sslrootcert=<file> in the URL (or \
                 PGSSLROOTCERT), use sslrootcert=system to trust the system's public CAs, or \
                 choose sslmode=require to encrypt without verifying"
            )
            .into(),
        ));
    }
    Ok(options)
}

/// Opens a session with `options`; in `prefer` mode a failed TLS handshake is retried in
/// plain text, as libpq does.
pub async fn open(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    match PgConnection::connect_with(options).await {
        Err(e) if is_tls_failure(&e) && matches!(options.get_ssl_mode(), PgSslMode::Prefer) => {
            let plain = options.clone().ssl_mode(PgSslMode::Disable);
            PgConnection::connect_with(&plain).await
        }
        other => other,
    }
}

/// Whether a connection failed in the TLS layer. sqlx reports rustls' handshake and
/// certificate errors as I/O errors, so their words are the only sign.
pub fn is_tls_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Tls(_) => true,
        sqlx::Error::Io(e) => {
            let text = e.to_string().to_ascii_lowercase();
            ["certificate", "tls", "handshake", "alert", "ssl"]
                .iter()
                .any(|w| text.contains(w))
        }
        _ => false,
    }
}

/// Parses `url` and opens a session (see [`options`] and [`open`]).
pub async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    open(&options(url)?).await
}

/// Whether the session is encrypted (`pg_stat_ssl` of its own backend).
pub async fn session_uses_tls(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(conn)
        .await
}

/// Where libpq looks for the root certificate when none is named.
fn default_root_cert() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".postgresql").join("root.crt"))
}

/// The URL without `sslrootcert=system` (sqlx would read it as a file name), and whether it
/// was there: without a file, sqlx trusts the well-known public CAs, which is what libpq's
/// `system` means.
fn without_system_rootcert(url: &str) -> (String, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), false);
    };
    let mut found = false;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let system = pair
                .split_once('=')
                .is_some_and(|(k, v)| is_rootcert_key(k) && v == "system");
            found |= system;
            !system
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, found)
}

fn is_rootcert_key(key: &str) -> bool {
    matches!(key, "sslrootcert" | "ssl-root-cert" | "ssl-ca")
}

/// The percent-decoded value of query parameter `key`.
fn query_value(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

/// libpq environment variables for a URL's query parameters (libpq-envars.html). Parameters
/// without one are not passed on.
const PARAM_ENV: &[(&str, &str)] = &[
    ("sslmode", "PGSSLMODE"),
    ("ssl-mode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("ssl-root-cert", "PGSSLROOTCERT"),
    ("ssl-ca", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("ssl-cert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("ssl-key", "PGSSLKEY"),
    ("sslcrl", "PGSSLCRL"),
    ("sslpassword", "PGSSLPASSWORD"),
    ("application_name", "PGAPPNAME"),
    ("application-name", "PGAPPNAME"),
    ("options", "PGOPTIONS"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
    ("gssencmode", "PGGSSENCMODE"),
    ("channel_binding", "PGCHANNELBINDING"),
    ("krbsrvname", "PGKRBSRVNAME"),
    ("passfile", "PGPASSFILE"),
    ("service", "PGSERVICE"),
    ("hostaddr", "PGHOSTADDR"),
    ("requiressl", "PGREQUIRESSL"),
];

/// Every connection setting of `url` (pointed at database `db`) as libpq environment
/// variables, for psql / pg_restore / pg_dump, so that nothing of the URL — above all its
/// password, whether in the userinfo or in `?password=` — goes on their command line.
/// Errors never quote the URL beyond its redacted form.
pub fn libpq_env(url: &str, db: &str) -> Result<Vec<(String, String)>> {
    let shown = super::connect::redact_url(url);
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| {
            anyhow!("Failed to read database URL {shown}: it must start with postgres://")
        })?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, q),
        None => (rest, ""),
    };
    let (authority, _path) = match before_query.split_once('/') {
        Some((a, p)) => (a, p),
        None => (before_query, ""),
    };
    // The userinfo ends at the last '@' (an unescaped '@' in a password stays inside it).
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (
            authority.get(..at).unwrap_or(""),
            authority.get(at + 1..).unwrap_or(""),
        ),
        None => ("", authority),
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |key: &str, value: String| {
        env.retain(|(k, _)| k != key);
        env.push((key.to_string(), value));
    };
    if !hostport.is_empty() {
        let (host, port) = split_host_port(hostport);
        if !host.is_empty() {
            set("PGHOST", percent_decode(host));
        }
        if let Some(port) = port {
            if port.parse::<u16>().is_err() {
                anyhow::bail!("Failed to read database URL {shown}: the port is not a number");
            }
            set("PGPORT", port.to_string());
        }
    }
    if !user.is_empty() {
        set("PGUSER", percent_decode(user));
    }
    if let Some(password) = password {
        set("PGPASSWORD", percent_decode(password));
    }
    set("PGDATABASE", db.to_string());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "password" => set("PGPASSWORD", value),
            "host" => set("PGHOST", value),
            "port" => set("PGPORT", value),
            "user" => set("PGUSER", value),
            "dbname" => {}
            _ => {
                if let Some((_, var)) = PARAM_ENV.iter().find(|(k, _)| *k == key) {
                    set(var, value);
                }
            }
        }
    }
    Ok(env)
}

/// `dbname='<db>'`: a libpq conninfo naming only a database, quoted per libpq's rules
/// (backslash and single quote escaped with a backslash).
pub fn dbname_conninfo(db: &str) -> String {
    format!("dbname='{}'", db.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `host:port`, `[v6]:port`, `host`.
fn split_host_port(hostport: &str) -> (&str, Option<&str>) {
    if let Some(rest) = hostport.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|&c| (c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(url: &str) -> Vec<(String, String)> {
        libpq_env(url, "shop").unwrap()
    }

    fn get<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn every_password_form_goes_to_pgpassword() {
        for (url, password) in [
            ("postgres://app:s3cret@db:5433/x", "s3cret"),
            (
                "postgres://app@db/x?password=s3cret&sslmode=require",
                "s3cret",
            ),
            ("postgres://app:p%40ss%2Fw@db/x", "p@ss/w"),
            ("postgres://app:pa@ss@db/x", "pa@ss"),
        ] {
            let env = env_of(url);
            assert_eq!(get(&env, "PGPASSWORD"), Some(password), "{url}");
            assert_eq!(get(&env, "PGDATABASE"), Some("shop"), "{url}");
            assert_eq!(get(&env, "PGUSER"), Some("app"), "{url}");
            assert_eq!(get(&env, "PGHOST"), Some("db"), "{url}");
        }
    }

    #[test]
    fn tls_settings_reach_the_tools() {
        let env = env_of(
            "postgres://app@db.example.com:6432/x?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        );
        assert_eq!(get(&env, "PGSSLMODE"), Some("verify-full"));
        assert_eq!(get(&env, "PGSSLROOTCERT"), Some("/etc/ca.pem"));
        assert_eq!(get(&env, "PGPORT"), Some("6432"));
        let socket = env_of("postgres://app@localhost/x?host=/var/run/postgresql");
        assert_eq!(get(&socket, "PGHOST"), Some("/var/run/postgresql"));
    }

    #[test]
    fn database_names_are_quoted_for_libpq() {
        assert_eq!(dbname_conninfo("shop"), "dbname='shop'");
        assert_eq!(dbname_conninfo("it's\\x"), "dbname='it\\'s\\\\x'");
    }

    #[test]
    fn malformed_urls_are_refused_without_their_password() {
        for url in ["mysql://app:s3cret@db/x", "postgres://app:s3cret@db:port/x"] {
            let err = format!("{:#}", libpq_env(url, "x").unwrap_err());
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn verify_modes_need_a_root_certificate_like_libpq() {
        let err = options("postgres://app@db/x?sslmode=verify-full&sslrootcert=")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslrootcert"), "{err}");
        let system = options("postgres://app@db/x?sslmode=verify-full&sslrootcert=system").unwrap();
        assert!(matches!(system.get_ssl_mode(), PgSslMode::VerifyFull));
        let pinned =
            options("postgres://app@db/x?sslmode=require&sslrootcert=/etc/ca.pem").unwrap();
        assert!(matches!(pinned.get_ssl_mode(), PgSslMode::VerifyCa));
        let socket = options("postgres://app@localhost/x?host=/tmp&sslmode=require").unwrap();
        assert!(matches!(socket.get_ssl_mode(), PgSslMode::Disable));
    }
}
