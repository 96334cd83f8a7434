//! The people facts (PRODUCT.md §2): owner, expected results and rollback note, read from a
//! migration's leading comment block, its down part, CODEOWNERS and config.
//!
//! Precedence: the owner comes from `-- owner:`, else CODEOWNERS, else the config's
//! `owner`; the rollback from `-- rollback:`, else the down/undo part. Nothing here is
//! verified: expected results and rollbacks are `not_checked` until the execution stage
//! runs them on a disposable copy.

pub mod annotations;
pub mod codeowners;
pub mod expectation;

use crate::model::{
    ExpectStatus, Expected, Metadata, Migration, OwnerSource, Rollback, RollbackSource,
    RollbackStatus, Statement,
};
use anyhow::Result;
use codeowners::Codeowners;
use std::path::{Path, PathBuf};

/// Detail of an expected result the static run recognised as checkable.
pub const EXPECT_CHECKABLE: &str =
    "checkable only after running the migration on a disposable copy (--clone or --restore)";
/// Detail of an expected result written as free text.
pub const EXPECT_FREE_TEXT: &str = "free text: shown as written, not checked";
/// Detail of a rollback that exists but has not been run.
pub const ROLLBACK_NOT_CHECKED: &str = "verified only at execution level (--clone/--restore)";
/// Detail of a rollback declared irreversible.
pub const ROLLBACK_IRREVERSIBLE: &str = "declared irreversible";
/// Detail when there is no rollback at all.
pub const ROLLBACK_NONE: &str = "no rollback declared";

/// Where owners come from besides annotations.
#[derive(Debug, Default)]
pub struct Owners {
    pub default_owner: Option<String>,
    codeowners: Option<FoundCodeowners>,
}

/// The CODEOWNERS file in use and the repository root its patterns are relative to.
#[derive(Debug)]
struct FoundCodeowners {
    repo: PathBuf,
    file: PathBuf,
    rules: Codeowners,
}

impl Owners {
    /// Finds the repository root above `root` (the nearest directory holding `.git`, else
    /// `root`), reads its CODEOWNERS (`.github/`, root, `docs/`, `.gitlab/`) and keeps the
    /// config owner.
    pub fn discover(root: &Path, default_owner: Option<String>) -> Result<Owners> {
        let repo = codeowners::repo_root(root);
        let codeowners =
            Codeowners::find(&repo)?.map(|(file, rules)| FoundCodeowners { repo, file, rules });
        let default_owner = default_owner.filter(|o| !o.trim().is_empty());
        Ok(Owners {
            default_owner,
            codeowners,
        })
    }

    /// The CODEOWNERS file in use, if any.
    pub fn codeowners_file(&self) -> Option<&Path> {
        self.codeowners.as_ref().map(|c| c.file.as_path())
    }

    /// Owners CODEOWNERS gives the file at `path` (as shown in reports), joined by a space.
    pub fn codeowners_owner(&self, path: &str) -> Option<String> {
        let found = self.codeowners.as_ref()?;
        let relative = codeowners::relative_to(path, &found.repo)?;
        let owners = found.rules.owners_of(&relative);
        (!owners.is_empty()).then(|| owners.join(" "))
    }

    /// Owner of a migration that has no `-- owner:` annotation.
    fn fallback(&self, path: &str) -> (Option<String>, OwnerSource) {
        if let Some(owner) = self.codeowners_owner(path) {
            (Some(owner), OwnerSource::Codeowners)
        } else if let Some(owner) = &self.default_owner {
            (Some(owner.trim().to_string()), OwnerSource::Config)
        } else {
            (None, OwnerSource::None)
        }
    }
}

/// Reads a migration's metadata.
pub fn extract(migration: &Migration, down: &[Statement], owners: &Owners) -> Metadata {
    let file = &migration.up.file;
    // `get` keeps a header range that does not fit the text from panicking.
    let header = file.text.get(migration.header.clone()).unwrap_or("");
    let first_line = if header.is_empty() {
        1
    } else {
        file.line_col(migration.header.start).0
    };
    // `parse` numbers lines from 0 within the header.
    let notes = annotations::parse(header, first_line);

    let (owner, owner_source) = if notes.owners.is_empty() {
        owners.fallback(&migration.path)
    } else {
        (Some(notes.owners.join(" ")), OwnerSource::Annotation)
    };

    let expected = notes
        .expects
        .iter()
        .map(|e| Expected {
            text: e.text.clone(),
            status: ExpectStatus::NotChecked,
            detail: if expectation::parse(&e.text).is_some() {
                EXPECT_CHECKABLE
            } else {
                EXPECT_FREE_TEXT
            }
            .to_string(),
            line: e.line,
        })
        .collect();

    Metadata {
        owner,
        owner_source,
        expected,
        rollback: rollback(migration, down, &notes),
    }
}

