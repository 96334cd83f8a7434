//! Which SQL engine a migration file is written for, from its name and from its content, so that
//! files written for MySQL/MariaDB, SQLite or another engine are listed as not reviewed instead
//! of being judged with PostgreSQL's rules (issue #10, item 4).
//!
//! # Names
//!
//! Projects that ship one set of migrations per engine mark the engine in the file name:
//! synapse's `*.sql.postgres` / `*.sql.sqlite`, and `.postgres.` / `.mysql.` / `.sqlite3.` /
//! `.cockroach.` infixes before `.sql` or `.up.sql`/`.down.sql` (popx, authelia, hand-rolled
//! runners). [`split_name`] takes the marker off so that the layout sees the name it knows
//! (`1_init.postgres.up.sql` → `1_init.up.sql`) and says which engine the file is for; a
//! PostgreSQL marker is reviewed, any other engine is not (CockroachDB included: it speaks
//! PostgreSQL's wire protocol, but its locking and schema-change model are its own).
//!
//! # Content
//!
//! [`detect`] scans a text once, skipping what PostgreSQL would not read as SQL syntax (string
//! constants, `E''` strings, dollar-quoted bodies, quoted identifiers, comments, psql
//! meta-command lines), and looks for syntax only other engines accept. One such marker
//! decides: a backtick, `ENGINE=` after a table definition, `AUTO_INCREMENT`, `UNSIGNED` after
//! a numeric type, a `DELIMITER` line, a `/*!…*/` versioned comment, `END IF` outside a
//! dollar-quoted body (a MySQL procedure), `@@` variables, `ON UPDATE CURRENT_TIMESTAMP`,
//! `LOCK TABLES`, `MODIFY COLUMN`/`CHANGE COLUMN`, MySQL-only types (`TINYINT`, `MEDIUMTEXT`,
//! `LONGTEXT`, …) for MySQL/MariaDB; `AUTOINCREMENT`, `PRAGMA`, `WITHOUT ROWID` for SQLite;
//! `GO` batch separators and `[dbo]` names for SQL Server. A marker inside a string or a
//! comment never counts, so a PostgreSQL file that mentions `` `name` `` in a comment or stores
//! `'ENGINE=InnoDB'` in a column is still PostgreSQL.

use std::fmt;

/// An SQL engine named by a file or recognised in its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Postgres,
    Cockroach,
    Mysql,
    Sqlite,
    SqlServer,
    Oracle,
    H2,
}

