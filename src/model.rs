//! Our own model between the pipeline stages: what the loader found (`Migration`), what the
//! parser understood (`Statement` and its `StatementKind`), and what the review concluded
//! (`Finding`, `Report`). Rules only ever see these types, never sqlparser's AST, so that a
//! statement understood by the keyword fallback is judged by the same rules.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// How serious a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding rests on (PRODUCT.md §3). Ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    Static,
    Catalog,
    Execution,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Static => "static",
            Evidence::Catalog => "catalog",
            Evidence::Execution => "execution",
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The migration framework whose conventions a folder follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Numbered `.sql` files run by a runner migsafe does not know (psql, a deploy script):
    /// their transaction mode is `Unknown` unless the file or migsafe.toml says.
    Plain,
    Sqlx,
    Diesel,
    GolangMigrate,
    Goose,
    Dbmate,
    Flyway,
    Alembic,
    /// ory's popx (kratos, hydra, keto): `<version>_<name>[.<dialect>][.autocommit].{up,down}.sql`.
    Popx,
    /// Prisma Migrate: `<timestamp>_<name>/migration.sql` next to `migration_lock.toml`.
    Prisma,
    /// Atlas versioned migrations: `<version>_<name>.sql` with an `atlas.sum`.
    Atlas,
    /// Liquibase formatted SQL: `--liquibase formatted sql` files of `--changeset`s.
    Liquibase,
    /// temporal/cadence schema trees: `v<version>/manifest.json` naming the version's files.
    Temporal,
    /// DolphinScheduler-style trees: `<version>_schema/<engine>/*.sql`.
    Dolphinscheduler,
    /// authelia: `V<version>.<name>[.<provider>].{up,down}.sql`.
    Authelia,
    /// Django: an app's `migrations/*.py`, rendered by the project's Django (issue #16).
    Django,
}

impl Layout {
    pub const ALL: [Layout; 16] = [
        Layout::Plain,
        Layout::Sqlx,
        Layout::Diesel,
        Layout::GolangMigrate,
        Layout::Goose,
        Layout::Dbmate,
        Layout::Flyway,
        Layout::Alembic,
        Layout::Popx,
        Layout::Prisma,
        Layout::Atlas,
        Layout::Liquibase,
        Layout::Temporal,
        Layout::Dolphinscheduler,
        Layout::Authelia,
        Layout::Django,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Plain => "plain",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Dbmate => "dbmate",
            Layout::Flyway => "flyway",
            Layout::Alembic => "alembic",
            Layout::Popx => "popx",
            Layout::Prisma => "prisma",
            Layout::Atlas => "atlas",
            Layout::Liquibase => "liquibase",
            Layout::Temporal => "temporal",
            Layout::Dolphinscheduler => "dolphinscheduler",
            Layout::Authelia => "authelia",
            Layout::Django => "django",
        }
    }

    pub fn parse(name: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file as read from disk (or stdin), with the path as the user should see it.
#[derive(Debug)]
pub struct SourceFile {
    /// Path shown in reports: relative to the current directory when possible, `-` for stdin.
    pub display: String,
    /// Full text, with a UTF-8 BOM removed and nothing else changed (CRLF kept), so that byte
    /// offsets map to the lines and columns an editor shows.
    pub text: String,
}

impl SourceFile {
    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

/// A region of a file that holds SQL. `single_statement` marks regions that must not be split
/// (goose `StatementBegin`/`StatementEnd` blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub range: Range<usize>,
    pub single_statement: bool,
}

/// How a project's runner sends one migration part to PostgreSQL (issue #10). This decides
/// whether `CREATE INDEX CONCURRENTLY` can run, whether a failure leaves earlier statements
/// applied, and how long locks are held, so it is known from the framework's real behaviour,
/// the file's own markers or `migsafe.toml`, and `Unknown` where none of them says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transaction {
    /// The runner wraps the whole part in `BEGIN` … `COMMIT`.
    File,
    /// The part is sent as one multi-statement query, which PostgreSQL runs as one implicit
    /// transaction (atomic, and `CONCURRENTLY` fails in it unless it is the only statement).
    Implicit,
    /// Each statement is sent and committed on its own (psql without `-1`, statement-by-
    /// statement runners, Flyway or goose with their transaction turned off).
    Statement,
    /// Nobody said how the part is run (a lone file, a plain folder without a setting).
    Unknown,
}

