//! Every rule's bad example triggers exactly that rule; every good example triggers nothing.
//! The examples are the files under fixtures/rules/<name>/ that `migsafe rule` prints.
//!
//! Static rules are checked on the SQL alone. Catalog and execution rules are checked the way
//! a user runs them: their `setup.sql` builds the copy in a fresh database, and the example is
//! reviewed against it with `--database-url` (catalog rules) or run on it as a disposable
//! copy (execution rules, `--disposable`). A `-- thresholds: key = value, ...` line in
//! setup.sql lowers the size thresholds so that small fixture tables count as large; a
//! `-- lock_budget_ms: N` line lowers the lock budget; `-- watch: PATH` names the watched
//! queries; `-- production: production-<example>.json` reviews each example with
//! `--production` and its own snapshot (`"version": "as-copy"` there stands for the test
//! server's own version).

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::model::{Evidence, Transaction};
use migsafe::review::{check_on_target_with, check_paths, Target};
use migsafe::rules::{Rule, RULES};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn describe(report: &migsafe::model::Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{} (line {}: {})", f.rule, f.line, f.message))
        .collect()
}

/// The examples are written for a runner that wraps each file in a transaction (sqlx's,
/// diesel's, goose's and Flyway's default); a lone plain file's runner is otherwise unknown.
fn wrapped(settings: Settings) -> Settings {
    Settings {
        transaction: Some(Transaction::File),
        ..settings
    }
}

fn static_fired(path: &Path) -> Vec<String> {
    let report = check_paths(
        &[path.to_path_buf()],
        &wrapped(Settings::default()),
        &mut std::io::empty(),
    )
    .unwrap_or_else(|e| panic!("{} did not load: {e:#}", path.display()));
    describe(&report)
}

/// Settings with the thresholds a catalog example's setup.sql asks for.
fn example_settings(setup: &str) -> Settings {
    let mut toml = String::from("[thresholds]\n");
    for line in setup.lines() {
        if let Some(pairs) = line.trim().strip_prefix("-- thresholds:") {
            for pair in pairs.split(',') {
                toml.push_str(pair.trim());
                toml.push('\n');
            }
        }
    }
    toml.push_str("[execution]\n");
    for line in setup.lines() {
        if let Some(ms) = line.trim().strip_prefix("-- lock_budget_ms:") {
            toml.push_str(&format!("lock_budget = \"{}ms\"\n", ms.trim()));
        }
        if let Some(ms) = line.trim().strip_prefix("-- statement_timeout_ms:") {
            toml.push_str(&format!("statement_timeout = \"{}ms\"\n", ms.trim()));
        }
        if let Some(path) = line.trim().strip_prefix("-- watch:") {
            toml.push_str(&format!("watch = \"{}\"\n", path.trim()));
        }
    }
    wrapped(
        Settings::from_toml(&toml, PathBuf::from("."))
            .unwrap_or_else(|e| panic!("bad thresholds line in setup.sql: {e:#}")),
    )
}

/// Findings of `example` reviewed against a fresh copy built from the rule's setup.sql.
async fn catalog_fired(rule: &Rule, example: &str) -> Vec<String> {
    let dir = format!("fixtures/rules/{}", rule.name);
    let setup_path = format!("{dir}/setup.sql");
    let setup = std::fs::read_to_string(&setup_path)
        .unwrap_or_else(|e| panic!("{} needs {setup_path}: {e}", rule.name));
    let db = TestDb::create(&format!("ex_{}", rule.code.to_lowercase())).await;
    db.load_fixture(&format!("rules/{}/setup.sql", rule.name))
        .await;
    let path = PathBuf::from(format!("{dir}/{example}"));
    // Execution rules run the example on the fresh database: it is disposable.
    let target = Target {
        url: db.url.clone(),
        execute_on: (rule.evidence == Evidence::Execution).then(|| db.url.clone()),
        analyze: false,
    };
    let production = production_for(&db, &dir, &setup, example).await;
    let report = check_on_target_with(
        std::slice::from_ref(&path),
        &example_settings(&setup),
        &mut std::io::empty(),
        &target,
        false,
        production.as_ref(),
    )
    .await
    .unwrap_or_else(|e| panic!("{} did not review: {e:#}", path.display()));
    assert_eq!(report.evidence, rule.evidence);
    describe(&report)
}

/// The production snapshot an example is reviewed against, when setup.sql names one.
async fn production_for(
    db: &TestDb,
    dir: &str,
    setup: &str,
    example: &str,
) -> Option<migsafe::production::ProductionInput> {
    let pattern = setup
        .lines()
        .find_map(|l| l.trim().strip_prefix("-- production:"))?
        .trim();
    let stem = example.trim_end_matches(".sql");
    let path = format!("{dir}/{}", pattern.replace("<example>", stem));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    if value["server"]["version"] == "as-copy" {
        let mut conn = db.connect().await;
        let (version, num): (String, i32) = sqlx::query_as(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int4",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        value["server"]["version"] = version.into();
        value["server"]["version_num"] = num.into();
    }
    let snapshot = migsafe::evidence::snapshot::Snapshot::parse(&value.to_string())
        .unwrap_or_else(|e| panic!("{path}: {e:#}"));
    Some(migsafe::production::ProductionInput { path, snapshot })
}

async fn fired(rule: &Rule, example: &str) -> Vec<String> {
    match rule.evidence {
        Evidence::Static => static_fired(&PathBuf::from(format!(
            "fixtures/rules/{}/{example}",
            rule.name
        ))),
        _ => catalog_fired(rule, example).await,
    }
}

fn names(fired: &[String]) -> BTreeSet<&str> {
    fired
        .iter()
        .map(|f| f.split(' ').next().unwrap_or_default())
        .collect()
}

/// Rules whose bad example cannot avoid another rule firing with it: a migration is not
/// executed because an earlier one in the same file failed (fails-on-copy); a type change
/// blocked by a view is still a type change (column-type-change says whether it rewrites);
/// a watched plan that regresses because an index was dropped names the drop as well.
const COMPANIONS: &[(&str, &[&str])] = &[
    ("not-executed-on-copy", &["fails-on-copy"]),
    ("dependent-objects-block-change", &["column-type-change"]),
    // The regression comes from dropping an index a watched query used: the drop is named too.
    ("plan-regression", &["drop-index-in-use"]),
];

#[tokio::test]
async fn bad_examples_trigger_exactly_their_rule() {
    let mut failures = Vec::new();
    for rule in RULES {
        let fired = fired(rule, "bad.sql").await;
        let mut expected = BTreeSet::from([rule.name]);
        for (name, others) in COMPANIONS {
            if *name == rule.name {
                expected.extend(others.iter().copied());
            }
        }
        if names(&fired) != expected {
            failures.push(format!("{}: bad.sql fired {fired:?}", rule.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test]
async fn good_examples_trigger_nothing() {
    let mut failures = Vec::new();
    for rule in RULES {
        let fired = fired(rule, "good.sql").await;
        if !fired.is_empty() {
            failures.push(format!("{}: good.sql fired {fired:?}", rule.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn examples_printed_by_migsafe_rule_are_the_fixture_files() {
    for rule in RULES {
        let bad = std::fs::read_to_string(format!("fixtures/rules/{}/bad.sql", rule.name)).unwrap();
        assert_eq!(bad, rule.bad, "{} embeds a stale bad example", rule.name);
        let good =
            std::fs::read_to_string(format!("fixtures/rules/{}/good.sql", rule.name)).unwrap();
        assert_eq!(good, rule.good, "{} embeds a stale good example", rule.name);
    }
}
