//! Django app migration folders (`<app>/migrations/*.py` in a project with `manage.py`): each
//! migration file is one migration, rendered by the project's own Django.
//!
//! migsafe runs `django_render.py` with the project's Python in the folder of `manage.py`. It
//! loads the project's settings (`DJANGO_SETTINGS_MODULE`, or the one `manage.py` sets) and
//! apps, builds the plan as `showmigrations --plan` does (`graph.forwards_plan` of every leaf),
//! and collects each migration of this folder's app forwards and backwards as
//! `sqlmigrate [--backwards]` does, operation by operation so that each statement is placed on
//! the line of the operation in `operations = [...]`.
//!
//! `sqlmigrate` itself needs a database: it reads `django_migrations` and its PostgreSQL
//! schema editor merges parameters with a live cursor (and asks the server for its version).
//! The renderer avoids all three (see notes/python.md): no connection is ever opened, every
//! `DATABASES` alias points at a placeholder on the `.invalid` domain, and the server version
//! is `[python] server_version`.
//!
//! - `atomic = False` on the Migration class: `Statement` (a marker); otherwise `File`, one
//!   transaction per migration with statements sent one by one (Django's schema editor).
//! - `RunPython` (and any operation that does not reduce to SQL) is listed as not reviewed, with
//!   its line: it is Python code, migsafe cannot know what it does.
//! - `SeparateDatabaseAndState`: only its `database_operations` reach the database, so only
//!   their SQL is reviewed.
//! - A migration whose backwards run is impossible (an irreversible operation) has no down
//!   part; an operation that raised while rendering is a load note at its line.

use super::child;
use super::{directive_lines, header_lines, Aligned, PythonOptions, DEFAULT_SERVER_VERSION};
use crate::load::push_segment;
use crate::load::skipped::NotReviewed;
use crate::load::source::{Entry, Reader};
use crate::model::{Layout, LoadNote, Migration, Part, Runner, Segment, SourceFile, Transaction};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const RENDERER: &str = include_str!("django_render.py");

/// The Django project an app's `migrations/` folder belongs to.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder of `manage.py`.
    pub root: PathBuf,
}

/// The Django project of `dir`: a folder named `migrations` holding `.py` migrations, with a
/// `manage.py` in one of the three folders above it.
pub fn project(dir: &Path) -> Option<Project> {
    let dir = std::fs::canonicalize(dir).ok()?;
    if dir.file_name()? != "migrations" {
        return None;
    }
    let has_migration = std::fs::read_dir(&dir).ok()?.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.ends_with(".py") && name.starts_with(|c: char| c.is_ascii_digit())
    });
    if !has_migration {
        return None;
    }
    dir.parent()?
        .ancestors()
        .take(3)
        .find(|d| d.join("manage.py").is_file())
        .map(|d| Project {
            root: d.to_path_buf(),
        })
}

#[derive(Debug, Deserialize)]
struct Rendered {
    #[serde(default)]
    django: String,
    #[serde(default)]
    settings: String,
    migrations: Vec<Rendering>,
}

#[derive(Debug, Deserialize)]
struct Rendering {
    app: String,
    name: String,
    path: String,
    atomic: bool,
    class_line: Option<usize>,
    #[serde(default)]
    op_lines: Vec<usize>,
    #[serde(default)]
    ops: Vec<Operation>,
    forwards: Option<Vec<(Option<usize>, String)>>,
    forwards_error: Option<RenderError>,
    backwards: Option<Vec<(Option<usize>, String)>>,
    backwards_error: Option<RenderError>,
}

#[derive(Debug, Deserialize)]
struct Operation {
    kind: String,
    describe: String,
    reviewable: bool,
}

#[derive(Debug, Deserialize)]
struct RenderError {
    line: Option<usize>,
    message: String,
    #[serde(default)]
    irreversible: bool,
}