impl Transaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Transaction::File => "file",
            Transaction::Implicit => "implicit",
            Transaction::Statement => "statement",
            Transaction::Unknown => "unknown",
        }
    }

    /// The mode a layout's boolean "wrapped in a transaction" maps to.
    pub fn wrapped(yes: bool) -> Transaction {
        if yes {
            Transaction::File
        } else {
            Transaction::Statement
        }
    }

    /// Whether the statements certainly run inside one transaction.
    pub fn is_transactional(self) -> bool {
        matches!(self, Transaction::File | Transaction::Implicit)
    }

    /// Parses a mode as `migsafe.toml` and `--transaction` write it; `none` is `statement`.
    pub fn parse(text: &str) -> Option<Transaction> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "file" => Transaction::File,
            "implicit" => Transaction::Implicit,
            "statement" | "none" => Transaction::Statement,
            _ => return None,
        })
    }
}

impl fmt::Display for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a part's [`Transaction`] mode comes from and how the runner sends the part, so that
/// reports can say why migsafe believes it and the parser and executor can follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Runner {
    /// Who says so, for reports: `sqlx: wraps each migration in BEGIN … COMMIT`,
    /// `migsafe.toml [[runner]] path = "schema/**"`.
    pub source: String,
    /// The part's own marker decided (`-- no-transaction`, `-- +goose NO TRANSACTION`,
    /// `metadata.toml`, `executeInTransaction`): the framework honours it, so a per-path
    /// setting in migsafe.toml does not override it.
    pub marker: bool,
    /// The runner sends the whole part as one query string (sqlx, diesel, dbmate,
    /// golang-migrate), rather than statement by statement (goose, Flyway, psql). Inside a
    /// `File` transaction this decides what follows an explicit `COMMIT` in the file: in one
    /// query string the rest still runs in one implicit transaction.
    pub one_query: bool,
}

impl Runner {
    /// The framework's default for the layout.
    pub fn default_of(source: impl Into<String>) -> Runner {
        Runner {
            source: source.into(),
            ..Runner::default()
        }
    }

    /// Decided by the part's own marker.
    pub fn marker(source: impl Into<String>) -> Runner {
        Runner {
            source: source.into(),
            marker: true,
            one_query: false,
        }
    }

    /// The runner sends the part as one query string.
    pub fn one_query(mut self) -> Runner {
        self.one_query = true;
        self
    }
}

/// One direction (up or down) of a migration: which parts of which file hold its SQL.
#[derive(Debug, Clone)]
pub struct Part {
    pub file: Arc<SourceFile>,
    pub segments: Vec<Segment>,
    /// How the runner sends this part (see [`Transaction`]).
    pub transaction: Transaction,
    /// Why migsafe believes `transaction`, and how the part is sent.
    pub runner: Runner,
}

impl Part {
    /// Whether the framework certainly runs this part in one transaction.
    pub fn transactional(&self) -> bool {
        self.transaction.is_transactional()
    }
}

/// What the loader knows about one migration before parsing.
#[derive(Debug, Clone)]
pub struct Migration {
    /// Path shown in reports (the up file, or the migration folder's up.sql).
    pub path: String,
    /// Version as the framework orders it (`20240101120000`, `V1.2`, alembic revision id).
    pub version: Option<String>,
    /// Human name (`add_orders_index`).
    pub name: String,
    pub layout: Layout,
    /// Flyway repeatable migrations (`R__`) run after versioned ones whenever they change.
    pub repeatable: bool,
    pub up: Part,
    /// The machine-readable rollback: a down/undo file or section.
    pub down: Option<Part>,
    /// Byte range of the file's leading comment block that carries owner/expect/rollback.
    pub header: Range<usize>,
    /// Problems the loader found in the file itself (e.g. a goose StatementBegin without End).
    pub load_notes: Vec<LoadNote>,
}

/// A problem found while reading a migration's structure, reported as a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadNote {
    pub offset: usize,
    pub message: String,
}

