//! Output formats. Every format renders the same `Report`, into `&mut dyn Write`, and nothing
//! else in migsafe writes to stdout. Output is deterministic: no timestamps of the run, no
//! hash-map order, findings in the engine's (file, line, column, code) order, and terminal
//! width and colour only when stdout really is a terminal. The one thing read from the clock
//! is the age of the copy's statistics ("analyzed … (6 days ago)"), in whole minutes, hours
//! or days; the renderers take the time as a parameter so tests pin it.

pub mod json;
pub mod markdown;
pub mod rules;
pub mod table;
pub mod text;

use crate::model::Report;
use anyhow::Result;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::str::FromStr;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

impl Format {
    /// Every format, in the order `--help` and error messages list them.
    pub const ALL: [Format; 3] = [Format::Table, Format::Markdown, Format::Json];

    /// The name accepted by `--format` (and `--report NAME=PATH`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Json => "json",
        }
    }

    /// Parses a format name (case-insensitive; `md` is accepted for markdown).
    pub fn parse(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        if name == "md" {
            return Some(Format::Markdown);
        }
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// `table, markdown or json`: for messages that list the choices.
    pub fn names() -> String {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of ours; its message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}; expected {}", Format::names())]
pub struct UnknownFormat {
    pub name: String,
}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::parse(s).ok_or_else(|| UnknownFormat {
            name: s.to_string(),
        })
    }
}

/// How terminal-facing output (the table format, the rule catalog) is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Columns that tables and wrapped text fit in.
    pub width: u16,
    /// Colour severities and statuses with ANSI escapes.
    pub color: bool,
}

impl Terminal {
    /// Width used when stdout is not a terminal: fixed, so CI logs and snapshots are stable
    /// whatever window the run happened to start from.
    pub const PLAIN_WIDTH: u16 = 120;

    /// Fixed width, no colour: for files, pipes and tests.
    pub fn plain() -> Terminal {
        Terminal {
            width: Terminal::PLAIN_WIDTH,
            color: false,
        }
    }

    /// The real terminal's width and colour support when stdout is a terminal, else `plain`.
    /// Colour follows the NO_COLOR convention (https://no-color.org) and `TERM=dumb`.
    pub fn detect() -> Terminal {
        if !std::io::stdout().is_terminal() {
            return Terminal::plain();
        }
        // comfy-table already asks the terminal for its size; reusing it avoids a second
        // terminal dependency.
        let width = comfy_table::Table::new()
            .width()
            .unwrap_or(Terminal::PLAIN_WIDTH)
            .max(60);
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Terminal {
            width,
            color: !no_color && !dumb,
        }
    }
}

/// Renders `report` in `format`, laying out terminal formats for the real stdout.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> Result<()> {
    render_with(report, format, &Terminal::detect(), out)
}

/// Renders `report` in `format` with an explicit terminal layout (use `Terminal::plain()`
/// when writing to a file).
pub fn render_with(
    report: &Report,
    format: Format,
    terminal: &Terminal,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        Format::Table => table::render(report, terminal, out),
        Format::Markdown => markdown::render(report, out),
        Format::Json => json::render(report, out),
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse_and_list() {
        assert_eq!(Format::parse("table"), Some(Format::Table));
        assert_eq!(Format::parse("MD"), Some(Format::Markdown));
        assert_eq!(Format::parse(" json "), Some(Format::Json));
        assert_eq!(Format::parse("xml"), None);
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        let err = "yaml".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown format \"yaml\"; expected table, markdown or json"
        );
    }
}
