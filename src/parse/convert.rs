//! sqlparser's AST → our `StatementKind`. The only file in the crate that imports sqlparser:
//! everything rules need is copied into our model here, normalised the way PostgreSQL
//! resolves names (unquoted identifiers fold to lower case).

use super::tokens::{self, functions_in};
use crate::model::{
    AlterAction, ColumnDef, Constraint, ConstraintKind, Expr, ForeignKeyRef, IndexKey,
    QualifiedName, StatementKind,
};
use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, AlterTypeOperation, ColumnOption,
    DetachPartitionMode, FromTable, GeneratedExpressionMode, Ident, IndexColumn, ObjectName,
    ObjectNamePart, ObjectType, SchemaName, SetExpr, TableConstraint, TableFactor, TableObject,
    TableWithJoins,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Parses one statement's text with sqlparser and converts it. `Err` holds sqlparser's
/// message (without its `sql parser error: ` prefix).
pub(crate) fn parse(text: &str) -> Result<StatementKind, String> {
    let parsed = std::panic::catch_unwind(|| Parser::parse_sql(&PostgreSqlDialect {}, text));
    let statements = match parsed {
        Ok(Ok(statements)) => statements,
        Ok(Err(e)) => {
            let msg = e.to_string();
            let msg = msg.strip_prefix("sql parser error: ").unwrap_or(&msg);
            return Err(msg.to_string());
        }
        Err(_) => return Err("sqlparser failed on this statement".to_string()),
    };
    match statements.as_slice() {
        [one] => Ok(convert(one, text)),
        [] => Err("no statement found".to_string()),
        _ => Err("sqlparser read more than one statement here".to_string()),
    }
}

/// An identifier as PostgreSQL resolves it.
fn ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => ident(id),
            other => other.to_string().to_lowercase(),
        })
        .collect()
}

fn qname(name: &ObjectName) -> QualifiedName {
    let mut parts = name_parts(name);
    let last = parts.pop().unwrap_or_default();
    QualifiedName {
        schema: parts.pop(),
        name: last,
    }
}

/// The last part of a possibly qualified name (`RENAME TO s.t` renames to `t`).
fn last_part(name: &ObjectName) -> String {
    name_parts(name).pop().unwrap_or_default()
}

fn expr(e: &ast::Expr) -> Expr {
    let text = e.to_string();
    Expr {
        functions: functions_in(&text),
        text,
    }
}

