//! Restoring a pg_dump into a fresh database: recognising the dump's format by its content,
//! running pg_restore or psql on it, ANALYZE afterwards, and errors that name the file and
//! say what went wrong (corrupt, from a newer pg_dump, disk full).
//!
//! Ownership and privileges are dropped (`--no-owner --no-privileges`): the copy only has to
//! have the data and the schema, and the roles of production rarely exist where it is
//! restored. Plain SQL cannot be told to skip them, so on a cluster migsafe owns the roles a
//! plain dump names are created first (NOLOGIN); on a server given by URL they must exist.

use super::cluster::{disk_full_hint, tail_lines, PgBinaries, SUPERUSER};
use anyhow::{anyhow, bail, Context as _, Result};
use sha2::{Digest as _, Sha256};
use sqlx::{AssertSqlSafe, Connection as _};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncReadExt as _;

/// How a dump is stored, recognised by content rather than by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// `pg_dump -Fp` (or `pg_dump > file.sql`): SQL for psql.
    Plain,
    /// Plain SQL compressed with gzip (`pg_dump | gzip`).
    GzipPlain,
    /// `pg_dump -Fc`: starts with `PGDMP`.
    Custom,
    /// A custom-format dump compressed again with gzip; restored from a pipe (no `-j`).
    GzipCustom,
    /// `pg_dump -Fd`: a folder with `toc.dat`.
    Directory,
    /// `pg_dump -Ft`: a tar archive.
    Tar,
}

impl fmt::Display for DumpFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DumpFormat::Plain => "plain SQL",
            DumpFormat::GzipPlain => "gzip-compressed plain SQL",
            DumpFormat::Custom => "custom format",
            DumpFormat::GzipCustom => "gzip-compressed custom format",
            DumpFormat::Directory => "directory format",
            DumpFormat::Tar => "tar format",
        })
    }
}

/// A dump on disk, inspected: its format, size and content checksum (the cache key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub path: PathBuf,
    pub format: DumpFormat,
    /// Bytes on disk (all files of a directory dump).
    pub bytes: u64,
    /// SHA-256 of the contents, hex. For a directory: of every file's relative path, length
    /// and contents, in sorted order.
    pub checksum: String,
    /// For a dump that came through a pipe: the file it was copied into (which `path` names)
    /// and the name the user gave; the copy is removed when the last clone of this is dropped.
    pub spooled: Option<std::sync::Arc<Spooled>>,
}

/// A pipe's contents copied into a temporary file, removed on drop.
#[derive(Debug)]
pub struct Spooled {
    /// What the user named (`/dev/stdin`, `/dev/fd/63`).
    pub given: PathBuf,
    file: PathBuf,
}

impl PartialEq for Spooled {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file
    }
}

impl Eq for Spooled {}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
    }
}

impl Dump {
    /// Reads the dump once to learn its format, size and checksum. A dump that is not a
    /// regular file or folder (a pipe: `<(pg_dump …)`, `/dev/stdin`, a FIFO) can be read only
    /// once, while format detection, checksum and restore each read it: it is copied into a
    /// temporary file first, and an empty pipe is refused (it would restore, and cache, an
    /// empty database).
    pub fn inspect(path: &Path) -> Result<Dump> {
        let spooled = match fs::metadata(path) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => Some(spool(path)?),
            _ => None,
        };
        let read_path = spooled.as_ref().map_or(path, |s| s.file.as_path());
        let format = detect_format(read_path)?;
        let (bytes, checksum) = checksum(read_path)
            .with_context(|| format!("Failed to read the dump {}", path.display()))?;
        // psql runs a plain dump's meta-commands: refuse a hostile one before anything runs.
        if matches!(format, DumpFormat::Plain | DumpFormat::GzipPlain) {
            let reader = plain_reader(read_path)
                .with_context(|| format!("Failed to read the dump {}", path.display()))?;
            super::dump_scan::check(path, reader)?;
        }
        Ok(Dump {
            path: read_path.to_path_buf(),
            format,
            bytes,
            checksum,
            spooled: spooled.map(std::sync::Arc::new),
        })
    }

    /// `fixtures/dumps/shop.dump (custom format, 12.3 MB)`.
    pub fn describe(&self) -> String {
        let shown = self.spooled.as_ref().map_or(&self.path, |s| &s.given);
        format!(
            "{} ({}, {})",
            shown.display(),
            self.format,
            human_bytes(self.bytes)
        )
    }
}

