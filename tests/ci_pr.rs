//! The pre-merge CI and pull-request features as a CI job meets them: `--changed-since` in a
//! real (temporary) git repository, `--report` files, SARIF validated against the official
//! schema, GitHub annotations next to JSON, a 500-finding change that still fits in a PR
//! comment, byte-identical output across runs, and the CI recipes' flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn migsafe_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("MIGSAFE_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("migsafe runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const CREATE: &str = "-- owner: @core\n-- rollback: DROP TABLE orders;\nCREATE TABLE orders (id bigint PRIMARY KEY, status text);\n";
const ADD_COLUMN: &str = "-- owner: @core\n-- rollback: ALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_note_idx ON orders (note);\n";
const NEW_INDEX: &str = "-- owner: @payments\n-- rollback: DROP INDEX orders_status_idx;\nCREATE INDEX orders_status_idx ON orders (status);\n";

/// A repository whose `main` has two migrations and whose checked-out branch `feature` adds
/// a third.
fn repo_with_change() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Test"]);
    git(root, &["config", "user.email", "test@example.com"]);
    git(root, &["config", "commit.gpgsign", "false"]);
    write(&root.join("migrations/0001_create_orders.sql"), CREATE);
    write(&root.join("migrations/0002_add_note.sql"), ADD_COLUMN);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    write(&root.join("migrations/0003_index_status.sql"), NEW_INDEX);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "change"]);
    dir
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

#[test]
fn changed_since_reviews_only_the_new_migration() {
    let repo = repo_with_change();
    let out = migsafe_in(
        repo.path(),
        &[
            "check",
            "migrations",
            "--changed-since",
            "main",
            "--format",
            "json",
        ],
        &[],
    );
    // The new migration builds an index on an existing table without CONCURRENTLY: without
    // a copy its size is unknown, so it is an error and the check fails (notes/verdicts.md).
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_of(&out);
    let reviewed: Vec<&str> = v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(reviewed, vec!["migrations/0003_index_status.sql"]);
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings
        .iter()
        .all(|f| f["file"] == "migrations/0003_index_status.sql"));
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "create-index-non-concurrently"),
        "{findings:?}"
    );
    let skipped = v["skipped_migrations"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    for s in skipped {
        assert_eq!(s["reason"], "unchanged since main");
    }
    let total: u64 = ["error", "warning", "info"]
        .iter()
        .map(|k| v["summary"][*k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, findings.len(), "counts are redone");

    // The table says why the others are missing, and how to get them back.
    let table = migsafe_in(
        repo.path(),
        &["check", "migrations", "--changed-since", "main"],
        &[],
    );
    let text = stdout(&table);
    assert!(
        text.contains("2 migrations not reviewed — unchanged since main"),
        "{text}"
    );
    assert!(text.contains("Run without --changed-since"), "{text}");
}

#[test]
fn uncommitted_and_untracked_migrations_count_as_changed() {
    let repo = repo_with_change();
    let root = repo.path();
    // Modified in the work tree, not committed; and a new file not yet added.
    write(
        &root.join("migrations/0001_create_orders.sql"),
        &format!("{CREATE}CREATE INDEX orders_id_idx ON orders (id);\n"),
    );
    write(&root.join("migrations/0004_more.sql"), NEW_INDEX);
    // Run from inside the folder: paths relative to the cwd must still match git's.
    let out = migsafe_in(
        &root.join("migrations"),
        &["check", ".", "--changed-since", "main", "--format", "json"],
        &[],
    );
    let v = json_of(&out);
    let mut reviewed: Vec<String> = v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("./")
                .to_string()
        })
        .collect();
    reviewed.sort();
    // JSON names paths from the repository root, wherever the run started (issue #14).
    assert_eq!(
        reviewed,
        vec![
            "migrations/0001_create_orders.sql",
            "migrations/0003_index_status.sql",
            "migrations/0004_more.sql"
        ]
    );
    assert_eq!(v["skipped_migrations"].as_array().unwrap().len(), 1);
}

#[test]
fn changed_since_errors_are_one_clear_line() {
    let plain = tempfile::tempdir().unwrap();
    write(&plain.path().join("migrations/0001_a.sql"), CREATE);
    let out = migsafe_in(
        plain.path(),
        &["check", "migrations", "--changed-since", "main"],
        &[(
            "GIT_CEILING_DIRECTORIES",
            plain.path().parent().unwrap().to_str().unwrap(),
        )],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("needs a git repository"), "{err}");

    let repo = repo_with_change();
    let out = migsafe_in(
        repo.path(),
        &["check", "migrations", "--changed-since", "origin/nope"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown git ref \"origin/nope\""), "{err}");
    assert!(err.contains("git fetch origin nope"), "{err}");
}

