//! Finding migrations: files, folders or stdin; detecting the layout; ordering them as the
//! framework would; pairing up and down parts; knowing each part's transaction semantics.
//!
//! The loader never splits SQL into statements: it hands the parser byte ranges
//! ([`Segment`]s) of each file, says whether the framework wraps each part in a transaction,
//! and marks the leading comment block (`header`) that carries `-- owner:` / `-- expect:` /
//! `-- rollback:`. Problems in a file's structure become [`LoadNote`]s (reported as
//! `malformed-migration`) rather than errors, so one bad file never hides the others.
//!
//! # Paths
//!
//! - `-` reads all of stdin once (display name `-`); its layout comes from its content. Empty
//!   stdin is an error: it usually means the command that should have produced SQL failed.
//! - A folder is read without recursion, except diesel (one level: each migration is a folder)
//!   and Flyway (recursive, as Flyway scans its locations). Hidden entries are skipped.
//! - A folder that contains `up.sql` itself is one diesel migration.
//! - A file is loaded the way its folder would load it when its name fits a layout (so
//!   `20240101120000_x.up.sql` comes with its `.down.sql`, a Flyway `V` script with its `U`
//!   script and `.conf`, a diesel `up.sql`/`down.sql`/`metadata.toml` with its whole folder);
//!   otherwise it is one migration whose layout its content shows (alembic sections, goose or
//!   dbmate markers), plain by default.
//! - Several paths are concatenated in the order given, each folder ordered internally; a
//!   migration reached twice (a folder and a file in it) is kept once, where first reached.
//! - Displays are relative to the current directory when the path is under it, else as given.
//!
//! # Layout detection for a folder
//!
//! `--layout` / `layout = …` skips detection. Otherwise, in this order:
//!
//! 1. diesel: sub-folders named `<digit>…` that contain `up.sql`, at least as many as the
//!    numbered `.sql` files and Flyway scripts next to them.
//! 2. Flyway: `V<version>__<desc>.sql` / `R__<desc>.sql` files, at least as many as the other
//!    numbered `.sql` files.
//! 3. Markers inside the `.sql` files: `-- Running upgrade` (alembic), `-- +goose Up|Down`
//!    (goose), `-- migrate:up|down` (dbmate); the marker found in most files wins. The
//!    `.up.sql`/`.down.sql` naming beats goose, though: unless goose-annotated files outnumber
//!    the `.up.sql`/`.down.sql` files without goose annotations, step 4 decides (a lone
//!    `1_flags.up.sql` is golang-migrate, not a goose file missing its annotations).
//! 4. `<n>_<name>.up.sql` / `.down.sql` files: sqlx or golang-migrate. sqlx if any file starts
//!    with `-- no-transaction` or a non-reversible `<n>_<name>.sql` without another
//!    framework's markers sits next to them;
//!    golang-migrate if every version looks like one it makes (zero-padded other than sqlx's
//!    4 digits, e.g. `000001`; a 10-digit Unix timestamp; a small unpadded number like `2`);
//!    sqlx otherwise (14-digit timestamps are made by both; sqlx is the tie-breaker).
//! 5. Numbered `.sql` files: sqlx when every one is `<14-digit timestamp>_<name>.sql` (sqlx's
//!    `migrate add` naming), plain otherwise.
//! 6. Unnumbered `.sql` files only: plain, all of them in name order.
//!
//! # Files a layout ignores
//!
//! Anything that is not `.sql` (README.md, `.go` goose migrations, `.keep`), except the
//! companions a layout reads (Flyway `<script>.conf`, diesel `metadata.toml`); `.down.sql`
//! files without an up file of the same version; Flyway undo scripts without a `V` script,
//! baseline `B…` scripts; names that do not fit the layout (goose/sqlx/golang-migrate need
//! `<integer>_`, plain needs a leading number when the folder has numbered files);
//! sub-folders other than diesel's (and Flyway's, which are scanned).
//!
//! # Versions
//!
//! As the framework records them in its history table, so that pending detection can compare:
//! the integer for sqlx, golang-migrate and goose (`000012` → `12`); the digits as written for
//! dbmate and plain; the folder prefix without dashes for diesel; `1.1` for Flyway `V1_1__`
//! (no `V`, repeatables have none); the revision id for alembic.
//!
//! # Transactions (`Part::transaction`, `Part::runner`)
//!
//! Each part says how its framework's runner sends it: `File` (BEGIN … COMMIT around it),
//! `Implicit` (one multi-statement query), `Statement` (each statement committed on its own)
//! or `Unknown` (plain files: nobody says), with the source of that belief. Every layout's
//! rule, with the framework source it comes from, is in the README's layout table and
//! `notes/runner-model.md`; markers are read by each layout's module. `runner::declare` applies
//! migsafe.toml's `[[runner]]` and `--transaction` afterwards, and `runner::settle` what a
//! framework decides from the parsed statements (Flyway).
//!
//! # Down parts
//!
//! `down` is `Some` whenever the migration has a down part at all: a down/undo file exists
//! (even an empty one), or the file has a down section marker (`-- +goose Down`,
//! `-- migrate:down`, an alembic `Running downgrade` section). A part that holds only comments
//! (diesel's generated `-- This file should undo anything in up.sql`, goose's
//! `-- +goose Down` followed by `-- irreversible: …`) is kept with its comment segments and
//! parses to no statements: metadata reads those comments as a rollback note, and
//! `missing-rollback` can say "the down migration is empty" instead of "there is none".
//! `None` means the framework would find no down migration.

