//! The disposable copy a `--restore` run works on, and the cache that makes the second run
//! fast: restored dumps are kept as template databases named after the dump's checksum and
//! the server's major version, and each run works on its own clone of the template
//! (`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`), dropped at the end.
//!
//! Layout of the cache directory (`$MIGSAFE_CACHE_DIR`, else `$XDG_CACHE_HOME/migsafe`,
//! else `~/.cache/migsafe`):
//! - `lock`: an advisory `flock`. A run holds it exclusively from the cluster's start to its
//!   stop, so a second run on the same cache **waits** (and says so) instead of sharing the
//!   postmaster: one data directory can only have one postmaster, and sharing it would need
//!   reference counting that a crashed run could never decrement. `cache list` does not
//!   take the lock; `cache clear` does.
//! - `clusters/pg<major>/`: the local cluster's data directory, started by each run with a
//!   socket in a private temporary directory. As root, when the postgres user cannot enter
//!   the cache directory (it usually lives under /root), the data directory goes to
//!   `/var/tmp/migsafe-clusters-<hash of the cache path>/` instead.
//! - `templates/<template>.json`: what each template holds (dump path, checksum, sizes,
//!   creation time), so `cache list` needs no server, and the fingerprint taken at restore
//!   (`template_check`). On a server given by URL the fingerprint is in the template's
//!   comment instead.
//!
//! A template accepts no connections. Before a run uses one, the clone made of it is checked
//! against its fingerprint, and a template that fails the check (or has no fingerprint to
//! check against) is dropped and restored again from the dump, with a warning and a
//! `verify-template` phase saying why.
//!
//! Left by a run killed hard, and removed by the next run that takes the lock: a postmaster
//! still running on the cached data directory (stopped), per-run databases
//! (`migsafe_run_*`, `migsafe_build_*`, `migsafe_restore_*`: with the lock held, none can
//! belong to a live run), and run directories of dead processes under the temporary
//! directory (`cluster::sweep_stale_runs`). On a server given by URL, per-run databases are
//! dropped only when their comment names this host and a process that no longer exists.

use super::cluster::{self, DataDir, LocalCluster, Needs, PgBinaries};
use super::restore::{self, quote_ident, Dump, Server};
use super::template_check::{self, Fingerprint, Verdict};
use crate::model::Phase;
use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::fs;
use std::future::Future;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How `--restore` behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Keep restored dumps as templates and reuse them (`--no-cache` turns it off: a fresh
    /// temporary cluster, or a plain restore on the given server, removed at the end).
    pub cache: bool,
    /// Overrides the cache directory (otherwise [`cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// pg_restore workers for custom and directory dumps; default: the number of CPUs.
    pub jobs: Option<usize>,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            cache: true,
            cache_dir: None,
            jobs: None,
        }
    }
}

/// Where phase lines go while a copy is prepared.
pub trait Progress: Send + Sync {
    /// A phase began: `name` as in [`Phase::name`], `detail` what it works on.
    fn started(&self, name: &str, detail: &str);
    /// A phase ended.
    fn finished(&self, phase: &Phase);
    /// Anything else worth a line (waiting for the lock, a cleanup warning).
    fn note(&self, message: &str);
    /// Something that changed how the copy was made and that a user must hear of even in a
    /// CI log (a damaged cached template rebuilt from the dump).
    fn warning(&self, message: &str) {
        self.note(message);
    }
}

/// Prints nothing (CI, `--quiet`, tests).
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _: &str, _: &str) {}
    fn finished(&self, _: &Phase) {}
    fn note(&self, _: &str) {}
}

/// The phases on stderr through [`crate::progress`] (a spinner line with elapsed time, then
/// how long it took), which stays silent when stderr is not a terminal or progress is off;
/// warnings whenever not quiet.
pub struct Terminal {
    enabled: bool,
    quiet: bool,
}

impl Terminal {
    pub fn new(quiet: bool) -> Terminal {
        Terminal {
            enabled: !quiet,
            quiet,
        }
    }
}

impl Progress for Terminal {
    fn started(&self, name: &str, detail: &str) {
        if self.enabled {
            crate::progress::phase_started(name, detail);
        }
    }
    fn finished(&self, phase: &Phase) {
        if self.enabled {
            crate::progress::phase_done(
                &phase.name,
                std::time::Duration::from_millis(phase.duration_ms),
            );
        }
    }
    fn note(&self, message: &str) {
        if self.enabled {
            crate::progress::note(message);
        }
    }
    fn warning(&self, message: &str) {
        if !self.quiet {
            crate::progress::always(&format!("migsafe: {message}"));
        }
    }
}

/// The cache directory: `$MIGSAFE_CACHE_DIR`, else `$XDG_CACHE_HOME/migsafe`, else
/// `~/.cache/migsafe`.
pub fn cache_dir() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("MIGSAFE_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("migsafe"));
    }
    if let Some(home) = var("HOME") {
        return Ok(PathBuf::from(home).join(".cache").join("migsafe"));
    }
    bail!("Failed to find a cache directory: set MIGSAFE_CACHE_DIR (or HOME), or pass --no-cache")
}

