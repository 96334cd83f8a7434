//! The runner model's last word after loading (issue #10): a declared runner from
//! migsafe.toml (`[[runner]] path = "schema/**" transaction = "statement"`) or
//! `--transaction`, for the runners migsafe cannot know; and, once the statements are parsed,
//! what a framework decides from them (Flyway running a script of `CREATE INDEX
//! CONCURRENTLY` without a transaction).
//!
//! Precedence, strongest first: the part's own marker that its framework honours
//! (`-- no-transaction`, `-- +goose NO TRANSACTION`, `metadata.toml`, Flyway's
//! `executeInTransaction`, dbmate's `transaction:false`); `--transaction`; the first
//! `[[runner]]` whose `path` matches the part's file; the layout's default. A declaration
//! replaces a default, never a marker: the framework would still obey the marker.

use super::flyway;
use crate::config::{RunnerRule, Settings};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, Statement, Transaction};
use std::path::{Component, Path, PathBuf};

/// What the review does after loading: the declared runners of `settings`, and no down file
/// reviewed as a forward migration.
pub fn declare_runners(migrations: &mut Vec<Migration>, settings: &Settings) {
    declare(
        migrations,
        &settings.runners,
        settings.transaction,
        &settings.root,
    );
    drop_down_files(migrations);
}

/// Removes a migration whose up file is another migration's down part: given a folder and
/// one of its `.down.sql` files, or a down file the folder pairs, the down file is that
/// migration's rollback (reviewed with it, as the down direction), never a forward migration.
pub fn drop_down_files(migrations: &mut Vec<Migration>) {
    let downs: Vec<(usize, String)> = migrations
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.down.as_ref().map(|d| (i, d.file.display.clone())))
        .collect();
    if downs.is_empty() {
        return;
    }
    let mut index = 0;
    migrations.retain(|m| {
        let i = index;
        index += 1;
        !downs
            .iter()
            .any(|(j, display)| *j != i && *display == m.up.file.display)
    });
}

/// Applies the declared runners to every part whose mode is not fixed by its own marker.
pub fn declare(
    migrations: &mut [Migration],
    rules: &[RunnerRule],
    flag: Option<Transaction>,
    root: &Path,
) {
    if rules.is_empty() && flag.is_none() {
        return;
    }
    let root = absolute(root);
    for m in migrations {
        let parts = std::iter::once(&mut m.up).chain(m.down.as_mut());
        for part in parts {
            if part.runner.marker {
                continue;
            }
            if let Some(mode) = flag {
                set(part, mode, format!("--transaction {}", flag_word(mode)));
                continue;
            }
            let names = candidates(&part.file.display, &root);
            let rule = rules
                .iter()
                .find(|r| names.iter().any(|n| r.matcher.is_match(n)));
            if let Some(rule) = rule {
                let mut source = format!(
                    "migsafe.toml: [[runner]] path = {:?} transaction = \"{}\"",
                    rule.path,
                    flag_word(rule.transaction)
                );
                if let Some(note) = rule.note.as_deref().filter(|n| !n.trim().is_empty()) {
                    source = format!("{source} ({})", note.trim());
                }
                set(part, rule.transaction, source);
            }
        }
    }
}

/// The word `--transaction` and `[[runner]]` use for a mode.
fn flag_word(mode: Transaction) -> &'static str {
    mode.as_str()
}

fn set(part: &mut Part, mode: Transaction, source: String) {
    part.transaction = mode;
    part.runner = Runner {
        source,
        marker: false,
        // A declared "implicit" runner sends the file as one query by definition; for the
        // others migsafe does not know, and statement by statement is what psql does.
        one_query: mode == Transaction::Implicit,
    };
}

/// The names a `[[runner]]` glob is matched against: the path as shown (relative to the
/// current directory) and the path relative to the folder of migsafe.toml.
fn candidates(display: &str, root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if display.is_empty() || display == "-" {
        return out;
    }
    out.push(slashes(display.trim_start_matches("./")));
    let file = absolute(Path::new(display));
    if let Ok(relative) = file.strip_prefix(root) {
        let parts: Vec<String> = relative
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if !parts.is_empty() {
            out.push(parts.join("/"));
        }
    }
    out
}

fn slashes(path: &str) -> String {
    path.replace('\\', "/")
}

