//! Static review throughput: statements per second over a generated corpus.
//!
//! Run with `cargo bench --bench static_review`. It writes 200 plain migrations of 60
//! statements each (12,000 statements, a realistic mix of DDL and DML) to a temporary
//! folder, then times the whole pipeline (load, split, parse, metadata, rules) over it.

use migsafe::config::Settings;
use migsafe::review::check_paths;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const FILES: usize = 200;
const STATEMENTS_PER_FILE: usize = 60;

fn statement(i: usize) -> String {
    let t = format!("table_{}", i % 97);
    match i % 12 {
        0 => format!("CREATE TABLE {t}_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now())"),
        1 => format!("CREATE INDEX {t}_name_{i}_idx ON {t} (name)"),
        2 => format!("CREATE INDEX CONCURRENTLY {t}_c_{i}_idx ON {t} (created_at) WHERE deleted_at IS NULL"),
        3 => format!("ALTER TABLE {t} ADD COLUMN c_{i} text NOT NULL DEFAULT 'x'"),
        4 => format!("ALTER TABLE {t} ALTER COLUMN c_{i} SET NOT NULL"),
        5 => format!("ALTER TABLE {t} ADD CONSTRAINT {t}_fk_{i} FOREIGN KEY (owner_id) REFERENCES owners (id) NOT VALID"),
        6 => format!("UPDATE {t} SET name = lower(name) WHERE id BETWEEN {i} AND {}", i + 1000),
        7 => format!("DELETE FROM {t} WHERE created_at < now() - interval '90 days'"),
        8 => format!("INSERT INTO {t} (name) VALUES ('a''b;c'), ('$$x$$')"),
        9 => format!("DO $$ BEGIN RAISE NOTICE 'step {i}; done'; END $$"),
        10 => format!("COMMENT ON TABLE {t} IS 'rev {i} -- not a comment'"),
        _ => format!("ALTER TABLE {t} RENAME COLUMN old_{i} TO new_{i}"),
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut total = 0;
    for f in 0..FILES {
        let mut sql = String::from("-- owner: @bench\n-- expect: nothing\n-- rollback: irreversible\nSET lock_timeout = '2s';\n");
        for s in 0..STATEMENTS_PER_FILE {
            let _ = writeln!(sql, "{};\n", statement(f * STATEMENTS_PER_FILE + s));
            total += 1;
        }
        std::fs::write(dir.path().join(format!("{:04}_step.sql", f + 1)), sql).expect("write");
    }
    let paths = vec![dir.path().to_path_buf()];
    let settings = Settings::default();
    // Warm the page cache and the allocator once.
    let first = check_paths(&paths, &settings, &mut std::io::empty()).expect("review");
    let runs = 5;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let report = check_paths(&paths, &settings, &mut std::io::empty()).expect("review");
        best = best.min(start.elapsed());
        assert_eq!(report.findings.len(), first.findings.len());
    }
    let per_sec = total as f64 / best.as_secs_f64();
    println!(
        "static review: {total} statements in {FILES} files, {} findings; best of {runs}: {:.1} ms = {:.0} statements/s",
        first.findings.len(),
        best.as_secs_f64() * 1000.0,
        per_sec
    );
}
