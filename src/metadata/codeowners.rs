//! CODEOWNERS: finding the file, parsing GitHub and GitLab syntax, and naming the owners of
//! a path.
//!
//! GitHub (docs.github.com, "About code owners"): gitignore-style patterns, the last
//! matching line wins, a line without owners unsets ownership; `!` negation and `[ ]`
//! ranges do not work. Two details differ from gitignore and are kept: `docs/*` owns only
//! the direct children of `docs/`, and a pattern with a slash inside is anchored to the
//! repository root.
//!
//! GitLab (docs.gitlab.com, "Syntax of CODEOWNERS file"): the same patterns, plus sections
//! (`[Name]`, `^[Optional]`, `[Name][2]`, `[Name] @default-owners`). Each section is judged
//! on its own (last match wins inside it) and the owners of all sections combine; entries
//! before the first section form an unnamed section; sections with the same name (any case)
//! are one section; `!pattern` excludes matching files from its section. A path without a
//! leading `/` matches at any depth, as if it started with `**/`.
//!
//! A file is read as GitLab syntax when it lives in `.gitlab/` or has a section heading.
//! Patterns are compiled with `globset` with `*` never crossing `/`.

use anyhow::{Context as _, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};

/// Where CODEOWNERS is looked for, in order (GitHub's order, then GitLab's extra place).
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// Which host's rules a CODEOWNERS file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GitHub,
    GitLab,
}

impl Flavor {
    /// GitLab when the file has a section heading, GitHub otherwise.
    pub fn detect(text: &str) -> Flavor {
        let has_section = text
            .lines()
            .map(str::trim)
            .any(|l| !l.starts_with('#') && matches!(parse_section(l), Some(Ok(_))));
        if has_section {
            Flavor::GitLab
        } else {
            Flavor::GitHub
        }
    }
}

/// One pattern line.
#[derive(Debug, Clone)]
struct Entry {
    section: usize,
    /// Explicit owners, or the section's default owners; empty unsets ownership.
    owners: Vec<String>,
    /// GitLab `!pattern`: matching files are excluded from the section.
    exclusion: bool,
}

/// A parsed CODEOWNERS file.
#[derive(Debug, Clone)]
pub struct Codeowners {
    pub flavor: Flavor,
    /// Lower-cased section names; index 0 is the unnamed section before any heading.
    sections: Vec<String>,
    entries: Vec<Entry>,
    globs: GlobSet,
    /// For each glob in `globs`, the entry it belongs to.
    glob_entry: Vec<usize>,
    /// Lines that were skipped, with why (`line N: ...`), for diagnostics.
    pub problems: Vec<String>,
}

impl Codeowners {
    /// The first CODEOWNERS file under `repo_root` (see `LOCATIONS`), parsed.
    pub fn find(repo_root: &Path) -> Result<Option<(PathBuf, Codeowners)>> {
        for location in LOCATIONS {
            let path = repo_root.join(location);
            if !path.is_file() {
                continue;
            }
            let bytes = std::fs::read(&path)
                .with_context(|| format!("Failed to read CODEOWNERS file {}", path.display()))?;
            let text = String::from_utf8_lossy(&bytes);
            let flavor = if location.starts_with(".gitlab/") {
                Flavor::GitLab
            } else {
                Flavor::detect(&text)
            };
            return Ok(Some((path, Codeowners::parse(&text, flavor))));
        }
        Ok(None)
    }