/// One direction's aligned text.
fn part_text(
    header: &[(usize, String)],
    directives: &[(usize, String)],
    pieces: &[(Option<usize>, String)],
    line_of: &dyn Fn(Option<usize>) -> Option<usize>,
) -> (String, Vec<Segment>) {
    let mut a = Aligned::new();
    for (line, text) in header {
        a.comment(*line, text);
    }
    let mut pending: Vec<&(usize, String)> = directives.iter().collect();
    let mut ranges = Vec::new();
    for (op, sql) in pieces {
        if sql.trim().is_empty() {
            continue;
        }
        let line = line_of(*op);
        let mut start = None;
        if let Some(l) = line {
            // `# migsafe:allow …` written above the operation stays above its SQL, in its
            // segment, where the parser reads a statement's leading comments.
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
    let text = a.finish();
    let mut segments = Vec::new();
    for r in ranges {
        push_segment(&mut segments, &text, r, false);
    }
    (text, segments)
}

/// The migrations of the app migrations folder `dir` (shown as `display`), in plan order;
/// operations that are not SQL go to `skipped`.
pub(in crate::load) fn build(
    project: &Project,
    dir: &Path,
    display: &str,
    entries: &[Entry],
    reader: &mut Reader,
    options: &PythonOptions,
    skipped: &mut Vec<NotReviewed>,
) -> Result<Vec<Migration>> {
    let python = options.interpreter(&project.root, None);
    let canonical_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let args = vec![
        "-c".to_string(),
        RENDERER.to_string(),
        project.root.display().to_string(),
        canonical_dir.display().to_string(),
        options
            .server_version
            .unwrap_or(DEFAULT_SERVER_VERSION)
            .to_string(),
    ];
    let what = format!("rendering the Django migrations of {display}");
    let out = child::run(&python, &args, &project.root, options.timeout(), &what)?;
    let rendered: Rendered = serde_json::from_str(out.stdout.trim()).with_context(|| {
        format!(
            "{what}: the renderer printed no result; its stderr:\n{}",
            child::tail(&out.stderr, 30)
        )
    })?;
    if rendered.migrations.is_empty() {
        bail!(
            "{what}: Django {} (settings {}) has no migration in {display}: is the app in \
             INSTALLED_APPS?",
            rendered.django,
            rendered.settings
        );
    }
    let by_path: HashMap<PathBuf, &Entry> = entries
        .iter()
        .filter(|e| e.is_file() && e.name.ends_with(".py"))
        .filter_map(|e| Some((std::fs::canonicalize(&e.path).ok()?, e)))
        .collect();
    let mut out = Vec::new();
    for r in &rendered.migrations {
        let path = std::fs::canonicalize(&r.path).unwrap_or_else(|_| PathBuf::from(&r.path));
        let shown = match by_path.get(&path) {
            Some(e) => e.display.clone(),
            None => reader.display(&path),
        };
        let loaded = reader.read(&path, &shown)?;
        let header = header_lines(&loaded.file.text);
        let directives = directive_lines(&loaded.file.text);
        let line_of = |op: Option<usize>| -> Option<usize> {
            op.and_then(|i| r.op_lines.get(i).copied()).or(r.class_line)
        };
        let mut notes: Vec<LoadNote> = loaded.bad_utf8.iter().cloned().collect();
        let forwards = r.forwards.clone().unwrap_or_default();
        let (text, segments) = part_text(&header, &directives, &forwards, &line_of);
        let header_end = header
            .last()
            .map_or(0, |(l, _)| line_end(&text, *l))
            .min(text.len());
        if let Some(e) = &r.forwards_error {
            notes.push(LoadNote {
                offset: line_start(&text, e.line.or(r.class_line).unwrap_or(1)),
                message: format!(
                    "Django could not render this migration's SQL (as `sqlmigrate {} {}`): {}",
                    r.app, r.name, e.message
                ),
            });
        }
        for (i, op) in r.ops.iter().enumerate() {
            if op.reviewable {
                continue;
            }
            let line = line_of(Some(i)).map_or(String::new(), |l| format!(" at line {l}"));
            skipped.push(NotReviewed {
                path: shown.clone(),
                version: Some(format!("{}.{}", r.app, r.name)),
                reason: format!(
                    "{}{line} ({}) is Python code, not SQL: migsafe cannot review what it does \
                     to the data (the migration's SQL operations are reviewed)",
                    op.kind, op.describe
                ),
            });
        }
        let (transaction, runner) = if r.atomic {
            (
                Transaction::File,
                Runner::default_of(
                    "django: an atomic migration runs in one transaction, its statements sent \
                     one by one",
                ),
            )
        } else {
            (
                Transaction::Statement,
                Runner::marker(
                    "django: `atomic = False` on the Migration: each statement runs on its own",
                ),
            )
        };
        let down = match (&r.backwards, &r.backwards_error) {
            (Some(pieces), _) => {
                let (down_text, down_segments) = part_text(&[], &[], pieces, &line_of);
                Some(Part {
                    file: Arc::new(SourceFile {
                        display: shown.clone(),
                        text: down_text,
                    }),
                    segments: down_segments,
                    transaction,
                    runner: runner.clone(),
                })
            }
            (None, Some(e)) if !e.irreversible => {
                notes.push(LoadNote {
                    offset: line_start(&text, e.line.or(r.class_line).unwrap_or(1)),
                    message: format!(
                        "Django could not render this migration backwards (as `sqlmigrate \
                         --backwards {} {}`): {}",
                        r.app, r.name, e.message
                    ),
                });
                None
            }
            _ => None,
        };
        out.push(Migration {
            path: shown.clone(),
            version: Some(format!("{}.{}", r.app, r.name)),
            name: r.name.clone(),
            layout: Layout::Django,
            repeatable: false,
            up: Part {
                file: Arc::new(SourceFile {
                    display: shown,
                    text,
                }),
                segments,
                transaction,
                runner,
            },
            down,
            header: 0..header_end,
            load_notes: notes,
        });
    }
    Ok(out)
}

fn line_end(text: &str, line: usize) -> usize {
    text.match_indices('\n')
        .nth(line.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i + 1)
}

fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        0
    } else {
        line_end(text, line - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_land_on_their_operation_lines() {
        let header = vec![(1, " owner: @orders".to_string())];
        let pieces = vec![
            (Some(0), "ALTER TABLE t ADD c int;".to_string()),
            (Some(1), String::new()),
            (Some(2), "CREATE INDEX i ON t (c);".to_string()),
            (
                None,
                "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES u;".to_string(),
            ),
        ];
        let lines = [17, 18, 19];
        let line_of = |op: Option<usize>| op.and_then(|i| lines.get(i).copied()).or(Some(11));
        let (text, segments) = part_text(&header, &[], &pieces, &line_of);
        let line = |o: usize| text[..o].matches('\n').count() + 1;
        let starts: Vec<usize> = segments.iter().map(|s| line(s.range.start)).collect();
        // The deferred statement (no operation) goes after the others, not back to line 11.
        assert_eq!(starts, vec![17, 19, 20]);
        assert!(text.starts_with("-- owner: @orders\n"));
    }
}
