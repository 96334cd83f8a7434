//! A throwaway local PostgreSQL cluster that migsafe starts itself (PRODUCT.md §4, the
//! embedded default): finding the binaries, `initdb`, a postmaster that listens only on a
//! Unix socket in a private directory, and stopping it again on every path out.
//!
//! Why a socket only: no TCP port means no clash with a server the developer already runs
//! and nothing reachable from the network. Why the tuning: the cluster holds a copy that is
//! thrown away, so durability settings (`fsync`, `full_page_writes`) only cost time.
//!
//! Who cleans up, in order of preference:
//! 1. [`LocalCluster::shutdown`], awaited by the caller (fast shutdown, then the files);
//! 2. `Drop`, synchronously, when the caller errs out or is cancelled (Ctrl-C);
//! 3. a watchdog shell process started with the cluster, in its own process group, which
//!    polls the migsafe process and, when it is gone without cleaning up (`kill -9`, a test
//!    process that exits without running destructors), stops the postmaster and removes the
//!    run directory;
//! 4. [`sweep_stale_runs`] at the next start, for anything the watchdog could not do (the
//!    machine was rebooted, the watchdog was killed too).
//!
//! PostgreSQL refuses to run as root, so as root the server binaries run as the `postgres`
//! user and the directories they write are chowned to it. Client tools (psql, pg_restore)
//! keep running as the caller: over the Unix socket with trust authentication they need no
//! file access to the cluster.

use anyhow::{anyhow, bail, Context as _, Result};
use std::ffi::OsString;
use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The superuser every cluster migsafe creates has (`initdb -U`), whoever runs migsafe: the
/// name tools and dumps expect, and the same name whether or not we run as root.
pub const SUPERUSER: &str = "postgres";

/// Prefix of the per-run directories under the temporary directory:
/// `migsafe-pg-<pid>-<nanos>`. The pid lets [`sweep_stale_runs`] tell a dead run's leftovers
/// from a live run's.
const RUN_DIR_PREFIX: &str = "migsafe-pg-";

/// PostgreSQL binaries of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    /// The directory holding initdb, postgres, pg_restore, psql…
    pub dir: PathBuf,
    /// Major version, e.g. 15.
    pub major: u32,
    /// `postgres --version` / `pg_restore --version` output, e.g. `pg_restore (PostgreSQL) 15.18`.
    pub version: String,
}

/// What a set of binaries must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// initdb and postgres (to run a cluster) plus the client tools.
    Server,
    /// pg_restore and psql only (to restore into a server given by URL).
    Client,
}

impl Needs {
    fn tools(self) -> &'static [&'static str] {
        match self {
            Needs::Server => &["initdb", "postgres", "pg_restore", "psql"],
            Needs::Client => &["pg_restore", "psql"],
        }
    }
}

