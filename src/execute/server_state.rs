//! The second line of defence of issue #9: the executor never sends a statement that acts
//! beyond the disposable database (`parse::server_wide`), but SQL assembled at run time
//! (`EXECUTE 'CREATE ' || 'ROLE x'`, a function from an extension) cannot be recognised in
//! the text. So the server's shared state is read before and after the run, and a run that
//! changed it fails loudly (exit 2) naming what changed, instead of a report that looks
//! clean.
//!
//! Read: databases (with their comments and privileges), roles and memberships, database and
//! role settings, shared comments and security labels, tablespaces, subscriptions, and what
//! `postgresql.auto.conf` holds (`pg_file_settings`, readable by superusers and
//! pg_read_all_settings members). A part the session may not read is left out rather than
//! failing the run; the report of a changed part names the rows that differ.

use anyhow::{bail, Result};
use sqlx::{AssertSqlSafe, PgConnection};
use std::collections::BTreeSet;

/// Each part of the fingerprint: a name and a query returning one text column.
const PARTS: &[(&str, &str)] = &[
    (
        "databases",
        "SELECT 'database ' || datname || ' comment=' \
         || coalesce(shobj_description(oid, 'pg_database'), '') || ' acl=' \
         || coalesce(datacl::text, '') || ' owner=' || datdba::regrole FROM pg_database",
    ),
    (
        "roles",
        "SELECT 'role ' || rolname || ' super=' || rolsuper || ' createdb=' || rolcreatedb \
         || ' createrole=' || rolcreaterole || ' login=' || rolcanlogin || ' comment=' \
         || coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles",
    ),
    (
        "role memberships",
        "SELECT 'membership ' || member::regrole || ' in ' || roleid::regrole \
         FROM pg_auth_members",
    ),
    (
        "database and role settings",
        "SELECT 'setting database=' || coalesce((SELECT datname FROM pg_database d \
         WHERE d.oid = s.setdatabase), '*') || ' role=' || coalesce((SELECT rolname FROM \
         pg_roles r WHERE r.oid = s.setrole), '*') || ' ' || array_to_string(setconfig, ',') \
         FROM pg_db_role_setting s",
    ),
    (
        "shared comments",
        "SELECT 'comment ' || classoid::regclass || ' ' || objoid || ' ' || description \
         FROM pg_shdescription",
    ),
    (
        "shared security labels",
        "SELECT 'label ' || classoid::regclass || ' ' || objoid || ' ' || provider || ' ' \
         || label FROM pg_shseclabel",
    ),
    (
        "tablespaces",
        "SELECT 'tablespace ' || spcname FROM pg_tablespace",
    ),
    (
        "subscriptions",
        "SELECT 'subscription ' || subname FROM pg_subscription",
    ),
    (
        "postgresql.auto.conf",
        "SELECT 'auto.conf ' || name || '=' || coalesce(setting, '') FROM pg_file_settings \
         WHERE sourcefile LIKE '%postgresql.auto.conf'",
    ),
];

/// The server's shared state as lines, by part; parts the session cannot read are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerState {
    parts: Vec<(&'static str, BTreeSet<String>)>,
}

impl ServerState {
    /// Reads the fingerprint on `conn` (any database of the server).
    pub async fn read(conn: &mut PgConnection) -> ServerState {
        let mut parts = Vec::new();
        for (name, sql) in PARTS {
            let rows: Result<Vec<Option<String>>, _> = sqlx::query_scalar(AssertSqlSafe(*sql))
                .fetch_all(&mut *conn)
                .await;
            if let Ok(rows) = rows {
                parts.push((*name, rows.into_iter().flatten().collect()));
            }
        }
        ServerState { parts }
    }

    /// What changed from `self` to `after`, one line per row gone or added.
    pub fn changes(&self, after: &ServerState) -> Vec<String> {
        let mut out = Vec::new();
        for (name, before) in &self.parts {
            let Some((_, now)) = after.parts.iter().find(|(n, _)| n == name) else {
                continue;
            };
            for gone in before.difference(now) {
                out.push(format!("{name}: removed `{gone}`"));
            }
            for added in now.difference(before) {
                out.push(format!("{name}: added `{added}`"));
            }
        }
        out
    }
}

/// Fails when the run changed the server's shared state.
pub fn ensure_unchanged(before: &ServerState, after: &ServerState, target: &str) -> Result<()> {
    let changes = before.changes(after);
    if changes.is_empty() {
        return Ok(());
    }
    bail!(
        "The migrations changed state shared by the whole server of {target}, although migsafe \
         withheld every statement it recognises as server-wide (SQL assembled at run time \
         cannot be recognised). Check and undo these changes on that server:\n  {}",
        changes.join("\n  ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_row_added_or_removed() {
        let set = |rows: &[&str]| rows.iter().map(|r| r.to_string()).collect::<BTreeSet<_>>();
        let before = ServerState {
            parts: vec![("roles", set(&["role app", "role postgres"]))],
        };
        let after = ServerState {
            parts: vec![("roles", set(&["role postgres", "role sneaky"]))],
        };
        assert_eq!(
            before.changes(&after),
            vec!["roles: removed `role app`", "roles: added `role sneaky`"]
        );
        let err = ensure_unchanged(&before, &after, "db.internal:5432")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("role sneaky") && err.contains("db.internal"),
            "{err}"
        );
        assert!(ensure_unchanged(&before, &before, "x").is_ok());
    }
}
