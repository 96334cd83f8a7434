//! `--changed-since GIT_REF`: which migration files a change adds or modifies, asked of the
//! `git` command line (no git library: the user's git, with its config and credentials, is
//! the one that knows their repository), and how a full review is narrowed to them.
//!
//! The whole folder is still reviewed, so the earlier migrations shape the schema replay at
//! catalog level exactly as in a full run; only the report is narrowed afterwards. "Changed"
//! means what a reviewer of the pull request sees plus what the developer has not committed
//! yet: the diff from the merge base of HEAD and GIT_REF to the work tree (committed, staged
//! and unstaged changes), and untracked files that .gitignore does not exclude.

use crate::model::{Report, SkippedMigration};
use anyhow::{bail, Context as _, Result};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The reason every migration left out by `--changed-since` carries: one identical string,
/// so reports group them into one line.
pub fn unchanged_reason(git_ref: &str) -> String {
    format!("{UNCHANGED_PREFIX}{git_ref}")
}

/// How every `unchanged_reason` starts (reports recognise it to offer the right hint).
pub const UNCHANGED_PREFIX: &str = "unchanged since ";

/// Where the current directory sits in its git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The work tree's top level, canonicalized.
    pub toplevel: PathBuf,
    /// The current directory relative to `toplevel`, `/`-separated with a trailing `/`, or
    /// empty at the top level (`git rev-parse --show-prefix`).
    pub prefix: String,
}

/// The repository `cwd` is in, or `None` outside one (or without git on PATH).
pub fn repo(cwd: &Path) -> Option<Repo> {
    let top = git(cwd, &["rev-parse", "--show-toplevel"]).ok()?;
    let prefix = git(cwd, &["rev-parse", "--show-prefix"]).ok()?;
    let toplevel = PathBuf::from(top.trim_end_matches(['\n', '\r']));
    let toplevel = toplevel.canonicalize().unwrap_or(toplevel);
    Some(Repo {
        toplevel,
        prefix: prefix.trim_end_matches(['\n', '\r']).to_string(),
    })
}

/// The files changed since the merge base of HEAD and a ref.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The ref as the user typed it (it names the skip reason).
    pub git_ref: String,
    /// The merge base commit.
    pub merge_base: String,
    /// Canonical absolute paths of files added or modified (deleted ones are left out: there
    /// is nothing to review).
    pub files: BTreeSet<PathBuf>,
    /// The current directory, canonicalized, to resolve the report's relative paths.
    pub cwd: PathBuf,
}

/// Asks git which files changed since the merge base of HEAD and `git_ref`. Errors are one
/// line each and say what to do: outside a repository, an unknown ref, a shallow clone that
/// lacks the merge base.
pub fn changed_since(cwd: &Path, git_ref: &str) -> Result<Changed> {
    if git_ref.trim().is_empty() || git_ref.starts_with('-') {
        bail!("--changed-since needs a git ref such as origin/main, got {git_ref:?}");
    }
    let Some(repo) = repo_or_error(cwd)? else {
        bail!(
            "--changed-since needs a git repository, but {} is not inside one",
            cwd.display()
        );
    };
    if git(cwd, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).is_err() {
        bail!("--changed-since {git_ref}: the repository has no commit yet (HEAD does not exist)");
    }
    let spec = format!("{git_ref}^{{commit}}");
    if git(
        cwd,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )
    .is_err()
    {
        bail!(
            "--changed-since {git_ref}: unknown git ref {git_ref:?} (in CI, fetch it first, \
             e.g. `git fetch origin {}`)",
            branch_of(git_ref)
        );
    }
    let merge_base = match git(cwd, &["merge-base", "HEAD", &spec]) {
        Ok(out) => out.trim().to_string(),
        Err(_) => {
            let shallow = git(cwd, &["rev-parse", "--is-shallow-repository"])
                .is_ok_and(|s| s.trim() == "true");
            if shallow {
                bail!(
                    "--changed-since {git_ref}: this is a shallow clone and the merge base of \
                     HEAD and {git_ref} is not in it; fetch more history (`git fetch \
                     --deepen=200 origin {}`, or `git fetch --unshallow`), or check out with \
                     `fetch-depth: 0` in actions/checkout (GIT_DEPTH: 0 in GitLab CI)",
                    branch_of(git_ref)
                );
            }
            bail!("--changed-since {git_ref}: HEAD and {git_ref} have no common history (no merge base)");
        }
    };
    let top = &repo.toplevel;
    // Rename detection off: a renamed migration is a new file to review.
    let diff = git(
        top,
        &[
            "-c",
            "core.quotepath=off",
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--diff-filter=d",
            &merge_base,
            "--",
        ],
    )
    .with_context(|| format!("Failed to list the files changed since {git_ref}"))?;
    let untracked = git(top, &["ls-files", "--others", "--exclude-standard", "-z"])
        .context("Failed to list the untracked files")?;
    let files = diff
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|p| !p.is_empty())
        .map(|p| canonical(&top.join(p)))
        .collect();
    Ok(Changed {
        git_ref: git_ref.to_string(),
        merge_base,
        files,
        cwd: canonical(cwd),
    })
}

