//! What a user installs besides the review: `--version` with the commit, shell completions that
//! the shell accepts, man pages that `man` renders, and `--color` / NO_COLOR on a real terminal.

use std::process::{Command, Output};

fn migsafe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(args)
        .output()
        .expect("migsafe runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = migsafe(&["--version"]);
    assert!(out.status.success());
    let line = text(&out.stdout);
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs (the tests run in a checkout)");
    assert!(head.status.success(), "not a git checkout?");
    let head = text(&head.stdout).trim().to_string();
    assert_eq!(
        line.trim(),
        format!("migsafe {} ({head})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bash_accepts_the_completion_script_and_completes_subcommands() {
    let bin = env!("CARGO_BIN_EXE_migsafe");
    // Source the script, then ask the completion function what follows `migsafe ch`.
    let script = format!(
        "source <('{bin}' completions bash) && complete -p migsafe && \
         COMP_WORDS=(migsafe ch) COMP_CWORD=1 && _migsafe migsafe ch migsafe && \
         printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &script])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("-F _migsafe migsafe"), "{stdout}");
    assert!(stdout.lines().any(|l| l == "check"), "{stdout}");
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let out = migsafe(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("bash") && err.contains("powershell"), "{err}");
}

#[test]
fn man_renders_the_page_and_every_subcommand_gets_one() {
    let out = migsafe(&["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH migsafe 1"),
        "{page}"
    );

    // groff renders it as `man` would, with the subcommands listed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("migsafe.1");
    std::fs::write(&path, &out.stdout).unwrap();
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou"])
        .arg(&path)
        .output()
        .expect("groff is installed (apt install groff-base)");
    let rendered = text(&rendered.stdout);
    assert!(rendered.contains("SYNOPSIS"), "{rendered}");
    assert!(rendered.contains("migsafe-check(1)"), "{rendered}");

    let pages = dir.path().join("man1");
    let out = migsafe(&["man", "--out-dir", pages.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for sub in [
        "check",
        "rules",
        "rule",
        "cache",
        "completions",
        "man",
        "help",
    ] {
        let page = std::fs::read_to_string(pages.join(format!("migsafe-{sub}.1")))
            .unwrap_or_else(|e| panic!("migsafe-{sub}.1: {e}"));
        assert!(page.contains(&format!(".TH migsafe-{sub} 1")), "{page}");
    }
    let check = std::fs::read_to_string(pages.join("migsafe-check.1")).unwrap();
    assert!(check.contains("changed\\-since"), "{check}");
}

/// Runs `migsafe rules` on a pseudo-terminal (util-linux `script`), as a user's shell would.
fn rules_on_a_terminal(color: &str, no_color: bool) -> String {
    let bin = env!("CARGO_BIN_EXE_migsafe");
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("'{bin}' --color {color} rules"),
        "/dev/null",
    ])
    .env("TERM", "xterm-256color");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().expect("script (util-linux) runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn color_follows_the_flag_the_terminal_and_no_color() {
    const ESC: &str = "\x1b[";
    assert!(rules_on_a_terminal("auto", false).contains(ESC));
    assert!(!rules_on_a_terminal("auto", true).contains(ESC));
    assert!(!rules_on_a_terminal("never", false).contains(ESC));
    // A flag typed on purpose wins over the environment.
    assert!(rules_on_a_terminal("always", true).contains(ESC));
    // Into a pipe: plain unless asked.
    assert!(!text(&migsafe(&["rules"]).stdout).contains(ESC));
    assert!(text(&migsafe(&["--color", "always", "rules"]).stdout).contains(ESC));
}
