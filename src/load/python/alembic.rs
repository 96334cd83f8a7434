//! Alembic revision folders (`migrations/versions/*.py` next to `env.py`, with an
//! `alembic.ini` above): each revision file is one migration, rendered by the project's own
//! Alembic in offline mode.
//!
//! migsafe runs `alembic_render.py` with the project's Python in the folder of `alembic.ini`.
//! It loads the project's script directory and env.py as `alembic upgrade heads --sql` and
//! `alembic downgrade heads:base --sql` do (so `transaction_per_migration`, `transactional_ddl`,
//! `target_metadata`, `literal_binds` are the project's), renders both in one process, and
//! marks in the SQL where each op starts (the op's line in the revision file, from the
//! calling frame), where alembic's own `alembic_version` bookkeeping starts, and where an
//! `upgrade()`/`downgrade()` could not be rendered offline (it raised: `op.get_bind()`,
//! a data migration reading rows). Such a revision gets a load note at that line and the
//! others are still reviewed.
//!
//! Order, branches and merges are alembic's own: the `-- Running upgrade <parents> -> <rev>`
//! sections come in the order alembic runs them (dependencies, `depends_on`, merge points),
//! and the parents in the migration's name are what pending detection follows against the
//! copy's `alembic_version`. The down part of a revision is its `Running downgrade` section.
//!
//! Transactions: offline SQL starts with `BEGIN;` when env.py runs alembic with transactional
//! DDL (PostgreSQL's default): `File`, statement by statement (alembic's connection executes
//! each op's SQL on its own, inside the transaction). `transaction_per_migration` writes
//! `COMMIT;`/`BEGIN;` between revisions and is named in the runner source. An
//! `autocommit_block()` writes `COMMIT;` … `BEGIN;` inside the revision's SQL, which the parser
//! follows. The `alembic_version` bookkeeping is left out of both parts (alembic's, not the
//! author's, and it needs alembic's table on the copy).

use super::child;
use super::{def_line, directive_lines, header_lines, Aligned, PythonOptions};
use crate::load::alembic::running;
use crate::load::push_segment;
use crate::load::source::{Entry, Reader};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, SourceFile, Transaction};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const RENDERER: &str = include_str!("alembic_render.py");

/// An Alembic project a versions folder belongs to.
#[derive(Debug, Clone)]
pub struct Project {
    /// The `alembic.ini` the project is run with.
    pub ini: PathBuf,
}

/// The Alembic project of the versions folder `dir`: `env.py` in its parent (the script
/// location) and an `alembic.ini` in that folder or up to two above it.
pub fn project(dir: &Path) -> Option<Project> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let script_location = dir.parent()?;
    if !script_location.join("env.py").is_file() {
        return None;
    }
    let has_py = std::fs::read_dir(&dir).ok()?.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.ends_with(".py") && name != "__init__.py"
    });
    if !has_py {
        return None;
    }
    script_location
        .ancestors()
        .take(3)
        .map(|d| d.join("alembic.ini"))
        .find(|p| p.is_file())
        .map(|ini| Project { ini })
}

/// The versions folder of an Alembic script location given as the path (`migsafe check
/// migrations` where `migrations/` holds `env.py` and `versions/`).
pub fn versions_of_script_location(dir: &Path) -> Option<PathBuf> {
    if !dir.join("env.py").is_file() {
        return None;
    }
    let versions = dir.join("versions");
    (versions.is_dir() && project(&versions).is_some()).then_some(versions)
}

#[derive(Debug, Deserialize)]
struct Rendered {
    #[serde(default)]
    alembic: String,
    revisions: Vec<Revision>,
    upgrade: Option<String>,
    #[serde(default)]
    upgrade_error: Option<String>,
    downgrade: Option<String>,
    #[serde(default)]
    downgrade_error: Option<String>,
    /// Revision files alembic could not import; the others are rendered without them.
    #[serde(default)]
    load_errors: Vec<LoadError>,
}

#[derive(Debug, Deserialize)]
struct LoadError {
    path: String,
    line: Option<usize>,
    message: String,
}

#[derive(Debug, Deserialize)]
struct Revision {
    revision: String,
    #[serde(default)]
    down_revisions: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    branch_labels: Vec<String>,
    path: String,
}

/// One `-- Running` section of the offline SQL.
struct Section<'a> {
    from: String,
    to: String,
    body: &'a str,
}

fn sections(text: &str, upgrade: bool) -> Vec<Section<'_>> {
    let mut out: Vec<(String, String, usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if let Some((up, from, to)) = running(line) {
            if up == upgrade {
                if let Some(last) = out.last_mut() {
                    last.3 = pos;
                }
                out.push((from, to, pos + line.len(), text.len()));
            }
        }
        pos += line.len();
    }
    out.into_iter()
        .map(|(from, to, start, end)| Section {
            from,
            to,
            body: text.get(start..end).unwrap_or(""),
        })
        .collect()
}

