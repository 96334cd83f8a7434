//! A private PostgreSQL cluster for one test: `initdb` into a temporary directory, a postmaster
//! on a free TCP port (and a Unix socket in the same directory), optional TLS with a
//! self-signed CA and server certificate, optional password authentication for a role of its
//! own, and start / stop / `kill -9` / restart. `Drop` stops the server and removes every file.
//!
//! Tests that kill, restart or reconfigure a server use this, never the shared server on 5432
//! (notes/HELPERS.md). As root, PostgreSQL refuses to run, so the server binaries run as the
//! `postgres` OS user and the directory is chowned to it; client tools keep running as us.
//!
//! The certificates are made with the `openssl` command (no crate): a CA, and a server
//! certificate signed by it for `localhost` only (DNS SAN, no IP SAN), so that `verify-full`
//! against `127.0.0.1` fails the way libpq's does and against `localhost` succeeds.
//!
//! Everything that cannot be set up fails the test loudly with what to install, never a skip.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The superuser of every private cluster (trusted over the socket and over TCP from
/// loopback, so a test can always administer its own server).
pub const SUPERUSER: &str = "postgres";

/// What the private cluster should offer.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// `ssl=on` with a server certificate signed by the cluster's own CA.
    pub tls: bool,
    /// A login role with this password, authenticated with scram-sha-256 over TCP.
    pub password_role: Option<(String, String)>,
    /// Refuse non-TLS TCP connections of the password role (`hostnossl … reject`), so a
    /// client that does not negotiate TLS cannot get in.
    pub tls_only: bool,
    /// Extra `postgresql.conf` lines.
    pub settings: Vec<String>,
}

impl ClusterOptions {
    /// TLS on, and a password role `app` with password `password`.
    pub fn tls_with_password(password: &str) -> ClusterOptions {
        ClusterOptions {
            tls: true,
            password_role: Some(("app".to_string(), password.to_string())),
            ..ClusterOptions::default()
        }
    }
}

/// Files of the cluster's TLS setup.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the server certificate (what `sslrootcert` should point at).
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A second CA that did not sign anything here (a wrong `sslrootcert`).
    pub other_ca_cert: PathBuf,
}

/// A running (or stopped) private cluster, removed on `Drop`.
pub struct PrivateCluster {
    dir: tempfile::TempDir,
    data: PathBuf,
    port: u16,
    bin: PathBuf,
    postmaster: Option<Child>,
    pub tls: Option<TlsFiles>,
    pub options: ClusterOptions,
}