#[test]
fn shallow_clone_without_the_merge_base_says_how_to_fetch_it() {
    let repo = repo_with_change();
    let root = repo.path();
    // main moves on after the branch point, so neither tip is the merge base.
    git(root, &["checkout", "-q", "main"]);
    write(&root.join("migrations/0009_other.sql"), CREATE);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "main moves on"]);
    git(root, &["checkout", "-q", "feature"]);
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", root.display());
    git(
        clones.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            "feature",
            &url,
            "shallow",
        ],
    );
    let shallow = clones.path().join("shallow");
    let out = migsafe_in(
        &shallow,
        &["check", "migrations", "--changed-since", "origin/main"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("shallow clone"), "{err}");
    assert!(err.contains("git fetch --deepen="), "{err}");
    assert!(err.contains("fetch-depth: 0"), "{err}");

    // Once the history is there, it works.
    git(&shallow, &["fetch", "-q", "--unshallow"]);
    let out = migsafe_in(
        &shallow,
        &[
            "check",
            "migrations",
            "--changed-since",
            "origin/main",
            "--format",
            "json",
        ],
        &[],
    );
    let v = json_of(&out);
    assert_eq!(v["migrations"].as_array().unwrap().len(), 1);
}

fn sarif_validator() -> jsonschema::Validator {
    let schema_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

fn assert_valid_sarif(v: &serde_json::Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is invalid:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_validates_against_the_official_schema_with_repository_paths() {
    let repo = repo_with_change();
    // From a subfolder, so the repository-relative uri differs from the report's path.
    let out = migsafe_in(
        &repo.path().join("migrations"),
        &["check", ".", "--format", "sarif", "--fail-on", "never"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_of(&out);
    assert_valid_sarif(&v);
    // The validator does reject what the schema forbids.
    let mut broken = v.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_validator().is_valid(&broken));
    let run = &v["runs"][0];
    assert_eq!(v["version"], "2.1.0");
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let index = results
        .iter()
        .find(|r| r["properties"]["rule"] == "create-index-non-concurrently")
        .expect("the index finding");
    let loc = &index["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("migrations/00"),
        "{loc}"
    );
    assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);

    // The rich fixtures too, with facts, plans and every rule.
    let example = migsafe_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check", "fixtures/example/migrations", "--format", "sarif"],
        &[],
    );
    assert_valid_sarif(&json_of(&example));
}

#[test]
fn report_files_are_written_next_to_stdout() {
    let repo = repo_with_change();
    let root = repo.path();
    std::fs::create_dir(root.join("out")).unwrap();
    let out = migsafe_in(
        root,
        &[
            "check",
            "migrations",
            "--format",
            "github",
            "--report",
            "sarif=out/m.sarif",
            "--report",
            "markdown=out/m.md",
            "--report",
            "json=out/m.json",
            "--report",
            "gitlab=out/gl.json",
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The github format leads with the verdicts as log lines, then the annotations.
    let text = stdout(&out);
    assert!(text.starts_with("migsafe: migrations/0001_"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("::warning ")), "{text}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/m.sarif")).unwrap()).unwrap();
    assert_valid_sarif(&sarif);
    let md = std::fs::read_to_string(root.join("out/m.md")).unwrap();
    assert!(md.starts_with("<!-- migsafe-report -->\n"));
    assert!(
        md.contains("Reproduce: `migsafe check migrations --fail-on never --format markdown`"),
        "{md}"
    );
    let gl: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/gl.json")).unwrap()).unwrap();
    assert!(gl.as_array().is_some_and(|a| !a.is_empty()));

    let missing = migsafe_in(
        root,
        &["check", "migrations", "--report", "sarif=nowhere/m.sarif"],
        &[],
    );
    assert_eq!(missing.status.code(), Some(2));
    let err = stderr(&missing);
    assert!(
        err.contains("nowhere/m.sarif") && err.contains("does not exist"),
        "{err}"
    );
    let bad = migsafe_in(root, &["check", "migrations", "--report", "xml=a.xml"], &[]);
    assert!(
        stderr(&bad).contains("unknown format \"xml\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn github_actions_gets_annotations_without_breaking_json() {
    let repo = repo_with_change();
    let root = repo.path();
    // A file name with a comma and a colon: both end a property unless escaped.
    write(&root.join("migrations/0004_odd,name:x.sql"), NEW_INDEX);
    let env = [("GITHUB_ACTIONS", "true")];
    let out = migsafe_in(root, &["check", "migrations", "--format", "json"], &env);
    let v = json_of(&out);
    let err = stderr(&out);
    let annotations: Vec<&str> = err.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations.len(),
        v["findings"].as_array().unwrap().len(),
        "{err}"
    );
    assert!(
        err.contains("file=migrations/0004_odd%2Cname%3Ax.sql,line=3,col=1,"),
        "{err}"
    );
    // Messages span lines (message, instead, owner) as %0A, never a raw newline.
    assert!(
        annotations.iter().all(|a| a.contains("%0AInstead: ")),
        "{err}"
    );

    let table = migsafe_in(root, &["check", "migrations"], &env);
    assert!(stdout(&table)
        .lines()
        .any(|l| l.starts_with("::warning file=")));

    let off = migsafe_in(
        root,
        &[
            "check",
            "migrations",
            "--format",
            "json",
            "--no-github-annotations",
        ],
        &env,
    );
    assert!(!stderr(&off).contains("::"), "{}", stderr(&off));
    let outside = migsafe_in(root, &["check", "migrations", "--format", "json"], &[]);
    assert!(!stderr(&outside).contains("::"));
}

#[test]
fn a_500_finding_change_fits_in_a_pr_comment() {
    let repo = repo_with_change();
    let root = repo.path();
    write(
        &root.join("migsafe.toml"),
        "[rules]\ncreate-index-non-concurrently = \"error\"\n",
    );
    for m in 0..12 {
        let mut sql = String::from("-- owner: @big\n-- rollback: irreversible\n");
        for i in 0..45 {
            if i % 3 == 0 {
                sql.push_str(&format!(
                    "CREATE INDEX big_{m}_{i}_idx ON orders (status, note);\n"
                ));
            } else {
                sql.push_str(&format!("DROP INDEX big_{m}_{i}_old_idx;\n"));
            }
        }
        write(
            &root.join(format!(
                "migrations/{:04}_generated_change_{m}.sql",
                100 + m
            )),
            &sql,
        );
    }
    let json = migsafe_in(
        root,
        &[
            "check",
            "migrations",
            "--changed-since",
            "main",
            "--format",
            "json",
        ],
        &[],
    );
    let v = json_of(&json);
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 500, "{} findings", findings.len());
    let md_out = migsafe_in(
        root,
        &[
            "check",
            "migrations",
            "--changed-since",
            "main",
            "--format",
            "markdown",
        ],
        &[],
    );
    let md = stdout(&md_out);
    assert!(
        md.chars().count() < 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.len() < 65_536, "{} bytes", md.len());
    assert!(md.starts_with("<!-- migsafe-report -->"));
    assert!(
        md.contains("--format json"),
        "says where the full report is"
    );
    // The verdict table names the migrations from their shared folder.
    for m in v["migrations"].as_array().unwrap() {
        let path = m["path"].as_str().unwrap();
        let name = path.strip_prefix("migrations/").unwrap_or(path);
        assert!(md.contains(&format!("`{name}`")), "{path} missing");
    }
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.len() >= 150, "{} errors", errors.len());
    for f in errors {
        let file = f["file"].as_str().unwrap();
        let at = format!(
            "`{}:{}`",
            file.strip_prefix("migrations/").unwrap_or(file),
            f["line"]
        );
        assert!(
            md.lines()
                .any(|l| l.contains(&at) && l.contains(f["rule"].as_str().unwrap())),
            "error at {at} not listed"
        );
    }
}

