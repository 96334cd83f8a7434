//! Reading migration files: the paths reports show, folder listings, UTF-8 decoding (a BOM is
//! dropped; invalid UTF-8 becomes a note instead of an error) and a per-run cache so that
//! detection and building read each file once and list each folder once.
//!
//! Listing a folder costs one `getdents` walk and no `stat` per entry: the entry type comes
//! from the directory itself, and only symbolic links are followed with a `stat` (a linked
//! migration or folder counts like a real one). Special files (FIFOs, sockets, devices) are
//! marked so that nothing ever opens them: reading a FIFO would block the run forever.

use crate::model::{LoadNote, SourceFile};
use anyhow::{anyhow, Context, Result};
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file as the loader sees it: its text and, when the bytes were not UTF-8, the note saying
/// where (the text is then a lossy copy kept only so that headers and positions still work).
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    pub file: Arc<SourceFile>,
    pub bad_utf8: Option<LoadNote>,
}

/// One entry of a migrations folder.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// The name layouts parse: the file name, without a dialect marker once
    /// [`super::dialect::split_entries`] has taken it off (`1_a.sql.postgres` → `1_a.sql`).
    pub name: String,
    pub path: PathBuf,
    pub display: String,
    pub is_dir: bool,
    /// Neither a regular file nor a folder (FIFO, socket, device, dangling link target
    /// excepted): never opened.
    pub special: bool,
}

impl Entry {
    /// The file name as it is on disk (the last part of `display`).
    pub fn file_name(&self) -> &str {
        self.display.rsplit('/').next().unwrap_or(&self.display)
    }

    /// A regular file (or a link to one) that layouts may read.
    pub fn is_file(&self) -> bool {
        !self.is_dir && !self.special
    }
}

/// The path as reports show it: relative to the current directory when under it, else as given,
/// always with `/` separators and without `./` noise.
pub(super) fn display_path(path: &Path) -> String {
    display_from(path, &current_bases())
}

/// The current directory as given and resolved, the bases displays are made relative to.
fn current_bases() -> Vec<PathBuf> {
    match std::env::current_dir() {
        Ok(cwd) => vec![cwd.clone(), cwd.canonicalize().unwrap_or(cwd)],
        Err(_) => Vec::new(),
    }
}

fn display_from(path: &Path, bases: &[PathBuf]) -> String {
    if path.is_absolute() {
        for base in bases {
            if let Ok(rel) = path.strip_prefix(base) {
                return join_components(rel);
            }
        }
        return path.to_string_lossy().into_owned();
    }
    join_components(path)
}

fn join_components(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The display of `name` inside a folder shown as `dir`.
pub(super) fn join_display(dir: &str, name: &str) -> String {
    if dir == "." || dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The error for a path that cannot be read, worded like the shell does for a missing one.
pub(super) fn read_error(display: &str, err: io::Error) -> anyhow::Error {
    if err.kind() == io::ErrorKind::NotFound {
        anyhow!("no such file or directory").context(format!("Failed to read {display}"))
    } else {
        anyhow::Error::new(err).context(format!("Failed to read {display}"))
    }
}

/// Decodes bytes read from `display`: drops a UTF-8 BOM; invalid UTF-8 gives a lossy text and a
/// note pointing at the first bad byte.
pub(super) fn decode(display: &str, bytes: Vec<u8>) -> Loaded {
    let bytes = match bytes.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(text) => Loaded {
            file: Arc::new(SourceFile {
                display: display.to_string(),
                text,
            }),
            bad_utf8: None,
        },
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            // The lossy text keeps the valid prefix byte for byte, so `offset` is where its
            // first replacement character starts.
            let file = SourceFile {
                display: display.to_string(),
                text: String::from_utf8_lossy(err.as_bytes()).into_owned(),
            };
            let (line, column) = file.line_col(offset);
            Loaded {
                file: Arc::new(file),
                bad_utf8: Some(LoadNote {
                    offset,
                    message: format!(
                        "not valid UTF-8 (first invalid byte at line {line}, column {column}); \
                         save the file as UTF-8"
                    ),
                }),
            }
        }
    }
}

/// Reads each file once per run, and lists each folder once per run.
#[derive(Debug, Default)]
pub(super) struct Reader {
    cache: HashMap<PathBuf, Loaded>,
    listings: HashMap<PathBuf, Arc<Vec<Entry>>>,
    /// Per listed folder, the names of its regular files (for [`Reader::has_file`]).
    file_names: HashMap<PathBuf, HashSet<String>>,
    /// The current directory, resolved once per run (see [`Reader::display`]).
    bases: Option<Vec<PathBuf>>,
    /// Folders listed and files read from disk so far (cache misses).
    pub listed: usize,
    pub read: usize,
}

impl Reader {
    /// The entries of `dir` sorted by name, hidden entries (`.keep`, `.git`) and names that
    /// are not UTF-8 left out, listed at most once per run.
    pub fn list(&mut self, dir: &Path, display: &str) -> Result<Arc<Vec<Entry>>> {
        if let Some(hit) = self.listings.get(dir) {
            return Ok(hit.clone());
        }
        let mut out = Vec::new();
        list_into(dir, display, false, &mut out)?;
        self.listed += 1;
        let out = Arc::new(out);
        self.listings.insert(dir.to_path_buf(), out.clone());
        Ok(out)
    }