impl PrivateCluster {
    /// Creates and starts a cluster with `options`; fails the test with instructions when
    /// PostgreSQL's server binaries or openssl are missing.
    pub fn start(options: ClusterOptions) -> PrivateCluster {
        let bin = server_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("migsafe-test-cluster-")
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("Failed to create a temporary directory in /tmp: {e}"));
        give_to_server_user(dir.path());
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))
            .unwrap_or_else(|e| panic!("Failed to make {} private: {e}", dir.path().display()));
        let data = dir.path().join("data");
        let mut cluster = PrivateCluster {
            data,
            port: free_port(),
            bin,
            postmaster: None,
            tls: None,
            options,
            dir,
        };
        cluster.initdb();
        if cluster.options.tls {
            cluster.tls = Some(make_certificates(cluster.dir.path()));
        }
        cluster.configure();
        cluster.launch();
        if let Some((role, password)) = cluster.options.password_role.clone() {
            cluster.psql(&format!(
                "CREATE ROLE \"{role}\" LOGIN CREATEDB PASSWORD '{}'",
                password.replace('\'', "''")
            ));
            cluster.psql(&format!("GRANT pg_read_all_stats TO \"{role}\""));
        }
        cluster
    }

    fn initdb(&self) {
        let pwfile = self.dir.path().join("superuser.pw");
        let status = self
            .server_command("initdb")
            .arg("-D")
            .arg(&self.data)
            .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale"])
            .arg("--no-sync")
            .stdout(Stdio::null())
            .stderr(self.log("initdb.log"))
            .status()
            .unwrap_or_else(|e| panic!("Failed to run initdb: {e}"));
        let _ = fs::remove_file(pwfile);
        assert!(
            status.success(),
            "initdb failed ({status}); its log:\n{}",
            fs::read_to_string(self.dir.path().join("initdb.log")).unwrap_or_default()
        );
    }

    /// Writes postgresql.conf additions and pg_hba.conf: trust for the superuser (socket and
    /// loopback), scram-sha-256 for everyone else over TCP.
    fn configure(&self) {
        let socket_dir = self.dir.path().display().to_string();
        let mut conf = vec![
            format!("port = {}", self.port),
            "listen_addresses = 'localhost'".to_string(),
            format!("unix_socket_directories = '{socket_dir}'"),
            "password_encryption = 'scram-sha-256'".to_string(),
            "fsync = off".to_string(),
            "logging_collector = off".to_string(),
            "max_connections = 40".to_string(),
            "shared_buffers = 16MB".to_string(),
        ];
        if let Some(tls) = &self.tls {
            conf.push("ssl = on".to_string());
            conf.push(format!("ssl_cert_file = '{}'", tls.server_cert.display()));
            conf.push(format!("ssl_key_file = '{}'", tls.server_key.display()));
            conf.push(format!("ssl_ca_file = '{}'", tls.ca_cert.display()));
        }
        conf.extend(self.options.settings.iter().cloned());
        append(&self.data.join("postgresql.conf"), &conf.join("\n"));

        let mut hba = vec![
            format!("local all {SUPERUSER} trust"),
            format!("host all {SUPERUSER} 127.0.0.1/32 trust"),
            format!("host all {SUPERUSER} ::1/128 trust"),
        ];
        if self.options.tls_only {
            hba.push("hostnossl all all 0.0.0.0/0 reject".to_string());
            hba.push("hostnossl all all ::/0 reject".to_string());
        }
        hba.push("local all all scram-sha-256".to_string());
        hba.push("host all all 127.0.0.1/32 scram-sha-256".to_string());
        hba.push("host all all ::1/128 scram-sha-256".to_string());
        fs::write(self.data.join("pg_hba.conf"), hba.join("\n") + "\n")
            .unwrap_or_else(|e| panic!("Failed to write pg_hba.conf: {e}"));
    }

    /// Starts the postmaster (in its own process group, so a test's Ctrl-C does not reach
    /// it) and waits until it accepts connections. Retries while a killed predecessor's
    /// backends still hold the shared memory.
    fn launch(&mut self) {
        assert!(
            self.postmaster.is_none(),
            "the private cluster already runs"
        );
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut child = self
                .server_command("postgres")
                .arg("-D")
                .arg(&self.data)
                .stdin(Stdio::null())
                .stdout(self.log("postgres.log"))
                .stderr(self.log("postgres.log"))
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("Failed to start postgres: {e}"));
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    if Instant::now() > deadline {
                        panic!(
                            "The private cluster did not start ({status}); its log:\n{}",
                            self.log_tail()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(300));
                    break;
                }
                if self.ready() {
                    self.postmaster = Some(child);
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "The private cluster was not ready after 90s; its log:\n{}",
                        self.log_tail()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// `ready` in postmaster.pid (what `pg_ctl -w` waits for), and our port answers.
    fn ready(&self) -> bool {
        let ready = fs::read_to_string(self.data.join("postmaster.pid"))
            .map(|t| t.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
            .unwrap_or(false);
        ready && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }

    /// Stops the server with a fast shutdown and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.postmaster.take() {
            signal(child.id(), libc::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again after [`stop`](Self::stop) or [`kill9`](Self::kill9).
    pub fn start_again(&mut self) {
        self.launch();
    }

    /// Stop, then start (same port, same data).
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// `kill -9` of the postmaster, as a crash would (its backends notice and exit; the
    /// next start runs crash recovery). Only our own child process is signalled.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.postmaster.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The postmaster's pid while it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(Child::id)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The directory holding the Unix socket (and everything else of this cluster).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `postgres://postgres@127.0.0.1:<port>/<db>` (trusted superuser over TCP).
    pub fn superuser_url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// A URL builder for this cluster, starting at host 127.0.0.1, the superuser, `postgres`.
    pub fn url(&self) -> UrlBuilder {
        UrlBuilder {
            host: "127.0.0.1".to_string(),
            port: self.port,
            user: SUPERUSER.to_string(),
            password: None,
            database: "postgres".to_string(),
            params: Vec::new(),
        }
    }

    /// The password role's URL builder (user and password set); panics when the cluster has
    /// no password role.
    pub fn password_url(&self) -> UrlBuilder {
        let (role, password) = self
            .options
            .password_role
            .clone()
            .expect("the cluster was started without a password role");
        let mut url = self.url();
        url.user = role;
        url.password = Some(password);
        url
    }

    /// Runs SQL as the superuser over the socket with psql, returning its unaligned output;
    /// fails the test when psql fails.
    pub fn psql(&self, sql: &str) -> String {
        let output = self.try_psql(sql);
        match output {
            Ok(out) => out,
            Err(e) => panic!("psql on the private cluster failed: {e}\n--- SQL ---\n{sql}"),
        }
    }

    /// Like [`psql`](Self::psql), returning psql's stderr on failure.
    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        self.try_psql_on("postgres", sql)
    }

    /// Like [`psql`](Self::psql), in database `db`.
    pub fn psql_on(&self, db: &str, sql: &str) -> String {
        match self.try_psql_on(db, sql) {
            Ok(out) => out,
            Err(e) => panic!(
                "psql on database {db} of the private cluster failed: {e}\n--- SQL ---\n{sql}"
            ),
        }
    }

    /// Like [`try_psql`](Self::try_psql), in database `db`.
    pub fn try_psql_on(&self, db: &str, sql: &str) -> Result<String, String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(self.dir.path())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", db, "-c", sql])
            .env_remove("PGPASSWORD")
            .output()
            .map_err(|e| format!("Failed to run psql: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Names of the databases on the cluster (without templates).
    pub fn databases(&self) -> Vec<String> {
        self.psql("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The last lines of the server log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn server_command(&self, tool: &str) -> Command {
        let mut command = Command::new(self.bin.join(tool));
        as_server_user(&mut command);
        command
    }

    fn log(&self, name: &str) -> fs::File {
        let path = self.dir.path().join(name);
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("Failed to open {}: {e}", path.display()));
        give_to_server_user(&path);
        file
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
        // TempDir removes the directory (as root we may remove the postgres user's files).
    }
}

/// Builds a connection URL for a private cluster; the password is percent-encoded.
#[derive(Debug, Clone)]
pub struct UrlBuilder {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    pub params: Vec<(String, String)>,
}

impl UrlBuilder {
    pub fn host(mut self, host: &str) -> Self {
        self.host = host.to_string();
        self
    }
    pub fn database(mut self, db: &str) -> Self {
        self.database = db.to_string();
        self
    }
    pub fn password(mut self, password: Option<&str>) -> Self {
        self.password = password.map(str::to_string);
        self
    }
    /// Adds a query parameter (`sslmode`, `sslrootcert`, `password`…).
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.params.push((key.to_string(), value.to_string()));
        self
    }
    /// The password as `?password=` instead of in the userinfo.
    pub fn password_in_query(mut self) -> Self {
        if let Some(password) = self.password.take() {
            self.params.push(("password".to_string(), password));
        }
        self
    }
    pub fn build(&self) -> String {
        let userinfo = match &self.password {
            Some(p) => format!("{}:{}", encode(&self.user), encode(p)),
            None => encode(&self.user),
        };
        let mut url = format!(
            "postgres://{userinfo}@{}:{}/{}",
            self.host, self.port, self.database
        );
        for (i, (key, value)) in self.params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{key}={}", encode(value)));
        }
        url
    }
}

impl std::fmt::Display for UrlBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.build())
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986) and `/` (paths in
/// `sslrootcert`).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The directory holding initdb and postgres (PG_BIN, PATH, /usr/lib/postgresql/*/bin).
fn server_bin_dir() -> PathBuf {
    match migsafe::evidence::cluster::PgBinaries::find(migsafe::evidence::cluster::Needs::Server) {
        Ok(bins) => bins.dir,
        Err(e) => panic!(
            "\n\nThis test starts a private PostgreSQL cluster and needs PostgreSQL's server \
             binaries (initdb, postgres, psql): {e:#}\n\
             Install them (Debian/Ubuntu: `apt install postgresql`) or set PG_BIN.\n"
        ),
    }
}

/// A TCP port nobody listens on right now (bind to port 0 and let the kernel choose).
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("Failed to find a free TCP port: {e}"))
}

