//! The rules' documentation pages in the repository (`docs/rules/<name>.md`) and their URLs:
//! SARIF's per-rule `helpUri`, the PR comment's and the HTML report's rule links point there,
//! so a reviewer clicking a rule reads the version of its text that lives with the code.
//!
//! The pages are generated from the registry (`rules::RULES`: what, why, instead, rollback,
//! bad and good example); `tests::pages_in_the_repository_are_current` fails when one is
//! stale and writes the fresh ones with `MIGSAFE_UPDATE_DOCS=1`, the way insta accepts
//! snapshots, so the docs never drift from the rule texts.
//!
//! URLs are `<repository>/blob/main/docs/rules/<name>.md`, with the repository from
//! Cargo.toml's `repository` field when it is set, else `FALLBACK_REPOSITORY`.

use super::text;
use crate::model::Evidence;
use crate::rules::{Check, Rule};

/// Where the project lives when Cargo.toml does not say (it has no `repository` yet).
pub const FALLBACK_REPOSITORY: &str = "https://github.com/migsafe/migsafe";

/// The repository's web address, without a trailing `/`.
pub fn repository() -> &'static str {
    let from_manifest = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    if from_manifest.is_empty() {
        FALLBACK_REPOSITORY
    } else {
        from_manifest
    }
}

/// The path of a rule's page inside the repository.
pub fn rule_path(name: &str) -> String {
    format!("docs/rules/{name}.md")
}

/// The web address of a rule's page.
pub fn rule_url(name: &str) -> String {
    format!("{}/blob/main/{}", repository(), rule_path(name))
}

/// The Markdown page of one rule.
pub fn rule_page(rule: &Rule) -> String {
    let mut page = format!(
        "# {} {}\n\n<!-- Generated from src/rules by `MIGSAFE_UPDATE_DOCS=1 cargo test --lib \
         report::docs`; edit the rule, not this page. -->\n\n",
        rule.code, rule.name
    );
    page.push_str(&format!(
        "Default severity: **{}** · Evidence: **{}\n\n",
        rule.severity,
        match rule.evidence {
            Evidence::Static => "static** (the SQL alone)",
            Evidence::Catalog => "catalog** (needs `--database-url`)",
            Evidence::Execution =>
                "execution** (needs a disposable copy: `--clone`, `--disposable` or `--restore`)",
        }
    ));
    for (title, body) in [
        ("What it flags", rule.what),
        ("Why it is risky", rule.why),
        ("Instead", rule.instead),
        ("Rollback", rule.rollback),
    ] {
        page.push_str(&format!("## {title}\n\n{}\n\n", text::one_line(body)));
    }
    for (title, sql) in [("Bad", rule.bad), ("Good", rule.good)] {
        let longest = sql.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        page.push_str(&format!(
            "## {title}\n\n{fence}sql\n{}\n{fence}\n\n",
            sql.trim_end()
        ));
    }
    if !matches!(rule.check, Check::Engine) {
        page.push_str(&format!(
            "## Allow\n\n```sql\n-- migsafe:allow {} reason: <why it is safe here>\n```\n",
            rule.name
        ));
    }
    page.trim_end().to_string() + "\n"
}

/// The index page: every rule with its code and what it flags.
pub fn index_page(rules: &[&Rule]) -> String {
    let mut page = String::from(
        "# migsafe rules\n\n<!-- Generated from src/rules by `MIGSAFE_UPDATE_DOCS=1 cargo test \
         --lib report::docs`. -->\n\n| Code | Rule | Severity | Evidence |\n| --- | --- | --- | --- |\n",
    );
    for r in rules {
        page.push_str(&format!(
            "| {} | [{}]({}.md) | {} | {} |\n",
            r.code, r.name, r.name, r.severity, r.evidence
        ));
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;
    use std::path::Path;

    #[test]
    fn urls_point_at_the_pages_in_the_repository() {
        let url = rule_url("set-not-null");
        assert!(url.starts_with("https://"), "{url}");
        assert!(
            url.ends_with("/blob/main/docs/rules/set-not-null.md"),
            "{url}"
        );
    }

    #[test]
    fn pages_in_the_repository_are_current() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
        let update = std::env::var_os("MIGSAFE_UPDATE_DOCS").is_some();
        let mut expected: Vec<(String, String)> = RULES
            .iter()
            .map(|r| (format!("{}.md", r.name), rule_page(r)))
            .collect();
        expected.push(("README.md".to_string(), index_page(RULES)));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
            for (name, page) in &expected {
                std::fs::write(dir.join(name), page).unwrap();
            }
        }
        let mut stale = Vec::new();
        for (name, page) in &expected {
            if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(page.as_str()) {
                stale.push(name.clone());
            }
        }
        let extra: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !expected.iter().any(|(e, _)| e == n))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            stale.is_empty() && extra.is_empty(),
            "docs/rules is out of date (stale: {stale:?}, not a rule: {extra:?}); run \
             MIGSAFE_UPDATE_DOCS=1 cargo test --lib report::docs"
        );
    }

    #[test]
    fn a_page_has_every_text_slot_and_both_examples() {
        let page = rule_page(crate::rules::by_name("set-not-null"));
        for heading in [
            "# M007 set-not-null",
            "## What it flags",
            "## Why it is risky",
            "## Instead",
            "## Rollback",
            "## Bad",
            "## Good",
            "## Allow",
        ] {
            assert!(page.contains(heading), "{heading}: {page}");
        }
        assert!(
            page.contains("Evidence: **static** (the SQL alone)"),
            "{page}"
        );
    }
}
