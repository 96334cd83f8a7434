//! Secrets and TLS against a real server with TLS on and password authentication (a private
//! cluster, tests/common/cluster.rs): every `sslmode` connects or fails the way libpq does,
//! `prefer` (the default) really negotiates TLS, the libpq tools migsafe runs get the same
//! TLS settings and the password without it ever appearing on a command line, and no URL
//! form — well-formed or malformed — prints its password.

mod common;

use common::cluster::{ClusterOptions, PrivateCluster};
use migsafe::evidence::connect::connect_read_only;
use migsafe::evidence::conninfo::session_uses_tls;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "Zq7-pw-secret";

/// Connects read-only like `--database-url` does; `Ok(tls)` or the error's full text.
async fn try_connect(url: &str) -> Result<bool, String> {
    match connect_read_only(url).await {
        Ok(mut conn) => Ok(session_uses_tls(&mut conn).await.unwrap()),
        Err(e) => Err(format!("{e:#}")),
    }
}

#[tokio::test]
async fn every_sslmode_connects_or_fails_like_libpq() {
    let cluster = PrivateCluster::start(ClusterOptions::tls_with_password(PASSWORD));
    let tls = cluster.tls.clone().unwrap();
    let ca = tls.ca_cert.display().to_string();
    let other_ca = tls.other_ca_cert.display().to_string();
    let base = cluster.password_url();

    // The default is prefer, which must negotiate TLS where the server offers it.
    assert_eq!(try_connect(&base.build()).await, Ok(true), "default");
    let cases: Vec<(String, Result<bool, &str>)> = vec![
        (base.clone().param("sslmode", "disable").build(), Ok(false)),
        (base.clone().param("sslmode", "prefer").build(), Ok(true)),
        (base.clone().param("sslmode", "require").build(), Ok(true)),
        (
            base.clone()
                .param("sslmode", "verify-ca")
                .param("sslrootcert", &ca)
                .build(),
            Ok(true),
        ),
        // verify-ca does not check the host name: an IP address is fine.
        (
            base.clone()
                .host("127.0.0.1")
                .param("sslmode", "verify-ca")
                .param("sslrootcert", &ca)
                .build(),
            Ok(true),
        ),
        (
            base.clone()
                .host("localhost")
                .param("sslmode", "verify-full")
                .param("sslrootcert", &ca)
                .build(),
            Ok(true),
        ),
        // The certificate is for localhost only: verify-full against 127.0.0.1 must fail.
        (
            base.clone()
                .host("127.0.0.1")
                .param("sslmode", "verify-full")
                .param("sslrootcert", &ca)
                .build(),
            Err("TLS failed"),
        ),
        // A root certificate that did not sign the server's.
        (
            base.clone()
                .param("sslmode", "verify-ca")
                .param("sslrootcert", &other_ca)
                .build(),
            Err("TLS failed"),
        ),
        // libpq: require with a root certificate named behaves as verify-ca.
        (
            base.clone()
                .param("sslmode", "require")
                .param("sslrootcert", &other_ca)
                .build(),
            Err("TLS failed"),
        ),
        // Verifying without any root certificate is refused, as libpq refuses it.
        (
            base.clone().param("sslmode", "verify-full").build(),
            Err("sslrootcert"),
        ),
        // The password in the query string works too.
        (
            base.clone()
                .password_in_query()
                .param("sslmode", "require")
                .build(),
            Ok(true),
        ),
    ];
    for (url, expected) in cases {
        let got = try_connect(&url).await;
        match (&got, expected) {
            (Ok(tls), Ok(want)) => assert_eq!(*tls, want, "{url}"),
            (Err(message), Err(want)) => {
                assert!(message.contains(want), "{url}: {message}");
                assert!(!message.contains(PASSWORD), "{url}: {message}");
            }
            _ => panic!("{url}: expected {expected:?}, got {got:?}"),
        }
    }
    // A wrong password is an authentication failure that does not show the password tried.
    let wrong = try_connect(&base.clone().password(Some("Wr0ng-Zq7")).build())
        .await
        .unwrap_err();
    assert!(wrong.contains("authentication failed"), "{wrong}");
    assert!(!wrong.contains("Wr0ng-Zq7"), "{wrong}");
}

#[tokio::test]
async fn prefer_falls_back_to_plain_text_on_a_server_without_tls() {
    let cluster = PrivateCluster::start(ClusterOptions {
        password_role: Some(("app".to_string(), PASSWORD.to_string())),
        ..ClusterOptions::default()
    });
    let url = cluster.password_url();
    assert_eq!(try_connect(&url.build()).await, Ok(false));
    let required = try_connect(&url.clone().param("sslmode", "require").build())
        .await
        .unwrap_err();
    assert!(required.contains("TLS"), "{required}");
}

