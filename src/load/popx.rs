//! ory's popx (kratos, hydra, keto): `<version>_<name>[.<dialect>][.autocommit].{up,down}.sql`,
//! read as `popx/match.go` and `popx/migration_info.go` read them.
//!
//! - The name matches `^(\d+)_([^.]+)(\.[a-z0-9]+)?(|\.autocommit)\.(up|down)\.(sql|fizz)$`. A
//!   file without a dialect is for every dialect (`all`); a dialect popx does not support is
//!   ignored by popx (and listed here); `.fizz` files are pop's DSL, not SQL.
//! - On PostgreSQL, popx runs, per version and direction, the `postgres` file when there is one
//!   and the `all` file otherwise (`SortAndFilter`): the `all` file a `postgres` file supersedes
//!   and every other dialect's file are listed as not reviewed.
//! - Versions are the digits as written (popx records them so in `schema_migration.version`,
//!   and orders them as strings); every up needs a down of the same version or popx refuses
//!   the whole box.
//! - Transactions: a plain file runs in the transaction popx opens per migration
//!   (`isolatedTransaction`, serializable), so [`Transaction::File`]; an `.autocommit.` file
//!   runs through `RunnerNoTx`, one `Exec` of the whole file without a transaction, which
//!   PostgreSQL runs as one implicit transaction when it holds several statements, so
//!   [`Transaction::Implicit`] (a lone `CREATE INDEX CONCURRENTLY` runs fine there).

