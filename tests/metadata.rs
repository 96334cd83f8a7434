//! The people facts as a user sees them in the report: owners from annotations, CODEOWNERS
//! (GitHub and GitLab) and config; expected results; rollbacks from annotations and down
//! files; and the metadata rules that fire when one is missing.

use migsafe::config::Settings;
use migsafe::model::{
    ExpectStatus, MigrationSummary, OwnerSource, Report, RollbackSource, RollbackStatus, Severity,
};
use migsafe::review::check_paths;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A temporary repository: a `.git` directory and nothing else yet.
fn repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn settings(root: &Path) -> Settings {
    Settings {
        root: root.to_path_buf(),
        ..Default::default()
    }
}

fn check(paths: &[PathBuf], settings: &Settings) -> Report {
    check_paths(paths, settings, &mut std::io::empty())
        .unwrap_or_else(|e| panic!("review failed: {e:#}"))
}

fn migration<'a>(report: &'a Report, file_name: &str) -> &'a MigrationSummary {
    report
        .migrations
        .iter()
        .find(|m| m.path.ends_with(file_name))
        .unwrap_or_else(|| {
            let paths: Vec<_> = report.migrations.iter().map(|m| &m.path).collect();
            panic!("{file_name} not among {paths:?}")
        })
}

/// Rules that fired on the migration whose path ends with `file_name`.
fn rules_on(report: &Report, file_name: &str) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| f.file.ends_with(file_name))
        .map(|f| f.rule)
        .collect()
}

const TABLE: &str = "CREATE TABLE feature_flags (name text PRIMARY KEY);\n";

#[test]
fn owner_comes_from_annotation_then_codeowners() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        ".github/CODEOWNERS",
        "* @everyone\n/db/migrations/ @db-team @dba\n/db/migrations/0002_*.sql @payments\n",
    );
    write(
        root,
        "db/migrations/0001_flags.sql",
        &format!("-- owner: @platform\n-- expect: succeeds\n-- rollback: DROP TABLE feature_flags;\n{TABLE}"),
    );
    write(
        root,
        "db/migrations/0002_payments.sql",
        &format!("-- expect: succeeds\n-- rollback: DROP TABLE feature_flags;\n{TABLE}"),
    );
    write(
        root,
        "db/migrations/0003_more.sql",
        &format!("-- rollback: DROP TABLE feature_flags;\n{TABLE}"),
    );
    let report = check(&[root.join("db/migrations")], &settings(root));

    let annotated = migration(&report, "0001_flags.sql");
    assert_eq!(annotated.owner.as_deref(), Some("@platform"));
    assert_eq!(annotated.owner_source, OwnerSource::Annotation);

    // Last matching line wins.
    let payments = migration(&report, "0002_payments.sql");
    assert_eq!(payments.owner.as_deref(), Some("@payments"));
    assert_eq!(payments.owner_source, OwnerSource::Codeowners);

    let more = migration(&report, "0003_more.sql");
    assert_eq!(more.owner.as_deref(), Some("@db-team @dba"));
    assert_eq!(more.owner_source, OwnerSource::Codeowners);

    // Only 0003 lacks something (its expected result), and its finding names the owner.
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].rule, "missing-expected-result");
    assert_eq!(report.findings[0].owner.as_deref(), Some("@db-team @dba"));
}

#[test]
fn codeowners_is_found_at_the_repository_root_above_the_config_directory() {
    let repo = repo();
    let root = repo.path();
    write(root, "docs/CODEOWNERS", "migrations/ @anywhere-team\n");
    write(
        root,
        "services/billing/migrations/0001_flags.sql",
        &format!("-- expect: succeeds\n-- rollback: DROP TABLE feature_flags;\n{TABLE}"),
    );
    // migsafe.toml would live in services/billing; the repository root is two levels up.
    let report = check(
        &[root.join("services/billing/migrations/0001_flags.sql")],
        &settings(&root.join("services/billing")),
    );
    let m = migration(&report, "0001_flags.sql");
    assert_eq!(m.owner.as_deref(), Some("@anywhere-team"));
    assert_eq!(m.owner_source, OwnerSource::Codeowners);
}

#[test]
fn github_codeowners_takes_precedence_over_root_and_docs() {
    let repo = repo();
    let root = repo.path();
    write(root, ".github/CODEOWNERS", "*.sql @from-github-dir\n");
    write(root, "CODEOWNERS", "*.sql @from-root\n");
    write(root, "docs/CODEOWNERS", "*.sql @from-docs\n");
    write(root, "m/0001_flags.sql", TABLE);
    let report = check(&[root.join("m")], &settings(root));
    assert_eq!(
        migration(&report, "0001_flags.sql").owner.as_deref(),
        Some("@from-github-dir")
    );
}