    /// Parses CODEOWNERS text. Never fails: invalid lines are skipped and listed in
    /// `problems`, as GitHub and GitLab ignore them too.
    pub fn parse(text: &str, flavor: Flavor) -> Codeowners {
        let mut sections = vec![String::new()];
        let mut entries = Vec::new();
        let mut builder = GlobSetBuilder::new();
        let mut glob_entry = Vec::new();
        let mut problems = Vec::new();
        let mut section = 0;
        let mut defaults: Vec<String> = Vec::new();

        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if flavor == Flavor::GitLab {
                match parse_section(line) {
                    Some(Ok((name, owners))) => {
                        let key = name.to_lowercase();
                        section = match sections.iter().position(|s| *s == key) {
                            Some(s) => s,
                            None => {
                                sections.push(key);
                                sections.len() - 1
                            }
                        };
                        defaults = owners;
                        continue;
                    }
                    Some(Err(why)) => {
                        problems.push(format!("line {}: {why}", i + 1));
                        continue;
                    }
                    None => {}
                }
            }
            let tokens = tokenize(line);
            let Some((pattern, owners)) = tokens.split_first() else {
                continue;
            };
            let (exclusion, pattern) = match pattern.strip_prefix('!') {
                Some(p) if flavor == Flavor::GitLab => (true, p),
                Some(_) => {
                    problems.push(format!(
                        "line {}: `!` negation does not work in GitHub CODEOWNERS",
                        i + 1
                    ));
                    continue;
                }
                None => (false, pattern.as_str()),
            };
            let owners: Vec<String> = owners
                .iter()
                .take_while(|t| !t.starts_with('#'))
                .cloned()
                .collect();
            let owners = if owners.is_empty() && !exclusion {
                defaults.clone()
            } else {
                owners
            };
            let Some(globs) = to_globs(pattern, flavor) else {
                problems.push(format!("line {}: empty pattern `{pattern}`", i + 1));
                continue;
            };
            let compiled: Result<Vec<_>, _> = globs
                .iter()
                .map(|g| {
                    GlobBuilder::new(g)
                        .literal_separator(true)
                        .backslash_escape(true)
                        .build()
                })
                .collect();
            match compiled {
                Ok(compiled) => {
                    for glob in compiled {
                        builder.add(glob);
                        glob_entry.push(entries.len());
                    }
                    entries.push(Entry {
                        section,
                        owners,
                        exclusion,
                    });
                }
                Err(e) => problems.push(format!("line {}: {e}", i + 1)),
            }
        }
        let globs = builder.build().unwrap_or_else(|e| {
            problems.push(format!("patterns could not be combined: {e}"));
            glob_entry.clear();
            GlobSet::empty()
        });
        Codeowners {
            flavor,
            sections,
            entries,
            globs,
            glob_entry,
            problems,
        }
    }

    /// Owners of a path relative to the repository root (`/`-separated), in the order the
    /// file names them; empty when nobody owns it.
    pub fn owners_of(&self, relative: &str) -> Vec<String> {
        let relative = relative.trim_start_matches("./").trim_start_matches('/');
        let mut matched = vec![false; self.entries.len()];
        for g in self.globs.matches(relative) {
            if let Some(&e) = self.glob_entry.get(g) {
                if let Some(m) = matched.get_mut(e) {
                    *m = true;
                }
            }
        }
        let mut owners: Vec<String> = Vec::new();
        for section in 0..self.sections.len() {
            let hits = self
                .entries
                .iter()
                .zip(&matched)
                .filter(|(e, m)| **m && e.section == section)
                .map(|(e, _)| e);
            let mut last = None;
            let mut excluded = false;
            for entry in hits {
                if entry.exclusion {
                    excluded = true;
                } else {
                    last = Some(entry);
                }
            }
            if excluded {
                continue;
            }
            for owner in last.map(|e| e.owners.as_slice()).unwrap_or_default() {
                if !owners.contains(owner) {
                    owners.push(owner.clone());
                }
            }
        }
        owners
    }
}

/// `[Name]`, `^[Name]`, `[Name][2]`, `[Name] @a @b`: the name and default owners.
/// `None` when the line is not a heading; `Err` for a heading GitLab rejects.
fn parse_section(line: &str) -> Option<Result<(String, Vec<String>), String>> {
    let rest = line.strip_prefix('^').unwrap_or(line);
    let body = rest.strip_prefix('[')?;
    let close = body.find(']')?;
    let name = body[..close].trim();
    let mut after = &body[close + 1..];
    if let Some(count) = after.strip_prefix('[') {
        let end = count.find(']')?;
        if !count[..end].trim().chars().all(|c| c.is_ascii_digit()) {
            return Some(Err(format!("invalid approval count `[{}]`", &count[..end])));
        }
        after = &count[end + 1..];
    }
    // `[abc].sql @x` is a pattern, not a heading.
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return None;
    }
    if name.is_empty() {
        return Some(Err("section heading without a name".to_string()));
    }
    let owners = after
        .split_whitespace()
        .take_while(|t| !t.starts_with('#'))
        .map(str::to_string)
        .collect();
    Some(Ok((name.to_string(), owners)))
}

/// Splits a line on unescaped whitespace; `\ ` stays inside a token (with its backslash,
/// which `to_globs` turns into a literal).
fn tokenize(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(next) = chars.next() {
                current.push(next);
            }
        } else if c.is_whitespace() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Translates one CODEOWNERS pattern into globset globs over root-relative paths.
