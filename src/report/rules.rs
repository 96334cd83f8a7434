//! `migsafe rules` and `migsafe rule NAME`: the catalog as text.

use crate::rules::Rule;
use anyhow::Result;
use std::io::Write;

/// The whole catalog as a table.
pub fn render_catalog(rules: &[&Rule], out: &mut dyn Write) -> Result<()> {
    for r in rules {
        writeln!(out, "{} {} {}", r.code, r.name, r.severity)?;
    }
    Ok(())
}

/// One rule with its texts and examples.
pub fn render_rule(rule: &Rule, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "{} {}", rule.code, rule.name)?;
    Ok(())
}