/// A schema-qualified name, normalised the way PostgreSQL resolves it: unquoted identifiers
/// are lower-cased, quoted ones kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        QualifiedName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// Whether two names can denote the same object, treating a missing schema as a wildcard
    /// (migrations rarely qualify names; `public.orders` and `orders` are the same table).
    pub fn matches(&self, other: &QualifiedName) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// An expression kept as text plus the functions it calls, enough for volatility checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expr {
    pub text: String,
    /// Lower-cased names of called functions, including SQL-standard value functions
    /// written without parentheses (`current_timestamp`).
    pub functions: Vec<String>,
}

/// A column definition in `CREATE TABLE` or `ADD COLUMN`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnDef {
    pub name: String,
    /// Lower-case type as written, normalised spacing: `integer`, `varchar(255)`,
    /// `timestamp without time zone`, `serial`, `int[]`.
    pub data_type: String,
    pub not_null: bool,
    pub default: Option<Expr>,
    pub primary_key: bool,
    pub unique: bool,
    pub references: Option<ForeignKeyRef>,
    pub check: Option<Expr>,
    /// `GENERATED ALWAYS AS (...) STORED`
    pub generated_stored: bool,
    /// `GENERATED ... AS IDENTITY`
    pub identity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyRef {
    pub table: QualifiedName,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey(ForeignKeyRef),
    Check(Expr),
    Exclusion,
}

/// A table constraint (`ADD CONSTRAINT`, or the constraint list of `CREATE TABLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// `ADD CONSTRAINT ... UNIQUE USING INDEX idx` / `PRIMARY KEY USING INDEX idx`
    pub using_index: Option<String>,
    pub not_valid: bool,
}

impl Constraint {
    /// For `CHECK (col IS NOT NULL)`, the column it guarantees.
    pub fn not_null_column(&self) -> Option<String> {
        let ConstraintKind::Check(expr) = &self.kind else {
            return None;
        };
        let text = expr.text.trim();
        let text = text
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(text);
        let lower = text.to_ascii_lowercase();
        let col = lower.strip_suffix(" is not null")?.trim();
        let col = col.trim_matches('"');
        (!col.is_empty() && !col.contains(' ')).then(|| col.to_string())
    }
}

/// One action of an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterAction {
    AddColumn {
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        name: String,
        if_exists: bool,
    },
    /// `ALTER COLUMN c [SET DATA] TYPE t [USING e]`
    AlterColumnType {
        column: String,
        data_type: String,
        using: Option<Expr>,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    SetDefault {
        column: String,
        default: Expr,
    },
    DropDefault {
        column: String,
    },
    AddConstraint(Constraint),
    ValidateConstraint {
        name: String,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    RenameColumn {
        old: String,
        new: String,
    },
    RenameTable {
        new: String,
    },
    RenameConstraint {
        old: String,
        new: String,
    },
    AttachPartition {
        partition: QualifiedName,
    },
    DetachPartition {
        partition: QualifiedName,
        concurrently: bool,
        /// `FINALIZE`: completes an interrupted `CONCURRENTLY` detach under SHARE UPDATE
        /// EXCLUSIVE, and unlike `CONCURRENTLY` it may run inside a transaction block.
        finalize: bool,
    },
    /// `ALTER COLUMN c ADD GENERATED ... AS IDENTITY`
    AddIdentity {
        column: String,
    },
    /// `SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE`, `SET ACCESS METHOD`: all rewrite.
    SetStorage {
        what: String,
    },
    /// Anything else, as lower-cased leading keywords (`enable trigger`, `owner to`).
    Other(String),
}

/// `ALTER <object> ... RENAME` of something other than a table or a table's column (issue
/// #12): views, sequences, indexes, types and domains, routines, schemas, triggers, enum
/// values, view columns, type attributes and domain constraints. Read from the statement's
/// tokens by `parse::objects::rename`, whatever kind the statement was classified as, because
/// the lock model and the schema replay key on those kinds (`AlterIndex`, `AlterType`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// Lower-case object words: `view`, `materialized view`, `sequence`, `index`, `type`,
    /// `domain`, `function`, `procedure`, `routine`, `aggregate`, `schema`, `trigger`, or for
    /// a member of an object: `enum value`, `view column`, `attribute`, `domain constraint`.
    pub object: String,
    /// The object renamed; for a member, the object it belongs to (the enum type, the view).
    pub name: QualifiedName,
    /// The old name: the object's own name, or the member's (an enum label without quotes).
    pub old: String,
    pub new: String,
    /// `ALTER TRIGGER t ON <table>`: the trigger's table.
    pub table: Option<QualifiedName>,
}