/// A pattern also owns everything below a directory it matches, except `dir/*`, which
/// owns only direct children (GitHub's and GitLab's documented behaviour).
fn to_globs(pattern: &str, flavor: Flavor) -> Option<Vec<String>> {
    let dir_only = pattern.ends_with('/') && !pattern.ends_with("\\/");
    let trimmed = pattern.trim_end_matches('/');
    let leading_slash = trimmed.starts_with('/');
    let trimmed = trimmed.trim_start_matches('/');
    let components: Vec<&str> = trimmed.split('/').filter(|c| !c.is_empty()).collect();
    let last = *components.last()?;
    let anchored = leading_slash || (flavor == Flavor::GitHub && components.len() > 1);
    let body = components
        .iter()
        .map(|c| translate_component(c))
        .collect::<Vec<_>>()
        .join("/");
    let base = if anchored || body.starts_with("**") {
        body
    } else {
        format!("**/{body}")
    };
    let is_globstar = last.chars().all(|c| c == '*') && last.len() >= 2;
    Some(if is_globstar {
        vec![base]
    } else if dir_only {
        vec![format!("{base}/**")]
    } else if last == "*" {
        vec![base]
    } else {
        vec![base.clone(), format!("{base}/**")]
    })
}

/// One path component in globset syntax: `*` and `?` stay wildcards, `**` as a whole
/// component is the globstar, anything else (including `[ ]` and `{ }`, which CODEOWNERS
/// does not support) is literal.
fn translate_component(component: &str) -> String {
    if component.len() >= 2 && component.chars().all(|c| c == '*') {
        return "**".to_string();
    }
    let mut out = String::new();
    let mut chars = component.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') | None => out.push_str("\\\\"),
                Some(next) => out.push_str(&globset::escape(&next.to_string())),
            },
            '*' => {
                // `a**b` means what `a*b` means in gitignore; globset rejects it.
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push('*');
            }
            '?' => out.push('?'),
            c => out.push_str(&globset::escape(&c.to_string())),
        }
    }
    out
}

/// The repository root for `start`: the nearest ancestor holding `.git` (a directory, or a
/// file in worktrees and submodules), else `start` itself; absolute and canonical when the
/// file system allows.
pub fn repo_root(start: &Path) -> PathBuf {
    let start = absolute(start);
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(&start)
        .to_path_buf()
}

