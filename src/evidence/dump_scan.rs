//! The check a plain-SQL dump passes before psql sees it (issue #9 item 2): psql executes
//! the meta-commands of what it reads (`\!` runs a shell command as the invoking user,
//! `\connect` switches to another database, `\copy … program`, `\o |cmd`, `\g |cmd`, `\i`,
//! `\setenv`, backticks in `\set`, …), so a dump is only restored when its only
//! meta-commands are the ones pg_dump itself writes:
//! - `\restrict KEY` and `\unrestrict KEY` (pg_dump 17.6 / 16.10 / 15.14 and later, the fix
//!   for CVE-2025-8714), alone on their line with an alphanumeric key;
//! - `\.` ending the data of a `COPY … FROM stdin`, which psql reads as data, not as a
//!   command.
//!
//! pg_dump's other meta-command, `\connect`, appears only with `--create` (and in pg_dumpall
//! files): it would leave the database migsafe made for the restore, so it is refused with
//! that advice. Statements that act beyond the database (`CREATE DATABASE`, roles,
//! `ALTER SYSTEM`, subscriptions, … see [`crate::parse::server_wide`]) are refused too: the
//! restore target is a disposable database, not a disposable server.
//!
//! The scan follows psql's lexer (psqlscan.l): a backslash outside quotes, comments and
//! COPY data starts a meta-command, except `\;` and `\:`; quotes are `'…'` (backslash
//! escapes only in `E'…'` or when `standard_conforming_strings` is off), `"…"`,
//! `$tag$…$tag$`; comments are `--` and nested `/* */`; after a `COPY … FROM stdin`
//! statement, lines are data up to `\.`. psql lexes strings as the server's
//! `standard_conforming_strings` says, so the restore session starts with it on (PGOPTIONS)
//! and the scan follows `SET standard_conforming_strings`; any other statement that names
//! the setting (`set_config`, a function's SET clause, ALTER … SET) is refused, because the
//! scan could not know how psql lexes what follows.
//!
//! Every problem is reported (up to [`MAX_PROBLEMS`]) with its line, so one bad line does not
//! hide the others; nothing is restored when there is any.

use crate::parse::server_wide::server_wide_when_run;
use anyhow::{bail, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How many problems one error lists.
pub const MAX_PROBLEMS: usize = 20;

/// Statement text kept for classifying it; longer statements are judged by their start (the
/// words that matter come first) plus any function call seen in the kept part.
const KEEP: usize = 256 * 1024;

/// One line of a dump that migsafe will not let psql run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// Scans the plain dump at `path` (`reader` yields its SQL, decompressed) and fails with every
/// problem named by file and line.
pub fn check(path: &Path, reader: impl Read) -> Result<()> {
    let problems = scan(reader)?;
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "Refusing to restore {}: psql would run what pg_dump never writes (nothing was \
         restored):",
        path.display()
    );
    for p in problems.iter().take(MAX_PROBLEMS) {
        text.push_str(&format!("\n  {}:{}: {}", path.display(), p.line, p.message));
    }
    if problems.len() > MAX_PROBLEMS {
        text.push_str(&format!("\n  … and {} more", problems.len() - MAX_PROBLEMS));
    }
    text.push_str(
        "\nRestore a dump made by pg_dump of the one database (without --create), or remove \
         those lines.",
    );
    bail!(text)
}