impl Rename {
    /// Whether a member of an object (enum value, column, attribute, constraint) is renamed
    /// rather than the object itself.
    pub fn is_member(&self) -> bool {
        matches!(
            self.object.as_str(),
            "enum value" | "view column" | "attribute" | "domain constraint"
        )
    }
}

/// Key of an index: a column name or an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    Column(String),
    Expression(String),
}

/// What a `REINDEX` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexTarget {
    Index,
    Table,
    Schema,
    Database,
    System,
}

/// A rule-friendly description of one statement. Names are normalised; everything a rule
/// needs is a field, everything else is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    CreateTable {
        name: QualifiedName,
        columns: Vec<ColumnDef>,
        constraints: Vec<Constraint>,
        if_not_exists: bool,
        temporary: bool,
        /// `PARTITION OF parent`
        partition_of: Option<QualifiedName>,
        /// `CREATE TABLE ... AS SELECT`
        as_select: bool,
    },
    AlterTable {
        name: QualifiedName,
        if_exists: bool,
        actions: Vec<AlterAction>,
    },
    DropTable {
        names: Vec<QualifiedName>,
        if_exists: bool,
        cascade: bool,
    },
    CreateIndex {
        name: Option<QualifiedName>,
        table: QualifiedName,
        keys: Vec<IndexKey>,
        unique: bool,
        concurrently: bool,
        if_not_exists: bool,
        /// `WHERE` of a partial index, as text.
        predicate: Option<String>,
        /// `USING gin` etc., lower-case; `None` means btree.
        method: Option<String>,
    },
    DropIndex {
        names: Vec<QualifiedName>,
        concurrently: bool,
        if_exists: bool,
    },
    AlterIndex {
        name: QualifiedName,
        /// lower-cased action keywords (`rename to`, `set tablespace`, `attach partition`)
        action: String,
    },
    Reindex {
        target: ReindexTarget,
        name: Option<QualifiedName>,
        concurrently: bool,
    },
    Vacuum {
        full: bool,
        tables: Vec<QualifiedName>,
    },
    Cluster {
        table: Option<QualifiedName>,
    },
    RefreshMaterializedView {
        name: QualifiedName,
        concurrently: bool,
    },
    LockTable {
        tables: Vec<QualifiedName>,
        /// Upper-case mode as PostgreSQL names it (`ACCESS EXCLUSIVE`); default ACCESS EXCLUSIVE.
        mode: String,
    },
    Truncate {
        tables: Vec<QualifiedName>,
    },
    Update {
        table: QualifiedName,
        has_where: bool,
    },
    Delete {
        table: QualifiedName,
        has_where: bool,
    },
    Insert {
        table: QualifiedName,
        /// `INSERT ... SELECT` (rather than `VALUES`).
        from_select: bool,
    },
    Select,
    /// `CREATE [MATERIALIZED] VIEW`
    CreateView {
        name: QualifiedName,
        materialized: bool,
    },
    DropSchema {
        names: Vec<String>,
        if_exists: bool,
        cascade: bool,
    },
    DropDatabase {
        name: String,
    },
    CreateSchema {
        name: String,
    },
    /// `CREATE TYPE`, `ALTER TYPE ... ADD VALUE`, etc.
    AlterType {
        name: QualifiedName,
        /// lower-cased action keywords (`add value`, `rename value`)
        action: String,
    },
    AlterSequence {
        name: QualifiedName,
    },
    /// `SET [LOCAL|SESSION] name = value`, also `set_config('name', 'value', ...)` via SELECT.
    Set {
        name: String,
        value: String,
        local: bool,
    },
    Begin,
    Commit,
    Rollback,
    /// `DO $$ ... $$`: opaque procedural code.
    Do,
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: what rules need to know about a routine the
    /// migration defines (issue #12: a default calling it, a later call running its body).
    CreateFunction {
        name: QualifiedName,
        /// The volatility clause as written; `None` means PostgreSQL's default, VOLATILE.
        volatility: Option<Volatility>,
        /// Lower-case `LANGUAGE`, `sql` for a SQL-standard `BEGIN ATOMIC` body.
        language: Option<String>,
        procedure: bool,
    },
    /// `DROP VIEW|MATERIALIZED VIEW|FUNCTION|PROCEDURE|TYPE|DOMAIN|SEQUENCE|EXTENSION`.
    DropObject {
        /// Lower-case object words: `view`, `materialized view`, `function`, `type`...
        object: String,
        names: Vec<QualifiedName>,
        if_exists: bool,
        cascade: bool,
    },
    /// DDL on an object that belongs to one table and locks it: `CREATE [OR REPLACE]
    /// [CONSTRAINT] TRIGGER ... ON t`, `DROP TRIGGER x ON t`, `CREATE|ALTER|DROP POLICY x ON t`,
    /// `CREATE [OR REPLACE] RULE x AS ON ... TO t`, `DROP RULE x ON t`.
    TableDdl {
        /// Lower-case leading keywords: `create trigger`, `drop trigger`, `create policy`...
        keywords: String,
        /// The trigger's, policy's or rule's name.
        name: String,
        table: QualifiedName,
    },
    /// SQL built at run time (`EXECUTE format(...)` in a DO block or a called function): it
    /// cannot be reviewed before it runs.
    Dynamic {
        /// What was seen, e.g. `EXECUTE format('ALTER TABLE %I ...', t)`.
        reason: String,
    },
    /// Function/procedure/trigger definitions and other DDL the rules treat as harmless.
    Other {
        /// Lower-cased leading keywords, e.g. `create function`, `grant`, `comment on`.
        keywords: String,
    },
    /// A psql meta-command such as `\set` or `\c`: not SQL.
    PsqlMeta {
        command: String,
    },
    /// Text PostgreSQL itself rejects: two statements without a `;` between them, another
    /// database's syntax (`AUTOINCREMENT`, `UNSIGNED`, backticks).
    Invalid {
        /// What is wrong and how to fix it, naming the line when it is not the first.
        reason: String,
    },
    /// Neither sqlparser nor the keyword fallback understood it.
    Unparsed {
        /// Why: the parser's message, an unterminated quote, a template placeholder...
        reason: String,
    },
}

