//! The binary as a user runs it: exit codes, formats, errors, stdin, the rule catalog.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const EXAMPLE: &str = "fixtures/example/migrations";

fn migsafe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(args)
        .output()
        .expect("migsafe runs")
}

fn migsafe_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migsafe runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_report_of_the_example_follows_the_contract() {
    let out = migsafe(&["check", EXAMPLE, "--format", "json", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["tool"]["name"], "migsafe");
    assert_eq!(json["evidence"], "static");
    let migrations = json["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 6);
    assert_eq!(migrations[0]["version"], "20240101090000");
    assert_eq!(migrations[0]["owner"], "@shop-core");
    assert_eq!(migrations[0]["owner_source"], "annotation");
    let findings = json["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for expected in [
        "create-index-non-concurrently",
        "set-not-null",
        "add-foreign-key-validating",
        "missing-owner",
        "missing-rollback",
    ] {
        assert!(
            rules.contains(&expected),
            "{expected} missing from {rules:?}"
        );
    }
    // The suppressed rename is not reported; the create-index on the new table is not either.
    assert!(!rules.contains(&"rename-column"), "{rules:?}");
    let index_findings: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "create-index-non-concurrently")
        .collect();
    assert_eq!(index_findings.len(), 1, "{index_findings:?}");
    assert_eq!(
        index_findings[0]["file"],
        "fixtures/example/migrations/20240301120000_index_orders_created_at.sql"
    );
    assert_eq!(index_findings[0]["line"], 3);
    assert_eq!(index_findings[0]["owner"], "@payments-team");
    // Sorted by (file, line, code).
    let keys: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let s = &json["summary"];
    let total =
        s["error"].as_u64().unwrap() + s["warning"].as_u64().unwrap() + s["info"].as_u64().unwrap();
    assert_eq!(total as usize, findings.len());
}

#[test]
fn exit_code_follows_fail_on() {
    let warn = migsafe(&["check", EXAMPLE, "--format", "json", "--fail-on", "warning"]);
    assert_eq!(warn.status.code(), Some(1), "{}", stderr(&warn));
    let never = migsafe(&["check", EXAMPLE, "--fail-on", "never"]);
    assert_eq!(never.status.code(), Some(0));
    let clean = migsafe(&[
        "check",
        "fixtures/rules/create-index-non-concurrently/good.sql",
        "--fail-on",
        "info",
    ]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}{}",
        stdout(&clean),
        stderr(&clean)
    );
}

#[test]
fn errors_name_the_thing_and_exit_2() {
    let missing = migsafe(&["check", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/dir"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));

    let empty = tempfile::tempdir().unwrap();
    let out = migsafe(&["check", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no migrations"), "{}", stderr(&out));

    let cfg = empty.path().join("migsafe.toml");
    std::fs::write(&cfg, "fail_onn = 'warning'\n").unwrap();
    let out = migsafe(&["check", EXAMPLE, "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fail_onn"), "{}", stderr(&out));

    let out = migsafe(&["check", EXAMPLE, "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("yaml"), "{}", stderr(&out));
}

#[test]
fn stdin_is_reviewed() {
    let out = migsafe_stdin(
        &["check", "-", "--format", "json", "--fail-on", "never"],
        "BEGIN;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nCOMMIT;\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "set-not-null")
        .expect("set-not-null found");
    assert_eq!(f["file"], "-");
    assert_eq!(f["line"], 2);
}

#[test]
fn rule_catalog_lists_every_rule_and_explains_one() {
    let out = migsafe(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    for rule in migsafe::rules::RULES {
        assert!(stdout(&out).contains(rule.name), "{} missing", rule.name);
    }
    let one = migsafe(&["rule", "set-not-null"]);
    assert_eq!(one.status.code(), Some(0));
    let text = stdout(&one);
    let rule = migsafe::rules::find("set-not-null").unwrap();
    assert!(text.contains(rule.code));
    assert!(
        text.contains(rule.bad.lines().last().unwrap().trim()),
        "{text}"
    );
    let unknown = migsafe(&["rule", "no-such-rule"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no-such-rule"));
}

/// The README's first set-up command, read from the README itself, run as written (with a
/// cache directory of its own so the test restores for real): a review of the bundled
/// example on a restored copy, at execution level, that finds the example's real failure.
#[test]
fn the_readme_first_command_reviews_the_example_on_a_restored_copy() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run -q -- check"))
        .expect("README has the set-up command");
    let command = line.split('#').next().unwrap();
    let args: Vec<&str> = command
        .trim()
        .trim_start_matches("cargo run -q --")
        .split_whitespace()
        .collect();
    let cache = tempfile::tempdir().unwrap();
    let mut full = args.clone();
    full.extend(["--format", "json"]);
    let out = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(&full)
        .env("MIGSAFE_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["evidence"], "execution", "{json:#}");
    let skipped = json["skipped_migrations"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "two migrations are applied on the copy");
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "fails-on-copy",
        "duplicate-index",
        "create-index-non-concurrently",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
}
