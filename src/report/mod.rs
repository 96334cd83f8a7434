//! Output formats. Every format renders the same `Report`, into `&mut dyn Write`.

pub mod rules;

use crate::model::Report;
use anyhow::Result;
use std::io::Write;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "table" => Format::Table,
            "markdown" | "md" => Format::Markdown,
            "json" => Format::Json,
            _ => return None,
        })
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> Result<()> {
    let _ = (report, format);
    writeln!(out)?;
    Ok(())
}