impl Engine {
    /// The engine a dialect word names (`postgres`, `pg`, `sqlite3`, `mariadb`, …).
    pub fn from_word(word: &str) -> Option<Engine> {
        Some(match word.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" | "psql" | "pgsql" => Engine::Postgres,
            "cockroach" | "cockroachdb" | "crdb" => Engine::Cockroach,
            "mysql" | "mariadb" | "maria" => Engine::Mysql,
            "sqlite" | "sqlite3" => Engine::Sqlite,
            "mssql" | "sqlserver" => Engine::SqlServer,
            "oracle" => Engine::Oracle,
            "h2" => Engine::H2,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Cockroach => "CockroachDB",
            Engine::Mysql => "MySQL/MariaDB",
            Engine::Sqlite => "SQLite",
            Engine::SqlServer => "SQL Server",
            Engine::Oracle => "Oracle",
            Engine::H2 => "H2",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The not-reviewed reason of a file another engine's marker names.
pub fn named_reason(engine: Engine) -> String {
    format!("named for {engine}, not PostgreSQL: migsafe reviews PostgreSQL migrations only")
}

/// The not-reviewed reason of a file whose SQL is another engine's; `found` names the marker
/// and its line (`AUTOINCREMENT on line 4`) so that a stray one in a PostgreSQL project can be
/// fixed where it is (issue #12), else the engine's usual markers are listed.
pub fn content_reason(engine: Engine, found: Option<&str>) -> String {
    format!(
        "written for {engine} ({}), not PostgreSQL: not judged with PostgreSQL's rules \
         (set `dialect = \"postgres\"` in migsafe.toml if this is wrong)",
        found.unwrap_or(examples(engine))
    )
}

fn examples(engine: Engine) -> &'static str {
    match engine {
        Engine::Mysql => "backticks, ENGINE=, AUTO_INCREMENT, UNSIGNED, DELIMITER, procedures",
        Engine::Sqlite => "AUTOINCREMENT, PRAGMA, WITHOUT ROWID",
        Engine::SqlServer => "GO batches, [dbo] names",
        _ => "its own syntax",
    }
}

/// A file name without its engine marker, and the engine the marker names. `None` when the
/// name carries no marker (the name is returned unchanged).
pub fn split_name(name: &str) -> (String, Option<Engine>) {
    // synapse: `<stem>.sql.<engine>`.
    if let Some((stem, word)) = name.rsplit_once('.') {
        if stem.ends_with(".sql") {
            if let Some(engine) = Engine::from_word(word) {
                return (stem.to_string(), Some(engine));
            }
        }
    }
    // Infix: `<stem>.<engine>[.autocommit][.up|.down].sql`.
    let Some(stem) = name.strip_suffix(".sql") else {
        return (name.to_string(), None);
    };
    let (stem, direction) = match stem.rsplit_once('.') {
        Some((s, d @ ("up" | "down"))) => (s, Some(d)),
        _ => (stem, None),
    };
    let (stem, autocommit) = match stem.strip_suffix(".autocommit") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let Some((base, word)) = stem.rsplit_once('.') else {
        return (name.to_string(), name_token(stem));
    };
    let Some(engine) = Engine::from_word(word) else {
        return (name.to_string(), name_token(stem));
    };
    if base.is_empty() {
        return (name.to_string(), None);
    }
    let mut out = base.to_string();
    if autocommit {
        out.push_str(".autocommit");
    }
    if let Some(d) = direction {
        out.push('.');
        out.push_str(d);
    }
    out.push_str(".sql");
    (out, Some(engine))
}

/// The engine a file name's first word (after its version) or last word names, as in
/// camunda's `mysql_engine_7.14_to_7.15.sql` or `003_init_postgresql.sql`. Only unambiguous
/// engine words count (`pg` or `oracle` inside a name may mean anything).
fn name_token(stem: &str) -> Option<Engine> {
    let words: Vec<&str> = stem
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let first = words
        .iter()
        .find(|w| !w.bytes().all(|b| b.is_ascii_digit()))?;
    let last = words.last()?;
    let found = [*first, *last].into_iter().find_map(|w| {
        let lower = w.to_ascii_lowercase();
        matches!(
            lower.as_str(),
            "mysql"
                | "mariadb"
                | "sqlite"
                | "sqlite3"
                | "mssql"
                | "sqlserver"
                | "h2"
                | "postgres"
                | "postgresql"
                | "cockroach"
                | "cockroachdb"
        )
        .then(|| Engine::from_word(&lower))
        .flatten()
    });
    found
}

/// What [`detect`] found: the engine and the first marker, with its byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub engine: Engine,
    pub marker: &'static str,
    pub offset: usize,
}

/// Words MySQL accepts as column types and PostgreSQL does not know.
const MYSQL_TYPES: &[&str] = &[
    "tinyint",
    "mediumint",
    "tinytext",
    "mediumtext",
    "longtext",
    "tinyblob",
    "mediumblob",
    "longblob",
];

/// Numeric type words `UNSIGNED` follows in MySQL.
const NUMERIC_WORDS: &[&str] = &[
    "int",
    "integer",
    "bigint",
    "smallint",
    "tinyint",
    "mediumint",
    "decimal",
    "numeric",
    "float",
    "double",
    "real",
];

/// The previous significant token, which some markers depend on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    None,
    Word(&'a str),
    Punct(u8),
    /// A string constant, quoted identifier or dollar-quoted body.
    Quoted,
}

impl Tok<'_> {
    fn is_word(self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }
}

