//! Atlas versioned migrations: a folder with an `atlas.sum` integrity file and
//! `<version>[_<name>].sql` files.
//!
//! - Order: file names sorted lexicographically, as Atlas sorts them.
//! - Version: the name up to the first `_` (the whole stem without one), as Atlas records it in
//!   `atlas_schema_revisions.version`.
//! - A file `atlas.sum` does not list (or a listed file that is missing) makes `atlas migrate
//!   apply` refuse the whole folder until `atlas migrate hash`: a note on the migration.
//! - Transactions: `atlas migrate apply --tx-mode` (default `file`) or the file's own
//!   `-- atlas:txmode none|file|all` directive in its header. `file` runs each file in its own
//!   transaction and `all` every pending file in one, both [`Transaction::File`] for one
//!   file; `none` executes the statements Atlas splits one by one without a transaction:
//!   [`Transaction::Statement`].

use super::source::{Entry, Reader};
use super::{file_migration, runs, text, LoadNote};
use crate::model::{Layout, Migration, Runner, Transaction};
use anyhow::Result;

pub(super) const SUM_FILE: &str = "atlas.sum";

/// Atlas runs each file in a transaction (`--tx-mode file`) unless the file's own
/// `-- atlas:txmode` directive says otherwise.
pub(super) fn runner(text: &str) -> (Transaction, Runner) {
    match txmode(text) {
        Some(mode) => (
            mode,
            Runner::marker("Atlas: the file's `-- atlas:txmode` directive"),
        ),
        None => (
            Transaction::File,
            Runner::default_of("Atlas: `migrate apply` runs each file in a transaction"),
        ),
    }
}

/// Whether a folder is an Atlas migration directory.
pub(super) fn is_root(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| e.is_file() && e.file_name() == SUM_FILE)
}

/// `(version, name)` of an Atlas file name.
pub(super) fn parse_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    if stem.is_empty() {
        return None;
    }
    Some(match stem.split_once('_') {
        Some((v, n)) if !v.is_empty() => (v.to_string(), n.to_string()),
        _ => (stem.to_string(), String::new()),
    })
}

/// The transaction mode a file's `-- atlas:txmode` directive asks for, if it has one.
pub(super) fn txmode(file_text: &str) -> Option<Transaction> {
    let header = text::comment_block(file_text, 0);
    file_text
        .get(header)
        .unwrap_or("")
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("--")?.trim();
            let mode = rest.strip_prefix("atlas:txmode")?.trim();
            match mode {
                "none" => Some(Transaction::Statement),
                "file" | "all" => Some(Transaction::File),
                _ => None,
            }
        })
}

/// The files `atlas.sum` lists (its first line is the directory's own hash).
fn summed(sum_text: &str) -> Vec<&str> {
    sum_text
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit_once(' ').map(|(name, _)| name.trim()))
        .filter(|n| !n.is_empty())
        .collect()
}

/// Every Atlas migration of a folder, in the order Atlas applies them.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let sum = match entries
        .iter()
        .find(|e| e.is_file() && e.file_name() == SUM_FILE)
    {
        Some(e) => Some(reader.read(&e.path, &e.display)?),
        None => None,
    };
    let listed: Vec<String> = sum
        .as_ref()
        .map(|s| {
            summed(&s.file.text)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut files: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.is_file() && e.name.ends_with(".sql"))
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for entry in files {
        let Some((version, name)) = parse_name(&entry.name) else {
            continue;
        };
        let loaded = reader.read(&entry.path, &entry.display)?;
        let mut m = file_migration(Layout::Atlas, &loaded, Some(version), name, true);
        let (transaction, by) = runner(&loaded.file.text);
        runs(&mut m.up, transaction, by);
        if sum.is_some() && !listed.iter().any(|l| l == entry.file_name()) {
            m.load_notes.push(LoadNote {
                offset: 0,
                message: format!(
                    "{} is not listed in atlas.sum: `atlas migrate apply` refuses the \
                     directory until `atlas migrate hash` records it",
                    entry.file_name()
                ),
            });
        }
        out.push(m);
    }
    for name in &listed {
        if !entries.iter().any(|e| e.file_name() == name) {
            if let Some(first) = out.first_mut() {
                first.load_notes.push(LoadNote {
                    offset: 0,
                    message: format!(
                        "atlas.sum lists {name}, which is missing: `atlas migrate apply` \
                         refuses the directory"
                    ),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_directives() {
        assert_eq!(
            parse_name("20240101120000_add_users.sql"),
            Some(("20240101120000".into(), "add_users".into()))
        );
        assert_eq!(parse_name("1.sql"), Some(("1".into(), String::new())));
        assert_eq!(
            txmode("-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            Some(Transaction::Statement)
        );
        assert_eq!(
            txmode("-- atlas:txmode all\nSELECT 1;"),
            Some(Transaction::File)
        );
        assert_eq!(txmode("SELECT 1;\n-- atlas:txmode none\n"), None);
        assert_eq!(
            summed("h1:abc=\n1_a.sql h1:x=\n2_b.sql h1:y=\n"),
            ["1_a.sql", "2_b.sql"]
        );
    }
}
