//! Progress on stderr (issue #11, item 7) as a user sees it on a terminal: the real binary
//! run under a pseudo-terminal made by `script(1)`, with `--clone` on a database the test
//! builds, and a migration whose `CREATE INDEX` takes a few seconds on the clone (an
//! expression index over an IMMUTABLE plpgsql function that does CPU work per row).
//!
//! What is asserted is what is printed — the clone's line, the server's own phase name from
//! `pg_stat_progress_create_index` (and `pg_stat_progress_cluster` for `VACUUM FULL`) with a
//! percentage and its unit, within 80 columns — never how long anything took. With
//! `--quiet`, or when stderr is not a terminal, none of it appears.

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

/// `VACUUM FULL` reports in `pg_stat_progress_cluster`, whose heap scan is the bar. The table
/// is 1200 columns wide with all but one NULL: every row is deformed and formed again column by
/// column, so the heap scan outlasts the 1 s before the first poll by seconds (3.4 s on a
/// loaded 2-core machine) while the heap stays small enough (82 MB) to clone quickly.
#[tokio::test]
async fn a_vacuum_full_shows_the_cluster_views_heap_scan_as_a_bar() {
    let db = TestDb::create("progress_cluster").await;
    let columns: Vec<String> = (1..=1200).map(|n| format!("c{n} int")).collect();
    db.execute(&format!(
        "CREATE TABLE events (id bigint, {});
         INSERT INTO events (id) SELECT i FROM generate_series(1, 450000) AS i;",
        columns.join(", ")
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("000001_compact_events.up.sql"),
        // Alone in its file: VACUUM refuses to run inside the implicit transaction of a
        // multi-statement query string.
        "-- owner: @events\n-- expect: succeeds\n-- rollback: irreversible\n\
         VACUUM FULL events;\n",
    )
    .unwrap();

    let shown = plain(&on_terminal(dir.path(), &db.url, ""));
    assert!(has_bar(&shown, "seq scanning heap", "blocks"), "{shown}");
    assert!(shown.contains("L4 VACUUM FULL events"), "{shown}");
}

/// `CREATE INDEX CONCURRENTLY` behind an open write transaction — production's classic stall —
/// shows the server's "waiting for writers before build" with the lockers it waits for. The
/// test holds the writer open until the terminal shows exactly that, then lets it go, so the
/// run's length never decides the outcome; the generous limit only stops a hung test.
#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_index_build_behind_a_writer_shows_the_lockers_it_waits_for() {
    use std::io::Read as _;
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let db = TestDb::create("progress_lockers").await;
    db.execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, reference text NOT NULL);
         INSERT INTO orders SELECT i, 'order-' || i FROM generate_series(1, 500) AS i;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("000001_reference_index.up.sql"),
        // Alone in its file: golang-migrate sends a file as one query string, which would
        // put a second statement and CONCURRENTLY in one implicit transaction.
        "-- owner: @orders\n-- expect: succeeds\n-- rollback: irreversible\n\
         CREATE INDEX CONCURRENTLY orders_reference_idx ON orders (reference);\n",
    )
    .unwrap();
    let mut writer = db.connect().await;
    sqlx::raw_sql("BEGIN; INSERT INTO orders VALUES (100000, 'checkout in flight')")
        .execute(&mut writer)
        .await
        .unwrap();

    // The database itself is the disposable copy: a --clone would not see the writer.
    let command = format!(
        "{} check . --database-url '{}' --disposable --format json --fail-on never > out.json",
        env!("CARGO_BIN_EXE_migsafe"),
        db.url
    );
    let mut child = Command::new("script")
        .current_dir(dir.path())
        .args(["-qec", &command, "/dev/null"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .env_remove("MIGSAFE_NO_PROGRESS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux runs (apt-get install bsdutils)");
    let mut stdout = child.stdout.take().unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut transcript = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut told = false;
        while let Ok(n) = stdout.read(&mut chunk) {
            if n == 0 {
                break;
            }
            transcript.extend_from_slice(&chunk[..n]);
            let shown = plain(&String::from_utf8_lossy(&transcript));
            if !told && has_bar(&shown, "waiting for writers before build", "lockers") {
                told = true;
                let _ = seen_tx.send(());
            }
        }
        plain(&String::from_utf8_lossy(&transcript))
    });
    let seen = tokio::task::spawn_blocking(move || seen_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap();
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut writer)
        .await
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let shown = reader.join().unwrap();
    assert!(
        seen.is_ok(),
        "no lockers bar while the build waited: {shown}"
    );
    assert!(status.success(), "{status:?}: {shown}");
    assert!(
        has_bar(&shown, "waiting for writers before build", "lockers"),
        "{shown}"
    );
    // Watching it changed nothing: once the writer was gone the index was built.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).unwrap()).unwrap();
    assert_eq!(
        report["migrations"][0]["expected"][0]["status"], "met",
        "{report:#}"
    );
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
