//! sqlx and golang-migrate: both name files `<version>_<description>.up.sql` / `.down.sql`
//! (sqlx also accepts a plain `<version>_<description>.sql`), pair up and down by version and
//! order by the version's integer value. They differ in transactions:
//!
//! - sqlx runs each file in a transaction unless it starts with `-- no-transaction` (checked
//!   exactly as sqlx does: the file's first bytes).
//! - golang-migrate's postgres driver sends the whole file as one multi-statement query, which
//!   PostgreSQL runs as one implicit transaction; a file that opens its own transaction
//!   (`BEGIN` / `START TRANSACTION` first) is not wrapped, because explicit transaction control
//!   inside a multi-statement query ends the implicit one.
//!
//! Telling them apart (a folder with `.up.sql` files) is a heuristic, see [`classify`].

use super::source::{Entry, Loaded, Reader};
use super::text::{starts_own_transaction, strip_zeros};
use super::{attach_down, duplicate_note, file_migration, stem};
use crate::model::{Layout, Migration};
use anyhow::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// sqlx's non-reversible `<version>_<description>.sql`.
    Simple,
    Up,
    Down,
}

#[derive(Debug, Clone)]
pub(super) struct Name {
    /// The digits as written (`000001`).
    pub digits: String,
    pub value: u64,
    pub description: String,
    pub kind: Kind,
}

/// Parses `<digits>_<description>[.up|.down].sql`.
pub(super) fn parse_name(file_name: &str) -> Option<Name> {
    let stem = file_name.strip_suffix(".sql")?;
    let (kind, stem) = if let Some(s) = stem.strip_suffix(".up") {
        (Kind::Up, s)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (Kind::Down, s)
    } else {
        (Kind::Simple, stem)
    };
    let (digits, description) = stem.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(Name {
        digits: digits.to_string(),
        value,
        description: description.to_string(),
        kind,
    })
}

/// Whether sqlx runs this file in a transaction: exactly sqlx's `starts_with` check.
pub(super) fn sqlx_transactional(text: &str) -> bool {
    !text.starts_with("-- no-transaction")
}

fn golang_transactional(text: &str) -> bool {
    !starts_own_transaction(text, 0)
}

fn transactional(layout: Layout, text: &str) -> bool {
    match layout {
        Layout::GolangMigrate => golang_transactional(text),
        _ => sqlx_transactional(text),
    }
}

/// Whether a version looks like golang-migrate made it: zero-padded other than sqlx's four
/// digits (`migrate create -seq` pads to 6), a 10-digit Unix timestamp (its default), or a
/// small unpadded integer (its docs' `1_init`). sqlx makes 14-digit `%Y%m%d%H%M%S` timestamps
/// or `{:04}` sequences.
fn golang_like(digits: &str) -> bool {
    let padded = digits.len() > 1 && digits.starts_with('0');
    if padded {
        return digits.len() != 4;
    }
    digits.len() <= 10
}

/// sqlx or golang-migrate for a folder holding `.up.sql`/`.down.sql` files. sqlx when anything
/// only sqlx understands is present (a `-- no-transaction` first line, a non-reversible
/// `<version>_<name>.sql` without goose/dbmate/alembic markers), unless most up files have no
/// down file: that is golang-migrate (`sqlx migrate add -r` always writes both, golang-migrate
/// projects such as harbor keep ups only); golang-migrate also when every version looks like golang-migrate's; sqlx otherwise
/// (the ambiguous case, e.g. 14-digit timestamps both can make).
pub(super) fn classify(entries: &[Entry], reader: &mut Reader) -> Result<Layout> {
    let names: Vec<(&Entry, Name)> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| parse_name(&e.name).map(|n| (e, n)))
        .collect();
    let ups: Vec<&Name> = names
        .iter()
        .map(|(_, n)| n)
        .filter(|n| n.kind == Kind::Up)
        .collect();
    let unpaired = ups
        .iter()
        .filter(|u| {
            !names
                .iter()
                .any(|(_, d)| d.kind == Kind::Down && d.value == u.value)
        })
        .count();
    if !ups.is_empty() && unpaired * 2 > ups.len() {
        return Ok(Layout::GolangMigrate);
    }
    for (entry, name) in &names {
        let loaded = reader.read(&entry.path, &entry.display)?;
        if !sqlx_transactional(&loaded.file.text) {
            return Ok(Layout::Sqlx);
        }
        // A `<n>_<name>.sql` is sqlx's non-reversible migration, unless another framework's
        // markers claim it (a goose file next to golang-migrate pairs is no sqlx evidence).
        if name.kind == Kind::Simple && super::detect::marked(&loaded.file.text).is_none() {
            return Ok(Layout::Sqlx);
        }
    }
    if !names.is_empty() && names.iter().all(|(_, n)| golang_like(&n.digits)) {
        Ok(Layout::GolangMigrate)
    } else {
        Ok(Layout::Sqlx)
    }
}