mod alembic;
mod dbmate;
mod detect;
mod diesel;
mod flyway;
mod goose;
mod pairs;
mod plain;
mod runner;
mod source;
mod text;

pub use runner::{declare, declare_runners, drop_down_files, settle};

use crate::model::{Layout, LoadNote, Migration, Part, Runner, Segment, Transaction};
use anyhow::{bail, Context, Result};
use source::{display_path, join_display, list_dir, read_error, Entry, Loaded, Reader};
use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Loads every migration under `paths` (`-` reads `stdin`), in the framework's order.
pub fn load(
    paths: &[PathBuf],
    layout: Option<Layout>,
    stdin: &mut dyn Read,
) -> Result<Vec<Migration>> {
    let mut reader = Reader::default();
    let mut out = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .context("Failed to read standard input")?;
            // An empty pipe usually means the generating command failed (`alembic … --sql`
            // crashed); passing the check on it would hide that.
            if bytes.iter().all(u8::is_ascii_whitespace) {
                bail!("no migrations found in standard input (it was empty)");
            }
            out.extend(from_text(&source::decode("-", bytes), None, layout));
            continue;
        }
        out.extend(load_path(path, layout, &mut reader)?);
    }
    let mut seen = HashSet::new();
    out.retain(|m| seen.insert((m.path.clone(), m.version.clone(), m.name.clone())));
    Ok(out)
}

/// Loads the migrations held in one text (stdin, a single file): alembic offline output
/// yields several, anything else one. `display` is the name reports use.
pub fn load_text(display: &str, text: &str, layout: Option<Layout>) -> Result<Vec<Migration>> {
    let loaded = source::decode(display, text.as_bytes().to_vec());
    let file_name = (display != "-").then(|| file_name_of(display));
    Ok(from_text(&loaded, file_name, layout))
}

fn file_name_of(display: &str) -> &str {
    display.rsplit('/').next().unwrap_or(display)
}

fn load_path(path: &Path, layout: Option<Layout>, reader: &mut Reader) -> Result<Vec<Migration>> {
    let display = display_path(path);
    let meta = std::fs::metadata(path).map_err(|e| read_error(&display, e))?;
    if meta.is_dir() {
        load_dir(path, &display, layout, reader)
    } else {
        load_file(path, &display, layout, reader)
    }
}

/// What the "no migrations found" error says was looked for.
fn looked_for(layout: Option<Layout>) -> &'static str {
    match layout {
        None => {
            "numbered .sql files, <version>_<name>.up.sql/.down.sql pairs, \
             V<version>__<desc>.sql (Flyway), <timestamp>_<name>/up.sql folders (diesel), \
             goose/dbmate/alembic .sql files"
        }
        Some(Layout::Plain) => "numbered .sql files such as 001_init.sql",
        Some(Layout::Sqlx) => "<version>_<description>.sql or .up.sql/.down.sql files",
        Some(Layout::GolangMigrate) => "<version>_<title>.up.sql files",
        Some(Layout::Diesel) => "<timestamp>_<name>/up.sql folders",
        Some(Layout::Goose) => "<version>_<name>.sql files",
        Some(Layout::Dbmate) => "<version>_<name>.sql files",
        Some(Layout::Flyway) => "V<version>__<description>.sql or R__<description>.sql files",
        Some(Layout::Alembic) => ".sql files with `-- Running upgrade` sections",
    }
}

fn load_dir(
    dir: &Path,
    display: &str,
    layout: Option<Layout>,
    reader: &mut Reader,
) -> Result<Vec<Migration>> {
    if matches!(layout, None | Some(Layout::Diesel)) && dir.join("up.sql").is_file() {
        return Ok(vec![diesel::load_one(dir, display, reader)?]);
    }
    let entries = list_dir(dir, display, false)?;
    let detected = match layout {
        Some(l) => Some(l),
        None => detect::folder(&entries, reader)?,
    };
    let migrations = match detected {
        Some(l) => build(l, dir, display, &entries, reader)?,
        None => Vec::new(),
    };
    if migrations.is_empty() {
        bail!(
            "no migrations found in {display} (looked for {})",
            looked_for(layout.or(detected))
        );
    }
    Ok(migrations)
}

