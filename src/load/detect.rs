//! Layout detection for a folder (names first, then contents) and for a lone text (contents
//! only). The rules are listed in the `load` module documentation.

use super::source::{Entry, Reader};
use super::text::leading_digits;
use super::{alembic, atlas, authelia, dbmate, diesel, flyway, goose, liquibase, pairs, prisma};
use crate::model::Layout;
use anyhow::Result;

/// The framework a text's markers name, if any: a Liquibase header, alembic sections, then
/// goose annotations, then dbmate directives.
pub(super) fn marked(text: &str) -> Option<Layout> {
    if liquibase::has_header(text) {
        Some(Layout::Liquibase)
    } else if alembic::has_markers(text) {
        Some(Layout::Alembic)
    } else if goose::has_markers(text) {
        Some(Layout::Goose)
    } else if dbmate::has_markers(text) {
        Some(Layout::Dbmate)
    } else {
        None
    }
}

/// The layout of one text (stdin, a lone file): its markers, else plain.
pub(super) fn text(text: &str) -> Layout {
    marked(text).unwrap_or(Layout::Plain)
}

/// sqlx's timestamp versions: `%Y%m%d%H%M%S`, 14 digits, then `_`.
fn sqlx_timestamp_name(name: &str) -> bool {
    leading_digits(name).is_some_and(|d| d.len() == 14) && name.as_bytes().get(14) == Some(&b'_')
}

fn is_reversible_name(name: &str) -> bool {
    pairs::parse_name(name).is_some_and(|n| n.kind != pairs::Kind::Simple)
}

/// The layout of a folder's entries, or `None` when nothing in it looks like a migration.
pub(super) fn folder(entries: &[Entry], reader: &mut Reader) -> Result<Option<Layout>> {
    let files: Vec<&Entry> = entries.iter().filter(|e| !e.is_dir).collect();
    let diesel_dirs = entries
        .iter()
        .filter(|e| diesel::is_migration_dir(e))
        .count();
    let flyway_files = files.iter().filter(|e| flyway::is_script(&e.name)).count();
    let sql: Vec<&Entry> = files
        .iter()
        .copied()
        .filter(|e| e.name.ends_with(".sql"))
        .collect();
    let numbered: Vec<&Entry> = sql
        .iter()
        .copied()
        .filter(|e| leading_digits(&e.name).is_some())
        .collect();

    if prisma::is_root(entries, reader) {
        return Ok(Some(Layout::Prisma));
    }
    if atlas::is_root(entries) {
        return Ok(Some(Layout::Atlas));
    }
    if diesel_dirs > 0 && diesel_dirs >= numbered.len().max(flyway_files) {
        return Ok(Some(Layout::Diesel));
    }
    if authelia::is_folder(entries) {
        return Ok(Some(Layout::Authelia));
    }
    if flyway_files > 0 && flyway_files >= numbered.len() {
        return Ok(Some(Layout::Flyway));
    }

    // Markers inside the files beat naming: goose, dbmate and alembic all use plain-looking
    // numbered (or arbitrary) names.
    let mut votes = [
        (Layout::Liquibase, 0usize),
        (Layout::Goose, 0usize),
        (Layout::Dbmate, 0),
        (Layout::Alembic, 0),
    ];
    // `.up.sql`/`.down.sql` files without goose annotations: golang-migrate/sqlx naming,
    // which goose's `<n>_<name>.sql` pattern would otherwise swallow.
    let mut reversible_unmarked = 0usize;
    for entry in &sql {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let found = marked(&loaded.file.text);
        if let Some(layout) = found {
            if let Some(vote) = votes.iter_mut().find(|(l, _)| *l == layout) {
                vote.1 += 1;
            }
        }
        if found != Some(Layout::Goose) && is_reversible_name(&entry.name) {
            reversible_unmarked += 1;
        }
    }
    // Most files win; a tie goes to the earlier of Liquibase, goose, dbmate, alembic.
    let mut best: Option<(Layout, usize)> = None;
    for (layout, n) in votes {
        if n > 0 && best.is_none_or(|(_, b)| n > b) {
            best = Some((layout, n));
        }
    }
    match best {
        // The naming wins over goose unless goose-annotated files outnumber it: a stray
        // `1_flags.up.sql` next to a goose file is still not a goose migration.
        Some((Layout::Goose, n)) if reversible_unmarked >= n => {
            return pairs::classify(entries, reader).map(Some);
        }
        Some((layout, _)) => return Ok(Some(layout)),
        None => {}
    }

    if numbered.iter().any(|e| is_reversible_name(&e.name)) {
        return pairs::classify(entries, reader).map(Some);
    }
    if !numbered.is_empty() {
        let all_timestamps = numbered.iter().all(|e| sqlx_timestamp_name(&e.name));
        return Ok(Some(if all_timestamps {
            Layout::Sqlx
        } else {
            Layout::Plain
        }));
    }
    Ok((!sql.is_empty()).then_some(Layout::Plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_markers() {
        assert_eq!(text("-- Running upgrade  -> a\nSELECT 1;"), Layout::Alembic);
        assert_eq!(text("-- +goose Up\nSELECT 1;"), Layout::Goose);
        assert_eq!(
            text("--liquibase formatted sql\n--changeset a:1\nSELECT 1;"),
            Layout::Liquibase
        );
        assert_eq!(
            text("-- migrate:up\nSELECT 1;\n-- migrate:down\n"),
            Layout::Dbmate
        );
        assert_eq!(
            text("BEGIN;\n--\n-- Add field\n--\nALTER TABLE a ADD b int;\nCOMMIT;"),
            Layout::Plain
        );
    }

    #[test]
    fn timestamps() {
        assert!(sqlx_timestamp_name("20240101120000_init.sql"));
        assert!(!sqlx_timestamp_name("2024010112000_init.sql"));
        assert!(!sqlx_timestamp_name("20240101120000init.sql"));
    }
}
