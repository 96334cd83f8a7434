//! The layouts of real projects (issue #10): popx (ory), Prisma, synapse's engine suffixes,
//! engine infixes, temporal and DolphinScheduler version trees, authelia's dotted pairs,
//! Liquibase formatted SQL, Atlas and harbor's golang-migrate folder, from fixtures written in
//! their shape under `fixtures/layouts/`; files given one by one read like their folder;
//! nothing dropped silently; other engines' SQL recognised and not reviewed.

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::evidence::connect::connect_read_only;
use migsafe::evidence::history::{read_applied, AppliedMigrations};
use migsafe::load::{load_all, NotReviewed, Options, Outcome};
use migsafe::model::{Layout, Migration, Part, Report, Transaction};
use migsafe::pending::{classify, DriftKind, Pending, State};
use migsafe::review::check_paths;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

fn outcome(paths: &[&str]) -> Outcome {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    load_all(&paths, &Options::default(), &mut io::empty())
        .unwrap_or_else(|e| panic!("loading {paths:?} failed: {e:#}"))
}

fn versions(ms: &[Migration]) -> Vec<&str> {
    ms.iter()
        .map(|m| m.version.as_deref().unwrap_or("-"))
        .collect()
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn file_names(ms: &[Migration]) -> Vec<&str> {
    ms.iter().map(|m| file_name(&m.path)).collect()
}

/// `file name → reason` of every file not reviewed.
fn skipped(o: &Outcome) -> Vec<(&str, &str)> {
    o.not_reviewed
        .iter()
        .map(|n| (file_name(&n.path), n.reason.as_str()))
        .collect()
}

fn skipped_names(o: &Outcome) -> BTreeSet<&str> {
    o.not_reviewed.iter().map(|n| file_name(&n.path)).collect()
}

fn sql(part: &Part) -> String {
    part.segments
        .iter()
        .map(|s| &part.file.text[s.range.clone()])
        .collect::<Vec<_>>()
        .join("\n")
}

fn review(paths: &[&str]) -> Report {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    check_paths(&paths, &Settings::default(), &mut io::empty())
        .unwrap_or_else(|e| panic!("review of {paths:?} failed: {e:#}"))
}

fn rules_on(report: &Report, file: &str) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| file_name(&f.file) == file)
        .map(|f| f.rule)
        .collect()
}

