//! `migsafe rules` and `migsafe rule NAME`: the catalog as a table, and one rule as a page
//! (what, why, instead, rollback, bad and good example) that reads well in a terminal.

use super::text;
use super::Terminal;
use crate::model::Evidence;
use crate::rules::{Check, Rule};
use anyhow::Result;
use comfy_table::modifiers::UTF8_ROUND_CORNERS;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, ContentArrangement, Table};
use std::io::Write;

/// Prose on a rule page is wrapped at most this wide, even on a wide terminal: long lines
/// are hard to read.
const PAGE_WIDTH: usize = 100;

/// The whole catalog as a table, laid out for the real stdout.
pub fn render_catalog(rules: &[&Rule], out: &mut dyn Write) -> Result<()> {
    render_catalog_with(rules, &Terminal::detect(), out)
}

/// The whole catalog as a table, laid out for `term`.
pub fn render_catalog_with(rules: &[&Rule], term: &Terminal, out: &mut dyn Write) -> Result<()> {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .apply_modifier(UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_width(term.width);
    if term.color {
        table.enforce_styling();
    }
    table.set_header(
        ["Code", "Name", "Severity", "Evidence", "What it flags"]
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    for r in rules {
        table.add_row(vec![
            Cell::new(r.code),
            Cell::new(r.name),
            Cell::new(r.severity.as_str()),
            Cell::new(r.evidence.as_str()),
            Cell::new(text::one_line(r.what)),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{}; `migsafe rule NAME` shows one with its examples.",
        text::count(rules.len(), "rule", "rules")
    )?;
    Ok(())
}

/// One rule with its texts and examples, laid out for the real stdout.
pub fn render_rule(rule: &Rule, out: &mut dyn Write) -> Result<()> {
    render_rule_with(rule, &Terminal::detect(), out)
}

/// One rule with its texts and examples, laid out for `term`.
pub fn render_rule_with(rule: &Rule, term: &Terminal, out: &mut dyn Write) -> Result<()> {
    let width = usize::from(term.width).min(PAGE_WIDTH);
    let heading = |s: &str| {
        if term.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    writeln!(out, "{}", heading(&format!("{} {}", rule.code, rule.name)))?;
    writeln!(
        out,
        "Default severity: {} · Evidence: {}",
        rule.severity,
        evidence_needs(rule.evidence)
    )?;
    for (title, body) in [
        ("WHAT", rule.what),
        ("WHY", rule.why),
        ("INSTEAD", rule.instead),
        ("ROLLBACK", rule.rollback),
    ] {
        writeln!(out)?;
        writeln!(out, "{}", heading(title))?;
        write!(out, "{}", text::wrap(&text::one_line(body), width, "    "))?;
    }
    for (title, sql) in [("BAD", rule.bad), ("GOOD", rule.good)] {
        writeln!(out)?;
        writeln!(out, "{}", heading(title))?;
        // SQL is shown exactly as written (only indented): rewrapping would change it.
        for line in sql.trim_end().lines() {
            if line.trim().is_empty() {
                writeln!(out)?;
            } else {
                writeln!(out, "    {line}")?;
            }
        }
    }
    if !matches!(rule.check, Check::Engine) {
        writeln!(out)?;
        writeln!(out, "{}", heading("ALLOW"))?;
        writeln!(
            out,
            "    -- migsafe:allow {} reason: <why it is safe here>",
            rule.name
        )?;
    }
    Ok(())
}

/// What an evidence level means for someone deciding how to run migsafe.
fn evidence_needs(evidence: Evidence) -> &'static str {
    match evidence {
        Evidence::Static => "static (the SQL alone)",
        Evidence::Catalog => "catalog (needs --database-url)",
        Evidence::Execution => {
            "execution (needs a disposable copy: --clone, --disposable or --restore)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use crate::model::Statement;
    use crate::rules::{Context, Risk, RULES};

    fn never(_: &Context, _: &Statement) -> Option<Risk> {
        None
    }

    // A stand-in rule, so these snapshots show the layout and do not change whenever a
    // real rule's wording is improved.
    const SAMPLE: Rule = Rule {
        code: "M001",
        name: "create-index-non-concurrently",
        severity: Severity::Warning,
        evidence: Evidence::Static,
        what: "Flags `CREATE INDEX` without `CONCURRENTLY` on a table that existed before this migration.",
        why: "A plain index build holds a SHARE lock on the table for the whole build: every INSERT, \
              UPDATE and DELETE waits until the index is complete, which on a large table means \
              minutes of blocked writes.",
        instead: "Use `CREATE INDEX CONCURRENTLY` in a migration that does not run inside a transaction.",
        rollback: "`DROP INDEX CONCURRENTLY IF EXISTS <index>;`",
        bad: "-- owner: @payments-team\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);\n",
        good: "-- owner: @payments-team\n-- no-transaction\n\nCREATE INDEX CONCURRENTLY orders_customer_id_idx\n    ON orders (customer_id);\n",
        check: Check::Statement(never),
    };

    const ENGINE: Rule = Rule {
        code: "M099",
        name: "unused-suppression",
        severity: Severity::Warning,
        evidence: Evidence::Catalog,
        what: "Flags a suppression that suppresses nothing.",
        why: "It hides future findings.",
        instead: "Remove it.",
        rollback: "Nothing to roll back.",
        bad: "SELECT 1;",
        good: "SELECT 1;",
        check: Check::Engine,
    };

    fn catalog(rules: &[&Rule], width: u16) -> String {
        let mut out = Vec::new();
        let term = Terminal {
            width,
            color: false,
        };
        render_catalog_with(rules, &term, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn page(rule: &Rule) -> String {
        let mut out = Vec::new();
        render_rule_with(rule, &Terminal::plain(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn catalog_table() {
        insta::assert_snapshot!("rules_catalog", catalog(&[&SAMPLE, &ENGINE], 100));
    }

    #[test]
    fn rule_page() {
        insta::assert_snapshot!("rule_page", page(&SAMPLE));
    }

    #[test]
    fn engine_rules_have_no_allow_hint() {
        let out = page(&ENGINE);
        assert!(!out.contains("migsafe:allow"));
        assert!(out.contains("Evidence: catalog (needs --database-url)"));
    }

    #[test]
    fn real_catalog_lists_every_rule_within_the_width() {
        let out = catalog(RULES, 120);
        for r in RULES {
            assert!(
                out.lines()
                    .any(|l| l.contains(r.code) && l.contains(r.name)),
                "{} {} missing",
                r.code,
                r.name
            );
        }
        assert!(out.lines().all(|l| l.chars().count() <= 120));
        assert!(out.ends_with(&format!(
            "{} rules; `migsafe rule NAME` shows one with its examples.\n",
            RULES.len()
        )));
    }

    #[test]
    fn every_real_rule_page_has_all_sections() {
        for r in RULES {
            let out = page(r);
            for section in ["WHAT", "WHY", "INSTEAD", "ROLLBACK", "BAD", "GOOD"] {
                assert!(
                    out.lines().any(|l| l == section),
                    "{} page lacks {section}",
                    r.name
                );
            }
        }
    }
}