impl PgBinaries {
    /// Finds the newest installation that has every tool `needs` asks for, looking in
    /// `PG_BIN`, then the directories of `PATH`, then `/usr/lib/postgresql/*/bin` (newest
    /// major first, Debian's layout) and `/usr/local/pgsql/bin` (a source build).
    ///
    /// `PG_BIN`, when set, is the only place looked at: a user who names a directory means it.
    pub fn find(needs: Needs) -> Result<PgBinaries> {
        if let Some(dir) = std::env::var_os("PG_BIN").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            let missing: Vec<&str> = needs
                .tools()
                .iter()
                .copied()
                .filter(|t| !dir.join(t).is_file())
                .collect();
            if !missing.is_empty() {
                bail!(
                    "Failed to find PostgreSQL binaries: PG_BIN is {} but it has no {}",
                    dir.display(),
                    missing.join(", ")
                );
            }
            return PgBinaries::at(dir);
        }
        for dir in candidate_dirs() {
            if needs.tools().iter().all(|t| dir.join(t).is_file()) {
                if let Ok(found) = PgBinaries::at(dir) {
                    return Ok(found);
                }
            }
        }
        bail!(
            "Failed to find PostgreSQL binaries ({}) on PATH, in PG_BIN, in \
             /usr/lib/postgresql/*/bin or in /usr/local/pgsql/bin. Install PostgreSQL (e.g. \
             `apt install postgresql` on Debian/Ubuntu, `brew install postgresql@16` on macOS, \
             `dnf install postgresql-server` on Fedora) or set PG_BIN to the directory holding \
             them; or pass --database-url to restore into a server you already run",
            needs.tools().join(", ")
        )
    }

    /// The installation in `dir`, with its version read from the binary.
    pub fn at(dir: PathBuf) -> Result<PgBinaries> {
        let probe = ["postgres", "pg_restore"]
            .iter()
            .map(|t| dir.join(t))
            .find(|p| p.is_file())
            .ok_or_else(|| anyhow!("{} has neither postgres nor pg_restore", dir.display()))?;
        let output = Command::new(&probe)
            .arg("--version")
            .output()
            .with_context(|| format!("Failed to run {} --version", probe.display()))?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let major = parse_major(&version).ok_or_else(|| {
            anyhow!(
                "Failed to read the version of {}: {version:?}",
                probe.display()
            )
        })?;
        Ok(PgBinaries {
            dir,
            major,
            version,
        })
    }

    /// Path of one tool of this installation.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// `15` from `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` or `… 9.6.24`
/// (`9` is close enough for the messages it serves).
fn parse_major(version: &str) -> Option<u32> {
    let after = version.split(')').nth(1).unwrap_or(version);
    let number = after
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    number
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((major, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    dirs.extend(versioned.into_iter().map(|(_, d)| d));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    dirs
}

/// The user the server runs as when migsafe runs as root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// `None` when not root (the server runs as us); the `postgres` user when root.
pub fn server_user() -> Result<Option<RunAs>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, SUPERUSER]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(Some(RunAs { uid, gid })),
        _ => bail!(
            "Failed to start a local PostgreSQL as root: PostgreSQL refuses to run as root and \
             there is no `{SUPERUSER}` user to run it as. Create one (`useradd --system \
             {SUPERUSER}`), run migsafe as an ordinary user, or pass --database-url"
        ),
    }
}

/// Where the cluster's data lives and whether it outlives the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataDir {
    /// A fresh data directory inside the run directory, removed with it (`--no-cache`).
    Temporary,
    /// A data directory that is kept (the cache): created by initdb when missing, reused
    /// otherwise. The caller holds the cache lock, so no live migsafe run uses it.
    Persistent(PathBuf),
}

/// A running local cluster. Stops on [`LocalCluster::shutdown`] or, as a last resort, on
/// `Drop`.
#[derive(Debug)]
pub struct LocalCluster {
    bins: PgBinaries,
    run_dir: PathBuf,
    data_dir: PathBuf,
    temporary_data: bool,
    postmaster: Option<Child>,
    /// True when this run created the data directory with initdb.
    initialized: bool,
}

impl LocalCluster {
    /// Creates (if needed) and starts a cluster on `data`, listening only on a socket in a
    /// new private run directory. Leftovers of dead runs are swept first.
    pub async fn start(bins: PgBinaries, data: DataDir) -> Result<LocalCluster> {
        tokio::task::spawn_blocking(move || LocalCluster::start_blocking(bins, data))
            .await
            .context("Failed to start the local PostgreSQL: the start task failed")?
    }

