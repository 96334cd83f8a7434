//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz targets' own
//! checks, in the ordinary test run: the seeds and every input that once crashed migsafe
//! (kept there as regressions) must still split, parse, review and render with every
//! property intact. The coverage-guided runs themselves need an instrumented build
//! (`fuzz/run.sh`, README "Fuzzing"), too slow for every CI run.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

/// Runs `check` on every file of `fuzz/corpus/<target>` and names each one that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("Failed to list the fuzz corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(
        entries.len() > 20,
        "the {target} corpus in {} has only {} inputs; run `python3 fuzz/seed.py`",
        dir.display(),
        entries.len()
    );
    let mut failed = Vec::new();
    for path in &entries {
        let data = fs::read(path).unwrap();
        if panic::catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {target} corpus inputs broke a property (panics above):\n{}",
        failed.len(),
        entries.len(),
        failed.join("\n")
    );
}

#[test]
fn parse_corpus_keeps_spans_inside_the_file_and_in_order() {
    replay("parse", checks::parse_input);
}

#[test]
fn review_corpus_reviews_and_renders_every_format() {
    replay("review", checks::review_input);
}