/// The folder holding the cached clusters' data directories (see the module doc for root).
pub fn clusters_dir(cache_dir: &Path) -> PathBuf {
    let inside = cache_dir.join("clusters");
    let run_as = cluster::server_user().ok().flatten();
    if cluster::reachable_by(&inside.join("pg"), run_as) {
        return inside;
    }
    let digest = restore::sha256_hex(cache_dir.as_os_str().as_encoded_bytes());
    PathBuf::from(format!(
        "/var/tmp/migsafe-clusters-{}",
        digest.get(..12).unwrap_or(&digest)
    ))
}

/// An exclusive advisory lock on a cache directory, released on drop (also when the process
/// dies: the kernel drops flocks with the file descriptor).
#[derive(Debug)]
pub struct CacheLock {
    _file: fs::File,
}

impl CacheLock {
    /// Takes the lock, waiting (with a note) while another run holds it.
    pub async fn acquire(cache_dir: &Path, progress: &dyn Progress) -> Result<CacheLock> {
        let file = open_lock_file(cache_dir)?;
        if flock(&file, true)? {
            return Ok(CacheLock { _file: file });
        }
        progress.note(&format!(
            "waiting for another migsafe run that uses the cache in {}",
            cache_dir.display()
        ));
        let shown = cache_dir.display().to_string();
        tokio::task::spawn_blocking(move || -> Result<CacheLock> {
            flock(&file, false)?;
            Ok(CacheLock { _file: file })
        })
        .await
        .with_context(|| format!("Failed to lock the cache in {shown}"))?
    }

    /// Takes the lock if it is free.
    pub fn try_acquire(cache_dir: &Path) -> Result<Option<CacheLock>> {
        let file = open_lock_file(cache_dir)?;
        Ok(flock(&file, true)?.then_some(CacheLock { _file: file }))
    }
}

fn open_lock_file(cache_dir: &Path) -> Result<fs::File> {
    fs::create_dir_all(cache_dir).with_context(|| {
        format!(
            "Failed to create the cache directory {}",
            cache_dir.display()
        )
    })?;
    let path = cache_dir.join("lock");
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("Failed to open the cache lock {}", path.display()))
}

/// `flock(LOCK_EX)`; with `nonblocking`, `Ok(false)` when someone else holds it.
fn flock(file: &fs::File, nonblocking: bool) -> Result<bool> {
    let operation = if nonblocking {
        libc::LOCK_EX | libc::LOCK_NB
    } else {
        libc::LOCK_EX
    };
    loop {
        // SAFETY: the descriptor is owned by `file`, which outlives the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if rc == 0 {
            return Ok(true);
        }
        let error = std::io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if nonblocking => return Ok(false),
            _ => return Err(error).context("Failed to lock the cache"),
        }
    }
}

/// One cached template, as `cache list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateEntry {
    /// Database name, e.g. `migsafe_tpl_pg15_3f2a…`.
    pub name: String,
    /// The dump it was restored from (as given on that run).
    pub dump: String,
    pub format: String,
    /// SHA-256 of the dump.
    pub checksum: String,
    pub dump_bytes: u64,
    /// `pg_database_size` of the template after restore and ANALYZE.
    pub database_bytes: u64,
    pub server_major: u32,
    /// Seconds since the Unix epoch.
    pub created_unix: u64,
    /// What the template held after restore and ANALYZE, checked before each use. A record
    /// without one (an older migsafe's) cannot vouch for its template, which is rebuilt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

impl TemplateEntry {
    /// `2025-01-31T12:00:00Z`.
    pub fn created_utc(&self) -> String {
        utc(self.created_unix)
    }
}

/// What `cache list` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheListing {
    pub dir: PathBuf,
    /// Where the cached clusters' data lives (usually `<dir>/clusters`).
    pub clusters_dir: PathBuf,
    pub templates: Vec<TemplateEntry>,
    /// Everything the cache holds on disk (clusters included).
    pub bytes_on_disk: u64,
}

/// Lists the cached templates from their records; no server is started.
pub fn list(cache_dir: &Path) -> Result<CacheListing> {
    let mut templates = Vec::new();
    let records = cache_dir.join("templates");
    if let Ok(entries) = fs::read_dir(&records) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = fs::read_to_string(&path)
                    .with_context(|| format!("Failed to read {}", path.display()))?;
                if let Ok(record) = serde_json::from_str::<TemplateEntry>(&text) {
                    templates.push(record);
                }
            }
        }
    }
    templates
        .sort_by(|a, b| (a.created_unix, a.name.as_str()).cmp(&(b.created_unix, b.name.as_str())));
    let clusters = clusters_dir(cache_dir);
    let mut bytes = dir_size(cache_dir);
    if !clusters.starts_with(cache_dir) {
        bytes += dir_size(&clusters);
    }
    Ok(CacheListing {
        dir: cache_dir.to_path_buf(),
        clusters_dir: clusters,
        templates,
        bytes_on_disk: bytes,
    })
}

