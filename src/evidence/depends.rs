//! The copy's dependency graph at catalog level (issue #11, item 4): which views, rules,
//! policies, triggers, generated columns and publications depend on which tables and
//! columns, read from `pg_depend` (views and rules through `pg_rewrite`). PostgreSQL consults
//! exactly these edges when it refuses `ALTER COLUMN … TYPE` ("cannot alter type of a column
//! used by a view or rule", "… in a policy definition", "… in a trigger definition", "… by a
//! generated column") and `DROP COLUMN` / `DROP TABLE` without CASCADE ("other objects depend
//! on it"), so a catalog-level review can predict those failures before anything runs.
//! Two facts that are not `pg_depend` edges of another object sit in the same graph because
//! PostgreSQL refuses on them even with CASCADE: a partitioned table's key columns
//! (`pg_partitioned_table`, and the internal `pg_depend` edge that covers expression keys) and
//! a child's inherited columns (`attinhcount`, from `pg_inherits`).
//!
//! Read-only: one query over the system catalogs, no lock on user tables.

use crate::model::QualifiedName;
use anyhow::{Context as _, Result};
use serde::Serialize;
use sqlx::postgres::PgConnection;

/// What kind of object depends on a table or column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependentKind {
    View,
    MaterializedView,
    /// A rule (`CREATE RULE`) on the table itself or another one.
    Rule,
    Policy,
    Trigger,
    /// A generated column of the same table computed from the column.
    GeneratedColumn,
    Publication,
    /// The column is in the partition key of the partitioned table `name` (the table itself).
    PartitionKey,
    /// The column of a partition or inheritance child is inherited from `name`, the ancestor
    /// that defines it.
    InheritedColumn,
}

impl DependentKind {
    fn parse(s: &str) -> Option<DependentKind> {
        Some(match s {
            "view" => DependentKind::View,
            "materialized view" => DependentKind::MaterializedView,
            "rule" => DependentKind::Rule,
            "policy" => DependentKind::Policy,
            "trigger" => DependentKind::Trigger,
            "generated column" => DependentKind::GeneratedColumn,
            "publication" => DependentKind::Publication,
            "partition key" => DependentKind::PartitionKey,
            "inherited column" => DependentKind::InheritedColumn,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DependentKind::View => "view",
            DependentKind::MaterializedView => "materialized view",
            DependentKind::Rule => "rule",
            DependentKind::Policy => "policy",
            DependentKind::Trigger => "trigger",
            DependentKind::GeneratedColumn => "generated column",
            DependentKind::Publication => "publication",
            DependentKind::PartitionKey => "partition key",
            DependentKind::InheritedColumn => "inherited column",
        }
    }

    /// The error PostgreSQL raises when the column's type is changed under this dependent
    /// (`ATExecAlterColumnType`); `None`: the change goes through (a publication's column
    /// list follows the new type).
    pub fn type_change_error(self) -> Option<&'static str> {
        match self {
            DependentKind::View | DependentKind::MaterializedView | DependentKind::Rule => {
                Some("cannot alter type of a column used by a view or rule")
            }
            DependentKind::Policy => {
                Some("cannot alter type of a column used in a policy definition")
            }
            DependentKind::Trigger => {
                Some("cannot alter type of a column used in a trigger definition")
            }
            DependentKind::GeneratedColumn => {
                Some("cannot alter type of a column used by a generated column")
            }
            // Refused with a message naming the column: see `refusal`.
            DependentKind::Publication
            | DependentKind::PartitionKey
            | DependentKind::InheritedColumn => None,
        }
    }

    /// PostgreSQL's error for `ALTER COLUMN … TYPE` (`drop` false) or `DROP COLUMN` (`drop`
    /// true) of `column` when this is a fact that no CASCADE and no dropping of other objects
    /// gets around; `None` for ordinary dependents. `relation` is the graph's `name`.
    pub fn refusal(self, column: &str, relation: &str, drop: bool) -> Option<String> {
        let verb = if drop { "drop" } else { "alter" };
        let column = column.replace('"', "\"\"");
        match self {
            DependentKind::PartitionKey => {
                // The server prints the bare relation name, without schema or quotes.
                let bare = relation
                    .rsplit('.')
                    .next()
                    .unwrap_or(relation)
                    .trim_matches('"');
                Some(format!(
                    "cannot {verb} column \"{column}\" because it is part of the partition key \
                     of relation \"{bare}\""
                ))
            }
            DependentKind::InheritedColumn => {
                Some(format!("cannot {verb} inherited column \"{column}\""))
            }
            _ => None,
        }
    }

    /// Whether dropping what it depends on without CASCADE fails (a normal dependency); a
    /// generated column is dropped along with its base column instead (an automatic one).
    pub fn blocks_drop(self) -> bool {
        !matches!(self, DependentKind::GeneratedColumn)
    }
}

