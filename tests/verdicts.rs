//! Verdicts that never overstate (issue #11), end to end as a user meets them: the real
//! `migsafe check` binary run on a database each test builds for itself (a small shop:
//! customers with real-looking duplicates and phone numbers, an event log), with migrations
//! written as a golang-migrate project writes them, in a temporary folder (a git repository
//! where `--changed-since` needs one).
//!
//! Each test asserts what the user relies on: the exit code, the finding that names what
//! went wrong, and the true reason of every "not checked".

mod common;

use common::json::{findings, migration, report};
use common::TestDb;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn migsafe(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(cwd)
        .args(args)
        .env_remove("MIGSAFE_DATABASE_URL")
        .output()
        .expect("migsafe runs")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write migration");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs (install git)");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

const SHOP: &str = "
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    phone text,
    country text NOT NULL DEFAULT 'GB'
);
INSERT INTO customers (email, phone)
SELECT 'customer' || i || '@example.com', '+44 20 7946 ' || lpad(i::text, 4, '0')
FROM generate_series(1, 12) AS i;
-- A customer who signed up twice, as real data has them.
INSERT INTO customers (email) VALUES ('customer3@example.com');
ANALYZE customers;
";

/// Item 1 and 6: `--changed-since` narrows the report to the changed migrations, but an
/// unchanged earlier migration that the (history-less) copy had never applied failed there,
/// so the changed ones never ran. On main this printed "No findings" and exited 0.
#[tokio::test]
async fn a_changed_migration_that_never_ran_fails_the_check_and_says_why() {
    let db = TestDb::create("verdict_stop").await;
    db.execute(SHOP).await;
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "000001_unique_customer_email.up.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);\n",
    );
    write(
        &dir,
        "000001_unique_customer_email.down.sql",
        "DROP INDEX CONCURRENTLY IF EXISTS customers_email_key;\n",
    );
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "unique email"]);
    git(repo.path(), &["checkout", "-q", "-b", "feature"]);
    write(
        &dir,
        "000002_add_customer_tier.up.sql",
        "-- owner: @crm\n-- expect: duration < 1s\n\
         SET lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN tier text;\n",
    );
    write(
        &dir,
        "000002_add_customer_tier.down.sql",
        "ALTER TABLE customers DROP COLUMN tier;\n",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "tier"]);

    let out = migsafe(
        repo.path(),
        &[
            "check",
            "migrations",
            "--changed-since",
            "main",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
        ],
    );
    let r = report(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a change that never ran must fail: {r:#}"
    );
    let stopped = findings(&r, "not-executed-on-copy");
    assert_eq!(stopped.len(), 1, "{r:#}");
    let message = stopped[0]["message"].as_str().unwrap();
    assert!(stopped[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("000002_add_customer_tier.up.sql"));
    assert_eq!(stopped[0]["severity"], "error");
    assert!(
        message.contains("000001_unique_customer_email.up.sql failed"),
        "{message}"
    );
    assert!(
        message.contains("customer3@example.com"),
        "names the failure: {message}"
    );
    assert!(
        message.contains("schema_migrations"),
        "names the missing history: {message}"
    );

    // Item 6: its expectation and rollback say the real reason, not "execution level only".
    let m = migration(&r, "000002_add_customer_tier.up.sql");
    let expected = m["expected"][0]["detail"].as_str().unwrap();
    assert_eq!(m["expected"][0]["status"], "not_checked");
    assert!(expected.starts_with("not checked: "), "{expected}");
    assert!(
        expected.contains("000001_unique_customer_email.up.sql"),
        "{expected}"
    );
    let rollback = m["rollback"]["detail"].as_str().unwrap();
    assert!(!rollback.contains("only at execution level"), "{rollback}");
    assert!(
        rollback.contains("000001_unique_customer_email.up.sql"),
        "{rollback}"
    );
}

/// Item 2: a down file that re-adds a dropped column restores the schema but not the values.
#[tokio::test]
async fn a_rollback_that_brings_a_column_back_empty_loses_data() {
    let db = TestDb::create("verdict_data").await;
    db.execute(SHOP).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000003_drop_customer_phone.up.sql",
        "-- owner: @crm\n-- expect: succeeds\n\
         SET lock_timeout = '2s';\nALTER TABLE customers DROP COLUMN phone;\n",
    );
    write(
        dir.path(),
        "000003_drop_customer_phone.down.sql",
        "SET lock_timeout = '2s';\nALTER TABLE customers ADD COLUMN phone text;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    let m = migration(&r, "000003_drop_customer_phone.up.sql");
    assert_eq!(m["rollback"]["status"], "differs", "{r:#}");
    let detail = m["rollback"]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("restores the schema, loses data in"),
        "{detail}"
    );
    assert!(
        detail.contains("phone: 0 of its 12 values are back"),
        "{detail}"
    );
    assert!(detail.contains("column order"), "{detail}");
    let lost = findings(&r, "rollback-does-not-restore");
    assert_eq!(lost.len(), 1, "{r:#}");
    assert!(lost[0]["message"]
        .as_str()
        .unwrap()
        .contains("restores the schema, loses data in"));
}