/// Removes every cached template and cluster; returns the bytes freed. Waits for a run that
/// holds the cache.
pub async fn clear(cache_dir: &Path, progress: &dyn Progress) -> Result<u64> {
    if !cache_dir.exists() {
        return Ok(0);
    }
    let _lock = CacheLock::acquire(cache_dir, progress).await?;
    let clusters = clusters_dir(cache_dir);
    let mut freed = 0;
    let mut targets = vec![clusters.clone(), cache_dir.join("templates")];
    if clusters != cache_dir.join("clusters") {
        targets.push(cache_dir.join("clusters"));
    }
    for target in targets {
        if !target.exists() {
            continue;
        }
        if let Ok(entries) = fs::read_dir(&target) {
            for entry in entries.flatten() {
                cluster::stop_orphan_postmaster(&entry.path());
            }
        }
        freed += dir_size(&target);
        fs::remove_dir_all(&target)
            .with_context(|| format!("Failed to remove {}", target.display()))?;
    }
    Ok(freed)
}

fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

/// The copy one run works on. Its database is this run's own: the review may write to it.
/// [`DisposableCopy::cleanup`] drops it (and stops the cluster); `Drop` does the same
/// synchronously when cleanup was not awaited (an error, a cancelled future).
#[derive(Debug)]
pub struct DisposableCopy {
    server: Server,
    bins: PgBinaries,
    database: String,
    /// Databases this run created and must drop (the clone; a template under construction).
    owned: Vec<String>,
    phases: Vec<Phase>,
    cluster: Option<LocalCluster>,
    lock: Option<CacheLock>,
    cache_hit: bool,
}

impl DisposableCopy {
    /// sqlx URL of the copy. For the local cluster: `postgres://postgres@localhost/<db>?host=<socket dir>`.
    pub fn url(&self) -> String {
        self.server.url(&self.database)
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Timed phases so far: `start-cluster`, `checksum`, `restore`, `analyze`, `fingerprint`,
    /// `clone-template`, `verify-template`, with details (format, size, `cache hit: template
    /// …`, `cached template … damaged: …; rebuilt from the dump`).
    pub fn phases(&self) -> Vec<Phase> {
        self.phases.clone()
    }

    /// True when the dump was not restored because a template of it was cached.
    pub fn cache_hit(&self) -> bool {
        self.cache_hit
    }

    /// The local cluster, when the copy lives on one.
    pub fn cluster(&self) -> Option<&LocalCluster> {
        self.cluster.as_ref()
    }

    /// Drops the run's databases, stops the local cluster (removing it when not cached) and
    /// releases the cache lock.
    pub async fn cleanup(mut self) -> Result<()> {
        let mut problems = Vec::new();
        let owned = std::mem::take(&mut self.owned);
        if !owned.is_empty() {
            if let Err(e) = drop_databases(&self.server, &owned).await {
                problems.push(format!("{e:#}"));
            }
        }
        if let Some(cluster) = self.cluster.take() {
            if let Err(e) = cluster.shutdown().await {
                problems.push(format!("{e:#}"));
            }
        }
        self.lock = None;
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "Failed to clean up the restored copy: {}",
                problems.join("; ")
            )
        }
    }

    async fn phase<T, F>(
        &mut self,
        progress: &dyn Progress,
        name: &str,
        detail: String,
        work: F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        progress.started(name, &detail);
        let start = Instant::now();
        let value = work.await?;
        let phase = Phase {
            name: name.to_string(),
            duration_ms: elapsed_ms(start),
            detail: Some(detail),
        };
        progress.finished(&phase);
        self.phases.push(phase);
        Ok(value)
    }
}

/// Last resort: psql drops the run's databases, then the cluster's own Drop stops it.
impl Drop for DisposableCopy {
    fn drop(&mut self) {
        if self.owned.is_empty() {
            return;
        }
        let Ok((args, env)) = self.server.client_args(&maintenance_db(&self.server)) else {
            eprintln!(
                "warning: could not drop migsafe's databases {}; the next run removes them",
                self.owned.join(", ")
            );
            return;
        };
        let sql = self
            .owned
            .iter()
            .map(|db| format!("DROP DATABASE IF EXISTS {} WITH (FORCE);", quote_ident(db)))
            .collect::<String>();
        let status = std::process::Command::new(self.bins.tool("psql"))
            .args(["-X", "-q", "-c", &sql])
            .args(args)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!(
                "warning: could not drop migsafe's databases {}; the next run removes them",
                self.owned.join(", ")
            );
        }
        self.owned.clear();
    }
}

fn maintenance_db(server: &Server) -> String {
    use std::str::FromStr as _;
    match server {
        Server::Local { .. } => "postgres".to_string(),
        Server::Remote { url } => sqlx::postgres::PgConnectOptions::from_str(url)
            .ok()
            .and_then(|o| o.get_database().map(str::to_string))
            .unwrap_or_else(|| "postgres".to_string()),
    }
}

async fn drop_databases(server: &Server, names: &[String]) -> Result<()> {
    let mut admin = super::conninfo::connect(&server.admin_url())
        .await
        .map_err(|e| anyhow!("{}", super::connect::redact_url(&e.to_string())))
        .context("Failed to connect to drop the copy")?;
    for name in names {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        )))
        .execute(&mut admin)
        .await
        .with_context(|| format!("Failed to drop database {name}"))?;
    }
    let _ = admin.close().await;
    Ok(())
}