fn rollback(
    migration: &Migration,
    down: &[Statement],
    notes: &annotations::Annotations,
) -> Rollback {
    let text = notes.rollback_text();
    if !text.trim().is_empty() {
        return declared(text, RollbackSource::Annotation, notes.irreversible());
    }
    if !down.is_empty() {
        let text = down
            .iter()
            .map(|s| s.text.trim().trim_end_matches(';').trim_end())
            .collect::<Vec<_>>()
            .join(";\n")
            + ";";
        return declared(text, RollbackSource::DownFile, false);
    }
    // A down part with no SQL whose comment says it cannot be undone (goose's
    // `-- +goose Down` followed by `-- irreversible`) is an explicit answer too.
    if let Some(part) = &migration.down {
        let said = part
            .segments
            .iter()
            .filter_map(|s| part.file.text.get(s.range.clone()))
            .flat_map(annotations::comment_lines)
            .map(|c| c.text.trim().to_string())
            .find(|c| says_irreversible(c));
        if let Some(comment) = said {
            return declared(comment, RollbackSource::DownFile, true);
        }
    }
    Rollback {
        text: String::new(),
        source: RollbackSource::None,
        status: RollbackStatus::NotChecked,
        detail: ROLLBACK_NONE.to_string(),
        irreversible: false,
    }
}

fn declared(text: String, source: RollbackSource, irreversible: bool) -> Rollback {
    Rollback {
        text,
        source,
        status: RollbackStatus::NotChecked,
        detail: if irreversible {
            ROLLBACK_IRREVERSIBLE
        } else {
            ROLLBACK_NOT_CHECKED
        }
        .to_string(),
        irreversible,
    }
}