    fn start_blocking(bins: PgBinaries, data: DataDir) -> Result<LocalCluster> {
        let run_as = server_user()?;
        sweep_stale_runs();
        let run_dir = new_run_dir(run_as)?;
        // From here on, Drop removes the run directory whatever fails.
        let (data_dir, temporary_data) = match data {
            DataDir::Temporary => (run_dir.join("data"), true),
            DataDir::Persistent(dir) => (dir, false),
        };
        let mut cluster = LocalCluster {
            bins,
            run_dir,
            data_dir,
            temporary_data,
            postmaster: None,
            initialized: false,
        };
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            cluster.initdb(run_as)?;
            cluster.initialized = true;
        } else {
            stop_orphan_postmaster(&cluster.data_dir);
        }
        cluster.launch(run_as)?;
        cluster.start_watchdog();
        Ok(cluster)
    }

    /// `initdb` into the data directory. A persistent one is built beside its final place and
    /// renamed, so a run killed during initdb never leaves a half-made cluster in the cache.
    fn initdb(&self, run_as: Option<RunAs>) -> Result<()> {
        let target = &self.data_dir;
        let building = if self.temporary_data {
            target.clone()
        } else {
            let parent = target
                .parent()
                .ok_or_else(|| anyhow!("{} has no parent directory", target.display()))?;
            make_dir_for(parent, run_as)?;
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "data".to_string());
            let building = parent.join(format!("{name}.initdb-{}", std::process::id()));
            sweep_half_made_clusters(target);
            let _ = fs::remove_dir_all(&building);
            building
        };
        let log = self.run_dir.join("initdb.log");
        let mut command = Command::new(self.bins.tool("initdb"));
        command
            .arg("-D")
            .arg(&building)
            .args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdin(Stdio::null())
            .stdout(log_file(&log)?)
            .stderr(log_file(&log)?);
        // initdb needs to create `building`; its parent is ours.
        if let Some(parent) = building.parent() {
            chown_for(parent, run_as, false)?;
        }
        as_server_user(&mut command, run_as);
        let status = command
            .status()
            .with_context(|| format!("Failed to run {}", self.bins.tool("initdb").display()))?;
        if !status.success() {
            let tail = tail_of(&log, 20);
            let _ = fs::remove_dir_all(&building);
            bail!(
                "Failed to create a local PostgreSQL cluster in {}: initdb {status}{}\n{tail}",
                target.display(),
                disk_full_hint(&tail, &building)
            );
        }
        if building != *target {
            fs::rename(&building, target).with_context(|| {
                format!("Failed to move the new cluster into {}", target.display())
            })?;
        }
        Ok(())
    }

    /// Starts the postmaster in its own process group (a Ctrl-C in the terminal reaches
    /// migsafe, which shuts the server down in order, instead of killing the server under a
    /// running cleanup) and waits until it accepts connections.
    fn launch(&mut self, run_as: Option<RunAs>) -> Result<()> {
        let log = self.run_dir.join("postgres.log");
        let socket = format!("unix_socket_directories={}", self.run_dir.display());
        let mut command = Command::new(self.bins.tool("postgres"));
        command.arg("-D").arg(&self.data_dir);
        // https://www.postgresql.org/docs/current/non-durability.html
        for setting in [
            "listen_addresses=",
            socket.as_str(),
            "fsync=off",
            "full_page_writes=off",
            "synchronous_commit=off",
            "wal_level=minimal",
            "max_wal_senders=0",
            "max_wal_size=8GB",
            "checkpoint_timeout=1h",
            "maintenance_work_mem=512MB",
            "max_locks_per_transaction=256",
            "autovacuum=off",
            "logging_collector=off",
        ] {
            command.arg("-c").arg(setting);
        }
        command
            .stdin(Stdio::null())
            .stdout(log_file(&log)?)
            .stderr(log_file(&log)?)
            .process_group(0);
        as_server_user(&mut command, run_as);
        let child = command
            .spawn()
            .with_context(|| format!("Failed to run {}", self.bins.tool("postgres").display()))?;
        self.postmaster = Some(child);
        let socket_file = self.run_dir.join(".s.PGSQL.5432");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(child) = self.postmaster.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.postmaster = None;
                    let tail = tail_of(&log, 20);
                    bail!(
                        "Failed to start the local PostgreSQL on {}: postgres {status}{}\n{tail}",
                        self.data_dir.display(),
                        disk_full_hint(&tail, &self.data_dir)
                    );
                }
            }
            if socket_file.exists() && self.ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "Failed to start the local PostgreSQL on {}: not ready after 120s\n{}",
                    self.data_dir.display(),
                    tail_of(&log, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The postmaster writes `ready` into postmaster.pid once it accepts connections
    /// (PostgreSQL 10+; `pg_ctl -w` reads the same line).
    fn ready(&self) -> bool {
        fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .map(|text| text.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
            .unwrap_or(false)
    }

    fn start_watchdog(&self) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        spawn_watchdog(
            std::process::id(),
            pid,
            &self.run_dir,
            self.temporary_data.then_some(self.data_dir.as_path()),
        );
    }

    /// The sqlx URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{db}?host={}",
            self.run_dir.display()
        )
    }

    /// Arguments that point psql / pg_restore at database `db` on this cluster.
    pub fn client_args(&self, db: &str) -> Vec<OsString> {
        vec![
            "-h".into(),
            self.run_dir.clone().into_os_string(),
            "-U".into(),
            SUPERUSER.into(),
            "-d".into(),
            db.into(),
        ]
    }

    /// The private directory holding the socket (and, for a temporary cluster, the data).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn binaries(&self) -> &PgBinaries {
        &self.bins
    }

    /// True when this start ran initdb (a cold cache, or a temporary cluster).
    pub fn initialized(&self) -> bool {
        self.initialized
    }

    pub fn postmaster_pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(Child::id)
    }

    /// Stops the server (fast shutdown: sessions are ended, the data is left consistent for
    /// the next run) and removes the run directory, and the data directory when temporary.
    pub async fn shutdown(mut self) -> Result<()> {
        let mut this = std::mem::replace(&mut self, LocalCluster::stopped());
        tokio::task::spawn_blocking(move || this.stop_blocking())
            .await
            .context("Failed to stop the local PostgreSQL: the stop task failed")?
    }

    /// Hands the cluster to its watchdog: nothing in this process stops it any more, and it
    /// is stopped and removed within about a second after this process exits, however it
    /// exits. For a cluster that must live as long as a process whose destructors may never
    /// run (the test harness keeps one in a static).
    pub fn stop_when_process_exits(mut self) {
        // The watchdog started with the cluster already watches this process.
        self.postmaster = None;
        self.run_dir = PathBuf::new();
    }

    fn stopped() -> LocalCluster {
        LocalCluster {
            bins: PgBinaries {
                dir: PathBuf::new(),
                major: 0,
                version: String::new(),
            },
            run_dir: PathBuf::new(),
            data_dir: PathBuf::new(),
            temporary_data: false,
            postmaster: None,
            initialized: false,
        }
    }

    fn stop_blocking(&mut self) -> Result<()> {
        if let Some(mut child) = self.postmaster.take() {
            stop_postmaster(&mut child);
        }
        if self.run_dir.as_os_str().is_empty() {
            return Ok(());
        }
        let mut problems = Vec::new();
        if self.temporary_data && self.data_dir.exists() {
            if let Err(e) = fs::remove_dir_all(&self.data_dir) {
                problems.push(format!("{}: {e}", self.data_dir.display()));
            }
        }
        if self.run_dir.exists() {
            if let Err(e) = fs::remove_dir_all(&self.run_dir) {
                problems.push(format!("{}: {e}", self.run_dir.display()));
            }
        }
        self.run_dir = PathBuf::new();
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "Failed to remove the local PostgreSQL's files: {}",
                problems.join("; ")
            )
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop_blocking() {
            eprintln!("warning: {e:#}");
        }
    }
}