/// The signal that interrupted a run; the CLI exits 130 on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {signal}; the restored copy was cleaned up")]
pub struct Interrupted {
    pub signal: &'static str,
}

impl Interrupted {
    /// The conventional exit code after an interrupt (128 + SIGINT).
    pub const EXIT_CODE: i32 = 130;
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// Prepares the copy, runs `review(url, phases)` on it, and cleans up on every path: success,
/// error, and SIGINT/SIGTERM (then the error is [`Interrupted`]; exit with
/// [`Interrupted::EXIT_CODE`]). The phases given to `review` are those of the preparation.
pub async fn with_restored_copy<T, F, Fut>(
    dump: &Path,
    server: Option<&str>,
    options: &RestoreOptions,
    progress: &dyn Progress,
    review: F,
) -> Result<T>
where
    F: FnOnce(String, Vec<Phase>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    // Dropping `prepare` mid-way kills pg_restore (kill_on_drop) and runs the Drop of what it
    // had built: the databases are dropped and the cluster stopped synchronously.
    let copy = tokio::select! {
        copy = prepare(dump, server, options, progress) => copy?,
        signal = interrupted() => return Err(Interrupted { signal }.into()),
    };
    let outcome = tokio::select! {
        result = review(copy.url(), copy.phases()) => Ok(result),
        signal = interrupted() => Err(Interrupted { signal }),
    };
    let cleaned = copy.cleanup().await;
    match outcome {
        Ok(result) => {
            let value = result?;
            cleaned?;
            Ok(value)
        }
        Err(interrupt) => {
            if let Err(e) = cleaned {
                progress.note(&format!("{e:#}"));
            }
            Err(interrupt.into())
        }
    }
}

/// Restores (or clones from the cache) `dump` into a database of this run's own, on the
/// server `server` (a URL) or, when `None`, on a local cluster migsafe starts.
pub async fn prepare(
    dump: &Path,
    server: Option<&str>,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<DisposableCopy> {
    let jobs = options.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    match server {
        None => prepare_local(dump, options, jobs, progress).await,
        Some(url) => prepare_remote(dump, url, options, jobs, progress).await,
    }
}

async fn inspect(dump: &Path) -> Result<Dump> {
    let path = dump.to_path_buf();
    tokio::task::spawn_blocking(move || Dump::inspect(&path))
        .await
        .context("Failed to read the dump: the task failed")?
}

async fn prepare_local(
    dump_path: &Path,
    options: &RestoreOptions,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<DisposableCopy> {
    let bins = PgBinaries::find(Needs::Server)?;
    let start = Instant::now();
    let dump = inspect(dump_path).await?;
    let checksum_phase = Phase {
        name: "checksum".to_string(),
        duration_ms: elapsed_ms(start),
        detail: Some(format!(
            "sha256 {} of {}",
            short(&dump.checksum),
            dump.describe()
        )),
    };
    let (lock, data, cache) = if options.cache {
        let dir = match &options.cache_dir {
            Some(dir) => dir.clone(),
            None => cache_dir()?,
        };
        let lock = CacheLock::acquire(&dir, progress).await?;
        let data = clusters_dir(&dir).join(format!("pg{}", bins.major));
        (Some(lock), DataDir::Persistent(data), Some(dir))
    } else {
        (None, DataDir::Temporary, None)
    };
    let persistent = matches!(data, DataDir::Persistent(_));
    progress.started("start-cluster", &format!("PostgreSQL {}", bins.major));
    let started = Instant::now();
    let cluster = LocalCluster::start(bins.clone(), data).await?;
    let detail = format!(
        "{} PostgreSQL {} with data in {}",
        if cluster.initialized() {
            "new"
        } else {
            "cached"
        },
        bins.major,
        cluster.data_dir().display()
    );
    let server = Server::Local {
        run_dir: cluster.run_dir().to_path_buf(),
    };
    let mut copy = DisposableCopy {
        server,
        bins: bins.clone(),
        database: String::new(),
        owned: Vec::new(),
        phases: vec![checksum_phase],
        cluster: Some(cluster),
        lock,
        cache_hit: false,
    };
    let phase = Phase {
        name: "start-cluster".to_string(),
        duration_ms: elapsed_ms(started),
        detail: Some(detail),
    };
    progress.finished(&phase);
    copy.phases.push(phase);
    if persistent {
        sweep_local_databases(&copy.server).await?;
    }
    match cache {
        Some(dir) => {
            from_template(&mut copy, &dump, jobs, progress, Some(&dir), bins.major).await?
        }
        None => plain_restore(&mut copy, &dump, jobs, progress).await?,
    }
    Ok(copy)
}

async fn prepare_remote(
    dump_path: &Path,
    url: &str,
    options: &RestoreOptions,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<DisposableCopy> {
    let bins = PgBinaries::find(Needs::Client)?;
    let start = Instant::now();
    let dump = inspect(dump_path).await?;
    let checksum_phase = Phase {
        name: "checksum".to_string(),
        duration_ms: elapsed_ms(start),
        detail: Some(format!(
            "sha256 {} of {}",
            short(&dump.checksum),
            dump.describe()
        )),
    };
    let server = Server::Remote {
        url: url.to_string(),
    };
    let major = {
        let mut admin = connect_admin(&server).await?;
        let version: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
            .fetch_one(&mut admin)
            .await
            .context("Failed to read the server version")?;
        sweep_remote_databases(&mut admin).await?;
        let _ = admin.close().await;
        version.parse::<u32>().map(|v| v / 10_000).unwrap_or(0)
    };
    let mut copy = DisposableCopy {
        server,
        bins,
        database: String::new(),
        owned: Vec::new(),
        phases: vec![checksum_phase],
        cluster: None,
        lock: None,
        cache_hit: false,
    };
    if options.cache {
        from_template(&mut copy, &dump, jobs, progress, None, major).await?;
    } else {
        plain_restore(&mut copy, &dump, jobs, progress).await?;
    }
    Ok(copy)
}

async fn connect_admin(server: &Server) -> Result<PgConnection> {
    let url = server.admin_url();
    super::conninfo::connect(&url).await.map_err(|e| {
        anyhow!(
            "Failed to connect to {}: {}",
            super::connect::redact_url(&url),
            super::connect::redact_url(&e.to_string())
        )
    })
}

/// `--no-cache`: restore straight into the run's database.
async fn plain_restore(
    copy: &mut DisposableCopy,
    dump: &Dump,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<()> {
    let name = run_name("restore", &dump.checksum);
    create_database(&copy.server, &name, None, 0).await?;
    copy.owned.push(name.clone());
    copy.database = name.clone();
    restore_and_analyze(copy, dump, jobs, progress, &name).await
}

async fn restore_and_analyze(
    copy: &mut DisposableCopy,
    dump: &Dump,
    jobs: usize,
    progress: &dyn Progress,
    db: &str,
) -> Result<()> {
    let server = copy.server.clone();
    let bins = copy.bins.clone();
    copy.phase(
        progress,
        "restore",
        format!("{} into {db}", dump.describe()),
        restore::restore_into(dump, &bins, &server, db, jobs),
    )
    .await?;
    copy.phase(
        progress,
        "analyze",
        db.to_string(),
        restore::analyze(&server, db),
    )
    .await
}

/// The cached path: check the cached template on a clone of it (rebuilding it from the dump
/// when it is damaged), build it when missing, then clone it for this run.
async fn from_template(
    copy: &mut DisposableCopy,
    dump: &Dump,
    jobs: usize,
    progress: &dyn Progress,
    cache_dir: Option<&Path>,
    major: u32,
) -> Result<()> {
    let template = template_name(&dump.checksum, major);
    let server = copy.server.clone();
    let mut admin = connect_admin(&server).await?;
    // On a shared server, two machines may build the same template at once.
    if cache_dir.is_none() {
        sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
            .bind(&template)
            .execute(&mut admin)
            .await
            .context("Failed to take the template lock")?;
    }
    let allows_connections: Option<bool> =
        sqlx::query_scalar("SELECT datallowconn FROM pg_database WHERE datname = $1")
            .bind(&template)
            .fetch_optional(&mut admin)
            .await
            .context("Failed to look for a cached template")?;
    if let Some(writable) = allows_connections {
        let started = Instant::now();
        let cached = use_cached(
            copy, &mut admin, dump, &template, cache_dir, writable, progress, major,
        )
        .await?;
        match cached {
            Cached::Intact => {
                copy.cache_hit = true;
                let _ = admin.close().await;
                return Ok(());
            }
            Cached::Damaged(reason) => {
                let message =
                    format!("cached template {template} damaged: {reason}; rebuilt from the dump");
                progress.warning(&message);
                discard_template(&mut admin, &template).await?;
                if let Some(dir) = cache_dir {
                    let _ = fs::remove_file(record_path(dir, &template));
                }
                copy.phases.push(Phase {
                    name: "verify-template".to_string(),
                    duration_ms: elapsed_ms(started),
                    detail: Some(message),
                });
            }
        }
    }
    build_template(
        copy, &mut admin, dump, jobs, progress, cache_dir, &template, major,
    )
    .await?;
    let clone = run_name("run", &dump.checksum);
    let detail = format!("template {template} (restored now)");
    let started = Instant::now();
    progress.started("clone-template", &detail);
    create_database(&server, &clone, Some(&template), major).await?;
    copy.owned.push(clone.clone());
    copy.database = clone;
    let phase = Phase {
        name: "clone-template".to_string(),
        duration_ms: elapsed_ms(started),
        detail: Some(detail),
    };
    progress.finished(&phase);
    copy.phases.push(phase);
    let _ = admin.close().await;
    Ok(())
}

/// What a cached template turned out to be.
enum Cached {
    /// Its clone is this run's database.
    Intact,
    /// Why it cannot be used; nothing of it is left in the run's databases.
    Damaged(String),
}

/// Clones the cached `template` for this run and checks the clone against the template's
/// record. The clone is what the review will see, and it can be read even though the
/// template accepts no connections.
#[allow(clippy::too_many_arguments)]
async fn use_cached(
    copy: &mut DisposableCopy,
    admin: &mut PgConnection,
    dump: &Dump,
    template: &str,
    cache_dir: Option<&Path>,
    writable: bool,
    progress: &dyn Progress,
    major: u32,
) -> Result<Cached> {
    let recorded = match cache_dir {
        Some(dir) => recorded_in_file(dir, template, &dump.checksum),
        None => recorded_in_comment(admin, template).await?,
    };
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(reason) => return Ok(Cached::Damaged(reason)),
    };
    let server = copy.server.clone();
    let clone = run_name("run", &dump.checksum);
    let detail = format!("cache hit: template {template}");
    let started = Instant::now();
    progress.started("clone-template", &detail);
    if let Err(e) = create_database(&server, &clone, Some(template), major).await {
        let _ = drop_databases(&server, std::slice::from_ref(&clone)).await;
        return Ok(Cached::Damaged(format!("{e:#}")));
    }
    copy.owned.push(clone.clone());
    let phase = Phase {
        name: "clone-template".to_string(),
        duration_ms: elapsed_ms(started),
        detail: Some(detail),
    };
    progress.finished(&phase);
    copy.phases.push(phase);

    let started = Instant::now();
    progress.started("verify-template", &format!("{clone} against the record"));
    let verdict = match super::conninfo::connect(&server.url(&clone)).await {
        Ok(mut conn) => {
            let verdict = template_check::check(&mut conn, &recorded, writable).await;
            let _ = conn.close().await;
            verdict
        }
        Err(e) => Verdict::Damaged(format!(
            "Failed to connect to its clone {clone}: {}",
            super::connect::redact_url(&e.to_string())
        )),
    };
    match verdict {
        Verdict::Intact { relations, counted } => {
            let how = if counted {
                let why = if writable {
                    "the template accepts connections"
                } else {
                    "a table's size moved"
                };
                format!(
                    "{relations} relations and {} rows as recorded ({why}, so the rows were counted)",
                    recorded.total_rows()
                )
            } else {
                format!(
                    "{relations} relations with their files and sizes as recorded \
                     (it accepts no connections, so its rows cannot have changed)"
                )
            };
            let phase = Phase {
                name: "verify-template".to_string(),
                duration_ms: elapsed_ms(started),
                detail: Some(format!("template {template}: {how}")),
            };
            progress.finished(&phase);
            copy.phases.push(phase);
            copy.database = clone;
            Ok(Cached::Intact)
        }
        Verdict::Damaged(reason) => {
            copy.owned.retain(|d| d != &clone);
            drop_databases(&server, std::slice::from_ref(&clone)).await?;
            Ok(Cached::Damaged(reason))
        }
    }
}

/// The fingerprint in the local record of `template`, or why there is none to trust.
fn recorded_in_file(
    cache_dir: &Path,
    template: &str,
    checksum: &str,
) -> std::result::Result<Fingerprint, String> {
    let path = record_path(cache_dir, template);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("its record {} is missing", path.display()))
        }
        Err(e) => return Err(format!("its record {} cannot be read: {e}", path.display())),
    };
    let record: TemplateEntry = serde_json::from_str(&text)
        .map_err(|e| format!("its record {} cannot be read: {e}", path.display()))?;
    if record.checksum != checksum {
        return Err(format!(
            "its record {} is of another dump (sha256 {})",
            path.display(),
            short(&record.checksum)
        ));
    }
    record.fingerprint.ok_or_else(|| {
        format!(
            "its record {} holds no fingerprint (an older migsafe wrote it)",
            path.display()
        )
    })
}

/// On a server given by URL the template's comment is its record: every machine that shares
/// the server sees it, and no local file could follow the template there.
const FINGERPRINT_MARK: &str = "\nfingerprint: ";

/// The fingerprint in the comment of `template` on a server given by URL.
async fn recorded_in_comment(
    admin: &mut PgConnection,
    template: &str,
) -> Result<std::result::Result<Fingerprint, String>> {
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(template)
    .fetch_optional(&mut *admin)
    .await
    .with_context(|| format!("Failed to read the comment of template {template}"))?
    .flatten();
    let Some(json) = comment
        .as_deref()
        .and_then(|c| c.split_once(FINGERPRINT_MARK))
        .map(|(_, json)| json)
    else {
        return Ok(Err(
            "its comment holds no fingerprint (an older migsafe made it, or the comment was changed)"
                .to_string(),
        ));
    };
    Ok(serde_json::from_str(json)
        .map_err(|e| format!("the fingerprint in its comment cannot be read: {e}")))
}

/// Drops a cached template that failed its check.
async fn discard_template(admin: &mut PgConnection, template: &str) -> Result<()> {
    // DROP DATABASE refuses a template, and cannot share a statement batch (it may not run in
    // a transaction block).
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER DATABASE {} IS_TEMPLATE false",
        quote_ident(template)
    )))
    .execute(&mut *admin)
    .await
    .with_context(|| format!("Failed to drop the damaged template {template}"))?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(template)
    )))
    .execute(&mut *admin)
    .await
    .with_context(|| format!("Failed to drop the damaged template {template}"))?;
    Ok(())
}

