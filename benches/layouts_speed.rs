//! Static review speed on a few thousand migrations, given as one folder and as one argument
//! per file (what a CI diff or a pre-commit hook passes), against squawk on the same files, in
//! the same run (issue #10, item 5).
//!
//! ```sh
//! (mkdir -p /tmp/squawk && cd /tmp/squawk && npm install squawk-cli)
//! SQUAWK=/tmp/squawk/node_modules/@squawk-cli/linux-x64/bin/squawk \
//!     cargo bench --bench layouts_speed            # FILES=3000 by default
//! ```
//!
//! Each tool runs as a child process on files written to a temporary folder; CPU time (user +
//! system) and peak resident memory come from `wait4`'s resource usage of that child, the best
//! of `RUNS` runs. `SQUAWK` is the squawk executable (the npm package's native binary, so the
//! Node.js wrapper's start-up is not counted; `squawk` on the `PATH` by default).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;

/// One migration of a realistic shape: a header and a handful of statements.
fn migration(i: usize) -> String {
    let t = format!("table_{}", i % 97);
    let mut sql = format!(
        "-- owner: @team-{}\n-- expect: succeeds\n-- rollback: irreversible\nSET lock_timeout = '2s';\n",
        i % 7
    );
    let statements = [
        format!("CREATE TABLE {t}_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, payload jsonb, created_at timestamptz DEFAULT now())"),
        format!("ALTER TABLE {t} ADD COLUMN c_{i} text"),
        format!("CREATE INDEX CONCURRENTLY {t}_c_{i}_idx ON {t} (c_{i})"),
        format!("UPDATE {t} SET c_{i} = lower(name) WHERE id BETWEEN {i} AND {}", i + 1000),
        format!("ALTER TABLE {t} ADD CONSTRAINT {t}_fk_{i} FOREIGN KEY (owner_id) REFERENCES owners (id) NOT VALID"),
        format!("COMMENT ON COLUMN {t}.c_{i} IS 'step {i}; see ticket'"),
    ];
    // Index builds with CONCURRENTLY run alone (psql, no transaction): one statement per file.
    if i.is_multiple_of(5) {
        let _ = writeln!(sql, "{};", statements[2]);
        return sql;
    }
    for s in statements.iter().filter(|s| !s.contains("CONCURRENTLY")) {
        let _ = writeln!(sql, "{s};\n");
    }
    sql
}

struct Measured {
    cpu: Duration,
    wall: Duration,
    peak_kib: i64,
    status: i32,
}

/// Runs `program args` with output discarded; CPU and peak memory of that child from `wait4`.
// The child is reaped by `wait4` itself (std's `wait` would not report its resource usage).
#[allow(clippy::zombie_processes)]
fn measure(program: &Path, args: &[String]) -> Measured {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct that wait4 fills in; `pid` is our child, reaped here
    // (the `Child` handle is not waited on afterwards).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let wall = start.elapsed();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    Measured {
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        wall,
        peak_kib: usage.ru_maxrss,
        status: libc::WEXITSTATUS(status),
    }
}

fn best(program: &Path, args: &[String]) -> Measured {
    let mut out = measure(program, args);
    for _ in 1..RUNS {
        let m = measure(program, args);
        if m.cpu < out.cpu {
            out = Measured {
                peak_kib: out.peak_kib.max(m.peak_kib),
                ..m
            };
        } else {
            out.peak_kib = out.peak_kib.max(m.peak_kib);
        }
    }
    out
}

/// CPU time this process has used so far (user + system).
fn self_cpu() -> Duration {
    // SAFETY: getrusage fills in the plain C struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU of loading alone (listing, reading, detection, pairing), in this process, best of RUNS.
fn load_cpu(paths: &[PathBuf]) -> (Duration, usize, usize) {
    let mut best = Duration::MAX;
    let mut counts = (0, 0);
    for _ in 0..RUNS {
        let start = self_cpu();
        let out = migsafe::load::load_all(
            paths,
            &migsafe::load::Options::default(),
            &mut std::io::empty(),
        )
        .expect("load");
        best = best.min(self_cpu().saturating_sub(start));
        counts = (out.folders_listed, out.files_read);
    }
    (best, counts.0, counts.1)
}

fn main() {
    let files: usize = std::env::var("FILES")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or(3000);
    let squawk = PathBuf::from(std::env::var("SQUAWK").unwrap_or_else(|_| "squawk".into()));
    if Command::new(&squawk)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map_or(true, |s| !s.success())
    {
        eprintln!(
            "squawk not found at {}: install it with `npm install squawk-cli` in a scratch \
             folder and set SQUAWK to node_modules/@squawk-cli/linux-x64/bin/squawk",
            squawk.display()
        );
        std::process::exit(2);
    }
    let migsafe = PathBuf::from(env!("CARGO_BIN_EXE_migsafe"));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::with_capacity(files);
    let mut statements = 0;
    for i in 1..=files {
        let path = dir.path().join(format!("{i:05}_step.sql"));
        let sql = migration(i);
        statements += sql.matches(";\n").count();
        std::fs::write(&path, sql).expect("write migration");
        paths.push(path.to_string_lossy().into_owned());
    }
    let folder = vec![
        "check".to_string(),
        dir.path().to_string_lossy().into_owned(),
    ];
    let mut as_files = vec!["check".to_string()];
    as_files.extend(paths.iter().cloned());

    let rows = [
        ("migsafe check <folder>", best(&migsafe, &folder)),
        ("migsafe check <files>", best(&migsafe, &as_files)),
        ("squawk <files>", best(&squawk, &paths)),
    ];
    let file_paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let loads = [
        ("load_all(<folder>)", load_cpu(&[dir.path().to_path_buf()])),
        ("load_all(<files>)", load_cpu(&file_paths)),
    ];
    for (name, m) in &rows {
        // migsafe exits 1 on findings at fail_on; 2 would mean it could not run.
        assert!(
            m.status < 2 || name.starts_with("squawk"),
            "{name} exited {}",
            m.status
        );
    }
    let squawk_cpu = rows[2].1.cpu.as_secs_f64().max(1e-6);
    println!(
        "{files} migrations, {statements} statements; best of {RUNS} runs; CPU = user + system"
    );
    println!(
        "{:<26} {:>9} {:>9} {:>10} {:>14}",
        "", "CPU s", "wall s", "peak MB", "CPU vs squawk"
    );
    for (name, m) in &rows {
        println!(
            "{:<26} {:>9.3} {:>9.3} {:>10.1} {:>13.2}x",
            name,
            m.cpu.as_secs_f64(),
            m.wall.as_secs_f64(),
            m.peak_kib as f64 / 1024.0,
            m.cpu.as_secs_f64() / squawk_cpu
        );
    }
    for (name, (cpu, listed, read)) in &loads {
        println!(
            "{:<26} {:>9.3}   (in-process; {listed} folder listed, {read} files read)",
            name,
            cpu.as_secs_f64()
        );
    }
}
