//! Faults: what migsafe does when the world misbehaves around it — a config value too large
//! for any duration, a stale `postmaster.pid` naming a process that is not a postmaster, a
//! run killed during initdb, a dump that arrives through a pipe, and a server that dies in
//! the middle of a run (a private cluster, tests/common/cluster.rs, killed with SIGKILL and
//! restarted). Each scenario ends in a clear message and exit code, never a panic, a hang,
//! a wrong process signalled or a silently empty copy. The killed run is bracketed by
//! fingerprints of the server and of the source database (tests/common/fingerprint.rs).

mod common;

use migsafe::evidence::cluster::{
    is_postmaster_of, process_alive, stop_orphan_postmaster, DataDir, LocalCluster, Needs,
    PgBinaries,
};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn migsafe_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir)
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .env("MIGSAFE_CACHE_DIR", dir.join("cache"))
        .stdin(Stdio::null())
        .output()
        .expect("migsafe runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A project folder the postgres user can enter (as root the local cluster runs as it).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/001_add_status.sql"),
        "-- owner: @shop\n-- rollback: ALTER TABLE orders DROP COLUMN status;\n\
         ALTER TABLE orders ADD COLUMN status text;\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_huge_duration_in_the_config_is_a_clear_error_not_a_panic() {
    let project = project();
    for value in ["99999999999999999999999h", "30days", "900000000s"] {
        std::fs::write(
            project.path().join("migsafe.toml"),
            format!("[execution]\nstatement_timeout = \"{value}\"\n"),
        )
        .unwrap();
        let output = migsafe_in(project.path(), &["check", "migrations"]);
        let shown = text(&output);
        assert_eq!(output.status.code(), Some(2), "{value}: {shown}");
        assert!(shown.contains("migsafe.toml"), "{value}: {shown}");
        assert!(
            shown.contains("execution.statement_timeout"),
            "{value}: {shown}"
        );
        assert!(!shown.contains("panicked"), "{value}: {shown}");
    }
}

/// A process that looks like a postgres to a command-line check (its argv[0] says so) but
/// is not one: what a reused pid in a stale postmaster.pid can name.
fn impostor() -> std::process::Child {
    Command::new("bash")
        .args(["-c", "exec -a 'postgres: impostor' sleep 120"])
        .spawn()
        .unwrap()
}