/// Restores the dump into a database of its own, records what it holds, and only then turns
/// it into the template: a run killed before that leaves a `migsafe_build_*` database the
/// next run sweeps, never a template without a record.
#[allow(clippy::too_many_arguments)]
async fn build_template(
    copy: &mut DisposableCopy,
    admin: &mut PgConnection,
    dump: &Dump,
    jobs: usize,
    progress: &dyn Progress,
    cache_dir: Option<&Path>,
    template: &str,
    major: u32,
) -> Result<()> {
    let server = copy.server.clone();
    let building = run_name("build", &dump.checksum);
    create_database(&server, &building, None, 0).await?;
    copy.owned.push(building.clone());
    restore_and_analyze(copy, dump, jobs, progress, &building).await?;
    let fingerprint = copy
        .phase(
            progress,
            "fingerprint",
            format!("relations, sizes and row counts of {building}"),
            take_fingerprint(&server, &building),
        )
        .await?;
    let mut comment = format!(
        "migsafe template of {} (sha256 {})",
        dump.path.display(),
        dump.checksum
    );
    match cache_dir {
        Some(dir) => {
            let size: i64 = sqlx::query_scalar("SELECT pg_database_size($1::text)")
                .bind(&building)
                .fetch_one(&mut *admin)
                .await
                .unwrap_or(0);
            write_record(dir, dump, template, size, major, fingerprint)?;
        }
        None => {
            let json = serde_json::to_string(&fingerprint)
                .context("Failed to write the template's fingerprint")?;
            comment.push_str(FINGERPRINT_MARK);
            comment.push_str(&json);
        }
    }
    // ALLOW_CONNECTIONS false: nobody can change the template's rows without first allowing
    // connections again, which the check notices (template_check).
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER DATABASE {} RENAME TO {}; ALTER DATABASE {} IS_TEMPLATE true; \
         ALTER DATABASE {} ALLOW_CONNECTIONS false; COMMENT ON DATABASE {} IS {}",
        quote_ident(&building),
        quote_ident(template),
        quote_ident(template),
        quote_ident(template),
        quote_ident(template),
        literal(&comment)
    )))
    .execute(&mut *admin)
    .await
    .with_context(|| format!("Failed to turn {building} into template {template}"))?;
    copy.owned.retain(|d| d != &building);
    Ok(())
}

