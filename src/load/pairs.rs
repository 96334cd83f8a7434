//! sqlx and golang-migrate: both name files `<version>_<description>.up.sql` / `.down.sql`
//! (sqlx also accepts a plain `<version>_<description>.sql`), pair up and down by version and
//! order by the version's integer value. They differ in how they send a file (see
//! [`runner`]):
//!
//! - sqlx wraps each file in `BEGIN` … `COMMIT` and sends it as one query; a file that starts
//!   with `-- no-transaction` (sqlx's exact `starts_with` check) is sent as one query without
//!   the wrap, which PostgreSQL runs as one implicit transaction when it holds several
//!   statements.
//! - golang-migrate's postgres driver sends the whole file in one `Exec`: one implicit
//!   transaction, whatever the file says (an explicit `BEGIN` inside only turns it into an
//!   explicit one, as PostgreSQL does in a multi-statement query). Its `x-multi-statement`
//!   URL option splits the file instead; migsafe cannot see the URL, so that is declared in
//!   migsafe.toml.
//!
//! Telling them apart (a folder with `.up.sql` files) is a heuristic, see [`classify`].

use super::source::{Entry, Loaded, Reader};
use super::text::strip_zeros;
use super::{attach_down_with, duplicate_note, file_migration_with, stem};
use crate::model::{Layout, Migration, Runner, Transaction};
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

/// How `layout`'s runner sends a file with this text, and why migsafe believes it.
fn runner(layout: Layout, text: &str) -> (Transaction, Runner) {
    match layout {
        // database/postgres/postgres.go `Run`: io.ReadAll, then one ExecContext without
        // arguments, which lib/pq and pgx send as one simple query.
        Layout::GolangMigrate => (
            Transaction::Implicit,
            Runner::default_of(
                "golang-migrate: the postgres driver sends the whole file in one Exec, one \
                 implicit transaction (x-multi-statement=true in the URL would split it: \
                 declare that in migsafe.toml)",
            )
            .one_query(),
        ),
        // sqlx-postgres migrate.rs `apply`: `no_tx` runs `execute_migration` on the bare
        // connection, else inside `begin()`; both send the file with one `execute`, a simple
        // query (no arguments).
        _ if !sqlx_transactional(text) => (
            Transaction::Implicit,
            Runner::marker(
                "sqlx: `-- no-transaction` first line: the file is sent as one query without \
                 BEGIN, which PostgreSQL runs as one implicit transaction",
            )
            .one_query(),
        ),
        _ => (
            Transaction::File,
            Runner::default_of("sqlx: BEGIN … COMMIT around the file, sent as one query")
                .one_query(),
        ),
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
/// `<version>_<name>.sql` without goose/dbmate/alembic markers), golang-migrate when every version looks like golang-migrate's,
/// sqlx otherwise (the ambiguous case, e.g. 14-digit timestamps both can make).
pub(super) fn classify(entries: &[Entry], reader: &mut Reader) -> Result<Layout> {
    let names: Vec<(&Entry, Name)> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| parse_name(&e.name).map(|n| (e, n)))
        .collect();
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
        let (tx, how) = runner(layout, &loaded.file.text);
        let mut m = file_migration_with(
            layout,
            &loaded,
            Some(name.value.to_string()),
            name.description.clone(),
            tx,
            how,
        );
        let first_of_version = out.last().and_then(|p| p.version.clone()) != m.version;
        if name.kind == Kind::Up && first_of_version {
            if let Some((down, _)) = downs.iter().find(|(_, d)| d.value == name.value) {
                let loaded = reader.read(&down.path, &down.display)?;
                let (tx, how) = runner(layout, &loaded.file.text);
                attach_down_with(&mut m, &loaded, tx, how);
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
    let (tx, how) = runner(layout, &loaded.file.text);
    file_migration_with(layout, loaded, version, name, tx, how)
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
        let sqlx = |text| runner(Layout::Sqlx, text);
        assert_eq!(sqlx("CREATE TABLE t ();").0, Transaction::File);
        let (tx, how) = sqlx("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);");
        assert_eq!(tx, Transaction::Implicit);
        assert!(how.marker && how.one_query, "{how:?}");
        // golang-migrate sends any file in one Exec, also one that writes its own BEGIN.
        for text in ["BEGIN;\nCOMMIT;", "CREATE TABLE t ();"] {
            let (tx, how) = runner(Layout::GolangMigrate, text);
            assert_eq!(tx, Transaction::Implicit, "{text}");
            assert!(!how.marker && how.one_query);
        }
    }
}