#[test]
fn two_runs_give_identical_bytes() {
    let repo = repo_with_change();
    let root = repo.path();
    for format in ["json", "sarif", "markdown", "gitlab", "github"] {
        let args = [
            "check",
            "migrations",
            "--changed-since",
            "main",
            "--format",
            format,
        ];
        let first = migsafe_in(root, &args, &[]);
        let second = migsafe_in(root, &args, &[]);
        assert!(!first.stdout.is_empty(), "{format}: {}", stderr(&first));
        assert_eq!(first.stdout, second.stdout, "{format} differs between runs");
        let text = stdout(&first);
        let tmp = root.to_string_lossy();
        assert!(
            !text.contains(tmp.as_ref()),
            "{format} names an absolute path"
        );
    }
}

/// Every `migsafe check` flag the CI recipes use is one `migsafe check --help` knows.
#[test]
fn ci_recipes_use_only_real_flags() {
    let help = migsafe_in(Path::new("."), &["check", "--help"], &[]);
    let help = stdout(&help);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = [
        "fixtures/ci/github-workflow.yml",
        "fixtures/ci/gitlab-ci.yml",
        "fixtures/ci/pre-commit-config.yaml",
        "README.md",
    ];
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines().filter(|l| l.contains("migsafe check")) {
            let command = &line[line.find("migsafe check").unwrap()..];
            for word in command.split_whitespace().filter(|w| {
                w.strip_prefix("--")
                    .is_some_and(|f| f.starts_with(|c: char| c.is_ascii_alphabetic()))
            }) {
                let flag = word.split('=').next().unwrap();
                assert!(
                    help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                    "{file}: `{flag}` is not a flag of migsafe check"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} flags found: are the recipes there?"
    );
    let recipes = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for file in &files[..3] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            recipes.contains(text.trim_end()),
            "README.md does not embed {file} as it is"
        );
    }
}