/// One edge of the graph: `name` (a `kind`) depends on `table` or on its `column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependent {
    pub table: QualifiedName,
    /// `None`: on the table as a whole.
    pub column: Option<String>,
    pub kind: DependentKind,
    /// The dependent object as PostgreSQL names it: `public.film_list`, `policy tenant_rows on
    /// public.orders`.
    pub name: String,
}

const QUERY: &str = r#"
WITH RECURSIVE ancestors(child, parent) AS (
    SELECT inhrelid, inhparent FROM pg_inherits
  UNION
    SELECT a.child, i.inhparent FROM ancestors a JOIN pg_inherits i ON i.inhrelid = a.parent
),
deps AS (
    SELECT d.refobjid AS relid, d.refobjsubid AS attnum,
           CASE WHEN v.oid = d.refobjid OR v.relkind NOT IN ('v', 'm') THEN 'rule'
                WHEN v.relkind = 'm' THEN 'materialized view' ELSE 'view' END AS kind,
           CASE WHEN v.oid = d.refobjid OR v.relkind NOT IN ('v', 'm')
                THEN r.rulename || ' on ' || v.oid::regclass::text
                ELSE v.oid::regclass::text END AS name
    FROM pg_depend d
    JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    JOIN pg_class v ON v.oid = r.ev_class
    WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
  UNION
    SELECT d.refobjid, d.refobjsubid, 'policy', p.polname || ' on ' || p.polrelid::regclass::text
    FROM pg_depend d JOIN pg_policy p ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
  UNION
    SELECT d.refobjid, d.refobjsubid, 'trigger', t.tgname || ' on ' || t.tgrelid::regclass::text
    FROM pg_depend d JOIN pg_trigger t ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND NOT t.tgisinternal
  UNION
    SELECT d.refobjid, d.refobjsubid, 'generated column',
           ad.adrelid::regclass::text || '.' || quote_ident(a.attname)
    FROM pg_depend d
    JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
      AND d.refobjsubid <> ad.adnum AND a.attgenerated <> ''
  UNION
    SELECT d.refobjid, d.refobjsubid, 'publication', p.pubname
    FROM pg_depend d
    JOIN pg_publication_rel pr ON d.classid = 'pg_publication_rel'::regclass AND d.objid = pr.oid
    JOIN pg_publication p ON p.oid = pr.prpubid
    WHERE d.refclassid = 'pg_class'::regclass
  UNION
    SELECT pt.partrelid, k.attnum, 'partition key', pt.partrelid::regclass::text
    FROM pg_partitioned_table pt, unnest(pt.partattrs::int2[]) AS k(attnum)
    WHERE k.attnum > 0
  UNION
    -- Columns used only inside a key expression (`PARTITION BY LIST (lower(k))`): the
    -- server records them as internally dependent on their own table.
    SELECT pt.partrelid, d.objsubid, 'partition key', pt.partrelid::regclass::text
    FROM pg_partitioned_table pt
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = pt.partrelid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjid = pt.partrelid
      AND d.objsubid > 0 AND d.refobjsubid = 0 AND d.deptype = 'i'
  UNION
    SELECT a.attrelid, a.attnum, 'inherited column', anc.parent::regclass::text
    FROM pg_attribute a
    JOIN ancestors anc ON anc.child = a.attrelid
    JOIN pg_attribute pa ON pa.attrelid = anc.parent AND pa.attname = a.attname
      AND pa.attinhcount = 0 AND NOT pa.attisdropped
    WHERE a.attinhcount > 0 AND a.attnum > 0 AND NOT a.attisdropped
)
SELECT n.nspname::text, c.relname::text, a.attname::text, deps.kind, deps.name
FROM deps
JOIN pg_class c ON c.oid = deps.relid AND c.relkind IN ('r', 'p', 'm', 'f')
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = deps.attnum AND deps.attnum > 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT (deps.kind IN ('view', 'materialized view') AND deps.name = c.oid::regclass::text)
ORDER BY 1, 2, 3, 4, 5
"#;

/// Reads the graph of the database `conn` is connected to.
pub async fn read(conn: &mut PgConnection) -> Result<Vec<Dependent>> {
    let rows: Vec<(String, String, Option<String>, String, String)> = sqlx::query_as(QUERY)
        .fetch_all(&mut *conn)
        .await
        .context("Failed to read pg_depend")?;
    Ok(rows
        .into_iter()
        .filter_map(|(schema, table, column, kind, name)| {
            Some(Dependent {
                table: QualifiedName::new(Some(&schema), &table),
                column,
                kind: DependentKind::parse(&kind)?,
                name,
            })
        })
        .collect())
}

/// The dependents of `table` (fully qualified), on `column` or, with `None`, on any part of
/// it.
pub fn of<'a>(
    graph: &'a [Dependent],
    table: &'a QualifiedName,
    column: Option<&'a str>,
) -> impl Iterator<Item = &'a Dependent> + 'a {
    graph.iter().filter(move |d| {
        d.table.matches(table)
            && match column {
                Some(c) => d.column.as_deref() == Some(c),
                None => true,
            }
    })
}