/// Copies a pipe's contents into a private temporary file.
fn spool(path: &Path) -> Result<Spooled> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let file = std::env::temp_dir().join(format!("migsafe-dump-{}-{nanos:x}", std::process::id()));
    let spooled = Spooled {
        given: path.to_path_buf(),
        file,
    };
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&spooled.file)
        .with_context(|| {
            format!(
                "Failed to copy the dump {} (a pipe) into {}",
                path.display(),
                spooled.file.display()
            )
        })?;
    let mut input = fs::File::open(path)
        .with_context(|| format!("Failed to read the dump {}", path.display()))?;
    let copied = std::io::copy(&mut input, &mut out).with_context(|| {
        format!(
            "Failed to copy the dump {} (a pipe) into {}",
            path.display(),
            spooled.file.display()
        )
    })?;
    if copied == 0 {
        bail!(
            "Failed to read the dump {}: it is a pipe and nothing came through it (was it \
             empty, or already read?). Give the dump as a file, or check the command feeding it",
            path.display()
        );
    }
    Ok(spooled)
}

/// Recognises the format from the first bytes (or `toc.dat` for a folder).
pub fn detect_format(path: &Path) -> Result<DumpFormat> {
    let meta = fs::metadata(path)
        .with_context(|| format!("Failed to read the dump {}", path.display()))?;
    if meta.is_dir() {
        if path.join("toc.dat").is_file() {
            return Ok(DumpFormat::Directory);
        }
        bail!(
            "Failed to read the dump {}: it is a folder without toc.dat, so not a \
             directory-format pg_dump (pg_dump -Fd)",
            path.display()
        );
    }
    let mut head = Vec::with_capacity(512);
    fs::File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .with_context(|| format!("Failed to read the dump {}", path.display()))?;
    if head.starts_with(b"PGDMP") {
        return Ok(DumpFormat::Custom);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inner = Vec::with_capacity(5);
        let file = fs::File::open(path)
            .with_context(|| format!("Failed to read the dump {}", path.display()))?;
        let _ = flate2::read::MultiGzDecoder::new(file)
            .take(5)
            .read_to_end(&mut inner);
        return Ok(if inner.starts_with(b"PGDMP") {
            DumpFormat::GzipCustom
        } else {
            DumpFormat::GzipPlain
        });
    }
    if head.get(257..262) == Some(b"ustar".as_slice()) {
        return Ok(DumpFormat::Tar);
    }
    if head.is_empty() {
        bail!(
            "Failed to read the dump {}: the file is empty",
            path.display()
        );
    }
    Ok(DumpFormat::Plain)
}

fn checksum(path: &Path) -> Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    if path.is_dir() {
        let mut files = Vec::new();
        collect_files(path, path, &mut files)?;
        files.sort();
        for relative in files {
            let full = path.join(&relative);
            let len = fs::metadata(&full)?.len();
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update(len.to_le_bytes());
            total += hash_file(&full, &mut hasher)?;
        }
    } else {
        total = hash_file(path, &mut hasher)?;
    }
    Ok((total, hex(&hasher.finalize())))
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_path_buf());
        }
    }
    Ok(())
}

fn hash_file(path: &Path, hasher: &mut Sha256) -> Result<u64> {
    let mut file = fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(buffer.get(..n).unwrap_or_default());
        total += n as u64;
    }
}

/// Where to restore: the cluster migsafe started, or a server given by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// A local cluster listening on a socket in `run_dir`, superuser `postgres`, trust auth.
    Local { run_dir: PathBuf },
    /// Any server; the URL's database is the maintenance database used to create others.
    Remote { url: String },
}

/// Command-line arguments and environment variables for a libpq tool.
pub type ClientArgs = (Vec<OsString>, Vec<(String, String)>);

impl Server {
    /// The sqlx URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        match self {
            Server::Local { run_dir } => format!(
                "postgres://{SUPERUSER}@localhost/{db}?host={}",
                run_dir.display()
            ),
            Server::Remote { url } => with_database(url, db),
        }
    }

    /// The maintenance database's URL.
    pub fn admin_url(&self) -> String {
        match self {
            Server::Local { .. } => self.url("postgres"),
            Server::Remote { url } => url.clone(),
        }
    }

    /// Arguments and environment for psql / pg_restore. Every setting of a URL goes into
    /// `PG*` environment variables (`evidence::conninfo::libpq_env`), none on the command
    /// line, where any user could read a password with `ps`.
    pub fn client_args(&self, db: &str) -> Result<ClientArgs> {
        match self {
            Server::Local { run_dir } => Ok((
                vec![
                    "-h".into(),
                    run_dir.clone().into_os_string(),
                    "-U".into(),
                    SUPERUSER.into(),
                    "-d".into(),
                    db.into(),
                ],
                Vec::new(),
            )),
            // pg_restore insists on -d; a `dbname='…'` conninfo names only the database (a
            // bare name that looked like a URL or held '=' would be read as a conninfo).
            Server::Remote { url } => Ok((
                vec!["-d".into(), super::conninfo::dbname_conninfo(db).into()],
                super::conninfo::libpq_env(url, db)?,
            )),
        }
    }
}

