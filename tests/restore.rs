//! `--restore` end to end through the library API: every dump format restores into a copy
//! that has the rows; the second run on a dump clones the cached template instead of
//! restoring; nothing (process, socket, directory, database) is left after a normal run, a
//! failing run or a SIGINT in the middle of a restore; a corrupt dump or one from a newer
//! pg_dump gives an error naming the file; and the test harness falls back to a temporary
//! cluster when no server answers.
//!
//! Dumps are made here with pg_dump from a small database on the test server, so no binary
//! dump is committed. Each test has its own cache directory (`RestoreOptions::cache_dir`).
//! The SIGINT and fallback scenarios run this test binary again as a child process (the
//! `probe_*` helpers, ignored unless asked for), because a signal or a process exit cannot
//! be aimed at one test thread.

mod common;

use common::TestDb;
use migsafe::evidence::cache::{self, RestoreOptions, Silent};
use migsafe::evidence::cluster::{process_alive, DataDir, LocalCluster, Needs, PgBinaries};
use sqlx::{Connection as _, PgConnection};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A cache directory the postgres user can enter when the tests run as root.
fn cache_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn options(cache_dir: &Path) -> RestoreOptions {
    RestoreOptions {
        cache: true,
        cache_dir: Some(cache_dir.to_path_buf()),
        jobs: Some(2),
    }
}

/// A source database with `rows` rows in `items`, an index, a FK, a view, and an owner
/// change to a role the restore side does not have.
async fn source(prefix: &str, rows: u64) -> TestDb {
    let db = TestDb::create(prefix).await;
    db.execute(&format!(
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL); \
         INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 100) g; \
         CREATE TABLE items (id bigint PRIMARY KEY, customer_id int REFERENCES customers, \
                             sku text, price numeric(10,2)); \
         INSERT INTO items SELECT g, 1 + g % 100, 'sku-' || (g % 5000), (g % 997) / 10.0 \
                FROM generate_series(1, {rows}) g; \
         CREATE INDEX items_sku ON items (sku); \
         CREATE VIEW expensive AS SELECT * FROM items WHERE price > 50;"
    ))
    .await;
    db
}

fn pg_dump() -> PathBuf {
    PgBinaries::find(Needs::Client).unwrap().tool("pg_dump")
}