/// The `postgres` OS user's uid and gid when we are root (PostgreSQL refuses to run as root).
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, SUPERUSER])
            .output()
            .unwrap_or_else(|e| panic!("Failed to run id: {e}"));
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| {
                panic!(
                    "We run as root, and PostgreSQL refuses to; there is no `{SUPERUSER}` OS \
                     user to run it as. Create one: `useradd --system {SUPERUSER}`"
                )
            })
    };
    Some((id("-u"), id("-g")))
}

fn as_server_user(command: &mut Command) {
    if let Some((uid, gid)) = server_user() {
        command.uid(uid).gid(gid).env("HOME", "/tmp");
    }
}

fn give_to_server_user(path: &Path) {
    if let Some((uid, gid)) = server_user() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("Failed to chown {}: {e}", path.display()));
    }
}

fn append(path: &Path, text: &str) {
    let mut current = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("Failed to read {}: {e}", path.display()));
    current.push('\n');
    current.push_str(text);
    current.push('\n');
    fs::write(path, current).unwrap_or_else(|e| panic!("Failed to write {}: {e}", path.display()));
}

fn signal(pid: u32, signal: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// A CA, a server certificate for `localhost` signed by it, and an unrelated second CA.
fn make_certificates(dir: &Path) -> TlsFiles {
    let tls = dir.join("tls");
    fs::create_dir_all(&tls).unwrap_or_else(|e| panic!("Failed to create {}: {e}", tls.display()));
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&tls)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "This test makes TLS certificates with the openssl command, which could not \
                     run ({e}); install it (Debian/Ubuntu: `apt install openssl`)"
                )
            });
        assert!(
            output.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for ca in ["ca", "other-ca"] {
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=migsafe test {ca}"),
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
        ]);
    }
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    fs::write(
        tls.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap_or_else(|e| panic!("Failed to write server.ext: {e}"));
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    let key = tls.join("server.key");
    // PostgreSQL refuses a key readable by others, or one owned by another user.
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("Failed to chmod {}: {e}", key.display()));
    for entry in fs::read_dir(&tls).into_iter().flatten().flatten() {
        give_to_server_user(&entry.path());
    }
    give_to_server_user(&tls);
    TlsFiles {
        ca_cert: tls.join("ca.crt"),
        server_cert: tls.join("server.crt"),
        server_key: key,
        other_ca_cert: tls.join("other-ca.crt"),
    }
}
