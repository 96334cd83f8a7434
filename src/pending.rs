//! Pending-migration detection (issue #3, item 6): which of the loaded migrations the copy has
//! already applied, according to the framework's own history table, and where the folder and
//! the copy disagree (drift). Pure: the history is read by `evidence::history`, this module only
//! compares it with the migrations, so every framework's semantics is unit-tested here.
//!
//! What each history says, and what we conclude:
//!
//! - sqlx, diesel, dbmate, goose, Flyway record every applied version: a file whose version is
//!   recorded is applied, any other is pending. A pending file below the highest applied
//!   version is *out of order*: goose refuses it, Flyway ignores it and fails validation,
//!   sqlx/diesel/dbmate run it after migrations that were written later. That is drift.
//! - golang-migrate records one version (the current one): everything at or below it counts as
//!   applied, as golang-migrate itself assumes. It cannot tell us that a file below the current
//!   version was never run; the skip reason says so.
//! - Flyway also has a baseline (every version at or below it counts as applied) and
//!   repeatable `R__` migrations, which are pending when never run or when their checksum
//!   changed since their last run (Flyway re-applies them), and applied otherwise.
//! - alembic's `alembic_version` holds only the head revision(s): a revision is applied when it
//!   is a head or an ancestor of one, following the `-- Running upgrade <parent> -> <rev>`
//!   chain of the offline SQL. For a linear history that is "everything up to and including
//!   the head".
//! - No history table on the copy means nothing is applied: everything is pending, with a note
//!   (it is also what pointing `--database-url` at the wrong database looks like).
//!
//! Drift, each one a `schema-drift` finding for the engine: a version the copy recorded but the
//! folder lacks; a recorded checksum that differs from the file (sqlx: SHA-384 of the file's
//! bytes; Flyway: CRC32 of its lines); a migration recorded as failed (the copy may be
//! half-migrated); an out-of-order pending migration; an alembic head the SQL does not know.
//!
//! `--all` (review everything) is the engine's concern: it simply does not call [`classify`].

use crate::evidence::history::{
    flyway_checksum, AppliedMigrations, AppliedVersion, Checksum, Semantics, VersionStatus,
};
use crate::model::{Layout, Migration};
use serde::Serialize;
use std::cmp::Ordering;

/// Whether a migration still has to be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not applied on the copy (or changed since, for Flyway repeatables): review it.
    Pending,
    /// Already applied on the copy: skip it, showing `reason`.
    Applied,
}

/// The verdict on one migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationState {
    /// Position in the slice given to [`classify`].
    pub index: usize,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub state: State,
    /// For an applied migration, the skip reason reports show ("applied on the copy (recorded
    /// in public._sqlx_migrations)"); for a pending one, what the history said about it.
    pub reason: String,
}

/// What kind of disagreement between the folder and the copy's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The copy recorded a migration the folder does not have.
    MissingFile,
    /// The file changed after the copy applied it (sqlx, Flyway checksums).
    ChecksumChanged,
    /// The copy recorded the migration as failed (sqlx, Flyway) or dirty (golang-migrate).
    Failed,
    /// Pending, but older than a migration the copy already applied.
    OutOfOrder,
    /// alembic: the copy's head revision is not among the revisions given.
    UnknownHead,
}

/// One disagreement, to be reported as a `schema-drift` finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub kind: DriftKind,
    /// The migration file it concerns; `None` when the folder has no such file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The version (or Flyway repeatable description, or alembic revision) it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// 1-based line in `path` (1 for whole-file drift); `None` without a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// The result of comparing migrations with the copy's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// One entry per migration, in the order given.
    pub migrations: Vec<MigrationState>,
    pub drift: Vec<Drift>,
    /// Things the reader should know about the comparison itself (no history table, a layout
    /// without history), shown once per run.
    pub notes: Vec<String>,
}

impl Pending {
    /// Whether the migration at `index` (in the slice given to [`classify`]) is to be
    /// reviewed. Unknown indexes are pending: never skip what was not classified.
    pub fn is_pending(&self, index: usize) -> bool {
        self.migrations
            .iter()
            .find(|m| m.index == index)
            .is_none_or(|m| m.state == State::Pending)
    }

    /// The migrations to review.
    pub fn pending(&self) -> impl Iterator<Item = &MigrationState> {
        self.migrations.iter().filter(|m| m.state == State::Pending)
    }

    /// The migrations to skip, each with its reason.
    pub fn applied(&self) -> impl Iterator<Item = &MigrationState> {
        self.migrations.iter().filter(|m| m.state == State::Applied)
    }
}

/// Compares `migrations` (loaded with versions as the framework's history records them) with
/// what the copy's history table says. `applied` is `None` when no history was read (the plain
/// layout keeps none): everything is pending. `layout` is the layout the history belongs to.
pub fn classify(
    migrations: &[Migration],
    applied: Option<&AppliedMigrations>,
    layout: Layout,
) -> Pending {
    let mut out = Pending {
        migrations: Vec::with_capacity(migrations.len()),
        drift: Vec::new(),
        notes: Vec::new(),
    };
    let Some(history) = applied else {
        let (note, reason) = if layout == Layout::Plain {
            (
                "plain migration folders keep no history table: every migration is reviewed"
                    .to_string(),
                "the plain layout keeps no migration history".to_string(),
            )
        } else {
            (
                format!("the copy's {layout} migration history was not read: every migration is reviewed"),
                "no migration history to compare with".to_string(),
            )
        };
        out.notes.push(note);
        all_pending(&mut out, migrations, &reason);
        return out;
    };
    let table = history.table.as_str();
    if !history.table_found {
        out.notes.push(format!(
            "the copy has no {table} table, so no {layout} migration is recorded as applied \
             there: all {} are reviewed (is this the database these migrations run on?)",
            migrations.len()
        ));
        all_pending(
            &mut out,
            migrations,
            &format!("not applied: the copy has no {table} table"),
        );
        return out;
    }
    if history.layout != layout {
        out.notes.push(format!(
            "the history read is {}'s ({table}) but the migrations are {layout}: versions are \
             compared as {} records them",
            history.layout, history.layout
        ));
    }
    let folder = folder_of(migrations);
    match history.semantics {
        Semantics::Heads => alembic(&mut out, migrations, history, &folder),
        Semantics::PerVersion | Semantics::UpTo => {
            versioned(&mut out, migrations, history, &folder)
        }
    }
    out
}

