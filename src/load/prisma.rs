//! Prisma Migrate: `prisma/migrations/<timestamp>_<name>/migration.sql`, with a
//! `migration_lock.toml` whose `provider` names the database.
//!
//! - Order: the migration folders sorted by name, as `prisma migrate deploy` applies them.
//! - Version: the whole folder name, which Prisma records in `_prisma_migrations.migration_name`
//!   (with a SHA-256 of `migration.sql` as `checksum`).
//! - Down: none; Prisma has no down migrations (`migrate diff` scripts are run by hand).
//! - Transactions: the schema engine sends `migration.sql` to PostgreSQL as one script (one
//!   simple query holding every statement), which PostgreSQL runs as one implicit transaction:
//!   [`Transaction::Implicit`]. That is why a lone `CREATE INDEX CONCURRENTLY` applies and the
//!   same statement next to another one fails with "cannot run inside a transaction block".
//! - A `provider` other than `postgresql` (`mysql`, `sqlite`, `sqlserver`, `cockroachdb`) makes
//!   every migration of the folder another engine's: listed, not reviewed.

use super::dialect::Engine;
use super::skipped::NotReviewed;
use super::source::{join_display, Entry, Reader};
use super::{file_migration, runs, LoadNote};
use crate::model::{Layout, Migration, Runner, Transaction};
use anyhow::Result;

pub(super) const LOCK_FILE: &str = "migration_lock.toml";
pub(super) const SCRIPT: &str = "migration.sql";

/// Prisma's `migrate deploy` sends migration.sql as one script without `BEGIN`: one implicit
/// transaction when it holds several statements.
pub(super) fn runner() -> (Transaction, Runner) {
    (
        Transaction::Implicit,
        Runner::default_of("Prisma: `migrate deploy` sends migration.sql as one script, no BEGIN")
            .one_query(),
    )
}

/// Whether a folder is a Prisma migrations folder: it has `migration_lock.toml`, or numbered
/// sub-folders holding `migration.sql`.
pub(super) fn is_root(entries: &[Entry], reader: &mut Reader) -> bool {
    if entries
        .iter()
        .any(|e| e.is_file() && e.file_name() == LOCK_FILE)
    {
        return true;
    }
    entries.iter().any(|e| is_migration_dir(e, reader))
}

/// A numbered folder holding `migration.sql`.
pub(super) fn is_migration_dir(entry: &Entry, reader: &mut Reader) -> bool {
    entry.is_dir
        && entry.name.starts_with(|c: char| c.is_ascii_digit())
        && reader.has_file(&entry.path, &entry.display, SCRIPT)
}

/// The engine `migration_lock.toml` names, or a note when it cannot be read.
fn provider(entries: &[Entry], reader: &mut Reader) -> Result<(Option<Engine>, Option<String>)> {
    let Some(lock) = entries
        .iter()
        .find(|e| e.is_file() && e.file_name() == LOCK_FILE)
    else {
        return Ok((None, None));
    };
    let loaded = reader.read(&lock.path, &lock.display)?;
    let table = match loaded.file.text.parse::<toml::Table>() {
        Ok(t) => t,
        Err(err) => {
            return Ok((
                None,
                Some(format!(
                    "{} is not valid TOML ({}); the engine is taken from the SQL",
                    lock.display,
                    err.message()
                )),
            ))
        }
    };
    let word = table
        .get("provider")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    Ok((Engine::from_word(word), None))
}

/// Every Prisma migration of a folder, in the order `migrate deploy` applies them.
pub(super) fn build(
    entries: &[Entry],
    reader: &mut Reader,
    skipped: &mut Vec<NotReviewed>,
) -> Result<Vec<Migration>> {
    let (engine, problem) = provider(entries, reader)?;
    let mut dirs: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.is_dir && e.name.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    dirs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for dir in dirs {
        let display = join_display(&dir.display, SCRIPT);
        if !reader.has_file(&dir.path, &dir.display, SCRIPT) {
            skipped.push(NotReviewed {
                path: dir.display.clone(),
                version: Some(dir.name.clone()),
                reason: "a migration folder without migration.sql: `prisma migrate deploy` \
                         fails on it"
                    .to_string(),
            });
            continue;
        }
        if let Some(other) = engine.filter(|e| *e != Engine::Postgres) {
            skipped.push(NotReviewed {
                path: display,
                version: Some(dir.name.clone()),
                reason: format!(
                    "migration_lock.toml says the provider is {other}: not PostgreSQL, not \
                     reviewed"
                ),
            });
            continue;
        }
        let loaded = reader.read(&dir.path.join(SCRIPT), &display)?;
        let name = dir
            .name
            .split_once('_')
            .map_or(dir.name.as_str(), |(_, n)| n);
        let mut m = file_migration(
            Layout::Prisma,
            &loaded,
            Some(dir.name.clone()),
            name.to_string(),
            true,
        );
        let (transaction, by) = runner();
        runs(&mut m.up, transaction, by);
        if let Some(message) = &problem {
            m.load_notes.push(LoadNote {
                offset: 0,
                message: message.clone(),
            });
        }
        out.push(m);
    }
    Ok(out)
}
