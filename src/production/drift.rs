//! Representativeness (issue #15 item 2a): what differs between the copy and production's
//! snapshot in a way that can change a verdict — objects one side lacks, index and
//! constraint definitions, table sizes, server version and settings. Pure: two snapshots
//! in, differences out.

use crate::evidence::snapshot::{Snapshot, SnapshotTable};
use crate::model::Severity;
use crate::report::text::{bytes, thousands};
use std::collections::{BTreeMap, BTreeSet};

/// Below this or above its inverse, a touched table's size on the copy is not
/// representative: the goal for predictions is a factor of 2.
pub const SIZE_RATIO: f64 = 2.0;

/// One difference, as a finding will report it.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The rule's name: `copy-differs-from-production`, `copy-size-differs-from-production`
    /// or `server-differs-from-production`.
    pub rule: &'static str,
    pub severity: Severity,
    /// The table it concerns (`schema.name`), for pointing at the statement touching it.
    pub table: Option<String>,
    pub message: String,
}

const OBJECTS: &str = "copy-differs-from-production";
const SIZES: &str = "copy-size-differs-from-production";
const SERVER: &str = "server-differs-from-production";

/// Everything that differs. `touched` are the tables (`schema.name`) the reviewed migrations
/// touch: their differences are warnings, and only their sizes are compared.
pub fn compare(
    copy: &Snapshot,
    production: &Snapshot,
    touched: &BTreeSet<String>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    server(copy, production, &mut out);
    let weight = |table: &str| {
        if touched.contains(table) {
            Severity::Warning
        } else {
            Severity::Info
        }
    };
    let object = |table: Option<&str>, severity: Severity, message: String| Difference {
        rule: OBJECTS,
        severity,
        table: table.map(str::to_string),
        message,
    };

    for (name, version) in &production.extensions {
        match copy.extensions.get(name) {
            None => out.push(object(
                None,
                Severity::Warning,
                format!(
                    "Extension {name} {version} is installed in production but not on the copy: \
                     migrations and queries that use it fail on the copy"
                ),
            )),
            Some(v) if v != version => out.push(object(
                None,
                Severity::Info,
                format!("Extension {name} is version {v} on the copy and {version} in production"),
            )),
            Some(_) => {}
        }
    }
    for name in copy.extensions.keys() {
        if !production.extensions.contains_key(name) {
            out.push(object(
                None,
                Severity::Warning,
                format!(
                    "Extension {name} is installed on the copy but not in production: a \
                     migration that relies on it succeeds on the copy and fails in production"
                ),
            ));
        }
    }

    let copy_tables: BTreeMap<&str, &SnapshotTable> =
        copy.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let prod_tables: BTreeMap<&str, &SnapshotTable> = production
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    for (name, t) in &prod_tables {
        if !copy_tables.contains_key(name) {
            out.push(object(
                Some(name),
                weight(name),
                format!(
                    "Table {name} (~{} rows, {}) exists in production but not on the copy",
                    thousands(t.rows.max(0)),
                    bytes(t.bytes())
                ),
            ));
        }
    }
    for name in copy_tables.keys() {
        if !prod_tables.contains_key(name) {
            out.push(object(
                Some(name),
                weight(name),
                format!("Table {name} exists on the copy but not in production"),
            ));
        }
    }

    let copy_indexes: BTreeMap<&str, _> =
        copy.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    for p in &production.indexes {
        match copy_indexes.get(p.name.as_str()) {
            None if copy_tables.contains_key(p.table.as_str()) => out.push(object(
                Some(&p.table),
                weight(&p.table),
                format!(
                    "Index {} on {} exists in production but not on the copy ({}; {} scans in \
                     production): plans and index findings on the copy do not see it",
                    p.name,
                    p.table,
                    p.definition,
                    p.scans.map_or("no".to_string(), thousands)
                ),
            )),
            None => {}
            Some(c) if c.definition != p.definition => out.push(object(
                Some(&p.table),
                weight(&p.table),
                format!(
                    "Index {} differs: `{}` on the copy, `{}` in production",
                    p.name, c.definition, p.definition
                ),
            )),
            Some(c) if c.valid != p.valid => out.push(object(
                Some(&p.table),
                weight(&p.table),
                format!(
                    "Index {} is {} on the copy and {} in production",
                    p.name,
                    validity(c.valid),
                    validity(p.valid)
                ),
            )),
            Some(_) => {}
        }
    }
    let prod_indexes: BTreeSet<&str> = production.indexes.iter().map(|i| i.name.as_str()).collect();
    for c in &copy.indexes {
        if !prod_indexes.contains(c.name.as_str()) && prod_tables.contains_key(c.table.as_str()) {
            out.push(object(
                Some(&c.table),
                weight(&c.table),
                format!(
                    "Index {} on {} exists on the copy but not in production ({})",
                    c.name, c.table, c.definition
                ),
            ));
        }
    }

    let key = |table: &str, name: &str| format!("{table}\u{0}{name}");
    let copy_constraints: BTreeMap<String, _> = copy
        .constraints
        .iter()
        .map(|c| (key(&c.table, &c.name), c))
        .collect();
    let prod_constraints: BTreeSet<String> = production
        .constraints
        .iter()
        .map(|c| key(&c.table, &c.name))
        .collect();
    for p in &production.constraints {
        let kind = p.kind.replace('_', " ");
        match copy_constraints.get(&key(&p.table, &p.name)) {
            None if copy_tables.contains_key(p.table.as_str()) => out.push(object(
                Some(&p.table),
                weight(&p.table),
                format!(
                    "Constraint {} ({kind}) on {} exists in production but not on the copy",
                    p.name, p.table
                ),
            )),
            None => {}
            Some(c) if c.validated != p.validated => out.push(object(
                Some(&p.table),
                weight(&p.table),
                format!(
                    "Constraint {} on {} is {} on the copy and {} in production",
                    p.name,
                    p.table,
                    validated(c.validated),
                    validated(p.validated)
                ),
            )),
            Some(_) => {}
        }
    }
    for c in &copy.constraints {
        if !prod_constraints.contains(&key(&c.table, &c.name))
            && prod_tables.contains_key(c.table.as_str())
        {
            out.push(object(
                Some(&c.table),
                weight(&c.table),
                format!(
                    "Constraint {} ({}) on {} exists on the copy but not in production",
                    c.name,
                    c.kind.replace('_', " "),
                    c.table
                ),
            ));
        }
    }

    let copy_views: BTreeSet<&str> = copy.views.iter().map(|v| v.name.as_str()).collect();
    let prod_views: BTreeSet<&str> = production.views.iter().map(|v| v.name.as_str()).collect();
    for v in &production.views {
        if !copy_views.contains(v.name.as_str()) {
            let reads = v.depends_on.join(", ");
            let touches = v.depends_on.iter().any(|t| touched.contains(t));
            out.push(object(
                v.depends_on
                    .iter()
                    .find(|t| touched.contains(*t))
                    .map(String::as_str),
                if touches {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!(
                    "{} {} (reads {}) exists in production but not on the copy: a migration \
                     that changes what it reads can fail in production only",
                    if v.materialized {
                        "Materialized view"
                    } else {
                        "View"
                    },
                    v.name,
                    if reads.is_empty() {
                        "nothing known"
                    } else {
                        reads.as_str()
                    }
                ),
            ));
        }
    }
    for v in &copy.views {
        if !prod_views.contains(v.name.as_str()) {
            out.push(object(
                None,
                Severity::Info,
                format!(
                    "{} {} exists on the copy but not in production",
                    if v.materialized {
                        "Materialized view"
                    } else {
                        "View"
                    },
                    v.name
                ),
            ));
        }
    }

    for name in touched {
        let (Some(c), Some(p)) = (
            copy_tables.get(name.as_str()),
            prod_tables.get(name.as_str()),
        ) else {
            continue;
        };
        let Some(ratio) = ratio(c, p) else { continue };
        if ratio < SIZE_RATIO && ratio > 1.0 / SIZE_RATIO {
            continue;
        }
        out.push(Difference {
            rule: SIZES,
            severity: Severity::Warning,
            table: Some(name.clone()),
            message: format!(
                "{name} has ~{} rows ({}) on the copy and ~{} rows ({}) in production: \
                 production is {}× the copy; severities use production's size and measured \
                 durations are scaled to it",
                thousands(c.rows.max(0)),
                bytes(c.bytes()),
                thousands(p.rows.max(0)),
                bytes(p.bytes()),
                format_ratio(ratio)
            ),
        });
    }
    out
}

/// production / copy, by rows; by bytes when the copy's row estimate is 0.
pub fn ratio(copy: &SnapshotTable, production: &SnapshotTable) -> Option<f64> {
    if copy.rows > 0 {
        Some(production.rows.max(0) as f64 / copy.rows as f64)
    } else if copy.bytes() > 0 {
        Some(production.bytes().max(0) as f64 / copy.bytes() as f64)
    } else {
        None
    }
}

/// `10`, `2.5`, `0.04`.
pub fn format_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else if r >= 1.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

fn validity(valid: bool) -> &'static str {
    if valid {
        "valid"
    } else {
        "INVALID"
    }
}

