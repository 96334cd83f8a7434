//! Finding migrations: files, folders or stdin; detecting the layout; ordering them as the
//! framework would; pairing up and down parts; knowing each part's transaction semantics; and
//! listing, with the reason, every file found but not reviewed.
//!
//! The loader never splits SQL into statements: it hands the parser byte ranges
//! ([`Segment`]s) of each file, says how the framework sends each part ([`Transaction`]), and
//! marks the leading comment block (`header`) that carries `-- owner:` / `-- expect:` /
//! `-- rollback:`. Problems in a file's structure become [`LoadNote`]s (reported as
//! `malformed-migration`) rather than errors, so one bad file never hides the others.
//!
//! # Paths
//!
//! - `-` reads all of stdin once (display name `-`); its layout comes from its content. Empty
//!   stdin is an error: it usually means the command that should have produced SQL failed.
//! - A folder is read without recursion, except diesel and Prisma (one level: each migration is
//!   a folder), version trees (one level of version folders, plus DolphinScheduler's engine
//!   folders) and Flyway (recursive, as Flyway scans its locations). Hidden entries are skipped.
//! - A folder that contains `up.sql` itself is one diesel migration.
//! - A file is read exactly as its folder reads it when its name fits a layout (or it is a
//!   diesel/Prisma/version-tree member): the same layout, pairing and versions, its down file
//!   with it, and a file the folder does not review (a down file without an up, another
//!   engine's file) listed with the folder's reason instead of being reviewed. Otherwise it is
//!   one migration whose layout its content shows (alembic sections, goose, dbmate or
//!   Liquibase markers), plain by default.
//! - Each folder is listed, detected and built once per run however many of its files are
//!   given ([`Reader::list`] and the loader's folder views), so N file arguments cost what the
//!   folder costs, not N times it.
//! - Several paths are concatenated in the order given, each folder ordered internally; a
//!   migration reached twice (a folder and a file in it) is kept once, where first reached. A
//!   folder without any migration is an error when it is the only path; among several paths it
//!   is listed as not reviewed ("holds no migration") and the others are reviewed.
//! - Displays are relative to the current directory when the path is under it, else as given.
//!
//! # Layout detection for a folder
//!
//! `--layout` / `layout = …` skips detection. Otherwise, in this order:
//!
//! 1. popx: some file names a pop dialect (`.postgres.`, `.cockroach.`, `.mysql.`,
//!    `.sqlite3.`) or `.autocommit.` in popx's `<version>_<name>…{up,down}.sql` naming.
//! 2. A version tree: version sub-folders (`v1.0`, `1.1`, `3.1.0_schema`, `85`) and no
//!    migration file of its own; temporal when a version folder has `manifest.json`,
//!    DolphinScheduler when it has engine folders (`postgresql/`), else each version folder
//!    is read as a folder of its own (synapse's `delta/`).
//! 3. Prisma: a `migration_lock.toml`, or numbered sub-folders holding `migration.sql`.
//! 4. Atlas: an `atlas.sum`.
//! 5. diesel: sub-folders named `<digit>…` that contain `up.sql`, at least as many as the
//!    numbered `.sql` files and Flyway scripts next to them.
//! 6. authelia: `V<version>.<name>[.<provider>].{up,down}.sql` files.
//! 7. Flyway: `V<version>__<desc>.sql` / `R__<desc>.sql` files, at least as many as the other
//!    numbered `.sql` files.
//! 8. Markers inside the `.sql` files: `--liquibase formatted sql` first lines (Liquibase),
//!    `-- Running upgrade` (alembic), `-- +goose Up|Down` (goose), `-- migrate:up|down`
//!    (dbmate); the marker found in most files wins. The `.up.sql`/`.down.sql` naming beats
//!    goose, though: unless goose-annotated files outnumber the `.up.sql`/`.down.sql` files
//!    without goose annotations, step 9 decides (a lone `1_flags.up.sql` is golang-migrate,
//!    not a goose file missing its annotations).
//! 9. `<n>_<name>.up.sql` / `.down.sql` files: sqlx or golang-migrate. sqlx if any file starts
//!    with `-- no-transaction` or a non-reversible `<n>_<name>.sql` without another
//!    framework's markers sits next to them; golang-migrate if most up files have no down file
//!    (`sqlx migrate add -r` always writes both; harbor's folder has ups only), or if every
//!    version looks like one it makes (zero-padded other than sqlx's 4 digits, e.g. `000001`;
//!    a 10-digit Unix timestamp; a small unpadded number like `2`); sqlx otherwise (14-digit
//!    timestamps are made by both; sqlx is the tie-breaker).
//! 10. Numbered `.sql` files: sqlx when every one is `<14-digit timestamp>_<name>.sql` (sqlx's
//!     `migrate add` naming), plain otherwise.
//! 11. Unnumbered `.sql` files only: plain, all of them in name order.
//!
//! # Engines
//!
//! Before a layout reads a folder, engine markers in file names are taken off
//! (`1_a.sql.postgres` → `1_a.sql`, `2_b.mysql.up.sql` → another engine's file, see
//! [`dialect`]). After it, each migration file's SQL is checked for another engine's syntax
//! (MySQL/MariaDB, SQLite, SQL Server); such a file is listed as not reviewed, one entry per
//! file, and never judged with PostgreSQL's rules. A folder mixing engines has its PostgreSQL
//! files reviewed and the others listed. `dialect = "postgres"` in `migsafe.toml`
//! ([`Options::detect_engines`]) turns the content check off.
//!
//! # Files not reviewed ([`NotReviewed`])
//!
//! Every entry a layout does not use and that looks like a migration is listed with why (see
//! [`skipped`]): another engine's file, a down file without an up, an upper-case `.SQL`, a name
//! that does not fit the layout, a `.go`/`.fizz` migration, a special file (never opened), a
//! popx `all` file its `.postgres.` file supersedes, a Liquibase changeset for another `dbms`,
//! a temporal file its manifest does not list. Documentation and companions (`README.md`,
//! `.conf`, `metadata.toml`, `migration_lock.toml`, `atlas.sum`, `manifest.json`) are read or
//! left out without a listing.
//!
//! # Versions
//!
//! As the framework records them in its history table, so that pending detection can compare:
//! the integer for sqlx, golang-migrate, goose and authelia (`000012` → `12`); the digits as
//! written for dbmate, plain and popx; the folder prefix without dashes for diesel; the whole
//! folder name for Prisma; the name up to `_` for Atlas; `1.1` for Flyway `V1_1__` (no `V`,
//! repeatables have none); the revision id for alembic; `author:id` for Liquibase; the
//! manifest's `CurrVersion` for temporal; the folder's version for DolphinScheduler.
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
//! The layouts added for issue #10's corpus:
//!
//! - popx: [`Transaction::File`]; `.autocommit.` files [`Transaction::Implicit`].
//! - Prisma: [`Transaction::Implicit`] (one script per migration).
//! - Atlas: [`Transaction::File`]; `-- atlas:txmode none` [`Transaction::Statement`].
//! - Liquibase: [`Transaction::File`]; `runInTransaction:false` [`Transaction::Statement`].
//! - temporal: [`Transaction::Statement`] (the schema tool runs statements one by one).
//! - DolphinScheduler: [`Transaction::Unknown`].
//! - authelia: [`Transaction::File`] (one transaction for the whole upgrade).
//!
//! # Down parts
//!
//! `down` is `Some` whenever the migration has a down part at all: a down/undo file exists
//! (even an empty one), or the file has a down section marker (`-- +goose Down`,
//! `-- migrate:down`, an alembic `Running downgrade` section, Liquibase `--rollback`). A part
//! that holds only comments (diesel's generated `-- This file should undo anything in up.sql`,
//! goose's `-- +goose Down` followed by `-- irreversible: …`) is kept with its comment segments
//! and parses to no statements: metadata reads those comments as a rollback note, and
//! `missing-rollback` can say "the down migration is empty" instead of "there is none".
//! `None` means the framework would find no down migration.

