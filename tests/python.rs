//! Python services (issue #16): Alembic and Django migrations reviewed where they live, with
//! the real frameworks from PyPI. The projects are `fixtures/python/alembic_shop` and
//! `fixtures/python/django_shop` (a FastAPI-style Alembic service and a Django shop), plus
//! small projects written by the tests themselves.
//!
//! The frameworks come from the virtualenv `.ci/run` creates (`.ci/python-venv.sh`): its
//! folder is `MIGSAFE_TEST_PYTHON_VENV`, default `target/py-venv`. A missing venv is a loud
//! failure saying how to create it, never a skip.

mod common;

use common::TestDb;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VENV_ENV: &str = "MIGSAFE_TEST_PYTHON_VENV";

/// The Python of the test virtualenv, which has alembic, SQLAlchemy, Django and psycopg.
fn python() -> String {
    let venv = std::env::var(VENV_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv"));
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import alembic, sqlalchemy, django, psycopg"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "The Python tests need a virtualenv with alembic, SQLAlchemy, Django and psycopg at {} \
         (set {VENV_ENV} to use another). Create it with:\n\n    bash .ci/python-venv.sh\n\n\
         (python3 -m venv target/py-venv && target/py-venv/bin/pip install alembic sqlalchemy \
         django 'psycopg[binary]')",
        venv.display()
    );
    python.display().to_string()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/python")
        .join(name)
}

/// Runs migsafe in `dir` with the test Python and `extra` environment.
fn migsafe(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migsafe"));
    c.current_dir(dir)
        .args(args)
        .env("MIGSAFE_PYTHON", python())
        .env_remove("MIGSAFE_DATABASE_URL");
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); status {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn migration<'a>(report: &'a Value, file_end: &str) -> &'a Value {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"].as_str().unwrap().ends_with(file_end))
        .unwrap_or_else(|| panic!("no migration {file_end} in {report:#}"))
}

fn ends(v: &Value, suffix: &str) -> bool {
    v.as_str().is_some_and(|s| s.ends_with(suffix))
}

const INDEX_REV: &str = "versions/2b3c4d5e6f70_index_orders.py";

