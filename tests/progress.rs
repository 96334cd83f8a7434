//! Progress on stderr (issue #11, item 7) as a user sees it on a terminal: the real binary
//! run under a pseudo-terminal made by `script(1)`, with `--clone` on a database the test
//! builds, and a migration whose `CREATE INDEX` takes a few seconds on the clone (an
//! expression index over an IMMUTABLE plpgsql function that does CPU work per row).
//!
//! What is asserted is what is printed — the clone's line, the server's own phase name from
//! `pg_stat_progress_create_index` with a percentage and its unit, within 80 columns — never how long anything
//! took. With `--quiet`, or when stderr is not a terminal, none of it appears.

mod common;

use common::TestDb;
use std::path::Path;
use std::process::Command;

const SHOP: &str = "
CREATE FUNCTION order_digest(reference text) RETURNS text
IMMUTABLE LANGUAGE plpgsql AS $$
DECLARE digest text := reference;
BEGIN
    -- CPU work per row, so that building an index over it takes a few seconds.
    FOR i IN 1..200 LOOP
        digest := md5(digest);
    END LOOP;
    RETURN digest;
END $$;
CREATE TABLE orders (id bigint PRIMARY KEY, reference text NOT NULL);
INSERT INTO orders SELECT i, 'order-' || i FROM generate_series(1, 20000) AS i;
ANALYZE orders;
";

const MIGRATION: &str = "-- owner: @orders\n-- expect: succeeds\n-- rollback: irreversible\n\
SET lock_timeout = '2s';\n\
CREATE INDEX orders_digest_idx ON orders (order_digest(reference));\n";

/// Runs `migsafe check` with stderr on a pseudo-terminal; returns what the terminal showed.
fn on_terminal(dir: &Path, url: &str, extra: &str) -> String {
    let command = format!(
        "{} check . --database-url '{url}' --clone --format json --fail-on never {extra} \
         > /dev/null",
        env!("CARGO_BIN_EXE_migsafe")
    );
    let out = Command::new("script")
        .current_dir(dir)
        .args(["-qec", &command, "/dev/null"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .env_remove("MIGSAFE_NO_PROGRESS")
        .output()
        .expect("script(1) from util-linux runs (apt-get install bsdutils)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a terminal transcript without its escape sequences.
fn plain(transcript: &str) -> String {
    let mut out = String::new();
    let mut chars = transcript.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Whether the transcript draws `[<bar>] <n>% <done>/<total> <unit> · <phase>` somewhere
/// (lines of a redraw are not always separated by a newline, so any `[` may start one).
fn has_bar(text: &str, phase: &str, unit: &str) -> bool {
    let numbers = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    text.match_indices('[').any(|(at, _)| {
        let Some((bar, after_bar)) = text[at + 1..].split_once("] ") else {
            return false;
        };
        if !bar.chars().all(|c| "=> ".contains(c)) {
            return false;
        }
        let Some((percent, rest)) = after_bar.trim_start().split_once("% ") else {
            return false;
        };
        let Some((counts, words)) = rest.split_once(' ') else {
            return false;
        };
        numbers(percent)
            && counts
                .split_once('/')
                .is_some_and(|(done, total)| numbers(done) && numbers(total))
            && words.starts_with(&format!("{unit} · {phase}"))
    })
}

#[tokio::test]
async fn a_long_index_build_shows_the_servers_phase_as_a_bar_and_the_clone_its_own_line() {
    let db = TestDb::create("progress_views").await;
    db.execute(SHOP).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("000001_digest_index.up.sql"), MIGRATION).unwrap();

    let shown = plain(&on_terminal(dir.path(), &db.url, ""));
    assert!(
        shown.contains("clone: CREATE DATABASE migsafe_clone_") && shown.contains("clone done in"),
        "{shown}"
    );
    assert!(
        has_bar(&shown, "building index: scanning table", "blocks"),
        "{shown}"
    );
    // The statement line is still there above the bar.
    assert!(
        shown.contains("L5 CREATE INDEX orders_digest_idx"),
        "{shown}"
    );

    let quiet = plain(&on_terminal(dir.path(), &db.url, "--quiet"));
    for drawn in ["clone", "building index", "migration 1/1"] {
        assert!(!quiet.contains(drawn), "{drawn:?} with --quiet: {quiet}");
    }

    let piped = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir.path())
        .args(["check", ".", "--database-url", &db.url, "--clone"])
        .args(["--format", "json", "--fail-on", "never"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .env_remove("MIGSAFE_NO_PROGRESS")
        .output()
        .expect("migsafe runs");
    assert!(piped.status.success(), "{piped:?}");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    for drawn in ["clone", "building index", "migration 1/1"] {
        assert!(!stderr.contains(drawn), "{drawn:?} on a pipe: {stderr}");
    }
}

#[test]
fn the_bar_reader_accepts_a_drawn_bar_only() {
    let phase = "building index: scanning table";
    assert!(has_bar(
        &format!("\r    [=====>    ]  42% 54/128 blocks · {phase}   "),
        phase,
        "blocks"
    ));
    assert!(!has_bar(&format!("    ⠁ {phase}"), phase, "blocks"));
    assert!(!has_bar(
        &format!("    [==]  42% 54/128 tuples · {phase}"),
        phase,
        "blocks"
    ));
}