async fn take_fingerprint(server: &Server, db: &str) -> Result<Fingerprint> {
    let mut conn = super::conninfo::connect(&server.url(db))
        .await
        .map_err(|e| anyhow!("{}", super::connect::redact_url(&e.to_string())))
        .with_context(|| format!("Failed to connect to database {db} to record what it holds"))?;
    let fingerprint = template_check::take(&mut conn)
        .await
        .with_context(|| format!("Failed to record what database {db} holds"))?;
    let _ = conn.close().await;
    Ok(fingerprint)
}

/// `CREATE DATABASE`, commented with this host and pid so a later run can tell a dead run's
/// leftovers on a shared server. FILE_COPY (PG15+) copies the template's files instead of
/// WAL-logging every block: much faster for a big template on a throwaway server.
async fn create_database(
    server: &Server,
    name: &str,
    template: Option<&str>,
    major: u32,
) -> Result<()> {
    let mut admin = connect_admin(server).await?;
    let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
    if let Some(template) = template {
        sql.push_str(&format!(" TEMPLATE {}", quote_ident(template)));
        if major >= 15 {
            sql.push_str(" STRATEGY FILE_COPY");
        }
    }
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .with_context(|| match template {
            Some(t) => format!("Failed to clone template {t} into database {name}"),
            None => format!("Failed to create database {name}"),
        })?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        literal(&owner_tag())
    )))
    .execute(&mut admin)
    .await
    .with_context(|| format!("Failed to label database {name}"))?;
    let _ = admin.close().await;
    Ok(())
}

