//! Installing migsafe without Rust, as a user does: `pip install .` into a fresh virtualenv
//! (the `migsafe-cli` package maturin builds with the binary inside), and the pre-commit hook
//! of `.pre-commit-hooks.yaml` run by `pre-commit try-repo` in a scratch repository.
//!
//! Both build the wheel for real through maturin's PEP 517 backend, with
//! `MATURIN_PEP517_ARGS=--profile dev` so that the build reuses what `cargo test` compiled
//! instead of a 10-minute release build. They need `python3` with `venv`, and PyPI for maturin
//! (pip's isolated build) and pre-commit: `bash .ci/run` prepares `target/ci-tools`; without
//! it the test creates it. Nothing is skipped: a missing tool fails with how to get it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The `target` folder of this test build (`target/debug/migsafe` → `target`).
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_migsafe"));
    bin.parent()
        .and_then(Path::parent)
        .expect("the binary lives in target/<profile>/")
        .to_path_buf()
}

fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("Failed to run {what}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn must(out: Output, what: &str, fix: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({}).\nstdout:\n{}\nstderr:\n{}\nTo fix: {fix}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// A fresh virtualenv in `dir`.
fn venv(dir: &Path) -> PathBuf {
    venv_at(&dir.join("venv"))
}

/// The environment of a wheel build that reuses this test build's compiled crates.
fn fast_wheel_build<'a>(cmd: &'a mut Command, target: &Path) -> &'a mut Command {
    cmd.env("MATURIN_PEP517_ARGS", "--profile dev")
        .env("CARGO_TARGET_DIR", target)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
}

#[test]
fn pip_install_of_the_repository_gives_a_working_migsafe() {
    let dir = tempfile::tempdir().unwrap();
    let venv = venv(dir.path());
    let pip = venv.join("bin/pip");
    must(
        run(
            fast_wheel_build(
                Command::new(&pip).args(["install", "--quiet", REPO]),
                &target_dir(),
            ),
            "pip install .",
        ),
        "pip install .",
        "pip needs PyPI to fetch maturin for the isolated build; check `pip download maturin`",
    );

    let migsafe = venv.join("bin/migsafe");
    assert!(migsafe.is_file(), "pip did not install bin/migsafe");
    let version = must(
        run(Command::new(&migsafe).arg("--version"), "migsafe --version"),
        "migsafe --version",
        "",
    );
    let built = run(
        Command::new(env!("CARGO_BIN_EXE_migsafe")).arg("--version"),
        "the test binary",
    );
    assert_eq!(text(&version.stdout), text(&built.stdout));

    // A real review from the installed command: the bundled example has errors (exit 1).
    let review = run(
        Command::new(&migsafe)
            .args(["check", "fixtures/example/migrations", "--format", "json"])
            .current_dir(REPO),
        "migsafe check",
    );
    assert_eq!(review.status.code(), Some(1), "{}", text(&review.stderr));
    let report: serde_json::Value = serde_json::from_slice(&review.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "create-index-non-concurrently"
                && f["file"]
                    .as_str()
                    .unwrap()
                    .ends_with("20240301120000_index_orders_created_at.sql")),
        "{findings:#?}"
    );

    // The package is the distribution `migsafe-cli` (PyPI's `migsafe` is another project).
    let show = must(
        run(Command::new(&pip).args(["show", "migsafe-cli"]), "pip show"),
        "pip show migsafe-cli",
        "",
    );
    let show = text(&show.stdout);
    assert!(
        show.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))),
        "{show}"
    );
    assert!(show.contains("License: MIT"), "{show}");
}

/// `pre-commit` from `$MIGSAFE_PRE_COMMIT`, else `target/ci-tools` (made by `.ci/run`, or here).
fn pre_commit() -> PathBuf {
    if let Some(path) = std::env::var_os("MIGSAFE_PRE_COMMIT") {
        return PathBuf::from(path);
    }
    let tools = target_dir().join("ci-tools");
    let bin = tools.join("bin/pre-commit");
    if !bin.is_file() {
        venv_at(&tools);
        must(
            run(
                Command::new(tools.join("bin/pip")).args(["install", "--quiet", "pre-commit"]),
                "pip install pre-commit",
            ),
            "pip install pre-commit",
            "run `bash .ci/run` once, or set MIGSAFE_PRE_COMMIT to a pre-commit executable",
        );
    }
    bin
}

fn venv_at(path: &Path) -> PathBuf {
    must(
        run(
            Command::new("python3").args(["-m", "venv"]).arg(path),
            "python3 -m venv",
        ),
        "python3 -m venv",
        "install Python 3 with venv (Debian: apt install python3-venv)",
    );
    path.to_path_buf()
}

fn git(repo: &Path, args: &[&str]) {
    must(
        run(
            Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(repo),
            "git",
        ),
        &format!("git {}", args.join(" ")),
        "install git",
    );
}

#[test]
fn the_pre_commit_hook_reviews_staged_migrations() {
    let pre_commit = pre_commit();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop");
    std::fs::create_dir_all(project.join("db/migrations")).unwrap();
    git(&project, &["init", "-q"]);
    std::fs::write(
        project.join("db/migrations/20240101090000_create_orders.sql"),
        "-- owner: @shop-team\n-- rollback: DROP TABLE orders;\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);\n",
    )
    .unwrap();
    std::fs::write(project.join("README.md"), "# shop\n").unwrap();
    git(&project, &["add", "-A"]);

    // The hook's environment is a clone of this repository installed with pip: a separate
    // target folder, so its build (another source path) never replaces target/debug/migsafe.
    let hook_target = target_dir().join("pre-commit-build");
    let try_repo = |project: &Path| {
        let mut cmd = Command::new(&pre_commit);
        cmd.args(["try-repo", REPO, "migsafe", "--verbose"])
            .current_dir(project)
            .env("PRE_COMMIT_HOME", dir.path().join("pre-commit-home"))
            .env_remove("MIGSAFE_DATABASE_URL");
        run(
            fast_wheel_build(&mut cmd, &hook_target),
            "pre-commit try-repo",
        )
    };

    let clean = try_repo(&project);
    let log = format!("{}{}", text(&clean.stdout), text(&clean.stderr));
    assert!(clean.status.success(), "{log}");
    assert!(log.contains("migsafe"), "{log}");
    assert!(log.contains("Passed"), "{log}");

    // CREATE INDEX CONCURRENTLY in a file sqlx wraps in a transaction: PostgreSQL would reject
    // it at deploy time, an error even without a database, so the commit is stopped.
    std::fs::write(
        project.join("db/migrations/20240102090000_index_orders_customer.sql"),
        "-- owner: @shop-team\n-- rollback: DROP INDEX CONCURRENTLY orders_customer_id_idx;\n\
         CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n",
    )
    .unwrap();
    git(&project, &["add", "-A"]);
    let risky = try_repo(&project);
    let log = format!("{}{}", text(&risky.stdout), text(&risky.stderr));
    assert_eq!(risky.status.code(), Some(1), "{log}");
    assert!(log.contains("Failed"), "{log}");
    assert!(log.contains("concurrently-in-transaction"), "{log}");
    assert!(
        log.contains("20240102090000_index_orders_customer.sql"),
        "{log}"
    );
}