#[test]
fn popx_runs_the_postgres_file_or_the_all_file_per_version() {
    let o = outcome(&["fixtures/layouts/popx"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Popx));
    assert_eq!(
        versions(ms),
        [
            "20150100000001000000",
            "20200519101057000000",
            "20210410175418000000",
            "20220301000000000001"
        ]
    );
    assert_eq!(
        file_names(ms),
        [
            "20150100000001000000_networks.postgres.up.sql",
            "20200519101057000000_identities.up.sql",
            "20210410175418000000_identity_state.postgres.up.sql",
            "20220301000000000001_identities_nid_idx.postgres.autocommit.up.sql",
        ]
    );
    assert_eq!(ms[0].name, "networks");
    // Every migration pairs with the down file of its own dialect.
    let downs: Vec<&str> = ms
        .iter()
        .map(|m| file_name(&m.down.as_ref().expect("popx pairs every up").file.display))
        .collect();
    assert_eq!(
        downs,
        [
            "20150100000001000000_networks.postgres.down.sql",
            "20200519101057000000_identities.down.sql",
            "20210410175418000000_identity_state.down.sql",
            "20220301000000000001_identities_nid_idx.postgres.autocommit.down.sql",
        ]
    );
    // popx's own transaction per migration; `.autocommit.` is one Exec without one.
    let modes: Vec<Transaction> = ms.iter().map(|m| m.up.transaction).collect();
    assert_eq!(
        modes,
        [
            Transaction::File,
            Transaction::File,
            Transaction::File,
            Transaction::Implicit
        ]
    );
    assert_eq!(
        ms[3].down.as_ref().unwrap().transaction,
        Transaction::Implicit
    );
    assert!(ms.iter().all(|m| m.load_notes.is_empty()));

    let reasons = skipped(&o);
    assert_eq!(reasons.len(), 11, "{reasons:#?}");
    let reason = |name: &str| {
        reasons
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is not listed: {reasons:#?}"))
            .1
    };
    assert!(reason("20150100000001000000_networks.mysql.up.sql")
        .starts_with("the MySQL/MariaDB version of this migration"));
    assert!(reason("20150100000001000000_networks.cockroach.down.sql")
        .starts_with("the CockroachDB version"));
    assert!(reason("20150100000001000000_networks.sqlite3.up.sql").starts_with("the SQLite"));
    assert!(reason("20191100000001000000_errors.up.fizz").contains("fizz"));
    assert!(reason("20210410175418000000_identity_state.up.sql")
        .starts_with("superseded on PostgreSQL by the .postgres. file"));
    // README.md is documentation, not a migration: not listed.
    assert!(!skipped_names(&o).contains("README.md"));
}

#[test]
fn popx_static_review_judges_only_the_postgres_files() {
    let report = review(&["fixtures/layouts/popx"]);
    assert_eq!(report.migrations.len(), 4);
    assert_eq!(report.skipped_migrations.len(), 11);
    for f in &report.findings {
        let name = file_name(&f.file);
        assert!(
            !name.contains(".mysql.")
                && !name.contains(".sqlite3.")
                && !name.contains(".cockroach."),
            "a finding on another dialect's file: {f:?}"
        );
    }
    // The autocommit file's lone CREATE INDEX CONCURRENTLY runs outside a transaction block.
    let autocommit = "20220301000000000001_identities_nid_idx.postgres.autocommit.up.sql";
    assert!(
        !rules_on(&report, autocommit).contains(&"concurrently-in-transaction"),
        "{:?}",
        rules_on(&report, autocommit)
    );
}

#[test]
fn prisma_folders_in_name_order_with_one_implicit_transaction_each() {
    let o = outcome(&["fixtures/layouts/prisma/migrations"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Prisma));
    assert_eq!(
        versions(ms),
        [
            "20240110120000_init",
            "20240215093000_session_website_index",
            "20240301100000_session_created_at_concurrently"
        ]
    );
    assert_eq!(ms[1].name, "session_website_index");
    assert_eq!(
        ms[0].path,
        "fixtures/layouts/prisma/migrations/20240110120000_init/migration.sql"
    );
    assert!(ms
        .iter()
        .all(|m| m.up.transaction == Transaction::Implicit && m.down.is_none()));
    assert!(o.not_reviewed.is_empty(), "{:?}", o.not_reviewed);

    let report = review(&["fixtures/layouts/prisma/migrations"]);
    let file = |i: usize| &report.findings[i].file;
    let on_last: Vec<&str> = (0..report.findings.len())
        .filter(|&i| file(i).contains("20240301100000"))
        .map(|i| report.findings[i].rule)
        .collect();
    assert!(
        !on_last.contains(&"concurrently-in-transaction"),
        "one statement in one script runs outside a transaction block: {on_last:?}"
    );
}

#[test]
fn prisma_with_another_provider_is_listed_not_reviewed() {
    let o = outcome(&["fixtures/layouts/prisma-mysql/migrations"]);
    assert!(o.migrations.is_empty());
    assert_eq!(
        skipped(&o),
        [(
            "migration.sql",
            "migration_lock.toml says the provider is MySQL/MariaDB: not PostgreSQL, not reviewed"
        )]
    );
}

#[test]
fn synapse_delta_tree_takes_postgres_suffixes_and_lists_the_rest() {
    let o = outcome(&["fixtures/layouts/synapse/delta"]);
    let ms = &o.migrations;
    assert_eq!(
        file_names(ms),
        [
            "01_room_stats_index.sql",
            "02_event_txn_id.sql.postgres",
            "01_add_device_index.sql"
        ]
    );
    assert!(ms.iter().all(|m| m.layout == Layout::Plain));
    assert_eq!(
        skipped(&o),
        [
            (
                "02_event_txn_id.sql.sqlite",
                "named for SQLite, not PostgreSQL: migsafe reviews PostgreSQL migrations only"
            ),
            (
                "02_background_update.py",
                "a .py file, not SQL: migsafe reviews SQL migrations only"
            ),
        ]
    );
}

#[test]
fn engine_infixes_keep_postgres_files_under_their_plain_names() {
    let o = outcome(&["fixtures/layouts/dialect-infix"]);
    assert_eq!(versions(&o.migrations), ["1", "2"]);
    assert_eq!(
        file_names(&o.migrations),
        ["1_init.postgres.sql", "2_email_index.postgres.sql"]
    );
    assert_eq!(o.migrations[1].name, "email_index");
    assert_eq!(
        skipped_names(&o),
        BTreeSet::from([
            "1_init.mysql.sql",
            "1_init.sqlite3.sql",
            "2_email_index.cockroach.sql"
        ])
    );
}

#[test]
fn temporal_tree_follows_manifests_in_version_order_statement_by_statement() {
    let o = outcome(&["fixtures/layouts/temporal/versioned"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Temporal));
    // v1.9 before v1.10: versions compare part by part.
    assert_eq!(versions(ms), ["1.0", "1.1", "1.9", "1.10"]);
    assert_eq!(ms[1].name, "schema update for cluster metadata");
    assert!(ms
        .iter()
        .all(|m| m.up.transaction == Transaction::Statement));
    assert_eq!(
        skipped(&o),
        [(
            "draft_partitioning.sql",
            "not listed in manifest.json: the schema tool does not run it"
        )]
    );
    let report = review(&["fixtures/layouts/temporal/versioned"]);
    assert!(!rules_on(&report, "build_id_index.sql").contains(&"concurrently-in-transaction"));
}

#[test]
fn dolphinscheduler_root_reviews_its_postgresql_folders() {
    let o = outcome(&["fixtures/layouts/dolphinscheduler/upgrade"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Dolphinscheduler));
    assert_eq!(versions(ms), ["3.0.0", "3.0.0", "3.1.0", "3.1.0"]);
    assert!(ms.iter().all(|m| m.path.contains("/postgresql/")));
    assert_eq!(
        file_names(ms),
        [
            "dolphinscheduler_ddl.sql",
            "dolphinscheduler_dml.sql",
            "dolphinscheduler_ddl.sql",
            "dolphinscheduler_dml.sql"
        ]
    );
    assert!(ms.iter().all(|m| m.up.transaction == Transaction::Unknown));
    assert_eq!(o.not_reviewed.len(), 4);
    assert!(o
        .not_reviewed
        .iter()
        .all(|n| n.path.contains("/mysql/") && n.reason.starts_with("named for MySQL/MariaDB")));
}

#[test]
fn authelia_dotted_pairs_by_version_with_providers() {
    let o = outcome(&["fixtures/layouts/authelia/migrations"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Authelia));
    assert_eq!(versions(ms), ["1", "2", "3"]);
    assert_eq!(ms[0].name, "Initial Schema");
    let downs: Vec<&str> = ms
        .iter()
        .map(|m| file_name(&m.down.as_ref().unwrap().file.display))
        .collect();
    assert_eq!(
        downs,
        [
            "V0001.Initial_Schema.postgres.down.sql",
            "V0002.Webauthn.all.down.sql",
            "V0003.Username_Index.down.sql"
        ]
    );
    assert!(ms.iter().all(|m| m.up.transaction == Transaction::File));
    assert_eq!(o.not_reviewed.len(), 4, "{:?}", o.not_reviewed);
}

#[test]
fn liquibase_changesets_with_rollbacks_transactions_and_dbms() {
    let o = outcome(&["fixtures/layouts/liquibase/changelog"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Liquibase));
    assert_eq!(versions(ms), ["alice:1", "alice:2", "bob:3", "bob:5"]);
    assert_eq!(
        ms.iter().map(|m| m.up.transaction).collect::<Vec<_>>(),
        [
            Transaction::File,
            Transaction::Statement,
            Transaction::File,
            Transaction::File
        ]
    );
    assert!(sql(&ms[0].up).contains("CREATE TABLE users"));
    assert!(!sql(&ms[0].up).contains("alice:2"));
    assert_eq!(
        sql(ms[0].down.as_ref().unwrap()).trim(),
        "DROP TABLE users;"
    );
    assert_eq!(
        sql(ms[1].down.as_ref().unwrap()).trim(),
        "DROP INDEX CONCURRENTLY users_email_idx;"
    );
    // `--rollback not required`: a down part without SQL.
    assert!(ms[2].down.as_ref().unwrap().segments.is_empty());
    assert_eq!(
        sql(ms[3].down.as_ref().unwrap()).trim(),
        "ALTER TABLE users ALTER COLUMN email TYPE text;"
    );
    assert!(&ms[1].up.file.text[ms[1].header.clone()].contains("-- owner: @accounts"));
    let listed: Vec<(&str, Option<&str>, &str)> = o
        .not_reviewed
        .iter()
        .map(|n| (file_name(&n.path), n.version.as_deref(), n.reason.as_str()))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert_eq!(
        listed[0],
        (
            "002-engine-specific.sql",
            Some("bob:4"),
            "changeset for dbms:mysql: Liquibase skips it on PostgreSQL"
        )
    );
    assert_eq!(listed[1].0, "legacy-grants.sql");
    assert!(listed[1]
        .2
        .starts_with("no `--liquibase formatted sql` first line"));

    let report = review(&["fixtures/layouts/liquibase/changelog"]);
    let concurrently: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "concurrently-in-transaction")
        .collect();
    assert!(
        concurrently.is_empty(),
        "runInTransaction:false: {concurrently:?}"
    );
}

