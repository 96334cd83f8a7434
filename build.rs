//! Records the commit migsafe is built from, for `migsafe --version`.
//!
//! Sources, in order: `MIGSAFE_COMMIT` (set by packagers that build from a tarball), git
//! (a checkout or worktree), `.cargo_vcs_info.json` (what `cargo package` writes into a crates.io
//! download). None of them is required: without any, the version is the bare package version.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=MIGSAFE_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = std::env::var("MIGSAFE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_string())
        .or_else(from_git)
        .or_else(from_vcs_info);
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = match commit {
        Some(commit) => format!("{version} ({commit})"),
        None => version,
    };
    println!("cargo:rustc-env=MIGSAFE_VERSION_LINE={line}");
}

/// `git rev-parse` in the package folder; watches HEAD and the branch it points to, so a new
/// commit rebuilds with the new hash.
fn from_git() -> Option<String> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (!text.is_empty()).then_some(text)
    };
    // A crates.io download unpacked inside some unrelated repository must not take that
    // repository's commit: the package folder has to be the top of its own checkout.
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), &dir) {
        return None;
    }
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    for file in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", file]) {
            println!("cargo:rerun-if-changed={}", dir.join(path).display());
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={}", dir.join(path).display());
        }
    }
    Some(hash)
}

/// The `"sha1"` that `cargo package` records in `.cargo_vcs_info.json`.
fn from_vcs_info() -> Option<String> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let start = text.find("\"sha1\"")? + "\"sha1\"".len();
    let rest = text.get(start..)?;
    let open = rest.find('"')? + 1;
    let value = rest.get(open..)?;
    let hash: String = value
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (hash.len() >= 12).then(|| hash.chars().take(12).collect())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