/// Whether a comment in an otherwise empty down part declares the migration one-way.
fn says_irreversible(comment: &str) -> bool {
    let lower = comment.to_lowercase();
    [
        "irreversible",
        "not reversible",
        "cannot be reversed",
        "can't be reversed",
        "cannot be undone",
        "can't be undone",
        "no rollback",
        "no down migration",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Layout, Part, Position, Segment, SourceFile, StatementKind};
    use std::sync::Arc;

    fn part(display: &str, text: &str) -> Part {
        Part {
            file: Arc::new(SourceFile {
                display: display.to_string(),
                text: text.to_string(),
            }),
            segments: vec![Segment {
                range: 0..text.len(),
                single_statement: false,
            }],
            transaction: crate::model::Transaction::File,
            runner: crate::model::Runner::default(),
        }
    }

    /// A migration whose header is the leading comment lines of `text`.
    fn migration(text: &str, down: Option<&str>) -> Migration {
        let header_end = text
            .split_inclusive('\n')
            .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
            .map(str::len)
            .sum();
        Migration {
            path: "db/migrations/001_test.sql".to_string(),
            version: Some("001".to_string()),
            name: "test".to_string(),
            layout: Layout::Plain,
            repeatable: false,
            up: part("db/migrations/001_test.sql", text),
            down: down.map(|d| part("db/migrations/001_test.down.sql", d)),
            header: 0..header_end,
            load_notes: Vec::new(),
        }
    }

    fn statement(text: &str) -> Statement {
        Statement {
            text: text.to_string(),
            range: 0..text.len(),
            start: Position { line: 1, column: 1 },
            end: Position { line: 1, column: 1 },
            in_transaction: true,
            kind: StatementKind::Other {
                keywords: "drop index".to_string(),
            },
            parsed_by: crate::model::ParsedBy::Fallback,
            leading_comments: Vec::new(),
        }
    }

    fn owners(default_owner: Option<&str>) -> Owners {
        Owners {
            default_owner: default_owner.map(str::to_string),
            codeowners: None,
        }
    }

    #[test]
    fn header_annotations_fill_every_fact() {
        let m = migration(
            "-- owner: @payments-team @dba\n-- expect: rows <= 50000\n-- expect: orders stay readable\n-- rollback: DROP INDEX CONCURRENTLY IF EXISTS i;\nCREATE INDEX CONCURRENTLY i ON orders (a);\n",
            Some("DROP INDEX i;"),
        );
        let meta = extract(&m, &[statement("DROP INDEX i")], &owners(Some("@fallback")));
        assert_eq!(meta.owner.as_deref(), Some("@payments-team @dba"));
        assert_eq!(meta.owner_source, OwnerSource::Annotation);
        assert_eq!(meta.expected.len(), 2);
        assert_eq!(meta.expected[0].detail, EXPECT_CHECKABLE);
        assert_eq!(meta.expected[0].line, 2);
        assert_eq!(meta.expected[1].detail, EXPECT_FREE_TEXT);
        assert!(meta
            .expected
            .iter()
            .all(|e| e.status == ExpectStatus::NotChecked));
        // The annotation wins over the down file.
        assert_eq!(meta.rollback.source, RollbackSource::Annotation);
        assert_eq!(meta.rollback.text, "DROP INDEX CONCURRENTLY IF EXISTS i;");
        assert_eq!(meta.rollback.status, RollbackStatus::NotChecked);
        assert_eq!(meta.rollback.detail, ROLLBACK_NOT_CHECKED);
    }

    #[test]
    fn down_statements_are_the_rollback_when_no_annotation() {
        let m = migration(
            "CREATE TABLE a (id bigint);\n",
            Some("DROP TABLE b;\nDROP TABLE a;"),
        );
        let meta = extract(
            &m,
            &[statement("DROP TABLE b"), statement("DROP TABLE a;")],
            &owners(None),
        );
        assert_eq!(meta.rollback.source, RollbackSource::DownFile);
        assert_eq!(meta.rollback.text, "DROP TABLE b;\nDROP TABLE a;");
        assert!(!meta.rollback.irreversible);
    }

    #[test]
    fn a_down_part_that_only_says_irreversible_is_an_answer() {
        let m = migration(
            "DELETE FROM t WHERE old;\n",
            Some("-- +goose Down\n-- irreversible: the deleted rows are gone\n"),
        );
        let meta = extract(&m, &[], &owners(None));
        assert_eq!(meta.rollback.source, RollbackSource::DownFile);
        assert!(meta.rollback.irreversible);
        assert_eq!(meta.rollback.detail, ROLLBACK_IRREVERSIBLE);

        let empty = migration("DELETE FROM t WHERE old;\n", Some("-- TODO\n"));
        let meta = extract(&empty, &[], &owners(None));
        assert_eq!(meta.rollback.source, RollbackSource::None);
        assert!(!meta.rollback.irreversible);
    }

    #[test]
    fn irreversible_annotation_is_explicit() {
        let m = migration("-- rollback: irreversible\nDROP TABLE t;\n", None);
        let meta = extract(&m, &[], &owners(None));
        assert_eq!(meta.rollback.source, RollbackSource::Annotation);
        assert!(meta.rollback.irreversible);
        assert_eq!(meta.rollback.detail, ROLLBACK_IRREVERSIBLE);
    }

    #[test]
    fn owner_falls_back_to_config_then_none() {
        let m = migration("CREATE TABLE a (id bigint);\n", None);
        let meta = extract(&m, &[], &owners(Some("@config-team")));
        assert_eq!(meta.owner.as_deref(), Some("@config-team"));
        assert_eq!(meta.owner_source, OwnerSource::Config);
        let meta = extract(&m, &[], &owners(None));
        assert_eq!(meta.owner, None);
        assert_eq!(meta.owner_source, OwnerSource::None);
        assert_eq!(meta.rollback.source, RollbackSource::None);
        assert!(meta.expected.is_empty());
    }

    #[test]
    fn a_header_range_outside_the_text_is_ignored() {
        let mut m = migration("-- owner: @x\nSELECT 1;\n", None);
        m.header = 5..500;
        let meta = extract(&m, &[], &owners(None));
        assert_eq!(meta.owner, None);
        m.header = std::ops::Range { start: 3, end: 2 };
        let meta = extract(&m, &[], &owners(None));
        assert_eq!(meta.owner, None);
    }
}