/// `migsafe run host=<host> pid=<pid>`.
fn owner_tag() -> String {
    format!("migsafe run host={} pid={}", hostname(), std::process::id())
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// With the cache lock held, every per-run database on the cached cluster is a leftover.
async fn sweep_local_databases(server: &Server) -> Result<()> {
    let mut admin = connect_admin(server).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname ~ '^migsafe_(run|build|restore)_'",
    )
    .fetch_all(&mut admin)
    .await
    .context("Failed to look for databases left by an interrupted run")?;
    let _ = admin.close().await;
    drop_databases(server, &names).await
}

/// On a shared server: only databases labelled with this host and a dead pid.
async fn sweep_remote_databases(admin: &mut PgConnection) -> Result<()> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database \
         WHERE datname ~ '^migsafe_(run|build|restore)_'",
    )
    .fetch_all(&mut *admin)
    .await
    .context("Failed to look for databases left by an interrupted run")?;
    let host = format!("host={} ", hostname());
    for (name, comment) in rows {
        let Some(pid) = comment
            .as_deref()
            .filter(|c| c.contains(&host))
            .and_then(|c| c.rsplit("pid=").next())
            .and_then(|p| p.trim().parse::<u32>().ok())
        else {
            continue;
        };
        if !cluster::process_alive(pid) {
            let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&name)
            )))
            .execute(&mut *admin)
            .await;
        }
    }
    Ok(())
}

