//! Progress of every long phase on stderr (issue #11, item 7), drawn with indicatif: the
//! restore and clone phases, reading the catalog, and while migrations run on the copy the
//! migration, the running statement (each with its elapsed time) and, under it, the server's
//! own progress report for index builds, VACUUM, CLUSTER, ANALYZE and COPY as a bar.
//!
//! Quiet when stderr is not a terminal, with `--quiet`, or with `MIGSAFE_NO_PROGRESS` set, so
//! CI logs and JSON/Markdown output stay clean. One process-wide set of lines: the restore
//! code, the clone and the executor report into it without every caller passing a terminal
//! through (the command line sets `--quiet` once, before the run), and there is no second
//! progress system to fight over the terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);
static LINES: Mutex<Option<Lines>> = Mutex::new(None);
/// Which phase owns the top line, so a phase ending late never clears its successor's.
static GENERATION: AtomicU64 = AtomicU64::new(0);

const TICK: Duration = Duration::from_millis(120);

/// What the server reports for the running statement (from `pg_stat_progress_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerProgress {
    /// The view it came from, e.g. `pg_stat_progress_create_index`.
    pub view: &'static str,
    /// The command as the view names it (`CREATE INDEX CONCURRENTLY`, `VACUUM FULL`); not
    /// drawn, since the statement line above the bar already shows it.
    pub command: String,
    /// The view's phase, in PostgreSQL's words (`building index: scanning table`).
    pub phase: String,
    /// The current phase's counter, when it has one.
    pub counter: Option<Counter>,
    /// Anything else worth a word (`partition 2 of 4`).
    pub note: Option<String>,
}

/// A counter of a phase: a bar when its total is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub done: u64,
    pub total: Option<u64>,
    pub unit: &'static str,
}

/// The lines on screen: the phase or migration, the statement, the server's report.
struct Lines {
    multi: MultiProgress,
    top: Option<ProgressBar>,
    statement: Option<ProgressBar>,
    server: Option<(ProgressBar, Shape)>,
}

/// Which template the server line has, so it is restyled only when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Bar,
    Bytes,
    Count,
    PhaseOnly,
}

/// `--quiet`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress is drawn at all: work done only to be shown (reading the server's progress
/// views) is skipped when it is not.
pub fn drawn() -> bool {
    enabled()
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::env::var_os("MIGSAFE_NO_PROGRESS").is_none()
        && std::io::stderr().is_terminal()
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A spinner line holding `message` from its first draw.
fn spinner(
    multi: &MultiProgress,
    style: ProgressStyle,
    message: String,
    after: Option<&ProgressBar>,
) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        .with_style(style)
        .with_message(message);
    let bar = match after {
        Some(after) => multi.insert_after(after, bar),
        None => multi.add(bar),
    };
    bar.enable_steady_tick(TICK);
    bar
}

fn with_lines(f: impl FnOnce(&mut Lines)) {
    if !enabled() {
        return;
    }
    let Ok(mut slot) = LINES.lock() else {
        return;
    };
    let lines = slot.get_or_insert_with(|| Lines {
        multi: MultiProgress::new(),
        top: None,
        statement: None,
        server: None,
    });
    f(lines);
}