/// The first marker of another engine's SQL in `text`, if any (see the module documentation).
pub fn detect(text: &str) -> Option<Detected> {
    let bytes = text.as_bytes();
    let mut i = 0usize;
    let mut line_start = true;
    let mut last = Tok::None;
    // The token before `last`, and the token before the last word.
    let mut before_last = Tok::None;
    let mut last_word_end = usize::MAX;
    // The first words of the current statement (`alter table`, `insert`), for markers that
    // only mean something in one kind of statement.
    let mut first: [&str; 2] = ["", ""];
    let mut words_in_statement = 0usize;
    let found = |engine, marker, offset| {
        Some(Detected {
            engine,
            marker,
            offset,
        })
    };
    while let Some(&b) = bytes.get(i) {
        if line_start && !b.is_ascii_whitespace() {
            // Lines the client reads itself: psql meta-commands are PostgreSQL's; a
            // `DELIMITER` line is the mysql client's, a lone `GO` SQL Server's sqlcmd.
            line_start = false;
            let line_end = text
                .get(i..)
                .and_then(|r| r.find('\n'))
                .map_or(bytes.len(), |n| i + n);
            let line = text.get(i..line_end).unwrap_or("").trim();
            if line.starts_with('\\') {
                i = line_end;
                continue;
            }
            let mut words = line.split_whitespace();
            if words
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("delimiter"))
                && words.count() == 1
            {
                return found(Engine::Mysql, "DELIMITER", i);
            }
            if line.eq_ignore_ascii_case("go") {
                return found(Engine::SqlServer, "GO", i);
            }
        }
        match b {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                if bytes.get(i + 2) == Some(&b'!') {
                    return found(Engine::Mysql, "/*! versioned comment */", i);
                }
                i = skip_block_comment(bytes, i);
            }
            b'`' => return found(Engine::Mysql, "backtick-quoted name", i),
            b'@' if bytes.get(i + 1) == Some(&b'@') => {
                return found(Engine::Mysql, "@@ system variable", i)
            }
            b'[' if text
                .get(i..i + 5)
                .is_some_and(|s| s.eq_ignore_ascii_case("[dbo]")) =>
            {
                return found(Engine::SqlServer, "[dbo] name", i)
            }
            b'\'' => {
                let escapes = last_word_end == i && (last.is_word("e"));
                i = skip_quoted(bytes, i, b'\'', escapes);
                push(&mut last, &mut before_last, Tok::Quoted);
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                push(&mut last, &mut before_last, Tok::Quoted);
            }
            b'$' => {
                match dollar_tag(text, i) {
                    Some(tag) => {
                        let body = i + tag.len();
                        i = text
                            .get(body..)
                            .and_then(|r| r.find(tag))
                            .map_or(bytes.len(), |n| body + n + tag.len());
                    }
                    None => i += 1,
                }
                push(&mut last, &mut before_last, Tok::Quoted);
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
                {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                let lower = word.to_ascii_lowercase();
                if let Some(slot) = first.get_mut(words_in_statement) {
                    *slot = word;
                }
                words_in_statement += 1;
                let statement = |a: &str, b: &str| {
                    first[0].eq_ignore_ascii_case(a)
                        && (b.is_empty() || first[1].eq_ignore_ascii_case(b))
                };
                let alter_table = statement("alter", "table");
                let create_table = statement("create", "table");
                let next = next_significant(bytes, i);
                // In `ALTER TABLE t <word>` or after a `,` of its action list.
                let action_position = alter_table
                    && (last == Tok::Punct(b',')
                        || (matches!(last, Tok::Word(_) | Tok::Quoted)
                            && before_last.is_word("table")));
                let marker = match lower.as_str() {
                    "engine"
                        if next == Some(b'=') && (last == Tok::Punct(b')') || action_position) =>
                    {
                        Some((Engine::Mysql, "ENGINE="))
                    }
                    "charset" if last == Tok::Punct(b')') || last.is_word("default") => {
                        Some((Engine::Mysql, "DEFAULT CHARSET"))
                    }
                    "utf8mb4" | "utf8mb3" => Some((Engine::Mysql, "utf8mb4 character set")),
                    "auto_increment" => Some((Engine::Mysql, "AUTO_INCREMENT")),
                    "autoincrement" => Some((Engine::Sqlite, "AUTOINCREMENT")),
                    "unsigned"
                        if last == Tok::Punct(b')')
                            || NUMERIC_WORDS.iter().any(|n| last.is_word(n)) =>
                    {
                        Some((Engine::Mysql, "UNSIGNED"))
                    }
                    "int" | "integer" | "bigint" | "smallint" | "tinyint" | "mediumint"
                        if next == Some(b'(')
                            && matches!(last, Tok::Word(_) | Tok::Quoted)
                            && (create_table || alter_table) =>
                    {
                        Some((Engine::Mysql, "int(N) display width"))
                    }
                    "comment"
                        if (create_table || alter_table)
                            && (next == Some(b'\'')
                                || (next == Some(b'=') && last == Tok::Punct(b')'))) =>
                    {
                        Some((Engine::Mysql, "COMMENT '…' column option"))
                    }
                    "modify" | "change" if action_position => {
                        Some((Engine::Mysql, "ALTER TABLE … MODIFY/CHANGE"))
                    }
                    "index" | "key"
                        if alter_table
                            && last.is_word("add")
                            && index_definition_follows(text, i) =>
                    {
                        Some((Engine::Mysql, "ALTER TABLE … ADD INDEX"))
                    }
                    "foreign_key_checks" | "unique_checks" | "sql_mode" | "time_zone"
                    | "sql_notes"
                        if statement("set", "") =>
                    {
                        Some((Engine::Mysql, "SET of a MySQL variable"))
                    }
                    "ignore" if last.is_word("insert") => Some((Engine::Mysql, "INSERT IGNORE")),
                    "into" if last.is_word("replace") && words_in_statement == 2 => {
                        Some((Engine::Mysql, "REPLACE INTO"))
                    }
                    "key" if last.is_word("duplicate") => {
                        Some((Engine::Mysql, "ON DUPLICATE KEY UPDATE"))
                    }
                    "table" if last.is_word("rename") && words_in_statement == 2 => {
                        Some((Engine::Mysql, "RENAME TABLE"))
                    }
                    "on" if statement("drop", "index") => Some((Engine::Mysql, "DROP INDEX … ON")),
                    "replace" | "ignore" | "abort" | "fail" | "rollback"
                        if last.is_word("or")
                            && statement("insert", "")
                            && words_in_statement == 3 =>
                    {
                        Some((Engine::Sqlite, "INSERT OR …"))
                    }
                    "strict" if last == Tok::Punct(b')') && create_table => {
                        Some((Engine::Sqlite, "STRICT table"))
                    }
                    "conflict" if last.is_word("on") && create_table => {
                        Some((Engine::Sqlite, "ON CONFLICT column clause"))
                    }
                    "pragma" if matches!(last, Tok::None | Tok::Punct(b';')) => {
                        Some((Engine::Sqlite, "PRAGMA"))
                    }
                    "rowid" if last.is_word("without") => Some((Engine::Sqlite, "WITHOUT ROWID")),
                    "if" if last.is_word("end") => {
                        Some((Engine::Mysql, "END IF outside a dollar-quoted body"))
                    }
                    "current_timestamp" if last.is_word("update") && before_last.is_word("on") => {
                        Some((Engine::Mysql, "ON UPDATE CURRENT_TIMESTAMP"))
                    }
                    "tables" if last.is_word("lock") || last.is_word("unlock") => {
                        Some((Engine::Mysql, "LOCK TABLES"))
                    }
                    "column" if last.is_word("modify") || last.is_word("change") => {
                        Some((Engine::Mysql, "MODIFY/CHANGE COLUMN"))
                    }
                    w if MYSQL_TYPES.contains(&w)
                        && matches!(last, Tok::Word(_) | Tok::Quoted)
                        && (matches!(before_last, Tok::Punct(b'(' | b','))
                            || before_last.is_word("column")) =>
                    {
                        Some((Engine::Mysql, "MySQL-only column type"))
                    }
                    _ => None,
                };
                if let Some((engine, marker)) = marker {
                    return found(engine, marker, start);
                }
                push(&mut last, &mut before_last, Tok::Word(word));
                last_word_end = i;
            }
            _ => {
                push(&mut last, &mut before_last, Tok::Punct(b));
                if b == b';' {
                    first = ["", ""];
                    words_in_statement = 0;
                }
                i += 1;
            }
        }
    }
    None
}

