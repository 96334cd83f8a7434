//! Fingerprints of a private cluster (tests/common/cluster.rs) taken before and after an
//! execution-level run, so a test can prove the run changed nothing beyond the database
//! migsafe made for it (issue #9, item 5).
//!
//! - [`server`]: everything server-wide a migration, rollback or dump could change, as sorted
//!   lines: databases with their comments and ACLs, roles with their attributes and comments,
//!   memberships, database and role settings (pg_db_role_setting), shared comments
//!   (pg_shdescription), tablespaces, subscriptions and what postgresql.auto.conf holds
//!   (pg_file_settings). Objects are named, not numbered, so [`excluding`] can leave out a
//!   database migsafe legitimately made (or reported as left behind).
//! - [`source`]: what a run could change inside one database: its relations with their
//!   columns, and each table's exact row count.
//!
//! Read with psql over the cluster's socket as its superuser, so it works on clusters with
//! TLS-only or password logins, from sync and async tests alike.

#![allow(dead_code)]

use super::cluster::PrivateCluster;

/// Everything server-wide, one sorted line per object; a line never holds a newline.
pub fn server(cluster: &PrivateCluster) -> Vec<String> {
    lines(&cluster.psql(
        "SELECT replace(line, chr(10), '\\n') FROM ( \
           SELECT 'database ' || datname || ' comment=' \
                  || coalesce(shobj_description(oid, 'pg_database'), '') \
                  || ' acl=' || coalesce(datacl::text, '') || ' allowconn=' || datallowconn \
                  || ' template=' || datistemplate AS line FROM pg_database \
           UNION ALL SELECT 'role ' || rolname || ' ' || rolsuper || rolcreatedb \
                  || rolcreaterole || rolcanlogin || rolreplication || rolbypassrls \
                  || ' comment=' || coalesce(shobj_description(oid, 'pg_authid'), '') \
                  FROM pg_roles \
           UNION ALL SELECT 'member ' || roleid::regrole || ' of ' || member::regrole \
                  FROM pg_auth_members \
           UNION ALL SELECT 'setting db=' || coalesce(d.datname, '-') || ' role=' \
                  || coalesce(r.rolname, '-') || ' ' || s.setconfig::text \
                  FROM pg_db_role_setting s \
                  LEFT JOIN pg_database d ON d.oid = s.setdatabase \
                  LEFT JOIN pg_roles r ON r.oid = s.setrole \
           UNION ALL SELECT 'shdescription ' || s.classoid::regclass || ' ' \
                  || coalesce(d.datname, r.rolname, s.objoid::text) || ' ' || s.description \
                  FROM pg_shdescription s \
                  LEFT JOIN pg_database d \
                    ON s.classoid = 'pg_database'::regclass AND d.oid = s.objoid \
                  LEFT JOIN pg_roles r ON s.classoid = 'pg_authid'::regclass AND r.oid = s.objoid \
           UNION ALL SELECT 'tablespace ' || spcname FROM pg_tablespace \
           UNION ALL SELECT 'subscription ' || subname FROM pg_subscription \
           UNION ALL SELECT 'auto.conf ' || name || '=' || coalesce(setting, '') \
                  FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' \
         ) lines ORDER BY 1",
    ))
}

/// Relations of database `db` with their columns, and each table's exact row count.
pub fn source(cluster: &PrivateCluster, db: &str) -> Vec<String> {
    let on = |sql: &str| cluster.psql_on(db, sql);
    let mut found = lines(&on(
        "SELECT c.relkind::text || ' ' || c.oid::regclass::text || ' ' \
                || coalesce(string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), \
                                       ',' ORDER BY a.attnum), '') \
         FROM pg_class c \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) \
           AND c.relnamespace::regnamespace::text NOT LIKE 'pg_toast%' \
         GROUP BY c.oid, c.relkind ORDER BY 1",
    ));
    let tables = lines(&on(
        "SELECT format('%I.%I', relnamespace::regnamespace, relname) FROM pg_class \
         WHERE relkind = 'r' AND relnamespace NOT IN \
               ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) \
           AND relnamespace::regnamespace::text NOT LIKE 'pg_toast%' ORDER BY 1",
    ));
    for table in tables {
        let count = on(&format!("SELECT count(*) FROM {table}"));
        found.push(format!("rows {table} {count}"));
    }
    found
}

/// `fingerprint` without the lines of databases `names` (a clone migsafe made and dropped, or
/// reported as left behind).
pub fn excluding(fingerprint: &[String], names: &[&str]) -> Vec<String> {
    fingerprint
        .iter()
        .filter(|line| {
            !names.iter().any(|name| {
                line.starts_with(&format!("database {name} "))
                    || line.contains(&format!(" db={name} "))
                    || line.starts_with(&format!("shdescription pg_database {name} "))
            })
        })
        .cloned()
        .collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