/// `url` pointing at database `name` instead, keeping user, host, port and parameters.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (url.get(..q).unwrap_or(url), url.get(q..).unwrap_or("")),
        None => (url, ""),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base
        .get(authority_start..)
        .and_then(|rest| rest.find('/'))
        .map(|i| authority_start + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", base.get(..path_start).unwrap_or(base))
}

/// Quotes an identifier for SQL.
pub fn quote_ident(name: &str) -> String {
    crate::quote::ident(name)
}

/// Restores `dump` into the existing, empty database `db` on `server` with the tools of
/// `bins`, using `jobs` parallel workers where the format allows (custom, directory).
pub async fn restore_into(
    dump: &Dump,
    bins: &PgBinaries,
    server: &Server,
    db: &str,
    jobs: usize,
) -> Result<()> {
    if matches!(
        dump.format,
        DumpFormat::Custom | DumpFormat::Directory | DumpFormat::Tar | DumpFormat::GzipCustom
    ) {
        let (path, tool, gzip) = (
            dump.path.clone(),
            bins.tool("pg_restore"),
            dump.format == DumpFormat::GzipCustom,
        );
        tokio::task::spawn_blocking(move || super::dump_scan::check_archive(&path, &tool, gzip))
            .await
            .context("Failed to check the dump: the task failed")??;
    }
    let (conn_args, env) = server.client_args(db)?;
    let (tool, args, stdin_source): (&str, Vec<OsString>, Option<PathBuf>) = match dump.format {
        DumpFormat::Custom | DumpFormat::Directory | DumpFormat::Tar => {
            let mut args: Vec<OsString> = vec![
                "--no-owner".into(),
                "--no-privileges".into(),
                // A subscription lives in the server's pg_subscription, not in the database.
                "--no-subscriptions".into(),
                "--exit-on-error".into(),
            ];
            // Tar archives cannot be restored in parallel (pg_restore's rule).
            if jobs > 1 && dump.format != DumpFormat::Tar {
                args.push(format!("--jobs={jobs}").into());
            }
            args.extend(conn_args);
            args.push(dump.path.clone().into_os_string());
            ("pg_restore", args, None)
        }
        DumpFormat::GzipCustom => {
            let mut args: Vec<OsString> = vec![
                "--no-owner".into(),
                "--no-privileges".into(),
                // A subscription lives in the server's pg_subscription, not in the database.
                "--no-subscriptions".into(),
                "--exit-on-error".into(),
            ];
            args.extend(conn_args);
            ("pg_restore", args, Some(dump.path.clone()))
        }
        DumpFormat::Plain | DumpFormat::GzipPlain => {
            if let Server::Local { .. } = server {
                create_missing_roles(dump, server).await?;
            }
            let mut args: Vec<OsString> = vec![
                "-X".into(),
                "-q".into(),
                "-v".into(),
                "ON_ERROR_STOP=1".into(),
            ];
            args.extend(conn_args);
            if dump.format == DumpFormat::Plain {
                args.push("-f".into());
                args.push(dump.path.clone().into_os_string());
                ("psql", args, None)
            } else {
                ("psql", args, Some(dump.path.clone()))
            }
        }
    };
    let mut command = tokio::process::Command::new(bins.tool(tool));
    command
        .args(&args)
        .envs(env)
        // NOTICEs of a big plain dump would only fill the error buffer. psql lexes strings
        // as the server's standard_conforming_strings says; the dump scan assumed on.
        .env(
            "PGOPTIONS",
            "-c client_min_messages=warning -c standard_conforming_strings=on",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let feeder = match &stdin_source {
        Some(path) => {
            let (reader, writer) = std::io::pipe().context("Failed to create a pipe")?;
            command.stdin(reader);
            Some((path.clone(), writer))
        }
        None => {
            command.stdin(Stdio::null());
            None
        }
    };
    let mut child = command
        .spawn()
        .with_context(|| format!("Failed to run {}", bins.tool(tool).display()))?;
    // The command holds the read end; drop it here so psql sees EOF when the feeder ends.
    drop(command);
    let feeding = feeder.map(|(path, writer)| {
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let file = fs::File::open(&path)?;
            let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(file));
            let mut writer = writer;
            std::io::copy(&mut decoder, &mut writer)?;
            writer.flush()
        })
    });
    let mut stderr = child.stderr.take();
    let collect = async move {
        let mut kept: Vec<u8> = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = err.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(buffer.get(..n).unwrap_or_default());
                // Keep the end, where the error that stopped the restore is.
                if kept.len() > 256 * 1024 {
                    let cut = kept.len() - 128 * 1024;
                    kept.drain(..cut);
                }
            }
        }
        kept
    };
    let (status, kept) = tokio::join!(child.wait(), collect);
    let status = status.with_context(|| format!("Failed to wait for {tool}"))?;
    let feed_error = match feeding {
        Some(task) => match task.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        },
        None => None,
    };
    let output = String::from_utf8_lossy(&kept).into_owned();
    if status.success() && feed_error.is_none() {
        return Ok(());
    }
    Err(restore_error(
        dump, bins, server, db, tool, &output, feed_error,
    ))
}

