//! Finding migrations: files, folders or stdin; detecting the layout; ordering them as the
//! framework would; pairing up and down parts; knowing each part's transaction semantics.

use crate::model::{Layout, Migration};
use anyhow::Result;
use std::io::Read;
use std::path::PathBuf;

/// Loads every migration under `paths` (`-` reads `stdin`), in the framework's order.
pub fn load(
    paths: &[PathBuf],
    layout: Option<Layout>,
    stdin: &mut dyn Read,
) -> Result<Vec<Migration>> {
    let _ = (paths, layout, stdin);
    Ok(Vec::new())
}

/// Loads the migrations held in one text (stdin, a single file): alembic offline output
/// yields several, anything else one. `display` is the name reports use.
pub fn load_text(display: &str, text: &str, layout: Option<Layout>) -> Result<Vec<Migration>> {
    let _ = (display, text, layout);
    Ok(Vec::new())
}