/// Item 5: a statement cancelled by the copy's statement_timeout is a timeout with its elapsed
/// time, not a data failure, and `duration < …` below that time is not met.
#[tokio::test]
async fn a_statement_cancelled_by_the_timeout_is_a_timeout_and_breaks_its_duration_expectation() {
    let db = TestDb::create("verdict_timeout").await;
    db.execute(
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text);
         INSERT INTO events (payload) SELECT repeat(md5(i::text), 8) FROM generate_series(1, 300000) i;
         ANALYZE events;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migsafe.toml",
        "[execution]\nstatement_timeout = \"60ms\"\n",
    );
    write(
        dir.path(),
        "000004_index_event_digest.up.sql",
        "-- owner: @analytics\n-- expect: duration < 50ms\n\
         SET lock_timeout = '2s';\n\
         CREATE INDEX events_digest_idx ON events (md5(payload));\n",
    );
    write(
        dir.path(),
        "000004_index_event_digest.down.sql",
        "DROP INDEX IF EXISTS events_digest_idx;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--config",
            "migsafe.toml",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert!(findings(&r, "fails-on-copy").is_empty(), "{r:#}");
    let timeouts = findings(&r, "times-out-on-copy");
    assert_eq!(timeouts.len(), 1, "{r:#}");
    let message = timeouts[0]["message"].as_str().unwrap();
    assert!(message.contains("statement_timeout is 60 ms"), "{message}");
    assert!(timeouts[0]["facts"]["duration_ms"].as_u64().unwrap() >= 60);
    let m = migration(&r, "000004_index_event_digest.up.sql");
    assert_eq!(m["expected"][0]["status"], "not_met", "{m:#}");
    assert!(m["expected"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("at least"));
}

/// Item 4: at catalog level (read-only `--database-url`, nothing executed) the dependency
/// graph predicts the failures PostgreSQL will raise: a type change under a view and a
/// policy, a column drop under a view; and a migration that drops the view first is fine.
#[tokio::test]
async fn catalog_level_predicts_failures_from_the_dependency_graph() {
    let db = TestDb::create("verdict_depends").await;
    db.execute(
        "CREATE TABLE film (
             film_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             title text NOT NULL,
             rental_rate numeric(4,2) NOT NULL DEFAULT 4.99,
             store_id int NOT NULL DEFAULT 1,
             special_features text
         );
         INSERT INTO film (title) SELECT 'Film ' || i FROM generate_series(1, 100) i;
         CREATE VIEW film_list AS SELECT film_id, title, rental_rate AS price, special_features FROM film;
         ALTER TABLE film ENABLE ROW LEVEL SECURITY;
         CREATE POLICY store_rows ON film USING (store_id = 1);
         ANALYZE film;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lock = "-- owner: @catalogue\n-- expect: succeeds\nSET lock_timeout = '2s';\n";
    write(
        dir.path(),
        "000010_widen_rental_rate.up.sql",
        &format!("{lock}ALTER TABLE film ALTER COLUMN rental_rate TYPE numeric(6,2);\n"),
    );
    write(
        dir.path(),
        "000011_store_id_bigint.up.sql",
        &format!("{lock}ALTER TABLE film ALTER COLUMN store_id TYPE bigint;\n"),
    );
    write(
        dir.path(),
        "000012_drop_special_features.up.sql",
        &format!("{lock}ALTER TABLE film DROP COLUMN special_features CASCADE;\n"),
    );
    write(
        dir.path(),
        "000013_drop_title_after_view.up.sql",
        &format!(
            "{lock}DROP VIEW IF EXISTS film_list;\nALTER TABLE film ALTER COLUMN title TYPE varchar(300);\n"
        ),
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &db.url,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert_eq!(r["evidence"], "catalog");
    let found = findings(&r, "dependent-objects-block-change");
    let of = |file: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|f| f["file"].as_str().unwrap().ends_with(file))
            .map(|f| f["message"].as_str().unwrap())
            .collect()
    };
    let widen = of("000010_widen_rental_rate.up.sql");
    assert_eq!(widen.len(), 1, "{r:#}");
    assert!(widen[0].starts_with("Fails: public.film.rental_rate is used by view film_list"));
    assert!(widen[0].contains("cannot alter type of a column used by a view or rule"));
    let store = of("000011_store_id_bigint.up.sql");
    assert_eq!(store.len(), 1, "{r:#}");
    assert!(
        store[0].contains("policy store_rows on film"),
        "{}",
        store[0]
    );
    let drop = of("000012_drop_special_features.up.sql");
    assert_eq!(drop.len(), 1, "{r:#}");
    assert!(
        drop[0].starts_with("CASCADE also drops view film_list"),
        "{}",
        drop[0]
    );
    // The view was dropped by an earlier pending migration: nothing blocks this one.
    assert!(
        of("000013_drop_title_after_view.up.sql").is_empty(),
        "{r:#}"
    );
}

