//! A lost connection is a run that could not finish, never evidence: the server went away
//! (crashed, restarted, was killed, the network dropped) while migsafe was reading the copy,
//! making the clone, running the migration or its rollback. Such a run exits 2 with
//! "connection lost" and names whatever it had to leave behind; it must not turn into a
//! skipped rule, a "fails on copy" finding or a passing gate.
//!
//! What counts (https://www.postgresql.org/docs/current/errcodes-appendix.html): I/O errors of
//! the socket (reset, broken pipe, end of stream), SQLSTATE class 08 (connection exception),
//! `57P01` admin_shutdown (also what a backend reports when it sees the postmaster die),
//! `57P02` crash_shutdown and `57P03` cannot_connect_now.

use std::fmt;

/// The run lost its connection to a server; shown as the cause, with what was left behind.
#[derive(Debug)]
pub struct ConnectionLost {
    /// The error chain as it was when the connection went away (`{:#}`).
    pub cause: String,
    /// Databases (or other things) migsafe made and could not remove, each with where.
    pub left_behind: Vec<String>,
}

impl fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection lost: the server closed the connection or went away during the \
             review, so the review could not finish ({})",
            self.cause
        )?;
        if self.left_behind.is_empty() {
            write!(f, "; nothing was left behind")
        } else {
            write!(
                f,
                "; left behind: {} (labelled as migsafe's; the next run against that server \
                 removes it)",
                self.left_behind.join(", ")
            )
        }
    }
}

impl std::error::Error for ConnectionLost {}

/// Whether a driver error means the connection is gone.
pub fn is_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Protocol(text) => {
            let text = text.to_ascii_lowercase();
            text.contains("connection") || text.contains("eof") || text.contains("closed")
        }
        sqlx::Error::Database(db) => db.code().is_some_and(|c| lost_sqlstate(&c)),
        _ => false,
    }
}

fn lost_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// Whether anywhere in an error chain a connection was lost.
pub fn is_connection_lost(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|e| e.downcast_ref::<sqlx::Error>().is_some_and(is_lost) || e.is::<ConnectionLost>())
}

/// `error` as a [`ConnectionLost`] naming `left_behind` when a connection was lost in it;
/// otherwise `error` itself, with anything left behind added as context.
pub fn classify(error: anyhow::Error, left_behind: Vec<String>) -> anyhow::Error {
    if let Some(lost) = error.downcast_ref::<ConnectionLost>() {
        let mut all = lost.left_behind.clone();
        all.extend(left_behind);
        return ConnectionLost {
            cause: lost.cause.clone(),
            left_behind: all,
        }
        .into();
    }
    if is_connection_lost(&error) {
        return ConnectionLost {
            cause: format!("{error:#}"),
            left_behind,
        }
        .into();
    }
    if left_behind.is_empty() {
        error
    } else {
        let note = format!(
            "left behind: {} (the next run against that server removes it)",
            left_behind.join(", ")
        );
        anyhow::anyhow!("{error:#}; {note}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_and_shutdown_codes_are_lost_connections() {
        let io = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "eof",
        ));
        assert!(is_lost(&io));
        assert!(lost_sqlstate("57P01"));
        assert!(lost_sqlstate("08006"));
        assert!(!lost_sqlstate("42P01"));
        assert!(!is_lost(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn the_message_says_connection_lost_and_names_what_is_left() {
        let error = anyhow::Error::new(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        )))
        .context("Failed to EXPLAIN migrations/1.sql:3");
        let shown = format!(
            "{:#}",
            classify(error, vec!["database migsafe_clone_1_0".into()])
        );
        assert!(shown.starts_with("connection lost"), "{shown}");
        assert!(shown.contains("migrations/1.sql:3"), "{shown}");
        assert!(shown.contains("migsafe_clone_1_0"), "{shown}");
    }
}