/// `path` made absolute and, where the file system allows, canonical, so that a symlinked
/// checkout and `..` compare equal.
fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// After parsing: the framework's own decisions that depend on the statements (Flyway, see
/// [`flyway::settle`]). Returns whether the up and the down part changed mode, so that the
/// caller marks their statements again; a framework refusal becomes a load note.
pub fn settle(migration: &mut Migration, up: &[Statement], down: &[Statement]) -> (bool, bool) {
    if migration.layout != Layout::Flyway {
        return (false, false);
    }
    let mut notes: Vec<LoadNote> = Vec::new();
    let (up_changed, note) = flyway::settle(&mut migration.up, up);
    notes.extend(note);
    let down_changed = match migration.down.as_mut() {
        Some(part) => {
            let (changed, note) = flyway::settle(part, down);
            // Notes point into the up file; name the undo script instead.
            notes.extend(note.map(|n| LoadNote {
                offset: 0,
                message: format!("undo script {}: {}", part.file.display, n.message),
            }));
            changed
        }
        None => false,
    };
    migration.load_notes.extend(notes);
    (up_changed, down_changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn loaded(display: &str, text: &str) -> Migration {
        crate::load::load_text(display, text, None)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_declared_runner_replaces_the_default_but_not_a_marker() {
        let settings = Settings::from_toml(
            "[[runner]]\npath = \"schema/**\"\ntransaction = \"statement\"\nnote = \"temporal-sql-tool\"\n",
            ".".into(),
        )
        .unwrap();
        let mut ms = vec![
            loaded("schema/v1.0/001_base.sql", "CREATE TABLE t (id int);"),
            loaded("other/001_base.sql", "CREATE TABLE t (id int);"),
            loaded(
                "schema/v1.1/002.sql",
                "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);",
            ),
        ];
        declare(&mut ms, &settings.runners, None, Path::new("."));
        assert_eq!(ms[0].up.transaction, Transaction::Statement);
        assert!(
            ms[0].up.runner.source.contains("schema/**")
                && ms[0].up.runner.source.contains("temporal-sql-tool"),
            "{}",
            ms[0].up.runner.source
        );
        assert_eq!(ms[1].up.transaction, Transaction::Unknown);
        assert!(ms[2].up.runner.marker);
        assert!(ms[2].up.runner.source.starts_with("goose"));
    }

    #[test]
    fn the_flag_applies_everywhere_markers_do_not_speak() {
        let mut ms = vec![
            loaded("a.sql", "CREATE TABLE t (id int);"),
            loaded(
                "b.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);",
            ),
        ];
        declare(&mut ms, &[], Some(Transaction::File), Path::new("."));
        assert_eq!(ms[0].up.transaction, Transaction::File);
        assert_eq!(ms[0].up.runner.source, "--transaction file");
        assert_eq!(ms[1].up.transaction, Transaction::Statement);
    }

    #[test]
    fn a_down_file_given_next_to_its_pair_is_not_a_forward_migration() {
        let dir = tempfile::tempdir().unwrap();
        let up = dir.path().join("000001_add_index.up.sql");
        let down = dir.path().join("000001_add_index.down.sql");
        std::fs::write(&up, "CREATE INDEX i ON t (a);").unwrap();
        std::fs::write(&down, "DROP INDEX i;").unwrap();
        // With the pairing layout the down file belongs to the up migration.
        let mut paired = crate::load::load(
            &[up.clone(), down.clone()],
            Some(Layout::GolangMigrate),
            &mut std::io::empty(),
        )
        .unwrap();
        drop_down_files(&mut paired);
        assert_eq!(
            paired.len(),
            1,
            "{:?}",
            paired.iter().map(|m| &m.path).collect::<Vec<_>>()
        );
        let shown = paired[0].down.as_ref().unwrap().file.display.clone();
        // However a down file arrives as a forward migration, its pair claims it.
        paired.push(loaded(&shown, "DROP INDEX i;"));
        paired.insert(0, loaded("other.sql", "SELECT 1;"));
        drop_down_files(&mut paired);
        let paths: Vec<&str> = paired.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert_eq!(paths[0], "other.sql");
        assert!(paired[1].down.is_some());
    }

    #[test]
    fn globs_match_paths_relative_to_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("schema/v1/001.sql");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "SELECT 1;").unwrap();
        let names = candidates(&file.display().to_string(), &absolute(dir.path()));
        assert!(
            names.contains(&"schema/v1/001.sql".to_string()),
            "{names:?}"
        );
        assert!(candidates("-", dir.path()).is_empty());
    }
}