/// A function's volatility category (PostgreSQL docs: "Function Volatility Categories").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

impl Volatility {
    pub fn as_str(self) -> &'static str {
        match self {
            Volatility::Immutable => "IMMUTABLE",
            Volatility::Stable => "STABLE",
            Volatility::Volatile => "VOLATILE",
        }
    }

    /// From `pg_proc.provolatile` (`i`, `s`, `v`).
    pub fn from_provolatile(code: &str) -> Option<Volatility> {
        Some(match code {
            "i" => Volatility::Immutable,
            "s" => Volatility::Stable,
            "v" => Volatility::Volatile,
            _ => return None,
        })
    }
}

/// Which parser produced the `StatementKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParsedBy {
    Sqlparser,
    Fallback,
    None,
}

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One statement of a migration, with its exact place in the file.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The statement's text as written (without the terminating semicolon).
    pub text: String,
    /// Byte range in the file.
    pub range: Range<usize>,
    pub start: Position,
    pub end: Position,
    /// Whether it runs inside a transaction (framework wrapping or an explicit BEGIN).
    pub in_transaction: bool,
    pub kind: StatementKind,
    pub parsed_by: ParsedBy,
    /// Comments written right before the statement (after the previous one), for
    /// statement-level suppressions.
    pub leading_comments: Vec<Comment>,
}

/// A comment found by the splitter, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Text without the `--` or `/* */` markers, trimmed.
    pub text: String,
    pub start: Position,
}

/// Where an owner came from (PRODUCT.md §7 `owner_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerSource {
    Annotation,
    Codeowners,
    Config,
    None,
}

/// Status of a declared expected result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectStatus {
    Met,
    NotMet,
    NotChecked,
}

