//! Flyway: `V<version>__<description>.sql` versioned migrations, `U<version>__…` undo scripts
//! (the down part of the `V` with the same version), `R__<description>.sql` repeatables.
//!
//! Versions are dot- or underscore-separated integers compared part by part (`1.9` < `1.10`,
//! `1.0` = `1`), stored as Flyway records them in `flyway_schema_history` (`1_1` → `1.1`, no
//! `V`). Repeatables run after every versioned migration, ordered by description.
//!
//! Transactions (Flyway's `ParserSqlScript.executeInTransaction` and `PostgreSQLParser`): the
//! statements of a script are sent one by one inside one transaction (`File`), unless the
//! script configuration (a sibling `<script>.conf` or an inline
//! `-- flyway:executeInTransaction=…` among the leading comments) says otherwise. Without such
//! a setting Flyway looks at the statements: a script whose statements all cannot run in a
//! transaction (`CREATE`/`DROP INDEX CONCURRENTLY`, `VACUUM`, `REINDEX SCHEMA|DATABASE|SYSTEM`,
//! `CREATE`/`DROP DATABASE|TABLESPACE|SUBSCRIPTION`, `ALTER SYSTEM`, `DISCARD ALL`) runs
//! without one, statement by statement; one that mixes them with other statements is refused
//! unless `mixed = true` (a project setting migsafe cannot see: declare it in migsafe.toml).
//! That needs the parsed statements, so [`settle`] decides it after parsing.
//! Flyway scans its locations recursively, and so do we once a folder is Flyway. Baseline
//! (`B…`) scripts and other prefixes are ignored.

use super::source::{Entry, Loaded, Reader};
use super::{attach_down_with, duplicate_note_by, file_migration_with, stem, text};
use crate::model::{
    Layout, LoadNote, Migration, Part, ReindexTarget, Runner, Statement, StatementKind, Transaction,
};
use anyhow::Result;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Versioned,
    Undo,
    Repeatable,
}

#[derive(Debug, Clone)]
pub(super) struct Name {
    pub kind: Kind,
    /// Parts without leading zeros; trailing zero parts dropped for comparison.
    pub parts: Vec<String>,
    pub version: Option<String>,
    pub description: String,
}

/// Parses a Flyway script name.
pub(super) fn parse_name(file_name: &str) -> Option<Name> {
    let stem = file_name.strip_suffix(".sql")?;
    let (prefix, rest) = stem.split_at_checked(1)?;
    let kind = match prefix {
        "V" => Kind::Versioned,
        "U" => Kind::Undo,
        "R" => Kind::Repeatable,
        _ => return None,
    };
    let (version, description) = rest.split_once("__")?;
    if kind == Kind::Repeatable {
        return version.is_empty().then(|| Name {
            kind,
            parts: Vec::new(),
            version: None,
            description: description.to_string(),
        });
    }
    let parts: Vec<String> = version
        .split(['.', '_'])
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| super::text::strip_zeros(p))
        })
        .collect::<Option<_>>()?;
    let shown = parts.join(".");
    let mut key = parts;
    while key.len() > 1 && key.last().is_some_and(|p| p == "0") {
        key.pop();
    }
    Some(Name {
        kind,
        parts: key,
        version: Some(shown),
        description: description.to_string(),
    })
}

/// Whether a file name is a Flyway versioned or repeatable script (what detection counts).
pub(super) fn is_script(file_name: &str) -> bool {
    parse_name(file_name).is_some_and(|n| n.kind != Kind::Undo)
}