/// A piece of one section: what follows a marker, up to the next.
#[derive(Debug, PartialEq)]
enum Chunk<'a> {
    /// SQL of the op at this line of the revision file (`None`: before any op marker).
    Op(Option<usize>, &'a str),
    /// alembic's `alembic_version` bookkeeping and the transaction boundaries after it.
    Version,
    /// The function raised while rendering.
    Error(Option<usize>, String),
}

#[derive(Deserialize)]
struct ErrorMarker {
    line: Option<usize>,
    message: String,
}

fn chunks(body: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut current: Option<(Option<usize>, usize)> = Some((None, 0));
    let mut pos = 0;
    fn close<'a>(
        body: &'a str,
        out: &mut Vec<Chunk<'a>>,
        current: Option<(Option<usize>, usize)>,
        end: usize,
    ) {
        if let Some((line, start)) = current {
            if let Some(sql) = body.get(start..end).filter(|s| !s.trim().is_empty()) {
                out.push(Chunk::Op(line, sql));
            }
        }
    }
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("-- migsafe:op ") {
            close(body, &mut out, current, pos);
            current = Some((rest.trim().parse().ok(), pos + line.len()));
        } else if t == "-- migsafe:version" {
            close(body, &mut out, current, pos);
            current = None;
            if out.last() != Some(&Chunk::Version) {
                out.push(Chunk::Version);
            }
        } else if let Some(rest) = t.strip_prefix("-- migsafe:error ") {
            close(body, &mut out, current, pos);
            current = None;
            let marker: Option<ErrorMarker> = serde_json::from_str(rest).ok();
            out.push(match marker {
                Some(m) => Chunk::Error(m.line, m.message),
                None => Chunk::Error(None, rest.to_string()),
            });
        }
        pos += line.len();
    }
    close(body, &mut out, current, body.len());
    out
}

/// The line range of `def name(` up to the next top-level statement.
fn function_lines(source: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let start = def_line(source, name)?;
    let end = source
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| !l.trim().is_empty() && !l.starts_with([' ', '\t', '#', ')']))
        .map_or(usize::MAX, |(i, _)| i + 1);
    Some(start..end)
}

/// Builds one part's aligned text from its section's chunks.
struct PartText {
    text: String,
    segments: Vec<crate::model::Segment>,
    notes: Vec<LoadNote>,
}