/// Whether `ADD INDEX|KEY` at `i` goes on with an index definition (`[name] (columns)`), not a
/// column named `index` or `key` (`ADD key int`, valid PostgreSQL).
fn index_definition_follows(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    let mut j = i;
    while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
        j += 1;
    }
    if bytes.get(j) == Some(&b'(') {
        return true;
    }
    // One name, quoted or not, then `(`.
    match bytes.get(j) {
        Some(b'`') | Some(b'"') => {
            let quote = bytes.get(j).copied().unwrap_or(b'"');
            j = skip_quoted(bytes, j, quote, false);
        }
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {
            while bytes
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                j += 1;
            }
        }
        _ => return false,
    }
    next_significant(bytes, j) == Some(b'(')
}

fn push<'a>(last: &mut Tok<'a>, before_last: &mut Tok<'a>, tok: Tok<'a>) {
    *before_last = *last;
    *last = tok;
}

/// The next byte after `i` that is not whitespace.
fn next_significant(bytes: &[u8], mut i: usize) -> Option<u8> {
    while let Some(b) = bytes.get(i) {
        if !b.is_ascii_whitespace() {
            return Some(*b);
        }
        i += 1;
    }
    None
}

/// From the quote at `at`, the offset after its closing quote (doubled quotes stay inside;
/// with `escapes`, a backslash escapes the next byte).
fn skip_quoted(bytes: &[u8], at: usize, quote: u8, escapes: bool) -> usize {
    let mut i = at + 1;
    while let Some(&b) = bytes.get(i) {
        if escapes && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// From the `/*` at `at`, the offset after its matching `*/` (nested, as PostgreSQL reads them).
fn skip_block_comment(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes.get(i..) {
            Some([b'/', b'*', ..]) => {
                depth += 1;
                i += 2;
            }
            Some([b'*', b'/', ..]) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The dollar-quote tag (`$$`, `$body$`) starting at `at`, if one does.
fn dollar_tag(text: &str, at: usize) -> Option<&str> {
    let rest = text.get(at + 1..)?;
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if rest.as_bytes().get(len) != Some(&b'$') {
        return None;
    }
    // `$1` is a parameter, not a tag.
    if rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    text.get(at..at + len + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(text: &str) -> Option<Engine> {
        detect(text).map(|d| d.engine)
    }

    #[test]
    fn names_lose_their_engine_marker() {
        assert_eq!(
            split_name("20150100000001000000_networks.postgres.up.sql"),
            (
                "20150100000001000000_networks.up.sql".to_string(),
                Some(Engine::Postgres)
            )
        );
        assert_eq!(
            split_name("2_x.mysql.autocommit.down.sql"),
            ("2_x.autocommit.down.sql".to_string(), Some(Engine::Mysql))
        );
        assert_eq!(
            split_name("01add_index.sql.postgres"),
            ("01add_index.sql".to_string(), Some(Engine::Postgres))
        );
        assert_eq!(
            split_name("01add_index.sql.sqlite"),
            ("01add_index.sql".to_string(), Some(Engine::Sqlite))
        );
        assert_eq!(
            split_name("V0001.Initial.sqlite.up.sql").1,
            Some(Engine::Sqlite)
        );
        assert_eq!(split_name("1_init.up.sql"), ("1_init.up.sql".into(), None));
        assert_eq!(
            split_name("mysql_engine_7.14_to_7.15.sql"),
            ("mysql_engine_7.14_to_7.15.sql".into(), Some(Engine::Mysql))
        );
        assert_eq!(
            split_name("postgres_engine_7.14_to_7.15.sql").1,
            Some(Engine::Postgres)
        );
        assert_eq!(split_name("003_init_h2.sql").1, Some(Engine::H2));
        assert_eq!(split_name("004_import_mysql_users.sql").1, None);
        assert_eq!(split_name("005_add_pg_trgm.sql").1, None);
        assert_eq!(split_name("1_v1.2.sql"), ("1_v1.2.sql".into(), None));
        assert_eq!(split_name("pg.sql"), ("pg.sql".into(), None));
    }

    #[test]
    fn mysql_markers() {
        assert_eq!(
            engine("CREATE TABLE `users` (id int);"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("CREATE TABLE t (id int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, PRIMARY KEY (id));"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("ALTER TABLE t ADD c int(10) unsigned NOT NULL;"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;"),
            Some(Engine::Mysql)
        );
        let procedure = "CREATE PROCEDURE p()\nBEGIN\n  IF NOT EXISTS (SELECT 1) THEN\n    ALTER TABLE t ADD c int;\n  END IF;\nEND;";
        assert_eq!(
            detect(procedure).map(|d| d.marker),
            Some("END IF outside a dollar-quoted body")
        );
        assert_eq!(
            engine("/*!40101 SET NAMES utf8 */;\nSELECT 1;"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("SET sql_mode=(SELECT REPLACE(@@sql_mode,'ONLY_FULL_GROUP_BY',''));"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("ALTER TABLE t MODIFY COLUMN name varchar(64);"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("CREATE TABLE t (body longtext NOT NULL);"),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engine("CREATE TABLE t (u timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);"),
            Some(Engine::Mysql)
        );
    }

    #[test]
    fn sqlite_and_sql_server_markers() {
        assert_eq!(
            engine("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);"),
            Some(Engine::Sqlite)
        );
        assert_eq!(engine("PRAGMA foreign_keys=off;"), Some(Engine::Sqlite));
        assert_eq!(
            engine("CREATE TABLE t (k text PRIMARY KEY) WITHOUT ROWID;"),
            Some(Engine::Sqlite)
        );
        assert_eq!(
            engine("CREATE TABLE [dbo].[t] (id int)\nGO\n"),
            Some(Engine::SqlServer)
        );
    }

    #[test]
    fn postgres_is_never_another_engine() {
        let pg = [
            "-- the `users` table, see ENGINE=InnoDB in the old MySQL schema\nCREATE TABLE users (id bigint);",
            "/* `backticks` and AUTO_INCREMENT in a comment /* nested */ still a comment */ SELECT 1;",
            "INSERT INTO notes (body) VALUES ('use `code` here; ENGINE=InnoDB; AUTO_INCREMENT'), (E'it\\'s `x`');",
            "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  IF NEW.a THEN RETURN NEW; END IF;\n  RETURN NULL;\nEND $$;",
            "DO $body$ BEGIN IF true THEN RAISE NOTICE '`'; END IF; END $body$;",
            "CREATE TABLE \"ENGINE\" (\"unsigned\" int, \"auto_increment\" int);",
            "UPDATE cars SET engine = 'v8' WHERE id = $1;",
            "\\set ON_ERROR_STOP on\n\\echo `date`\nSELECT 1;",
            "CREATE TABLE t (id serial PRIMARY KEY, pragma text);",
            "SELECT tinyint FROM legacy;",
            "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'BEGIN IF x THEN RETURN 1; END IF; END' LANGUAGE plpgsql;",
            "ALTER TABLE t ALTER COLUMN c TYPE bigint;",
            "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;",
        ];
        for text in pg {
            assert_eq!(detect(text), None, "{text}");
        }
    }
}
