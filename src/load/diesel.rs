//! diesel: one folder per migration, `<version>_<name>/up.sql` (+ optional `down.sql` and
//! `metadata.toml`). As diesel does, the version is the folder name up to the first `_` with
//! dashes removed (`2024-01-01-120000` → `20240101120000`, the value diesel records in
//! `__diesel_schema_migrations`), and folders are ordered by that version, so the dashed and
//! the compact timestamp styles interleave correctly.
//!
//! Transactions (diesel_migrations `MigrationHarness::run_migration` and
//! `file_based_migrations.rs`): the file is sent with one `batch_execute` (libpq's `PQexec`,
//! one simple query), inside `conn.transaction(..)` unless `metadata.toml` says
//! `run_in_transaction = false`, in which case PostgreSQL runs the several statements of the
//! file as one implicit transaction. `down.sql` follows the same metadata.

use super::source::{display_path, Entry, Reader};
use super::{attach_down_with, file_migration_with};
use crate::model::{Layout, LoadNote, Migration, Runner, Transaction};
use anyhow::Result;
use std::path::Path;

/// Whether a folder entry is a diesel migration: a name starting with a digit and an `up.sql`.
pub(super) fn is_migration_dir(entry: &Entry) -> bool {
    entry.is_dir
        && entry.name.starts_with(|c: char| c.is_ascii_digit())
        && entry.path.join("up.sql").is_file()
}

/// `(version, name)` of a migration folder name.
fn parse_name(dir_name: &str) -> (Option<String>, String) {
    match dir_name.split_once('_') {
        Some((version, name)) => (Some(version.replace('-', "")), name.to_string()),
        None if dir_name.starts_with(|c: char| c.is_ascii_digit()) => {
            (Some(dir_name.replace('-', "")), dir_name.to_string())
        }
        None => (None, dir_name.to_string()),
    }
}

/// Reads `metadata.toml`'s `run_in_transaction`: `Some` when the file sets it, `None` for
/// diesel's default (true); a file that is not TOML is reported and treated as absent.
fn run_in_transaction(
    dir: &Path,
    display: &str,
    reader: &mut Reader,
) -> Result<(Option<bool>, Option<String>)> {
    let path = dir.join("metadata.toml");
    if !path.is_file() {
        return Ok((None, None));
    }
    let shown = super::source::join_display(display, "metadata.toml");
    let loaded = reader.read(&path, &shown)?;
    match loaded.file.text.parse::<toml::Table>() {
        Ok(table) => Ok((
            table
                .get("run_in_transaction")
                .and_then(toml::Value::as_bool),
            None,
        )),
        Err(err) => Ok((
            None,
            Some(format!(
                "{shown} is not valid TOML ({}); assuming run_in_transaction = true",
                err.message()
            )),
        )),
    }
}

/// diesel's default: the file in `BEGIN` … `COMMIT`, sent in one `batch_execute`.
pub(super) fn default_runner() -> Runner {
    Runner::default_of("diesel: BEGIN … COMMIT around the file (run_in_transaction defaults to true), sent in one batch_execute").one_query()
}

/// How diesel sends a file of a migration whose metadata says `run_in_transaction`.
fn runner(run_in_transaction: bool, from_toml: bool) -> (Transaction, Runner) {
    match (run_in_transaction, from_toml) {
        (true, false) => (Transaction::File, default_runner()),
        (true, true) => (
            Transaction::File,
            Runner::marker(
                "diesel: metadata.toml run_in_transaction = true: BEGIN … COMMIT around the \
                 file, sent in one batch_execute",
            )
            .one_query(),
        ),
        (false, _) => (
            Transaction::Implicit,
            Runner::marker(
                "diesel: metadata.toml run_in_transaction = false: the file is sent in one \
                 batch_execute without BEGIN, which PostgreSQL runs as one implicit transaction",
            )
            .one_query(),
        ),
    }
}

/// The migration held by one diesel folder.
pub(super) fn load_one(dir: &Path, display: &str, reader: &mut Reader) -> Result<Migration> {
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display_path(dir));
    let (version, name) = parse_name(&dir_name);
    let (setting, toml_problem) = run_in_transaction(dir, display, reader)?;
    let (tx, how) = runner(setting.unwrap_or(true), setting.is_some());
    let up = reader.read(
        &dir.join("up.sql"),
        &super::source::join_display(display, "up.sql"),
    )?;
    let mut m = file_migration_with(Layout::Diesel, &up, version, name, tx, how.clone());
    if let Some(message) = toml_problem {
        m.load_notes.push(LoadNote { offset: 0, message });
    }
    let down_path = dir.join("down.sql");
    if down_path.is_file() {
        let down = reader.read(
            &down_path,
            &super::source::join_display(display, "down.sql"),
        )?;
        attach_down_with(&mut m, &down, tx, how);
    }
    Ok(m)
}

/// Every diesel migration folder in a folder, ordered by version.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut dirs: Vec<&Entry> = entries.iter().filter(|e| is_migration_dir(e)).collect();
    dirs.sort_by_key(|e| (parse_name(&e.name).0, e.name.clone()));
    dirs.into_iter()
        .map(|e| load_one(&e.path, &e.display, reader))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_drop_dashes() {
        assert_eq!(
            parse_name("2024-01-01-120000_create_users"),
            (Some("20240101120000".into()), "create_users".into())
        );
        assert_eq!(
            parse_name("00000000000000_diesel_initial_setup"),
            (Some("00000000000000".into()), "diesel_initial_setup".into())
        );
    }
}
