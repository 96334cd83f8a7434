//! Progress of the execution phase on stderr (issue #11, item 7): which migration and which
//! statement is running on the copy, with its elapsed time, as an indicatif spinner. Quiet
//! when stderr is not a terminal, with `--quiet`, or with `MIGSAFE_NO_PROGRESS` set, so CI
//! logs and JSON/Markdown output stay clean.
//!
//! One process-wide handle: the executor reports into it without every caller having to
//! pass a terminal through (the command line sets `--quiet` once, before the run).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

static QUIET: AtomicBool = AtomicBool::new(false);
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// `--quiet`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::env::var_os("MIGSAFE_NO_PROGRESS").is_none()
        && std::io::stderr().is_terminal()
}

fn with_bar(f: impl FnOnce(&ProgressBar)) {
    if !enabled() {
        return;
    }
    let Ok(mut slot) = BAR.lock() else {
        return;
    };
    let bar = slot.get_or_insert_with(|| {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {prefix} {wide_msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    f(bar);
}

/// A migration starts on the copy.
pub fn migration(path: &str, position: usize, total: usize) {
    with_bar(|bar| {
        bar.reset_elapsed();
        bar.set_prefix(format!("migration {}/{total} {path}", position + 1));
        bar.set_message("");
    });
}

/// A statement of the current migration starts (`line`: where it is in the file).
pub fn statement(line: usize, text: &str) {
    with_bar(|bar| {
        let first = text.trim().lines().next().unwrap_or_default();
        let shown: String = first.chars().take(60).collect();
        bar.set_message(format!("L{line} {shown}"));
    });
}

/// The run is over: the spinner line is removed.
pub fn finish() {
    if let Ok(mut slot) = BAR.lock() {
        if let Some(bar) = slot.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_means_no_bar_is_made() {
        set_quiet(true);
        migration("db/1.sql", 0, 1);
        statement(3, "CREATE INDEX i ON t (a)");
        assert!(BAR.lock().unwrap().is_none());
        finish();
        set_quiet(false);
    }
}