#[test]
fn atlas_txmode_directive_and_atlas_sum() {
    let o = outcome(&["fixtures/layouts/atlas/migrations"]);
    let ms = &o.migrations;
    assert!(ms.iter().all(|m| m.layout == Layout::Atlas));
    assert_eq!(
        versions(ms),
        ["20240101000000", "20240102000000", "20240103000000"]
    );
    assert_eq!(ms[1].name, "orders_customer_idx");
    assert_eq!(
        ms.iter().map(|m| m.up.transaction).collect::<Vec<_>>(),
        [Transaction::File, Transaction::Statement, Transaction::File]
    );
    assert!(ms[0].load_notes.is_empty() && ms[1].load_notes.is_empty());
    assert!(ms[2].load_notes[0]
        .message
        .contains("is not listed in atlas.sum"));
    assert!(o.not_reviewed.is_empty());
}

#[test]
fn harbor_ups_without_downs_are_golang_migrate() {
    let o = outcome(&["fixtures/layouts/harbor"]);
    assert!(o
        .migrations
        .iter()
        .all(|m| m.layout == Layout::GolangMigrate));
    assert_eq!(versions(&o.migrations), ["1", "2", "10", "201"]);
    assert!(o.migrations[3].down.is_some());
}

#[test]
fn mixed_folder_reviews_postgres_and_lists_everything_else() {
    let o = outcome(&["fixtures/layouts/mixed"]);
    assert!(o.migrations.iter().all(|m| m.layout == Layout::Plain));
    // The PostgreSQL file that mentions backticks and AUTO_INCREMENT in a comment and a
    // string is still PostgreSQL.
    assert_eq!(
        file_names(&o.migrations),
        ["001_create_accounts.sql", "006_add_status.sql"]
    );
    let reasons = skipped(&o);
    let reason = |name: &str| {
        reasons
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is not listed: {reasons:#?}"))
            .1
    };
    assert!(reason("002_ledger_port.sql").starts_with("written for MySQL/MariaDB"));
    assert!(reason("004_cache.sql").starts_with("written for SQLite"));
    assert!(reason("003_ADD_INDEX.SQL").starts_with("upper-case .SQL extension"));
    assert!(reason("007_seed.go").starts_with("a .go file, not SQL"));
    assert!(reason("fix_permissions.sql").contains("does not fit the plain layout"));
    assert_eq!(reasons.len(), 5);

    // Every report format says so.
    let report = review(&["fixtures/layouts/mixed"]);
    assert_eq!(report.skipped_migrations.len(), 5);
    assert!(report
        .findings
        .iter()
        .all(|f| !f.file.ends_with("002_ledger_port.sql") && !f.file.ends_with("004_cache.sql")));
}

#[test]
fn forcing_postgres_reviews_every_file() {
    let paths = [PathBuf::from("fixtures/layouts/mixed")];
    let options = Options {
        detect_engines: false,
        ..Options::default()
    };
    let o = load_all(&paths, &options, &mut io::empty()).unwrap();
    assert_eq!(
        file_names(&o.migrations),
        [
            "001_create_accounts.sql",
            "002_ledger_port.sql",
            "004_cache.sql",
            "006_add_status.sql"
        ]
    );
    let settings = Settings::from_toml("dialect = \"postgres\"\n", PathBuf::from(".")).unwrap();
    assert!(!settings.load_options().detect_engines);
    let err = Settings::from_toml("dialect = \"mysql\"\n", PathBuf::from(".")).unwrap_err();
    assert!(format!("{err:#}").contains("not one of auto, postgres"));
}

/// Every regular file under `dir`, recursively, in name order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

type Shape = (String, Option<String>, Option<String>, &'static str, usize);

fn shape(ms: &[Migration]) -> BTreeSet<Shape> {
    ms.iter()
        .map(|m| {
            (
                m.up.file.display.clone(),
                m.version.clone(),
                m.down.as_ref().map(|d| d.file.display.clone()),
                m.up.transaction.as_str(),
                m.up.segments.len(),
            )
        })
        .collect()
}

fn listed_files(list: &[NotReviewed], files: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    list.iter()
        .filter(|n| files.contains(&n.path))
        .map(|n| (n.path.clone(), n.reason.clone()))
        .collect()
}

#[test]
fn files_given_one_by_one_read_exactly_like_their_folder() {
    for dir in [
        "fixtures/layouts/popx",
        "fixtures/layouts/prisma/migrations",
        "fixtures/layouts/synapse/delta",
        "fixtures/layouts/dialect-infix",
        "fixtures/layouts/temporal/versioned",
        "fixtures/layouts/dolphinscheduler/upgrade",
        "fixtures/layouts/authelia/migrations",
        "fixtures/layouts/liquibase/changelog",
        "fixtures/layouts/atlas/migrations",
        "fixtures/layouts/harbor",
        "fixtures/layouts/mixed",
        "fixtures/layouts/sqlx",
        "fixtures/layouts/golang-migrate",
        "fixtures/layouts/goose",
        "fixtures/layouts/dbmate",
        "fixtures/layouts/plain",
    ] {
        let folder = outcome(&[dir]);
        let files = files_under(Path::new(dir));
        // Documentation and companions named explicitly are listed as "not SQL"; in the
        // folder they are simply not migrations (checked below).
        let companion = |p: &&str| {
            [".md", ".toml", ".json", ".sum", ".xml", ".conf"]
                .iter()
                .any(|ext| p.ends_with(ext))
        };
        // A file whose name fits no layout, named explicitly, is reviewed on its own: its
        // folder's listing says so ("name the file to review it on its own").
        let on_its_own: BTreeSet<&str> = folder
            .not_reviewed
            .iter()
            .filter(|n| n.reason.contains("to review it on its own"))
            .map(|n| n.path.as_str())
            .collect();
        let given: Vec<&str> = files
            .iter()
            .map(|p| p.to_str().unwrap())
            .filter(|p| !companion(p) && !on_its_own.contains(p))
            .collect();
        let one_by_one = outcome(&given);
        assert_eq!(
            shape(&one_by_one.migrations),
            shape(&folder.migrations),
            "{dir}: the same migrations, versions, pairs and transactions"
        );
        let names: BTreeSet<String> = given.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            listed_files(&one_by_one.not_reviewed, &names),
            listed_files(&folder.not_reviewed, &names),
            "{dir}: the same files not reviewed, for the same reasons"
        );
        // Down files are never reviewed as forward migrations.
        assert!(one_by_one
            .migrations
            .iter()
            .all(|m| !m.up.file.display.ends_with(".down.sql")));
    }
}

#[test]
fn documentation_named_explicitly_is_listed_not_parsed() {
    let o = outcome(&["fixtures/layouts/popx/README.md"]);
    assert!(o.migrations.is_empty());
    assert_eq!(
        skipped(&o),
        [(
            "README.md",
            "a .md file, not SQL: migsafe reviews SQL migrations only"
        )]
    );
}

#[test]
fn many_files_of_one_folder_list_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 1..=300 {
        let up = dir.path().join(format!("{i:06}_step.up.sql"));
        std::fs::write(&up, format!("ALTER TABLE t ADD COLUMN c{i} int;\n")).unwrap();
        std::fs::write(
            dir.path().join(format!("{i:06}_step.down.sql")),
            format!("ALTER TABLE t DROP COLUMN c{i};\n"),
        )
        .unwrap();
        paths.push(up);
    }
    let o = load_all(&paths, &Options::default(), &mut io::empty()).unwrap();
    assert_eq!(o.migrations.len(), 300);
    assert!(o.migrations.iter().all(|m| m.down.is_some()));
    assert_eq!(o.folders_listed, 1, "one listing for 300 file arguments");
    assert_eq!(o.files_read, 600, "each file read once");
}