fn cmp_parts(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = super::text::cmp_digits(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The `executeInTransaction` value of a `key=value` setting (properties syntax), if it is one.
fn execute_in_transaction(setting: &str) -> Option<bool> {
    let (k, v) = setting.split_once(['=', ':'])?;
    if k.trim() != "executeInTransaction" {
        return None;
    }
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Flyway's inline script configuration: `-- flyway:executeInTransaction=…` among the
/// script's leading comments.
fn inline_setting(text: &str) -> Option<bool> {
    let header = text::comment_block(text, 0);
    text.get(header).unwrap_or("").lines().find_map(|line| {
        line.trim()
            .strip_prefix("--")
            .and_then(|rest| rest.trim().strip_prefix("flyway:"))
            .and_then(execute_in_transaction)
    })
}

/// Flyway's default, before it looks at the statements.
pub(super) fn default_runner() -> Runner {
    Runner::default_of(
        "Flyway: executeInTransaction (default true): the statements are sent one by one inside \
         one transaction",
    )
}

/// The mode a script configuration value gives, and where it was written.
fn configured(value: bool, place: &str) -> (Transaction, Runner) {
    if value {
        (
            Transaction::File,
            Runner::marker(format!(
                "Flyway: executeInTransaction=true in {place}: the statements are sent one by \
                 one inside one transaction"
            )),
        )
    } else {
        (
            Transaction::Statement,
            Runner::marker(format!(
                "Flyway: executeInTransaction=false in {place}: each statement is sent and \
                 committed on its own"
            )),
        )
    }
}

/// How Flyway runs `script`: its inline configuration, else its `.conf` sibling (a Java
/// properties file), else the default (which [`settle`] may still change).
fn runner(script: &Loaded, path: &Path, reader: &mut Reader) -> Result<(Transaction, Runner)> {
    if let Some(value) = inline_setting(&script.file.text) {
        return Ok(configured(value, "the script's leading comments"));
    }
    let mut conf = path.as_os_str().to_os_string();
    conf.push(".conf");
    let conf = PathBuf::from(conf);
    if conf.is_file() {
        let shown = format!("{}.conf", script.file.display);
        let loaded = reader.read(&conf, &shown)?;
        let value = loaded.file.text.lines().find_map(|line| {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with('!') {
                None
            } else {
                execute_in_transaction(line)
            }
        });
        if let Some(value) = value {
            return Ok(configured(value, &shown));
        }
    }
    Ok((Transaction::File, default_runner()))
}

/// Whether Flyway's PostgreSQL parser marks a statement as unable to run in a transaction
/// (`PostgreSQLParser.detectCanExecuteInTransaction`). `ALTER TYPE … ADD VALUE` is left out:
/// Flyway only counts it on PostgreSQL before 12, where it is not transactional.
fn flyway_non_transactional(kind: &StatementKind) -> bool {
    match kind {
        StatementKind::CreateIndex { concurrently, .. }
        | StatementKind::DropIndex { concurrently, .. } => *concurrently,
        StatementKind::Vacuum { .. } | StatementKind::DropDatabase { .. } => true,
        StatementKind::Reindex { target, .. } => matches!(
            target,
            ReindexTarget::Schema | ReindexTarget::Database | ReindexTarget::System
        ),
        StatementKind::Other { keywords } => [
            "create database",
            "create tablespace",
            "drop tablespace",
            "create subscription",
            "drop subscription",
            "alter system",
            "discard all",
        ]
        .iter()
        .any(|k| keywords.starts_with(k)),
        _ => false,
    }
}

/// After parsing: Flyway's own decision for a script left at its default. All statements
/// non-transactional: it runs without a transaction. Mixed with other statements: Flyway
/// refuses it (unless `mixed = true`), returned as a note; the part is then run statement by
/// statement, which is what `mixed = true` does. `true` when the mode changed.
pub(super) fn settle(part: &mut Part, statements: &[Statement]) -> (bool, Option<LoadNote>) {
    if part.transaction != Transaction::File || part.runner != default_runner() {
        return (false, None);
    }
    let sql: Vec<&Statement> = statements
        .iter()
        .filter(|s| !matches!(s.kind, StatementKind::PsqlMeta { .. }))
        .collect();
    let Some(first) = sql.iter().find(|s| flyway_non_transactional(&s.kind)) else {
        return (false, None);
    };
    let what = first_words(&first.text);
    let line = first.start.line;
    if sql.iter().all(|s| flyway_non_transactional(&s.kind)) {
        part.transaction = Transaction::Statement;
        part.runner = Runner::marker(format!(
            "Flyway: {what} (line {line}) cannot run in a transaction, so Flyway runs the \
             script without one, statement by statement"
        ));
        return (true, None);
    }
    part.transaction = Transaction::Statement;
    part.runner = Runner::default_of(format!(
        "Flyway: {what} (line {line}) cannot run in a transaction and the script has other \
         statements: Flyway refuses it unless mixed = true, which runs it without a transaction"
    ));
    let note = LoadNote {
        offset: first.range.start,
        message: format!(
            "Flyway refuses this script: {what} cannot run in a transaction and the script \
             mixes it with transactional statements (\"Detected both transactional and \
             non-transactional statements within the same migration\"); move it to a script of \
             its own, or set Flyway's mixed = true and declare the runner in migsafe.toml \
             ([[runner]] transaction = \"statement\")"
        ),
    };
    (true, Some(note))
}

/// The first three words of a statement, upper-cased, for messages (`CREATE INDEX
/// CONCURRENTLY`).
fn first_words(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("unique"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

/// Every Flyway migration under a folder (recursively): versioned by version, then repeatables.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut scripts: Vec<(&Entry, Name)> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| parse_name(&e.name).map(|n| (e, n)))
        .collect();
    scripts.sort_by(|a, b| {
        cmp_parts(&a.1.parts, &b.1.parts)
            .then_with(|| a.1.description.cmp(&b.1.description))
            .then_with(|| a.0.display.cmp(&b.0.display))
    });
    let mut out = Vec::new();
    for (entry, name) in scripts.iter().filter(|(_, n)| n.kind == Kind::Versioned) {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let (tx, how) = runner(&loaded, &entry.path, reader)?;
        let mut m = file_migration_with(
            Layout::Flyway,
            &loaded,
            name.version.clone(),
            name.description.clone(),
            tx,
            how,
        );
        let undo = scripts
            .iter()
            .find(|(_, u)| u.kind == Kind::Undo && u.parts == name.parts);
        if let Some((undo, _)) = undo {
            let loaded = reader.read(&undo.path, &undo.display)?;
            let (tx, how) = runner(&loaded, &undo.path, reader)?;
            attach_down_with(&mut m, &loaded, tx, how);
        }
        out.push(m);
    }
    duplicate_note_by(&mut out, "Flyway", |v| {
        let mut key = v;
        while let Some(shorter) = key.strip_suffix(".0") {
            key = shorter;
        }
        key.to_string()
    });
    for (entry, name) in scripts.iter().filter(|(_, n)| n.kind == Kind::Repeatable) {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let (tx, how) = runner(&loaded, &entry.path, reader)?;
        let mut m = file_migration_with(
            Layout::Flyway,
            &loaded,
            None,
            name.description.clone(),
            tx,
            how,
        );
        m.repeatable = true;
        out.push(m);
    }
    Ok(out)
}

/// A lone Flyway script (stdin or `--layout flyway` on a file outside its folder).
pub(super) fn lone(loaded: &Loaded, file_name: Option<&str>) -> Migration {
    let parsed = file_name.and_then(parse_name);
    let name = parsed
        .as_ref()
        .map(|n| n.description.clone())
        .unwrap_or_else(|| stem(file_name));
    let (tx, how) = match inline_setting(&loaded.file.text) {
        Some(value) => configured(value, "the script's leading comments"),
        None => (Transaction::File, default_runner()),
    };
    let mut m = file_migration_with(
        Layout::Flyway,
        loaded,
        parsed.as_ref().and_then(|n| n.version.clone()),
        name,
        tx,
        how,
    );
    m.repeatable = parsed.is_some_and(|n| n.kind == Kind::Repeatable);
    m
}

/// The display of the script a `.conf` file configures (`V1__a.sql.conf` → `V1__a.sql`).
pub(super) fn script_of_conf(display: &str) -> Option<String> {
    display
        .strip_suffix(".conf")
        .filter(|s| s.ends_with(".sql"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_part_by_part() {
        let v = |s: &str| parse_name(s).unwrap();
        assert_eq!(
            cmp_parts(&v("V1.9__a.sql").parts, &v("V1.10__b.sql").parts),
            Ordering::Less
        );
        assert_eq!(
            cmp_parts(&v("V1__a.sql").parts, &v("V1.0__b.sql").parts),
            Ordering::Equal
        );
        assert_eq!(
            cmp_parts(&v("V2_1__a.sql").parts, &v("V2.01__b.sql").parts),
            Ordering::Equal
        );
        assert_eq!(v("V2_01__a.sql").version.as_deref(), Some("2.1"));
    }

    #[test]
    fn inline_script_configuration() {
        assert_eq!(
            inline_setting("-- owner: @a\n-- flyway:executeInTransaction=false\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            Some(false)
        );
        assert_eq!(
            inline_setting("CREATE INDEX i ON t (a);\n-- flyway:executeInTransaction=false\n"),
            None
        );
        assert_eq!(
            inline_setting("-- flyway:executeInTransaction=true\n"),
            Some(true)
        );
    }

    fn settled(sql: &str, runner: Runner) -> (Part, bool, Option<LoadNote>) {
        let file = std::sync::Arc::new(crate::model::SourceFile {
            display: "V2__x.sql".into(),
            text: sql.into(),
        });
        let mut part = Part {
            file,
            segments: vec![crate::model::Segment {
                range: 0..sql.len(),
                single_statement: false,
            }],
            transaction: Transaction::File,
            runner,
        };
        let statements = crate::parse::parse_part(&part).statements;
        let (changed, note) = settle(&mut part, &statements);
        (part, changed, note)
    }

    #[test]
    fn flyway_runs_a_script_of_only_concurrent_statements_without_a_transaction() {
        let (part, changed, note) = settled(
            "CREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY j;",
            default_runner(),
        );
        assert!(changed && note.is_none());
        assert_eq!(part.transaction, Transaction::Statement);
        assert!(
            part.runner.source.contains("line 1"),
            "{}",
            part.runner.source
        );
        // REINDEX CONCURRENTLY is not in Flyway's list: it stays in the transaction (and fails).
        let (part, changed, _) = settled("REINDEX INDEX CONCURRENTLY i;", default_runner());
        assert!(!changed);
        assert_eq!(part.transaction, Transaction::File);
    }

    #[test]
    fn flyway_refuses_a_mixed_script_unless_configured() {
        let (part, changed, note) = settled(
            "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);",
            default_runner(),
        );
        assert!(changed);
        assert_eq!(part.transaction, Transaction::Statement);
        let note = note.expect("Flyway refuses mixed scripts");
        assert!(note.message.contains("mixed = true"), "{}", note.message);
        assert_eq!(note.offset, "SET lock_timeout = '2s';\n".len());
        // An explicit executeInTransaction=true keeps the transaction: CIC then fails there.
        let (part, changed, note) = settled(
            "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);",
            configured(true, "V2__x.sql.conf").1,
        );
        assert!(!changed && note.is_none());
        assert_eq!(part.transaction, Transaction::File);
    }

    #[test]
    fn kinds() {
        assert_eq!(parse_name("R__views.sql").unwrap().kind, Kind::Repeatable);
        assert_eq!(parse_name("U3__drop.sql").unwrap().kind, Kind::Undo);
        assert!(parse_name("R1__views.sql").is_none());
        assert!(parse_name("V1_init.sql").is_none());
        assert!(parse_name("Vx__init.sql").is_none());
        assert!(parse_name("V__init.sql").is_none());
        assert!(parse_name("B1__baseline.sql").is_none());
    }
}