/// Item 4, partitions: PostgreSQL refuses a type change or drop of a partition key column
/// (plain or inside a key expression), even with CASCADE, and a type change or drop of a
/// column a partition or inheritance child inherits. Catalog level says so, with the server's
/// reason, before anything runs; an ordinary column of the same partitioned table is not
/// reported.
#[tokio::test]
async fn catalog_level_predicts_partition_key_and_inherited_column_failures() {
    let db = TestDb::create("verdict_partitions").await;
    db.execute(
        "CREATE TABLE measurements (
             city_id int NOT NULL,
             logdate date NOT NULL,
             peaktemp int,
             unitsales int
         ) PARTITION BY RANGE (logdate);
         CREATE TABLE measurements_2026 PARTITION OF measurements
             FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE TABLE events (id bigint, kind text NOT NULL, payload text)
             PARTITION BY LIST (lower(kind));
         CREATE TABLE events_signup PARTITION OF events FOR VALUES IN ('signup');
         CREATE TABLE audit_log (id bigint, actor text, note text);
         CREATE TABLE audit_log_2026 () INHERITS (audit_log);
         INSERT INTO measurements SELECT i % 50, date '2026-01-01' + i % 300, i % 40, i
             FROM generate_series(1, 1000) i;
         ANALYZE measurements;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lock = "-- owner: @telemetry\nSET lock_timeout = '2s';\n";
    let files = [
        (
            "000020_logdate_timestamptz.up.sql",
            "ALTER TABLE measurements ALTER COLUMN logdate TYPE timestamptz;",
        ),
        (
            "000021_drop_logdate.up.sql",
            "ALTER TABLE measurements DROP COLUMN logdate CASCADE;",
        ),
        (
            "000022_kind_varchar.up.sql",
            "ALTER TABLE events ALTER COLUMN kind TYPE varchar(40);",
        ),
        (
            "000023_drop_partition_column.up.sql",
            "ALTER TABLE measurements_2026 DROP COLUMN unitsales;",
        ),
        (
            "000024_child_actor_type.up.sql",
            "ALTER TABLE audit_log_2026 ALTER COLUMN actor TYPE varchar(100);",
        ),
        (
            "000025_peaktemp_bigint.up.sql",
            "ALTER TABLE measurements ALTER COLUMN peaktemp TYPE bigint;",
        ),
    ];
    for (name, sql) in files {
        write(dir.path(), name, &format!("{lock}{sql}\n"));
    }
    let out = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &db.url,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    assert_eq!(r["evidence"], "catalog");
    let found = findings(&r, "dependent-objects-block-change");
    let of = |file: &str| -> Vec<&Value> {
        found
            .iter()
            .copied()
            .filter(|f| f["file"].as_str().unwrap().ends_with(file))
            .collect()
    };
    let one = |file: &str| -> (String, String) {
        let f = of(file);
        assert_eq!(f.len(), 1, "{file}: {r:#}");
        assert_eq!(f[0]["severity"], "error", "{:#}", f[0]);
        (
            f[0]["message"].as_str().unwrap().to_string(),
            f[0]["instead"].as_str().unwrap_or_default().to_string(),
        )
    };
    let (retype, instead) = one("000020_logdate_timestamptz.up.sql");
    assert!(
        retype.contains(
            "cannot alter column \"logdate\" because it is part of the partition key of relation \"measurements\""
        ),
        "{retype}"
    );
    assert!(
        !instead.contains("drop and recreate")
            && instead.contains(
                "CREATE TABLE measurements_new (LIKE measurements INCLUDING ALL) PARTITION BY"
            ),
        "{instead}"
    );
    let (drop, _) = one("000021_drop_logdate.up.sql");
    assert!(drop.contains("even with CASCADE"), "{drop}");
    assert!(
        drop.contains("cannot drop column \"logdate\" because it is part of the partition key"),
        "{drop}"
    );
    let (expression, _) = one("000022_kind_varchar.up.sql");
    assert!(
        expression.contains("part of the partition key of relation \"events\""),
        "{expression}"
    );
    let (inherited, instead) = one("000023_drop_partition_column.up.sql");
    assert!(
        inherited.contains("inherited from measurements")
            && inherited.contains("cannot drop inherited column \"unitsales\""),
        "{inherited}"
    );
    assert!(
        instead.contains("`ALTER TABLE measurements DROP COLUMN unitsales;`"),
        "{instead}"
    );
    let (child, instead) = one("000024_child_actor_type.up.sql");
    assert!(
        child.contains("cannot alter inherited column \"actor\""),
        "{child}"
    );
    assert!(
        instead.contains("`ALTER TABLE audit_log ALTER COLUMN actor TYPE varchar(100);`"),
        "{instead}"
    );
    assert!(
        of("000025_peaktemp_bigint.up.sql").is_empty(),
        "an ordinary column of a partitioned table: {r:#}"
    );
}