fn all_pending(out: &mut Pending, migrations: &[Migration], reason: &str) {
    for (index, m) in migrations.iter().enumerate() {
        out.migrations
            .push(state(index, m, State::Pending, reason.to_string()));
    }
}

fn state(index: usize, m: &Migration, state: State, reason: String) -> MigrationState {
    MigrationState {
        index,
        path: m.path.clone(),
        version: m.version.clone(),
        state,
        reason,
    }
}

/// The skip reason of an applied migration. `installed_on` is shown when the history records
/// when it ran.
fn applied_reason(table: &str, installed_on: Option<&str>) -> String {
    match installed_on {
        Some(at) => format!("applied on the copy at {at} (recorded in {table})"),
        None => format!("applied on the copy (recorded in {table})"),
    }
}

/// The framework's name as users know it.
fn framework(layout: Layout) -> &'static str {
    match layout {
        Layout::Plain => "the plain layout",
        Layout::Sqlx => "sqlx",
        Layout::Diesel => "diesel",
        Layout::GolangMigrate => "golang-migrate",
        Layout::Goose => "goose",
        Layout::Dbmate => "dbmate",
        Layout::Flyway => "Flyway",
        Layout::Alembic => "alembic",
        Layout::Popx => "popx",
        Layout::Prisma => "Prisma",
        Layout::Atlas => "Atlas",
        Layout::Liquibase => "Liquibase",
        Layout::Django => "Django",
        Layout::Temporal => "the temporal schema tool",
        Layout::Dolphinscheduler => "DolphinScheduler's upgrade tool",
        Layout::Authelia => "authelia",
    }
}

/// Every layout but alembic: versions recorded one by one (or, for golang-migrate, up to one).
fn versioned(
    out: &mut Pending,
    migrations: &[Migration],
    history: &AppliedMigrations,
    folder: &str,
) {
    let table = history.table.as_str();
    let layout = history.layout;
    // History entries some file accounts for; the rest are missing from the folder.
    let mut matched = vec![false; history.versions.len()];
    let mark = |matched: &mut Vec<bool>, entry: &AppliedVersion| {
        if let Some(i) = history.versions.iter().position(|v| std::ptr::eq(v, entry)) {
            if let Some(slot) = matched.get_mut(i) {
                *slot = true;
            }
        }
    };
    let highest = highest_applied(history);
    for (index, m) in migrations.iter().enumerate() {
        if m.repeatable {
            let entry = repeatable_entry(history, &m.name);
            if let Some(entry) = entry {
                mark(&mut matched, entry);
            }
            out.migrations
                .push(repeatable(&mut out.drift, index, m, entry, table));
            continue;
        }
        let Some(version) = m.version.as_deref() else {
            out.migrations.push(state(
                index,
                m,
                State::Pending,
                format!("it has no version to look up in {table}"),
            ));
            continue;
        };
        let entry = history.find(version);
        if let Some(entry) = entry {
            mark(&mut matched, entry);
        }
        match history.status(version) {
            VersionStatus::Applied => {
                let reason = match (entry, history.semantics, history.versions.first()) {
                    (Some(_), _, _) => applied_reason(table, None),
                    (None, Semantics::UpTo, Some(current)) => format!(
                        "applied on the copy: below version {} recorded in {table} \
                         ({} records only its current version and counts every earlier one \
                         as applied)",
                        current.version,
                        framework(layout)
                    ),
                    _ => match &history.baseline {
                        Some(b) => format!(
                            "applied on the copy: at or below its {} baseline {b} (recorded in \
                             {table})",
                            framework(layout)
                        ),
                        None => applied_reason(table, None),
                    },
                };
                if checksum_differs(history, version, m) {
                    out.drift.push(Drift {
                        kind: DriftKind::ChecksumChanged,
                        path: Some(m.path.clone()),
                        version: Some(version.to_string()),
                        line: Some(1),
                        message: format!(
                            "{} was changed after it was applied to the copy: the checksum \
                             recorded in {table} differs from the file's. The copy has the old \
                             version of this migration and {} refuses to migrate until they \
                             match; put the change in a new migration instead of editing an \
                             applied one",
                            m.path,
                            framework(layout)
                        ),
                    });
                }
                out.migrations.push(state(index, m, State::Applied, reason));
            }
            VersionStatus::Failed => {
                out.drift.push(Drift {
                    kind: DriftKind::Failed,
                    path: Some(m.path.clone()),
                    version: Some(version.to_string()),
                    line: Some(1),
                    message: failed_message(layout, version, table),
                });
                out.migrations.push(state(
                    index,
                    m,
                    State::Pending,
                    format!("recorded as failed in {table}: reviewed again"),
                ));
            }
            VersionStatus::Pending => {
                if let Some(high) = highest.filter(|h| {
                    compare_versions(layout, version, &h.version) == Some(Ordering::Less)
                }) {
                    out.drift.push(Drift {
                        kind: DriftKind::OutOfOrder,
                        path: Some(m.path.clone()),
                        version: Some(version.to_string()),
                        line: Some(1),
                        message: format!(
                            "{} (version {version}) is not applied on the copy, but the later \
                             version {} is (recorded in {table}): {}",
                            m.path,
                            high.version,
                            out_of_order_consequence(layout)
                        ),
                    });
                }
                out.migrations.push(state(
                    index,
                    m,
                    State::Pending,
                    format!("not recorded in {table}"),
                ));
            }
            VersionStatus::Unknown => out.migrations.push(state(
                index,
                m,
                State::Pending,
                format!("{table} cannot tell whether version {version} is applied"),
            )),
        }
    }
    for (entry, _) in history
        .versions
        .iter()
        .zip(&matched)
        .filter(|(_, matched)| !**matched)
    {
        // Flyway's baseline row stands for versions that were never files.
        let is_baseline = history.baseline.as_deref().is_some_and(|b| {
            !entry.version.is_empty()
                && compare_versions(layout, &entry.version, b) == Some(Ordering::Equal)
        });
        if is_baseline {
            continue;
        }
        out.drift.push(missing_file(history, entry, folder));
    }
}

