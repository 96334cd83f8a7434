//! Hostile input: truncated files, unterminated quotes and comments, bytes that are not
//! UTF-8, empty files, CRLF, a BOM, templates, psql meta-commands and a 5 MB migration.
//! Each bad file must produce a finding (never a panic or a silent pass), and the good
//! statements around the bad parts must still be reviewed.

use migsafe::config::Settings;
use migsafe::model::{Finding, Report};
use migsafe::review::check_paths;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn review(dir: &Path) -> Report {
    check_paths(&[dir.to_path_buf()], &Settings::default(), &mut io::empty())
        .expect("the review of a folder of hostile files still runs")
}

/// `fixtures/hostile` copied to a temporary folder, plus the file git could not keep intact:
/// one that is not UTF-8.
fn hostile_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile");
    for entry in fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".sql") {
            fs::copy(entry.path(), tmp.path().join(name)).unwrap();
        }
    }
    fs::write(
        tmp.path().join("004_binary.sql"),
        b"CREATE INDEX idx_binary ON orders (f);\n\xff\xfe\x00\x80 not text \xc3\x28;\n",
    )
    .unwrap();
    tmp
}

fn findings_in<'a>(report: &'a Report, file: &str) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.file.ends_with(file))
        .collect()
}

/// The one finding of `rule` in `file`, as (line, column, message).
fn one(report: &Report, file: &str, rule: &str) -> (usize, usize, String) {
    let found: Vec<&Finding> = findings_in(report, file)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {rule} finding in {file}, got {:#?}",
        findings_in(report, file)
    );
    (found[0].line, found[0].column, found[0].message.clone())
}

#[test]
fn every_hostile_file_is_reported_and_its_good_statements_still_reviewed() {
    let dir = hostile_copy();
    let report = review(dir.path());
    assert_eq!(report.migrations.len(), 9, "{:#?}", report.migrations);

    // Good statement before a statement cut off at the end of the file.
    assert_eq!(
        one(
            &report,
            "001_truncated.sql",
            "create-index-non-concurrently"
        )
        .0,
        2
    );
    let (line, _, msg) = one(&report, "001_truncated.sql", "unparsed-statement");
    assert_eq!(line, 3);
    assert!(msg.contains("found: EOF"), "{msg}");

    // Unterminated dollar quote and block comment: the rest is one unparsed statement.
    assert_eq!(
        one(
            &report,
            "002_unterminated_dollar.sql",
            "create-index-non-concurrently"
        )
        .0,
        2
    );
    let (line, _, msg) = one(&report, "002_unterminated_dollar.sql", "unparsed-statement");
    assert_eq!(line, 3);
    assert!(
        msg.contains("unterminated dollar-quoted string starting at line 3"),
        "{msg}"
    );
    assert_eq!(
        one(
            &report,
            "003_unterminated_comment.sql",
            "create-index-non-concurrently"
        )
        .0,
        2
    );
    let (line, _, msg) = one(
        &report,
        "003_unterminated_comment.sql",
        "unparsed-statement",
    );
    assert_eq!(line, 3);
    assert!(
        msg.contains("unterminated block comment starting at line 3"),
        "{msg}"
    );

    // Bytes that are not UTF-8: reported on the file, not a crash and not a silent pass.
    let (_, _, msg) = one(&report, "004_binary.sql", "malformed-migration");
    assert!(msg.to_lowercase().contains("utf-8"), "{msg}");

    // An empty file is still a migration with (metadata) findings, not an error.
    assert!(!findings_in(&report, "005_empty.sql").is_empty());
    assert!(findings_in(&report, "005_empty.sql")
        .iter()
        .all(|f| f.rule != "unparsed-statement"));

    // CRLF and BOM do not shift positions.
    let (line, column, _) = one(&report, "006_crlf.sql", "create-index-non-concurrently");
    assert_eq!((line, column), (4, 3));
    let (line, column, _) = one(&report, "007_bom.sql", "create-index-non-concurrently");
    assert_eq!((line, column), (1, 1));

    // Unrendered templates and psql meta-commands are named, and what follows is reviewed.
    let (line, _, msg) = one(&report, "008_template.sql", "unparsed-statement");
    assert_eq!(line, 2);
    assert!(msg.contains("template placeholder `{{ table }}`"), "{msg}");
    assert_eq!(
        one(&report, "008_template.sql", "create-index-non-concurrently").0,
        3
    );
    let (line, _, msg) = one(&report, "009_psql_meta.sql", "unparsed-statement");
    assert_eq!(line, 2);
    assert!(msg.contains("\\set"), "{msg}");
    assert_eq!(
        one(
            &report,
            "009_psql_meta.sql",
            "create-index-non-concurrently"
        )
        .0,
        3
    );
}

#[test]
fn binary_is_run_with_hostile_files_without_crashing() {
    let dir = hostile_copy();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
}

#[test]
fn a_five_megabyte_migration_is_reviewed_whole_with_exact_positions() {
    let dir = tempfile::tempdir().unwrap();
    let mut sql = String::with_capacity(5_200_000);
    sql.push_str("-- owner: @data\n-- Generated: 100k statements.\n");
    let statements = 100_000;
    for i in 0..statements {
        sql.push_str(&format!(
            "INSERT INTO events (id, payload) VALUES ({i}, 'row {i}; with a semicolon');\n"
        ));
    }
    sql.push_str("CREATE INDEX idx_events_payload ON events (payload);\n");
    assert!(sql.len() >= 5_000_000, "{}", sql.len());
    fs::write(dir.path().join("001_big.sql"), &sql).unwrap();

    let report = review(dir.path());

    assert_eq!(report.migrations[0].statements, statements + 1);
    let (line, column, _) = one(&report, "001_big.sql", "create-index-non-concurrently");
    assert_eq!((line, column), (statements + 3, 1));
    // Speed is not asserted here (a loaded machine would break any bound); quadratic
    // behaviour shows in `cargo bench --bench static_review` and would take hours here.
}