/// SIGINT (fast shutdown), up to 30 s, then SIGQUIT (immediate), then SIGKILL.
fn stop_postmaster(child: &mut Child) {
    let pid = child.id();
    for (signal, wait) in [
        (libc::SIGINT, Duration::from_secs(30)),
        (libc::SIGQUIT, Duration::from_secs(5)),
    ] {
        send_signal(pid, signal);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn send_signal(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill has no memory-safety preconditions; a stale pid only yields ESRCH.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Whether a process with this pid exists (possibly owned by another user).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A postmaster left running on `data_dir` by a run killed hard (the caller holds the cache
/// lock, so it is nobody's): stop it. A postmaster.pid whose process is gone is left to
/// PostgreSQL, which replaces a stale lock file itself. A pid that now belongs to any other
/// process (pids are reused) is never signalled: see [`is_postmaster_of`].
pub fn stop_orphan_postmaster(data_dir: &Path) {
    let Some(pid) = postmaster_pid_of(data_dir) else {
        return;
    };
    if !is_postmaster_of(pid, data_dir) {
        return;
    }
    send_signal(pid, libc::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(30);
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if process_alive(pid) {
        send_signal(pid, libc::SIGQUIT);
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn postmaster_pid_of(data_dir: &Path) -> Option<u32> {
    fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Whether `pid` is provably the postmaster of `data_dir`: a process whose executable is
/// named `postgres` (or `postmaster`) and whose working directory is the data directory (the
/// postmaster changes into it at start, `ChangeToDataDir` in PostgreSQL's miscinit.c). A
/// command line that merely contains "postgres" proves nothing — any process can have one,
/// and a stale postmaster.pid may name a pid the system has since given to another program.
/// When /proc cannot tell (another user's process and we are not root), the answer is no.
pub fn is_postmaster_of(pid: u32, data_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(cwd) = fs::read_link(proc_dir.join("cwd")) else {
        return false;
    };
    let Ok(exe) = fs::read_link(proc_dir.join("exe")) else {
        return false;
    };
    let exe_name = exe
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(" (deleted)")
                .to_string()
        })
        .unwrap_or_default();
    if exe_name != "postgres" && exe_name != "postmaster" {
        return false;
    }
    let same = |a: &Path, b: &Path| match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same(&cwd, data_dir)
}

/// Removes `<name>.initdb-<pid>` directories beside `target` left by runs killed during
/// initdb (their pid is gone): half-made clusters that nothing else would ever remove.
fn sweep_half_made_clusters(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!("{}.initdb-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes the run directories of migsafe processes that no longer exist, stopping any
/// postmaster still running in them. Best effort: whatever cannot be removed stays for the
/// next sweep.
pub fn sweep_stale_runs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(RUN_DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if process_alive(pid) {
            continue;
        }
        let dir = entry.path();
        stop_orphan_postmaster(&dir.join("data"));
        // A cached cluster's postmaster is stopped by the next run that takes the cache.
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Creates `<tmp>/migsafe-pg-<pid>-<nanos>`, private to the server user.
fn new_run_dir(run_as: Option<RunAs>) -> Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    let mut base = std::env::temp_dir();
    // A socket path must fit in sun_path (107 bytes): fall back to /tmp for a long TMPDIR.
    if base.as_os_str().len() > 60 {
        base = PathBuf::from("/tmp");
    }
    let dir = base.join(format!("{RUN_DIR_PREFIX}{}-{nanos:x}", std::process::id()));
    fs::create_dir(&dir).with_context(|| {
        format!(
            "Failed to create the local PostgreSQL's run directory {}{}",
            dir.display(),
            ""
        )
    })?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("Failed to make {} private", dir.display()))?;
    chown_for(&dir, run_as, false)?;
    Ok(dir)
}

/// Creates `dir` (and parents) so that the server user can create entries in it.
fn make_dir_for(dir: &Path, run_as: Option<RunAs>) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    chown_for(dir, run_as, false)
}

/// As root, gives `path` to the server user (recursively when asked).
pub fn chown_for(path: &Path, run_as: Option<RunAs>, recursive: bool) -> Result<()> {
    let Some(user) = run_as else {
        return Ok(());
    };
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("Failed to give {} to the {SUPERUSER} user", path.display()))?;
    if recursive && path.is_dir() {
        for entry in fs::read_dir(path)?.flatten() {
            chown_for(&entry.path(), run_as, true)?;
        }
    }
    Ok(())
}

/// Whether the server user can reach `path` (every ancestor searchable): as root, the cache
/// usually lives under /root, which the postgres user cannot enter.
pub fn reachable_by(path: &Path, run_as: Option<RunAs>) -> bool {
    let Some(user) = run_as else {
        return true;
    };
    path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.mode();
            (meta.uid() == user.uid && mode & 0o100 != 0)
                || (meta.gid() == user.gid && mode & 0o010 != 0)
                || mode & 0o001 != 0
        }
        // Not created yet: it will be created by us with default (searchable) permissions.
        Err(_) => true,
    })
}

fn as_server_user(command: &mut Command, run_as: Option<RunAs>) {
    if let Some(user) = run_as {
        // std drops supplementary groups when a root process sets uid.
        command.uid(user.uid).gid(user.gid);
        command.env("HOME", "/tmp");
    }
}

fn log_file(path: &Path) -> Result<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("Failed to open the log file {}", path.display()))
}

