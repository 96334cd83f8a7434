//! Every rule's bad example triggers exactly that rule; every good example triggers nothing.
//! The examples are the files under fixtures/rules/<name>/ that `migsafe rule` prints.

use migsafe::config::Settings;
use migsafe::review::check_paths;
use migsafe::rules::RULES;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn rules_fired(path: &PathBuf) -> Vec<String> {
    let report = check_paths(
        std::slice::from_ref(path),
        &Settings::default(),
        &mut std::io::empty(),
    )
    .unwrap_or_else(|e| panic!("{} did not load: {e:#}", path.display()));
    report
        .findings
        .iter()
        .map(|f| format!("{} (line {}: {})", f.rule, f.line, f.message))
        .collect()
}

#[test]
fn bad_examples_trigger_exactly_their_rule() {
    let mut failures = Vec::new();
    for rule in RULES {
        let path = PathBuf::from(format!("fixtures/rules/{}/bad.sql", rule.name));
        let fired = rules_fired(&path);
        let names: BTreeSet<&str> = fired
            .iter()
            .map(|f| f.split(' ').next().unwrap_or_default())
            .collect();
        if names != BTreeSet::from([rule.name]) {
            failures.push(format!("{}: bad.sql fired {fired:?}", rule.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn good_examples_trigger_nothing() {
    let mut failures = Vec::new();
    for rule in RULES {
        let path = PathBuf::from(format!("fixtures/rules/{}/good.sql", rule.name));
        let fired = rules_fired(&path);
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
    }
}