fn part_text(
    header: &[(usize, String)],
    directives: &[(usize, String)],
    chunks: &[Chunk<'_>],
    default_line: Option<usize>,
) -> PartText {
    let mut a = Aligned::new();
    for (line, text) in header {
        a.comment(*line, text);
    }
    let mut pending: Vec<&(usize, String)> = directives.iter().collect();
    let mut ranges = Vec::new();
    let mut notes = Vec::new();
    for chunk in chunks {
        match chunk {
            Chunk::Op(line, sql) => {
                let line = line.or(default_line);
                let mut start = None;
                if let Some(l) = line {
                    // Suppressions written above the op stay above its SQL, in its segment,
                    // where the parser reads a statement's leading comments.
                    let (before, after): (Vec<_>, Vec<_>) =
                        pending.into_iter().partition(|(dl, _)| *dl < l);
                    for (dl, text) in before {
                        start.get_or_insert(a.len());
                        a.comment(*dl, text);
                    }
                    pending = after;
                }
                let range = a.sql(line, sql);
                ranges.push(start.unwrap_or(range.start)..range.end);
            }
            Chunk::Version => {}
            Chunk::Error(line, message) => {
                notes.push(a.note(line.or(default_line), message.clone()));
            }
        }
    }
    for (dl, text) in pending {
        a.comment(*dl, text);
    }
    let text = a.finish();
    let mut segments = Vec::new();
    for r in ranges {
        push_segment(&mut segments, &text, r, false);
    }
    PartText {
        text,
        segments,
        notes,
    }
}

fn show_parents(parents: &str) -> String {
    if parents.trim().is_empty() {
        "<base>".to_string()
    } else {
        parents.trim().to_string()
    }
}

/// The migrations of the versions folder `dir` (shown as `display`).
pub(in crate::load) fn build(
    project: &Project,
    dir: &Path,
    display: &str,
    entries: &[Entry],
    reader: &mut Reader,
    options: &PythonOptions,
) -> Result<Vec<Migration>> {
    let root = project
        .ini
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let python = options.interpreter(&root, Some("alembic"));
    let args = vec![
        "-c".to_string(),
        RENDERER.to_string(),
        project.ini.display().to_string(),
    ];
    let what = format!("rendering the Alembic revisions of {display}");
    let out = child::run(&python, &args, &root, options.timeout(), &what)?;
    let rendered: Rendered = serde_json::from_str(out.stdout.trim()).with_context(|| {
        format!(
            "{what}: the renderer printed no result; its stderr:\n{}",
            child::tail(&out.stderr, 30)
        )
    })?;
    let Some(upgrade) = rendered.upgrade.as_deref() else {
        bail!(
            "{what}: `alembic upgrade heads --sql` failed in {} (alembic {}): fix env.py or \
             the revision files so that offline mode works:\n{}",
            root.display(),
            rendered.alembic,
            child::tail(rendered.upgrade_error.as_deref().unwrap_or(""), 30)
        );
    };
    let downgrade = rendered.downgrade.as_deref().unwrap_or("");
    let up_sections = sections(upgrade, true);
    let down_sections = sections(downgrade, false);
    let wrapped = upgrade
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN");
    let down_wrapped = downgrade
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN");
    let per_revision = up_sections.len() > 1
        && up_sections.iter().take(up_sections.len() - 1).any(|s| {
            after_bookkeeping(s.body)
                .to_ascii_uppercase()
                .contains("COMMIT;")
        });

    let canonical_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let by_path: HashMap<PathBuf, &Entry> = entries
        .iter()
        .filter(|e| e.is_file() && e.name.ends_with(".py"))
        .filter_map(|e| Some((std::fs::canonicalize(&e.path).ok()?, e)))
        .collect();
    let revisions: HashMap<&str, &Revision> = rendered
        .revisions
        .iter()
        .map(|r| (r.revision.as_str(), r))
        .collect();

    let runner = |wrapped: bool| -> (Transaction, Runner) {
        if wrapped {
            let how = if per_revision {
                "one transaction per revision (transaction_per_migration)"
            } else {
                "one transaction around the whole upgrade"
            };
            (
                Transaction::File,
                Runner::marker(format!(
                    "alembic (env.py, transactional DDL): {how}; each op's SQL is sent on its own"
                )),
            )
        } else {
            (
                Transaction::Statement,
                Runner::marker(
                    "alembic (env.py with transactional_ddl off): each statement runs on its own",
                ),
            )
        }
    };

    let mut out = Vec::new();
    for section in &up_sections {
        let Some(rev) = revisions.get(section.to.as_str()) else {
            continue;
        };
        let path = std::fs::canonicalize(&rev.path).unwrap_or_else(|_| PathBuf::from(&rev.path));
        if !path.starts_with(&canonical_dir) {
            continue;
        }
        let shown = match by_path.get(&path) {
            Some(e) => e.display.clone(),
            None => reader.display(&path),
        };
        let loaded = reader.read(&path, &shown)?;
        let source = loaded.file.text.as_str();
        let header = header_lines(source);
        let directives = directive_lines(source);
        let up_fn = function_lines(source, "upgrade");
        let down_fn = function_lines(source, "downgrade");
        let within = |range: &Option<std::ops::Range<usize>>| -> Vec<(usize, String)> {
            directives
                .iter()
                .filter(|(l, _)| range.as_ref().is_some_and(|r| r.contains(l)))
                .cloned()
                .collect()
        };
        let up = part_text(
            &header,
            &within(&up_fn),
            &chunks(section.body),
            up_fn.as_ref().map(|r| r.start),
        );
        let header_end = up.text.len().min(
            header
                .last()
                .map(|(l, _)| nth_line_end(&up.text, *l))
                .unwrap_or(0),
        );
        let (transaction, by) = runner(wrapped);
        let mut notes = up.notes;
        notes.extend(loaded.bad_utf8.clone());
        let down = down_sections
            .iter()
            .find(|d| d.from == rev.revision)
            .map(|d| {
                let p = part_text(
                    &[],
                    &within(&down_fn),
                    &chunks(d.body),
                    down_fn.as_ref().map(|r| r.start),
                );
                for n in &p.notes {
                    notes.push(LoadNote {
                        offset: down_fn
                            .as_ref()
                            .map_or(0, |r| nth_line_start(&up.text, r.start)),
                        message: n.message.clone(),
                    });
                }
                let (transaction, by) = runner(down_wrapped);
                Part {
                    file: Arc::new(SourceFile {
                        display: shown.clone(),
                        text: p.text,
                    }),
                    segments: p.segments,
                    transaction,
                    runner: by,
                }
            });
        // The parents come first (pending detection follows them); the rest of the graph
        // alembic used is shown after the revision.
        let mut name = format!(
            "upgrade {} -> {}",
            show_parents(&rev.down_revisions.join(", ")),
            rev.revision
        );
        if !rev.depends_on.is_empty() {
            name.push_str(&format!(" (depends on {})", rev.depends_on.join(", ")));
        }
        if !rev.branch_labels.is_empty() {
            name.push_str(&format!(" [branch {}]", rev.branch_labels.join(", ")));
        }
        let file = Arc::new(SourceFile {
            display: shown.clone(),
            text: up.text,
        });
        out.push(Migration {
            path: shown,
            version: Some(rev.revision.clone()),
            name,
            layout: Layout::Alembic,
            repeatable: false,
            up: Part {
                file,
                segments: up.segments,
                transaction,
                runner: by,
            },
            down,
            header: 0..header_end,
            load_notes: notes,
        });
    }
    for e in &rendered.load_errors {
        let path = std::fs::canonicalize(&e.path).unwrap_or_else(|_| PathBuf::from(&e.path));
        if !path.starts_with(&canonical_dir) {
            continue;
        }
        let shown = match by_path.get(&path) {
            Some(entry) => entry.display.clone(),
            None => reader.display(&path),
        };
        let loaded = reader.read(&path, &shown)?;
        let header = header_lines(&loaded.file.text);
        let mut a = Aligned::new();
        for (line, text) in &header {
            a.comment(*line, text);
        }
        let header_end = a.len();
        let note = a.note(
            e.line,
            format!(
                "alembic cannot load this revision file ({}), so it is not reviewed and                  `alembic upgrade` fails on it; the other revisions are reviewed without it",
                e.message
            ),
        );
        let name = path
            .file_stem()
            .map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        out.push(Migration {
            path: shown.clone(),
            version: None,
            name,
            layout: Layout::Alembic,
            repeatable: false,
            up: Part {
                file: Arc::new(SourceFile {
                    display: shown,
                    text: a.finish(),
                }),
                segments: Vec::new(),
                transaction: Transaction::File,
                runner: Runner::default_of("alembic: not rendered (the file does not load)"),
            },
            down: None,
            header: 0..header_end,
            load_notes: vec![note],
        });
    }
    if let Some(error) = rendered.downgrade_error.as_deref() {
        if let Some(first) = out.first_mut() {
            first.load_notes.push(LoadNote {
                offset: 0,
                message: format!(
                    "`alembic downgrade heads:base --sql` failed, so no revision has its \
                     downgrade() as rollback: {}",
                    error.lines().last().unwrap_or("").trim()
                ),
            });
        }
    }
    Ok(out)
}

/// What follows alembic's last `alembic_version` update in a section: the boundary
/// `transaction_per_migration` writes (an autocommit block's `COMMIT;` comes before it).
fn after_bookkeeping(body: &str) -> &str {
    body.rfind("-- migsafe:version")
        .and_then(|i| body.get(i..))
        .unwrap_or("")
}

/// Offset of the end (after `\n`) of 1-based line `line` of `text`.
fn nth_line_end(text: &str, line: usize) -> usize {
    text.match_indices('\n')
        .nth(line.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i + 1)
}

/// Offset of the start of 1-based line `line` of `text`.
fn nth_line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    nth_line_end(text, line - 1)
}