/// The latest history entry of the Flyway repeatable migration `name` (the file's description,
/// which Flyway records with underscores as spaces).
fn repeatable_entry<'a>(history: &'a AppliedMigrations, name: &str) -> Option<&'a AppliedVersion> {
    let spaced = name.replace('_', " ");
    history.versions.iter().rev().find(|v| {
        v.version.is_empty()
            && v.description
                .as_deref()
                .is_some_and(|d| d == spaced || d == name)
    })
}

/// A Flyway repeatable migration: pending when never run or changed since its last run.
fn repeatable(
    drift: &mut Vec<Drift>,
    index: usize,
    m: &Migration,
    entry: Option<&AppliedVersion>,
    table: &str,
) -> MigrationState {
    let Some(entry) = entry else {
        return state(
            index,
            m,
            State::Pending,
            format!("repeatable migration never run on the copy (not in {table})"),
        );
    };
    if !entry.success {
        drift.push(Drift {
            kind: DriftKind::Failed,
            path: Some(m.path.clone()),
            version: Some(m.name.clone()),
            line: Some(1),
            message: format!(
                "the last run of repeatable migration {} failed on the copy (recorded in \
                 {table}): Flyway refuses to migrate until `flyway repair`, and the copy may \
                 hold part of it",
                m.path
            ),
        });
        return state(
            index,
            m,
            State::Pending,
            format!("its last run is recorded as failed in {table}: reviewed again"),
        );
    }
    let unchanged = match &entry.checksum {
        Some(Checksum::Crc32(stored)) => *stored == flyway_checksum(m.up.file.text.as_bytes()),
        // No checksum recorded: Flyway cannot tell either, and does not re-run it.
        None => true,
        Some(Checksum::Sha384(_) | Checksum::Sha256(_)) => false,
    };
    if unchanged {
        state(
            index,
            m,
            State::Applied,
            format!("repeatable migration unchanged since it last ran on the copy (recorded in {table})"),
        )
    } else {
        state(
            index,
            m,
            State::Pending,
            format!(
                "repeatable migration changed since it last ran on the copy (checksum in \
                 {table} differs): Flyway runs it again"
            ),
        )
    }
}

/// Whether the history's checksum for `version` is known and differs from the file's.
fn checksum_differs(history: &AppliedMigrations, version: &str, m: &Migration) -> bool {
    let text = m.up.file.text.as_bytes();
    match history.checksum_matches(version, text) {
        None | Some(true) => false,
        Some(false) => {
            // The loader drops a UTF-8 byte-order mark; sqlx hashed the file with it.
            let mut with_bom = b"\xEF\xBB\xBF".to_vec();
            with_bom.extend_from_slice(text);
            if history.checksum_matches(version, &with_bom) == Some(true) {
                return false;
            }
            // A file that is not UTF-8 reached us with replacement characters: sqlx could not
            // have read it either, so its bytes are unknown here rather than changed.
            let sha = matches!(
                history.find(version).and_then(|v| v.checksum.as_ref()),
                Some(Checksum::Sha384(_))
            );
            !(sha && m.up.file.text.contains('\u{fffd}'))
        }
    }
}

fn failed_message(layout: Layout, version: &str, table: &str) -> String {
    let consequence = match layout {
        Layout::Sqlx => "sqlx refuses to migrate while a failed version is recorded",
        Layout::GolangMigrate => {
            "the copy is dirty: golang-migrate refuses to migrate until `migrate force`"
        }
        Layout::Flyway => "Flyway refuses to migrate until `flyway repair`",
        _ => "the next run may fail or repeat it",
    };
    format!(
        "version {version} is recorded as failed in {table}: {consequence}, and the copy may \
         hold part of this migration, so what it reports may not match a clean run"
    )
}

fn out_of_order_consequence(layout: Layout) -> &'static str {
    match layout {
        Layout::Goose => {
            "goose up refuses to apply a missing migration below the current version unless \
             run with -allow-missing"
        }
        Layout::Flyway => {
            "Flyway ignores it and fails validation unless outOfOrder is enabled; with it, \
             Flyway runs it after the later versions"
        }
        Layout::Dbmate => {
            "dbmate up runs it after the later versions (dbmate up --strict refuses it), on a \
             schema newer than the one it was written for"
        }
        Layout::Sqlx => {
            "sqlx runs it after the later versions, on a schema newer than the one it was \
             written for"
        }
        Layout::Diesel => {
            "diesel runs it after the later versions, on a schema newer than the one it was \
             written for"
        }
        Layout::GolangMigrate => "golang-migrate never runs it",
        Layout::Atlas => {
            "`atlas migrate apply` refuses a file added out of order unless run with \
             --exec-order linear-skip or non-linear"
        }
        Layout::Temporal | Layout::Dolphinscheduler | Layout::Authelia => {
            "the tool records only its current version and never runs it"
        }
        Layout::Popx => "popx runs it after the later versions, on a schema newer than the one it was written for",
        Layout::Plain | Layout::Alembic | Layout::Prisma | Layout::Liquibase | Layout::Django => {
            "it runs after the later versions"
        }
    }
}