/// The last `lines` lines of a log, indented, for error messages.
pub(crate) fn tail_of(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    tail_lines(&text, lines)
}

pub(crate) fn tail_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..)
        .unwrap_or_default()
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "; the disk is full" when a tool's output says so (ENOSPC), naming where.
pub(crate) fn disk_full_hint(output: &str, place: &Path) -> String {
    if output.contains("No space left on device") || output.contains("could not extend file") {
        format!(
            ": the disk holding {} is full (No space left on device); free space or set \
             MIGSAFE_CACHE_DIR / TMPDIR to a larger disk",
            place.display()
        )
    } else {
        String::new()
    }
}

/// Starts the watchdog: a `sh` loop in its own process group that waits while `parent` is
/// alive and `run_dir` exists. If the parent dies first, it stops `postmaster` (fast, then
/// immediate) and removes the run directory (and a temporary data directory). It watches the
/// postmaster pid it was given, never one read later from a file, so it cannot stop the
/// server a later run started on the same cached data directory.
fn spawn_watchdog(parent: u32, postmaster: u32, run_dir: &Path, temporary_data: Option<&Path>) {
    const SCRIPT: &str = r#"
parent=$1; pm=$2; run=$3; data=$4
while kill -0 "$parent" 2>/dev/null && [ -d "$run" ]; do sleep 1; done
[ -d "$run" ] || exit 0
if kill -0 "$pm" 2>/dev/null; then
  kill -INT "$pm" 2>/dev/null
  i=0
  while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i+1)); done
  kill -QUIT "$pm" 2>/dev/null
