//! `scripts/release.sh`, the command that builds the release archive: what a user downloads
//! (binary, LICENSE, README, CHANGELOG, completions, man pages), its SHA256SUMS, and that the
//! same commit gives the same bytes. It builds with the dev profile so that it reuses what
//! `cargo test` compiled; the release workflow runs the same script with the release profile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_migsafe"))
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/migsafe")
        .to_path_buf()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn release(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(Path::new(REPO).join("scripts/release.sh"))
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(REPO)
        .output()
        .expect("bash runs")
}

fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap()
}

#[test]
fn the_release_command_builds_a_checksummed_archive_a_user_can_install_from() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().to_str().unwrap();
    let built = release(&["--profile", "dev", "--out", out]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let name = format!("migsafe-{}-{}", env!("CARGO_PKG_VERSION"), host());
    let archive = out_dir.path().join(format!("{name}.tar.gz"));
    assert_eq!(text(&built.stdout).trim(), archive.to_str().unwrap());

    // The checksums verify as a user checks them.
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(out_dir.path())
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check.stdout));
    assert!(text(&check.stdout).contains(&format!("{name}.tar.gz: OK")));

    let listing = Command::new("tar")
        .arg("-tzvf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = text(&listing.stdout);
    for file in [
        "migsafe",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "completions/migsafe.bash",
        "completions/_migsafe",
        "completions/migsafe.fish",
        "completions/_migsafe.ps1",
        "man/man1/migsafe.1",
        "man/man1/migsafe-check.1",
    ] {
        assert!(
            listing.contains(&format!("{name}/{file}\n")),
            "{file} missing:\n{listing}"
        );
    }
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("/migsafe")),
        "{listing}"
    );

    // Unpacked, the binary runs and reviews.
    let unpack = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(unpack.path())
        .status()
        .unwrap();
    assert!(status.success());
    let bin = unpack.path().join(&name).join("migsafe");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    let expected = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(text(&version.stdout), text(&expected.stdout));
    let review = Command::new(&bin)
        .args([
            "check",
            "fixtures/example/migrations",
            "--format",
            "concise",
        ])
        .current_dir(REPO)
        .output()
        .unwrap();
    assert_eq!(review.status.code(), Some(1), "{}", text(&review.stderr));
    assert!(text(&review.stdout).contains("create-index-non-concurrently"));

    // The same commit packages to the same bytes (a second run, from the built binary).
    let again_dir = tempfile::tempdir().unwrap();
    let binary = target_dir().join("debug/migsafe");
    let again = release(&[
        "--binary",
        binary.to_str().unwrap(),
        "--out",
        again_dir.path().to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let first = std::fs::read(&archive).unwrap();
    let second = std::fs::read(again_dir.path().join(format!("{name}.tar.gz"))).unwrap();
    assert!(first == second, "the archive is not reproducible");
}

#[test]
fn a_bad_argument_or_binary_is_refused_with_what_to_do() {
    let unknown = release(&["--frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("unknown argument '--frobnicate'"));

    let missing = release(&["--binary", "/nonexistent/migsafe", "--out", "/tmp"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("no executable at /nonexistent/migsafe"),
        "{}",
        text(&missing.stderr)
    );
}