/// A history entry no file accounts for.
fn missing_file(history: &AppliedMigrations, entry: &AppliedVersion, folder: &str) -> Drift {
    let table = history.table.as_str();
    let what = if entry.version.is_empty() {
        format!(
            "repeatable migration \"{}\"",
            entry.description.as_deref().unwrap_or("")
        )
    } else {
        match &entry.description {
            Some(d) if !d.is_empty() => format!("version {} ({d})", entry.version),
            _ => format!("version {}", entry.version),
        }
    };
    let consequence = match history.layout {
        Layout::Sqlx => " sqlx refuses to migrate while an applied version is missing.",
        Layout::GolangMigrate => {
            " golang-migrate cannot migrate from a current version it has no file for."
        }
        Layout::Flyway => " Flyway fails validation on an applied migration it cannot resolve.",
        _ => "",
    };
    Drift {
        kind: DriftKind::MissingFile,
        path: None,
        version: Some(if entry.version.is_empty() {
            entry.description.clone().unwrap_or_default()
        } else {
            entry.version.clone()
        }),
        line: None,
        message: format!(
            "{what} is applied on the copy (recorded in {table}) but missing from {folder}: the \
             copy is ahead of this branch, or a migration was deleted/renamed.{consequence}"
        ),
    }
}

/// The highest version the history records, in the framework's order.
fn highest_applied(history: &AppliedMigrations) -> Option<&AppliedVersion> {
    let mut best: Option<&AppliedVersion> = None;
    for v in history.versions.iter().filter(|v| !v.version.is_empty()) {
        match best {
            None => best = Some(v),
            Some(b) => {
                if compare_versions(history.layout, &v.version, &b.version)
                    == Some(Ordering::Greater)
                {
                    best = Some(v);
                }
            }
        }
    }
    best
}

/// Orders two versions as `layout` does; `None` when they cannot be ordered (alembic revision
/// ids, plain file numbers, anything unparsable). Mirrors the equality rules of
/// `AppliedMigrations::find`.
fn compare_versions(layout: Layout, a: &str, b: &str) -> Option<Ordering> {
    match layout {
        Layout::Sqlx | Layout::GolangMigrate | Layout::Goose => {
            let a = a.trim().parse::<i64>().ok()?;
            let b = b.trim().parse::<i64>().ok()?;
            Some(a.cmp(&b))
        }
        // diesel stores the folder's timestamp without separators; dbmate the digits as
        // written, which it orders as strings of equal length.
        Layout::Diesel | Layout::Dbmate => {
            let digits = |s: &str| -> Option<String> {
                let d: String = s.chars().filter(|c| *c != '-' && *c != '_').collect();
                (!d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| d.trim_start_matches('0').to_string())
            };
            let (a, b) = (digits(a)?, digits(b)?);
            Some(a.len().cmp(&b.len()).then_with(|| a.cmp(&b)))
        }
        Layout::Flyway => Some(flyway_parts(a)?.cmp(&flyway_parts(b)?)),
        // Atlas orders its files by name.
        Layout::Atlas => Some(a.cmp(b)),
        Layout::Popx | Layout::Temporal | Layout::Dolphinscheduler | Layout::Authelia => {
            crate::evidence::history::compare_versions(layout, a, b)
        }
        Layout::Alembic | Layout::Plain | Layout::Prisma | Layout::Liquibase | Layout::Django => {
            None
        }
    }
}

/// Flyway's version as comparable integer parts, trailing zero parts dropped (`1.0` = `1`).
fn flyway_parts(version: &str) -> Option<Vec<u128>> {
    let v = version.trim();
    let v = v.strip_prefix(['V', 'v']).unwrap_or(v);
    let mut parts = v
        .split(['.', '_'])
        .map(|p| p.parse::<u128>().ok())
        .collect::<Option<Vec<_>>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// alembic: a revision is applied when it is a head recorded in `alembic_version` or an
/// ancestor of one, following the parents named in `-- Running upgrade <parents> -> <rev>`.
fn alembic(out: &mut Pending, migrations: &[Migration], history: &AppliedMigrations, folder: &str) {
    let table = history.table.as_str();
    let heads: Vec<&str> = history
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .filter(|v| !v.is_empty())
        .collect();
    if heads.is_empty() {
        out.notes.push(format!(
            "{table} on the copy is empty: no alembic revision is applied, all are reviewed"
        ));
        all_pending(out, migrations, &format!("not applied: {table} is empty"));
        return;
    }
    let upgrade = |m: &Migration| m.layout == Layout::Alembic && m.name.starts_with("upgrade ");
    let revision_index = |rev: &str| {
        migrations
            .iter()
            .position(|m| upgrade(m) && m.version.as_deref() == Some(rev))
    };
    // For each migration, the head it is (an ancestor of), if any.
    let mut applied_by: Vec<Option<&str>> = vec![None; migrations.len()];
    for head in &heads {
        let Some(start) = revision_index(head) else {
            let known_parent = migrations
                .iter()
                .any(|m| upgrade(m) && alembic_parents(&m.name).any(|p| p == *head));
            if !known_parent {
                out.drift.push(Drift {
                    kind: DriftKind::UnknownHead,
                    path: None,
                    version: Some(head.to_string()),
                    line: None,
                    message: format!(
                        "the copy's alembic head {head} (recorded in {table}) is not among the \
                         revisions in {folder}: the copy is ahead of this branch, a revision was \
                         deleted, or the SQL was generated for another range"
                    ),
                });
            }
            continue;
        };
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            let Some(slot) = applied_by.get_mut(i) else {
                continue;
            };
            if slot.is_some() {
                continue;
            }
            *slot = Some(head);
            if let Some(m) = migrations.get(i) {
                stack.extend(alembic_parents(&m.name).filter_map(revision_index));
            }
        }
    }
    for (index, m) in migrations.iter().enumerate() {
        let verdict = if !upgrade(m) {
            state(
                index,
                m,
                State::Pending,
                "not an upgrade section: not compared with the history".to_string(),
            )
        } else {
            match applied_by.get(index).copied().flatten() {
                Some(head) if m.version.as_deref() == Some(head) => {
                    state(index, m, State::Applied, applied_reason(table, None))
                }
                Some(head) => state(
                    index,
                    m,
                    State::Applied,
                    format!(
                        "applied on the copy: an ancestor of its alembic head {head} (recorded \
                         in {table})"
                    ),
                ),
                None => state(
                    index,
                    m,
                    State::Pending,
                    format!("not at or below the alembic head recorded in {table}"),
                ),
            }
        };
        out.migrations.push(verdict);
    }
}