impl Changed {
    /// Whether the migration shown as `path` (relative to the current directory, or
    /// absolute) changed: its own file, or its down file by the layouts' naming (a change to
    /// the rollback alone is a change to review). Standard input is always reviewed.
    pub fn contains(&self, path: &str) -> bool {
        if path == "-" {
            return true;
        }
        let full = canonical(&self.cwd.join(path));
        down_siblings(&full)
            .iter()
            .chain(std::iter::once(&full))
            .any(|p| self.files.contains(p))
    }
}

/// Narrows `report` to the migrations in `changed`: the others' summaries, findings and
/// per-statement skips are dropped and they are listed as not reviewed, then the counts are
/// redone.
pub fn restrict(report: &mut Report, changed: &Changed) {
    let reason = unchanged_reason(&changed.git_ref);
    let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut report.migrations)
        .into_iter()
        .partition(|m| changed.contains(&m.path));
    let dropped_paths: BTreeSet<&str> = dropped.iter().map(|m| m.path.as_str()).collect();
    report
        .findings
        .retain(|f| !dropped_paths.contains(f.file.as_str()));
    report.skipped_rules.retain(|s| {
        s.file
            .as_deref()
            .is_none_or(|file| !dropped_paths.contains(file))
    });
    report
        .skipped_migrations
        .extend(dropped.iter().map(|m| SkippedMigration {
            path: m.path.clone(),
            version: m.version.clone(),
            reason: reason.clone(),
        }));
    report.migrations = kept;
    crate::review::finish(report);
}

/// `origin/main` → `main`, for the fetch hint.
fn branch_of(git_ref: &str) -> &str {
    git_ref
        .strip_prefix("origin/")
        .or_else(|| git_ref.strip_prefix("refs/remotes/origin/"))
        .unwrap_or(git_ref)
}

/// The down files that belong to an up file by the layouts' naming: `x.up.sql` →
/// `x.down.sql` (sqlx, golang-migrate), `<folder>/up.sql` → `<folder>/down.sql` (diesel),
/// `V1__x.sql` → `U1__x.sql` (Flyway undo).
fn down_siblings(up: &Path) -> Vec<PathBuf> {
    let Some(name) = up.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if let Some(stem) = name.strip_suffix(".up.sql") {
        names.push(format!("{stem}.down.sql"));
    }
    if name == "up.sql" {
        names.push("down.sql".to_string());
    }
    if let Some(rest) = name.strip_prefix('V') {
        if rest.contains("__") {
            names.push(format!("U{rest}"));
        }
    }
    names.into_iter().map(|n| up.with_file_name(n)).collect()
}

/// `path` with symlinks resolved when it exists, else with `.` and `..` resolved lexically
/// (a file deleted in the work tree still compares equal to how git names it).
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    // The parent usually exists even when the file does not: resolve it for symlinked
    // temp folders (macOS /tmp, /var).
    match (
        out.parent().and_then(|p| p.canonicalize().ok()),
        out.file_name(),
    ) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => out,
    }
}

/// `repo`, telling "git is missing" (an error) apart from "not a repository" (`None`).
fn repo_or_error(cwd: &Path) -> Result<Option<Repo>> {
    match Command::new("git").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(repo(cwd)),
        Ok(_) | Err(_) => bail!("--changed-since needs the `git` command, and it could not be run"),
    }
}

/// Runs git in `dir` and returns its stdout, or an error with its stderr's first line.
fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        // The user's language would change the messages we pass on; the prompt would hang CI.
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .with_context(|| format!("Failed to run git {}", args.join(" ")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "git {} failed: {}",
            args.join(" "),
            stderr.lines().next().unwrap_or("").trim()
        );
    }
    String::from_utf8(out.stdout).context("git printed a path that is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_files_follow_the_layouts_naming() {
        let d = |p: &str| down_siblings(Path::new(p));
        assert_eq!(
            d("/r/m/1_a.up.sql"),
            vec![PathBuf::from("/r/m/1_a.down.sql")]
        );
        assert_eq!(
            d("/r/m/2024_a/up.sql"),
            vec![PathBuf::from("/r/m/2024_a/down.sql")]
        );
        assert_eq!(
            d("/r/m/V2__add.sql"),
            vec![PathBuf::from("/r/m/U2__add.sql")]
        );
        assert!(d("/r/m/0001_plain.sql").is_empty());
    }

    #[test]
    fn lexical_paths_resolve_dots() {
        let p = canonical(Path::new("/definitely/not/here/./a/../b.sql"));
        assert_eq!(p, PathBuf::from("/definitely/not/here/b.sql"));
    }

    #[test]
    fn fetch_hint_names_the_branch() {
        assert_eq!(branch_of("origin/main"), "main");
        assert_eq!(branch_of("main"), "main");
    }
}