/// Runs pg_dump on `db` with `args`, writing to `out`.
fn dump(db: &TestDb, args: &[&str], out: &Path) {
    let output = Command::new(pg_dump())
        .args(args)
        .arg("-f")
        .arg(out)
        .arg("-d")
        .arg(&db.url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn gzip(from: &Path, to: &Path) {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(&std::fs::read(from).unwrap()).unwrap();
    encoder.finish().unwrap();
}

async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    n
}

fn phase_names(phases: &[migsafe::model::Phase]) -> Vec<String> {
    phases.iter().map(|p| p.name.clone()).collect()
}

/// Run directories of process `pid` still under the temporary directory.
fn run_dirs_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("migsafe-pg-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn every_dump_format_restores_with_its_rows() {
    let src = source("restore_formats", 2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dump(&src, &["-Fp"], &d.join("plain.sql"));
    gzip(&d.join("plain.sql"), &d.join("plain.sql.gz"));
    dump(&src, &["-Fc"], &d.join("custom.dump"));
    dump(&src, &["-Fd"], &d.join("directory"));
    dump(&src, &["-Ft"], &d.join("archive.tar"));
    dump(&src, &["-Fc", "--schema-only"], &d.join("schema.dump"));
    dump(&src, &["-Fp", "--schema-only"], &d.join("schema.sql"));
    let cache = cache_dir();
    for (file, rows) in [
        ("plain.sql", 2_000),
        ("plain.sql.gz", 2_000),
        ("custom.dump", 2_000),
        ("directory", 2_000),
        ("archive.tar", 2_000),
        ("schema.dump", 0),
        ("schema.sql", 0),
    ] {
        let copy = cache::prepare(&d.join(file), None, &options(cache.path()), &Silent)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let url = copy.url();
        assert_eq!(
            count(&url, "SELECT count(*) FROM items").await,
            rows,
            "{file}"
        );
        assert_eq!(
            count(&url, "SELECT count(*) FROM expensive").await > 0,
            rows > 0,
            "{file}"
        );
        let indexed = "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_sku'";
        assert_eq!(count(&url, indexed).await, 1, "{file}");
        let names = phase_names(&copy.phases());
        assert!(names.contains(&"restore".to_string()), "{file}: {names:?}");
        assert!(names.contains(&"analyze".to_string()), "{file}: {names:?}");
        let restore = copy
            .phases()
            .into_iter()
            .find(|p| p.name == "restore")
            .unwrap();
        assert!(restore.detail.unwrap().contains(file), "{file}");
        copy.cleanup().await.unwrap();
    }
    let listing = cache::list(cache.path()).unwrap();
    assert_eq!(listing.templates.len(), 7, "{listing:?}");
    assert!(listing.bytes_on_disk > 0);
}

#[tokio::test]
async fn restores_into_a_fresh_database_on_a_given_server_and_drops_it() {
    let src = source("restore_remote", 500).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("remote.dump");
    dump(&src, &["-Fc"], &file);
    let server = common::server_url();
    let no_cache = RestoreOptions {
        cache: false,
        cache_dir: None,
        jobs: Some(2),
    };
    let copy = cache::prepare(&file, Some(&server), &no_cache, &Silent)
        .await
        .unwrap();
    let name = copy.database().to_string();
    assert!(name.starts_with("migsafe_restore_"), "{name}");
    assert_eq!(count(&copy.url(), "SELECT count(*) FROM items").await, 500);
    copy.cleanup().await.unwrap();
    let left = format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'");
    assert_eq!(count(&server, &left).await, 0);
}

#[tokio::test]
/// The second run starts from the cached template instead of restoring again. How much faster
/// that is depends on the machine's load, so the ratio is measured by `cargo bench --bench
/// restore` (README, Performance), never asserted here.
async fn second_run_clones_the_cached_template_instead_of_restoring() {
    let src = source("restore_cache_hit", 350_000).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.dump");
    dump(&src, &["-Fc"], &file);
    let cache = cache_dir();

    let first = cache::prepare(&file, None, &options(cache.path()), &Silent)
        .await
        .unwrap();
    assert!(!first.cache_hit());
    assert!(phase_names(&first.phases()).contains(&"restore".to_string()));
    first.cleanup().await.unwrap();

    let second = cache::prepare(&file, None, &options(cache.path()), &Silent)
        .await
        .unwrap();
    assert!(second.cache_hit());
    let names = phase_names(&second.phases());
    assert!(!names.contains(&"restore".to_string()), "{names:?}");
    let clone = second
        .phases()
        .into_iter()
        .find(|p| p.name == "clone-template")
        .unwrap();
    assert!(clone
        .detail
        .unwrap()
        .starts_with("cache hit: template migsafe_tpl_pg"));
    assert_eq!(
        count(&second.url(), "SELECT count(*) FROM items").await,
        350_000
    );
    // The template carries the statistics of the ANALYZE after the restore.
    let analyzed = "SELECT count(*) FROM pg_stats WHERE tablename = 'items'";
    assert!(count(&second.url(), analyzed).await > 0);
    second.cleanup().await.unwrap();
}

#[tokio::test]
async fn nothing_is_left_after_a_run_without_cache() {
    let src = source("restore_nocache", 100).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.sql");
    dump(&src, &["-Fp"], &file);
    let no_cache = RestoreOptions {
        cache: false,
        cache_dir: None,
        jobs: None,
    };
    let copy = cache::prepare(&file, None, &no_cache, &Silent)
        .await
        .unwrap();
    let cluster = copy.cluster().unwrap();
    let run_dir = cluster.run_dir().to_path_buf();
    let postmaster = cluster.postmaster_pid().unwrap();
    assert!(run_dir.join(".s.PGSQL.5432").exists());
    assert_eq!(count(&copy.url(), "SELECT count(*) FROM items").await, 100);
    copy.cleanup().await.unwrap();
    assert!(!run_dir.exists(), "{} is left", run_dir.display());
    assert!(
        !process_alive(postmaster),
        "postmaster {postmaster} still runs"
    );
}

#[tokio::test]
async fn a_corrupt_dump_fails_naming_the_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = source("restore_corrupt", 300).await;
    let good = dir.path().join("good.dump");
    dump(&src, &["-Fc"], &good);
    let mut bytes = std::fs::read(&good).unwrap();
    let cut = bytes.len() / 2;
    bytes.truncate(cut);
    let corrupt = dir.path().join("truncated-shop.dump");
    std::fs::write(&corrupt, &bytes).unwrap();
    let cache = cache_dir();
    let err = cache::prepare(&corrupt, None, &options(cache.path()), &Silent)
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("truncated-shop.dump"), "{text}");
    assert!(text.contains("corrupt or truncated"), "{text}");
    // The build database was dropped and the cluster stopped: a new start finds no
    // per-run database (DataDir::Persistent does not sweep by itself).
    let data = cache::clusters_dir(cache.path()).join(format!(
        "pg{}",
        PgBinaries::find(Needs::Server).unwrap().major
    ));
    let cluster = LocalCluster::start(
        PgBinaries::find(Needs::Server).unwrap(),
        DataDir::Persistent(data),
    )
    .await
    .unwrap();
    let left = "SELECT count(*) FROM pg_database WHERE datname LIKE 'migsafe\\_%'";
    assert_eq!(count(&cluster.url("postgres"), left).await, 0);
    cluster.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_dump_from_a_newer_pg_dump_says_which_versions_meet() {
    let dir = tempfile::tempdir().unwrap();
    let src = source("restore_newer", 10).await;
    let good = dir.path().join("good.dump");
    dump(&src, &["-Fc", "--schema-only"], &good);
    let mut bytes = std::fs::read(&good).unwrap();
    bytes[6] = 99; // archive format 1.99
    let newer = dir.path().join("from-the-future.dump");
    std::fs::write(&newer, &bytes).unwrap();
    let no_cache = RestoreOptions {
        cache: false,
        cache_dir: None,
        jobs: None,
    };
    let err = cache::prepare(&newer, None, &no_cache, &Silent)
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("from-the-future.dump"), "{text}");
    assert!(text.contains("newer pg_dump"), "{text}");
    assert!(
        text.contains("than this pg_restore (pg_restore 1"),
        "{text}"
    );
    assert!(text.contains("unsupported version (1.99)"), "{text}");
}