/// The parent revisions in our alembic migration name `upgrade <parents> -> <rev>`; `<base>`
/// and merge tuples (`(a, b)`) handled.
fn alembic_parents(name: &str) -> impl Iterator<Item = &str> {
    let parents = name
        .strip_prefix("upgrade ")
        .and_then(|rest| rest.rsplit_once(" -> "))
        .map(|(parents, _)| parents)
        .unwrap_or("");
    parents
        .split(',')
        .map(|p| p.trim().trim_matches(['(', ')']).trim())
        .filter(|p| !p.is_empty() && *p != "<base>")
}

/// The folder the migrations came from, as shown in reports: the deepest directory holding
/// all of them (a diesel migration's folder counts as a file), or the one text they share
/// (alembic offline SQL, stdin).
fn folder_of(migrations: &[Migration]) -> String {
    let dirs: Vec<String> = migrations
        .iter()
        .map(|m| {
            // Alembic offline SQL is one text; revision files (`.py`) live in a folder.
            if (m.layout == Layout::Alembic && !m.path.ends_with(".py")) || m.path == "-" {
                return m.path.clone();
            }
            let mut path = m.path.as_str();
            if m.layout == Layout::Diesel {
                path = parent(path);
            }
            parent(path).to_string()
        })
        .collect();
    let Some(first) = dirs.first() else {
        return "the migration folder".to_string();
    };
    if dirs.iter().all(|d| d == first) {
        return display_folder(first);
    }
    let mut common: Vec<&str> = first.split('/').collect();
    for d in &dirs {
        let parts: Vec<&str> = d.split('/').collect();
        let same = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(same);
    }
    display_folder(&common.join("/"))
}

fn display_folder(dir: &str) -> String {
    match dir {
        "-" => "the SQL on standard input".to_string(),
        "" | "." => "the current folder".to_string(),
        d => d.to_string(),
    }
}