/// The migrations of a folder whose layout is known.
fn build(
    layout: Layout,
    dir: &Path,
    display: &str,
    entries: &[Entry],
    reader: &mut Reader,
) -> Result<Vec<Migration>> {
    match layout {
        Layout::Plain => plain::build(entries, reader),
        Layout::Sqlx | Layout::GolangMigrate => pairs::build(layout, entries, reader),
        Layout::Diesel => diesel::build(entries, reader),
        Layout::Goose => goose::build(entries, reader),
        Layout::Dbmate => dbmate::build(entries, reader),
        Layout::Flyway => flyway::build(&list_dir(dir, display, true)?, reader),
        Layout::Alembic => {
            let mut out = Vec::new();
            for entry in entries
                .iter()
                .filter(|e| !e.is_dir && e.name.ends_with(".sql"))
            {
                let loaded = reader.read(&entry.path, &entry.display)?;
                if alembic::has_markers(&loaded.file.text) {
                    out.extend(alembic::migrations(&loaded));
                }
            }
            Ok(out)
        }
    }
}

/// Whether a file name fits some layout's naming, i.e. its folder may know more about it.
fn has_migration_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_digit())
        || flyway::parse_name(name).is_some()
        || flyway::script_of_conf(name).is_some_and(|s| flyway::parse_name(&s).is_some())
}

fn load_file(
    path: &Path,
    display: &str,
    layout: Option<Layout>,
    reader: &mut Reader,
) -> Result<Vec<Migration>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.to_string());
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent_display = display_path(&parent);

    // A diesel migration's files stand for the whole migration folder.
    let diesel_file = matches!(name.as_str(), "up.sql" | "down.sql" | "metadata.toml");
    if diesel_file && parent.join("up.sql").is_file() {
        let in_numbered_dir = parent.file_name().is_some_and(|n| {
            n.to_string_lossy()
                .starts_with(|c: char| c.is_ascii_digit())
        });
        if layout == Some(Layout::Diesel) || (layout.is_none() && in_numbered_dir) {
            return Ok(vec![diesel::load_one(&parent, &parent_display, reader)?]);
        }
    }

    if has_migration_name(&name) {
        let target = flyway::script_of_conf(display).unwrap_or_else(|| display.to_string());
        let own = join_display(&parent_display, &name);
        // Only trust the folder view when it names this file the way we do.
        if own == display {
            if let Some(found) = from_folder(&parent, &parent_display, &target, layout, reader) {
                if !found.is_empty() {
                    return Ok(found);
                }
            }
        }
    }

    let loaded = reader.read(path, display)?;
    Ok(from_text(&loaded, Some(&name), layout))
}

/// The migrations of `dir` that contain the file shown as `target`, when the folder can be
/// read as a layout at all; `None` sends the caller back to reading the file alone.
fn from_folder(
    dir: &Path,
    display: &str,
    target: &str,
    layout: Option<Layout>,
    reader: &mut Reader,
) -> Option<Vec<Migration>> {
    let entries = list_dir(dir, display, false).ok()?;
    let layout = match layout {
        Some(l) => l,
        None => detect::folder(&entries, reader).ok()??,
    };
    let built = build(layout, dir, display, &entries, reader).ok()?;
    Some(
        built
            .into_iter()
            .filter(|m| {
                m.up.file.display == target
                    || m.down.as_ref().is_some_and(|d| d.file.display == target)
            })
            .collect(),
    )
}

/// The migrations of one text whose layout its content (or `layout`) gives.
fn from_text(loaded: &Loaded, file_name: Option<&str>, layout: Option<Layout>) -> Vec<Migration> {
    let layout = layout.unwrap_or_else(|| detect::text(&loaded.file.text));
    match layout {
        Layout::Alembic => alembic::migrations(loaded),
        Layout::Goose => vec![goose::lone(loaded, file_name)],
        Layout::Dbmate => vec![dbmate::lone(loaded, file_name)],
        Layout::Plain => vec![plain::lone(loaded, file_name)],
        Layout::Sqlx | Layout::GolangMigrate => vec![pairs::lone(layout, loaded, file_name)],
        Layout::Flyway => vec![flyway::lone(loaded, file_name)],
        Layout::Diesel => {
            let name = stem(file_name);
            vec![file_migration_with(
                Layout::Diesel,
                loaded,
                None,
                name,
                Transaction::File,
                diesel::default_runner(),
            )]
        }
    }
}