#[test]
fn a_stale_postmaster_pid_never_gets_another_process_signalled() {
    let data = tempfile::tempdir().unwrap();
    let mut child = impostor();
    let pid = child.id();
    std::thread::sleep(std::time::Duration::from_millis(200));
    std::fs::write(
        data.path().join("postmaster.pid"),
        format!(
            "{pid}\n{}\n1700000000\n5432\n/tmp\n\n  1 2\nready\n",
            data.path().display()
        ),
    )
    .unwrap();
    assert!(!is_postmaster_of(pid, data.path()));
    stop_orphan_postmaster(data.path());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "the impostor (pid {pid}) was signalled"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn a_real_postmaster_is_recognised_by_its_data_directory() {
    let cluster = common::cluster::PrivateCluster::start(Default::default());
    let pid = cluster.postmaster_pid().unwrap();
    assert!(is_postmaster_of(pid, cluster.data_dir()));
    assert!(!is_postmaster_of(pid, cluster.dir()));
}

#[tokio::test]
async fn a_cluster_half_made_by_a_killed_initdb_is_removed_by_the_next_run() {
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A run killed during initdb leaves `<data>.initdb-<its pid>`; that pid is gone now.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    assert!(!process_alive(dead_pid));
    let half = cache.path().join(format!("data.initdb-{dead_pid}"));
    std::fs::create_dir_all(half.join("base")).unwrap();
    std::fs::write(half.join("postgresql.conf"), "# half written\n").unwrap();
    let bins = PgBinaries::find(Needs::Server).unwrap();
    let cluster = LocalCluster::start(bins, DataDir::Persistent(cache.path().join("data")))
        .await
        .unwrap();
    assert!(
        !half.exists(),
        "{} should have been removed",
        half.display()
    );
    assert!(cache.path().join("data/PG_VERSION").is_file());
    cluster.shutdown().await.unwrap();
}

#[test]
fn a_dump_from_a_pipe_is_read_once_and_an_empty_pipe_is_refused() {
    let project = project();
    std::fs::write(
        project.path().join("shop.sql"),
        "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n\
         INSERT INTO orders SELECT g, g FROM generate_series(1, 4321) g;\n",
    )
    .unwrap();
    let through_pipe = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
            .current_dir(project.path())
            .args([
                "check",
                "--restore",
                "/dev/stdin",
                "--format",
                "json",
                "migrations",
            ])
            .env_remove("MIGSAFE_DATABASE_URL")
            .env("MIGSAFE_CACHE_DIR", project.path().join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let bytes = input.as_bytes().to_vec();
        let feeder = std::thread::spawn(move || {
            use std::io::Write as _;
            let _ = stdin.write_all(&bytes);
        });
        let output = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        output
    };
    std::fs::write(
        project.path().join("migrations/001_add_status.sql"),
        "-- owner: @shop\n-- expect: rows <= 10\n\
         UPDATE orders SET total = total + 1 WHERE id > 0;\n",
    )
    .unwrap();
    let dump = std::fs::read_to_string(project.path().join("shop.sql")).unwrap();
    let output = through_pipe(&dump);
    let shown = text(&output);
    assert_ne!(output.status.code(), Some(2), "{shown}");
    // The restored copy has the dump's rows: the UPDATE touches all of them.
    assert!(shown.contains("\"evidence\": \"execution\""), "{shown}");
    assert!(
        shown.contains("4321"),
        "the copy lost the dump's rows: {shown}"
    );
    let empty = through_pipe("");
    let shown = text(&empty);
    assert_eq!(empty.status.code(), Some(2), "{shown}");
    assert!(shown.contains("/dev/stdin"), "{shown}");
    assert!(shown.contains("nothing came through"), "{shown}");
}

/// Polls `done` every 50 ms, at most `limit` worth of polls (a guard against hanging, not a
/// timing claim: a slow machine only makes each poll later).
fn wait_for(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let polls = limit.as_millis() / 50;
    for _ in 0..polls {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(done(), "gave up waiting for {what}");
}

#[test]
fn a_server_killed_mid_migration_is_exit_2_connection_lost_and_the_clone_is_swept_later() {
    let mut cluster = common::cluster::PrivateCluster::start(Default::default());
    cluster.psql("CREATE DATABASE shop");
    let shop = cluster.url().database("shop").build();
    Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &shop, "-c"])
        .arg("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 500) g;")
        .status()
        .unwrap();
    let server_before = common::fingerprint::server(&cluster);
    let source_before = common::fingerprint::source(&cluster, "shop");
    let project = project();
    std::fs::write(
        project.path().join("migrations/001_add_status.sql"),
        "-- owner: @shop\n-- rollback: ALTER TABLE orders DROP COLUMN status;\n\
         ALTER TABLE orders ADD COLUMN status text;\nSELECT pg_sleep(60);\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(project.path())
        .args(["check", "--clone", "--database-url", &shop, "migrations"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        "the migration's pg_sleep on the clone",
        std::time::Duration::from_secs(120),
        || {
            cluster
            .try_psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname LIKE 'migsafe_clone_%'")
            .is_ok_and(|n| n == "1")
        },
    );
    let clones: Vec<String> = cluster
        .databases()
        .into_iter()
        .filter(|d| d.starts_with("migsafe_clone_"))
        .collect();
    assert_eq!(clones.len(), 1, "{clones:?}");
    cluster.kill9();
    let output = child.wait_with_output().unwrap();
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(shown.contains("connection lost"), "{shown}");
    assert!(
        shown.contains(&clones[0]),
        "the clone left behind is not named: {shown}"
    );

    cluster.start_again();
    assert!(
        cluster.databases().contains(&clones[0]),
        "the clone should still be there"
    );
    let label = cluster.psql(&format!(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{}'",
        clones[0]
    ));
    assert!(label.starts_with("migsafe clone host="), "{label}");
    // Crash recovery aside, the server holds nothing new but the clone the error named, and
    // the source database is untouched.
    assert_eq!(
        common::fingerprint::excluding(&common::fingerprint::server(&cluster), &[&clones[0]]),
        server_before
    );
    assert_eq!(common::fingerprint::source(&cluster, "shop"), source_before);
    // A later run (a quick migration) removes the dead run's clone.
    std::fs::write(
        project.path().join("migrations/001_add_status.sql"),
        "-- owner: @shop\n-- rollback: ALTER TABLE orders DROP COLUMN status;\n\
         ALTER TABLE orders ADD COLUMN status text;\n",
    )
    .unwrap();
    let again = migsafe_in(
        project.path(),
        &["check", "--clone", "--database-url", &shop, "migrations"],
    );
    assert_ne!(again.status.code(), Some(2), "{}", text(&again));
    let left: Vec<String> = cluster
        .databases()
        .into_iter()
        .filter(|d| d.starts_with("migsafe_clone_"))
        .collect();
    assert!(left.is_empty(), "stale clones remain: {left:?}");
    assert_eq!(common::fingerprint::server(&cluster), server_before);
    assert_eq!(common::fingerprint::source(&cluster, "shop"), source_before);
}

/// Issue #9 item 4, the restore phase: a server killed while psql feeds it the dump is a lost
/// connection (exit 2), not a failed or corrupt dump, and a later run against the restarted
/// server restores and reviews normally.
#[test]
fn a_server_killed_mid_restore_is_exit_2_connection_lost() {
    let mut cluster = common::cluster::PrivateCluster::start(Default::default());
    let url = cluster.url().database("postgres").build();
    let project = project();
    // A plain dump whose restore is still running when the server is killed: its last
    // statement waits, as a long COPY of a large table would.
    let dump = project.path().join("shop.sql");
    std::fs::write(
        &dump,
        "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n\
         INSERT INTO orders SELECT g, g FROM generate_series(1, 500) g;\n\
         SELECT pg_sleep(60);\n",
    )
    .unwrap();
    let server_before = common::fingerprint::server(&cluster);
    let args = [
        "check",
        "--restore",
        "shop.sql",
        "--no-cache",
        "--database-url",
        &url,
        "migrations",
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(project.path())
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .env("MIGSAFE_CACHE_DIR", project.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        "the dump's pg_sleep during the restore",
        std::time::Duration::from_secs(120),
        || {
            cluster
                .try_psql(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'",
                )
                .is_ok_and(|n| n == "1")
        },
    );
    cluster.kill9();
    let output = child.wait_with_output().unwrap();
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(shown.contains("connection lost"), "{shown}");
    assert!(!shown.contains("corrupt"), "{shown}");

    // After the restart only what the error named can be left (the half-restored database).
    cluster.start_again();
    let after = common::fingerprint::server(&cluster);
    let made: Vec<String> = cluster
        .databases()
        .into_iter()
        .filter(|d| d.starts_with("migsafe"))
        .collect();
    for db in &made {
        assert!(
            shown.contains(db.as_str()),
            "{db} left but not named: {shown}"
        );
    }
    let made: Vec<&str> = made.iter().map(String::as_str).collect();
    assert_eq!(common::fingerprint::excluding(&after, &made), server_before);
}
