//! Running the user's framework (Alembic, Django) as a child process: with a timeout, with
//! standard input closed, and with an environment from which every database URL and libpq
//! setting is removed, so that rendering migrations can never reach a real database.
//!
//! What reaches the child (decided in notes/python.md):
//!
//! - The parent's environment, minus: `DATABASE_URL`, `MIGSAFE_DATABASE_URL`, every `PG*`
//!   variable (libpq's host, password, service file…), every variable whose name ends in
//!   `_URL`/`_URI`/`_DSN` and names a database (`…DATABASE…`, `…DB_…`, `…POSTGRES…`), and every
//!   variable whose value is a URL carrying credentials (`scheme://user:secret@host`) or a
//!   PostgreSQL URL, whatever its name. `--database-url` arrives through the command line or
//!   `MIGSAFE_DATABASE_URL`, so it is covered by both rules.
//! - `DATABASE_URL` and `PGHOST` set to a placeholder on the reserved `.invalid` domain: a
//!   settings module or env.py that insists on reading `DATABASE_URL` still loads, and a
//!   connection attempt fails at name resolution instead of finding the local socket.
//! - `PYTHONDONTWRITEBYTECODE=1`, so rendering leaves no `__pycache__` in the project.

use anyhow::{bail, Result};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The URL the child sees instead of any real one.
pub const PLACEHOLDER_URL: &str = "postgresql://migsafe@migsafe-render.invalid/migsafe";

/// What the child printed.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Whether the environment variable `name=value` could point the child at a database.
pub fn is_database_setting(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("PG") || upper == "DATABASE_URL" || upper == "MIGSAFE_DATABASE_URL" {
        return true;
    }
    let url_like = ["_URL", "_URI", "_DSN"].iter().any(|s| upper.ends_with(s));
    let names_db = ["DATABASE", "DB_", "POSTGRES", "SQLALCHEMY"]
        .iter()
        .any(|s| upper.contains(s))
        || upper.starts_with("DB");
    if url_like && names_db {
        return true;
    }
    let lower = value.trim().to_ascii_lowercase();
    if lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
        || lower.starts_with("postgresql+")
    {
        return true;
    }
    // Any URL with a password in it: `scheme://user:secret@host`.
    if let Some((scheme, rest)) = lower.split_once("://") {
        let scheme_ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if scheme_ok && authority.contains('@') && authority.contains(':') {
            return true;
        }
    }
    false
}

/// Runs `program args…` in `dir` and returns its output; an error names the command, its exit
/// status and the end of its stderr, or says that it did not finish within `timeout`.
pub fn run(
    program: &str,
    args: &[String],
    dir: &Path,
    timeout: Duration,
    what: &str,
) -> Result<Output> {
    let shown = shown_command(program, args);
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in std::env::vars_os() {
        let (n, v) = (name.to_string_lossy(), value.to_string_lossy());
        if is_database_setting(&n, &v) {
            command.env_remove(&name);
        }
    }
    command
        .env("DATABASE_URL", PLACEHOLDER_URL)
        .env("PGHOST", "migsafe-render.invalid")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{what}: `{program}` was not found (running `{shown}` in {}). Install Python and \
             the project's dependencies, or name the interpreter with `[python] interpreter = \
             \"…\"` in migsafe.toml or MIGSAFE_PYTHON",
            dir.display()
        ),
        Err(e) => bail!("{what}: could not run `{shown}` in {}: {e}", dir.display()),
    };
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{what}: `{shown}` in {} did not finish within {} s and was stopped (a \
                     settings module or env.py waiting for a database or network?). Raise \
                     `[python] timeout` in migsafe.toml if the project is just slow to import",
                    dir.display(),
                    timeout.as_secs()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => bail!("{what}: waiting for `{shown}` failed: {e}"),
        }
    };
    let stdout = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    if !status.success() {
        bail!(
            "{what}: `{shown}` in {} failed ({status}):\n{}",
            dir.display(),
            tail(&stderr, 40)
        );
    }
    Ok(Output { stdout, stderr })
}

/// The command as shown in errors: the inline renderer script stands as `<migsafe renderer>`.
fn shown_command(program: &str, args: &[String]) -> String {
    let mut parts = vec![program.to_string()];
    let mut skip_script = false;
    for a in args {
        if skip_script {
            parts.push("<migsafe renderer>".to_string());
            skip_script = false;
            continue;
        }
        if a == "-c" {
            skip_script = true;
        }
        parts.push(a.clone());
    }
    parts.join(" ")
}

/// The last `n` lines of `text`, indented.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(n);
    lines
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_settings_are_recognised_by_name_and_by_value() {
        for (n, v) in [
            ("DATABASE_URL", "x"),
            ("PGPASSWORD", "secret"),
            ("PGHOST", "db"),
            ("MIGSAFE_DATABASE_URL", "postgres://a@b/c"),
            ("ORDERS_DB_URL", "whatever"),
            ("SQLALCHEMY_DATABASE_URI", "sqlite://"),
            ("PRIMARY", "postgresql+psycopg://u@h/d"),
            ("CACHE", "redis://user:hunter2@cache:6379/0"),
        ] {
            assert!(is_database_setting(n, v), "{n}={v}");
        }
        for (n, v) in [
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("DJANGO_SETTINGS_MODULE", "shop.settings"),
            ("DOCS_URL", "https://example.org/docs"),
            ("PYTHONPATH", "/src"),
        ] {
            assert!(!is_database_setting(n, v), "{n}={v}");
        }
    }

    #[test]
    fn the_child_never_sees_a_database_url() {
        let dir = tempfile::tempdir().unwrap();
        // The variable is set for this process only through the command we build: use `env`.
        let out = run(
            "sh",
            &[
                "-c".to_string(),
                "echo \"$DATABASE_URL|$PGPASSWORD|${PGHOST}\"".to_string(),
            ],
            dir.path(),
            Duration::from_secs(20),
            "test",
        )
        .unwrap();
        assert_eq!(
            out.stdout.trim(),
            format!("{PLACEHOLDER_URL}||migsafe-render.invalid")
        );
    }

    #[test]
    fn a_missing_program_and_a_failing_one_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = run(
            "migsafe-no-such-python",
            &[],
            dir.path(),
            Duration::from_secs(5),
            "rendering",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("migsafe-no-such-python") && e.contains("MIGSAFE_PYTHON"),
            "{e}"
        );
        let e = run(
            "sh",
            &[
                "-c".to_string(),
                "echo 'settings broke' >&2; exit 3".to_string(),
            ],
            dir.path(),
            Duration::from_secs(20),
            "rendering",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("settings broke") && e.contains("sh -c <migsafe renderer>"),
            "{e}"
        );
    }

    #[test]
    fn a_hanging_child_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let e = run(
            "sh",
            &["-c".to_string(), "sleep 30".to_string()],
            dir.path(),
            Duration::from_millis(300),
            "rendering",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("did not finish"), "{e}");
    }
}