/// A file name without its `.sql` (and `.up`/`.down`) suffix; `stdin` for standard input.
fn stem(file_name: Option<&str>) -> String {
    let Some(name) = file_name else {
        return "stdin".to_string();
    };
    let name = file_name_of(name);
    let name = name.strip_suffix(".sql").unwrap_or(name);
    let name = name
        .strip_suffix(".up")
        .or_else(|| name.strip_suffix(".down"))
        .unwrap_or(name);
    name.to_string()
}

/// Adds `range` to `out` unless it holds only whitespace.
fn push_segment(out: &mut Vec<Segment>, text: &str, range: Range<usize>, single_statement: bool) {
    let Some(slice) = text.get(range.clone()) else {
        return;
    };
    if range.start < range.end && !slice.trim().is_empty() {
        out.push(Segment {
            range,
            single_statement,
        });
    }
}

/// The segments of a whole file (none for an empty one or one that is not UTF-8).
fn whole_file(loaded: &Loaded) -> Vec<Segment> {
    let mut segments = Vec::new();
    if loaded.bad_utf8.is_none() {
        let text = &loaded.file.text;
        push_segment(&mut segments, text, 0..text.len(), false);
    }
    segments
}

/// A migration whose up part is a whole file, wrapped in a transaction or not; prefer
/// [`file_migration_with`], which says how the runner sends it and why.
#[allow(dead_code)]
fn file_migration(
    layout: Layout,
    up: &Loaded,
    version: Option<String>,
    name: String,
    transactional: bool,
) -> Migration {
    let runner = Runner::default_of(format!(
        "{layout}: {}",
        if transactional {
            "runs each migration in a transaction"
        } else {
            "runs each migration outside a transaction"
        }
    ));
    file_migration_with(
        layout,
        up,
        version,
        name,
        Transaction::wrapped(transactional),
        runner,
    )
}

/// A migration whose up part is a whole file that the runner sends as `transaction` says.
fn file_migration_with(
    layout: Layout,
    up: &Loaded,
    version: Option<String>,
    name: String,
    transaction: Transaction,
    runner: Runner,
) -> Migration {
    Migration {
        path: up.file.display.clone(),
        version,
        name,
        layout,
        repeatable: false,
        up: Part {
            file: up.file.clone(),
            segments: whole_file(up),
            transaction,
            runner,
        },
        down: None,
        header: text::comment_block(&up.file.text, 0),
        load_notes: up.bad_utf8.iter().cloned().collect(),
    }
}

/// [`attach_down_with`] for a runner that wraps the down file in a transaction or not.
#[allow(dead_code)]
fn attach_down(m: &mut Migration, down: &Loaded, transactional: bool) {
    let runner = Runner::default_of(format!(
        "{}: {}",
        m.layout,
        if transactional {
            "runs each migration in a transaction"
        } else {
            "runs each migration outside a transaction"
        }
    ));
    attach_down_with(m, down, Transaction::wrapped(transactional), runner);
}

/// Sets a whole down file as `m`'s down part. Every down file that exists counts, also one
/// with only comments or nothing at all (see "Down parts" above); one that is not UTF-8 is
/// reported on the migration, whose notes point into the up file, hence offset 0 and the down
/// file named in the message.
fn attach_down_with(m: &mut Migration, down: &Loaded, transaction: Transaction, runner: Runner) {
    if let Some(note) = &down.bad_utf8 {
        m.load_notes.push(LoadNote {
            offset: 0,
            message: format!("down file {}: {}", down.file.display, note.message),
        });
    }
    m.down = Some(Part {
        file: down.file.clone(),
        segments: whole_file(down),
        transaction,
        runner,
    });
}

/// Notes every migration whose version an earlier one already has: the framework refuses to
/// run such a set.
fn duplicate_note(migrations: &mut [Migration], framework: &str) {
    duplicate_note_by(migrations, framework, |v| v.to_string());
}

/// [`duplicate_note`] where versions are equal when their `key`s are (Flyway: `1` = `1.0`).
fn duplicate_note_by(migrations: &mut [Migration], framework: &str, key: impl Fn(&str) -> String) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for m in migrations.iter_mut() {
        let Some(version) = m.version.clone() else {
            continue;
        };
        let k = key(&version);
        match seen.iter().find(|(v, _)| *v == k) {
            Some((_, first)) => m.load_notes.push(LoadNote {
                offset: 0,
                message: format!(
                    "duplicate version {version}: {first} has the same version; \
                     {framework} refuses to run both"
                ),
            }),
            None => seen.push((k, m.path.clone())),
        }
    }
}
