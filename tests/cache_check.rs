//! The cache checks a cached template before a run uses it, and rebuilds a damaged one from
//! the dump (issue #9, item 4): rows deleted, a relation dropped, a relation file cut short
//! on disk, a record missing or unreadable, a restore killed half-way. Each time the next
//! run says why on stderr and in the report's phases, restores the dump again, and reports
//! exactly the findings of a run on a freshly restored copy; an intact template is reused.
//!
//! Every test has its own cache directory (`MIGSAFE_CACHE_DIR`), so its cluster and
//! templates are its own; the damage is done to that cluster (started here with migsafe's
//! own `LocalCluster` between runs) or to a private cluster (tests/common/cluster.rs) for
//! templates kept on a `--database-url` server.

mod common;

use migsafe::evidence::cache::{self, CacheLock};
use migsafe::evidence::cluster::{DataDir, LocalCluster, Needs, PgBinaries};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A plain SQL dump whose data the migration's findings depend on: 1000 accounts whose
/// emails repeat (so the unique index fails on the copy, naming a duplicate), and a second
/// index the new one makes redundant.
const DUMP: &str = "\
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, note text);
INSERT INTO accounts SELECT g, 'user' || (g % 900) || '@example.com', repeat('n', 200)
  FROM generate_series(1, 1000) g;
CREATE INDEX accounts_email ON accounts (email);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint, total numeric);
INSERT INTO orders SELECT g, 1 + g % 1000, g FROM generate_series(1, 5000) g;
";

const MIGRATION: &str = "\
-- owner: @shop
-- rollback: DROP INDEX accounts_email_key;
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);
";

/// A project folder (migrations, the dump, the cache) the postgres user can enter: as root
/// the cached cluster runs as that user.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/001_unique_email.sql"),
        MIGRATION,
    )
    .unwrap();
    std::fs::write(dir.path().join("shop.sql"), DUMP).unwrap();
    dir
}

fn cache_of(project: &Path) -> PathBuf {
    project.join("cache")
}

fn migsafe(project: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(project)
        .args(["check", "--restore", "shop.sql", "--format", "json"])
        .args(extra)
        .arg("migrations")
        .env_remove("MIGSAFE_DATABASE_URL")
        .env("MIGSAFE_CACHE_DIR", cache_of(project))
        .stdin(Stdio::null())
        .output()
        .expect("migsafe runs")
}

/// One review on the restored dump: its report and its stderr.
struct Run {
    report: Value,
    stderr: String,
}

fn review(project: &Path, extra: &[&str]) -> Run {
    let output = migsafe(project, extra);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_ne!(
        output.status.code(),
        Some(2),
        "the review should run:\n{stderr}\n{stdout}"
    );
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}\n{stderr}"));
    Run { report, stderr }
}

impl Run {
    /// What a reader compares between two runs: every finding without its timings.
    fn findings(&self) -> Vec<Value> {
        let mut findings: Vec<Value> = self.report["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for finding in &mut findings {
            if let Some(facts) = finding.get_mut("facts").and_then(Value::as_object_mut) {
                facts.retain(|key, _| !key.ends_with("_ms"));
            }
        }
        findings
    }

