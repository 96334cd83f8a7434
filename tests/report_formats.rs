//! The output formats as a user gets them from the binary: stdout is a pipe here, exactly as
//! in CI, so the output must be plain (no colour), deterministic and well-formed.

use std::process::Command;

fn migsafe(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs");
    (
        String::from_utf8(out.stdout).expect("output is UTF-8"),
        out.status.code().unwrap_or(-1),
    )
}

const BAD_INDEX: &str = "fixtures/rules/create-index-non-concurrently/bad.sql";
const BAD_DROP: &str = "fixtures/rules/drop-table/bad.sql";

#[test]
fn json_report_follows_the_schema() {
    let (out, _) = migsafe(&["check", "--format", "json", BAD_INDEX, BAD_DROP]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "migsafe");
    assert_eq!(v["migrations"].as_array().map(Vec::len), Some(2));
    let findings = v["findings"].as_array().expect("findings array");
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "create-index-non-concurrently" && f["file"] == BAD_INDEX));
    for f in findings {
        for key in [
            "rule", "code", "severity", "evidence", "file", "line", "column", "owner",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    let s = &v["summary"];
    let total = ["error", "warning", "info"]
        .iter()
        .map(|k| s[*k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(total as usize, findings.len());
}

#[test]
fn static_run_names_no_copy_in_any_format() {
    let (json, _) = migsafe(&["check", "--format", "json", BAD_INDEX]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["evidence"], "static");
    assert!(
        v.get("copy").is_some_and(serde_json::Value::is_null),
        "copy is present and null at static level: {json}"
    );
    assert_eq!(v["skipped_migrations"], serde_json::json!([]));
    // Entries skipped for the whole run keep the contract's shape; `file`/`line` appear only
    // on entries skipped for one statement.
    for s in v["skipped_rules"].as_array().expect("skipped_rules array") {
        assert!(s["rule"].is_string() && s["reason"].is_string(), "{s}");
        assert_eq!(s.get("file").is_some(), s.get("line").is_some(), "{s}");
    }

    let (table, _) = migsafe(&["check", BAD_INDEX]);
    assert!(!table.contains("— copy:"), "{table}");
    let (markdown, _) = migsafe(&["check", "--format", "markdown", BAD_INDEX]);
    assert!(!markdown.contains("**Evidence:**"), "{markdown}");
    assert!(!markdown.contains("not reviewed"), "{markdown}");
}

#[test]
fn every_format_is_deterministic() {
    for format in ["table", "markdown", "json"] {
        let args = ["check", "--format", format, BAD_INDEX, BAD_DROP];
        let (first, _) = migsafe(&args);
        let (second, _) = migsafe(&args);
        assert!(!first.is_empty(), "{format} printed nothing");
        assert_eq!(first, second, "{format} output differs between runs");
    }
}

#[test]
fn table_on_a_pipe_is_plain_and_ends_with_the_summary() {
    let (out, _) = migsafe(&["check", BAD_INDEX]);
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("in 1 migration (evidence: static)"),
        "last line: {last}"
    );
    assert!(out.contains(&format!("{BAD_INDEX}:")));
    assert!(out.contains("create-index-non-concurrently"));
}

#[test]
fn markdown_is_a_pr_comment() {
    let (out, _) = migsafe(&["check", "--format", "markdown", BAD_INDEX]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("<!-- migsafe-report -->"));
    let verdict = lines.next().unwrap_or_default();
    assert!(verdict.starts_with("### "), "verdict: {verdict}");
    assert!(verdict.contains("migsafe (static evidence)"));
    assert!(out.contains("| Migration | Verdict | Owner |"));
    assert!(out.contains("```sql"));
}

#[test]
fn rules_catalog_and_rule_page() {
    let (catalog, code) = migsafe(&["rules"]);
    assert_eq!(code, 0);
    assert!(catalog.contains("M001"));
    assert!(catalog.contains("create-index-non-concurrently"));
    assert!(!catalog.contains('\x1b'));

    let (page, code) = migsafe(&["rule", "create-index-non-concurrently"]);
    assert_eq!(code, 0);
    assert!(page.starts_with("M001 create-index-non-concurrently\n"));
    for section in ["WHAT", "WHY", "INSTEAD", "ROLLBACK", "BAD", "GOOD"] {
        assert!(page.lines().any(|l| l == section), "no {section} section");
    }
    assert!(page.contains("CREATE INDEX orders_customer_id_idx ON orders (customer_id);"));
}

#[test]
fn static_run_has_the_execution_keys_empty_and_no_timeline() {
    let (json, _) = migsafe(&["check", "--format", "json", BAD_INDEX]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["locked"], serde_json::json!([]), "{json}");
    for m in v["migrations"].as_array().expect("migrations array") {
        assert_eq!(m["timeline"], serde_json::json!([]), "{m}");
        assert!(
            m.get("not_executed")
                .is_some_and(serde_json::Value::is_null),
            "{m}"
        );
    }
    for format in ["table", "markdown", "github"] {
        let (out, _) = migsafe(&["check", "--format", format, BAD_INDEX]);
        for execution_only in ["timeline", "Timeline", "Locked on the copy", "indicative"] {
            assert!(
                !out.contains(execution_only),
                "{format}: {execution_only} in {out}"
            );
        }
    }
}

/// An execution-level report as the engine hands it to the renderers: one migration that
/// ran (a long ACCESS EXCLUSIVE rewrite, a backfill, a quick SET, then a failure), and one
/// not executed because of it.
fn executed() -> migsafe::model::Report {
    use migsafe::model::*;
    let rollback = Rollback {
        text: String::new(),
        source: RollbackSource::None,
        status: RollbackStatus::NotChecked,
        detail: String::new(),
        irreversible: false,
    };
    let entry = |line, statement: &str, ms, lock: Option<&str>, rows, failed| TimelineEntry {
        line,
        statement: statement.into(),
        duration_ms: ms,
        lock: lock.map(str::to_string),
        table: lock.map(|_| "public.orders".to_string()),
        held_ms: lock.map(|_| ms),
        rows,
        failed,
    };
    let migration = |path: &str| MigrationSummary {
        path: path.into(),
        version: None,
        name: "m".into(),
        layout: Layout::Plain,
        in_transaction: true,
        transaction: migsafe::model::Transaction::File,
        transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
        statements: 4,
        owner: None,
        owner_source: OwnerSource::None,
        expected: vec![],
        rollback: rollback.clone(),
        timeline: vec![],
        not_executed: None,
    };
    Report {
        evidence: Evidence::Execution,
        migrations: vec![
            MigrationSummary {
                timeline: vec![
                    entry(1, "SET lock_timeout = '5s'", 0, None, None, false),
                    entry(
                        2,
                        "ALTER TABLE orders ALTER COLUMN id TYPE bigint",
                        12_300,
                        Some("AccessExclusiveLock"),
                        None,
                        false,
                    ),
                    entry(
                        3,
                        "UPDATE orders SET note = ''",
                        1_600,
                        Some("RowExclusiveLock"),
                        Some(120_000),
                        false,
                    ),
                    entry(
                        4,
                        "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref)",
                        900,
                        None,
                        None,
                        true,
                    ),
                ],
                ..migration("db/1.sql")
            },
            MigrationSummary {
                not_executed: Some(
                    "not executed: db/1.sql failed at line 4 (duplicate key)".into(),
                ),
                ..migration("db/2.sql")
            },
        ],
        findings: vec![],
        skipped_rules: vec![],
        skipped_migrations: vec![],
        copy: None,
        phases: vec![],
        locked: vec![LockedTable {
            table: "public.orders".into(),
            lock: "AccessExclusiveLock".into(),
            blocks: "reads and writes".into(),
            held_ms: 13_900,
        }],
        summary: Summary::default(),
        production: None,
    }
}

fn render(report: &migsafe::model::Report, format: migsafe::report::Format) -> String {
    let mut out = Vec::new();
    migsafe::report::render_with(
        report,
        format,
        &migsafe::report::Terminal::plain(),
        &mut out,
    )
    .expect("renders");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn execution_reports_show_timeline_lock_totals_and_the_copy_caveat() {
    use migsafe::report::Format;
    let report = executed();
    let table = render(&report, Format::Table);
    assert!(
        table.contains("  timeline: L2  12.3 s  AccessExclusiveLock on public.orders held 12.3 s"),
        "{table}"
    );
    assert!(
        table.contains("L3   1.6 s  RowExclusiveLock on public.orders held 1.6 s  120,000 rows"),
        "{table}"
    );
    assert!(table.contains("L4  900 ms  FAILED"), "{table}");
    assert!(table.contains("1 more statement under 1 ms"), "{table}");
    assert!(
        table.contains("  not executed: db/1.sql failed at line 4"),
        "{table}"
    );
    assert!(
        table.contains(
            "Locked on the copy: public.orders ACCESS EXCLUSIVE (reads and writes) 13.9 s"
        ),
        "{table}"
    );
    assert!(table.contains("indicative"), "{table}");

    let md = render(&report, Format::Markdown);
    assert!(md.contains("<details><summary>Timeline on the copy (4 statements, 14.8 s in all, 1 failed)</summary>"), "{md}");
    assert!(md.contains("| 4 ❌ failed |"), "{md}");
    assert!(
        md.contains("**Not executed:** db/1.sql failed at line 4"),
        "{md}"
    );
    assert!(md.contains("indicative"), "{md}");

    let v: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).expect("JSON");
    let timeline = &v["migrations"][0]["timeline"];
    assert_eq!(timeline.as_array().map(Vec::len), Some(4));
    assert_eq!(timeline[1]["lock"], "AccessExclusiveLock");
    assert_eq!(timeline[1]["held_ms"], 12_300);
    assert_eq!(timeline[3]["failed"], true);
    assert_eq!(
        v["migrations"][1]["not_executed"],
        "not executed: db/1.sql failed at line 4 (duplicate key)"
    );
    assert_eq!(v["locked"][0]["held_ms"], 13_900);
}

/// `paths` in a migsafe.toml found by absolute `--config` resolve to absolute paths inside
/// the engine; no report written for CI may carry them (issue #14: two runners with different
/// checkouts must write the same bytes), and the terminal formats show them relative to the
/// current directory.
#[test]
fn no_report_carries_an_absolute_path_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("db")).unwrap();
    std::fs::write(root.join("migsafe.toml"), "paths = [\"db\"]\n").unwrap();
    std::fs::write(
        root.join("db/0001_orders_index.sql"),
        "-- owner: @payments-team\nCREATE INDEX orders_status_idx ON orders (status);\n",
    )
    .unwrap();
    let config = root.join("migsafe.toml");
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_migsafe"))
            .current_dir(&root)
            .args(["check", "--config"])
            .arg(&config)
            .args(["--format", format])
            .env_remove("NO_COLOR")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .expect("the binary runs");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let absolute = root.display().to_string();
    for format in [
        "table", "concise", "markdown", "html", "json", "sarif", "github", "gitlab",
    ] {
        let out = run(format);
        assert!(out.contains("db/0001_orders_index.sql"), "{format}: {out}");
        assert!(!out.contains(&absolute), "{format} names {absolute}: {out}");
    }
    let concise = run("concise");
    assert!(
        concise
            .contains("\ndb/0001_orders_index.sql:2:1: error M001 create-index-non-concurrently: "),
        "{concise}"
    );
}