#[test]
fn a_folder_without_migrations_among_several_is_listed_not_an_abort() {
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("README.md"), "nothing yet\n").unwrap();
    let empty_path = empty.path().to_str().unwrap().to_string();
    let o = outcome(&[&empty_path, "fixtures/layouts/harbor"]);
    assert_eq!(o.migrations.len(), 4);
    assert_eq!(o.not_reviewed.len(), 1);
    assert!(o.not_reviewed[0]
        .reason
        .starts_with("holds no migration (looked for"));
    // Alone, it is still an error: nothing at all to review usually means a wrong path.
    let err = load_all(
        &[PathBuf::from(&empty_path)],
        &Options::default(),
        &mut io::empty(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").starts_with("no migrations found in "));
}

#[cfg(unix)]
#[test]
fn special_files_are_listed_without_being_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_create.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    let fifo = dir.path().join("2_pipe.sql");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success());
    // Opening the FIFO for reading would block this test forever: being here means it was not.
    let o = load_all(
        &[dir.path().to_path_buf()],
        &Options::default(),
        &mut io::empty(),
    )
    .unwrap();
    assert_eq!(file_names(&o.migrations), ["1_create.sql"]);
    assert_eq!(
        skipped(&o),
        [(
            "2_pipe.sql",
            "not a regular file (a FIFO, socket or device): skipped without opening it"
        )]
    );
}