#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    pub text: String,
    pub status: ExpectStatus,
    pub detail: String,
    #[serde(skip)]
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackSource {
    Annotation,
    DownFile,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStatus {
    Restores,
    Differs,
    NotChecked,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    pub text: String,
    pub source: RollbackSource,
    pub status: RollbackStatus,
    pub detail: String,
    /// The author wrote `irreversible`: an explicit, allowed answer.
    pub irreversible: bool,
}

/// The people facts of a migration (PRODUCT.md §2).
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub owner: Option<String>,
    pub owner_source: OwnerSource,
    pub expected: Vec<Expected>,
    pub rollback: Rollback,
}

/// A migration after parsing and metadata extraction: what rules look at.
#[derive(Debug, Clone)]
pub struct ParsedMigration {
    pub migration: Migration,
    pub statements: Vec<Statement>,
    pub down_statements: Vec<Statement>,
    pub meta: Metadata,
    /// All comments of the up part (suppressions are read from here).
    pub comments: Vec<Comment>,
    /// All comments of the down part (suppressions of the rollback's findings).
    pub down_comments: Vec<Comment>,
}

/// Measured or estimated facts attached to a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_held_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_scans: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// With `--production`: the table's rows and bytes in production's snapshot (`rows` and
    /// `bytes` stay the copy's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_bytes: Option<i64>,
    /// With `--production` at execution level: the measured duration and lock hold scaled to
    /// production's size (see `Report::production` for the model and its inputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_lock_held_ms: Option<u64>,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        *self == Facts::default()
    }
}

/// Which way a migration runs: forward, or its rollback (down/undo part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One risk found in one statement (or migration), ready for every report format.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub code: &'static str,
    pub severity: Severity,
    pub evidence: Evidence,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub statement: String,
    pub message: String,
    pub why: &'static str,
    /// The safer alternative: written with the statement's own names when the rule could build
    /// it (issue #12), else the rule's generic text (borrowed, so most findings cost nothing).
    pub instead: Cow<'static, str>,
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
    /// `down`: found in the migration's rollback (down/undo part), which runs in production
    /// when the migration is rolled back.
    pub direction: Direction,
}

/// A rule that could not run, and why (PRODUCT.md §3: never silently passed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedRule {
    pub rule: &'static str,
    pub reason: String,
    /// Where, when the rule was skipped for one statement rather than for the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl SkippedRule {
    /// Skipped for the whole run.
    pub fn everywhere(rule: &'static str, reason: impl Into<String>) -> Self {
        SkippedRule {
            rule,
            reason: reason.into(),
            file: None,
            line: None,
        }
    }
}

/// A migration that was not reviewed, and why (e.g. the copy has already applied it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedMigration {
    pub path: String,
    pub version: Option<String>,
    pub reason: String,
}

/// The copy a catalog- or execution-level run looked at, so the reader knows what the
/// numbers rest on (PRODUCT.md §3).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CopyIdentity {
    /// `server_version`, e.g. `15.19 (Debian 15.19-0+deb12u1)`.
    pub server_version: String,
    pub database: String,
    pub database_bytes: i64,
    /// Latest ANALYZE of any user table (UTC, ISO 8601); `None`: row counts are guesses.
    pub last_analyzed: Option<String>,
    /// A standby server.
    pub in_recovery: bool,
    /// What the reader should know about the snapshot's accuracy.
    pub notes: Vec<String>,
}

/// A migration as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationSummary {
    pub path: String,
    pub version: Option<String>,
    pub name: String,
    pub layout: Layout,
    pub in_transaction: bool,
    /// How the runner sends the up part (`file`, `implicit`, `statement`, `unknown`).
    pub transaction: Transaction,
    /// Why migsafe believes that, e.g. `golang-migrate: one multi-statement Exec`.
    pub transaction_source: String,
    pub statements: usize,
    pub owner: Option<String>,
    pub owner_source: OwnerSource,
    pub expected: Vec<Expected>,
    pub rollback: Rollback,
    /// What each statement did when run on a disposable copy (execution level only).
    pub timeline: Vec<TimelineEntry>,
    /// Why the migration was not run on the copy (an earlier one failed), if so.
    pub not_executed: Option<String>,
}

