//! What a cached template holds, recorded when it is restored and checked on every clone of
//! it before a run uses that clone (issue #9, item 4: "the cache verifies a template before
//! use and rebuilds a damaged one"). A truncated or half-emptied template would otherwise
//! change the findings silently.
//!
//! The record lists every relation of the user's schemas: `schema.name`, kind, its file
//! (`relfilenode`), the size of its main fork and of its TOAST table, and for tables and
//! populated materialized views the exact row count. Why these, and why the rows are not
//! counted on every run (notes/safety.md, "The cache checks its templates"):
//! - A template accepts no connections (`ALLOW_CONNECTIONS false`, set when it is made), so
//!   nothing can change its rows without first allowing connections again. The cheap check
//!   (catalog only, no table read) runs on every clone; rows are counted only when the
//!   template allows connections or a table's size moved.
//! - Files and sizes stay put in a template nobody writes to: hint bits, ANALYZE and
//!   autovacuum change page contents, statistics, free-space and visibility maps, none of
//!   them a relation's file or its main fork's length, except that VACUUM may cut empty
//!   pages off the end of a table that had dead rows, and may grow a GIN or BRIN index while
//!   it merges pending entries. So an index may grow but never shrink, and a table whose
//!   size moved either way has its rows counted before anything is called damaged.
//! - Row counts read the data, which is exact but costs a pass over every table; it is paid
//!   once at restore, where it also sets the hint bits every later clone then inherits.

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, PgConnection};

/// What a template held when it was restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub relations: Vec<Relation>,
}

/// One relation of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// `schema.name`, quoted where SQL needs it (`public."Order"`).
    pub name: String,
    /// `table`, `index`, `sequence`, `view`, `materialized view`, …
    pub kind: String,
    /// `relfilenode`, for relations with storage: a rewrite (TRUNCATE, VACUUM FULL,
    /// REINDEX, ALTER TABLE … TYPE) gives the relation a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<i64>,
    /// Main fork size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Main fork size of its TOAST table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toast_bytes: Option<u64>,
    /// Exact row count (tables and populated materialized views this user may read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

impl Fingerprint {
    /// Rows of all counted relations.
    pub fn total_rows(&self) -> u64 {
        self.relations.iter().filter_map(|r| r.rows).sum()
    }
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same relations, files and sizes; `counted` when the rows were counted too.
    Intact { relations: usize, counted: bool },
    /// Why the template cannot be trusted, e.g. `table public.x has 0 rows, 1000 recorded`.
    Damaged(String),
}

/// One catalog row of [`read_relations`].
type CatalogRow = (String, String, Option<i64>, Option<i64>, Option<i64>, bool);

/// The relations of the user's schemas with their files and sizes (reads no table).
async fn read_relations(conn: &mut PgConnection) -> Result<Vec<(Relation, bool)>> {
    let rows: Vec<CatalogRow> = sqlx::query_as(
        "SELECT format('%I.%I', n.nspname, c.relname), c.relkind::text, \
                CASE WHEN c.relkind IN ('r','m','i','S') THEN c.relfilenode::int8 END, \
                CASE WHEN c.relkind IN ('r','m','i','S') THEN pg_relation_size(c.oid) END, \
                CASE WHEN c.reltoastrelid <> 0 THEN pg_relation_size(c.reltoastrelid) END, \
                c.relkind IN ('r','m') AND (c.relkind <> 'm' OR c.relispopulated) \
                    AND has_table_privilege(c.oid, 'SELECT') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' \
           AND c.relkind IN ('r','p','i','I','S','v','m','c','f') \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *conn)
    .await
    .context("Failed to read the relations of the template")?;
    Ok(rows
        .into_iter()
        .map(|(name, kind, file, bytes, toast, countable)| {
            let relation = Relation {
                name,
                kind: kind_name(&kind).to_string(),
                file,
                bytes: bytes.and_then(|b| u64::try_from(b).ok()),
                toast_bytes: toast.and_then(|b| u64::try_from(b).ok()),
                rows: None,
            };
            (relation, countable)
        })
        .collect())
}

fn kind_name(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "i" => "index",
        "I" => "partitioned index",
        "S" => "sequence",
        "v" => "view",
        "m" => "materialized view",
        "c" => "composite type",
        "f" => "foreign table",
        _ => "relation",
    }
}