#[test]
fn other_engines_files_given_alone_are_not_reviewed() {
    let report = review(&["fixtures/layouts/mixed/002_ledger_port.sql"]);
    assert!(report.migrations.is_empty());
    assert!(report.findings.is_empty());
    assert_eq!(report.skipped_migrations.len(), 1);
    assert!(report.skipped_migrations[0]
        .reason
        .starts_with("written for MySQL/MariaDB"));
}

async fn history(db: &TestDb, layout: Layout) -> AppliedMigrations {
    let mut conn = connect_read_only(&db.url).await.unwrap();
    read_applied(&mut conn, layout, None)
        .await
        .unwrap()
        .expect("this layout keeps a history table")
}

/// `(version, state)` per migration, in order.
fn states<'a>(ms: &'a [Migration], p: &Pending) -> Vec<(&'a str, State)> {
    p.migrations
        .iter()
        .map(|s| (ms[s.index].version.as_deref().unwrap_or("-"), s.state))
        .collect()
}

fn drift(p: &Pending) -> Vec<(DriftKind, &str)> {
    p.drift
        .iter()
        .map(|d| (d.kind, d.version.as_deref().unwrap_or("-")))
        .collect()
}

#[tokio::test]
async fn popx_pending_from_schema_migration_with_legacy_versions() {
    let ms = outcome(&["fixtures/layouts/popx"]).migrations;
    let db = TestDb::with_fixture("layouts_popx", "catalog/history/popx.sql").await;
    // The first version recorded under its 14-digit legacy name, as pop's old migrator did.
    db.execute(
        "INSERT INTO schema_migration (version) VALUES ('20150100000001'), \
         ('20200519101057000000')",
    )
    .await;
    let applied = history(&db, Layout::Popx).await;
    let p = classify(&ms, Some(&applied), Layout::Popx);
    assert_eq!(
        states(&ms, &p),
        [
            ("20150100000001000000", State::Applied),
            ("20200519101057000000", State::Applied),
            ("20210410175418000000", State::Pending),
            ("20220301000000000001", State::Pending),
        ]
    );
    assert!(p.drift.is_empty(), "{:?}", p.drift);
}