use super::dialect::Engine;
use super::skipped::NotReviewed;
use super::source::{Entry, Reader};
use super::{attach_down, file_migration, runs};
use crate::model::{Layout, LoadNote, Migration, Runner, Transaction};
use anyhow::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dialect {
    All,
    Known(Engine),
    /// A dialect word popx does not support: popx ignores the file.
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub(super) struct Name {
    pub version: String,
    pub name: String,
    pub dialect: Dialect,
    pub autocommit: bool,
    pub up: bool,
    pub fizz: bool,
}

/// Parses a popx file name as its regular expression does (greedy dialect group first, so a
/// lone `.autocommit` part is read as a dialect, as popx reads it).
pub(super) fn parse_name(file_name: &str) -> Option<Name> {
    let (version, rest) = file_name.split_once('_')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut parts: Vec<&str> = rest.split('.').collect();
    let ext = parts.pop()?;
    let fizz = match ext {
        "sql" => false,
        "fizz" => true,
        _ => return None,
    };
    let up = match parts.pop()? {
        "up" => true,
        "down" => false,
        _ => return None,
    };
    let name = parts.first().copied().filter(|n| !n.is_empty())?;
    let lower_alnum = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let (dialect, autocommit) = match parts.get(1..)? {
        [] => (Dialect::All, false),
        [d] if lower_alnum(d) => (dialect(d), false),
        [d, "autocommit"] if lower_alnum(d) => (dialect(d), true),
        _ => return None,
    };
    Some(Name {
        version: version.to_string(),
        name: name.to_string(),
        dialect,
        autocommit,
        up,
        fizz,
    })
}

fn dialect(word: &str) -> Dialect {
    match Engine::from_word(word) {
        Some(e) => Dialect::Known(e),
        None => Dialect::Unsupported(word.to_string()),
    }
}

/// Whether a folder's names are popx's: some file names a pop dialect or `.autocommit`
/// (without either, the same names are golang-migrate's or sqlx's).
pub(super) fn is_popx_folder(entries: &[Entry]) -> bool {
    entries.iter().filter(|e| e.is_file()).any(|e| {
        parse_name(e.file_name())
            .is_some_and(|n| n.autocommit || matches!(n.dialect, Dialect::Known(_)))
    })
}

/// popx sends a migration's file in one `Exec`: inside its own transaction, or, for an
/// `.autocommit.` file (`RunnerNoTx`), without one.
pub(super) fn runner(autocommit: bool) -> (Transaction, Runner) {
    if autocommit {
        (
            Transaction::Implicit,
            Runner::marker("popx: `.autocommit.` file, sent in one Exec without a transaction")
                .one_query(),
        )
    } else {
        (
            Transaction::File,
            Runner::default_of("popx: each migration in its own transaction, sent in one Exec")
                .one_query(),
        )
    }
}

/// Every popx migration of a folder that PostgreSQL runs, in version order; every other
/// popx-named file goes to `skipped` with the reason.
pub(super) fn build(
    entries: &[Entry],
    reader: &mut Reader,
    skipped: &mut Vec<NotReviewed>,
) -> Result<Vec<Migration>> {
    let mut files: Vec<(&Entry, Name)> = Vec::new();
    for entry in entries.iter().filter(|e| e.is_file()) {
        let Some(name) = parse_name(entry.file_name()) else {
            continue;
        };
        let why = match &name.dialect {
            _ if name.fizz => Some(
                "a .fizz migration (pop's schema DSL), not SQL: migsafe reviews SQL only"
                    .to_string(),
            ),
            Dialect::Unsupported(word) => Some(format!(
                "dialect `{word}` is not one popx supports: popx ignores the file"
            )),
            Dialect::Known(Engine::Postgres) | Dialect::All => None,
            Dialect::Known(engine) => Some(format!(
                "the {engine} version of this migration: popx runs it on {engine} only, \
                 and migsafe reviews PostgreSQL"
            )),
        };
        match why {
            Some(reason) => skipped.push(NotReviewed {
                path: entry.display.clone(),
                version: Some(name.version.clone()),
                reason,
            }),
            None => files.push((entry, name)),
        }
    }
    // SortAndFilter("postgres"): per version and direction, the postgres file beats `all`.
    let specific = |version: &str, up: bool| {
        files.iter().any(|(_, n)| {
            n.version == version && n.up == up && n.dialect == Dialect::Known(Engine::Postgres)
        })
    };
    let mut chosen: Vec<(&Entry, &Name)> = Vec::new();
    for (entry, name) in &files {
        if name.dialect == Dialect::All && specific(&name.version, name.up) {
            skipped.push(NotReviewed {
                path: entry.display.clone(),
                version: Some(name.version.clone()),
                reason: "superseded on PostgreSQL by the .postgres. file of the same version: \
                         popx runs that one instead"
                    .to_string(),
            });
        } else {
            chosen.push((entry, name));
        }
    }
    let mut ups: Vec<&(&Entry, &Name)> = chosen.iter().filter(|(_, n)| n.up).collect();
    ups.sort_by(|a, b| {
        a.1.version
            .cmp(&b.1.version)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    let mut out = Vec::new();
    for (entry, name) in ups {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let mut m = file_migration(
            Layout::Popx,
            &loaded,
            Some(name.version.clone()),
            name.name.clone(),
            true,
        );
        let (transaction, by) = runner(name.autocommit);
        runs(&mut m.up, transaction, by);
        let down = chosen
            .iter()
            .find(|(_, d)| !d.up && d.version == name.version);
        match down {
            Some((down, d)) => {
                let loaded = reader.read(&down.path, &down.display)?;
                attach_down(&mut m, &loaded, true);
                if let Some(part) = m.down.as_mut() {
                    let (transaction, by) = runner(d.autocommit);
                    runs(part, transaction, by);
                }
            }
            None => m.load_notes.push(LoadNote {
                offset: 0,
                message: format!(
                    "version {} has no down migration: popx refuses to load a migration box \
                     where an up migration has none",
                    name.version
                ),
            }),
        }
        out.push(m);
    }
    // Downs without an up of their version (for PostgreSQL) are never run forward.
    for (entry, name) in chosen.iter().filter(|(_, n)| !n.up) {
        if !out
            .iter()
            .any(|m| m.version.as_deref() == Some(name.version.as_str()))
        {
            skipped.push(NotReviewed {
                path: entry.display.clone(),
                version: Some(name.version.clone()),
                reason: "a down file without an up file of the same version: never run \
                         forward, and no migration to be the rollback of"
                    .to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_popx_reads_them() {
        let n = parse_name("20150100000001000000_networks.postgres.up.sql").unwrap();
        assert_eq!(n.version, "20150100000001000000");
        assert_eq!(n.name, "networks");
        assert_eq!(n.dialect, Dialect::Known(Engine::Postgres));
        assert!(n.up && !n.autocommit && !n.fizz);

        let n = parse_name("20210410175418000001_index.cockroach.autocommit.down.sql").unwrap();
        assert_eq!(n.dialect, Dialect::Known(Engine::Cockroach));
        assert!(n.autocommit && !n.up);

        let n = parse_name("20200830130642000000_x.up.sql").unwrap();
        assert_eq!(n.dialect, Dialect::All);

        // The greedy dialect group takes a lone `.autocommit`: popx ignores such a file.
        let n = parse_name("1_x.autocommit.up.sql").unwrap();
        assert_eq!(n.dialect, Dialect::Unsupported("autocommit".into()));

        assert!(parse_name("1_x.up.fizz").unwrap().fizz);
        assert!(parse_name("1_x.sql").is_none());
        assert!(parse_name("x_1.up.sql").is_none());
        assert!(parse_name("1_x.Postgres.up.sql").is_none());
    }
}