/// One statement of a migration as it ran on the copy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TimelineEntry {
    pub line: usize,
    /// The statement's first line, shortened.
    pub statement: String,
    pub duration_ms: u64,
    /// Strongest lock taken on a relation other sessions could see (`AccessExclusiveLock`).
    pub lock: Option<String>,
    pub table: Option<String>,
    /// How long that lock was held (to COMMIT inside a transaction).
    pub held_ms: Option<u64>,
    pub rows: Option<u64>,
    /// The statement failed on the copy.
    pub failed: bool,
}

/// For how long one table was locked in a way that blocks reads or writes, over the run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LockedTable {
    pub table: String,
    /// Strongest such lock.
    pub lock: String,
    /// What that lock blocks: `reads and writes` or `writes`.
    pub blocks: String,
    pub held_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

/// Everything one run concluded; every output format renders this and nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub evidence: Evidence,
    pub migrations: Vec<MigrationSummary>,
    pub findings: Vec<Finding>,
    pub skipped_rules: Vec<SkippedRule>,
    /// Migrations found but not reviewed (already applied on the copy).
    pub skipped_migrations: Vec<SkippedMigration>,
    /// The copy's identity at catalog and execution level.
    pub copy: Option<CopyIdentity>,
    /// How long each phase of getting the copy took (restore, ANALYZE, clone, snapshot...),
    /// in order. Empty for a static review. Measurements, so they differ between runs.
    pub phases: Vec<Phase>,
    /// Execution level: per table, how long the run on the copy blocked it.
    pub locked: Vec<LockedTable>,
    pub summary: Summary,
    /// With `--production`: how the copy differs from production and what the measurements
    /// predict there.
    pub production: Option<ProductionReview>,
}

/// How the copy compares with production's snapshot, and the run's measurements scaled to
/// production's size (`check --production`, issue #15).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ProductionReview {
    /// The snapshot file as given.
    pub snapshot: String,
    /// Production's database name and server version, from the snapshot.
    pub database: String,
    pub server_version: String,
    /// Each difference that can change a verdict, naming the object (same order as the
    /// representativeness findings).
    pub differences: Vec<String>,
    /// The tables the reviewed migrations touch: their size on the copy and in production.
    pub tables: Vec<TableScale>,
    /// Per executed statement: the measurement and its prediction at production size.
    pub predictions: Vec<Prediction>,
}

/// One table's size on the copy and in production.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableScale {
    pub table: String,
    pub copy_rows: i64,
    pub copy_bytes: i64,
    /// `None`: production has no such table.
    pub production_rows: Option<i64>,
    pub production_bytes: Option<i64>,
    /// production / copy, by rows (by bytes when the copy's row estimate is 0).
    pub ratio: Option<f64>,
}

/// A measured statement scaled to production's size with its operation's cost model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Prediction {
    pub file: String,
    pub line: usize,
    pub statement: String,
    /// `index-build`, `rewrite`, `backfill`, `validation-scan`, `scan` or `catalog-only`.
    pub operation: String,
    /// The cost model in words, e.g. `n·log n in rows (btree build: heap scan + sort)`.
    pub model: String,
    pub table: Option<String>,
    pub copy_rows: Option<i64>,
    pub copy_bytes: Option<i64>,
    pub production_rows: Option<i64>,
    pub production_bytes: Option<i64>,
    /// The factor the measurement is multiplied by.
    pub factor: f64,
    pub duration_ms: u64,
    pub predicted_duration_ms: u64,
    pub lock: Option<String>,
    pub lock_held_ms: Option<u64>,
    pub predicted_lock_held_ms: Option<u64>,
    /// Rows the statement touched on the copy, and scaled.
    pub rows: Option<u64>,
    pub predicted_rows: Option<u64>,
}

/// One timed phase of a run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Phase {
    /// Short, stable name: `restore`, `analyze`, `clone-template`, `snapshot`, `explain`...
    pub name: String,
    pub duration_ms: u64,
    /// What it worked on, e.g. `fixtures/example/shop.dump (custom format, 12 MB)` or
    /// `cache hit: template migsafe_tpl_3f2a…`.
    pub detail: Option<String>,
}

impl Report {
    /// Highest severity present, if any finding exists.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
