//! Statements whose effect reaches beyond the database they run in: the whole PostgreSQL
//! server (its shared catalogs, its configuration files, other sessions, the server's file
//! system, other servers). A disposable *database* is not a disposable *server*
//! (PRODUCT.md §4, issue #9): the executor never sends these to a copy, and the dump scanner
//! refuses dumps that contain them.
//!
//! What counts, from PostgreSQL's shared catalogs (catalogs.html, "shared across all
//! databases of a cluster": pg_database, pg_authid, pg_auth_members, pg_tablespace,
//! pg_db_role_setting, pg_shdescription, pg_shseclabel, pg_subscription, pg_parameter_acl,
//! pg_replication_origin) plus `postgresql.auto.conf` (ALTER SYSTEM), other backends
//! (pg_terminate_backend), replication slots, the server's files (COPY … TO/FROM a file or
//! PROGRAM, lo_export, adminpack) and other servers (dblink):
//! - CREATE/ALTER/DROP DATABASE, ROLE, USER, GROUP, TABLESPACE, SUBSCRIPTION (not USER
//!   MAPPING, which lives in the database), ALTER SYSTEM, REASSIGN OWNED and DROP OWNED (both
//!   also act on databases and tablespaces the role owns or has privileges on), LOAD;
//! - GRANT/REVOKE of role membership (no `ON`) and of privileges ON DATABASE, TABLESPACE or
//!   PARAMETER;
//! - COMMENT ON and SECURITY LABEL ON a DATABASE, ROLE, TABLESPACE or SUBSCRIPTION;
//! - calls of the functions in [`SERVER_FUNCTIONS`] anywhere in a statement;
//! - dynamic SQL: a DO block, or a function or procedure body (it runs whenever it is
//!   called: from a later statement, a trigger, a default), whose text or string literals
//!   contain any of the above. SQL assembled at run time from pieces (`'DROP ' ||
//!   'DATABASE'`) cannot be seen in the text; the executor's fingerprint of the server
//!   before and after the run reports what gets through.
//!
//! CHECKPOINT is allowed: it changes no state anyone can observe afterwards.

use super::tokens::{tokenize, Tok, Token};

/// Why a statement acts on the whole server, as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerWide {
    /// What the statement does, e.g. `DROP DATABASE`, `a call of pg_terminate_backend`.
    pub what: String,
    /// What it reaches, e.g. `every database of the server (pg_database)`.
    pub reaches: &'static str,
}

impl ServerWide {
    /// `DROP DATABASE acts on the whole server (every database of the server, pg_database)`.
    pub fn describe(&self) -> String {
        format!("{} acts beyond this database: {}", self.what, self.reaches)
    }
}

/// Functions whose call acts on the server, other sessions, files or other servers.
pub const SERVER_FUNCTIONS: &[(&str, &str)] = &[
    ("pg_terminate_backend", "other sessions of the server"),
    ("pg_cancel_backend", "other sessions of the server"),
    ("pg_reload_conf", "the server's configuration"),
    ("pg_rotate_logfile", "the server's log files"),
    ("pg_promote", "the server's replication role"),
    ("pg_switch_wal", "the server's write-ahead log"),
    ("pg_create_restore_point", "the server's write-ahead log"),
    ("pg_backup_start", "the server's backup state"),
    ("pg_start_backup", "the server's backup state"),
    (
        "pg_create_physical_replication_slot",
        "the server's replication slots",
    ),
    (
        "pg_create_logical_replication_slot",
        "the server's replication slots",
    ),
    ("pg_drop_replication_slot", "the server's replication slots"),
    (
        "pg_copy_physical_replication_slot",
        "the server's replication slots",
    ),
    (
        "pg_copy_logical_replication_slot",
        "the server's replication slots",
    ),
    (
        "pg_replication_origin_create",
        "the server's replication origins (pg_replication_origin)",
    ),
    (
        "pg_replication_origin_drop",
        "the server's replication origins (pg_replication_origin)",
    ),
    ("pg_stat_reset_shared", "the server's shared statistics"),
    ("pg_stat_reset_slru", "the server's shared statistics"),
    ("pg_file_write", "the server's file system"),
    ("pg_file_rename", "the server's file system"),
    ("pg_file_unlink", "the server's file system"),
    ("lo_export", "the server's file system"),
    ("lo_import", "the server's file system"),
    ("dblink", "another database or server"),
    ("dblink_exec", "another database or server"),
    ("dblink_connect", "another database or server"),
    ("dblink_connect_u", "another database or server"),
    ("dblink_send_query", "another database or server"),
];