fi
[ -n "$data" ] && rm -rf "$data"
rm -rf "$run"
"#;
    let data = temporary_data
        .map(|d| d.as_os_str().to_owned())
        .unwrap_or_default();
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("migsafe-watchdog")
        .arg(parent.to_string())
        .arg(postmaster.to_string())
        .arg(run_dir)
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    // The watchdog is a safety net: without it, cleanup still runs in-process and at the
    // next start. Reap it in the background so it never becomes a zombie of ours.
    if let Ok(mut child) = spawned {
        std::thread::spawn(move || {
            let _ = child.wait();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_major_versions() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("pg_restore (PostgreSQL) 17.2"), Some(17));
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 18beta1"), Some(18));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn tails_skip_blank_lines() {
        assert_eq!(tail_lines("a\n\nb\nc\n", 2), "  b\n  c");
        assert_eq!(tail_lines("", 3), "");
    }

    #[test]
    fn disk_full_is_named() {
        let hint = disk_full_hint(
            "FATAL: could not write: No space left on device",
            Path::new("/x"),
        );
        assert!(hint.contains("disk holding /x is full"), "{hint}");
        assert_eq!(disk_full_hint("syntax error", Path::new("/x")), "");
    }

    #[test]
    fn our_own_process_is_alive_and_pid_zero_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(0));
    }
}
