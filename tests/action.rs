//! The GitHub Action's scripts (`scripts/action/`), run as the runner runs them: with the
//! `GITHUB_*` / `RUNNER_*` environment a job has, the real migsafe binary, a real release
//! archive made by `scripts/release.sh`, and local HTTP servers standing in for GitHub's
//! release downloads and REST API (they keep comments the way GitHub does: list with
//! pagination, create, update). Only the network is replaced; the scripts are not.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const MARKER: &str = "<!-- migsafe-report -->";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

type Handler = dyn Fn(&Request, &str) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync;

/// A local HTTP/1.1 server on 127.0.0.1: one request per connection, every request recorded.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(handler: Box<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let own = base.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(request) = read_request(&stream) {
                    let (status, headers, body) = handler(&request, &own);
                    log.lock().unwrap().push(request);
                    respond(stream, status, &headers, &body);
                }
            }
        });
        Server { base, seen }
    }

    fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: text(&body),
    })
}

fn respond(mut stream: TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A job's environment: a scratch RUNNER_TEMP, GITHUB_PATH and GITHUB_OUTPUT files, and
/// no proxy for the local servers.
struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    fn new() -> Job {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("runner-temp")).unwrap();
        Job { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(REPO)
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_TEMP", self.path("runner-temp"))
            .env("GITHUB_PATH", self.path("github_path"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("GITHUB_REPOSITORY", "acme/shop")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env_remove("MIGSAFE_DATABASE_URL")
            .env_remove("GITHUB_BASE_REF");
        cmd
    }
    fn outputs(&self) -> BTreeMap<String, String> {
        std::fs::read_to_string(self.path("github_output"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

fn script(name: &str) -> String {
    format!("{REPO}/scripts/action/{name}")
}

/// PATH with the test build's migsafe first, as the install step leaves it.
fn path_with_migsafe() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_migsafe")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

// ---- install.sh ---------------------------------------------------------------------------

/// A release folder as the release workflow publishes it (archive + SHA256SUMS), made by
/// scripts/release.sh from the test build's binary.
fn release_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(format!("{REPO}/scripts/release.sh"))
        .args(["--binary", env!("CARGO_BIN_EXE_migsafe"), "--out"])
        .arg(dir.path())
        .current_dir(REPO)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

fn file_server(root: PathBuf) -> Server {
    Server::start(Box::new(move |req, _| {
        let file = root.join(req.path.trim_start_matches('/'));
        match std::fs::read(&file) {
            Ok(bytes) if req.method == "GET" => (200, vec![], bytes),
            _ => (404, vec![], b"Not Found".to_vec()),
        }
    }))
}

#[test]
fn install_downloads_the_release_archive_checks_it_and_puts_migsafe_on_path() {
    let release = release_folder();
    let server = file_server(release.path().to_path_buf());
    let job = Job::new();
    let out = job
        .command("bash")
        .arg(script("install.sh"))
        .env("MIGSAFE_INSTALL", "release")
        .env("MIGSAFE_DOWNLOAD_URL", &server.base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let added = std::fs::read_to_string(job.path("github_path")).unwrap();
    let bin = Path::new(added.trim()).join("migsafe");
    let version = Command::new(&bin).arg("--version").output().unwrap();
    let expected = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(text(&version.stdout), text(&expected.stdout));
    assert_eq!(job.outputs()["path"], bin.display().to_string());
    // The version came from the action's own Cargo.toml: archive and checksums fetched.
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p.ends_with(&format!(
            "migsafe-{}-x86_64-unknown-linux-gnu.tar.gz",
            env!("CARGO_PKG_VERSION")
        )) || p.contains("aarch64")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p == "/SHA256SUMS"), "{paths:?}");
}

#[test]
fn install_refuses_an_archive_whose_checksum_does_not_match() {
    let release = release_folder();
    let sums = release.path().join("SHA256SUMS");
    let listed = std::fs::read_to_string(&sums).unwrap();
    let (_, name) = listed.trim().split_once("  ").unwrap();
    std::fs::write(&sums, format!("{}  {name}\n", "0".repeat(64))).unwrap();
    let server = file_server(release.path().to_path_buf());
    let job = Job::new();
    let out = job
        .command("bash")
        .arg(script("install.sh"))
        .env("MIGSAFE_INSTALL", "auto")
        .env("MIGSAFE_DOWNLOAD_URL", &server.base)
        .output()
        .unwrap();
    let log = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{log}{}", text(&out.stderr));
    assert!(
        log.contains("::error title=migsafe install::checksum mismatch"),
        "{log}"
    );
    // No fallback to another channel after a bad checksum, and nothing on PATH.
    assert!(!log.contains("falling back to pip"), "{log}");
    assert!(std::fs::read_to_string(job.path("github_path"))
        .unwrap_or_default()
        .is_empty());
}

// ---- check.sh -----------------------------------------------------------------------------

#[tokio::test]
async fn check_reviews_with_the_copy_from_the_environment_and_never_prints_its_password() {
    let db = common::TestDb::create("action_check").await;
    // The test server trusts local connections, so a password in the URL is accepted and
    // ignored: exactly what lets us see whether it leaks.
    let secret = "s3cret-Pa55word";
    let url = match db.url.split_once("://") {
        Some((scheme, rest)) if !rest.split('@').next().unwrap_or("").contains(':') => {
            rest.split_once('@').map_or(db.url.clone(), |(user, host)| {
                format!("{scheme}://{user}:{secret}@{host}")
            })
        }
        _ => db.url.clone(),
    };
    let job = Job::new();
    let out = job
        .command("bash")
        .arg(script("check.sh"))
        .env("PATH", path_with_migsafe())
        .env("INPUT_PATHS", "fixtures/example/migrations")
        .env("INPUT_FAIL_ON", "error")
        .env("INPUT_CHANGED_SINCE", "none")
        .env("MIGSAFE_DATABASE_URL", &url)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");

    // The secret reaches the log only in the mask command that hides it.
    let leaks: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "password printed: {leaks:?}");
    assert!(
        stdout.contains("::add-mask::"),
        "the URL is not masked: {stdout}"
    );
    // Annotations for the diff, and findings at error level: exit-code 1 for the last step.
    assert!(stdout.contains("::error file="), "{stdout}");
    let outputs = job.outputs();
    assert_eq!(outputs["exit-code"], "1", "{outputs:?}");
    for kind in ["markdown", "sarif", "json"] {
        let file = &outputs[kind];
        let body = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{kind} {file}: {e}"));
        assert!(!body.contains(secret), "{kind} report leaks the password");
    }
    let markdown = std::fs::read_to_string(&outputs["markdown"]).unwrap();
    assert!(markdown.starts_with(MARKER), "{markdown}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs["json"]).unwrap()).unwrap();
    assert_eq!(json["evidence"], "catalog", "the copy was not used: {json}");
}

#[test]
fn check_on_a_pull_request_reviews_what_changed_since_the_base_branch() {
    let job = Job::new();
    let out = job
        .command("bash")
        .arg(script("check.sh"))
        .env("PATH", path_with_migsafe())
        .env("INPUT_PATHS", "fixtures/example/migrations")
        .env("GITHUB_BASE_REF", "no-such-branch-for-migsafe-test")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    // `auto` turned into --changed-since origin/<base>; that ref does not exist here, so the
    // review cannot run: exit 2 with migsafe's reason, and no exit-code 1 for the last step.
    assert!(
        stdout.contains("--changed-since origin/no-such-branch-for-migsafe-test"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("::error title=migsafe::the review could not run"));
    assert_eq!(job.outputs()["exit-code"], "2");

    let bad = job
        .command("bash")
        .arg(script("check.sh"))
        .env("PATH", path_with_migsafe())
        .env("INPUT_FAIL_ON", "sometimes")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stdout).contains("fail-on must be error, warning, info or never"));
}

// ---- comment.py ---------------------------------------------------------------------------

/// GitHub's issue-comment endpoints for one pull request, one comment per page so that
/// pagination (the Link header) is exercised.
fn fake_github(comments: Arc<Mutex<Vec<(u64, String)>>>, refuse: bool) -> Server {
    Server::start(Box::new(move |req, base| {
        let json = |v: serde_json::Value| v.to_string().into_bytes();
        if req.headers.get("authorization").map(String::as_str) != Some("Bearer t0ken") {
            return (
                401,
                vec![],
                json(serde_json::json!({"message": "Bad credentials"})),
            );
        }
        let mut comments = comments.lock().unwrap();
        let list = "/repos/acme/shop/issues/42/comments";
        if req.method == "GET" && req.path.starts_with(list) {
            let page: usize = req
                .path
                .split("&page=")
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let item = comments
                .get(page - 1)
                .map(|(id, body)| vec![serde_json::json!({"id": id, "body": body})])
                .unwrap_or_default();
            let mut headers = vec![];
            if page < comments.len() {
                headers.push((
                    "Link".to_string(),
                    format!(
                        "<{base}{list}?per_page=100&page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            return (200, headers, json(serde_json::Value::Array(item)));
        }
        if refuse {
            return (
                403,
                vec![],
                json(serde_json::json!({"message": "Resource not accessible by integration"})),
            );
        }
        let body: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
        let body = body["body"].as_str().unwrap_or_default().to_string();
        if req.method == "POST" && req.path == list {
            let id = 1000 + comments.len() as u64;
            comments.push((id, body));
            return (201, vec![], json(serde_json::json!({"id": id})));
        }
        if let Some(id) = req.path.strip_prefix("/repos/acme/shop/issues/comments/") {
            if req.method == "PATCH" {
                let id: u64 = id.parse().unwrap_or(0);
                if let Some(c) = comments.iter_mut().find(|c| c.0 == id) {
                    c.1 = body;
                    return (200, vec![], json(serde_json::json!({"id": id})));
                }
            }
        }
        (
            404,
            vec![],
            json(serde_json::json!({"message": "Not Found"})),
        )
    }))
}

/// A real Markdown report of the example migrations.
fn markdown_report(job: &Job, name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .args([
            "check",
            "fixtures/example/migrations",
            "--format",
            "markdown",
        ])
        .current_dir(REPO)
        .output()
        .unwrap();
    let path = job.path(name);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

fn pr_event(job: &Job) -> PathBuf {
    let path = job.path("event.json");
    std::fs::write(
        &path,
        r#"{"action": "synchronize", "number": 42, "pull_request": {"number": 42}}"#,
    )
    .unwrap();
    path
}

fn comment(job: &Job, server: &Server, report: &Path, event: &Path) -> Output {
    job.command("python3")
        .arg(script("comment.py"))
        .arg(report)
        .env("GITHUB_API_URL", &server.base)
        .env("GITHUB_TOKEN", "t0ken")
        .env("GITHUB_EVENT_PATH", event)
        .output()
        .unwrap()
}

#[test]
fn the_comment_is_created_once_and_then_updated_in_place() {
    let comments = Arc::new(Mutex::new(vec![(
        7,
        "LGTM, but see the migration".to_string(),
    )]));
    let server = fake_github(Arc::clone(&comments), false);
    let job = Job::new();
    let report = markdown_report(&job, "migsafe.md");
    let event = pr_event(&job);

    let first = comment(&job, &server, &report, &event);
    assert!(
        first.status.success(),
        "{}{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    assert!(text(&first.stdout).contains("posted comment 1001 on #42"));
    {
        let now = comments.lock().unwrap();
        assert_eq!(now.len(), 2);
        assert!(now[1].1.starts_with(MARKER));
        assert_eq!(now[0].1, "LGTM, but see the migration");
    }

    // The next push: the same pull request gets its comment replaced, not a second one.
    let updated = job.path("migsafe2.md");
    std::fs::write(&updated, format!("{MARKER}\nAll clear now.\n")).unwrap();
    let second = comment(&job, &server, &updated, &event);
    assert!(
        second.status.success(),
        "{}{}",
        text(&second.stdout),
        text(&second.stderr)
    );
    assert!(text(&second.stdout).contains("updated comment 1001 on #42"));
    let now = comments.lock().unwrap();
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[1].1, format!("{MARKER}\nAll clear now.\n"));
    // It walked the pages (one comment per page) to find it.
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert!(pages >= 3, "{pages}");
}

#[test]
fn a_read_only_token_or_another_event_is_no_failure_but_bad_input_is() {
    let comments = Arc::new(Mutex::new(vec![]));
    let server = fake_github(Arc::clone(&comments), true);
    let job = Job::new();
    let report = markdown_report(&job, "migsafe.md");
    let event = pr_event(&job);

    let fork = comment(&job, &server, &report, &event);
    assert!(fork.status.success());
    assert!(text(&fork.stdout).contains("::warning title=migsafe comment::GitHub refused"));

    let push = job.path("push.json");
    std::fs::write(&push, r#"{"ref": "refs/heads/main"}"#).unwrap();
    let before = server.requests().len();
    let other = comment(&job, &server, &report, &push);
    assert!(other.status.success());
    assert!(text(&other.stdout).contains("not a pull request event"));
    assert_eq!(
        server.requests().len(),
        before,
        "no API call outside a pull request"
    );

    let not_ours = job.path("other.md");
    std::fs::write(&not_ours, "# some other report\n").unwrap();
    let bad = comment(&job, &server, &not_ours, &event);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stdout).contains("not a migsafe Markdown report"));
}