impl Lines {
    fn clear_statement(&mut self) {
        self.clear_server();
        if let Some(bar) = self.statement.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    fn clear_server(&mut self) {
        if let Some((bar, _)) = self.server.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    fn clear_top(&mut self) {
        self.clear_statement();
        if let Some(bar) = self.top.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    /// The top line, made fresh: its elapsed time counts from now.
    fn new_top(&mut self, text: String) -> &ProgressBar {
        self.clear_top();
        let bar = spinner(
            &self.multi,
            style("{spinner} {wide_msg} [{elapsed}]"),
            text,
            None,
        );
        // Drawn at once, so that even a phase shorter than a tick is seen.
        bar.force_draw();
        self.top.insert(bar)
    }
}

/// A long phase outside the migrations (clone, catalog, restore steps) began. Its line shows
/// until [`PhaseLine::done`] prints how long it took, or until it is dropped (an error: the
/// line just goes).
pub fn phase(name: &str, detail: &str) -> PhaseLine {
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
    with_lines(|lines| {
        lines.new_top(format!("{name}: {detail}"));
    });
    PhaseLine {
        name: name.to_string(),
        started: Instant::now(),
        generation,
        open: true,
    }
}

/// The line of a running phase; see [`phase`].
#[must_use = "the phase line stays until done() or drop"]
pub struct PhaseLine {
    name: String,
    started: Instant,
    generation: u64,
    open: bool,
}

impl PhaseLine {
    /// The phase succeeded: a lasting line says how long it took.
    pub fn done(mut self) {
        let took = self.started.elapsed();
        self.close();
        with_lines(|lines| {
            let _ = lines.multi.println(done_line(&self.name, took));
        });
    }

    fn close(&mut self) {
        if std::mem::take(&mut self.open) && GENERATION.load(Ordering::Relaxed) == self.generation {
            with_lines(Lines::clear_top);
        }
    }
}

impl Drop for PhaseLine {
    fn drop(&mut self) {
        self.close();
    }
}

/// A phase reported by start and end rather than by a [`PhaseLine`] (the restore code's
/// `Progress` trait): its line stays until the next phase or [`phase_done`].
pub fn phase_started(name: &str, detail: &str) {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    with_lines(|lines| {
        lines.new_top(format!("{name}: {detail}"));
    });
}

fn done_line(name: &str, took: Duration) -> String {
    format!("migsafe: {name} done in {:.1}s", took.as_secs_f64())
}

/// A phase ended after `took`: its line goes and a lasting one says how long it took.
pub fn phase_done(name: &str, took: Duration) {
    with_lines(|lines| {
        lines.clear_top();
        let _ = lines.multi.println(done_line(name, took));
    });
}

/// A line worth keeping (waiting for the cache lock, a cleanup warning), printed above the
/// progress lines.
pub fn note(message: &str) {
    with_lines(|lines| {
        let _ = lines.multi.println(format!("migsafe: {message}"));
    });
}

/// A line that must reach stderr whatever the quiet rules (a warning, a cleanup note): above
/// the progress lines while they are drawn, so it neither garbles them nor is lost.
pub fn always(line: &str) {
    if let Ok(slot) = LINES.lock() {
        if let Some(lines) = slot.as_ref() {
            lines.multi.suspend(|| eprintln!("{line}"));
            return;
        }
    }
    eprintln!("{line}");
}

/// A migration starts on the copy.
pub fn migration(path: &str, position: usize, total: usize) {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    let text = format!("migration {}/{total} {path}", position + 1);
    with_lines(|lines| match &lines.top {
        // Reused rather than made anew, so that hundreds of short migrations cost a few
        // rate-limited redraws, not a forced draw each.
        Some(top) => {
            let top = top.clone();
            lines.clear_statement();
            top.set_message(text);
            top.reset_elapsed();
        }
        None => {
            lines.new_top(text);
        }
    });
}

/// The current migration's rollback round trip starts (down, compare, up again).
pub fn rollback_round_trip() {
    with_lines(|lines| {
        lines.clear_statement();
        if let Some(top) = &lines.top {
            let shown = top.message();
            if !shown.ends_with("rollback round trip") {
                top.set_message(format!("{shown}: rollback round trip"));
            }
        }
    });
}

/// A statement of the current migration starts (`line`: where it is in the file).
pub fn statement(line: usize, text: &str) {
    let first = text.trim().lines().next().unwrap_or_default();
    let shown: String = first.chars().take(60).collect();
    let text = format!("L{line} {shown}");
    with_lines(|lines| {
        lines.clear_server();
        match &lines.statement {
            // One line for all statements: a migration of thousands of short INSERTs must not
            // spend its time drawing them.
            Some(bar) => {
                bar.set_message(text);
                bar.reset_elapsed();
            }
            None => {
                let bar = spinner(
                    &lines.multi,
                    style("  {spinner} {wide_msg} [{elapsed}]"),
                    text,
                    lines.top.as_ref(),
                );
                lines.statement = Some(bar);
            }
        }
    });
}

/// The server's progress report for the running statement, shown under it; `None` (no row in
/// the views, or the statement ended) removes it.
pub fn server(progress: Option<&ServerProgress>) {
    with_lines(|lines| {
        let Some(progress) = progress else {
            lines.clear_server();
            return;
        };
        let shape = match &progress.counter {
            Some(Counter {
                total: Some(_),
                unit: "bytes",
                ..
            }) => Shape::Bytes,
            Some(Counter { total: Some(_), .. }) => Shape::Bar,
            Some(Counter { total: None, .. }) => Shape::Count,
            None => Shape::PhaseOnly,
        };
        // The numbers come first so that a narrow terminal cuts the phase's words, not them;
        // with a 20-column bar, create_index's phases fit 80 columns.
        let mut words = progress.phase.clone();
        if let Some(note) = &progress.note {
            words.push_str(&format!(" ({note})"));
        }
        let text = match (&progress.counter, shape) {
            (Some(counter), Shape::Bar | Shape::Count) => format!("{} · {words}", counter.unit),
            (_, Shape::Bytes) => format!("· {words}"),
            _ => words,
        };
        // A new phase or unit gets a new line, filled in before it is shown: updating the
        // texts of a drawn line one by one would let the ticker draw a mix of old and new.
        let fresh = lines
            .server
            .as_ref()
            .is_none_or(|(bar, s)| *s != shape || bar.message() != text);
        let bar = match &lines.server {
            Some((bar, _)) if !fresh => bar.clone(),
            _ => {
                let template = match shape {
                    Shape::Bar => "    [{bar:20}] {percent:>3}% {pos}/{len} {wide_msg}",
                    Shape::Bytes => "    [{bar:20}] {percent:>3}% {bytes}/{total_bytes} {wide_msg}",
                    Shape::Count => "    {spinner} {pos} {wide_msg}",
                    Shape::PhaseOnly => "    {spinner} {wide_msg}",
                };
                // Hidden until added: filling it in must not draw it outside the lines.
                ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                    .with_style(style(template).progress_chars("=> "))
                    .with_message(text)
            }
        };
        if let Some(counter) = &progress.counter {
            if let Some(total) = counter.total {
                bar.set_length(total);
            }
            bar.set_position(counter.done);
        }
        if fresh {
            lines.clear_server();
            let after = lines.statement.as_ref().or(lines.top.as_ref());
            let bar = match after {
                Some(after) => lines.multi.insert_after(after, bar),
                None => lines.multi.add(bar),
            };
            bar.enable_steady_tick(TICK);
            lines.server = Some((bar, shape));
        }
    });
}

/// Every line is removed (the run is over, or it failed and an error follows).
pub fn finish() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut slot) = LINES.lock() {
        if let Some(mut lines) = slot.take() {
            lines.clear_top();
            let _ = lines.multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_means_no_lines_are_made() {
        set_quiet(true);
        let clone = phase("clone", "db");
        migration("db/1.sql", 0, 1);
        statement(3, "CREATE INDEX i ON t (a)");
        server(Some(&ServerProgress {
            view: "pg_stat_progress_create_index",
            command: "CREATE INDEX".to_string(),
            phase: "building index: scanning table".to_string(),
            counter: Some(Counter {
                done: 1,
                total: Some(4),
                unit: "blocks",
            }),
            note: None,
        }));
        clone.done();
        assert!(LINES.lock().unwrap().is_none());
        finish();
        set_quiet(false);
    }
}