#[test]
fn color_flag_overrides_the_pipe_and_no_color() {
    let plain = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(["check", "--format", "concise", BAD_INDEX])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        !plain.stdout.contains(&0x1b),
        "a pipe gets no colour by default"
    );
    let forced = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args([
            "--color", "always", "check", "--format", "concise", BAD_INDEX,
        ])
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        forced.stdout.contains(&0x1b),
        "--color always wins over NO_COLOR"
    );
    let never = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args(["check", "--color=never", BAD_INDEX])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!never.stdout.contains(&0x1b));
}

/// Issue #12: the safer alternative is written with the statement's own table and column in
/// every format, not the rule's generic example (`users.email`).
#[test]
fn instead_is_written_with_the_users_names_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("0007_rental_return_date.sql");
    std::fs::write(
        &file,
        "-- owner: @store-team\n-- expect: succeeds\n-- rollback: ALTER TABLE rental ALTER COLUMN return_date DROP NOT NULL;\n\
         ALTER TABLE rental ALTER COLUMN return_date SET NOT NULL;\n\
         ALTER TABLE rental ADD CONSTRAINT rental_returned_after_rented CHECK (return_date >= rental_date);\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let built = "ALTER TABLE rental ADD CONSTRAINT rental_return_date_not_null CHECK (return_date IS NOT NULL) NOT VALID;";
    let check = "ALTER TABLE rental ADD CONSTRAINT rental_returned_after_rented CHECK (return_date >= rental_date) NOT VALID;";
    for format in [
        "table", "markdown", "json", "sarif", "html", "github", "gitlab",
    ] {
        let (out, _) = migsafe(&["check", "--format", format, path]);
        // The terminal wraps prose; HTML escapes `>` (the only character here it would).
        let flat = out
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("&gt;", ">")
            .replace("\\u003e", ">");
        assert!(
            flat.contains(built),
            "{format} lacks the built instead:\n{out}"
        );
        assert!(
            flat.contains(check),
            "{format} lacks the check's instead:\n{out}"
        );
        // SARIF's rule descriptors carry each rule's generic help, like `migsafe rule NAME`.
        if format != "sarif" {
            assert!(
                !out.contains("users_email_not_null") && !out.contains("orders_amount_positive"),
                "{format} shows the generic example:\n{out}"
            );
        }
    }
    let (out, _) = migsafe(&["check", "--format", "sarif", path]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid SARIF");
    let result = v["runs"][0]["results"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["ruleId"] == "M007" || r["ruleId"] == "set-not-null")
        })
        .expect("a set-not-null result");
    let message = result["message"]["text"].as_str().unwrap_or("");
    assert!(message.contains(built), "{message}");
    assert!(!message.contains("users_email_not_null"), "{message}");
    let (out, _) = migsafe(&["check", "--format", "json", path]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let finding = v["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "set-not-null"))
        .expect("a set-not-null finding");
    assert!(finding["instead"].as_str().unwrap_or("").contains(built));
}