/// The same check for an archive dump (custom, directory, tar; `gzip` for a gzip'd custom
/// one): its schema as the SQL script pg_restore would send (`pg_restore --schema-only -f -`,
/// with the options the restore uses). pg_restore runs no meta-commands, so what matters here
/// is the server-wide statements an archive can carry. Table data (COPY rows, or INSERTs of a
/// `--inserts` dump) is not read. When pg_restore cannot read the archive, nothing is
/// refused: the restore itself then fails with its own explained error.
pub fn check_archive(path: &Path, pg_restore: &Path, gzip: bool) -> Result<()> {
    use std::process::{Command, Stdio};
    let mut command = Command::new(pg_restore);
    command
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--no-subscriptions",
            "-f",
            "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if gzip {
        command.stdin(Stdio::piped());
    } else {
        command.arg(path).stdin(Stdio::null());
    }
    let Ok(mut child) = command.spawn() else {
        return Ok(());
    };
    let feeder = match (gzip, child.stdin.take()) {
        (true, Some(mut stdin)) => {
            let path = path.to_path_buf();
            Some(std::thread::spawn(move || -> std::io::Result<()> {
                let file = std::fs::File::open(path)?;
                let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file));
                std::io::copy(&mut decoder, &mut stdin).map(|_| ())
            }))
        }
        _ => None,
    };
    let scanned = match child.stdout.take() {
        Some(stdout) => scan(stdout),
        None => Ok(Vec::new()),
    };
    let status = child.wait();
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    let readable = status.map(|s| s.success()).unwrap_or(false);
    match scanned {
        Ok(problems) if readable && !problems.is_empty() => {
            let mut text = format!(
                "Refusing to restore {}: its schema holds statements that act beyond the \
                 database (nothing was restored; lines of `pg_restore --schema-only -f - {}`):",
                path.display(),
                path.display()
            );
            for p in problems.iter().take(MAX_PROBLEMS) {
                text.push_str(&format!("\n  line {}: {}", p.line, p.message));
            }
            if problems.len() > MAX_PROBLEMS {
                text.push_str(&format!("\n  … and {} more", problems.len() - MAX_PROBLEMS));
            }
            bail!(text)
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    LineComment,
    BlockComment(usize),
    /// `'…'`; `true`: backslash escapes.
    Single(bool),
    Double,
    Dollar,
    /// Lines of COPY data, up to `\.`.
    CopyData,
}

struct Scanner {
    state: State,
    line: usize,
    /// `standard_conforming_strings` as psql sees it.
    standard: bool,
    /// The statement so far (outside comments), for COPY detection and classification.
    stmt: Vec<u8>,
    stmt_line: usize,
    parens: i64,
    dollar_tag: Vec<u8>,
    prev: u8,
    problems: Vec<Problem>,
}

/// Every problem of the SQL `reader` yields.
pub fn scan(reader: impl Read) -> Result<Vec<Problem>> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut s = Scanner {
        state: State::Normal,
        line: 1,
        standard: true,
        stmt: Vec::new(),
        stmt_line: 1,
        parens: 0,
        dollar_tag: Vec::new(),
        prev: b'\n',
        problems: Vec::new(),
    };
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        s.scan_line(&line);
        s.line += 1;
    }
    s.end_statement();
    Ok(s.problems)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Scanner {
    fn scan_line(&mut self, line: &[u8]) {
        if self.state == State::CopyData {
            let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            if trimmed == b"\\." {
                self.state = State::Normal;
                self.prev = b'\n';
            }
            return;
        }
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            let next = line.get(i + 1).copied();
            match self.state {
                State::Normal => {
                    match b {
                        b'-' if next == Some(b'-') => {
                            self.state = State::LineComment;
                            i += 1;
                        }
                        b'/' if next == Some(b'*') => {
                            self.state = State::BlockComment(1);
                            i += 1;
                        }
                        b'\'' => {
                            let escape = !self.standard
                                || (matches!(self.prev, b'e' | b'E')
                                    && !self.stmt.len().checked_sub(2).is_some_and(|p| {
                                        self.stmt.get(p).copied().is_some_and(is_ident)
                                    }));
                            self.state = State::Single(escape);
                            self.push(b);
                        }
                        b'"' => {
                            self.state = State::Double;
                            self.push(b);
                        }
                        b'$' if !is_ident(self.prev) => {
                            if let Some(len) = dollar_tag(&line[i..]) {
                                self.dollar_tag = line[i..i + len].to_vec();
                                self.state = State::Dollar;
                                for &c in &line[i..i + len] {
                                    self.push(c);
                                }
                                i += len;
                                continue;
                            }
                            self.push(b);
                        }
                        b'\\' if matches!(next, Some(b';') | Some(b':')) => {
                            self.push(b);
                            i += 1;
                            if let Some(n) = next {
                                self.push(n);
                            }
                        }
                        b'\\' => {
                            self.meta_command(&line[i..]);
                            // A meta-command takes the rest of its line.
                            return;
                        }
                        b'(' => {
                            self.parens += 1;
                            self.push(b);
                        }
                        b')' => {
                            self.parens -= 1;
                            self.push(b);
                        }
                        b';' if self.parens <= 0 => {
                            self.push(b);
                            self.end_statement();
                            if self.state == State::CopyData {
                                // psql reads COPY data from the next line on.
                                return;
                            }
                        }
                        _ => self.push(b),
                    }
                }
                State::LineComment => {
                    if b == b'\n' {
                        self.state = State::Normal;
                        self.push(b' ');
                    }
                }
                State::BlockComment(depth) => {
                    if b == b'/' && next == Some(b'*') {
                        self.state = State::BlockComment(depth + 1);
                        i += 1;
                    } else if b == b'*' && next == Some(b'/') {
                        i += 1;
                        self.state = if depth <= 1 {
                            self.push(b' ');
                            State::Normal
                        } else {
                            State::BlockComment(depth - 1)
                        };
                    }
                }
                State::Single(escape) => {
                    self.push(b);
                    if escape && b == b'\\' {
                        if let Some(n) = next {
                            self.push(n);
                            i += 1;
                        }
                    } else if b == b'\'' {
                        if next == Some(b'\'') {
                            self.push(b'\'');
                            i += 1;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                }
                State::Double => {
                    self.push(b);
                    if b == b'"' {
                        if next == Some(b'"') {
                            self.push(b'"');
                            i += 1;
                        } else {
                            self.state = State::Normal;
                        }
                    }
                }
                State::Dollar => {
                    if line[i..].starts_with(&self.dollar_tag) {
                        let len = self.dollar_tag.len();
                        for k in 0..len {
                            self.push(line[i + k]);
                        }
                        i += len;
                        self.state = State::Normal;
                        continue;
                    }
                    self.push(b);
                }
                State::CopyData => return,
            }
            i += 1;
        }
    }

    fn push(&mut self, b: u8) {
        if self.stmt.is_empty() && b.is_ascii_whitespace() {
            self.prev = b;
            return;
        }
        if self.stmt.is_empty() {
            self.stmt_line = self.line;
        }
        if self.stmt.len() < KEEP {
            self.stmt.push(b);
        }
        self.prev = b;
    }

    /// A backslash outside quotes: `rest` is the line from it on.
    fn meta_command(&mut self, rest: &[u8]) {
        let text = String::from_utf8_lossy(rest);
        let text = text.trim_end();
        let name: String = text
            .chars()
            .skip(1)
            .take_while(|c| !c.is_whitespace() && *c != '\\')
            .collect();
        let args: Vec<&str> = text
            .get(1 + name.len()..)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let allowed = matches!(name.as_str(), "restrict" | "unrestrict")
            && args.len() == 1
            && args
                .first()
                .is_some_and(|k| k.chars().all(|c| c.is_ascii_alphanumeric()))
            && self.stmt.iter().all(u8::is_ascii_whitespace);
        if allowed {
            return;
        }
        let shown: String = text.chars().take(60).collect();
        let why = match name.as_str() {
            "!" => "it runs a shell command on this machine".to_string(),
            "c" | "connect" => "it switches psql to another database (pg_dump writes it only \
                 with --create, pg_dumpall between databases)"
                .to_string(),
            "copy" => "it reads or writes files (or a program) on this machine".to_string(),
            "o" | "out" | "g" | "w" | "write" => {
                "it writes to a file or a program on this machine".to_string()
            }
            "i" | "include" | "ir" | "include_relative" => {
                "it runs another file of this machine".to_string()
            }
            "setenv" => "it changes the environment of commands psql runs".to_string(),
            "set" | "gset" | "gexec" => {
                "it sets psql variables or runs query output as SQL".to_string()
            }
            "restrict" | "unrestrict" => {
                "a \\restrict line must be alone on its line with one alphanumeric key, as \
                 pg_dump writes it"
                    .to_string()
            }
            _ => "pg_dump never writes it".to_string(),
        };
        self.problems.push(Problem {
            line: self.line,
            message: format!("psql meta-command `{shown}`: {why}"),
        });
    }

    fn end_statement(&mut self) {
        if self.stmt.iter().all(u8::is_ascii_whitespace) {
            self.stmt.clear();
            return;
        }
        let text = String::from_utf8_lossy(&self.stmt).into_owned();
        self.stmt.clear();
        self.parens = 0;
        let lower = text.to_ascii_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let first = words.first().copied().unwrap_or("");
        if first == "copy" && copy_from_stdin(&words) {
            self.state = State::CopyData;
        }
        if lower.contains("standard_conforming_strings") {
            match set_standard(&words) {
                Some(on) => self.standard = on,
                None => self.problems.push(Problem {
                    line: self.stmt_line,
                    message: "the statement changes standard_conforming_strings in a way \
                              migsafe cannot follow (only SET standard_conforming_strings = \
                              on|off is allowed), so how psql reads the rest is unknown"
                        .to_string(),
                }),
            }
        } else if matches!(first, "reset" | "discard")
            && (words.get(1) == Some(&"all") || first == "discard")
        {
            // Back to the session's value, which the restore sets to on.
            self.standard = true;
        }
        if let Some(found) = server_wide_when_run(&text) {
            self.problems.push(Problem {
                line: self.stmt_line,
                message: format!(
                    "{}; migsafe restores into a database of its own and never runs \
                     statements that act on the whole server",
                    found.describe()
                ),
            });
        }
    }
}

/// `COPY … FROM stdin` (psql then reads data lines up to `\.`).
fn copy_from_stdin(words: &[&str]) -> bool {
    words
        .windows(2)
        .any(|w| w.first() == Some(&"from") && w.get(1) == Some(&"stdin"))
}

/// `SET [SESSION|LOCAL] standard_conforming_strings {=|TO} value`: the new value.
fn set_standard(words: &[&str]) -> Option<bool> {
    let rest = match words {
        ["set", "session" | "local", rest @ ..] => rest,
        ["set", rest @ ..] => rest,
        _ => return None,
    };
    match rest {
        ["standard_conforming_strings", "to", value] | ["standard_conforming_strings", value] => {
            match *value {
                "on" | "true" | "yes" | "1" | "default" => Some(true),
                "off" | "false" | "no" | "0" => Some(false),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `$$` or `$tag$` at the start of `rest`: its length.
fn dollar_tag(rest: &[u8]) -> Option<usize> {
    let body = rest.get(1..)?;
    if body.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    for (p, &c) in body.iter().enumerate() {
        if c == b'$' {
            return Some(p + 2);
        }
        if !is_ident(c) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(sql: &str) -> Vec<(usize, String)> {
        scan(sql.as_bytes())
            .unwrap()
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    /// The shape pg_dump 15.14+ writes: header, \restrict, SETs, DDL, COPY data with
    /// backslashes, \unrestrict.
    const PG_DUMP: &str = r#"--
-- PostgreSQL database dump
--

\restrict Zq3bX9kP2mW8vN4cR7tY1uH6jL0eA5sD

-- Dumped from database version 15.14
-- Dumped by pg_dump version 15.14

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;

CREATE FUNCTION public.create_tenant_role(name text) RETURNS void
    LANGUAGE plpgsql
    AS $$BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', name); END$$;

CREATE TABLE public.notes (
    id bigint NOT NULL,
    body text DEFAULT 'C:\temp\'::text
);

COMMENT ON TABLE public.notes IS 'it''s \ fine';

COPY public.notes (id, body) FROM stdin;
1	\N
2	line\nwith \\ backslash and \! not a command
\.

ALTER TABLE ONLY public.notes ADD CONSTRAINT notes_pkey PRIMARY KEY (id);
GRANT SELECT ON TABLE public.notes TO reporting;

--
-- PostgreSQL database dump complete
--

\unrestrict Zq3bX9kP2mW8vN4cR7tY1uH6jL0eA5sD
"#;

    #[test]
    fn what_pg_dump_writes_passes() {
        assert_eq!(problems(PG_DUMP), vec![]);
    }

    #[test]
    fn meta_commands_pg_dump_never_writes_are_refused_with_their_line() {
        let sql = "CREATE TABLE t (a int);\n\\! touch /tmp/pwned\nSELECT 1; \\o |sh\n\
                   \\connect postgres\n\\copy t from program 'id'\n\\set x `id`\n\\i /etc/x.sql\n";
        let found = problems(sql);
        let lines: Vec<usize> = found.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 7], "{found:#?}");
        assert!(found[0].1.contains("`\\! touch /tmp/pwned`") && found[0].1.contains("shell"));
        assert!(found[2].1.contains("--create"), "{}", found[2].1);
    }

    #[test]
    fn backslashes_inside_quotes_comments_and_copy_data_are_not_commands() {
        let sql = "SELECT '\\! no', E'\\'\\! no', \"\\!\", $x$ \\! $x$; -- \\! no\n\
                   /* \\! /* nested */ \\! */ SELECT 1 \\; SELECT 2;\n";
        assert_eq!(problems(sql), vec![]);
    }

    #[test]
    fn string_lexing_follows_standard_conforming_strings() {
        // With it off, `\'` does not end the string: the rest of the line is inside it.
        let off = "SET standard_conforming_strings = off;\nSELECT 'a\\'; \\! no';\n";
        assert_eq!(problems(off), vec![]);
        // With it on (the session default), the string ends at `\'` and `\!` runs.
        let on = "SELECT 'a\\'; \\! yes --';\n";
        assert_eq!(problems(on).len(), 1);
        let sneaky = "SELECT set_config('standard_conforming_strings', 'off', false);\n";
        assert!(problems(sneaky)[0]
            .1
            .contains("standard_conforming_strings"));
    }

    #[test]
    fn statements_acting_beyond_the_database_are_refused() {
        let sql = "CREATE DATABASE shop WITH TEMPLATE = template0;\nALTER SYSTEM SET \
                   work_mem = '1GB';\nCREATE TABLE ok (a int);\nCREATE ROLE app;\n";
        let lines: Vec<usize> = problems(sql).iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![1, 2, 4]);
    }

    #[test]
    fn the_error_names_the_file_and_every_line() {
        let err = check(
            Path::new("dumps/evil.sql"),
            "\\! id\nSELECT 1;\n\\! id\n".as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("dumps/evil.sql:1:") && err.contains("dumps/evil.sql:3:"),
            "{err}"
        );
        assert!(err.contains("nothing was restored"), "{err}");
    }
}
