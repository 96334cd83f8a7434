//! Watched-query plans between a migration's statements (issue #11, item 3), end to end: the
//! real `migsafe check` binary on a database each test builds for itself (a DVD-rental
//! shop's `rental` table with the index its lookup query uses), with migrations written as
//! golang-migrate and goose projects write them.
//!
//! Each test asserts what the user reads in the report: on which file and line a plan
//! regression and `drop-index-in-use` are reported, and that a plan made worse and restored
//! within the same transaction, or made "worse" only by a SET in the migration's own session,
//! is not reported at all.

mod common;

use common::json::findings;
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

/// `migsafe check migrations` on the disposable test database, as JSON.
fn check(dir: &Path, db: &TestDb) -> Value {
    let out = migsafe(
        dir,
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
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}), exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn file_of(finding: &Value) -> &str {
    finding["file"]
        .as_str()
        .and_then(|f| f.rsplit('/').next())
        .unwrap_or_default()
}

fn message(finding: &Value) -> &str {
    finding["message"].as_str().unwrap_or_default()
}

/// 60,000 rentals over 4,500 copies: a lookup by copy reads ~13 rows through the index, and
/// needs a Seq Scan of the whole table without it.
async fn rental_shop(prefix: &str) -> TestDb {
    let db = TestDb::create(prefix).await;
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
    db
}

/// A project folder with the watched queries, the config naming them, and `migrations/`
/// holding `files`.
fn project(queries: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("queries.sql"), queries).unwrap();
    std::fs::write(
        dir.path().join("migsafe.toml"),
        "[execution]\nwatch = \"queries.sql\"\n",
    )
    .unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    for (name, text) in files {
        std::fs::write(migrations.join(name), text).unwrap();
    }
    dir
}

const LOOKUP: &str =
    "-- name: rentals of a copy\nSELECT rental_id, rented_at FROM rental WHERE inventory_id = 100;\n";

/// The first file replaces the lookup's index by a wider one (no regression: the plan moves
/// to the new index); the second drops that new index; the third only adds a column. The
/// regression and drop-index-in-use are on the second file's DROP INDEX line. On main,
/// drop-index-in-use stayed silent: it only knew the plans from before the whole run, which
/// used the first file's old index, not the one the second file drops.
#[tokio::test]
async fn the_file_that_drops_the_index_a_watched_query_uses_is_blamed_at_its_drop_index() {
    let db = rental_shop("watched_blame").await;
    let dir = project(
        LOOKUP,
        &[
            (
                "000031_widen_inventory_index.up.sql",
                "-- owner: @stores\n-- rollback: irreversible\n\
                 CREATE INDEX rental_inventory_customer_idx ON rental (inventory_id, customer_id);\n\
                 DROP INDEX idx_fk_inventory_id;\n",
            ),
            (
                "000032_drop_inventory_fk_index.up.sql",
                "-- owner: @stores\n-- rollback: irreversible\n\
                 SET lock_timeout = '2s';\n\
                 ALTER TABLE rental ADD COLUMN returned_at timestamptz;\n\
                 DROP INDEX rental_inventory_customer_idx;\n",
            ),
            (
                "000033_add_rental_note.up.sql",
                "-- owner: @stores\n-- rollback: irreversible\n\
                 SET lock_timeout = '2s';\nALTER TABLE rental ADD COLUMN note text;\n",
            ),
        ],
    );
    let r = check(dir.path(), &db);
    let regressions = findings(&r, "plan-regression");
    assert_eq!(regressions.len(), 1, "{r:#}");
    let f = regressions[0];
    assert_eq!(
        file_of(f),
        "000032_drop_inventory_fk_index.up.sql",
        "blamed on the wrong file: {f:#}"
    );
    assert_eq!(
        f["line"], 5,
        "at the DROP INDEX, not the ALTER TABLE: {f:#}"
    );
    assert!(
        message(f).contains("rental_inventory_customer_idx") && message(f).contains("line 5"),
        "{f:#}"
    );
    let plan = f["facts"]["plan"].as_str().unwrap_or_default();
    assert!(
        plan.contains("before:") && plan.contains("rental_inventory_customer_idx"),
        "{plan}"
    );
    assert!(plan.contains("Seq Scan"), "{plan}");

    let in_use = findings(&r, "drop-index-in-use");
    assert_eq!(in_use.len(), 1, "{r:#}");
    assert_eq!(file_of(in_use[0]), "000032_drop_inventory_fk_index.up.sql");
    assert_eq!(in_use[0]["line"], 5);
    assert!(
        message(in_use[0]).contains("rentals of a copy"),
        "{:#}",
        in_use[0]
    );
}