    fn phases(&self) -> Vec<(String, String)> {
        self.report["phases"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_string(),
                    p["detail"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    fn phase(&self, name: &str) -> Option<String> {
        self.phases()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
    }

    fn restored(&self) -> bool {
        self.phase("restore").is_some()
    }

    /// Asserts this run found the template damaged for `why`, said so on stderr and in its
    /// phases, and restored the dump again.
    fn assert_rebuilt_because(&self, why: &str) {
        let phases = self.phases();
        let verify = self
            .phase("verify-template")
            .unwrap_or_else(|| panic!("no verify-template phase: {phases:#?}"));
        assert!(
            verify.starts_with("cached template migsafe_tpl_pg") && verify.contains(" damaged: "),
            "{verify}"
        );
        assert!(verify.contains(why), "expected {why:?} in: {verify}");
        assert!(verify.ends_with("; rebuilt from the dump"), "{verify}");
        // stderr shows paths as they are, the report relative to the project.
        assert!(
            self.stderr
                .lines()
                .any(|l| l.starts_with("migsafe: cached template ")
                    && l.contains(" damaged: ")
                    && l.contains(why)
                    && l.ends_with("; rebuilt from the dump")),
            "stderr does not say why: {}",
            self.stderr
        );
        assert!(
            self.restored(),
            "the dump was not restored again: {phases:#?}"
        );
    }

    /// Asserts this run cloned the cached template after checking it, without restoring.
    fn assert_reused(&self) {
        let phases = self.phases();
        assert!(!self.restored(), "restored again: {phases:#?}");
        let clone = self.phase("clone-template").unwrap_or_default();
        assert!(clone.starts_with("cache hit: template "), "{phases:#?}");
        let verify = self
            .phase("verify-template")
            .unwrap_or_else(|| panic!("the template was not checked: {phases:#?}"));
        assert!(verify.contains("as recorded"), "{verify}");
        assert!(!self.stderr.contains("damaged"), "{}", self.stderr);
    }
}

/// The findings of a run on a freshly restored copy (no cache).
fn fresh_findings(project: &Path) -> Vec<Value> {
    let fresh = review(project, &["--no-cache"]);
    assert!(fresh.restored());
    let findings = fresh.findings();
    // The data shows: the unique index fails on a duplicate email.
    assert!(
        findings.iter().any(|f| f["rule"] == "fails-on-copy"),
        "{findings:#?}"
    );
    findings
}

/// The cached cluster of a project, started between runs to damage what it holds.
struct Cached {
    cluster: LocalCluster,
    _lock: CacheLock,
    template: String,
}

impl Cached {
    async fn start(project: &Path) -> Cached {
        let cache = cache_of(project);
        let lock = CacheLock::try_acquire(&cache)
            .unwrap()
            .expect("no migsafe run holds the cache now");
        let bins = PgBinaries::find(Needs::Server).unwrap();
        let data = cache::clusters_dir(&cache).join(format!("pg{}", bins.major));
        let cluster = LocalCluster::start(bins, DataDir::Persistent(data))
            .await
            .unwrap();
        let listing = cache::list(&cache).unwrap();
        let template = match listing.templates.as_slice() {
            [one] => one.name.clone(),
            other => panic!("expected one cached template, found {other:?}"),
        };
        Cached {
            cluster,
            _lock: lock,
            template,
        }
    }

    async fn execute(&self, db: &str, sql: &str) -> String {
        let mut conn = PgConnection::connect(&self.cluster.url(db)).await.unwrap();
        let rows: Vec<(Option<String>,)> = sqlx::query_as(AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.unwrap();
        rows.into_iter()
            .filter_map(|(r,)| r)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Runs `sql` inside the template, allowing connections for it, as someone who
    /// mistook the template for an ordinary database would. `forbid_again`: set
    /// `ALLOW_CONNECTIONS false` afterwards, hiding that anyone was there.
    async fn inside_template(&self, sql: &str, forbid_again: bool) {
        let t = &self.template;
        self.execute(
            "postgres",
            &format!("ALTER DATABASE {t} ALLOW_CONNECTIONS true"),
        )
        .await;
        let mut conn = PgConnection::connect(&self.cluster.url(t)).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.unwrap();
        if forbid_again {
            self.execute(
                "postgres",
                &format!("ALTER DATABASE {t} ALLOW_CONNECTIONS false"),
            )
            .await;
        }
    }

    /// The file of relation `name` of the template, from its record and the template's oid.
    async fn file_of(&self, project: &Path, name: &str) -> PathBuf {
        let listing = cache::list(&cache_of(project)).unwrap();
        let record = listing.templates.first().unwrap();
        let relation = record
            .fingerprint
            .as_ref()
            .expect("the record holds a fingerprint")
            .relations
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} is not in the record"))
            .clone();
        let oid = self
            .execute(
                "postgres",
                &format!(
                    "SELECT oid::text FROM pg_database WHERE datname = '{}'",
                    self.template
                ),
            )
            .await;
        self.cluster
            .data_dir()
            .join("base")
            .join(oid)
            .join(relation.file.unwrap().to_string())
    }

    async fn stop(self) {
        self.cluster.shutdown().await.unwrap();
    }
}

/// Builds the cache with a first run, which must report what a fresh copy reports.
fn first_run(project: &Path, fresh: &[Value]) {
    let first = review(project, &[]);
    assert!(first.restored());
    assert_eq!(first.findings(), fresh);
}

#[tokio::test]
async fn an_intact_template_is_checked_and_reused_without_restoring() {
    let project = project();
    let fresh = fresh_findings(project.path());
    first_run(project.path(), &fresh);
    let again = review(project.path(), &[]);
    again.assert_reused();
    let verify = again.phase("verify-template").unwrap();
    assert!(
        verify.contains("it accepts no connections, so its rows cannot have changed"),
        "{verify}"
    );
    assert_eq!(again.findings(), fresh);

    // Someone allowed connections and only looked: the rows are counted, and match.
    let cached = Cached::start(project.path()).await;
    cached
        .inside_template("SELECT count(*) FROM accounts", false)
        .await;
    cached.stop().await;
    let looked_at = review(project.path(), &[]);
    looked_at.assert_reused();
    let verify = looked_at.phase("verify-template").unwrap();
    assert!(
        verify.contains("6000 rows as recorded (the template accepts connections"),
        "{verify}"
    );
    assert_eq!(looked_at.findings(), fresh);
}

#[tokio::test]
async fn deleted_rows_in_the_template_are_found_and_the_template_is_rebuilt() {
    let project = project();
    let fresh = fresh_findings(project.path());
    first_run(project.path(), &fresh);
    let cached = Cached::start(project.path()).await;
    cached
        .inside_template("DELETE FROM accounts WHERE id > 100", false)
        .await;
    cached.stop().await;

    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because("table public.accounts has 100 rows, 1000 recorded");
    assert_eq!(rebuilt.findings(), fresh);
    // The rebuilt template is trusted again.
    review(project.path(), &[]).assert_reused();
}

#[tokio::test]
async fn a_dropped_index_is_found_even_when_connections_were_forbidden_again() {
    let project = project();
    let fresh = fresh_findings(project.path());
    first_run(project.path(), &fresh);
    let cached = Cached::start(project.path()).await;
    cached
        .inside_template("DROP INDEX accounts_email", true)
        .await;
    cached.stop().await;

    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because("index public.accounts_email is missing");
    assert_eq!(rebuilt.findings(), fresh);
}

#[tokio::test]
async fn a_relation_file_cut_short_on_disk_is_found_and_the_template_is_rebuilt() {
    let project = project();
    let fresh = fresh_findings(project.path());
    first_run(project.path(), &fresh);

    // The table's file keeps its first two pages, as a full disk or a bad copy could leave it.
    let cached = Cached::start(project.path()).await;
    let heap = cached.file_of(project.path(), "public.accounts").await;
    cached.stop().await;
    let file = std::fs::OpenOptions::new().write(true).open(&heap).unwrap();
    file.set_len(2 * 8192).unwrap();
    drop(file);
    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because("table public.accounts has ");
    assert!(
        rebuilt
            .phase("verify-template")
            .unwrap()
            .contains("rows, 1000 recorded"),
        "{:?}",
        rebuilt.phases()
    );
    assert_eq!(rebuilt.findings(), fresh);

    // An index cut short is caught by its size alone.
    let cached = Cached::start(project.path()).await;
    let index = cached
        .file_of(project.path(), "public.accounts_email")
        .await;
    cached.stop().await;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap();
    file.set_len(8192).unwrap();
    drop(file);
    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because("index public.accounts_email is 8192 bytes on disk");
    assert_eq!(rebuilt.findings(), fresh);
}

#[tokio::test]
async fn a_missing_or_unreadable_record_gets_the_template_rebuilt() {
    let project = project();
    let fresh = fresh_findings(project.path());
    first_run(project.path(), &fresh);
    let records = cache_of(project.path()).join("templates");
    let record = std::fs::read_dir(&records)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();

    // The report shows paths under the project relative to it.
    let shown = format!(
        "cache/templates/{}",
        record.file_name().unwrap().to_string_lossy()
    );
    std::fs::remove_file(&record).unwrap();
    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because(&format!("{shown} is missing"));
    assert_eq!(rebuilt.findings(), fresh);
    assert!(record.is_file(), "the rebuilt template has a record again");

    std::fs::write(&record, "{\"name\": \"half wri").unwrap();
    let rebuilt = review(project.path(), &[]);
    rebuilt.assert_rebuilt_because(&format!("{shown} cannot be read"));
    assert_eq!(rebuilt.findings(), fresh);
    review(project.path(), &[]).assert_reused();
}

/// Processes whose parent is `pid`, with their command names.
fn children_of(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after its ')'.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let comm = head.split_once(" (").map(|(_, c)| c).unwrap_or_default();
        let ppid = rest.split_whitespace().nth(1).unwrap_or_default();
        if ppid == pid.to_string() {
            found.push(comm.to_string());
        }
    }
    found
}

#[test]
fn a_restore_killed_half_way_leaves_no_template_the_next_run_trusts() {
    let project = project();
    // A restore slow enough to be caught half-way: the rows are in, the index is not.
    let slow = DUMP.replace(
        "CREATE INDEX accounts_email",
        "SELECT pg_sleep(3);\nCREATE INDEX accounts_email",
    );
    std::fs::write(project.path().join("shop.sql"), &slow).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(project.path())
        .args([
            "check",
            "--restore",
            "shop.sql",
            "--format",
            "json",
            "migrations",
        ])
        .env_remove("MIGSAFE_DATABASE_URL")
        .env("MIGSAFE_CACHE_DIR", cache_of(project.path()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Polls until psql restores (a guard against hanging, not a timing claim).
    let mut restoring = false;
    for _ in 0..1200 {
        if children_of(pid).iter().any(|c| c == "psql") {
            restoring = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(restoring, "psql never started restoring");
    // Kill it while psql sleeps past the rows, before the index.
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();

    let fresh = fresh_findings(project.path());
    let next = review(project.path(), &[]);
    assert!(next.restored(), "{:#?}", next.phases());
    assert!(
        next.phase("clone-template")
            .unwrap_or_default()
            .ends_with("(restored now)"),
        "{:#?}",
        next.phases()
    );
    assert_eq!(next.findings(), fresh);
}

#[tokio::test]
async fn a_damaged_template_on_a_given_server_is_rebuilt_there() {
    let cluster = common::cluster::PrivateCluster::start(Default::default());
    let project = project();
    let url = cluster.superuser_url("postgres");
    let fresh = review(project.path(), &["--no-cache", "--database-url", &url]).findings();
    assert!(
        fresh.iter().any(|f| f["rule"] == "fails-on-copy"),
        "{fresh:#?}"
    );
    let server_before = common::fingerprint::server(&cluster);

    let first = review(project.path(), &["--database-url", &url]);
    assert!(first.restored());
    assert_eq!(first.findings(), fresh);
    let template =
        cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE 'migsafe_tpl_%'");
    assert!(template.starts_with("migsafe_tpl_pg"), "{template}");
    let comment = cluster.psql(&format!(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{template}'"
    ));
    assert!(comment.contains("\"public.accounts\""), "{comment}");
    // What the run added to the server is its template, and nothing else.
    assert_eq!(
        common::fingerprint::excluding(&common::fingerprint::server(&cluster), &[&template]),
        server_before
    );

    let again = review(project.path(), &["--database-url", &url]);
    again.assert_reused();

    cluster.psql(&format!("ALTER DATABASE {template} ALLOW_CONNECTIONS true"));
    cluster.psql_on(&template, "DELETE FROM accounts WHERE id > 100");
    let rebuilt = review(project.path(), &["--database-url", &url]);
    rebuilt.assert_rebuilt_because("table public.accounts has 100 rows, 1000 recorded");
    assert_eq!(rebuilt.findings(), fresh);
    review(project.path(), &["--database-url", &url]).assert_reused();
}
