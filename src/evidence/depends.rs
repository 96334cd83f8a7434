//! The copy's dependency graph at catalog level (issue #11, item 4): which views, rules,
//! policies, triggers, generated columns and publications depend on which tables and
//! columns, read from `pg_depend` (views and rules through `pg_rewrite`). PostgreSQL consults
//! exactly these edges when it refuses `ALTER COLUMN … TYPE` ("cannot alter type of a column
//! used by a view or rule", "… in a policy definition", "… in a trigger definition", "… by a
//! generated column") and `DROP COLUMN` / `DROP TABLE` without CASCADE ("other objects depend
//! on it"), so a catalog-level review can predict those failures before anything runs.
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
            DependentKind::Publication => None,
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
WITH deps AS (
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