    /// The entries of `dir` and of every folder below it, each folder listed once per run.
    pub fn list_recursive(&mut self, dir: &Path, display: &str) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        self.walk(dir, display, &mut out)?;
        Ok(out)
    }

    fn walk(&mut self, dir: &Path, display: &str, out: &mut Vec<Entry>) -> Result<()> {
        let entries = self.list(dir, display)?;
        for entry in entries.iter() {
            out.push(entry.clone());
            if entry.is_dir {
                self.walk(&entry.path, &entry.display, out)?;
            }
        }
        Ok(())
    }

    /// Whether `dir` holds an entry named `name` that is a regular file, from its listing
    /// (a set per folder, so asking for each of a folder's files stays linear).
    pub fn has_file(&mut self, dir: &Path, display: &str, name: &str) -> bool {
        if let Some(names) = self.file_names.get(dir) {
            return names.contains(name);
        }
        let Ok(entries) = self.list(dir, display) else {
            return false;
        };
        let names: HashSet<String> = entries
            .iter()
            .filter(|e| e.is_file())
            .map(|e| e.file_name().to_string())
            .collect();
        let found = names.contains(name);
        self.file_names.insert(dir.to_path_buf(), names);
        found
    }

    /// [`display_path`] with the current directory looked up once per run instead of once
    /// per path.
    pub fn display(&mut self, path: &Path) -> String {
        let bases = self.bases.get_or_insert_with(current_bases);
        display_from(path, bases)
    }

    pub fn read(&mut self, path: &Path, display: &str) -> Result<Loaded> {
        if let Some(hit) = self.cache.get(path) {
            return Ok(hit.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| read_error(display, e))?;
        self.read += 1;
        let loaded = decode(display, bytes);
        self.cache.insert(path.to_path_buf(), loaded.clone());
        Ok(loaded)
    }
}

/// Lists `dir` into `out` sorted by name; hidden entries (`.keep`, `.git`) and names that are
/// not UTF-8 are skipped. `recursive` descends into sub-folders.
fn list_into(dir: &Path, display: &str, recursive: bool, out: &mut Vec<Entry>) -> Result<()> {
    let reader = std::fs::read_dir(dir).map_err(|e| read_error(display, e))?;
    let mut entries = Vec::new();
    for item in reader {
        let item = item.with_context(|| format!("Failed to read {display}"))?;
        let Ok(name) = item.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = item.path();
        let (is_dir, special) = entry_kind(&item, &path);
        entries.push(Entry {
            display: join_display(display, &name),
            name,
            path,
            is_dir,
            special,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for entry in entries {
        if recursive && entry.is_dir {
            let (path, display) = (entry.path.clone(), entry.display.clone());
            out.push(entry);
            list_into(&path, &display, true, out)?;
        } else {
            out.push(entry);
        }
    }
    Ok(())
}

/// `(is_dir, special)` of a directory entry: from the directory's own record of its type, with
/// a `stat` only for symbolic links (followed, so a linked migration counts like a real one; a
/// dangling link stays a file, so that reading it reports the broken link).
fn entry_kind(item: &std::fs::DirEntry, path: &Path) -> (bool, bool) {
    let kind = match item.file_type() {
        Ok(kind) if kind.is_symlink() => match std::fs::metadata(path) {
            Ok(meta) => meta.file_type(),
            Err(_) => return (false, false),
        },
        Ok(kind) => kind,
        Err(_) => match std::fs::metadata(path) {
            Ok(meta) => meta.file_type(),
            Err(_) => return (false, false),
        },
    };
    if kind.is_dir() {
        (true, false)
    } else {
        (false, !kind.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_dropped_and_offsets_follow_the_stored_text() {
        let loaded = decode("a.sql", b"\xEF\xBB\xBFSELECT 1;".to_vec());
        assert_eq!(loaded.file.text, "SELECT 1;");
        assert!(loaded.bad_utf8.is_none());
    }

    #[test]
    fn invalid_utf8_points_at_the_first_bad_byte() {
        let loaded = decode("a.sql", b"-- ok\nSELECT '\xE9t\xE9';".to_vec());
        let note = loaded.bad_utf8.expect("invalid UTF-8 gives a note");
        assert_eq!(note.offset, 14);
        assert!(
            note.message.contains("line 2, column 9"),
            "{}",
            note.message
        );
        assert_eq!(loaded.file.line_col(note.offset), (2, 9));
    }

    #[test]
    fn displays_are_relative_and_slash_separated() {
        assert_eq!(
            display_path(Path::new("./migrations/x.sql")),
            "migrations/x.sql"
        );
        assert_eq!(display_path(Path::new("migrations/")), "migrations");
        assert_eq!(display_path(Path::new(".")), ".");
        assert_eq!(join_display(".", "x.sql"), "x.sql");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(display_path(&cwd.join("m").join("x.sql")), "m/x.sql");
        assert_eq!(display_path(Path::new("/nowhere/x.sql")), "/nowhere/x.sql");
    }
}