/// Whether the text of an Alembic revision file (`revision = …` and `down_revision = …`).
pub fn is_revision_file(text: &str) -> bool {
    let assigns = |key: &str| {
        text.lines().any(|l| {
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with([':', '=']))
        })
    };
    assigns("revision") && assigns("down_revision")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_the_markers() {
        let body = "\n-- migsafe:op 22\n\nALTER TABLE t ADD c int;\n\nCOMMIT;\n\n-- migsafe:op 24\n\nCREATE INDEX CONCURRENTLY i ON t (c);\n\nBEGIN;\n\n-- migsafe:version\n\nUPDATE alembic_version SET version_num='b';\n\nCOMMIT;\n\nBEGIN;\n\n";
        let c = chunks(body);
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(matches!(c[0], Chunk::Op(Some(22), s) if s.contains("COMMIT;")));
        assert!(matches!(c[1], Chunk::Op(Some(24), s) if s.contains("BEGIN;")));
        assert_eq!(c[2], Chunk::Version);
    }

    #[test]
    fn an_error_marker_becomes_a_note_at_its_line() {
        let body = "-- migsafe:error {\"line\": 30, \"message\": \"upgrade() cannot be rendered offline: boom\"}\n";
        let p = part_text(&[], &[], &chunks(body), Some(20));
        assert_eq!(p.notes.len(), 1);
        let line = p.text[..p.notes[0].offset].matches('\n').count() + 1;
        assert_eq!(line, 30);
        assert!(p.segments.is_empty());
    }

    #[test]
    fn revision_files_are_recognised() {
        assert!(is_revision_file(
            "revision: str = 'a1'\ndown_revision: Union[str, None] = None\n"
        ));
        assert!(is_revision_file("revision = 'a1'\ndown_revision = 'b2'\n"));
        assert!(!is_revision_file("from django.db import migrations\n"));
    }
}