#[tokio::test]
async fn prisma_pending_failed_and_changed_from_prisma_migrations() {
    let ms = outcome(&["fixtures/layouts/prisma/migrations"]).migrations;
    let db = TestDb::with_fixture("layouts_prisma", "catalog/history/prisma.sql").await;
    let sha256 = |m: &Migration| {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(&m.path).unwrap();
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    db.execute(&format!(
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at) \
         VALUES ('a', '{}', now(), '20240110120000_init', now() - interval '2 days'), \
                ('b', '{}', now(), '20240215093000_session_website_index', now() - interval '1 day'), \
                ('c', 'ff', NULL, '20240301100000_session_created_at_concurrently', now())",
        sha256(&ms[0]),
        "00".repeat(32),
    ))
    .await;
    let applied = history(&db, Layout::Prisma).await;
    let p = classify(&ms, Some(&applied), Layout::Prisma);
    assert_eq!(
        states(&ms, &p),
        [
            ("20240110120000_init", State::Applied),
            ("20240215093000_session_website_index", State::Applied),
            (
                "20240301100000_session_created_at_concurrently",
                State::Pending
            ),
        ]
    );
    assert_eq!(
        drift(&p),
        [
            (
                DriftKind::ChecksumChanged,
                "20240215093000_session_website_index"
            ),
            (
                DriftKind::Failed,
                "20240301100000_session_created_at_concurrently"
            ),
        ]
    );
}