/// Item 3: watched queries are planned after each migration, so the regression caused by
/// the migration that drops an index is reported there, at its DROP INDEX, and not on the
/// last migration of the run; and drop-index-in-use fires although the restored copy's scan
/// counter is 0.
#[tokio::test]
async fn a_plan_regression_is_blamed_on_the_statement_that_caused_it() {
    let db = TestDb::create("verdict_blame").await;
    db.execute(
        "CREATE TABLE rental (
             rental_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             inventory_id int NOT NULL,
             customer_id int NOT NULL,
             rented_at timestamptz NOT NULL DEFAULT now()
         );
         INSERT INTO rental (inventory_id, customer_id)
         SELECT i % 4500, i % 600 FROM generate_series(1, 60000) i;
         CREATE INDEX idx_fk_inventory_id ON rental (inventory_id);
         ANALYZE rental;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "queries.sql",
        "-- name: rentals of a copy\nSELECT rental_id, rented_at FROM rental WHERE inventory_id = 100;\n",
    );
    write(
        dir.path(),
        "migsafe.toml",
        "[execution]\nwatch = \"queries.sql\"\n",
    );
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    let m = dir.path().join("migrations");
    write(
        &m,
        "000020_drop_inventory_fk_index.up.sql",
        "-- owner: @stores\n-- expect: succeeds\n-- rollback: ALTER TABLE rental DROP COLUMN returned_at; CREATE INDEX idx_fk_inventory_id ON rental (inventory_id);\n\
         SET lock_timeout = '2s';\nALTER TABLE rental ADD COLUMN returned_at timestamptz;\n\
         DROP INDEX idx_fk_inventory_id;\n",
    );
    write(
        &m,
        "000021_add_rental_note.up.sql",
        "-- owner: @stores\n-- expect: succeeds\n-- rollback: ALTER TABLE rental DROP COLUMN note;\n\
         SET lock_timeout = '2s';\nALTER TABLE rental ADD COLUMN note text;\n",
    );
    let out = migsafe(
        dir.path(),
        &[
            "check",
            "migrations",
            "--config",
            "migsafe.toml",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let r = report(&out);
    let regressions = findings(&r, "plan-regression");
    assert_eq!(regressions.len(), 1, "{r:#}");
    let f = regressions[0];
    assert!(
        f["file"]
            .as_str()
            .unwrap()
            .ends_with("000020_drop_inventory_fk_index.up.sql"),
        "blamed on the wrong migration: {f:#}"
    );
    assert_eq!(f["line"], 6, "at the DROP INDEX: {f:#}");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("idx_fk_inventory_id"));
    let in_use = findings(&r, "drop-index-in-use");
    assert_eq!(in_use.len(), 1, "{r:#}");
    assert_eq!(in_use[0]["line"], 6);
    assert!(in_use[0]["message"]
        .as_str()
        .unwrap()
        .contains("rentals of a copy"));
}