/// Every process's command line, sampled every few milliseconds while `run` runs.
fn watch_command_lines<T>(run: impl FnOnce() -> T) -> (T, BTreeSet<String>) {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
                        let line = String::from_utf8_lossy(&bytes).replace('\0', " ");
                        if !line.trim().is_empty() {
                            seen.lock().unwrap().insert(line);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let result = run();
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let seen = seen.lock().unwrap().clone();
    (result, seen)
}

fn migsafe(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir)
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env("MIGSAFE_CACHE_DIR", dir.join("cache"))
        .stdin(Stdio::null())
        .output()
        .expect("migsafe runs")
}

/// A project with one migration and a plain SQL dump whose restore takes a moment (so psql
/// is caught running).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path()
            .join("migrations/20240301120000_add_sku_index.sql"),
        "-- owner: @shop\n-- rollback: DROP INDEX items_sku_idx;\n\
         CREATE INDEX items_sku_idx ON items (sku);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("shop.sql"),
        "SET statement_timeout = 0;\n\
         CREATE TABLE items (id bigint PRIMARY KEY, sku text);\n\
         INSERT INTO items SELECT g, 'sku-' || g FROM generate_series(1, 1000) g;\n\
         SELECT pg_sleep(1.5);\n",
    )
    .unwrap();
    dir
}

#[test]
fn restore_over_tls_never_puts_the_password_on_a_command_line_or_in_output() {
    let cluster = PrivateCluster::start(ClusterOptions {
        tls_only: true,
        ..ClusterOptions::tls_with_password(PASSWORD)
    });
    let project = project();
    let server_before = common::fingerprint::server(&cluster);
    let source_before = common::fingerprint::source(&cluster, "postgres");
    // Both URL forms; the tools must also get sslmode (the server refuses non-TLS logins).
    for url in [
        cluster.password_url().param("sslmode", "require").build(),
        cluster
            .password_url()
            .password_in_query()
            .param("sslmode", "require")
            .build(),
    ] {
        let (output, command_lines) = watch_command_lines(|| {
            migsafe(
                &[
                    "check",
                    "--restore",
                    "shop.sql",
                    "--no-cache",
                    "--database-url",
                    &url,
                    "--format",
                    "json",
                    "migrations",
                ],
                project.path(),
            )
        });
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.code() != Some(2),
            "the review should run: {stderr}\n{stdout}"
        );
        assert!(stdout.contains("\"evidence\": \"execution\""), "{stdout}");
        assert!(
            command_lines.iter().any(|l| l.contains("psql")),
            "psql was never seen running, so the check proved nothing"
        );
        for line in &command_lines {
            // migsafe's own command line carries the URL the test typed; its children's
            // must not.
            if line.contains("migsafe check") {
                continue;
            }
            assert!(
                !line.contains(PASSWORD),
                "password on a command line: {line}"
            );
        }
        assert!(!stdout.contains(PASSWORD), "{stdout}");
        assert!(!stderr.contains(PASSWORD), "{stderr}");
        // The restored database was migsafe's own and is gone; nothing else changed.
        assert_eq!(common::fingerprint::server(&cluster), server_before);
        assert_eq!(
            common::fingerprint::source(&cluster, "postgres"),
            source_before
        );
    }
}

#[test]
fn malformed_urls_never_print_any_part_of_the_password() {
    let project = project();
    // Nothing listens on port 9 of the loopback address; every form fails quickly.
    for (url, secret) in [
        ("postgres://app:Zq7pass@127.0.0.1:9/shop", "Zq7pass"),
        (
            "postgres://app@127.0.0.1:9/shop?password=Zq7pass",
            "Zq7pass",
        ),
        ("postgres://app:Zq7%40pa%2Fss@127.0.0.1:9/shop", "Zq7"),
        ("postgres://app:Zq7@pass@127.0.0.1:9/shop", "Zq7"),
        ("postgres://app:Zq7/pass@127.0.0.1:9/shop", "Zq7"),
        ("postgres://app:Zq7#pass@127.0.0.1:9/shop", "Zq7"),
        ("postgres://app:Zq7?pass@127.0.0.1:9/shop", "Zq7"),
        ("postgres://app:Zq7pass@127.0.0.1:notaport/shop", "Zq7"),
        ("postgres://app:Zq7pass@[::1/shop", "Zq7"),
        (
            "postgres://app@127.0.0.1:9/shop?sslmode=bogus&password=Zq7pass",
            "Zq7",
        ),
    ] {
        for extra in [&[][..], &["--restore", "shop.sql", "--no-cache"][..]] {
            let mut args = vec!["check", "--database-url", url];
            args.extend_from_slice(extra);
            args.push("migrations");
            let output = migsafe(&args, project.path());
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.status.code(), Some(2), "{url}: {text}");
            assert!(!text.contains(secret), "{url} {extra:?} printed: {text}");
            assert!(!text.contains("pass@"), "{url} {extra:?} printed: {text}");
        }
    }
}
