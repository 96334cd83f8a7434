//! Helpers for rule unit tests: review a snippet and keep one rule's findings.

use crate::config::Settings;
use crate::model::Finding;
use crate::rules::Rule;

/// Findings of `rule` when `sql` is reviewed as a transactional plain migration.
pub fn check(rule: &Rule, sql: &str) -> Vec<Finding> {
    let report = crate::review::review_sql("test.sql", sql, &Settings::default())
        .expect("inline SQL always loads");
    report
        .findings
        .into_iter()
        .filter(|f| f.rule == rule.name)
        .collect()
}

/// Number of findings of `rule` for `sql`.
pub fn count(rule: &Rule, sql: &str) -> usize {
    check(rule, sql).len()
}