/// Turns a failed restore into a message naming the file and saying what to do.
fn restore_error(
    dump: &Dump,
    bins: &PgBinaries,
    server: &Server,
    db: &str,
    tool: &str,
    output: &str,
    feed_error: Option<String>,
) -> anyhow::Error {
    let path = dump.path.display();
    let tail = tail_lines(output, 12);
    if let Some(said) = connection_lost_in(output) {
        // The server went away mid-restore: a fault of the run, not of the dump, reported like
        // every other lost connection (exit 2, what was left behind added by the caller).
        return super::lost::ConnectionLost {
            cause: format!("{tool} restoring {path}: {said}"),
            left_behind: Vec::new(),
        }
        .into();
    }
    if output.contains("unsupported version") {
        let made_by = archive_version(&dump.path)
            .map(|(major, minor)| {
                format!(
                    "archive format {major}.{minor}, written by {}",
                    pg_dump_for_archive(major, minor)
                )
            })
            .unwrap_or_else(|| "a newer archive format".to_string());
        return anyhow!(
            "Failed to restore {path}: it was made by a newer pg_dump ({made_by}) than this \
             pg_restore (pg_restore {}, in {}). Install the PostgreSQL client tools of that version or \
             newer and point PG_BIN at them, or re-dump with pg_dump {}.\n{tail}",
            bins.version.split_once(") ").map_or(bins.version.as_str(), |(_, v)| v),
            bins.dir.display(),
            bins.major
        );
    }
    if let Some(e) = feed_error.filter(|_| output.trim().is_empty()) {
        return anyhow!("Failed to restore {path}: the gzip stream is corrupt or truncated ({e})");
    }
    const CORRUPT: [&str; 7] = [
        "input file does not appear to be a valid archive",
        "did not find magic string",
        "unexpected end of file",
        "could not read from input file",
        "could not find block ID",
        "corrupt",
        "invalid compression code",
    ];
    if CORRUPT.iter().any(|c| output.contains(c)) {
        return anyhow!(
            "Failed to restore {path}: the dump is corrupt or truncated ({}, {}):\n{tail}",
            dump.format,
            human_bytes(dump.bytes)
        );
    }
    let place = match server {
        Server::Local { run_dir } => run_dir.clone(),
        Server::Remote { .. } => PathBuf::from("the server's data directory"),
    };
    let disk = disk_full_hint(output, &place);
    let mut newer = String::new();
    if matches!(dump.format, DumpFormat::Plain | DumpFormat::GzipPlain) {
        if let Some(major) = plain_dump_major(&dump.path) {
            if major > bins.major {
                newer = format!(
                    " (the dump was made by pg_dump {major}, newer than this PostgreSQL {}: \
                     its SQL may use what {} does not know)",
                    bins.major, bins.major
                );
            }
        }
    }
    let shown = super::connect::redact_url(&server.url(db));
    anyhow!(
        "Failed to restore {path} ({}) into {shown}: {tool} failed{disk}{newer}:\n{tail}",
        dump.format
    )
}