fn validated(v: bool) -> &'static str {
    if v {
        "validated"
    } else {
        "NOT VALID"
    }
}

/// Version and settings.
fn server(copy: &Snapshot, production: &Snapshot, out: &mut Vec<Difference>) {
    let (c, p) = (&copy.server, &production.server);
    if c.major() != p.major() {
        out.push(Difference {
            rule: SERVER,
            severity: Severity::Warning,
            table: None,
            message: format!(
                "The copy runs PostgreSQL {} and production {}: lock levels, instant \
                 operations and plans differ between major versions",
                c.version, p.version
            ),
        });
    } else if c.version_num != p.version_num {
        out.push(Difference {
            rule: SERVER,
            severity: Severity::Info,
            table: None,
            message: format!(
                "The copy runs PostgreSQL {} and production {} (same major version)",
                c.version, p.version
            ),
        });
    }
    for (name, value) in &production.settings {
        if let Some(on_copy) = copy.settings.get(name).filter(|v| *v != value) {
            out.push(Difference {
                rule: SERVER,
                severity: Severity::Info,
                table: None,
                message: format!(
                    "Setting {name} is {on_copy} on the copy and {value} in production"
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::snapshot::{SnapshotIndex, SnapshotServer};

    fn snapshot(rows: i64, indexes: &[&str]) -> Snapshot {
        Snapshot {
            schema_version: 1,
            tool: Default::default(),
            server: SnapshotServer {
                version: "15.18".into(),
                version_num: 150018,
                database: "shop".into(),
                database_bytes: 0,
                in_recovery: false,
                last_analyzed: None,
            },
            settings: [("maintenance_work_mem".to_string(), "64MB".to_string())].into(),
            extensions: Default::default(),
            tables: vec![SnapshotTable {
                name: "public.tickets".into(),
                kind: "table".into(),
                partition_of: None,
                rows,
                heap_bytes: rows * 100,
                toast_bytes: 0,
                index_bytes: 0,
                triggers: 0,
                columns: vec![],
            }],
            indexes: indexes
                .iter()
                .map(|n| SnapshotIndex {
                    name: format!("public.{n}"),
                    table: "public.tickets".into(),
                    definition: format!("CREATE INDEX {n} ON public.tickets USING btree (status)"),
                    unique: false,
                    primary: false,
                    valid: true,
                    bytes: 8192,
                    scans: Some(42),
                })
                .collect(),
            constraints: vec![],
            views: vec![],
            top_queries: vec![],
            column_statistics: vec![],
            row_values: false,
            notes: vec![],
        }
    }

    #[test]
    fn names_the_missing_index_and_the_size_ratio_of_touched_tables() {
        let copy = snapshot(120_000, &[]);
        let mut prod = snapshot(1_200_000, &["tickets_status_idx"]);
        prod.settings
            .insert("maintenance_work_mem".into(), "1GB".into());
        let touched = BTreeSet::from(["public.tickets".to_string()]);
        let found = compare(&copy, &prod, &touched);
        let rules: Vec<_> = found.iter().map(|d| d.rule).collect();
        assert_eq!(rules, [SERVER, OBJECTS, SIZES], "{found:#?}");
        assert!(found[0]
            .message
            .contains("maintenance_work_mem is 64MB on the copy and 1GB"));
        assert!(found[1].message.contains("public.tickets_status_idx"));
        assert_eq!(found[1].severity, Severity::Warning);
        assert!(
            found[2].message.contains("production is 10×"),
            "{}",
            found[2].message
        );
        // Untouched: the index is info and sizes are not compared.
        let found = compare(&copy, &prod, &BTreeSet::new());
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].severity, Severity::Info);
    }

    #[test]
    fn identical_snapshots_differ_in_nothing() {
        let s = snapshot(1000, &["a_idx"]);
        let touched = BTreeSet::from(["public.tickets".to_string()]);
        assert!(compare(&s, &s, &touched).is_empty());
    }
}