/// Helper run as a child by `sigint_during_a_restore_leaves_nothing`: restores the dump in
/// `MIGSAFE_PROBE_DUMP` through `with_restored_copy`, which handles the signal.
#[tokio::test]
#[ignore = "helper: run as a child process by another test"]
async fn probe_restore() {
    let Some(file) = std::env::var_os("MIGSAFE_PROBE_DUMP") else {
        return;
    };
    let cache = std::env::var_os("MIGSAFE_PROBE_CACHE").map(PathBuf::from);
    let opts = RestoreOptions {
        cache: cache.is_some(),
        cache_dir: cache,
        jobs: Some(1),
    };
    let result = cache::with_restored_copy(
        Path::new(&file),
        None,
        &opts,
        &Silent,
        |url, _| async move {
            println!("PROBE ready {url}");
            Ok(())
        },
    )
    .await;
    if let Err(e) = result {
        println!("PROBE error: {e:#}");
        std::process::exit(if e.is::<cache::Interrupted>() { 130 } else { 2 });
    }
}

#[tokio::test]
async fn sigint_during_a_restore_leaves_nothing() {
    let src = source("restore_sigint", 1_500_000).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slow.sql");
    dump(&src, &["-Fp"], &file);
    let cache = cache_dir();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "probe_restore", "--nocapture"])
        .env("MIGSAFE_PROBE_DUMP", &file)
        .env("MIGSAFE_PROBE_CACHE", cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the restore runs: the run directory exists and psql is loading.
    wait_until("the restore starts", Duration::from_secs(60), || {
        run_dirs_of(pid)
            .iter()
            .any(|d| d.join(".s.PGSQL.5432").exists())
    });
    std::thread::sleep(Duration::from_millis(1500));
    let data = cache::clusters_dir(cache.path()).join(format!(
        "pg{}",
        PgBinaries::find(Needs::Server).unwrap().major
    ));
    let postmaster: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("interrupted by SIGINT"), "{stdout}");
    assert!(
        !stdout.contains("PROBE ready"),
        "the restore finished before the signal"
    );
    assert!(run_dirs_of(pid).is_empty(), "{:?}", run_dirs_of(pid));
    assert!(
        !process_alive(postmaster),
        "postmaster {postmaster} still runs"
    );
    let cluster = LocalCluster::start(
        PgBinaries::find(Needs::Server).unwrap(),
        DataDir::Persistent(data),
    )
    .await
    .unwrap();
    let left = "SELECT count(*) FROM pg_database WHERE datname LIKE 'migsafe\\_%'";
    assert_eq!(count(&cluster.url("postgres"), left).await, 0);
    cluster.shutdown().await.unwrap();
}