/// `migsafe_tpl_pg15_<first 24 hex digits of the checksum>`.
pub fn template_name(checksum: &str, major: u32) -> String {
    format!(
        "migsafe_tpl_pg{major}_{}",
        checksum.get(..24).unwrap_or(checksum)
    )
}

/// `migsafe_<kind>_<8 hex>_<pid>` (`_<n>` for the second and later copy in one process, so
/// two copies of one dump in one process never share a name).
fn run_name(kind: &str, checksum: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = format!(
        "migsafe_{kind}_{}_{}",
        checksum.get(..8).unwrap_or(checksum),
        std::process::id()
    );
    if n > 0 {
        name.push_str(&format!("_{n}"));
    }
    name
}

fn record_path(cache_dir: &Path, template: &str) -> PathBuf {
    cache_dir.join("templates").join(format!("{template}.json"))
}

fn write_record(
    cache_dir: &Path,
    dump: &Dump,
    template: &str,
    size: i64,
    major: u32,
    fingerprint: Fingerprint,
) -> Result<()> {
    let record = TemplateEntry {
        name: template.to_string(),
        dump: dump.path.display().to_string(),
        format: dump.format.to_string(),
        checksum: dump.checksum.clone(),
        dump_bytes: dump.bytes,
        database_bytes: u64::try_from(size).unwrap_or(0),
        server_major: major,
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        fingerprint: Some(fingerprint),
    };
    let path = record_path(cache_dir, template);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(&record)?;
    fs::write(&path, text).with_context(|| format!("Failed to write {}", path.display()))
}

fn literal(text: &str) -> String {
    crate::quote::literal(text)
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix seconds (Howard Hinnant's civil-from-days).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_738_324_800), "2025-01-31T12:00:00Z");
    }

    #[test]
    fn names_fit_postgres_identifiers() {
        let sum = "f".repeat(64);
        let template = template_name(&sum, 15);
        assert!(template.len() <= 63, "{template}");
        assert!(template.starts_with("migsafe_tpl_pg15_"));
        assert!(run_name("build", &sum).len() <= 63);
    }

    #[test]
    fn cache_dir_follows_the_environment_order() {
        // Read-only check of the documented precedence without mutating the environment.
        let dir = cache_dir().unwrap();
        if let Some(explicit) = std::env::var_os("MIGSAFE_CACHE_DIR").filter(|v| !v.is_empty()) {
            assert_eq!(dir, PathBuf::from(explicit));
        } else {
            assert!(dir.ends_with("migsafe"), "{}", dir.display());
        }
    }

    #[test]
    fn a_second_lock_on_the_same_cache_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = CacheLock::try_acquire(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(CacheLock::try_acquire(dir.path()).unwrap().is_none());
        drop(first);
        assert!(CacheLock::try_acquire(dir.path()).unwrap().is_some());
    }

    fn entry(checksum: &str, fingerprint: Option<Fingerprint>) -> TemplateEntry {
        TemplateEntry {
            name: "migsafe_tpl_pg15_abc".to_string(),
            dump: "shop.dump".to_string(),
            format: "custom".to_string(),
            checksum: checksum.to_string(),
            dump_bytes: 1,
            database_bytes: 1,
            server_major: 15,
            created_unix: 0,
            fingerprint,
        }
    }

    #[test]
    fn a_record_that_cannot_vouch_for_its_template_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let template = "migsafe_tpl_pg15_abc";
        let path = record_path(dir.path(), template);
        let why = |checksum: &str| recorded_in_file(dir.path(), template, checksum).unwrap_err();
        assert!(why("abc").ends_with("migsafe_tpl_pg15_abc.json is missing"));

        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "{\"name\": \"half").unwrap();
        assert!(why("abc").contains("cannot be read"), "{}", why("abc"));

        let old = serde_json::to_string(&entry("abc", None)).unwrap();
        fs::write(&path, old).unwrap();
        assert!(
            why("abc").contains("holds no fingerprint"),
            "{}",
            why("abc")
        );

        let print = Fingerprint {
            relations: Vec::new(),
        };
        let other = serde_json::to_string(&entry("def", Some(print.clone()))).unwrap();
        fs::write(&path, other).unwrap();
        assert!(why("abc").contains("is of another dump"), "{}", why("abc"));

        let good = serde_json::to_string(&entry("abc", Some(print.clone()))).unwrap();
        fs::write(&path, good).unwrap();
        assert_eq!(recorded_in_file(dir.path(), template, "abc"), Ok(print));
    }

    #[test]
    fn listing_an_empty_cache_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let listing = list(dir.path()).unwrap();
        assert!(listing.templates.is_empty());
    }
}
