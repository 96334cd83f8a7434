//! What migsafe ships besides the review: the version line with its commit, shell completions
//! (`migsafe completions <shell>`) and man pages (`migsafe man`), all generated from the clap
//! definition in `cli.rs`, so they never drift from the real flags.

use crate::cli::Cli;
use anyhow::{Context as _, Result};
use clap::CommandFactory as _;
use std::io::Write;
use std::path::Path;

/// `0.1.0 (1a2b3c4d5e6f)`: the package version and the commit it was built from, when
/// `build.rs` could tell (git checkout, `MIGSAFE_COMMIT`, or a crates.io package); else the
/// bare version.
pub const VERSION: &str = env!("MIGSAFE_VERSION_LINE");

/// The shells `migsafe completions` knows, as typed on the command line.
pub const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

/// Writes the completion script for `shell` (one of [`SHELLS`]).
pub fn completions(shell: &str, out: &mut dyn Write) -> Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "elvish" => Shell::Elvish,
        "powershell" => Shell::PowerShell,
        other => anyhow::bail!(
            "unknown shell {other:?}; choose one of {}",
            SHELLS.join(", ")
        ),
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "migsafe", out);
    Ok(())
}

/// Writes the `migsafe(1)` man page (the command, its global flags and the subcommand list).
pub fn man(out: &mut dyn Write) -> Result<()> {
    clap_mangen::Man::new(Cli::command())
        .render(out)
        .context("Failed to render the man page")
}

/// Writes `migsafe.1` and one `migsafe-<subcommand>.1` per subcommand into `dir`, the layout
/// `man` finds under `share/man/man1`. Returns the files written.
pub fn man_pages(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Failed to create the folder {}", dir.display()))?;
    let mut cmd = Cli::command();
    // Built first so that the `help` subcommand clap adds, which the main page lists, gets
    // its page too.
    cmd.build();
    let mut written = Vec::new();
    let mut page = |name: String, cmd: clap::Command| -> Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.display_name(name.clone()))
            .source(format!("migsafe {VERSION}"))
            .manual("migsafe manual")
            .render(&mut buf)
            .with_context(|| format!("Failed to render the man page {name}(1)"))?;
        std::fs::write(&path, buf)
            .with_context(|| format!("Failed to write {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    page("migsafe".to_string(), cmd.clone())?;
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        page(
            format!("migsafe-{name}"),
            sub.clone().bin_name(format!("migsafe {name}")),
        )?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_starts_with_the_package_version() {
        assert!(VERSION.starts_with(env!("CARGO_PKG_VERSION")), "{VERSION}");
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in SHELLS {
            let mut out = Vec::new();
            completions(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("check"), "{shell}: {text}");
            assert!(text.contains("changed-since"), "{shell}");
        }
        assert!(completions("tcsh", &mut Vec::new()).is_err());
    }

    #[test]
    fn man_pages_cover_every_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let files = man_pages(dir.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&"migsafe.1".to_string()), "{names:?}");
        assert!(names.contains(&"migsafe-check.1".to_string()), "{names:?}");
        let check = std::fs::read_to_string(dir.path().join("migsafe-check.1")).unwrap();
        assert!(check.contains(".TH migsafe-check 1"), "{check}");
        assert!(check.contains("fail\\-on"), "{check}");
    }
}