#[test]
fn alembic_versions_folder_gives_findings_at_the_revision_lines_with_people_facts() {
    let dir = fixture("alembic_shop");
    let out = migsafe(
        &dir,
        &["check", "migrations/versions", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    // Every revision is a migration named by alembic's graph, in alembic's order.
    let versions: Vec<&str> = r["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 4, "{versions:?}");
    assert_eq!(versions[0], "1a2b3c4d5e6f");
    assert_eq!(versions[3], "4d5e6f708192", "the merge comes last");
    let merge = migration(&r, "4d5e6f708192_merge_flags.py");
    assert!(
        merge["name"]
            .as_str()
            .unwrap()
            .starts_with("upgrade 2b3c4d5e6f70, 3c4d5e6f7081 -> 4d5e6f708192"),
        "{merge:#}"
    );
    let branch = migration(&r, "3c4d5e6f7081_backfill_status.py");
    assert!(branch["name"].as_str().unwrap().contains("[branch flags]"));

    // The plain index is flagged on the line of its op.create_index call.
    let plain = findings(&r, "create-index-non-concurrently");
    assert_eq!(plain.len(), 1, "{plain:#?}");
    assert!(ends(&plain[0]["file"], INDEX_REV));
    assert_eq!(plain[0]["line"], 29);
    assert_eq!(plain[0]["owner"], "@search-team");
    assert!(plain[0]["statement"]
        .as_str()
        .unwrap()
        .contains("orders_status_idx"));
    // The CONCURRENTLY index runs in autocommit_block(): no transaction finding for it.
    assert!(findings(&r, "concurrently-in-transaction").is_empty());
    // add_column is on line 21, and its ACCESS EXCLUSIVE lock has no timeout.
    let lock = findings(&r, "lock-without-timeout");
    assert!(
        lock.iter()
            .any(|f| ends(&f["file"], INDEX_REV) && f["line"] == 21 && f["direction"] != "down"),
        "{lock:#?}"
    );

    // People facts: `# owner:` comments and the docstring, as in SQL files.
    let first = migration(&r, "1a2b3c4d5e6f_create_orders.py");
    assert_eq!(first["owner"], "@payments-team");
    assert_eq!(first["owner_source"], "annotation");
    assert_eq!(first["expected"][0]["text"], "succeeds");
    let index = migration(&r, INDEX_REV);
    assert_eq!(index["owner"], "@search-team");
    // downgrade() is the rollback, located in the same file.
    assert_eq!(index["rollback"]["source"], "down_file");
    assert!(index["rollback"]["text"]
        .as_str()
        .unwrap()
        .contains("DROP INDEX orders_status_idx"));
    let down = findings(&r, "drop-index-non-concurrently");
    assert!(
        down.iter()
            .any(|f| ends(&f["file"], INDEX_REV) && f["line"] == 33 && f["direction"] == "down"),
        "{down:#?}"
    );
    // transaction_per_migration in env.py.
    assert_eq!(index["transaction"], "file");
    assert!(index["transaction_source"]
        .as_str()
        .unwrap()
        .contains("transaction_per_migration"));
    // An empty downgrade() is said to be empty.
    let missing = findings(&r, "missing-rollback");
    assert!(missing
        .iter()
        .any(|f| ends(&f["file"], "3c4d5e6f7081_backfill_status.py")
            && f["message"].as_str().unwrap().contains("empty")));
    // The alembic_version bookkeeping is alembic's, not the author's.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("UPDATE alembic_version"));
}

#[test]
fn the_script_location_and_one_django_file_are_reviewed_like_their_folders() {
    let out = migsafe(
        &fixture("alembic_shop"),
        &["check", "migrations", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    assert_eq!(r["migrations"].as_array().unwrap().len(), 4, "{r:#}");
    let out = migsafe(
        &fixture("django_shop"),
        &["check", NOTE_MIGRATION, "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let ms = r["migrations"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{r:#}");
    assert_eq!(ms[0]["version"], "orders.0002_order_note_customer_index");
    assert_eq!(findings(&r, "create-index-non-concurrently")[0]["line"], 20);
}

#[test]
fn depends_on_orders_the_revisions_and_is_shown() {
    let dir = alembic_project("    op.execute('CREATE TABLE t (a int)')\n", "");
    // A second base with its own branch, which bb02 depends on.
    std::fs::write(
        dir.path().join("db/versions/cc03_audit.py"),
        "from alembic import op\nrevision = 'cc03'\ndown_revision = None\n\
         branch_labels = ('audit',)\n\n\ndef upgrade():\n    \
         op.execute('CREATE TABLE audit (id bigint)')\n\n\ndef downgrade():\n    \
         op.execute('DROP TABLE audit')\n",
    )
    .unwrap();
    let second = dir.path().join("db/versions/bb02_second.py");
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(
        &second,
        text.replace(
            "down_revision = 'aa01'\n",
            "down_revision = 'aa01'\ndepends_on = 'cc03'\n",
        ),
    )
    .unwrap();
    let out = migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let order: Vec<&str> = r["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_str().unwrap())
        .collect();
    let at = |v: &str| order.iter().position(|o| *o == v).unwrap();
    assert!(at("cc03") < at("bb02"), "{order:?}");
    let bb = migration(&r, "bb02_second.py");
    assert!(
        bb["name"].as_str().unwrap().contains("(depends on cc03)"),
        "{bb:#}"
    );
    assert!(migration(&r, "cc03_audit.py")["name"]
        .as_str()
        .unwrap()
        .contains("[branch audit]"));
}

#[test]
fn one_revision_file_is_reviewed_as_its_folder_reads_it() {
    let dir = fixture("alembic_shop");
    let out = migsafe(
        &dir,
        &[
            "check",
            &format!("migrations/{INDEX_REV}"),
            "--format",
            "json",
        ],
        &[],
    );
    let r = json_of(&out);
    let ms = r["migrations"].as_array().unwrap();
    assert_eq!(ms.len(), 1, "{r:#}");
    assert_eq!(ms[0]["version"], "2b3c4d5e6f70");
    assert_eq!(findings(&r, "create-index-non-concurrently")[0]["line"], 29);
}

/// Writes a one-revision Alembic project whose revision is `body` (the upgrade's lines).
fn alembic_project(body: &str, env_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("db/versions")).unwrap();
    std::fs::write(
        root.join("alembic.ini"),
        "[alembic]\nscript_location = db\nsqlalchemy.url = postgresql://app@localhost/app\n",
    )
    .unwrap();
    std::fs::write(
        root.join("db/env.py"),
        format!(
            "import os\nfrom alembic import context\n{env_extra}\n\
             context.configure(url=os.environ.get('DATABASE_URL'), literal_binds=True, \
             **globals().get('EXTRA', {{}}))\n\
             with context.begin_transaction():\n    context.run_migrations()\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("db/versions/aa01_first.py"),
        format!(
            "# owner: @platform\nfrom alembic import op\nimport sqlalchemy as sa\n\
             revision = 'aa01'\ndown_revision = None\n\n\ndef upgrade():\n{body}\n\n\
             def downgrade():\n    pass\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("db/versions/bb02_second.py"),
        "from alembic import op\nrevision = 'bb02'\ndown_revision = 'aa01'\n\n\n\
         def upgrade():\n    op.create_index('t_a_idx', 't', ['a'])\n\n\n\
         def downgrade():\n    op.drop_index('t_a_idx')\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_revision_that_cannot_render_offline_is_noted_at_its_line_and_hides_nothing() {
    let dir = alembic_project(
        "    conn = op.get_bind()\n    rows = conn.execute(sa.text('SELECT 1')).fetchall()\n",
        "",
    );
    let out = migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let broken = findings(&r, "malformed-migration");
    assert_eq!(broken.len(), 1, "{r:#}");
    assert!(ends(&broken[0]["file"], "db/versions/aa01_first.py"));
    assert_eq!(broken[0]["line"], 10, "{:#}", broken[0]);
    assert!(broken[0]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be rendered offline"));
    // The next revision is still reviewed.
    let index = findings(&r, "create-index-non-concurrently");
    assert!(ends(&index[0]["file"], "db/versions/bb02_second.py"));
    assert_eq!(index[0]["line"], 7);
}

#[test]
fn a_revision_file_that_does_not_import_is_noted_and_the_others_are_reviewed() {
    let dir = alembic_project("    op.execute('CREATE TABLE t (a int)')\n", "");
    std::fs::write(
        dir.path().join("db/versions/cc03_broken.py"),
        "# owner: @late-team\nfrom alembic import op\nrevision = 'cc03'\n\
         down_revision = 'bb02'\n\n\ndef upgrade(:\n    pass\n",
    )
    .unwrap();
    let out = migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let broken = findings(&r, "malformed-migration");
    assert_eq!(broken.len(), 1, "{r:#}");
    assert!(ends(&broken[0]["file"], "cc03_broken.py"));
    assert_eq!(broken[0]["line"], 7);
    assert!(broken[0]["message"]
        .as_str()
        .unwrap()
        .contains("SyntaxError"));
    assert_eq!(broken[0]["owner"], "@late-team");
    let index = findings(&r, "create-index-non-concurrently");
    assert!(ends(&index[0]["file"], "bb02_second.py"), "{r:#}");
}

#[test]
fn env_py_decides_whether_a_concurrent_index_runs_in_a_transaction() {
    let body = "    op.create_index('t_a_idx', 't', ['a'], postgresql_concurrently=True)\n";
    // Transactional DDL (PostgreSQL's default): alembic wraps it in BEGIN, PostgreSQL refuses.
    let dir = alembic_project(body, "");
    let r = json_of(&migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    ));
    let refused = findings(&r, "concurrently-in-transaction");
    assert_eq!(refused.len(), 1, "{r:#}");
    assert_eq!(refused[0]["severity"], "error");
    assert_eq!(refused[0]["line"], 9);
    // transactional_ddl off: each statement on its own, and the index build is fine.
    let dir = alembic_project(body, "EXTRA = {'transactional_ddl': False}");
    let r = json_of(&migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    ));
    assert!(
        findings(&r, "concurrently-in-transaction").is_empty(),
        "{r:#}"
    );
    assert_eq!(migration(&r, "aa01_first.py")["transaction"], "statement");
}

#[test]
fn migsafe_toml_names_the_interpreter() {
    let dir = alembic_project("    op.execute('CREATE TABLE t (a int)')\n", "");
    // An interpreter named relative to migsafe.toml's folder (a wrapper of the test venv's).
    std::fs::create_dir_all(dir.path().join(".tools/bin")).unwrap();
    let wrapper = dir.path().join(".tools/bin/python");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec {} \"$@\"\n", python())).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        dir.path().join("migsafe.toml"),
        "[python]\ninterpreter = \".tools/bin/python\"\ntimeout = 60\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    // The configured interpreter wins over MIGSAFE_PYTHON, also from another folder.
    let out = migsafe(
        &dir.path().join("sub"),
        &["check", "../db/versions", "--format", "json"],
        &[("MIGSAFE_PYTHON", "/nonexistent/python3")],
    );
    let r = json_of(&out);
    assert_eq!(r["migrations"].as_array().unwrap().len(), 2, "{r:#}");
}

#[test]
fn a_suppression_comment_above_an_op_silences_its_finding() {
    let dir = alembic_project("    op.execute('CREATE TABLE t (a int)')\n", "");
    std::fs::write(
        dir.path().join("db/versions/bb02_second.py"),
        "from alembic import op\nrevision = 'bb02'\ndown_revision = 'aa01'\n\n\n\
         def upgrade():\n    \
         # migsafe:allow create-index-non-concurrently reason: t is created empty in aa01\n    \
         op.create_index('t_a_idx', 't', ['a'])\n    op.create_index('t_b_idx', 't', ['a'])\n\n\n\
         def downgrade():\n    op.drop_index('t_a_idx')\n",
    )
    .unwrap();
    let out = migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let index = findings(&r, "create-index-non-concurrently");
    // Only the op below the comment is silenced; the next one is still flagged on its line.
    assert_eq!(index.len(), 1, "{index:#?}");
    assert_eq!(index[0]["line"], 9);
    assert!(findings(&r, "unused-suppression").is_empty(), "{r:#}");
}

#[test]
fn the_framework_never_sees_the_database_url_or_libpq_settings() {
    // The revision writes what it sees into its SQL, so the review shows it.
    let dir = alembic_project(
        "    import os\n    op.execute(\"ALTER TABLE t ALTER COLUMN note SET DEFAULT '%s|%s|%s'\" % (os.environ.get('DATABASE_URL'), \
         os.environ.get('PGPASSWORD'), os.environ.get('ORDERS_DB_URL')))\n",
        "",
    );
    let secret = "postgresql://app:hunter2@prod-db.internal:5432/shop";
    let out = migsafe(
        dir.path(),
        &["check", "db/versions", "--format", "json"],
        &[
            ("DATABASE_URL", secret),
            ("PGPASSWORD", "hunter2"),
            ("ORDERS_DB_URL", secret),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    assert!(
        text.contains("migsafe-render.invalid/migsafe|None|None"),
        "the child should see the placeholder URL: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_python_without_alembic_is_a_clear_error_naming_the_command() {
    let dir = alembic_project("    op.execute('SELECT 1')\n", "");
    // A Python that runs but has no alembic: the venv's interpreter without site-packages.
    let wrapper = dir.path().join("bare-python");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {} -S \"$@\"\n", python()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = migsafe(
        dir.path(),
        &["check", "db/versions"],
        &[("MIGSAFE_PYTHON", wrapper.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bare-python -c <migsafe renderer>"), "{err}");
    assert!(err.contains("cannot import alembic"), "{err}");
    assert!(
        err.contains("db/versions") || err.contains("versions"),
        "{err}"
    );

    let out = migsafe(
        dir.path(),
        &["check", "db/versions"],
        &[("MIGSAFE_PYTHON", "/nonexistent/python3")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/python3") && err.contains("[python] interpreter"),
        "{err}"
    );
}

#[test]
fn a_broken_env_py_is_an_error_with_its_traceback() {
    let dir = alembic_project(
        "    op.execute('SELECT 1')\n",
        "raise RuntimeError('SECRET_KEY is not set')",
    );
    let out = migsafe(dir.path(), &["check", "db/versions"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SECRET_KEY is not set"), "{err}");
    assert!(err.contains("alembic upgrade heads --sql"), "{err}");
}

#[test]
fn a_plain_folder_of_python_files_never_runs_python() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let spy = dir.path().join("spy-python");
    std::fs::write(
        &spy,
        format!("#!/bin/sh\ntouch {}\nexit 1\n", marker.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&spy, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let folder = dir.path().join("migrations");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("001_init.sql"), "CREATE TABLE t (id bigint);\n").unwrap();
    std::fs::write(
        folder.join("0002_helper.py"),
        "revision = 'x'\ndown_revision = None\n",
    )
    .unwrap();
    let out = migsafe(
        dir.path(),
        &["check", "migrations", "--format", "json"],
        &[("MIGSAFE_PYTHON", spy.to_str().unwrap())],
    );
    let r = json_of(&out);
    assert_eq!(r["migrations"].as_array().unwrap().len(), 1);
    assert!(!marker.exists(), "a plain folder started Python");
}

const NOTE_MIGRATION: &str = "orders/migrations/0002_order_note_customer_index.py";
const BACKFILL_MIGRATION: &str = "orders/migrations/0003_status_index_backfill.py";

#[test]
fn django_app_migrations_give_findings_at_the_operation_lines_with_people_facts() {
    let dir = fixture("django_shop");
    let out = migsafe(
        &dir,
        &["check", "orders/migrations", "--format", "json"],
        &[],
    );
    let r = json_of(&out);
    let versions: Vec<&str> = r["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        vec![
            "orders.0001_initial",
            "orders.0002_order_note_customer_index",
            "orders.0003_status_index_backfill"
        ]
    );
    // AddIndex is on line 20 of 0002; its SQL is reviewed there.
    let index = findings(&r, "create-index-non-concurrently");
    assert_eq!(index.len(), 1, "{index:#?}");
    assert!(ends(&index[0]["file"], NOTE_MIGRATION));
    assert_eq!(index[0]["line"], 20);
    assert_eq!(index[0]["owner"], "@orders-team");
    let note = migration(&r, NOTE_MIGRATION);
    assert_eq!(note["owner"], "@orders-team");
    assert_eq!(note["expected"][0]["text"], "succeeds");
    assert_eq!(note["transaction"], "file");
    // sqlmigrate --backwards is the rollback.
    assert_eq!(note["rollback"]["source"], "down_file");
    assert!(note["rollback"]["text"]
        .as_str()
        .unwrap()
        .contains("DROP INDEX"));

    // atomic = False: AddIndexConcurrently runs outside a transaction, as Django runs it.
    let backfill = migration(&r, BACKFILL_MIGRATION);
    assert_eq!(backfill["transaction"], "statement");
    assert!(backfill["transaction_source"]
        .as_str()
        .unwrap()
        .contains("atomic = False"));
    assert!(findings(&r, "concurrently-in-transaction").is_empty());
    // The docstring carries the people facts.
    assert_eq!(backfill["owner"], "@orders-team");
    assert_eq!(backfill["rollback"]["irreversible"], true);
    // SeparateDatabaseAndState: its database operation is reviewed, on its line.
    let not_null = findings(&r, "set-not-null");
    assert_eq!(not_null.len(), 1, "{not_null:#?}");
    assert!(ends(&not_null[0]["file"], BACKFILL_MIGRATION));
    assert_eq!(not_null[0]["line"], 29);
    // RunPython is listed as not reviewable, with its line.
    let skipped = r["skipped_migrations"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| ends(&s["path"], BACKFILL_MIGRATION)
            && s["reason"]
                .as_str()
                .unwrap()
                .contains("RunPython at line 28")),
        "{skipped:#?}"
    );
}

#[test]
fn django_settings_that_fail_are_an_error_naming_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("app/migrations")).unwrap();
    std::fs::write(
        root.join("manage.py"),
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_settings')\n",
    )
    .unwrap();
    std::fs::write(
        root.join("site_settings.py"),
        "import os\nSECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n",
    )
    .unwrap();
    std::fs::write(root.join("app/__init__.py"), "").unwrap();
    std::fs::write(root.join("app/migrations/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("app/migrations/0001_initial.py"),
        "from django.db import migrations\n\nclass Migration(migrations.Migration):\n    operations = []\n",
    )
    .unwrap();
    let out = migsafe(root, &["check", "app/migrations"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("site_settings") && err.contains("DJANGO_SECRET_KEY"),
        "{err}"
    );
    assert!(err.contains("<migsafe renderer>"), "{err}");
}

/// A copy of the fixture project in a temporary folder, so that execution tests do not share
/// anything with the static ones.
fn copy_project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn alembic_on_a_clone_starts_from_the_copys_alembic_version() {
    let db = TestDb::create("py_alembic").await;
    // The copy is at the first revision: its table exists and alembic recorded it.
    db.execute(
        "CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
         customer_id bigint NOT NULL, status varchar(20) NOT NULL, created_at timestamptz DEFAULT now());
         INSERT INTO orders (customer_id, status) SELECT g, 'new' FROM generate_series(1, 500) g;
         CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('1a2b3c4d5e6f');",
    )
    .await;
    let dir = copy_project("alembic_shop");
    let out = migsafe(
        dir.path(),
        &[
            "check",
            "migrations/versions",
            "--database-url",
            &db.url,
            "--clone",
            "--format",
            "json",
        ],
        &[],
    );
    let r = json_of(&out);
    assert_eq!(r["evidence"], "execution", "{r:#}");
    let skipped = r["skipped_migrations"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| ends(&s["path"], "1a2b3c4d5e6f_create_orders.py")
                && s["reason"].as_str().unwrap().contains("alembic_version")),
        "{skipped:#?}"
    );
    let index = migration(&r, INDEX_REV);
    let timeline = index["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|t| t["statement"]
            .as_str()
            .unwrap()
            .contains("CREATE INDEX orders_status_idx")
            && t["failed"] != true),
        "{index:#}"
    );
    // downgrade() was verified on the clone: up, down, compare.
    assert_eq!(index["rollback"]["status"], "restores", "{index:#}");
    // The backfill on the branch ran on real rows of the copy.
    let backfill = migration(&r, "3c4d5e6f7081_backfill_status.py");
    assert!(
        backfill["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["rows"] == 500),
        "{backfill:#}"
    );
    // Nothing was written to the copy itself.
    let mut conn = db.connect().await;
    let (version,): (String,) = sqlx::query_as("SELECT version_num::text FROM alembic_version")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, "1a2b3c4d5e6f");
    let (notes,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(notes, 0);
}

#[tokio::test]
async fn django_on_a_clone_starts_from_the_copys_django_migrations() {
    let db = TestDb::create("py_django").await;
    db.execute(
        "CREATE TABLE orders_order (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
         customer_id bigint NOT NULL, status varchar(20) NOT NULL, created_at timestamptz NOT NULL);
         INSERT INTO orders_order (customer_id, status, created_at) SELECT g, 'new', now() FROM generate_series(1, 300) g;
         CREATE TABLE django_migrations (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
         app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
         INSERT INTO django_migrations (app, name, applied) VALUES ('orders', '0001_initial', now());",
    )
    .await;
    let dir = copy_project("django_shop");
    let out = migsafe(
        dir.path(),
        &[
            "check",
            "orders/migrations",
            "--database-url",
            &db.url,
            "--clone",
            "--format",
            "json",
        ],
        &[],
    );
    let r = json_of(&out);
    assert_eq!(r["evidence"], "execution", "{r:#}");
    let skipped = r["skipped_migrations"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| ends(&s["path"], "0001_initial.py")
            && s["reason"].as_str().unwrap().contains("django_migrations")),
        "{skipped:#?}"
    );
    let note = migration(&r, NOTE_MIGRATION);
    assert!(
        note["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["statement"]
                .as_str()
                .unwrap()
                .contains("ADD COLUMN \"note\"")
                && t["failed"] != true),
        "{note:#}"
    );
    // The backwards SQL was verified on the clone.
    assert_eq!(note["rollback"]["status"], "restores", "{note:#}");
    // The concurrent index of the non-atomic migration ran outside a transaction.
    let backfill = migration(&r, BACKFILL_MIGRATION);
    assert!(
        backfill["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["statement"]
                .as_str()
                .unwrap()
                .contains("CREATE INDEX CONCURRENTLY")
                && t["failed"] != true),
        "{backfill:#}"
    );
}