/// Objects whose catalog is shared by every database of the server.
fn shared_object(word: &str) -> Option<&'static str> {
    Some(match word {
        "database" => "every database of the server (pg_database)",
        "role" | "user" | "group" => "the server's roles (pg_authid, pg_auth_members)",
        "tablespace" => "the server's tablespaces (pg_tablespace)",
        "subscription" => "the server's subscriptions (pg_subscription) and a publisher",
        _ => return None,
    })
}

/// How deep string literals of dynamic SQL are looked into (`EXECUTE 'EXECUTE ''…'''`).
const MAX_DEPTH: usize = 4;

/// Whether the statement `text` acts beyond its database, and how.
pub fn server_wide(text: &str) -> Option<ServerWide> {
    check(text, 0, true)
}

/// The same, but a function or procedure body only counts when it runs: for a restored dump,
/// whose functions are created and not called (pg_dump writes no DO blocks and no calls), a
/// helper such as `create_tenant_role()` must not make the dump unrestorable.
pub fn server_wide_when_run(text: &str) -> Option<ServerWide> {
    check(text, 0, false)
}

fn check(text: &str, depth: usize, bodies: bool) -> Option<ServerWide> {
    let tokens = tokenize(text);
    let words: Vec<String> = tokens
        .iter()
        .take(8)
        .filter(|t| t.tok == Tok::Word)
        .map(|t| t.text.to_ascii_lowercase())
        .collect();
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    if let Some(found) = head(&tokens, &words) {
        return Some(found);
    }
    if let Some(found) = function_call(&tokens) {
        return Some(found);
    }
    let dynamic = word(0) == "do"
        || (bodies
            && word(0) == "create"
            && (matches!(word(1), "function" | "procedure")
                || (word(1) == "or"
                    && word(2) == "replace"
                    && matches!(word(3), "function" | "procedure"))));
    if depth < MAX_DEPTH {
        // Dynamic SQL: statements inside bodies and string literals, anywhere in them.
        let nested = dynamic || depth > 0;
        for t in tokens.iter().filter(|t| t.tok == Tok::Str) {
            if !nested {
                continue;
            }
            let inner = string_body(t);
            if let Some(found) = anywhere(&inner, depth + 1) {
                let what = if word(0) == "do" {
                    format!("a DO block that runs {}", found.what)
                } else if dynamic {
                    format!("a function or procedure body that runs {}", found.what)
                } else {
                    found.what
                };
                return Some(ServerWide {
                    what,
                    reaches: found.reaches,
                });
            }
        }
    }
    None
}

/// Any server-wide statement in a body of PL/pgSQL (or plain SQL): each `;`-separated piece,
/// and each piece from every keyword on (`IF x THEN DROP DATABASE y`, `EXECUTE 'ALTER
/// SYSTEM …'`).
fn anywhere(body: &str, depth: usize) -> Option<ServerWide> {
    let tokens = tokenize(body);
    for (k, start) in tokens.iter().enumerate() {
        // A statement of PL/pgSQL starts the body, or follows `;` or a block keyword; a word
        // elsewhere (`SET load = 0`) is not a statement.
        let starts = match k.checked_sub(1).and_then(|p| tokens.get(p)) {
            None => true,
            Some(prev) => {
                prev.is_punct(";")
                    || ["begin", "then", "else", "loop", "exception"]
                        .iter()
                        .any(|kw| prev.is(kw))
            }
        };
        if start.tok != Tok::Word || !starts {
            continue;
        }
        // Only the piece up to the next `;` counts as this statement.
        let end = tokens
            .iter()
            .skip(k)
            .find(|t| t.is_punct(";"))
            .map_or(body.len(), |t| t.at);
        let piece = body.get(start.at..end).unwrap_or("");
        let piece_tokens = tokenize(piece);
        let words: Vec<String> = piece_tokens
            .iter()
            .take(8)
            .filter(|t| t.tok == Tok::Word)
            .map(|t| t.text.to_ascii_lowercase())
            .collect();
        if let Some(found) = head(&piece_tokens, &words) {
            return Some(found);
        }
    }
    if let Some(found) = function_call(&tokens) {
        return Some(found);
    }
    for t in tokens.iter().filter(|t| t.tok == Tok::Str) {
        if depth < MAX_DEPTH {
            if let Some(found) = anywhere(&string_body(t), depth + 1) {
                return Some(found);
            }
        }
    }
    None
}

