//! Helpers for rule unit tests: review a snippet and keep one rule's findings.

use crate::config::Settings;
use crate::model::{Finding, Transaction};
use crate::rules::Rule;

/// Findings of `rule` when `sql` is reviewed as a plain migration whose runner is declared to
/// wrap each file in a transaction (`--transaction file`); the file's own markers
/// (`-- no-transaction`) still win.
pub fn check(rule: &Rule, sql: &str) -> Vec<Finding> {
    check_as(rule, sql, Some(Transaction::File))
}

/// Findings of `rule` for `sql` run as `mode` says; `None` leaves the runner unknown (a lone
/// plain file, reviewed as psql runs it).
pub fn check_as(rule: &Rule, sql: &str, mode: Option<Transaction>) -> Vec<Finding> {
    let settings = Settings {
        transaction: mode,
        ..Settings::default()
    };
    let report =
        crate::review::review_sql("test.sql", sql, &settings).expect("inline SQL always loads");
    report
        .findings
        .into_iter()
        .filter(|f| f.rule == rule.name)
        .collect()
}

/// Number of findings of `rule` for `sql`.
pub fn count(rule: &Rule, sql: &str) -> usize {
    check(rule, sql).len()
}

// ---------------------------------------------------------------------------------------
// Catalog-level tests: a snapshot built in the test, the schema replayed like the engine.
// ---------------------------------------------------------------------------------------

use crate::evidence::catalog::{
    CatalogSnapshot, Column, Constraint, ConstraintType, Index, Reference, RowSource, Table,
    TableKind,
};
use crate::evidence::connect::ServerIdentity;
use crate::model::{IndexKey, ParsedMigration, QualifiedName};
use crate::rules::{Check, Context, MigrationState, Risk};
use crate::schema::{Drift, Schema};

/// `s.t` or `t` (in `public`), as the catalog names objects.
pub fn qualified(name: &str) -> QualifiedName {
    match name.split_once('.') {
        Some((s, n)) => QualifiedName::new(Some(s), n),
        None => QualifiedName::new(Some("public"), name),
    }
}

/// A PostgreSQL 15 server.
pub fn server() -> ServerIdentity {
    ServerIdentity {
        version_num: 150_000,
        version: "15.0".into(),
        database: "copy".into(),
        database_bytes: 0,
        in_recovery: false,
        last_analyzed: None,
        seconds_since_analyze: None,
    }
}

/// A table with `rows` rows (8 kB per 100 rows) and `(name, format_type)` columns.
pub fn table(name: &str, rows: i64, columns: &[(&str, &str)]) -> Table {
    Table {
        name: qualified(name),
        kind: TableKind::Table,
        partition_of: None,
        rows,
        row_source: RowSource::Analyze,
        heap_bytes: rows.saturating_mul(82),
        index_bytes: 0,
        toast_bytes: 0,
        triggers: 0,
        locked: false,
        columns: columns
            .iter()
            .zip(1..)
            .map(|((n, t), attnum)| Column {
                name: n.to_string(),
                data_type: t.to_string(),
                not_null: false,
                has_default: false,
                default: None,
                generated: false,
                generation_expression: None,
                identity: false,
                attnum,
            })
            .collect(),
    }
}

/// A valid btree index; keys in parentheses are expressions. 1 MB, never scanned.
pub fn index(name: &str, table: &str, keys: &[&str]) -> Index {
    let table = qualified(table);
    Index {
        name: QualifiedName::new(table.schema.as_deref(), name),
        table,
        keys: keys
            .iter()
            .map(
                |k| match k.strip_prefix('(').and_then(|k| k.strip_suffix(')')) {
                    Some(e) => IndexKey::Expression(e.to_string()),
                    None => IndexKey::Column(k.to_string()),
                },
            )
            .collect(),
        include: Vec::new(),
        partial: false,
        predicate: None,
        unique: false,
        primary: false,
        valid: true,
        method: "btree".into(),
        bytes: 1 << 20,
        scans: Some(0),
        parent: None,
        locked: false,
    }
}

/// A validated constraint; `references` is `(table, columns)` for a foreign key.
pub fn constraint(
    table: &str,
    name: &str,
    kind: ConstraintType,
    columns: &[&str],
    references: Option<(&str, &[&str])>,
) -> Constraint {
    let strings = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Constraint {
        table: qualified(table),
        name: name.to_string(),
        kind,
        columns: strings(columns),
        validated: true,
        references: references.map(|(t, c)| Reference {
            table: qualified(t),
            columns: strings(c),
            on_delete: "no action".into(),
        }),
        index: matches!(kind, ConstraintType::PrimaryKey | ConstraintType::Unique)
            .then(|| name.to_string()),
        inherited: false,
        definition: None,
    }
}

/// A snapshot of these objects, search path `public`.
pub fn snapshot(
    tables: Vec<Table>,
    indexes: Vec<Index>,
    constraints: Vec<Constraint>,
) -> CatalogSnapshot {
    CatalogSnapshot::from_parts(
        server(),
        vec!["public".into()],
        tables,
        indexes,
        constraints,
        Vec::new(),
        Vec::new(),
    )
}

/// `sql` as one plain migration run in a transaction (as [`check`]), parsed with its metadata.
pub fn migration(sql: &str) -> ParsedMigration {
    let settings = Settings::default();
    let mut migrations = crate::load::load_text("test.sql", sql, None).expect("inline SQL loads");
    crate::load::declare(
        &mut migrations,
        &[],
        Some(Transaction::File),
        std::path::Path::new("."),
    );
    let owners = crate::metadata::Owners::discover(&settings.root, None).expect("owners");
    crate::review::prepare(migrations.remove(0), &owners)
}

/// Walks `sql`'s statements like the engine does at catalog level: each statement's check
/// sees the schema the earlier statements left, then `MigrationState` and `Schema` fold the
/// statement in. Returns the rule's risks and the schema at the end.
pub fn replay_rule(rule: &Rule, snapshot: CatalogSnapshot, sql: &str) -> (Vec<Risk>, Schema) {
    let Check::Statement(check) = rule.check else {
        panic!("{} is not a statement rule", rule.name);
    };
    let pm = migration(sql);
    let settings = Settings::default();
    let mut schema = Schema::new(snapshot);
    let mut state = MigrationState::default();
    let mut risks = Vec::new();
    for (index, stmt) in pm.statements.iter().enumerate() {
        let ctx = Context {
            migration: &pm,
            index,
            state: &state,
            settings: &settings,
            schema: Some(&schema),
            plan: None,
        };
        risks.extend(check(&ctx, stmt));
        state.apply(index, stmt);
        schema.apply(stmt);
    }
    (risks, schema)
}

/// The risks `rule` finds in `sql` against `snapshot` (see [`replay_rule`]).
pub fn catalog_risks(rule: &Rule, snapshot: CatalogSnapshot, sql: &str) -> Vec<Risk> {
    replay_rule(rule, snapshot, sql).0
}

/// The drift of every statement of `sql` against `snapshot`, replayed in order.
pub fn replay_drift(snapshot: CatalogSnapshot, sql: &str) -> (Vec<Vec<Drift>>, Schema) {
    let pm = migration(sql);
    let mut schema = Schema::new(snapshot);
    let mut drift = Vec::new();
    for stmt in &pm.statements {
        drift.push(schema.drift(stmt));
        schema.apply(stmt);
    }
    (drift, schema)
}