/// Every migration of a sqlx or golang-migrate folder, ordered by version.
pub(super) fn build(
    layout: Layout,
    entries: &[Entry],
    reader: &mut Reader,
) -> Result<Vec<Migration>> {
    let mut ups: Vec<(&Entry, Name)> = Vec::new();
    let mut downs: Vec<(&Entry, Name)> = Vec::new();
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some(name) = parse_name(&entry.name) else {
            continue;
        };
        // sqlx keeps versions in a BIGINT; a larger one is not a sqlx migration.
        if layout == Layout::Sqlx && i64::try_from(name.value).is_err() {
            continue;
        }
        match name.kind {
            Kind::Up => ups.push((entry, name)),
            Kind::Simple if layout == Layout::Sqlx => ups.push((entry, name)),
            Kind::Down => downs.push((entry, name)),
            Kind::Simple => {}
        }
    }
    ups.sort_by(|a, b| {
        a.1.value
            .cmp(&b.1.value)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    let mut out: Vec<Migration> = Vec::new();
    for (entry, name) in &ups {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let tx = transactional(layout, &loaded.file.text);
        let mut m = file_migration(
            layout,
            &loaded,
            Some(name.value.to_string()),
            name.description.clone(),
            tx,
        );
        let first_of_version = out.last().and_then(|p| p.version.clone()) != m.version;
        if name.kind == Kind::Up && first_of_version {
            if let Some((down, _)) = downs.iter().find(|(_, d)| d.value == name.value) {
                let loaded = reader.read(&down.path, &down.display)?;
                attach_down(&mut m, &loaded, transactional(layout, &loaded.file.text));
            }
        }
        out.push(m);
    }
    let framework = if layout == Layout::Sqlx {
        "sqlx"
    } else {
        "golang-migrate"
    };
    duplicate_note(&mut out, framework);
    Ok(out)
}

/// A lone sqlx or golang-migrate file (stdin, `--layout` on a file outside its folder).
pub(super) fn lone(layout: Layout, loaded: &Loaded, file_name: Option<&str>) -> Migration {
    let (version, name) = match file_name.and_then(parse_name) {
        Some(n) => (Some(strip_zeros(&n.digits)), n.description),
        None => (None, stem(file_name)),
    };
    let tx = transactional(layout, &loaded.file.text);
    file_migration(layout, loaded, version, name, tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = parse_name("000012_add_index.up.sql").unwrap();
        assert_eq!(
            (n.value, n.description.as_str(), n.kind),
            (12, "add_index", Kind::Up)
        );
        let n = parse_name("20240101120000_init.sql").unwrap();
        assert_eq!(n.kind, Kind::Simple);
        assert!(parse_name("init.up.sql").is_none());
        assert!(parse_name("1x_init.up.sql").is_none());
    }

    #[test]
    fn version_styles() {
        assert!(golang_like("000001"));
        assert!(golang_like("1528277032"));
        assert!(golang_like("12"));
        assert!(!golang_like("0001"));
        assert!(!golang_like("20240101120000"));
    }

    #[test]
    fn transactions() {
        assert!(!sqlx_transactional(
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"
        ));
        assert!(sqlx_transactional("--no-transaction\n"));
        assert!(!golang_transactional("BEGIN;\nCOMMIT;"));
        assert!(golang_transactional("CREATE TABLE t ();"));
    }
}