/// Lower-cased type as written, single-spaced.
fn data_type(dt: &ast::DataType) -> String {
    collapse(&dt.to_string().to_lowercase())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn index_column_name(c: &IndexColumn) -> String {
    match &c.column.expr {
        ast::Expr::Identifier(id) => ident(id),
        other => other.to_string(),
    }
}

fn index_key(c: &IndexColumn) -> IndexKey {
    match &c.column.expr {
        ast::Expr::Identifier(id) => IndexKey::Column(ident(id)),
        other => IndexKey::Expression(other.to_string()),
    }
}

fn column_def(c: &ast::ColumnDef) -> ColumnDef {
    let mut out = ColumnDef {
        name: ident(&c.name),
        data_type: data_type(&c.data_type),
        ..ColumnDef::default()
    };
    for opt in &c.options {
        match &opt.option {
            ColumnOption::NotNull => out.not_null = true,
            ColumnOption::Null => out.not_null = false,
            ColumnOption::Default(e) => out.default = Some(expr(e)),
            ColumnOption::PrimaryKey(_) => {
                out.primary_key = true;
                // A primary key implies NOT NULL: rules about required columns care.
                out.not_null = true;
            }
            ColumnOption::Unique(_) => out.unique = true,
            ColumnOption::ForeignKey(fk) => {
                out.references = Some(ForeignKeyRef {
                    table: qname(&fk.foreign_table),
                    columns: fk.referred_columns.iter().map(ident).collect(),
                })
            }
            ColumnOption::Check(c) => out.check = Some(expr(&c.expr)),
            ColumnOption::Generated {
                generation_expr,
                generation_expr_mode,
                ..
            } => match generation_expr {
                // Without STORED, PostgreSQL 18 makes a virtual column: no rewrite.
                Some(_) => {
                    out.generated_stored =
                        matches!(generation_expr_mode, Some(GeneratedExpressionMode::Stored))
                }
                None => out.identity = true,
            },
            ColumnOption::Identity(_) => out.identity = true,
            _ => {}
        }
    }
    out
}

fn table_constraint(c: &TableConstraint, not_valid: bool) -> Option<Constraint> {
    // PostgreSQL 18's NOT ENFORCED check or foreign key is created without checking any row
    // (it is never validated), so it scans nothing, like NOT VALID.
    let not_enforced = match c {
        TableConstraint::Check(ch) => ch.enforced == Some(false),
        TableConstraint::ForeignKey(fk) => fk
            .characteristics
            .as_ref()
            .is_some_and(|ch| ch.enforced == Some(false)),
        _ => false,
    };
    let not_valid = not_valid || not_enforced;
    let (name, kind, columns, using_index) = match c {
        TableConstraint::Unique(u) => (
            u.name.as_ref(),
            ConstraintKind::Unique,
            u.columns.iter().map(index_column_name).collect(),
            None,
        ),
        TableConstraint::PrimaryKey(p) => (
            p.name.as_ref(),
            ConstraintKind::PrimaryKey,
            p.columns.iter().map(index_column_name).collect(),
            None,
        ),
        TableConstraint::ForeignKey(fk) => (
            fk.name.as_ref(),
            ConstraintKind::ForeignKey(ForeignKeyRef {
                table: qname(&fk.foreign_table),
                columns: fk.referred_columns.iter().map(ident).collect(),
            }),
            fk.columns.iter().map(ident).collect(),
            None,
        ),
        TableConstraint::Check(ch) => (
            ch.name.as_ref(),
            ConstraintKind::Check(expr(&ch.expr)),
            Vec::new(),
            None,
        ),
        TableConstraint::PrimaryKeyUsingIndex(u) => (
            u.name.as_ref(),
            ConstraintKind::PrimaryKey,
            Vec::new(),
            Some(ident(&u.index_name)),
        ),
        TableConstraint::UniqueUsingIndex(u) => (
            u.name.as_ref(),
            ConstraintKind::Unique,
            Vec::new(),
            Some(ident(&u.index_name)),
        ),
        TableConstraint::Exclude(x) => (
            x.name.as_ref(),
            ConstraintKind::Exclusion,
            x.elements
                .iter()
                .map(|e| index_column_name(&e.column))
                .collect(),
            None,
        ),
        // MySQL-only inline INDEX / FULLTEXT definitions.
        TableConstraint::Index(_) | TableConstraint::FulltextOrSpatial(_) => return None,
    };
    Some(Constraint {
        name: name.map(ident),
        kind,
        columns,
        using_index,
        not_valid,
    })
}

/// Leading alphabetic words of a clause's text, lower-cased (`ENABLE TRIGGER x` → `enable
/// trigger`).
fn leading_words(text: &str, max: usize) -> String {
    text.split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .take(max)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn alter_actions(op: &AlterTableOperation, out: &mut Vec<AlterAction>) {
    let action = match op {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => match table_constraint(constraint, *not_valid) {
            Some(c) => AlterAction::AddConstraint(c),
            None => AlterAction::Other("add index".to_string()),
        },
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def: c,
            ..
        } => AlterAction::AddColumn {
            column: column_def(c),
            if_not_exists: *if_not_exists,
        },
        AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => AlterAction::DropConstraint {
            name: ident(name),
            if_exists: *if_exists,
        },
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            out.extend(column_names.iter().map(|c| AlterAction::DropColumn {
                name: ident(c),
                if_exists: *if_exists,
            }));
            return;
        }
        AlterTableOperation::AttachPartitionOf { partition, .. } => AlterAction::AttachPartition {
            partition: qname(partition),
        },
        AlterTableOperation::DetachPartitionOf { partition, mode } => {
            AlterAction::DetachPartition {
                partition: qname(partition),
                concurrently: matches!(mode, Some(DetachPartitionMode::Concurrently)),
                finalize: matches!(mode, Some(DetachPartitionMode::Finalize)),
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => AlterAction::RenameColumn {
            old: ident(old_column_name),
            new: ident(new_column_name),
        },
        AlterTableOperation::RenameTable { table_name } => {
            let (ast::RenameTableNameKind::To(n) | ast::RenameTableNameKind::As(n)) = table_name;
            AlterAction::RenameTable { new: last_part(n) }
        }
        AlterTableOperation::RenameConstraint { old_name, new_name } => {
            AlterAction::RenameConstraint {
                old: ident(old_name),
                new: ident(new_name),
            }
        }
        AlterTableOperation::ValidateConstraint { name } => {
            AlterAction::ValidateConstraint { name: ident(name) }
        }
        AlterTableOperation::SetLogged => AlterAction::SetStorage {
            what: "logged".to_string(),
        },
        AlterTableOperation::SetUnlogged => AlterAction::SetStorage {
            what: "unlogged".to_string(),
        },
        AlterTableOperation::SetOptionsParens { .. } => {
            AlterAction::Other("set storage parameters".to_string())
        }
        AlterTableOperation::ResetOptions { .. } => {
            AlterAction::Other("reset storage parameters".to_string())
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let column = ident(column_name);
            match op {
                AlterColumnOperation::SetNotNull => AlterAction::SetNotNull { column },
                AlterColumnOperation::DropNotNull => AlterAction::DropNotNull { column },
                AlterColumnOperation::SetDefault { value } => AlterAction::SetDefault {
                    column,
                    default: expr(value),
                },
                AlterColumnOperation::DropDefault => AlterAction::DropDefault { column },
                AlterColumnOperation::SetDataType {
                    data_type: dt,
                    using,
                    ..
                } => AlterAction::AlterColumnType {
                    column,
                    data_type: data_type(dt),
                    using: using.as_ref().map(expr),
                },
                AlterColumnOperation::AddGenerated { .. } => AlterAction::AddIdentity { column },
                other => AlterAction::Other(format!(
                    "alter column {}",
                    leading_words(&other.to_string(), 2)
                )),
            }
        }
        other => AlterAction::Other(leading_words(&other.to_string(), 2)),
    };
    out.push(action);
}

fn table_of(t: &TableWithJoins) -> QualifiedName {
    match &t.relation {
        TableFactor::Table { name, .. } => qname(name),
        other => QualifiedName::new(None, &other.to_string()),
    }
}

fn is_select(body: &SetExpr) -> bool {
    match body {
        SetExpr::Values(_) => false,
        SetExpr::Query(q) => is_select(&q.body),
        _ => true,
    }
}

/// Converts one parsed statement; `text` is its source, used for keywords of `Other`.
fn convert(stmt: &ast::Statement, text: &str) -> StatementKind {
    use ast::Statement as S;
    match stmt {
        S::CreateTable(ct) => StatementKind::CreateTable {
            name: qname(&ct.name),
            columns: ct.columns.iter().map(column_def).collect(),
            constraints: ct
                .constraints
                .iter()
                .filter_map(|c| table_constraint(c, false))
                .collect(),
            if_not_exists: ct.if_not_exists,
            temporary: ct.temporary,
            partition_of: ct.partition_of.as_ref().map(qname),
            as_select: ct.query.is_some(),
        },
        S::AlterTable(at) => {
            let mut actions = Vec::new();
            for op in &at.operations {
                alter_actions(op, &mut actions);
            }
            StatementKind::AlterTable {
                name: qname(&at.name),
                if_exists: at.if_exists,
                actions,
            }
        }
        S::CreateIndex(ci) => StatementKind::CreateIndex {
            name: ci.name.as_ref().map(qname),
            table: qname(&ci.table_name),
            keys: ci.columns.iter().map(index_key).collect(),
            unique: ci.unique,
            concurrently: ci.concurrently,
            if_not_exists: ci.if_not_exists,
            predicate: ci.predicate.as_ref().map(|p| p.to_string()),
            method: ci.using.as_ref().map(|u| u.to_string().to_lowercase()),
        },
        S::AlterIndex { name, .. } => StatementKind::AlterIndex {
            name: qname(name),
            action: "rename to".to_string(),
        },
        S::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => match object_type {
            ObjectType::Table => StatementKind::DropTable {
                names: names.iter().map(qname).collect(),
                if_exists: *if_exists,
                cascade: *cascade,
            },
            ObjectType::Index => StatementKind::DropIndex {
                names: names.iter().map(qname).collect(),
                concurrently: false,
                if_exists: *if_exists,
            },
            ObjectType::Schema => StatementKind::DropSchema {
                names: names.iter().map(last_part).collect(),
                if_exists: *if_exists,
                cascade: *cascade,
            },
            ObjectType::Database => StatementKind::DropDatabase {
                name: names.first().map(last_part).unwrap_or_default(),
            },
            _ => other(text),
        },
        S::Truncate(t) => StatementKind::Truncate {
            tables: t.table_names.iter().map(|t| qname(&t.name)).collect(),
        },
        S::Update(u) => StatementKind::Update {
            table: table_of(&u.table),
            has_where: u.selection.is_some(),
        },
        S::Delete(d) => {
            let tables = match &d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            StatementKind::Delete {
                table: tables.first().map(table_of).unwrap_or_else(|| {
                    d.tables
                        .first()
                        .map(qname)
                        .unwrap_or(QualifiedName::new(None, ""))
                }),
                has_where: d.selection.is_some(),
            }
        }
        S::Insert(i) => StatementKind::Insert {
            table: match &i.table {
                TableObject::TableName(n) => qname(n),
                other => QualifiedName::new(None, &other.to_string()),
            },
            from_select: i.source.as_ref().is_some_and(|q| is_select(&q.body)),
        },
        S::Query(q) => match q.body.as_ref() {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                convert(s, text)
            }
            _ => set_config(text).unwrap_or(StatementKind::Select),
        },
        S::CreateView(cv) => StatementKind::CreateView {
            name: qname(&cv.name),
            materialized: cv.materialized,
        },
        S::RefreshMaterializedView(r) => StatementKind::RefreshMaterializedView {
            name: qname(&r.name),
            concurrently: r.concurrently,
        },
        S::Lock(l) => StatementKind::LockTable {
            tables: l.tables.iter().map(|t| qname(&t.name)).collect(),
            mode: l
                .lock_mode
                .as_ref()
                .map(|m| collapse(&m.to_string().to_uppercase()))
                .unwrap_or_else(|| "ACCESS EXCLUSIVE".to_string()),
        },
        S::Vacuum(v) => StatementKind::Vacuum {
            full: v.full,
            tables: v.table_name.iter().map(qname).collect(),
        },
        S::StartTransaction { .. } => StatementKind::Begin,
        S::Commit { .. } => StatementKind::Commit,
        S::Rollback {
            savepoint: None, ..
        } => StatementKind::Rollback,
        S::Rollback { .. } => StatementKind::Other {
            keywords: "rollback to savepoint".to_string(),
        },
        S::Set(set) => convert_set(set, text),
        S::CreateSchema { schema_name, .. } => StatementKind::CreateSchema {
            name: match schema_name {
                SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => last_part(n),
                SchemaName::UnnamedAuthorization(id) => ident(id),
            },
        },
        S::AlterType(at) => StatementKind::AlterType {
            name: qname(&at.name),
            action: match &at.operation {
                AlterTypeOperation::AddValue(_) => "add value",
                AlterTypeOperation::RenameValue(_) => "rename value",
                AlterTypeOperation::Rename(_) => "rename to",
            }
            .to_string(),
        },
        _ => other(text),
    }
}

fn convert_set(set: &ast::Set, text: &str) -> StatementKind {
    match set {
        ast::Set::SingleAssignment {
            scope,
            variable,
            values,
            ..
        } => StatementKind::Set {
            name: name_parts(variable).join("."),
            value: values
                .iter()
                .map(|v| unquote(&v.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            local: matches!(scope, Some(ast::ContextModifier::Local)),
        },
        ast::Set::SetTimeZone { local, value } => StatementKind::Set {
            name: "timezone".to_string(),
            value: unquote(&value.to_string()),
            local: *local,
        },
        _ => other(text),
    }
}

fn unquote(v: &str) -> String {
    v.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(|s| s.replace("''", "'"))
        .unwrap_or_else(|| v.to_string())
}

/// `SELECT set_config('lock_timeout', '2s', false)`: the function form of `SET`.
pub(crate) fn set_config(text: &str) -> Option<StatementKind> {
    let toks = tokens::tokenize(text);
    let mut k = 1;
    if !toks.first()?.is("select") {
        return None;
    }
    if toks.get(k)?.is("pg_catalog") && toks.get(k + 1)?.is_punct(".") {
        k += 2;
    }
    if !toks.get(k)?.is("set_config") || !toks.get(k + 1)?.is_punct("(") {
        return None;
    }
    let name = toks.get(k + 2)?;
    let value = toks.get(k + 4)?;
    if !(toks.get(k + 3)?.is_punct(",") && toks.get(k + 5)?.is_punct(",")) {
        return None;
    }
    let local = toks.get(k + 6)?;
    Some(StatementKind::Set {
        name: unquote(name.text).to_lowercase(),
        value: unquote(value.text),
        local: local.is("true"),
    })
}

/// Everything the rules treat as harmless, named by its leading keywords.
pub(crate) fn other(text: &str) -> StatementKind {
    StatementKind::Other {
        keywords: super::fallback::leading_keywords(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlterAction as A, StatementKind as K};

    fn kind(sql: &str) -> K {
        parse(sql).unwrap_or_else(|e| panic!("sqlparser rejected {sql}: {e}"))
    }

    fn q(name: &str) -> QualifiedName {
        match name.split_once('.') {
            Some((s, n)) => QualifiedName::new(Some(s), n),
            None => QualifiedName::new(None, name),
        }
    }

    fn actions(sql: &str) -> Vec<A> {
        match kind(sql) {
            K::AlterTable { actions, .. } => actions,
            other => panic!("not an ALTER TABLE: {other:?}"),
        }
    }

    #[test]
    fn names_fold_unquoted_identifiers_only() {
        let K::CreateIndex { name, table, .. } =
            kind("CREATE INDEX \"MyIdx\" ON Public.\"Orders\" (Customer_ID)")
        else {
            panic!()
        };
        assert_eq!(name, Some(q("MyIdx")));
        assert_eq!(table, QualifiedName::new(Some("public"), "Orders"));
    }

    #[test]
    fn create_table_columns_keep_types_as_written() {
        let K::CreateTable { name, columns, constraints, .. } = kind(
            "CREATE TABLE s.t (a int4 PRIMARY KEY, b character varying(20) NOT NULL, \
             c timestamp with time zone DEFAULT CURRENT_TIMESTAMP, d serial, e int[], \
             f numeric(10, 2) DEFAULT nextval('s'::regclass), g bigint GENERATED ALWAYS AS IDENTITY, \
             h int GENERATED ALWAYS AS (a * 2) STORED, i int REFERENCES u (id) UNIQUE CHECK (i > 0), \
             j json, k timestamp, l char(10))",
        ) else {
            panic!()
        };
        assert_eq!(name, q("s.t"));
        let types: Vec<&str> = columns.iter().map(|c| c.data_type.as_str()).collect();
        assert_eq!(
            types,
            vec![
                "int4",
                "character varying(20)",
                "timestamp with time zone",
                "serial",
                "int[]",
                "numeric(10,2)",
                "bigint",
                "int",
                "int",
                "json",
                "timestamp",
                "char(10)"
            ]
        );
        assert!(columns[0].primary_key && columns[0].not_null);
        assert!(columns[1].not_null);
        assert_eq!(
            columns[2].default.as_ref().unwrap().functions,
            vec!["current_timestamp"]
        );
        assert_eq!(
            columns[5].default.as_ref().unwrap().functions,
            vec!["nextval"]
        );
        assert!(columns[6].identity && !columns[6].generated_stored);
        assert!(columns[7].generated_stored && !columns[7].identity);
        assert_eq!(
            columns[8].references,
            Some(ForeignKeyRef {
                table: q("u"),
                columns: vec!["id".into()]
            })
        );
        assert!(columns[8].unique);
        assert_eq!(columns[8].check.as_ref().unwrap().text, "i > 0");
        assert!(constraints.is_empty());
    }

    #[test]
    fn create_table_variants() {
        let K::CreateTable { constraints, if_not_exists, temporary, partition_of, as_select, .. } = kind(
            "CREATE TEMP TABLE IF NOT EXISTS t (a int, b int, CONSTRAINT pk PRIMARY KEY (a), UNIQUE (b), \
             FOREIGN KEY (b) REFERENCES u (id), CHECK (a > b), EXCLUDE USING gist (a WITH =))",
        ) else {
            panic!()
        };
        assert!(if_not_exists && temporary && partition_of.is_none() && !as_select);
        let kinds: Vec<&ConstraintKind> = constraints.iter().map(|c| &c.kind).collect();
        assert!(matches!(
            kinds[..],
            [
                ConstraintKind::PrimaryKey,
                ConstraintKind::Unique,
                ConstraintKind::ForeignKey(_),
                ConstraintKind::Check(_),
                ConstraintKind::Exclusion
            ]
        ));
        assert_eq!(constraints[0].name.as_deref(), Some("pk"));
        assert_eq!(constraints[0].columns, vec!["a"]);
        assert_eq!(constraints[2].columns, vec!["b"]);

        let K::CreateTable { partition_of, .. } =
            kind("CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (2)")
        else {
            panic!()
        };
        assert_eq!(partition_of, Some(q("p")));
        let K::CreateTable { as_select, .. } = kind("CREATE TABLE x AS SELECT * FROM y") else {
            panic!()
        };
        assert!(as_select);
    }

    #[test]
    fn alter_table_actions() {
        assert_eq!(
            actions(
                "ALTER TABLE t ADD COLUMN IF NOT EXISTS c timestamptz DEFAULT now() NOT NULL, \
                 DROP COLUMN IF EXISTS d, DROP COLUMN e, \
                 ALTER COLUMN f SET DATA TYPE bigint USING f::bigint, ALTER COLUMN g TYPE text, \
                 ALTER COLUMN h SET NOT NULL, ALTER COLUMN i DROP NOT NULL, \
                 ALTER COLUMN j SET DEFAULT random(), ALTER COLUMN k DROP DEFAULT, \
                 ALTER COLUMN l ADD GENERATED ALWAYS AS IDENTITY"
            ),
            vec![
                A::AddColumn {
                    column: ColumnDef {
                        name: "c".into(),
                        data_type: "timestamptz".into(),
                        not_null: true,
                        default: Some(Expr {
                            text: "now()".into(),
                            functions: vec!["now".into()]
                        }),
                        ..ColumnDef::default()
                    },
                    if_not_exists: true,
                },
                A::DropColumn {
                    name: "d".into(),
                    if_exists: true
                },
                A::DropColumn {
                    name: "e".into(),
                    if_exists: false
                },
                A::AlterColumnType {
                    column: "f".into(),
                    data_type: "bigint".into(),
                    using: Some(Expr {
                        text: "f::BIGINT".into(),
                        functions: vec![]
                    }),
                },
                A::AlterColumnType {
                    column: "g".into(),
                    data_type: "text".into(),
                    using: None
                },
                A::SetNotNull { column: "h".into() },
                A::DropNotNull { column: "i".into() },
                A::SetDefault {
                    column: "j".into(),
                    default: Expr {
                        text: "random()".into(),
                        functions: vec!["random".into()]
                    },
                },
                A::DropDefault { column: "k".into() },
                A::AddIdentity { column: "l".into() },
            ]
        );
    }

    /// PostgreSQL 18: a NOT ENFORCED constraint checks no existing row.
    #[test]
    fn not_enforced_constraints_scan_nothing() {
        for sql in [
            "ALTER TABLE orders ADD CONSTRAINT ck CHECK (amount > 0) NOT ENFORCED",
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) NOT ENFORCED",
        ] {
            let acts = actions(sql);
            let [A::AddConstraint(c)] = acts.as_slice() else {
                panic!("{sql}: {acts:?}")
            };
            assert!(c.not_valid, "{sql}");
        }
        let acts = actions("ALTER TABLE orders ADD CONSTRAINT ck CHECK (amount > 0) ENFORCED");
        let [A::AddConstraint(c)] = acts.as_slice() else {
            panic!("{acts:?}")
        };
        assert!(!c.not_valid);
    }

    #[test]
    fn alter_table_constraints_renames_and_partitions() {
        let acts = actions(
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID, \
             ADD CONSTRAINT ck CHECK (b IS NOT NULL) NOT VALID, \
             ADD CONSTRAINT uq UNIQUE USING INDEX uq_idx, ADD PRIMARY KEY USING INDEX pk_idx, \
             VALIDATE CONSTRAINT fk, DROP CONSTRAINT IF EXISTS old",
        );
        let A::AddConstraint(fk) = &acts[0] else {
            panic!()
        };
        assert!(fk.not_valid);
        assert_eq!(
            fk.kind,
            ConstraintKind::ForeignKey(ForeignKeyRef {
                table: q("u"),
                columns: vec!["id".into()]
            })
        );
        let A::AddConstraint(ck) = &acts[1] else {
            panic!()
        };
        assert_eq!(ck.not_null_column().as_deref(), Some("b"));
        let A::AddConstraint(uq) = &acts[2] else {
            panic!()
        };
        assert_eq!(
            (uq.kind.clone(), uq.using_index.as_deref()),
            (ConstraintKind::Unique, Some("uq_idx"))
        );
        let A::AddConstraint(pk) = &acts[3] else {
            panic!()
        };
        assert_eq!(
            (pk.kind.clone(), pk.using_index.as_deref()),
            (ConstraintKind::PrimaryKey, Some("pk_idx"))
        );
        assert_eq!(acts[4], A::ValidateConstraint { name: "fk".into() });
        assert_eq!(
            acts[5],
            A::DropConstraint {
                name: "old".into(),
                if_exists: true
            }
        );

        assert_eq!(
            actions("ALTER TABLE t RENAME COLUMN A TO b"),
            vec![A::RenameColumn {
                old: "a".into(),
                new: "b".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t RENAME TO u"),
            vec![A::RenameTable { new: "u".into() }]
        );
        assert_eq!(
            actions("ALTER TABLE t RENAME CONSTRAINT a TO b"),
            vec![A::RenameConstraint {
                old: "a".into(),
                new: "b".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t ATTACH PARTITION s.p FOR VALUES FROM (1) TO (2)"),
            vec![A::AttachPartition {
                partition: q("s.p")
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t DETACH PARTITION p CONCURRENTLY"),
            vec![A::DetachPartition {
                partition: q("p"),
                concurrently: true,
                finalize: false
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t DETACH PARTITION p"),
            vec![A::DetachPartition {
                partition: q("p"),
                concurrently: false,
                finalize: false
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t DETACH PARTITION p FINALIZE"),
            vec![A::DetachPartition {
                partition: q("p"),
                concurrently: false,
                finalize: true
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t SET LOGGED"),
            vec![A::SetStorage {
                what: "logged".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t SET UNLOGGED"),
            vec![A::SetStorage {
                what: "unlogged".into()
            }]
        );
        assert_eq!(
            actions("ALTER TABLE t ENABLE TRIGGER x"),
            vec![A::Other("enable trigger".into())]
        );
        assert_eq!(
            actions("ALTER TABLE t OWNER TO bob"),
            vec![A::Other("owner to".into())]
        );
        assert_eq!(
            actions("ALTER TABLE t SET (fillfactor = 70)"),
            vec![A::Other("set storage parameters".into())]
        );
        let K::AlterTable { if_exists, .. } =
            kind("ALTER TABLE IF EXISTS ONLY t DROP CONSTRAINT c")
        else {
            panic!()
        };
        assert!(if_exists);
    }

    #[test]
    fn indexes() {
        assert_eq!(
            kind("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING GIN (a, lower(b)) WHERE a > 0"),
            K::CreateIndex {
                name: Some(q("i")),
                table: q("t"),
                keys: vec![IndexKey::Column("a".into()), IndexKey::Expression("lower(b)".into())],
                unique: true,
                concurrently: true,
                if_not_exists: true,
                predicate: Some("a > 0".into()),
                method: Some("gin".into()),
            }
        );
        assert_eq!(
            kind("DROP INDEX IF EXISTS a, s.b"),
            K::DropIndex {
                names: vec![q("a"), q("s.b")],
                concurrently: false,
                if_exists: true
            }
        );
        assert_eq!(
            kind("ALTER INDEX i RENAME TO j"),
            K::AlterIndex {
                name: q("i"),
                action: "rename to".into()
            }
        );
    }

    #[test]
    fn drops_and_data_changes() {
        assert_eq!(
            kind("DROP TABLE IF EXISTS a, b CASCADE"),
            K::DropTable {
                names: vec![q("a"), q("b")],
                if_exists: true,
                cascade: true
            }
        );
        assert_eq!(
            kind("DROP SCHEMA s CASCADE"),
            K::DropSchema {
                names: vec!["s".into()],
                if_exists: false,
                cascade: true
            }
        );
        assert_eq!(
            kind("DROP DATABASE Foo"),
            K::DropDatabase { name: "foo".into() }
        );
        assert_eq!(
            kind("DROP VIEW v"),
            K::Other {
                keywords: "drop view".into()
            }
        );
        assert_eq!(
            kind("TRUNCATE a, s.b"),
            K::Truncate {
                tables: vec![q("a"), q("s.b")]
            }
        );
        assert_eq!(
            kind("UPDATE t SET a = 1"),
            K::Update {
                table: q("t"),
                has_where: false
            }
        );
        assert_eq!(
            kind("UPDATE t SET a = 1 WHERE id < 10"),
            K::Update {
                table: q("t"),
                has_where: true
            }
        );
        assert_eq!(
            kind("DELETE FROM t"),
            K::Delete {
                table: q("t"),
                has_where: false
            }
        );
        assert_eq!(
            kind("DELETE FROM s.t WHERE x"),
            K::Delete {
                table: q("s.t"),
                has_where: true
            }
        );
        assert_eq!(
            kind("INSERT INTO t VALUES (1)"),
            K::Insert {
                table: q("t"),
                from_select: false
            }
        );
        assert_eq!(
            kind("INSERT INTO t (a) SELECT a FROM u"),
            K::Insert {
                table: q("t"),
                from_select: true
            }
        );
        assert_eq!(
            kind("WITH x AS (SELECT 1) UPDATE t SET a = 1 WHERE b"),
            K::Update {
                table: q("t"),
                has_where: true
            }
        );
        assert_eq!(kind("SELECT count(*) FROM t"), K::Select);
    }

    #[test]
    fn views_locks_maintenance() {
        assert_eq!(
            kind("CREATE VIEW v AS SELECT 1"),
            K::CreateView {
                name: q("v"),
                materialized: false
            }
        );
        assert_eq!(
            kind("CREATE MATERIALIZED VIEW v AS SELECT 1"),
            K::CreateView {
                name: q("v"),
                materialized: true
            }
        );
        assert_eq!(
            kind("REFRESH MATERIALIZED VIEW CONCURRENTLY v"),
            K::RefreshMaterializedView {
                name: q("v"),
                concurrently: true
            }
        );
        assert_eq!(
            kind("LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE"),
            K::LockTable {
                tables: vec![q("a"), q("b")],
                mode: "SHARE ROW EXCLUSIVE".into()
            }
        );
        assert_eq!(
            kind("LOCK t"),
            K::LockTable {
                tables: vec![q("t")],
                mode: "ACCESS EXCLUSIVE".into()
            }
        );
        assert_eq!(
            kind("VACUUM FULL t"),
            K::Vacuum {
                full: true,
                tables: vec![q("t")]
            }
        );
        assert_eq!(
            kind("VACUUM t"),
            K::Vacuum {
                full: false,
                tables: vec![q("t")]
            }
        );
    }

    #[test]
    fn transactions_and_settings() {
        for (sql, k) in [
            ("BEGIN", K::Begin),
            ("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", K::Begin),
            ("COMMIT", K::Commit),
            ("END", K::Commit),
            ("ROLLBACK", K::Rollback),
            ("ABORT", K::Rollback),
            (
                "ROLLBACK TO SAVEPOINT a",
                K::Other {
                    keywords: "rollback to savepoint".into(),
                },
            ),
        ] {
            assert_eq!(kind(sql), k, "{sql}");
        }
        assert_eq!(
            kind("SET LOCAL lock_timeout = '2s'"),
            K::Set {
                name: "lock_timeout".into(),
                value: "2s".into(),
                local: true
            }
        );
        assert_eq!(
            kind("SET SESSION Statement_Timeout TO 0"),
            K::Set {
                name: "statement_timeout".into(),
                value: "0".into(),
                local: false
            }
        );
        assert_eq!(
            kind("SELECT set_config('lock_timeout', '2s', false)"),
            K::Set {
                name: "lock_timeout".into(),
                value: "2s".into(),
                local: false
            }
        );
        assert_eq!(
            kind("select pg_catalog.set_config('statement_timeout', '5min', true)"),
            K::Set {
                name: "statement_timeout".into(),
                value: "5min".into(),
                local: true
            }
        );
        assert_eq!(
            kind("RESET lock_timeout"),
            K::Other {
                keywords: "reset".into()
            }
        );
    }

    #[test]
    fn schemas_types_and_other_ddl() {
        assert_eq!(
            kind("CREATE SCHEMA IF NOT EXISTS Billing"),
            K::CreateSchema {
                name: "billing".into()
            }
        );
        assert_eq!(
            kind("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh'"),
            K::AlterType {
                name: q("mood"),
                action: "add value".into()
            }
        );
        assert_eq!(
            kind("ALTER TYPE mood RENAME VALUE 'a' TO 'b'"),
            K::AlterType {
                name: q("mood"),
                action: "rename value".into()
            }
        );
        for (sql, kw) in [
            ("CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$", "create function"),
            ("CREATE OR REPLACE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", "create function"),
            ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "create trigger"),
            ("GRANT SELECT ON t TO bob", "grant"),
            ("COMMENT ON TABLE t IS 'x'", "comment on"),
            ("CREATE EXTENSION IF NOT EXISTS pg_trgm", "create extension"),
            ("CREATE TYPE mood AS ENUM ('a')", "create type"),
            ("CREATE SEQUENCE s", "create sequence"),
            ("DROP MATERIALIZED VIEW v", "drop materialized view"),
        ] {
            assert_eq!(kind(sql), K::Other { keywords: kw.into() }, "{sql}");
        }
    }

    #[test]
    fn errors_carry_sqlparsers_message() {
        assert_eq!(
            parse("REINDEX TABLE t").unwrap_err(),
            "Expected: an SQL statement, found: REINDEX at Line: 1, Column: 1"
        );
    }
}
