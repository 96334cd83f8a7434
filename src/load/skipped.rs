//! Files migsafe finds but does not review, each with the reason a reader can act on (issue #10:
//! nothing is dropped silently).
//!
//! After a layout has built its migrations, every entry of the folder it did not use is looked
//! at once. Entries that cannot be migrations at all (`README.md`, `.toml`/`.json` companions,
//! editor files) are left out of the list; everything that looks like one is listed: a file
//! with an SQL extension in any case (`.sql`, `.SQL`, `.sql.sqlite`), a numbered file of any
//! kind (`00002_seed.go`), a numbered sub-folder a layout does not descend into, and special
//! files (FIFOs, sockets, devices), which are never opened.

use super::source::Entry;
use crate::model::Layout;

/// A file (or folder) migsafe found and did not review.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotReviewed {
    /// As reports show paths.
    pub path: String,
    /// The version it would have, when the name says (or the changeset id).
    pub version: Option<String>,
    pub reason: String,
}

impl NotReviewed {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        NotReviewed {
            path: path.into(),
            version: None,
            reason: reason.into(),
        }
    }
}

/// The reason of a special file.
pub const SPECIAL_FILE: &str =
    "not a regular file (a FIFO, socket or device): skipped without opening it";

/// The reason of a folder among several that holds no migration.
pub fn empty_folder(looked_for: &str) -> String {
    format!("holds no migration (looked for {looked_for})")
}

/// Whether an entry a layout left out looks like a migration (and so must be listed).
fn looks_like_migration(entry: &Entry) -> bool {
    let name = entry.file_name();
    if entry.special {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    let numbered = name.starts_with(|c: char| c.is_ascii_digit());
    if entry.is_dir {
        return numbered;
    }
    lower.ends_with(".sql") || lower.contains(".sql.") || numbered && !is_companion(&lower)
}

/// Files layouts read beside the SQL, or that are plainly documentation.
fn is_companion(lower: &str) -> bool {
    [
        ".toml", ".json", ".md", ".txt", ".conf", ".sum", ".yaml", ".yml", ".xml",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// The reason of a regular file named on the command line that is documentation or a
/// companion (`README.md`, `atlas.sum`, `manifest.json`): not read as SQL. Files with any other
/// name are read, since `<(alembic upgrade --sql)` and hand-named scripts have no `.sql`.
pub fn not_sql(file_name: &str) -> Option<String> {
    let lower = file_name.to_ascii_lowercase();
    if !is_companion(&lower) {
        return None;
    }
    let ext = file_name.rsplit_once('.').map_or("", |(_, e)| e);
    Some(format!(
        "a .{ext} file, not SQL: migsafe reviews SQL migrations only"
    ))
}

/// What a layout's migration names look like, for "does not fit" reasons.
pub fn naming(layout: Layout) -> &'static str {
    match layout {
        Layout::Plain => "a leading number, e.g. 001_init.sql",
        Layout::Sqlx => "<version>_<description>.sql or .up.sql/.down.sql",
        Layout::GolangMigrate => "<version>_<title>.up.sql / .down.sql",
        Layout::Diesel => "<version>_<name>/up.sql folders",
        Layout::Goose => "<version>_<name>.sql with -- +goose Up",
        Layout::Dbmate => "<version>_<name>.sql with -- migrate:up",
        Layout::Flyway => "V<version>__<description>.sql, U…, R__…",
        Layout::Alembic => "offline SQL with -- Running upgrade sections",
        Layout::Popx => "<version>_<name>[.<dialect>][.autocommit].up.sql / .down.sql",
        Layout::Prisma => "<timestamp>_<name>/migration.sql",
        Layout::Atlas => "<version>_<name>.sql listed in atlas.sum",
        Layout::Liquibase => "files starting with --liquibase formatted sql",
        Layout::Django => "<number>_<name>.py in an app's migrations/ folder",
        Layout::Temporal => "v<version>/ folders with a manifest.json",
        Layout::Dolphinscheduler => "<version>_schema/<engine>/ folders",
        Layout::Authelia => "V<version>.<name>[.<provider>].up.sql / .down.sql",
    }
}

/// Why `layout` leaves `entry` out, when the entry looks like a migration; `None` for files
/// that are not worth listing (documentation, companions).
pub fn reason(layout: Layout, entry: &Entry) -> Option<String> {
    if !looks_like_migration(entry) {
        return None;
    }
    if entry.special {
        return Some(SPECIAL_FILE.to_string());
    }
    let name = entry.file_name();
    let lower = name.to_ascii_lowercase();
    if entry.is_dir {
        return Some(format!(
            "a numbered sub-folder: {layout} does not read folders here (name it to review it)"
        ));
    }
    if !name.ends_with(".sql") && lower.ends_with(".sql") {
        return Some(
            "upper-case .SQL extension: migration tools match `.sql` exactly and skip it; \
             rename it to review it"
                .to_string(),
        );
    }
    if !lower.ends_with(".sql") && !lower.contains(".sql.") {
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        return Some(if ext.is_empty() {
            "not an SQL file: migsafe reviews SQL migrations only".to_string()
        } else {
            format!("a .{ext} file, not SQL: migsafe reviews SQL migrations only")
        });
    }
    if entry.name.ends_with(".down.sql") {
        return Some(
            "a down file without an up file of the same version: never run forward, and \
             no migration to be the rollback of"
                .to_string(),
        );
    }
    Some(match layout {
        Layout::Flyway if name.starts_with('B') => {
            "a Flyway baseline script: Flyway runs it only to baseline an empty database"
                .to_string()
        }
        Layout::Sqlx if entry.name.starts_with(|c: char| c.is_ascii_digit()) => {
            "its version does not fit sqlx's BIGINT: sqlx refuses it".to_string()
        }
        _ => format!(
            "its name does not fit the {layout} layout ({}): the framework does not run it \
             (name the file to review it on its own)",
            naming(layout)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(name: &str, is_dir: bool) -> Entry {
        Entry {
            name: name.to_string(),
            path: PathBuf::from(name),
            display: format!("m/{name}"),
            is_dir,
            special: false,
        }
    }

    #[test]
    fn documentation_and_companions_are_not_listed() {
        for name in [
            "README.md",
            "atlas.sum",
            "migration_lock.toml",
            ".keep",
            "notes",
        ] {
            assert_eq!(reason(Layout::Plain, &entry(name, false)), None, "{name}");
        }
        assert_eq!(reason(Layout::Plain, &entry("legacy", true)), None);
    }

    #[test]
    fn migration_looking_files_get_a_reason() {
        let r = |name: &str| reason(Layout::Plain, &entry(name, false)).unwrap();
        assert!(r("002_ADD.SQL").starts_with("upper-case .SQL"));
        assert!(r("00002_seed.go").starts_with("a .go file, not SQL"));
        assert!(r("3_x.down.sql").starts_with("a down file without an up file"));
        assert!(r("fix.sql").contains("does not fit the plain layout"));
        assert!(reason(Layout::Plain, &entry("2024_old", true))
            .unwrap()
            .starts_with("a numbered sub-folder"));
        let mut fifo = entry("4_pipe.sql", false);
        fifo.special = true;
        assert_eq!(reason(Layout::Plain, &fifo).unwrap(), SPECIAL_FILE);
    }
}