mod alembic;
mod atlas;
mod authelia;
mod dbmate;
mod detect;
pub mod dialect;
mod diesel;
mod flyway;
mod goose;
mod liquibase;
mod pairs;
mod plain;
mod popx;
mod prisma;
pub mod python;
mod runner;
mod skipped;
mod source;
mod text;
mod tree;

pub use runner::{declare, declare_runners, drop_down_files, settle};
pub use skipped::NotReviewed;

use crate::model::{Layout, LoadNote, Migration, Part, Runner, Segment, Transaction};
use anyhow::{bail, Context, Result};
use dialect::Engine;
use source::{read_error, Entry, Loaded, Reader};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--layout` / `layout = …`: skip detection.
    pub layout: Option<Layout>,
    /// Recognise other engines' SQL and list it as not reviewed (the default);
    /// `dialect = "postgres"` turns it off and reviews every file as PostgreSQL.
    pub detect_engines: bool,
    /// `[python]`: how to run the project's framework for Alembic and Django folders.
    pub python: python::PythonOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            layout: None,
            detect_engines: true,
            python: python::PythonOptions::default(),
        }
    }
}

/// Everything loading found: the migrations to review, in order, and every file found but
/// not reviewed, with why.
#[derive(Debug, Default)]
pub struct Outcome {
    pub migrations: Vec<Migration>,
    pub not_reviewed: Vec<NotReviewed>,
    /// How many folders were listed and files read from disk: each at most once per run,
    /// however many of a folder's files were given.
    pub folders_listed: usize,
    pub files_read: usize,
}

/// Loads every migration under `paths` (`-` reads `stdin`), in the framework's order. The
/// files not reviewed are left out; [`load_all`] returns them too.
pub fn load(
    paths: &[PathBuf],
    layout: Option<Layout>,
    stdin: &mut dyn Read,
) -> Result<Vec<Migration>> {
    let options = Options {
        layout,
        ..Options::default()
    };
    Ok(load_all(paths, &options, stdin)?.migrations)
}

/// Loads every migration under `paths` (`-` reads `stdin`) and lists the files not reviewed.
pub fn load_all(paths: &[PathBuf], options: &Options, stdin: &mut dyn Read) -> Result<Outcome> {
    let mut loader = Loader {
        reader: Reader::default(),
        options: options.clone(),
        views: HashMap::new(),
    };
    let mut out = Outcome::default();
    let mut stdin_read = false;
    let mut empty: Vec<(String, anyhow::Error)> = Vec::new();
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
            let loaded = source::decode("-", bytes);
            let ms = from_text(&loaded, None, options.layout, &mut out.not_reviewed);
            out.migrations
                .extend(loader.screen(ms, &HashSet::new(), &mut out.not_reviewed));
            continue;
        }
        match loader.load_path(path, &mut out)? {
            Found::Some => {}
            Found::Nothing { display, error } => empty.push((display, error)),
        }
    }
    if !empty.is_empty() {
        if out.migrations.is_empty() && out.not_reviewed.is_empty() {
            if let Some((_, error)) = empty.into_iter().next() {
                return Err(error);
            }
        } else {
            for (display, _) in empty {
                out.not_reviewed.push(NotReviewed::new(
                    display,
                    skipped::empty_folder(looked_for(options.layout)),
                ));
            }
        }
    }
    let mut seen = HashSet::new();
    out.migrations
        .retain(|m| seen.insert((m.path.clone(), m.version.clone(), m.name.clone())));
    let mut seen = HashSet::new();
    out.not_reviewed.retain(|n| seen.insert(n.clone()));
    out.folders_listed = loader.reader.listed;
    out.files_read = loader.reader.read;
    Ok(out)
}

/// Loads the migrations held in one text (stdin, a single file): alembic offline output and
/// Liquibase changelogs yield several, anything else one. `display` is the name reports use.
pub fn load_text(display: &str, text: &str, layout: Option<Layout>) -> Result<Vec<Migration>> {
    let loaded = source::decode(display, text.as_bytes().to_vec());
    let file_name = (display != "-").then(|| file_name_of(display));
    let mut skipped = Vec::new();
    Ok(from_text(&loaded, file_name, layout, &mut skipped))
}

fn file_name_of(display: &str) -> &str {
    display.rsplit('/').next().unwrap_or(display)
}

/// Whether a path argument gave something to review.
enum Found {
    Some,
    /// A folder without any migration: an error when it is the only path, a listing among
    /// several.
    Nothing {
        display: String,
        error: anyhow::Error,
    },
}

/// A folder as its layout reads it, built once per run.
#[derive(Debug, Default)]
struct View {
    migrations: Vec<Migration>,
    not_reviewed: Vec<NotReviewed>,
    /// Display of every up and down file → the migrations it belongs to.
    by_file: HashMap<String, Vec<usize>>,
    /// Display → its entries in `not_reviewed`.
    skipped_by_file: HashMap<String, Vec<usize>>,
    /// The layout detected (or forced); `None` when nothing looked like a migration.
    layout: Option<Layout>,
}

impl View {
    fn index(&mut self) {
        for (i, m) in self.migrations.iter().enumerate() {
            self.by_file
                .entry(m.up.file.display.clone())
                .or_default()
                .push(i);
            if let Some(d) = &m.down {
                if d.file.display != m.up.file.display {
                    self.by_file
                        .entry(d.file.display.clone())
                        .or_default()
                        .push(i);
                }
            }
        }
        for (i, n) in self.not_reviewed.iter().enumerate() {
            self.skipped_by_file
                .entry(n.path.clone())
                .or_default()
                .push(i);
        }
    }

    fn is_empty(&self) -> bool {
        self.migrations.is_empty() && self.not_reviewed.is_empty()
    }
}

struct Loader {
    reader: Reader,
    options: Options,
    views: HashMap<(PathBuf, Option<Layout>), Rc<View>>,
}

impl Loader {
    fn load_path(&mut self, path: &Path, out: &mut Outcome) -> Result<Found> {
        let display = self.reader.display(path);
        let meta = std::fs::metadata(path).map_err(|e| read_error(&display, e))?;
        if meta.is_dir() {
            let layout = self.options.layout;
            if matches!(layout, None | Some(Layout::Diesel))
                && self.reader.has_file(path, &display, "up.sql")
            {
                let m = diesel::load_one(path, &display, &mut self.reader)?;
                out.migrations
                    .extend(self.screen(vec![m], &HashSet::new(), &mut out.not_reviewed));
                return Ok(Found::Some);
            }
            let view = self.view(path, &display, layout)?;
            if view.is_empty() {
                return Ok(Found::Nothing {
                    error: anyhow::anyhow!(
                        "no migrations found in {display} (looked for {})",
                        looked_for(layout.or(view.layout))
                    ),
                    display,
                });
            }
            out.migrations.extend(view.migrations.iter().cloned());
            out.not_reviewed.extend(view.not_reviewed.iter().cloned());
            return Ok(Found::Some);
        }
        self.load_file(path, &display, out)?;
        Ok(Found::Some)
    }

    /// The view of the folder `dir` with `layout` (detected when `None`), built once per run.
    fn view(&mut self, dir: &Path, display: &str, layout: Option<Layout>) -> Result<Rc<View>> {
        let key = (dir.to_path_buf(), layout);
        if let Some(hit) = self.views.get(&key) {
            return Ok(hit.clone());
        }
        let mut view = build_view(
            dir,
            display,
            layout,
            self.options.detect_engines,
            &self.options.python,
            &mut self.reader,
        )?;
        if self.options.detect_engines {
            let named = std::mem::take(&mut view.migrations);
            let postgres_named = postgres_named(dir, display, &mut self.reader)?;
            view.migrations = self.screen(named, &postgres_named, &mut view.not_reviewed);
        }
        view.index();
        let view = Rc::new(view);
        self.views.insert(key, view.clone());
        Ok(view)
    }

    /// Moves migrations whose SQL is another engine's to `not_reviewed`, one entry per file;
    /// files whose name says PostgreSQL (`postgres_named`) are not checked.
    fn screen(
        &self,
        migrations: Vec<Migration>,
        postgres_named: &HashSet<String>,
        not_reviewed: &mut Vec<NotReviewed>,
    ) -> Vec<Migration> {
        if !self.options.detect_engines {
            return migrations;
        }
        let mut verdicts: HashMap<String, Option<(Engine, String)>> = HashMap::new();
        let mut kept = Vec::with_capacity(migrations.len());
        for m in migrations {
            let display = m.up.file.display.clone();
            // A file of several migrations (Liquibase changesets, alembic sections) is judged
            // per migration: a `dbms:mysql` changeset does not make its neighbours MySQL.
            let shared = m.up.segments.len() != 1
                || m.up
                    .segments
                    .first()
                    .is_some_and(|s| s.range != (0..m.up.file.text.len()));
            let engine = if postgres_named.contains(&display) {
                None
            } else if shared {
                part_engine(&m.up)
            } else {
                verdicts
                    .entry(display.clone())
                    .or_insert_with(|| part_engine(&m.up))
                    .clone()
            };
            match engine {
                Some((engine, found)) if engine != Engine::Postgres => {
                    let reason = dialect::content_reason(engine, Some(&found));
                    let entry = NotReviewed {
                        path: display,
                        version: m.version.clone(),
                        reason: reason.clone(),
                    };
                    if !not_reviewed
                        .iter()
                        .any(|n| n.path == entry.path && n.reason == entry.reason)
                    {
                        not_reviewed.push(entry);
                    }
                    if let Some(down) = &m.down {
                        if down.file.display != m.up.file.display {
                            // The marker's line is the up file's; the down file gets the
                            // engine's usual markers.
                            not_reviewed.push(NotReviewed {
                                path: down.file.display.clone(),
                                version: m.version.clone(),
                                reason: dialect::content_reason(engine, None),
                            });
                        }
                    }
                }
                _ => kept.push(m),
            }
        }
        kept
    }

    fn load_file(&mut self, path: &Path, display: &str, out: &mut Outcome) -> Result<()> {
        let layout = self.options.layout;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| display.to_string());
        let parent = parent_of(path);
        let parent_display = self.reader.display(&parent);

        // A diesel migration's files stand for the whole migration folder.
        let diesel_file = matches!(name.as_str(), "up.sql" | "down.sql" | "metadata.toml");
        if diesel_file && self.reader.has_file(&parent, &parent_display, "up.sql") {
            let in_numbered_dir = parent.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(|c: char| c.is_ascii_digit())
            });
            if layout == Some(Layout::Diesel) || (layout.is_none() && in_numbered_dir) {
                let m = diesel::load_one(&parent, &parent_display, &mut self.reader)?;
                out.migrations
                    .extend(self.screen(vec![m], &HashSet::new(), &mut out.not_reviewed));
                return Ok(());
            }
        }

        // The folder whose view holds this file: its own, or the root of the structure a
        // member file belongs to (Prisma's migration folders, version trees).
        let mut roots: Vec<(PathBuf, Option<Layout>)> = Vec::new();
        let grandparent = parent_of(&parent);
        if name == prisma::SCRIPT
            && matches!(layout, None | Some(Layout::Prisma))
            && parent.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with(|c: char| c.is_ascii_digit())
            })
        {
            roots.push((grandparent.clone(), layout.or(Some(Layout::Prisma))));
        }
        if self
            .reader
            .has_file(&parent, &parent_display, tree::MANIFEST)
        {
            roots.push((grandparent.clone(), layout));
        }
        let parent_name = parent
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let grandparent_name = grandparent
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if Engine::from_word(&parent_name).is_some()
            && grandparent_name.ends_with("_schema")
            && tree::version_of(&grandparent_name).is_some()
        {
            roots.push((parent_of(&grandparent), layout));
        }
        if has_migration_name(&name) || name.ends_with(".py") {
            roots.push((parent.clone(), layout));
        }
        let target = flyway::script_of_conf(display).unwrap_or_else(|| display.to_string());
        for (root, root_layout) in roots {
            let root_display = self.reader.display(&root);
            let Ok(view) = self.view(&root, &root_display, root_layout) else {
                continue;
            };
            let found = view.by_file.get(&target).cloned().unwrap_or_default();
            let skipped = view
                .skipped_by_file
                .get(&target)
                .cloned()
                .unwrap_or_default();
            if found.is_empty() && skipped.is_empty() {
                continue;
            }
            out.migrations.extend(
                found
                    .iter()
                    .filter_map(|&i| view.migrations.get(i).cloned()),
            );
            out.not_reviewed.extend(
                skipped
                    .iter()
                    .filter_map(|&i| view.not_reviewed.get(i).cloned()),
            );
            return Ok(());
        }

        if let Some(reason) = skipped::not_sql(&name) {
            if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                out.not_reviewed.push(NotReviewed::new(display, reason));
                return Ok(());
            }
        }
        let loaded = self.reader.read(path, display)?;
        let ms = from_text(&loaded, Some(&name), layout, &mut out.not_reviewed);
        let named = match dialect::split_name(&name).1 {
            Some(Engine::Postgres) => HashSet::from([display.to_string()]),
            Some(other) if self.options.detect_engines => {
                out.not_reviewed
                    .push(NotReviewed::new(display, dialect::named_reason(other)));
                return Ok(());
            }
            _ => HashSet::new(),
        };
        out.migrations
            .extend(self.screen(ms, &named, &mut out.not_reviewed));
        Ok(())
    }
}

/// The engine another engine's syntax in any of `part`'s segments names, with the first
/// marker and the file line it is on.
fn part_engine(part: &Part) -> Option<(Engine, String)> {
    part.segments.iter().find_map(|s| {
        let found = part
            .file
            .text
            .get(s.range.clone())
            .and_then(dialect::detect)?;
        let line = part
            .file
            .text
            .get(..s.range.start + found.offset)
            .map_or(1, |before| before.matches('\n').count() + 1);
        Some((found.engine, format!("{} on line {line}", found.marker)))
    })
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The displays of the files of `dir` whose name says they are PostgreSQL's.
fn postgres_named(dir: &Path, display: &str, reader: &mut Reader) -> Result<HashSet<String>> {
    Ok(reader
        .list(dir, display)?
        .iter()
        .filter(|e| dialect::split_name(e.file_name()).1 == Some(Engine::Postgres))
        .map(|e| e.display.clone())
        .collect())
}

/// What the "no migrations found" error says was looked for.
fn looked_for(layout: Option<Layout>) -> &'static str {
    match layout {
        None => {
            "numbered .sql files, <version>_<name>.up.sql/.down.sql pairs, \
             V<version>__<desc>.sql (Flyway), <timestamp>_<name>/up.sql folders (diesel), \
             <timestamp>_<name>/migration.sql (Prisma), atlas.sum, version folders, \
             goose/dbmate/alembic/Liquibase .sql files"
        }
        Some(layout) => skipped::naming(layout),
    }
}

/// Builds the view of a folder (without engine screening, which the loader adds).
fn build_view(
    dir: &Path,
    display: &str,
    layout: Option<Layout>,
    detect_engines: bool,
    python_options: &python::PythonOptions,
    reader: &mut Reader,
) -> Result<View> {
    let raw = reader.list(dir, display)?;
    let mut view = View::default();
    let mut regular: Vec<Entry> = Vec::with_capacity(raw.len());
    for entry in raw.iter() {
        if entry.special {
            view.not_reviewed.push(NotReviewed::new(
                entry.display.clone(),
                skipped::SPECIAL_FILE,
            ));
        } else {
            regular.push(entry.clone());
        }
    }
    // Python services: rendering runs the project's code, so only for a folder that sits in
    // its framework's project (or is forced to that layout).
    if matches!(layout, None | Some(Layout::Alembic)) {
        if let Some(versions) = python::alembic::versions_of_script_location(dir) {
            let shown = reader.display(&versions);
            return build_view(
                &versions,
                &shown,
                layout,
                detect_engines,
                python_options,
                reader,
            );
        }
        if let Some(project) = python::alembic::project(dir) {
            view.layout = Some(Layout::Alembic);
            view.migrations =
                python::alembic::build(&project, dir, display, &regular, reader, python_options)?;
            residual(Layout::Alembic, &regular, &mut view);
            return Ok(view);
        }
    }
    if matches!(layout, None | Some(Layout::Django)) {
        if let Some(project) = python::django::project(dir) {
            view.layout = Some(Layout::Django);
            view.migrations = python::django::build(
                &project,
                dir,
                display,
                &regular,
                reader,
                python_options,
                &mut view.not_reviewed,
            )?;
            residual(Layout::Django, &regular, &mut view);
            return Ok(view);
        }
    }
    // popx reads the dialect part of its names itself.
    if layout == Some(Layout::Popx) || (layout.is_none() && popx::is_popx_folder(&regular)) {
        view.layout = Some(Layout::Popx);
        view.migrations = popx::build(&regular, reader, &mut view.not_reviewed)?;
        residual(Layout::Popx, &regular, &mut view);
        return Ok(view);
    }
    // A folder named for another engine (`sql/mysql/`) holds that engine's files.
    let folder_engine = dir
        .file_name()
        .and_then(|n| Engine::from_word(&n.to_string_lossy()))
        .filter(|e| *e != Engine::Postgres && detect_engines);
    let mut entries: Vec<Entry> = Vec::with_capacity(regular.len());
    for mut entry in regular {
        if entry.is_dir {
            entries.push(entry);
            continue;
        }
        if let Some(engine) = folder_engine {
            if entry.name.to_ascii_lowercase().contains(".sql") {
                view.not_reviewed.push(NotReviewed::new(
                    entry.display.clone(),
                    format!(
                        "in a folder named for {engine}, not PostgreSQL: migsafe reviews \
                         PostgreSQL migrations only"
                    ),
                ));
                continue;
            }
        }
        match dialect::split_name(&entry.name) {
            (name, Some(Engine::Postgres)) => {
                entry.name = name;
                entries.push(entry);
            }
            (_, Some(other)) => view.not_reviewed.push(NotReviewed::new(
                entry.display.clone(),
                dialect::named_reason(other),
            )),
            (_, None) => entries.push(entry),
        }
    }
    let tree_kind = if layout.is_none() && tree::is_root(&entries) {
        Some(tree::kind(&entries, reader).unwrap_or(Layout::Plain))
    } else {
        None
    };
    let is_tree =
        tree_kind.is_some() || matches!(layout, Some(Layout::Temporal | Layout::Dolphinscheduler));
    if is_tree {
        let kind = layout.or(tree_kind);
        let mut nested =
            |entry: &Entry, reader: &mut Reader| -> Result<(Vec<Migration>, Vec<NotReviewed>)> {
                let v = build_view(
                    &entry.path,
                    &entry.display,
                    None,
                    detect_engines,
                    python_options,
                    reader,
                )?;
                Ok((v.migrations, v.not_reviewed))
            };
        let tree_layout = kind.filter(|k| matches!(k, Layout::Temporal | Layout::Dolphinscheduler));
        view.migrations = tree::build(
            tree_layout,
            &entries,
            reader,
            &mut view.not_reviewed,
            &mut nested,
        )?;
        view.layout = tree_layout.or_else(|| view.migrations.first().map(|m| m.layout));
        return Ok(view);
    }
    let detected = match layout {
        Some(l) => Some(l),
        None => detect::folder(&entries, reader)?,
    };
    view.layout = detected;
    if let Some(l) = detected {
        view.migrations = build(l, dir, display, &entries, reader, &mut view.not_reviewed)?;
        residual(l, &entries, &mut view);
    }
    Ok(view)
}

/// Lists every entry `layout` did not use that looks like a migration (see [`skipped`]).
fn residual(layout: Layout, entries: &[Entry], view: &mut View) {
    let mut used: HashSet<&str> = HashSet::new();
    for m in &view.migrations {
        for file in std::iter::once(&m.up.file).chain(m.down.as_ref().map(|d| &d.file)) {
            let shown = file.display.as_str();
            used.insert(shown);
            // The folders a migration lives in (diesel, Prisma, Flyway sub-folders).
            let mut at = shown;
            while let Some((parent, _)) = at.rsplit_once('/') {
                used.insert(parent);
                at = parent;
            }
        }
    }
    let mut listed: HashSet<String> = HashSet::new();
    for n in &view.not_reviewed {
        // A folder whose files are listed already (a Prisma migration of another provider).
        let mut at = n.path.as_str();
        while let Some((parent, _)) = at.rsplit_once('/') {
            listed.insert(parent.to_string());
            at = parent;
        }
        listed.insert(n.path.clone());
    }
    let mut extra = Vec::new();
    for entry in entries {
        if used.contains(entry.display.as_str()) || listed.contains(&entry.display) {
            continue;
        }
        if let Some(reason) = skipped::reason(layout, entry) {
            extra.push(NotReviewed::new(entry.display.clone(), reason));
        }
    }
    view.not_reviewed.extend(extra);
}

/// The migrations of a folder whose layout is known; files the layout itself rules out go to
/// `skipped`.
fn build(
    layout: Layout,
    dir: &Path,
    display: &str,
    entries: &[Entry],
    reader: &mut Reader,
    skipped: &mut Vec<NotReviewed>,
) -> Result<Vec<Migration>> {
    match layout {
        Layout::Django => bail!(
            "{display} is not a Django app's migrations folder: --layout django needs a \
             `migrations` folder of numbered .py files with manage.py in the project above it"
        ),
        Layout::Plain => plain::build(entries, reader),
        Layout::Sqlx | Layout::GolangMigrate => pairs::build(layout, entries, reader),
        Layout::Diesel => diesel::build(entries, reader),
        Layout::Goose => goose::build(entries, reader),
        Layout::Dbmate => dbmate::build(entries, reader),
        Layout::Flyway => {
            let all = reader.list_recursive(dir, display)?;
            let all: Vec<Entry> = all
                .into_iter()
                .filter(|e| !e.special)
                .map(|mut e| {
                    if !e.is_dir {
                        if let (name, Some(Engine::Postgres)) = dialect::split_name(&e.name) {
                            e.name = name;
                        }
                    }
                    e
                })
                .collect();
            flyway::build(&all, reader)
        }
        Layout::Alembic => {
            let mut out = Vec::new();
            for entry in entries
                .iter()
                .filter(|e| e.is_file() && e.name.ends_with(".sql"))
            {
                let loaded = reader.read(&entry.path, &entry.display)?;
                if alembic::has_markers(&loaded.file.text) {
                    out.extend(alembic::migrations(&loaded));
                }
            }
            Ok(out)
        }
        Layout::Popx => popx::build(entries, reader, skipped),
        Layout::Prisma => prisma::build(entries, reader, skipped),
        Layout::Atlas => atlas::build(entries, reader),
        Layout::Authelia => authelia::build(entries, reader),
        Layout::Liquibase => {
            let mut files: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.is_file() && e.name.ends_with(".sql"))
                .collect();
            files.sort_by(|a, b| a.name.cmp(&b.name));
            let mut out = Vec::new();
            for entry in files {
                let loaded = reader.read(&entry.path, &entry.display)?;
                if liquibase::has_header(&loaded.file.text) {
                    out.extend(liquibase::migrations(&loaded, skipped));
                } else {
                    skipped.push(NotReviewed::new(
                        entry.display.clone(),
                        "no `--liquibase formatted sql` first line: Liquibase runs it only \
                         through a changelog's <sqlFile>, which migsafe does not read (name the \
                         file to review it on its own)",
                    ));
                }
            }
            Ok(out)
        }
        // A tree forced with `--layout` on a folder that is one version of it.
        Layout::Temporal | Layout::Dolphinscheduler => {
            let mut nested =
                |_: &Entry, _: &mut Reader| -> Result<(Vec<Migration>, Vec<NotReviewed>)> {
                    Ok((Vec::new(), Vec::new()))
                };
            tree::build(Some(layout), entries, reader, skipped, &mut nested)
        }
    }
}

/// Whether a file name fits some layout's naming, i.e. its folder may know more about it.
fn has_migration_name(name: &str) -> bool {
    let (plain_name, _) = dialect::split_name(name);
    name.starts_with(|c: char| c.is_ascii_digit())
        || flyway::parse_name(&plain_name).is_some()
        || flyway::script_of_conf(name).is_some_and(|s| flyway::parse_name(&s).is_some())
        || authelia::parse_name(&plain_name).is_some()
}

/// The migrations of one text whose layout its content (or `layout`) gives.
fn from_text(
    loaded: &Loaded,
    file_name: Option<&str>,
    layout: Option<Layout>,
    skipped: &mut Vec<NotReviewed>,
) -> Vec<Migration> {
    let layout = layout.unwrap_or_else(|| detect::text(&loaded.file.text));
    let plain_name = file_name.map(|n| dialect::split_name(n).0);
    let file_name = plain_name.as_deref();
    match layout {
        Layout::Alembic => alembic::migrations(loaded),
        // `sqlmigrate` output given as a file or on stdin: one script.
        Layout::Django => {
            let mut m = plain::lone(loaded, file_name);
            m.layout = Layout::Django;
            vec![m]
        }
        Layout::Liquibase => liquibase::migrations(loaded, skipped),
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
        Layout::Popx => {
            let parsed = file_name.and_then(popx::parse_name);
            let mut m = file_migration(
                Layout::Popx,
                loaded,
                parsed.as_ref().map(|n| n.version.clone()),
                parsed
                    .as_ref()
                    .map_or_else(|| stem(file_name), |n| n.name.clone()),
                true,
            );
            let (transaction, by) = popx::runner(parsed.is_some_and(|n| n.autocommit));
            runs(&mut m.up, transaction, by);
            vec![m]
        }
        Layout::Prisma => {
            let mut m = file_migration(Layout::Prisma, loaded, None, stem(file_name), true);
            let (transaction, by) = prisma::runner();
            runs(&mut m.up, transaction, by);
            vec![m]
        }
        Layout::Atlas => {
            let parsed = file_name.and_then(atlas::parse_name);
            let mut m = file_migration(
                Layout::Atlas,
                loaded,
                parsed.as_ref().map(|(v, _)| v.clone()),
                parsed.map_or_else(|| stem(file_name), |(_, n)| n),
                true,
            );
            let (transaction, by) = atlas::runner(&loaded.file.text);
            runs(&mut m.up, transaction, by);
            vec![m]
        }
        Layout::Authelia => {
            let parsed = file_name.and_then(authelia::parse_name);
            let mut m = file_migration(
                Layout::Authelia,
                loaded,
                parsed.as_ref().map(|n| text::strip_zeros(&n.digits)),
                parsed.map_or_else(|| stem(file_name), |n| n.name),
                true,
            );
            let (transaction, by) = authelia::runner();
            runs(&mut m.up, transaction, by);
            vec![m]
        }
        Layout::Temporal | Layout::Dolphinscheduler => {
            let mut m = file_migration(layout, loaded, None, stem(file_name), false);
            let (transaction, by) = tree::runner(layout);
            runs(&mut m.up, transaction, by);
            vec![m]
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

/// Sets how the runner sends `part`, and who says so.
fn runs(part: &mut Part, transaction: Transaction, runner: Runner) {
    part.transaction = transaction;
    part.runner = runner;
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