/// The line of psql's or pg_restore's output saying the server went away, if one does
/// (libpq's and the backend's own wording for a closed socket, a shutdown or a crash).
fn connection_lost_in(output: &str) -> Option<&str> {
    const LOST: [&str; 6] = [
        "server closed the connection unexpectedly",
        "terminating connection due to administrator command",
        "terminating connection because of crash of another server process",
        "the database system is shutting down",
        "no connection to the server",
        "connection to server was lost",
    ];
    output
        .lines()
        .find(|line| LOST.iter().any(|l| line.contains(l)))
        .map(str::trim)
}

/// The archive version in a custom-format header: `PGDMP`, major, minor, revision.
fn archive_version(path: &Path) -> Option<(u8, u8)> {
    let file = if path.is_dir() {
        path.join("toc.dat")
    } else {
        path.to_path_buf()
    };
    let mut head = [0u8; 8];
    fs::File::open(file).ok()?.read_exact(&mut head).ok()?;
    if !head.starts_with(b"PGDMP") {
        return None;
    }
    Some((head[5], head[6]))
}

/// Which pg_dump writes an archive version (PostgreSQL's pg_backup_archiver.h history).
fn pg_dump_for_archive(major: u8, minor: u8) -> &'static str {
    match (major, minor) {
        (1, 14) => "pg_dump 12 to 15",
        (1, 15) => "pg_dump 16",
        (1, 16) => "pg_dump 17 or newer",
        _ => "a newer pg_dump",
    }
}

/// `17` from a plain dump's `-- Dumped by pg_dump version 17.2` header line.
fn plain_dump_major(path: &Path) -> Option<u32> {
    let mut head = String::new();
    plain_reader(path)
        .ok()?
        .take(8192)
        .read_to_string(&mut head)
        .ok()?;
    let line = head
        .lines()
        .find(|l| l.starts_with("-- Dumped by pg_dump version "))?;
    line.trim_start_matches("-- Dumped by pg_dump version ")
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The SQL text of a plain dump, decompressing gzip on the fly.
fn plain_reader(path: &Path) -> Result<Box<dyn Read + Send>> {
    let mut file = fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let file = fs::File::open(path)?;
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Roles named by `ALTER … OWNER TO`, `GRANT … TO` and `REVOKE … FROM` lines of a plain dump.
fn roles_in_plain_dump(path: &Path) -> Result<BTreeSet<String>> {
    let reader = BufReader::new(plain_reader(path)?);
    let mut roles = BTreeSet::new();
    for line in reader.split(b'\n') {
        let line = line?;
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        let keyword = if line.starts_with("ALTER ") {
            " OWNER TO "
        } else if line.starts_with("GRANT ") {
            " TO "
        } else if line.starts_with("REVOKE ") {
            " FROM "
        } else {
            continue;
        };
        if let Some(role) = line
            .rfind(keyword)
            .and_then(|at| line.get(at + keyword.len()..))
            .and_then(role_token)
        {
            roles.insert(role);
        }
    }
    Ok(roles)
}

/// The role name at the start of `text` (`app;`, `"Data Team";`, `app WITH GRANT OPTION;`).
fn role_token(text: &str) -> Option<String> {
    let text = text.trim_start();
    let name = if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        quoted.get(..end)?.to_string()
    } else {
        let end = text
            .find(|c: char| c == ';' || c == ',' || c.is_whitespace())
            .unwrap_or(text.len());
        let name = text.get(..end)?;
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "public" | "current_user" | "session_user" | "current_role" | "group" | ""
        ) {
            return None;
        }
        lower
    };
    Some(name)
}

/// On a cluster migsafe owns, creates (NOLOGIN) the roles a plain dump assigns ownership or
/// privileges to, so that those statements succeed instead of stopping the restore.
async fn create_missing_roles(dump: &Dump, server: &Server) -> Result<()> {
    let path = dump.path.clone();
    let roles = tokio::task::spawn_blocking(move || roles_in_plain_dump(&path))
        .await
        .context("Failed to scan the dump for roles")?
        .with_context(|| format!("Failed to read the dump {}", dump.path.display()))?;
    if roles.is_empty() {
        return Ok(());
    }
    let mut conn = super::conninfo::connect(&server.admin_url())
        .await
        .context("Failed to connect to the local PostgreSQL")?;
    for role in roles {
        let sql = format!(
            "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {}) THEN \
             CREATE ROLE {} NOLOGIN; END IF; END$$",
            quote_literal(&role),
            quote_ident(&role)
        );
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .with_context(|| format!("Failed to create role {role} named by the dump"))?;
    }
    let _ = conn.close().await;
    Ok(())
}