/// Item 7: while migrations run on the copy, a terminal sees which migration and statement
/// is running with its elapsed time (stderr under a pseudo-terminal made by `script`); with
/// `--quiet`, or when stderr is not a terminal, nothing is drawn.
#[tokio::test]
async fn progress_is_shown_on_a_terminal_and_quiet_otherwise() {
    let db = TestDb::create("verdict_progress").await;
    db.execute(SHOP).await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000030_slow_backfill.up.sql",
        "-- owner: @crm\n-- expect: succeeds\n-- rollback: irreversible\n\
         SET lock_timeout = '2s';\nSELECT pg_sleep(0.6);\n",
    );
    let bin = env!("CARGO_BIN_EXE_migsafe");
    let command = format!(
        "{bin} check . --database-url '{}' --disposable --format json --fail-on never \
         --report json=out.json > /dev/null",
        db.url
    );
    let on_tty = |extra: &str| {
        let out = Command::new("script")
            .current_dir(dir.path())
            .args(["-qec", &format!("{command} {extra}"), "/dev/null"])
            .env_remove("MIGSAFE_DATABASE_URL")
            .env_remove("MIGSAFE_NO_PROGRESS")
            .output()
            .expect("script(1) from util-linux runs (apt-get install bsdutils)");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_tty("");
    assert!(shown.contains("migration 1/1"), "{shown}");
    assert!(shown.contains("SELECT pg_sleep(0.6)"), "{shown}");
    let quiet = on_tty("--quiet");
    assert!(!quiet.contains("migration 1/1"), "{quiet}");
    let piped = migsafe(
        dir.path(),
        &[
            "check",
            ".",
            "--database-url",
            &db.url,
            "--disposable",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains("migration 1/1"), "{stderr}");
}
