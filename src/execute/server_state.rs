//! The second line of defence of issue #9: the executor never sends a statement that acts
//! beyond the disposable database (`parse::server_wide`), but SQL assembled at run time
//! (`EXECUTE 'CREATE ' || 'ROLE x'`, a function an extension brings) cannot be recognised in
//! the text. So before migsafe commits a transaction of the migration, it looks for rows of
//! the server's shared catalogs that this transaction wrote: the new row versions it
//! inserted or updated (`xmin` = its transaction id, seen from the migration session) and
//! the old versions it deleted or updated (`xmax` = its id, seen from the observer session,
//! to which the uncommitted delete is not yet visible). If there are any, the transaction is
//! rolled back instead of committed, and the migration is reported as failed with what it
//! tried to change.
//!
//! Why this and not a fingerprint of the server before and after the run: other sessions
//! create and drop databases and roles on a shared server all the time (other clones, other
//! tests), so a before/after difference cannot be attributed to the migration; a
//! transaction id can. Limits: statements PostgreSQL runs outside a transaction block
//! (CREATE/DROP DATABASE, ALTER SYSTEM, CREATE TABLESPACE, …) cannot be assembled inside a
//! DO block or function, so they only arrive as text, which the withholding recognises.
//! `pg_authid` can only be read by superusers; as another user, role changes made by
//! assembled SQL are not seen (such a user rarely has CREATEROLE on a copy).

use sqlx::{AssertSqlSafe, PgConnection};

/// Shared catalogs a migration has no business writing, with the column naming a row.
/// `pg_shdepend` is left out: a GRANT on a table to a role records its dependency there.
const SHARED: &[(&str, &str)] = &[
    ("pg_database", "datname::text"),
    ("pg_authid", "rolname::text"),
    (
        "pg_auth_members",
        "roleid::regrole::text || ' granted to ' || member::regrole::text",
    ),
    ("pg_db_role_setting", "array_to_string(setconfig, ', ')"),
    ("pg_shdescription", "description"),
    ("pg_shseclabel", "label"),
    ("pg_tablespace", "spcname::text"),
    ("pg_subscription", "subname::text"),
    ("pg_parameter_acl", "parname"),
    ("pg_replication_origin", "roname"),
];

/// The current transaction's id on `conn`, when it has written anything.
pub async fn current_xid(conn: &mut PgConnection) -> Option<String> {
    let xid: Option<i64> = sqlx::query_scalar("SELECT txid_current_if_assigned()")
        .fetch_one(conn)
        .await
        .ok()
        .flatten();
    // Catalog rows carry the 32-bit xid, txid_current adds the epoch above it.
    xid.map(|x| (x.rem_euclid(1 << 32)).to_string())
}

/// The rows of shared catalogs the open transaction `xid` on `conn` inserted, updated or
/// deleted; `observer` is another session on the same server. Catalogs a session may not
/// read are skipped.
pub async fn shared_rows_written(
    conn: &mut PgConnection,
    observer: Option<&mut PgConnection>,
    xid: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (catalog, name) in SHARED {
        let sql = format!("SELECT {name} FROM pg_catalog.{catalog} WHERE xmin::text = $1");
        if let Ok(rows) = sqlx::query_scalar::<_, Option<String>>(AssertSqlSafe(sql))
            .bind(xid)
            .fetch_all(&mut *conn)
            .await
        {
            out.extend(
                rows.into_iter()
                    .map(|r| format!("{catalog}: wrote `{}`", r.unwrap_or_default())),
            );
        }
    }
    if let Some(observer) = observer {
        for (catalog, name) in SHARED {
            let sql = format!("SELECT {name} FROM pg_catalog.{catalog} WHERE xmax::text = $1");
            if let Ok(rows) = sqlx::query_scalar::<_, Option<String>>(AssertSqlSafe(sql))
                .bind(xid)
                .fetch_all(&mut *observer)
                .await
            {
                out.extend(
                    rows.into_iter().map(|r| {
                        format!("{catalog}: changed or removed `{}`", r.unwrap_or_default())
                    }),
                );
            }
        }
    }
    out
}

/// The failure message of a transaction rolled back because it wrote shared catalogs.
pub fn refused(writes: &[String]) -> String {
    format!(
        "rolled back by migsafe instead of committed: the transaction changed state shared by \
         the whole server ({}), through SQL migsafe could not recognise in the text (assembled \
         at run time); a disposable database is not a disposable server",
        writes.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_each_write() {
        let m = refused(&["pg_authid: wrote `sneaky`".to_string()]);
        assert!(
            m.contains("pg_authid: wrote `sneaky`") && m.contains("rolled back"),
            "{m}"
        );
    }
}