/// The statement kinds recognised from the leading words.
fn head(tokens: &[Token<'_>], words: &[String]) -> Option<ServerWide> {
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let found = |what: String, reaches: &'static str| Some(ServerWide { what, reaches });
    let verb = word(0);
    match verb {
        "create" | "alter" | "drop" => {
            let object = word(1);
            // USER MAPPING lives in the database (pg_user_mapping is not shared).
            if matches!(object, "user") && word(2) == "mapping" {
                return None;
            }
            if object == "system" && verb == "alter" {
                return found(
                    "ALTER SYSTEM".to_string(),
                    "the server's configuration (postgresql.auto.conf)",
                );
            }
            if verb == "drop" && object == "owned" {
                return found(
                    "DROP OWNED".to_string(),
                    "privileges on the server's databases and tablespaces",
                );
            }
            shared_object(object).and_then(|reaches| {
                found(
                    format!("{} {}", verb.to_uppercase(), object.to_uppercase()),
                    reaches,
                )
            })
        }
        "reassign" if word(1) == "owned" => found(
            "REASSIGN OWNED".to_string(),
            "ownership of the server's databases and tablespaces",
        ),
        "load" => found(
            "LOAD".to_string(),
            "the server process (it loads a shared library)",
        ),
        "grant" | "revoke" => grant(tokens, verb),
        "comment" if word(1) == "on" => shared_object(word(2))
            .and_then(|reaches| found(format!("COMMENT ON {}", word(2).to_uppercase()), reaches)),
        "security" if word(1) == "label" => {
            // SECURITY LABEL [FOR provider] ON object
            let on = words.iter().position(|w| w == "on")?;
            let object = words.get(on + 1)?;
            shared_object(object).and_then(|reaches| {
                found(
                    format!("SECURITY LABEL ON {}", object.to_uppercase()),
                    reaches,
                )
            })
        }
        "copy" => copy(tokens),
        _ => None,
    }
}

/// The role a `CREATE ROLE|USER|GROUP name …` statement creates (as PostgreSQL resolves the
/// name), so that statements naming it later can be withheld with it.
pub fn created_role(text: &str) -> Option<String> {
    let tokens = tokenize(text);
    let mut it = tokens.iter();
    if !it.next()?.is("create") {
        return None;
    }
    let object = it.next()?;
    if !(object.is("role") || object.is("user") || object.is("group")) {
        return None;
    }
    let name = it.next().filter(|t| t.is_name())?;
    (!name.is("mapping")).then(|| name.ident())
}

/// Whether `text` names the role `role` (as an identifier, not inside a string).
pub fn names_role(text: &str, role: &str) -> bool {
    tokenize(text)
        .iter()
        .any(|t| t.is_name() && t.ident() == role)
}

/// GRANT role TO role (no ON: role membership, pg_auth_members) and GRANT … ON DATABASE /
/// TABLESPACE / PARAMETER.
fn grant(tokens: &[Token<'_>], verb: &str) -> Option<ServerWide> {
    let end = tokens
        .iter()
        .position(|t| t.is(if verb == "grant" { "to" } else { "from" }))
        .unwrap_or(tokens.len());
    let on = tokens.iter().take(end).position(|t| t.is("on"));
    match on {
        None => Some(ServerWide {
            what: format!("{} of role membership", verb.to_uppercase()),
            reaches: "the server's roles (pg_auth_members)",
        }),
        Some(at) => {
            let object = tokens.get(at + 1)?;
            let reaches = match object.text.to_ascii_lowercase().as_str() {
                "database" => "every database of the server (pg_database)",
                "tablespace" => "the server's tablespaces (pg_tablespace)",
                "parameter" => "the server's configuration (pg_parameter_acl)",
                _ => return None,
            };
            Some(ServerWide {
                what: format!(
                    "{} ON {}",
                    verb.to_uppercase(),
                    object.text.to_ascii_uppercase()
                ),
                reaches,
            })
        }
    }
}

/// COPY … FROM/TO a server file or PROGRAM (STDIN and STDOUT stay in the session).
fn copy(tokens: &[Token<'_>]) -> Option<ServerWide> {
    let direction = tokens.iter().rposition(|t| t.is("from") || t.is("to"))?;
    let target = tokens.get(direction + 1)?;
    if target.is("program") {
        return Some(ServerWide {
            what: "COPY … PROGRAM".to_string(),
            reaches: "a shell command on the database server",
        });
    }
    if target.tok == Tok::Str {
        return Some(ServerWide {
            what: "COPY to or from a server file".to_string(),
            reaches: "the server's file system",
        });
    }
    None
}

/// A call of one of [`SERVER_FUNCTIONS`] (also schema-qualified).
fn function_call(tokens: &[Token<'_>]) -> Option<ServerWide> {
    for (k, t) in tokens.iter().enumerate() {
        if !t.is_name() || !tokens.get(k + 1).is_some_and(|n| n.is_punct("(")) {
            continue;
        }
        let name = t.ident();
        if let Some((f, reaches)) = SERVER_FUNCTIONS.iter().find(|(f, _)| *f == name) {
            return Some(ServerWide {
                what: format!("a call of {f}"),
                reaches,
            });
        }
    }
    None
}

/// The text inside a string token: `'…'` with `''` undoubled, `E'…'` with `\'` and `\\`
/// undone, `$tag$…$tag$` as is.
fn string_body(t: &Token<'_>) -> String {
    let text = t.text;
    if let Some(rest) = text.strip_prefix('$') {
        let Some(tag_end) = rest.find('$') else {
            return String::new();
        };
        let tag = text.get(..tag_end + 2).unwrap_or("$$");
        let inner = text.get(tag.len()..).unwrap_or("");
        return inner.strip_suffix(tag).unwrap_or(inner).to_string();
    }
    let (escape, quoted) = match text.strip_prefix(['e', 'E']) {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let inner = quoted.strip_prefix('\'').unwrap_or(quoted);
    let inner = inner.strip_suffix('\'').unwrap_or(inner);
    let mut out = inner.replace("''", "'");
    if escape {
        out = out.replace("\\'", "'").replace("\\\\", "\\");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(sql: &str) -> Option<String> {
        server_wide(sql).map(|s| s.what)
    }

    #[test]
    fn shared_catalog_statements_are_server_wide() {
        for (sql, expected) in [
            ("DROP DATABASE shop", "DROP DATABASE"),
            ("drop database if exists \"other\"", "DROP DATABASE"),
            (
                "CREATE DATABASE reporting TEMPLATE template0",
                "CREATE DATABASE",
            ),
            (
                "ALTER DATABASE shop SET work_mem = '64MB'",
                "ALTER DATABASE",
            ),
            ("CREATE ROLE app LOGIN", "CREATE ROLE"),
            ("CREATE USER reporting", "CREATE USER"),
            ("ALTER ROLE app SET statement_timeout = 0", "ALTER ROLE"),
            ("ALTER USER app WITH PASSWORD 'x'", "ALTER USER"),
            ("DROP GROUP readers", "DROP GROUP"),
            (
                "CREATE TABLESPACE fast LOCATION '/ssd'",
                "CREATE TABLESPACE",
            ),
            ("ALTER SYSTEM SET work_mem = '1GB'", "ALTER SYSTEM"),
            ("GRANT admin TO app", "GRANT of role membership"),
            ("REVOKE admin FROM app", "REVOKE of role membership"),
            ("GRANT CONNECT ON DATABASE shop TO app", "GRANT ON DATABASE"),
            (
                "GRANT SET ON PARAMETER work_mem TO app",
                "GRANT ON PARAMETER",
            ),
            ("COMMENT ON DATABASE shop IS 'prod'", "COMMENT ON DATABASE"),
            ("COMMENT ON ROLE app IS 'x'", "COMMENT ON ROLE"),
            (
                "SECURITY LABEL FOR selinux ON ROLE app IS 'x'",
                "SECURITY LABEL ON ROLE",
            ),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p",
                "CREATE SUBSCRIPTION",
            ),
            ("REASSIGN OWNED BY old TO new", "REASSIGN OWNED"),
            ("DROP OWNED BY old", "DROP OWNED"),
            ("LOAD 'auto_explain'", "LOAD"),
            ("COPY t FROM PROGRAM 'curl x'", "COPY … PROGRAM"),
            ("COPY t TO '/tmp/out.csv'", "COPY to or from a server file"),
            (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
                "a call of pg_terminate_backend",
            ),
            (
                "SELECT public.dblink_exec('dbname=x', 'DROP TABLE t')",
                "a call of dblink_exec",
            ),
        ] {
            assert_eq!(what(sql).as_deref(), Some(expected), "{sql}");
        }
    }

    #[test]
    fn database_local_statements_are_not() {
        for sql in [
            "CREATE TABLE users (id bigint)",
            "GRANT SELECT ON TABLE users TO app",
            "GRANT USAGE ON SCHEMA app TO app",
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM public",
            "CREATE USER MAPPING FOR app SERVER other OPTIONS (user 'x')",
            "COMMENT ON TABLE users IS 'drop database shop'",
            "INSERT INTO notes (body) VALUES ('DROP DATABASE shop; ALTER SYSTEM')",
            "COPY t FROM stdin",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app",
            "CHECKPOINT",
            "SET statement_timeout = 0",
            "CREATE EXTENSION IF NOT EXISTS pgcrypto",
            "DO $$BEGIN UPDATE users SET a = 1; END$$",
            "DO $$BEGIN UPDATE servers SET load = 0 WHERE copy IS NULL; END$$",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT grant FROM t$$",
        ] {
            assert_eq!(what(sql), None, "{sql}");
        }
    }

    #[test]
    fn created_roles_are_named_for_the_statements_that_use_them() {
        assert_eq!(
            created_role("CREATE ROLE App LOGIN").as_deref(),
            Some("app")
        );
        assert_eq!(
            created_role("create user \"Data Team\"").as_deref(),
            Some("Data Team")
        );
        assert_eq!(created_role("CREATE USER MAPPING FOR app SERVER s"), None);
        assert_eq!(created_role("CREATE TABLE role (a int)"), None);
        assert!(names_role("GRANT SELECT ON t TO app", "app"));
        assert!(!names_role("COMMENT ON TABLE t IS 'app'", "app"));
    }

    #[test]
    fn dynamic_sql_reaching_the_server_is_server_wide() {
        for sql in [
            "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN \
             CREATE ROLE app; END IF; END$$",
            "DO $$BEGIN EXECUTE 'ALTER SYSTEM SET work_mem = ''1GB'''; END$$",
            "DO $do$BEGIN EXECUTE format('DROP DATABASE %I', 'shop'); END$do$",
            "CREATE OR REPLACE FUNCTION kill() RETURNS void LANGUAGE sql AS \
             $$SELECT pg_terminate_backend(pid) FROM pg_stat_activity$$",
            "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$BEGIN EXECUTE 'GRANT admin TO app'; END$$",
        ] {
            assert!(server_wide(sql).is_some(), "{sql}");
        }
        let found = server_wide("DO $$BEGIN CREATE ROLE app; END$$").unwrap();
        assert_eq!(found.what, "a DO block that runs CREATE ROLE");
        assert!(found.describe().contains("pg_authid"));
    }
}
