//! Reading migsafe's JSON report in the binary-level tests: the report itself, a rule's
//! findings and one migration's entry, each failing with the whole output when absent.

use serde_json::Value;
use std::process::Output;

/// The JSON report on `out`'s stdout; not JSON fails with both streams shown.
pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}), exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The findings of `rule` (its name) in `report`.
pub fn findings<'r>(report: &'r Value, rule: &str) -> Vec<&'r Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The migration of `report` whose path ends with `file`.
pub fn migration<'r>(report: &'r Value, file: &str) -> &'r Value {
    report["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .find(|m| m["path"].as_str().is_some_and(|p| p.ends_with(file)))
        .unwrap_or_else(|| panic!("no migration {file} in {report:#}"))
}