/// `path` (as shown in reports: relative to the current directory, or absolute) relative
/// to `root`, `/`-separated; `None` for stdin or a file outside `root`.
pub fn relative_to(path: &str, root: &Path) -> Option<String> {
    if path.is_empty() || path == "-" {
        return None;
    }
    let absolute = absolute(Path::new(path));
    let relative = absolute.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Canonical form of `path` when it exists (or its parent does), else a lexically
/// normalised absolute path, so that symlinked temp dirs and `..` compare equal.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let normal = normalize(&joined);
    if let (Some(parent), Some(name)) = (normal.parent(), normal.file_name()) {
        if let Ok(p) = std::fs::canonicalize(parent) {
            return p.join(name);
        }
    }
    normal
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github(text: &str) -> Codeowners {
        let c = Codeowners::parse(text, Flavor::GitHub);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        c
    }

    fn owners(c: &Codeowners, path: &str) -> String {
        c.owners_of(path).join(" ")
    }

    #[test]
    fn last_matching_line_wins() {
        let c = github("* @everyone\n*.sql @dba\n/db/migrations/ @payments @dba\n");
        assert_eq!(owners(&c, "README.md"), "@everyone");
        assert_eq!(owners(&c, "scripts/seed.sql"), "@dba");
        assert_eq!(owners(&c, "db/migrations/001_init.sql"), "@payments @dba");
    }

    #[test]
    fn anchored_and_unanchored_patterns() {
        let c = github("/migrations/ @root-only\nlegacy/ @anywhere\n");
        assert_eq!(owners(&c, "migrations/1.sql"), "@root-only");
        assert_eq!(owners(&c, "svc/migrations/1.sql"), "");
        assert_eq!(owners(&c, "legacy/1.sql"), "@anywhere");
        assert_eq!(owners(&c, "svc/legacy/deep/1.sql"), "@anywhere");

        // A slash inside the pattern anchors it (GitHub).
        let c = github("db/migrations @db\n");
        assert_eq!(owners(&c, "db/migrations/1.sql"), "@db");
        assert_eq!(owners(&c, "svc/db/migrations/1.sql"), "");
    }

    #[test]
    fn directory_patterns_and_wildcards() {
        let c = github(
            "docs/* @direct\n/build/logs/ @logs\n**/migrations/*.sql @sql\napps/**/seed?.sql @seed\n",
        );
        assert_eq!(owners(&c, "docs/a.md"), "@direct");
        assert_eq!(owners(&c, "docs/nested/a.md"), "");
        assert_eq!(owners(&c, "build/logs/deep/x.log"), "@logs");
        assert_eq!(owners(&c, "a/b/migrations/1.sql"), "@sql");
        assert_eq!(owners(&c, "migrations/1.sql"), "@sql");
        assert_eq!(owners(&c, "migrations/sub/1.sql"), "");
        assert_eq!(owners(&c, "apps/x/y/seed1.sql"), "@seed");
        assert_eq!(owners(&c, "apps/seed1.sql"), "@seed");
        // A pattern without a trailing slash owns a directory's contents too.
        let c = github("/db @db\n");
        assert_eq!(owners(&c, "db/migrations/1.sql"), "@db");
        assert_eq!(owners(&c, "dbx/1.sql"), "");
    }

    #[test]
    fn a_line_without_owners_unsets_ownership() {
        let c = github("/db/ @db\n/db/migrations/generated/\n");
        assert_eq!(owners(&c, "db/migrations/1.sql"), "@db");
        assert_eq!(owners(&c, "db/migrations/generated/1.sql"), "");
    }

    #[test]
    fn comments_escapes_and_literal_brackets() {
        let c = github(
            "# a comment\n\n/my\\ dir/ @spaces  # trailing note\n/[x]/ @brackets\n\\#odd.sql @hash\n",
        );
        assert_eq!(owners(&c, "my dir/1.sql"), "@spaces");
        assert_eq!(owners(&c, "[x]/1.sql"), "@brackets");
        assert_eq!(owners(&c, "x/1.sql"), "");
        assert_eq!(owners(&c, "#odd.sql"), "@hash");
    }

    #[test]
    fn github_ignores_negation_lines() {
        let c = Codeowners::parse("* @all\n!*.sql\n", Flavor::GitHub);
        assert_eq!(c.problems.len(), 1);
        assert_eq!(owners(&c, "a.sql"), "@all");
    }

    #[test]
    fn gitlab_sections_combine_owners() {
        let text = "* @general\n\
                    \n\
                    [Database] @dba-team\n\
                    db/\n\
                    db/migrations/legacy/ @legacy-owner\n\
                    \n\
                    ^[Payments][2] @payments\n\
                    /db/migrations/*payments*\n\
                    \n\
                    [database]\n\
                    *.md @docs\n";
        assert_eq!(Flavor::detect(text), Flavor::GitLab);
        let c = Codeowners::parse(text, Flavor::GitLab);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(owners(&c, "db/migrations/1.sql"), "@general @dba-team");
        assert_eq!(
            owners(&c, "db/migrations/2_payments_fix.sql"),
            "@general @dba-team @payments"
        );
        assert_eq!(
            owners(&c, "svc/db/migrations/legacy/1.sql"),
            "@general @legacy-owner"
        );
        // The repeated section name (any case) continues [Database]: last match wins there.
        assert_eq!(owners(&c, "db/README.md"), "@general @docs");
    }

    #[test]
    fn gitlab_relative_paths_match_at_any_depth_and_exclusions_apply() {
        let text = "[Db] @db\nsql/migrations/\n!sql/migrations/generated/\n";
        let c = Codeowners::parse(text, Flavor::GitLab);
        assert_eq!(owners(&c, "services/a/sql/migrations/1.sql"), "@db");
        assert_eq!(owners(&c, "sql/migrations/generated/1.sql"), "");
    }

    #[test]
    fn github_files_are_not_read_as_gitlab() {
        assert_eq!(Flavor::detect("* @a\n[abc].sql @b\n"), Flavor::GitHub);
        let c = github("* @a\n[abc].sql @b\n");
        assert_eq!(owners(&c, "[abc].sql"), "@b");
        assert_eq!(owners(&c, "a.sql"), "@a");
    }

    #[test]
    fn invalid_section_headings_are_reported_not_fatal() {
        let c = Codeowners::parse("[] @x\n[Db][two] @y\n* @ok\n", Flavor::GitLab);
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert_eq!(owners(&c, "a.sql"), "@ok");
    }

    #[test]
    fn relative_paths_handle_stdin_and_outsiders() {
        let root = Path::new("/repo");
        assert_eq!(relative_to("-", root), None);
        assert_eq!(relative_to("", root), None);
        assert_eq!(
            relative_to("/repo/db/../db/1.sql", root).as_deref(),
            Some("db/1.sql")
        );
        assert_eq!(relative_to("/elsewhere/1.sql", root), None);
    }
}