#[tokio::test]
async fn atlas_pending_from_its_own_schema_with_a_partial_revision() {
    let ms = outcome(&["fixtures/layouts/atlas/migrations"]).migrations;
    let db = TestDb::with_fixture("layouts_atlas", "catalog/history/atlas.sql").await;
    db.execute(
        "INSERT INTO atlas_schema_revisions.atlas_schema_revisions \
         (version, description, type, applied, total, executed_at, execution_time, error, hash, operator_version) VALUES \
         ('.atlas_cloud_identifier', '', 2, 0, 0, now(), 0, NULL, '', 'v0.21'), \
         ('20240101000000', 'init', 2, 1, 1, now(), 10, NULL, 'h', 'v0.21'), \
         ('20240102000000', 'orders_customer_idx', 2, 0, 1, now(), 10, 'deadlock detected', 'h', 'v0.21')",
    )
    .await;
    let applied = history(&db, Layout::Atlas).await;
    assert_eq!(
        applied.table,
        "atlas_schema_revisions.atlas_schema_revisions"
    );
    let p = classify(&ms, Some(&applied), Layout::Atlas);
    assert_eq!(
        states(&ms, &p),
        [
            ("20240101000000", State::Applied),
            ("20240102000000", State::Pending),
            ("20240103000000", State::Pending),
        ]
    );
    assert_eq!(drift(&p), [(DriftKind::Failed, "20240102000000")]);
}

#[tokio::test]
async fn liquibase_pending_changesets_from_databasechangelog() {
    let ms = outcome(&["fixtures/layouts/liquibase/changelog"]).migrations;
    let db = TestDb::with_fixture("layouts_liquibase", "catalog/history/liquibase.sql").await;
    db.execute(
        "INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype) VALUES \
         ('1', 'alice', 'changelog/001-create-users.sql', now(), 1, 'EXECUTED'), \
         ('2', 'alice', 'changelog/001-create-users.sql', now(), 2, 'EXECUTED'), \
         ('99', 'carol', 'changelog/000-removed.sql', now(), 3, 'EXECUTED')",
    )
    .await;
    let applied = history(&db, Layout::Liquibase).await;
    let p = classify(&ms, Some(&applied), Layout::Liquibase);
    assert_eq!(
        states(&ms, &p),
        [
            ("alice:1", State::Applied),
            ("alice:2", State::Applied),
            ("bob:3", State::Pending),
            ("bob:5", State::Pending),
        ]
    );
    assert_eq!(drift(&p), [(DriftKind::MissingFile, "carol:99")]);
}

