//! The private-cluster harness itself (tests/common/cluster.rs): it starts a server of its
//! own with TLS and password authentication, survives `kill -9` and a restart, and removes
//! everything when dropped. Other fault and TLS tests build on it.

mod common;

use common::cluster::{ClusterOptions, PrivateCluster};

#[test]
fn private_cluster_offers_tls_and_password_auth_and_survives_kill9() {
    let mut cluster = PrivateCluster::start(ClusterOptions::tls_with_password("s3cret pw"));
    assert_eq!(cluster.psql("SHOW ssl"), "on");
    assert_eq!(
        cluster.psql("SELECT rolname FROM pg_roles WHERE rolname = 'app'"),
        "app"
    );
    // libpq itself accepts the certificate for localhost and the password over TLS.
    let tls = cluster.tls.clone().expect("tls files");
    let psql = |host: &str, password: &str| {
        std::process::Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-c",
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            ])
            .arg(format!(
                "host={host} port={} user=app dbname=postgres sslmode=verify-full sslrootcert={}",
                cluster.port(),
                tls.ca_cert.display()
            ))
            .env("PGPASSWORD", password)
            .output()
            .expect("psql runs")
    };
    let ok = psql("localhost", "s3cret pw");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "t");
    let wrong_host = psql("127.0.0.1", "s3cret pw");
    assert!(
        !wrong_host.status.success(),
        "verify-full must reject 127.0.0.1"
    );
    let wrong_password = psql("localhost", "nope");
    assert!(
        String::from_utf8_lossy(&wrong_password.stderr).contains("password authentication failed")
    );
    let dir = cluster.dir().to_path_buf();
    let first = cluster.postmaster_pid().expect("running");
    cluster.kill9();
    assert!(
        cluster.try_psql("SELECT 1").is_err(),
        "the server should be down"
    );
    cluster.start_again();
    assert_ne!(cluster.postmaster_pid(), Some(first));
    assert_eq!(cluster.psql("SELECT 1"), "1");
    cluster.restart();
    assert_eq!(cluster.psql("SELECT 2"), "2");
    drop(cluster);
    assert!(!dir.exists(), "{} should be removed", dir.display());
}