/// Dropping an index and creating its replacement in one transaction never shows the
/// application a worse plan: nothing to report. Done statement by statement (goose's
/// `NO TRANSACTION`, as `CONCURRENTLY` needs), the application runs the worse plan while the
/// replacement builds: a warning naming both lines. On main neither was seen, since plans
/// were compared only around whole migrations.
#[tokio::test]
async fn an_index_replaced_within_a_transaction_is_no_regression_but_a_committed_gap_is() {
    let db = rental_shop("watched_swap").await;
    let dir = project(
        LOOKUP,
        &[
            (
                "00001_swap_inventory_index.sql",
                "-- +goose Up\n\
                 DROP INDEX idx_fk_inventory_id;\n\
                 CREATE INDEX rental_inventory_id_idx ON rental (inventory_id);\n",
            ),
            (
                "00002_swap_inventory_index_concurrently.sql",
                "-- +goose NO TRANSACTION\n\
                 -- +goose Up\n\
                 DROP INDEX CONCURRENTLY rental_inventory_id_idx;\n\
                 CREATE INDEX CONCURRENTLY rental_inventory_idx ON rental (inventory_id);\n",
            ),
        ],
    );
    let r = check(dir.path(), &db);
    let regressions = findings(&r, "plan-regression");
    assert_eq!(regressions.len(), 1, "{r:#}");
    let f = regressions[0];
    assert_eq!(
        file_of(f),
        "00002_swap_inventory_index_concurrently.sql",
        "{f:#}"
    );
    assert_eq!(f["line"], 3, "{f:#}");
    assert_eq!(f["severity"], "warning", "{f:#}");
    assert!(message(f).contains("between line 3 and line 4"), "{f:#}");
    assert!(
        findings(&r, "drop-index-in-use")
            .iter()
            .all(|f| !message(f).contains("rentals of a copy")),
        "a replaced index is not lost: {r:#}"
    );
}

/// The migration drops the index, then fails on the data (a CHECK over rows that break it).
/// The regression was measured right after the DROP INDEX, before the failure rolled the
/// transaction back: it is reported there, since fixing the failure ships it. On main a failed
/// migration's plans were never taken.
#[tokio::test]
async fn a_migration_that_fails_later_still_reports_the_regression_it_measured() {
    let db = rental_shop("watched_failed").await;
    let dir = project(
        LOOKUP,
        &[(
            "000040_drop_index_then_check.up.sql",
            "-- owner: @stores\n-- rollback: irreversible\n\
             DROP INDEX idx_fk_inventory_id;\n\
             ALTER TABLE rental ADD CONSTRAINT rental_customer_positive CHECK (customer_id > 0);\n",
        )],
    );
    let r = check(dir.path(), &db);
    let failed = findings(&r, "fails-on-copy");
    assert_eq!(failed.len(), 1, "{r:#}");
    assert_eq!(failed[0]["line"], 4);
    let regressions = findings(&r, "plan-regression");
    assert_eq!(regressions.len(), 1, "{r:#}");
    let f = regressions[0];
    assert_eq!(f["line"], 3, "{f:#}");
    assert!(message(f).contains("idx_fk_inventory_id"), "{f:#}");
    assert!(message(f).contains("failed at line 4"), "{f:#}");
}

/// A `SET` in a migration changes only the migration's own session: the lookup query is not
/// slower for the application, so it is no regression (on main, the plans taken on the
/// migration's session afterwards turned into a Seq Scan). A column rename that a watched
/// query reads is, at the RENAME, an error (on main: at line 1 of the file, no statement
/// named), and the EXPLAIN that fails after it does not abort the migration's transaction.
#[tokio::test]
async fn a_set_is_no_regression_and_a_rename_is_blamed_at_the_rename() {
    let db = rental_shop("watched_set").await;
    let dir = project(
        "-- name: customers of a copy\n\
         SELECT rental_id, customer_id FROM rental WHERE inventory_id = 100;\n\
         -- name: last rental\nSELECT rented_at FROM rental WHERE rental_id = 5;\n",
        &[(
            "000050_rename_rented_at.up.sql",
            "-- owner: @stores\n-- rollback: irreversible\n\
             SET enable_indexscan = off;\nSET enable_bitmapscan = off;\n\
             ALTER TABLE rental RENAME COLUMN rented_at TO rental_date;\n\
             ALTER TABLE rental ADD COLUMN note text;\n",
        )],
    );
    let r = check(dir.path(), &db);
    let regressions = findings(&r, "plan-regression");
    assert_eq!(
        regressions.len(),
        1,
        "only the renamed column's query: {r:#}"
    );
    let f = regressions[0];
    assert!(message(f).contains("last rental"), "{f:#}");
    assert_eq!(f["line"], 5, "at the RENAME: {f:#}");
    assert_eq!(f["severity"], "error", "{f:#}");
    assert!(message(f).contains("no longer plans"), "{f:#}");
    // The EXPLAIN that failed ran in a savepoint: the migration's transaction went on.
    assert!(findings(&r, "fails-on-copy").is_empty(), "{r:#}");
}