#[tokio::test]
async fn temporal_dolphinscheduler_and_authelia_record_their_current_version() {
    let ms = outcome(&["fixtures/layouts/temporal/versioned"]).migrations;
    let db = TestDb::with_fixture("layouts_temporal", "catalog/history/temporal.sql").await;
    db.execute(
        "INSERT INTO schema_version (version_partition, db_name, curr_version, min_compatible_version) \
         VALUES (0, 'temporal', '1.9', '1.0')",
    )
    .await;
    let p = classify(
        &ms,
        Some(&history(&db, Layout::Temporal).await),
        Layout::Temporal,
    );
    assert_eq!(
        states(&ms, &p),
        [
            ("1.0", State::Applied),
            ("1.1", State::Applied),
            ("1.9", State::Applied),
            ("1.10", State::Pending),
        ]
    );

    let ms = outcome(&["fixtures/layouts/dolphinscheduler/upgrade"]).migrations;
    let db = TestDb::with_fixture("layouts_ds", "catalog/history/dolphinscheduler.sql").await;
    db.execute("INSERT INTO t_ds_version VALUES (1, '3.0.0')")
        .await;
    let p = classify(
        &ms,
        Some(&history(&db, Layout::Dolphinscheduler).await),
        Layout::Dolphinscheduler,
    );
    assert_eq!(
        states(&ms, &p),
        [
            ("3.0.0", State::Applied),
            ("3.0.0", State::Applied),
            ("3.1.0", State::Pending),
            ("3.1.0", State::Pending),
        ]
    );

    let ms = outcome(&["fixtures/layouts/authelia/migrations"]).migrations;
    let db = TestDb::with_fixture("layouts_authelia", "catalog/history/authelia.sql").await;
    // Up to 3, then down to 2: the latest row is the current version.
    db.execute(
        "INSERT INTO migrations (applied, version_before, version_after, application_version) VALUES \
         (now(), NULL, 1, 'v4.33.0'), (now(), 1, 3, 'v4.34.2'), (now(), 3, 2, 'v4.34.0')",
    )
    .await;
    let p = classify(
        &ms,
        Some(&history(&db, Layout::Authelia).await),
        Layout::Authelia,
    );
    assert_eq!(
        states(&ms, &p),
        [
            ("1", State::Applied),
            ("2", State::Applied),
            ("3", State::Pending)
        ]
    );
    assert!(p.drift.is_empty(), "{:?}", p.drift);
}

/// The `.sql` files (any case, synapse suffixes too) under `dir`.
fn sql_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().to_ascii_lowercase().contains(".sql"))
        .collect()
}

#[test]
fn engine_detector_on_both_kinds_of_fixtures() {
    use migsafe::load::dialect::{detect, Engine};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut missed = Vec::new();
    for (sub, engine) in [
        ("engines/mysql", Engine::Mysql),
        ("engines/sqlite", Engine::Sqlite),
    ] {
        let files = sql_files(&root.join(sub));
        assert!(files.len() >= 6, "{sub}: {files:?}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            match detect(&text) {
                Some(d) if d.engine == engine => {}
                other => missed.push((f.display().to_string(), other)),
            }
        }
    }
    assert!(missed.is_empty(), "not recognised: {missed:#?}");

    // Every other fixture is PostgreSQL, also where it mentions backticks, ENGINE= or
    // AUTO_INCREMENT in comments and strings, quotes identifiers, or uses dollar quotes.
    // Fixtures that are another engine's on purpose say so in their path.
    let mut false_positives = Vec::new();
    let mut checked = 0;
    for f in sql_files(&root) {
        let shown = f.display().to_string();
        let other_engine = [
            "/engines/",
            "mysql",
            "sqlite",
            "cockroach",
            "engine-specific",
            "002_ledger_port",
            "004_cache",
        ]
        .iter()
        .any(|m| shown.contains(m));
        if other_engine || shown.contains("/dolphinscheduler/upgrade/") && shown.contains("/mysql/")
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue; // not UTF-8 on purpose (hostile fixtures)
        };
        checked += 1;
        if let Some(d) = detect(&text) {
            false_positives.push((shown, d));
        }
    }
    assert!(checked > 100, "only {checked} PostgreSQL fixtures found");
    assert!(
        false_positives.is_empty(),
        "PostgreSQL files taken for another engine: {false_positives:#?}"
    );
}