/// Exact row count of `name` (already quoted).
async fn count_rows(conn: &mut PgConnection, name: &str) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM ONLY {name}")))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("Failed to count the rows of {name}"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Counting a large table may take longer than a server's default statement_timeout; the
/// session is migsafe's own, on a database it made.
async fn no_timeout(conn: &mut PgConnection) -> Result<()> {
    sqlx::raw_sql("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .context("Failed to lift statement_timeout for the template check")?;
    Ok(())
}

/// Takes the fingerprint of the database `conn` is connected to, counting every table's rows.
pub async fn take(conn: &mut PgConnection) -> Result<Fingerprint> {
    no_timeout(conn).await?;
    let mut relations = Vec::new();
    for (mut relation, countable) in read_relations(conn).await? {
        if countable {
            // A table this user cannot read at restore is left uncounted; the same user
            // checks it later, so the record and the check agree.
            relation.rows = count_rows(conn, &relation.name).await.ok();
        }
        relations.push(relation);
    }
    Ok(Fingerprint { relations })
}

/// Checks the database `conn` is connected to (a fresh clone of the template) against
/// `recorded`. `writable`: the template accepted connections, so its rows may have changed
/// and are counted whatever the sizes say.
pub async fn check(conn: &mut PgConnection, recorded: &Fingerprint, writable: bool) -> Verdict {
    let now = match read_relations(conn).await {
        Ok(now) => now,
        Err(e) => return Verdict::Damaged(format!("{e:#}")),
    };
    let now: Vec<Relation> = now.into_iter().map(|(r, _)| r).collect();
    let (mut problems, sizes_moved) = compare(recorded, &now);
    let count = problems.is_empty() && (writable || sizes_moved);
    if count {
        if let Err(e) = no_timeout(conn).await {
            return Verdict::Damaged(format!("{e:#}"));
        }
        for relation in &recorded.relations {
            let Some(expected) = relation.rows else {
                continue;
            };
            match count_rows(conn, &relation.name).await {
                Ok(n) if n == expected => {}
                Ok(n) => problems.push(format!(
                    "{} {} has {n} rows, {expected} recorded",
                    relation.kind, relation.name
                )),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
    }
    match problems.split_first() {
        None => Verdict::Intact {
            relations: now.len(),
            counted: count,
        },
        Some((first, [])) => Verdict::Damaged(first.clone()),
        Some((first, rest)) => {
            Verdict::Damaged(format!("{first} (and {} more differences)", rest.len()))
        }
    }
}

/// Differences that prove damage without reading a table, and whether a table's size moved
/// (which only its rows can settle).
fn compare(recorded: &Fingerprint, now: &[Relation]) -> (Vec<String>, bool) {
    use std::collections::BTreeMap;
    let now: BTreeMap<&str, &Relation> = now.iter().map(|r| (r.name.as_str(), r)).collect();
    let was: BTreeMap<&str, &Relation> = recorded
        .relations
        .iter()
        .map(|r| (r.name.as_str(), r))
        .collect();
    let mut problems = Vec::new();
    let mut sizes_moved = false;
    for (name, old) in &was {
        let Some(new) = now.get(name) else {
            problems.push(format!("{} {name} is missing", old.kind));
            continue;
        };
        if new.kind != old.kind {
            problems.push(format!(
                "{name} is a {} now, a {} at restore",
                new.kind, old.kind
            ));
            continue;
        }
        if new.file != old.file {
            problems.push(format!(
                "{} {name} was rewritten since the restore (it has a new file)",
                old.kind
            ));
            continue;
        }
        let index = old.kind == "index";
        match (old.bytes, new.bytes) {
            // Indexes never shrink in place (VACUUM recycles their pages, it does not cut
            // the file); a shorter index file was cut from outside.
            (Some(was), Some(is)) if index && is < was => problems.push(format!(
                "{} {name} is {is} bytes on disk, {was} recorded",
                old.kind
            )),
            (Some(was), Some(is)) if !index && is != was => sizes_moved = true,
            _ => {}
        }
        if old.toast_bytes != new.toast_bytes {
            sizes_moved = true;
        }
    }
    for (name, new) in &now {
        if !was.contains_key(name) {
            problems.push(format!("{} {name} was not there at restore", new.kind));
        }
    }
    (problems, sizes_moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, bytes: u64, rows: u64) -> Relation {
        Relation {
            name: name.to_string(),
            kind: "table".to_string(),
            file: Some(16_384),
            bytes: Some(bytes),
            toast_bytes: None,
            rows: Some(rows),
        }
    }

    fn index(name: &str, bytes: u64) -> Relation {
        Relation {
            name: name.to_string(),
            kind: "index".to_string(),
            file: Some(16_390),
            bytes: Some(bytes),
            toast_bytes: None,
            rows: None,
        }
    }

    fn print(relations: Vec<Relation>) -> Fingerprint {
        Fingerprint { relations }
    }

    #[test]
    fn the_same_relations_and_sizes_need_no_row_count() {
        let recorded = print(vec![
            table("public.t", 8192, 10),
            index("public.t_pkey", 16_384),
        ]);
        let (problems, moved) = compare(&recorded, &recorded.relations);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!moved);
    }

    #[test]
    fn a_missing_or_new_relation_is_damage() {
        let recorded = print(vec![table("public.a", 8192, 1), table("public.b", 8192, 1)]);
        let now = vec![table("public.a", 8192, 1), table("public.c", 8192, 1)];
        let (problems, _) = compare(&recorded, &now);
        assert_eq!(
            problems,
            vec![
                "table public.b is missing".to_string(),
                "table public.c was not there at restore".to_string()
            ]
        );
    }

    #[test]
    fn a_shorter_index_is_damage_a_longer_one_is_not() {
        let recorded = print(vec![index("public.i", 16_384)]);
        let (problems, _) = compare(&recorded, &[index("public.i", 8192)]);
        assert_eq!(
            problems,
            vec!["index public.i is 8192 bytes on disk, 16384 recorded".to_string()]
        );
        let (problems, moved) = compare(&recorded, &[index("public.i", 24_576)]);
        assert!(problems.is_empty() && !moved, "{problems:?}");
    }

    #[test]
    fn a_table_whose_size_moved_is_settled_by_its_rows() {
        let recorded = print(vec![table("public.t", 16_384, 10)]);
        let (problems, moved) = compare(&recorded, &[table("public.t", 8192, 10)]);
        assert!(problems.is_empty());
        assert!(moved);
    }

    #[test]
    fn a_rewritten_relation_is_damage() {
        let recorded = print(vec![table("public.t", 8192, 10)]);
        let mut now = table("public.t", 8192, 10);
        now.file = Some(20_000);
        let (problems, _) = compare(&recorded, &[now]);
        assert_eq!(
            problems,
            vec!["table public.t was rewritten since the restore (it has a new file)".to_string()]
        );
    }

    #[test]
    fn a_record_reads_back_what_was_written() {
        let recorded = print(vec![table("public.\"Order\"", 8192, 3)]);
        let text = serde_json::to_string(&recorded).unwrap();
        assert_eq!(
            serde_json::from_str::<Fingerprint>(&text).unwrap(),
            recorded
        );
    }
}