fn quote_literal(text: &str) -> String {
    crate::quote::literal(text)
}

/// `ANALYZE` of the whole database, so that plans and row estimates are real (pg_restore
/// does not analyze).
pub async fn analyze(server: &Server, db: &str) -> Result<()> {
    let mut conn = super::conninfo::connect(&server.url(db))
        .await
        .with_context(|| format!("Failed to connect to database {db} to ANALYZE it"))?;
    sqlx::raw_sql("SET statement_timeout = 0; ANALYZE")
        .execute(&mut conn)
        .await
        .with_context(|| format!("Failed to ANALYZE database {db}"))?;
    let _ = conn.close().await;
    Ok(())
}

/// `12.3 MB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS.get(unit).copied().unwrap_or("B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn recognises_formats_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let plain = write(
            dir.path(),
            "a.dump",
            b"-- PostgreSQL database dump\nSELECT 1;\n",
        );
        assert_eq!(detect_format(&plain).unwrap(), DumpFormat::Plain);
        let custom = write(dir.path(), "a.sql", b"PGDMP\x01\x0e\x00rest");
        assert_eq!(detect_format(&custom).unwrap(), DumpFormat::Custom);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"CREATE TABLE t ();\n").unwrap();
        let gz = write(dir.path(), "b", &gz.finish().unwrap());
        assert_eq!(detect_format(&gz).unwrap(), DumpFormat::GzipPlain);
        let folder = dir.path().join("d");
        fs::create_dir(&folder).unwrap();
        write(&folder, "toc.dat", b"PGDMP");
        assert_eq!(detect_format(&folder).unwrap(), DumpFormat::Directory);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        let tar = write(dir.path(), "t", &tar);
        assert_eq!(detect_format(&tar).unwrap(), DumpFormat::Tar);
    }

    #[test]
    fn empty_files_and_plain_folders_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.sql", b"");
        let err = detect_format(&empty).unwrap_err().to_string();
        assert!(err.contains("empty.sql") && err.contains("empty"), "{err}");
        let err = detect_format(dir.path()).unwrap_err().to_string();
        assert!(err.contains("toc.dat"), "{err}");
    }

    #[test]
    fn checksums_follow_content_not_names() {
        let dir = tempfile::tempdir().unwrap();
        let a = Dump::inspect(&write(dir.path(), "a.sql", b"SELECT 1;")).unwrap();
        let b = Dump::inspect(&write(dir.path(), "b.sql", b"SELECT 1;")).unwrap();
        let c = Dump::inspect(&write(dir.path(), "c.sql", b"SELECT 2;")).unwrap();
        assert_eq!(a.checksum, b.checksum);
        assert_ne!(a.checksum, c.checksum);
        assert_eq!(a.bytes, 9);
    }

    #[test]
    fn finds_roles_a_plain_dump_needs() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "p.sql",
            b"ALTER TABLE public.t OWNER TO app;\nGRANT SELECT ON TABLE public.t TO \"Read Only\";\n\
              REVOKE ALL ON SCHEMA public FROM PUBLIC;\nGRANT ALL ON SCHEMA public TO public;\n",
        );
        let roles: Vec<String> = roles_in_plain_dump(&path).unwrap().into_iter().collect();
        assert_eq!(roles, vec!["Read Only".to_string(), "app".to_string()]);
    }

    #[test]
    fn urls_switch_database() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }

    /// What psql prints when the server is killed or shut down mid-restore is a lost
    /// connection, not a broken dump; an ordinary SQL error is neither.
    #[test]
    fn a_server_gone_mid_restore_is_a_lost_connection() {
        let killed = "psql:/tmp/d.sql:1204: server closed the connection unexpectedly\n\
                      \tThis probably means the server terminated abnormally\n";
        assert_eq!(
            connection_lost_in(killed),
            Some("psql:/tmp/d.sql:1204: server closed the connection unexpectedly")
        );
        let shutdown = "pg_restore: error: could not execute query: FATAL:  terminating \
                        connection due to administrator command\n";
        assert!(connection_lost_in(shutdown).is_some());
        let sql_error = "psql:/tmp/d.sql:12: ERROR:  relation \"x\" does not exist\n";
        assert_eq!(connection_lost_in(sql_error), None);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn archive_versions_name_their_pg_dump() {
        assert_eq!(pg_dump_for_archive(1, 16), "pg_dump 17 or newer");
        assert_eq!(pg_dump_for_archive(1, 99), "a newer pg_dump");
    }
}