/// `a/b/c.sql` → `a/b`; `c.sql` → `.`.
fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => ".",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::history::sqlx_checksum;
    use crate::model::{Part, SourceFile};
    use std::sync::Arc;

    fn migration(layout: Layout, path: &str, version: Option<&str>, text: &str) -> Migration {
        let name = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".sql")
            .to_string();
        Migration {
            path: path.to_string(),
            version: version.map(str::to_string),
            name,
            layout,
            repeatable: false,
            up: Part {
                file: Arc::new(SourceFile {
                    display: path.to_string(),
                    text: text.to_string(),
                }),
                segments: Vec::new(),
                transaction: crate::model::Transaction::File,
                runner: crate::model::Runner::default(),
            },
            down: None,
            header: 0..0,
            load_notes: Vec::new(),
        }
    }

    fn entry(version: &str, checksum: Option<Checksum>, success: bool) -> AppliedVersion {
        AppliedVersion {
            version: version.to_string(),
            description: None,
            checksum,
            success,
        }
    }

    fn history(layout: Layout, table: &str, versions: Vec<AppliedVersion>) -> AppliedMigrations {
        AppliedMigrations {
            layout,
            table: table.to_string(),
            table_found: true,
            semantics: match layout {
                Layout::GolangMigrate => Semantics::UpTo,
                Layout::Alembic => Semantics::Heads,
                _ => Semantics::PerVersion,
            },
            versions,
            baseline: None,
        }
    }

    fn states(p: &Pending) -> Vec<(&str, State)> {
        p.migrations
            .iter()
            .map(|m| (m.version.as_deref().unwrap_or("-"), m.state))
            .collect()
    }

    fn kinds(p: &Pending) -> Vec<(DriftKind, &str)> {
        p.drift
            .iter()
            .map(|d| (d.kind, d.version.as_deref().unwrap_or("-")))
            .collect()
    }

    use State::{Applied, Pending as P};

    const A: &str = "CREATE TABLE a (id int);\n";
    const B: &str = "CREATE TABLE b (id int);\n";
    const C: &str = "CREATE TABLE c (id int);\n";

    fn sqlx_folder() -> Vec<Migration> {
        vec![
            migration(Layout::Sqlx, "db/m/1_a.sql", Some("1"), A),
            migration(Layout::Sqlx, "db/m/2_b.sql", Some("2"), B),
            migration(Layout::Sqlx, "db/m/3_c.sql", Some("3"), C),
        ]
    }

    #[test]
    fn sqlx_applied_versions_are_skipped_with_their_table() {
        let h = history(
            Layout::Sqlx,
            "public._sqlx_migrations",
            vec![
                entry(
                    "1",
                    Some(Checksum::Sha384(sqlx_checksum(A.as_bytes()))),
                    true,
                ),
                entry(
                    "2",
                    Some(Checksum::Sha384(sqlx_checksum(B.as_bytes()))),
                    true,
                ),
            ],
        );
        let p = classify(&sqlx_folder(), Some(&h), Layout::Sqlx);
        assert_eq!(states(&p), [("1", Applied), ("2", Applied), ("3", P)]);
        assert_eq!(
            p.migrations[0].reason,
            "applied on the copy (recorded in public._sqlx_migrations)"
        );
        assert_eq!(
            p.migrations[2].reason,
            "not recorded in public._sqlx_migrations"
        );
        assert!(p.drift.is_empty(), "{:?}", p.drift);
        assert!(p.notes.is_empty());
        assert!(!p.is_pending(0) && p.is_pending(2) && p.is_pending(99));
        assert_eq!(p.pending().count(), 1);
        assert_eq!(p.applied().count(), 2);
    }

    #[test]
    fn sqlx_edited_file_missing_file_and_out_of_order_are_drift() {
        let h = history(
            Layout::Sqlx,
            "public._sqlx_migrations",
            vec![
                entry(
                    "1",
                    Some(Checksum::Sha384(sqlx_checksum(b"CREATE TABLE a ();\n"))),
                    true,
                ),
                entry("4", Some(Checksum::Sha384(sqlx_checksum(b"x"))), true),
            ],
        );
        let p = classify(&sqlx_folder(), Some(&h), Layout::Sqlx);
        assert_eq!(states(&p), [("1", Applied), ("2", P), ("3", P)]);
        assert_eq!(
            kinds(&p),
            [
                (DriftKind::ChecksumChanged, "1"),
                (DriftKind::OutOfOrder, "2"),
                (DriftKind::OutOfOrder, "3"),
                (DriftKind::MissingFile, "4"),
            ]
        );
        let edited = &p.drift[0];
        assert_eq!(edited.path.as_deref(), Some("db/m/1_a.sql"));
        assert_eq!(edited.line, Some(1));
        assert!(
            edited.message.contains("changed after it was applied"),
            "{}",
            edited.message
        );
        let late = &p.drift[1];
        assert!(
            late.message.contains("the later version 4 is"),
            "{}",
            late.message
        );
        assert!(late
            .message
            .contains("sqlx runs it after the later versions"));
        let missing = &p.drift[3];
        assert_eq!(missing.path, None);
        assert!(
            missing.message.starts_with(
                "version 4 is applied on the copy (recorded in public._sqlx_migrations) but \
                 missing from db/m: the copy is ahead of this branch, or a migration was \
                 deleted/renamed."
            ),
            "{}",
            missing.message
        );
    }

    #[test]
    fn sqlx_checksum_of_a_file_with_a_byte_order_mark_matches() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(A.as_bytes());
        let h = history(
            Layout::Sqlx,
            "_sqlx_migrations",
            vec![entry(
                "1",
                Some(Checksum::Sha384(sqlx_checksum(&with_bom))),
                true,
            )],
        );
        let p = classify(&sqlx_folder()[..1], Some(&h), Layout::Sqlx);
        assert_eq!(states(&p), [("1", Applied)]);
        assert!(p.drift.is_empty());
    }

    #[test]
    fn a_failed_version_is_reviewed_again_and_is_drift() {
        let h = history(
            Layout::Sqlx,
            "_sqlx_migrations",
            vec![
                entry(
                    "1",
                    Some(Checksum::Sha384(sqlx_checksum(A.as_bytes()))),
                    true,
                ),
                entry(
                    "2",
                    Some(Checksum::Sha384(sqlx_checksum(B.as_bytes()))),
                    false,
                ),
            ],
        );
        let p = classify(&sqlx_folder(), Some(&h), Layout::Sqlx);
        assert_eq!(states(&p), [("1", Applied), ("2", P), ("3", P)]);
        assert_eq!(kinds(&p), [(DriftKind::Failed, "2")]);
        assert!(p.drift[0].message.contains("sqlx refuses to migrate"));
    }

    #[test]
    fn golang_migrate_counts_everything_up_to_its_version() {
        let folder = vec![
            migration(Layout::GolangMigrate, "m/1_a.up.sql", Some("1"), A),
            migration(Layout::GolangMigrate, "m/2_b.up.sql", Some("2"), B),
            migration(Layout::GolangMigrate, "m/3_c.up.sql", Some("3"), C),
        ];
        let h = history(
            Layout::GolangMigrate,
            "public.schema_migrations",
            vec![entry("2", None, true)],
        );
        let p = classify(&folder, Some(&h), Layout::GolangMigrate);
        assert_eq!(states(&p), [("1", Applied), ("2", Applied), ("3", P)]);
        assert!(
            p.migrations[0].reason.contains("below version 2"),
            "{}",
            p.migrations[0].reason
        );
        assert!(p.drift.is_empty());

        let dirty = history(
            Layout::GolangMigrate,
            "schema_migrations",
            vec![entry("2", None, false)],
        );
        let p = classify(&folder, Some(&dirty), Layout::GolangMigrate);
        assert_eq!(states(&p), [("1", Applied), ("2", P), ("3", P)]);
        assert_eq!(kinds(&p), [(DriftKind::Failed, "2")]);
        assert!(p.drift[0].message.contains("migrate force"));

        let ahead = history(
            Layout::GolangMigrate,
            "schema_migrations",
            vec![entry("7", None, true)],
        );
        let p = classify(&folder, Some(&ahead), Layout::GolangMigrate);
        assert!(p.migrations.iter().all(|m| m.state == Applied));
        assert_eq!(kinds(&p), [(DriftKind::MissingFile, "7")]);
        assert!(
            p.drift[0].message.contains("missing from m:"),
            "{}",
            p.drift[0].message
        );
    }

    #[test]
    fn goose_refuses_a_missing_migration_below_the_current_one() {
        let folder = vec![
            migration(Layout::Goose, "g/1_a.sql", Some("1"), A),
            migration(Layout::Goose, "g/2_b.sql", Some("2"), B),
            migration(Layout::Goose, "g/3_c.sql", Some("3"), C),
        ];
        let h = history(
            Layout::Goose,
            "goose_db_version",
            vec![entry("1", None, true), entry("3", None, true)],
        );
        let p = classify(&folder, Some(&h), Layout::Goose);
        assert_eq!(states(&p), [("1", Applied), ("2", P), ("3", Applied)]);
        assert_eq!(kinds(&p), [(DriftKind::OutOfOrder, "2")]);
        assert!(p.drift[0].message.contains("-allow-missing"));
    }

    #[test]
    fn dbmate_and_diesel_compare_timestamps() {
        let folder = vec![
            migration(
                Layout::Dbmate,
                "d/20240101000000_a.sql",
                Some("20240101000000"),
                A,
            ),
            migration(
                Layout::Dbmate,
                "d/20240301000000_b.sql",
                Some("20240301000000"),
                B,
            ),
        ];
        let h = history(
            Layout::Dbmate,
            "schema_migrations",
            vec![entry("20240201000000", None, true)],
        );
        let p = classify(&folder, Some(&h), Layout::Dbmate);
        assert_eq!(states(&p), [("20240101000000", P), ("20240301000000", P)]);
        assert_eq!(
            kinds(&p),
            [
                (DriftKind::OutOfOrder, "20240101000000"),
                (DriftKind::MissingFile, "20240201000000")
            ]
        );
        assert!(p.drift[0].message.contains("--strict"));

        let diesel = vec![migration(
            Layout::Diesel,
            "migrations/2024-01-15-103000_create_users/up.sql",
            Some("20240115103000"),
            A,
        )];
        let h = history(
            Layout::Diesel,
            "__diesel_schema_migrations",
            vec![entry("20240115103000", None, true)],
        );
        let p = classify(&diesel, Some(&h), Layout::Diesel);
        assert_eq!(states(&p), [("20240115103000", Applied)]);
        let h = history(
            Layout::Diesel,
            "__diesel_schema_migrations",
            vec![entry("20240116000000", None, true)],
        );
        let p = classify(&diesel, Some(&h), Layout::Diesel);
        assert!(
            p.drift.iter().any(|d| d.kind == DriftKind::MissingFile
                && d.message.contains("missing from migrations:")),
            "{:?}",
            p.drift
        );
    }

    fn flyway_folder() -> Vec<Migration> {
        let mut views = migration(Layout::Flyway, "f/R__employee_views.sql", None, C);
        views.name = "employee_views".to_string();
        views.repeatable = true;
        vec![
            migration(Layout::Flyway, "f/V1__a.sql", Some("1"), A),
            migration(Layout::Flyway, "f/V1.1__b.sql", Some("1.1"), B),
            views,
        ]
    }

    fn flyway_entry(version: &str, description: &str, text: &str) -> AppliedVersion {
        AppliedVersion {
            version: version.to_string(),
            description: Some(description.to_string()),
            checksum: Some(Checksum::Crc32(flyway_checksum(text.as_bytes()))),
            success: true,
        }
    }

    #[test]
    fn flyway_versions_checksums_and_repeatables() {
        let h = history(
            Layout::Flyway,
            "public.flyway_schema_history",
            vec![
                flyway_entry("1", "a", "CREATE TABLE a (id bigint);"),
                flyway_entry("1.1", "b", &B.replace('\n', "\r\n")),
                flyway_entry("", "employee views", C),
            ],
        );
        let p = classify(&flyway_folder(), Some(&h), Layout::Flyway);
        assert_eq!(
            states(&p),
            [("1", Applied), ("1.1", Applied), ("-", Applied)]
        );
        assert_eq!(
            kinds(&p),
            [(DriftKind::ChecksumChanged, "1")],
            "line endings do not count"
        );
        assert!(p.migrations[2]
            .reason
            .starts_with("repeatable migration unchanged"));

        // A changed repeatable is pending, not drift; one never run is pending too.
        let h = history(
            Layout::Flyway,
            "flyway_schema_history",
            vec![
                flyway_entry("1", "a", A),
                flyway_entry("", "employee views", "old view"),
            ],
        );
        let p = classify(&flyway_folder(), Some(&h), Layout::Flyway);
        assert_eq!(states(&p), [("1", Applied), ("1.1", P), ("-", P)]);
        assert!(p.drift.is_empty(), "{:?}", p.drift);
        assert!(p.migrations[2].reason.contains("changed since it last ran"));
        let h = history(
            Layout::Flyway,
            "flyway_schema_history",
            vec![flyway_entry("1", "a", A)],
        );
        let p = classify(&flyway_folder(), Some(&h), Layout::Flyway);
        assert!(p.migrations[2].reason.contains("never run"));
    }

    #[test]
    fn flyway_baseline_out_of_order_and_missing_repeatable() {
        let mut h = history(
            Layout::Flyway,
            "flyway_schema_history",
            vec![
                AppliedVersion {
                    version: "1".into(),
                    description: Some("<< Flyway Baseline >>".into()),
                    checksum: None,
                    success: true,
                },
                flyway_entry("2", "c", C),
                flyway_entry("", "gone view", "x"),
            ],
        );
        h.baseline = Some("1".into());
        let folder = vec![
            migration(Layout::Flyway, "f/V0_9__a.sql", Some("0.9"), A),
            migration(Layout::Flyway, "f/V1_5__b.sql", Some("1.5"), B),
            migration(Layout::Flyway, "f/V2__c.sql", Some("2"), C),
        ];
        let p = classify(&folder, Some(&h), Layout::Flyway);
        assert_eq!(states(&p), [("0.9", Applied), ("1.5", P), ("2", Applied)]);
        assert!(
            p.migrations[0].reason.contains("baseline 1"),
            "{}",
            p.migrations[0].reason
        );
        assert_eq!(
            kinds(&p),
            [
                (DriftKind::OutOfOrder, "1.5"),
                (DriftKind::MissingFile, "gone view")
            ],
            "the baseline row is no missing file"
        );
        assert!(p.drift[0].message.contains("outOfOrder"));
        assert!(p.drift[1]
            .message
            .starts_with("repeatable migration \"gone view\""));
    }

    fn alembic_sql() -> Vec<Migration> {
        let rev = |from: &str, to: &str| {
            let mut m = migration(Layout::Alembic, "upgrade.sql", Some(to), A);
            m.name = format!("upgrade {from} -> {to}");
            m
        };
        vec![
            rev("<base>", "r1"),
            rev("r1", "r2"),
            rev("r2", "r3"),
            rev("r3", "r4"),
        ]
    }

    #[test]
    fn alembic_head_and_its_ancestors_are_applied() {
        let h = history(
            Layout::Alembic,
            "public.alembic_version",
            vec![entry("r2", None, true)],
        );
        let p = classify(&alembic_sql(), Some(&h), Layout::Alembic);
        assert_eq!(
            states(&p),
            [("r1", Applied), ("r2", Applied), ("r3", P), ("r4", P)]
        );
        assert!(p.migrations[0]
            .reason
            .contains("ancestor of its alembic head r2"));
        assert_eq!(
            p.migrations[1].reason,
            "applied on the copy (recorded in public.alembic_version)"
        );
        assert!(p.drift.is_empty());

        // SQL generated from the head onwards (`alembic upgrade r2:head --sql`).
        let tail: Vec<Migration> = alembic_sql().into_iter().skip(2).collect();
        let p = classify(&tail, Some(&h), Layout::Alembic);
        assert_eq!(states(&p), [("r3", P), ("r4", P)]);
        assert!(p.drift.is_empty(), "{:?}", p.drift);

        // A head the SQL does not know: the copy is ahead, or another range.
        let ahead = history(
            Layout::Alembic,
            "alembic_version",
            vec![entry("r9", None, true)],
        );
        let p = classify(&alembic_sql(), Some(&ahead), Layout::Alembic);
        assert!(p.migrations.iter().all(|m| m.state == P));
        assert_eq!(kinds(&p), [(DriftKind::UnknownHead, "r9")]);
        assert!(p.drift[0]
            .message
            .contains("not among the revisions in upgrade.sql"));

        let empty = history(Layout::Alembic, "alembic_version", vec![]);
        let p = classify(&alembic_sql(), Some(&empty), Layout::Alembic);
        assert!(p.migrations.iter().all(|m| m.state == P));
        assert_eq!(p.notes.len(), 1);
    }

    #[test]
    fn alembic_merge_revisions_apply_both_branches() {
        let rev = |from: &str, to: &str| {
            let mut m = migration(Layout::Alembic, "-", Some(to), A);
            m.name = format!("upgrade {from} -> {to}");
            m
        };
        let sql = vec![
            rev("<base>", "a"),
            rev("a", "b1"),
            rev("a", "c1"),
            rev("b1, c1", "m"),
            rev("m", "n"),
        ];
        let h = history(
            Layout::Alembic,
            "alembic_version",
            vec![entry("m", None, true)],
        );
        let p = classify(&sql, Some(&h), Layout::Alembic);
        assert_eq!(
            states(&p),
            [
                ("a", Applied),
                ("b1", Applied),
                ("c1", Applied),
                ("m", Applied),
                ("n", P)
            ]
        );
        // Two heads on separate branches.
        let h = history(
            Layout::Alembic,
            "alembic_version",
            vec![entry("b1", None, true), entry("c1", None, true)],
        );
        let p = classify(&sql, Some(&h), Layout::Alembic);
        assert_eq!(
            states(&p),
            [
                ("a", Applied),
                ("b1", Applied),
                ("c1", Applied),
                ("m", P),
                ("n", P)
            ]
        );
    }

    #[test]
    fn no_history_table_means_everything_is_pending_with_a_note() {
        let mut h = history(Layout::Sqlx, "_sqlx_migrations", vec![]);
        h.table_found = false;
        let p = classify(&sqlx_folder(), Some(&h), Layout::Sqlx);
        assert!(p.migrations.iter().all(|m| m.state == P));
        assert!(p.drift.is_empty());
        assert_eq!(p.notes.len(), 1);
        assert!(
            p.notes[0].starts_with("the copy has no _sqlx_migrations table"),
            "{}",
            p.notes[0]
        );
        assert_eq!(
            p.migrations[0].reason,
            "not applied: the copy has no _sqlx_migrations table"
        );

        let plain = vec![migration(Layout::Plain, "p/001_a.sql", Some("001"), A)];
        let p = classify(&plain, None, Layout::Plain);
        assert_eq!(states(&p), [("001", P)]);
        assert!(p.notes[0].contains("keep no history table"));
    }

    #[test]
    fn a_migration_without_version_is_pending() {
        let lone = vec![migration(Layout::Sqlx, "-", None, A)];
        let h = history(Layout::Sqlx, "_sqlx_migrations", vec![]);
        let p = classify(&lone, Some(&h), Layout::Sqlx);
        assert_eq!(states(&p), [("-", P)]);
        assert!(p.migrations[0].reason.contains("no version"));
    }

    #[test]
    fn folder_names() {
        let at = |paths: &[&str]| {
            let ms: Vec<Migration> = paths
                .iter()
                .map(|p| migration(Layout::Flyway, p, Some("1"), A))
                .collect();
            folder_of(&ms)
        };
        assert_eq!(at(&["db/f/V1__a.sql", "db/f/legacy/V0__b.sql"]), "db/f");
        assert_eq!(at(&["V1__a.sql"]), "the current folder");
        assert_eq!(at(&["/abs/V1__a.sql"]), "/abs");
        assert_eq!(folder_of(&[]), "the migration folder");
    }

    #[test]
    fn versions_order_as_each_framework_does() {
        assert_eq!(
            compare_versions(Layout::Sqlx, "0002", "10"),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_versions(Layout::Flyway, "1.10", "1.9"),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_versions(Layout::Flyway, "1.0", "1"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_versions(Layout::Diesel, "2024-01-15-103000", "20240115103000"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_versions(Layout::Dbmate, "9", "10"),
            Some(Ordering::Less)
        );
        assert_eq!(compare_versions(Layout::Alembic, "a", "b"), None);
        assert_eq!(compare_versions(Layout::Goose, "x", "1"), None);
    }
}