#[test]
fn gitlab_sections_combine_their_owners() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        ".gitlab/CODEOWNERS",
        "* @maintainers\n\n[Database][2] @dba\ndb/\n\n^[Billing] @billing\n/db/migrations/*invoice*\n",
    );
    write(root, "db/migrations/0001_invoices.sql", TABLE);
    write(root, "db/migrations/0002_flags.sql", TABLE);
    let report = check(&[root.join("db/migrations")], &settings(root));
    assert_eq!(
        migration(&report, "0001_invoices.sql").owner.as_deref(),
        Some("@maintainers @dba @billing")
    );
    assert_eq!(
        migration(&report, "0002_flags.sql").owner.as_deref(),
        Some("@maintainers @dba")
    );
}

#[test]
fn config_owner_is_the_last_resort_and_none_is_reported() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "CODEOWNERS",
        "/docs/ @writers\n/db/migrations/legacy/\n",
    );
    write(root, "db/migrations/0001_flags.sql", TABLE);

    let with_default = Settings {
        default_owner: Some("@config-team".to_string()),
        ..settings(root)
    };
    let report = check(&[root.join("db/migrations")], &with_default);
    let m = migration(&report, "0001_flags.sql");
    assert_eq!(m.owner.as_deref(), Some("@config-team"));
    assert_eq!(m.owner_source, OwnerSource::Config);

    let report = check(&[root.join("db/migrations")], &settings(root));
    let m = migration(&report, "0001_flags.sql");
    assert_eq!(m.owner, None);
    assert_eq!(m.owner_source, OwnerSource::None);
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "missing-owner")
        .expect("missing-owner reported");
    assert_eq!((finding.line, finding.column), (1, 1));
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(
        finding.message,
        "No owner: add `-- owner: @team` to the file's leading comments, or a CODEOWNERS entry"
    );
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["owner_source"], "none");
}

#[test]
fn without_a_git_directory_the_given_root_is_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    write(&root, "CODEOWNERS", "/migrations/ @project-team\n");
    write(&root, "migrations/0001_flags.sql", TABLE);
    let report = check(&[root.join("migrations")], &settings(&root));
    assert_eq!(
        migration(&report, "0001_flags.sql").owner.as_deref(),
        Some("@project-team")
    );
}

#[test]
fn a_missing_fact_fires_its_rule_at_line_one() {
    let repo = repo();
    let root = repo.path();
    write(root, "m/0001_bare.sql", TABLE);
    write(
        root,
        "m/0002_documented.sql",
        &format!("-- owner: @x\n-- expect: succeeds\n-- rollback: irreversible\n{TABLE}"),
    );
    let report = check(&[root.join("m")], &settings(root));
    let mut bare = rules_on(&report, "0001_bare.sql");
    bare.sort_unstable();
    assert_eq!(
        bare,
        [
            "missing-expected-result",
            "missing-owner",
            "missing-rollback"
        ]
    );
    assert!(report
        .findings
        .iter()
        .filter(|f| f.file.ends_with("0001_bare.sql"))
        .all(|f| (f.line, f.column) == (1, 1)));
    assert!(rules_on(&report, "0002_documented.sql").is_empty());
}

#[test]
fn required_facts_follow_the_config() {
    let repo = repo();
    let root = repo.path();
    write(root, "m/0001_bare.sql", TABLE);
    let cfg = Settings::from_toml(
        "[require]\nowner = \"error\"\nexpect = \"off\"\nrollback = \"info\"\n",
        root.to_path_buf(),
    )
    .unwrap();
    let report = check(&[root.join("m")], &cfg);
    let severity = |rule: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| f.severity)
    };
    assert_eq!(severity("missing-owner"), Some(Severity::Error));
    assert_eq!(severity("missing-expected-result"), None);
    assert_eq!(severity("missing-rollback"), Some(Severity::Info));
}