/// Helper run as a child by `harness_falls_back_to_a_temporary_cluster`.
#[tokio::test]
#[ignore = "helper: run as a child process by another test"]
async fn probe_fallback() {
    if std::env::var_os(common::DEFAULT_URL_ENV).is_none() {
        return;
    }
    let db = TestDb::create("fallback").await;
    db.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        .await;
    println!("PROBE server {}", common::server_url());
}

#[test]
fn harness_falls_back_to_a_temporary_cluster() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "probe_fallback", "--nocapture"])
        .env_remove(common::URL_ENV)
        .env(
            common::DEFAULT_URL_ENV,
            "postgres://postgres@127.0.0.1:9/postgres",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("PROBE server "))
        .unwrap_or_else(|| panic!("no server line in {stdout}"));
    let run_dir = PathBuf::from(url.split("host=").nth(1).unwrap());
    assert!(run_dir.starts_with(std::env::temp_dir()), "{url}");
    // The watchdog stops the cluster and removes it once the test process has exited.
    wait_until(
        "the fallback cluster is removed",
        Duration::from_secs(15),
        || !run_dir.exists(),
    );
}

/// Two runs on one cache at the same time: the second waits for the first's lock instead
/// of sharing its cluster, then clones the template the first restored; neither corrupts
/// the other and the dump is restored once.
#[tokio::test]
async fn a_second_run_on_the_same_cache_waits_and_then_clones() {
    let src = source("restore_parallel", 20_000).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.dump");
    dump(&src, &["-Fc"], &file);
    let cache = cache_dir();
    let opts = options(cache.path());
    let first = cache::prepare(&file, None, &opts, &Silent).await.unwrap();
    let (file2, opts2) = (file.clone(), opts.clone());
    let second = tokio::spawn(async move { cache::prepare(&file2, None, &opts2, &Silent).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !second.is_finished(),
        "the second run must wait for the cache lock"
    );
    assert_eq!(
        count(&first.url(), "SELECT count(*) FROM items").await,
        20_000
    );
    first.cleanup().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(60), second)
        .await
        .expect("the second run proceeds once the first releases the cache")
        .unwrap()
        .unwrap();
    assert!(second.cache_hit(), "{:?}", phase_names(&second.phases()));
    assert_eq!(
        count(&second.url(), "SELECT count(*) FROM items").await,
        20_000
    );
    second.cleanup().await.unwrap();
    assert_eq!(cache::list(cache.path()).unwrap().templates.len(), 1);
}