#[test]
fn expected_results_are_listed_with_their_status() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "m/0001_flags.sql",
        &format!(
            "-- owner: @x\n-- expect: rows <= 50000\n-- expect: plan \"SELECT * FROM feature_flags WHERE name = 'a'\" uses index feature_flags_pkey\n-- expect: the checkout page keeps working\n-- rollback: DROP TABLE feature_flags;\n{TABLE}"
        ),
    );
    let report = check(&[root.join("m")], &settings(root));
    let m = migration(&report, "0001_flags.sql");
    let texts: Vec<&str> = m.expected.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "rows <= 50000",
            "plan \"SELECT * FROM feature_flags WHERE name = 'a'\" uses index feature_flags_pkey",
            "the checkout page keeps working",
        ]
    );
    assert!(m
        .expected
        .iter()
        .all(|e| e.status == ExpectStatus::NotChecked));
    assert!(m.expected[0].detail.contains("--clone or --restore"));
    assert!(m.expected[1].detail.contains("--clone or --restore"));
    assert_eq!(
        m.expected[2].detail,
        "free text: shown as written, not checked"
    );
    assert_eq!(m.expected[0].line, 2);

    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["expected"][0]["status"], "not_checked");
    assert_eq!(json["rollback"]["source"], "annotation");
    assert_eq!(json["rollback"]["status"], "not_checked");
}

#[test]
fn a_down_file_is_the_rollback() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "m/1_flags.up.sql",
        &format!("-- owner: @x\n-- expect: succeeds\n{TABLE}"),
    );
    write(
        root,
        "m/1_flags.down.sql",
        "DROP INDEX IF EXISTS flags_idx;\nDROP TABLE feature_flags;\n",
    );
    let report = check(&[root.join("m")], &settings(root));

    let m = migration(&report, "1_flags.up.sql");
    assert_eq!(m.rollback.source, RollbackSource::DownFile);
    assert_eq!(
        m.rollback.text,
        "DROP INDEX IF EXISTS flags_idx;\nDROP TABLE feature_flags;"
    );
    assert_eq!(m.rollback.status, RollbackStatus::NotChecked);
    assert_eq!(
        m.rollback.detail,
        "verified only at execution level (--clone/--restore)"
    );
    assert!(rules_on(&report, "1_flags.up.sql").is_empty());
}

#[test]
fn an_empty_down_file_is_no_rollback_and_the_message_says_so() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "m/2_more.up.sql",
        &format!("-- owner: @x\n-- expect: succeeds\n{TABLE}"),
    );
    write(root, "m/2_more.down.sql", "-- nothing yet\n");
    let report = check(&[root.join("m")], &settings(root));
    let empty = migration(&report, "2_more.up.sql");
    assert_eq!(empty.rollback.source, RollbackSource::None);
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "missing-rollback")
        .expect("missing-rollback on the empty down file");
    assert!(
        finding.message.contains("down migration is empty"),
        "{}",
        finding.message
    );
}

#[test]
fn a_goose_down_section_saying_irreversible_is_an_answer() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "m/20240101000000_purge.sql",
        "-- +goose Up\n-- owner: @x\n-- expect: rows <= 100\nDELETE FROM sessions WHERE expires_at < now();\n\n-- +goose Down\n-- irreversible: expired sessions are gone\n",
    );
    let report = check(&[root.join("m")], &settings(root));
    let m = migration(&report, "20240101000000_purge.sql");
    assert!(m.rollback.irreversible, "{:?}", m.rollback);
    assert_eq!(m.rollback.source, RollbackSource::DownFile);
    assert_eq!(m.rollback.detail, "declared irreversible");
    assert!(!rules_on(&report, "20240101000000_purge.sql").contains(&"missing-rollback"));
}

#[test]
fn a_block_comment_header_is_read() {
    let repo = repo();
    let root = repo.path();
    write(
        root,
        "m/0001_flags.sql",
        &format!("/*\n * Owner: @block-team\n * Expect: lock <= 2s\n * Rollback: DROP TABLE feature_flags;\n */\n{TABLE}"),
    );
    let report = check(&[root.join("m")], &settings(root));
    let m = migration(&report, "0001_flags.sql");
    assert_eq!(m.owner.as_deref(), Some("@block-team"));
    assert_eq!(m.expected.len(), 1);
    assert_eq!(m.expected[0].line, 3);
    assert_eq!(m.rollback.text, "DROP TABLE feature_flags;");
}

#[test]
fn stdin_gets_config_owner_and_never_codeowners() {
    let repo = repo();
    let root = repo.path();
    write(root, "CODEOWNERS", "* @everyone\n");
    let cfg = Settings {
        default_owner: Some("@cfg".to_string()),
        ..settings(root)
    };
    let mut stdin = TABLE.as_bytes();
    let report = check_paths(&[PathBuf::from("-")], &cfg, &mut stdin).unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(report.migrations[0].owner.as_deref(), Some("@cfg"));
    assert_eq!(report.migrations[0].owner_source, OwnerSource::Config);
}
