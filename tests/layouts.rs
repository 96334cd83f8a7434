//! Loading every supported migration layout from `fixtures/layouts/`: framework order, up/down
//! pairing, transaction semantics, segments, headers, stdin, `--layout` and the error cases.

use migsafe::load::{load, load_text};
use migsafe::model::{Layout, Migration, Part, Transaction};
use std::io::{self, Cursor};
use std::path::PathBuf;

fn load_paths(paths: &[&str], layout: Option<Layout>) -> Vec<Migration> {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    load(&paths, layout, &mut io::empty()).unwrap()
}

fn load_dir(dir: &str) -> Vec<Migration> {
    load_paths(&[dir], None)
}

fn versions(migrations: &[Migration]) -> Vec<&str> {
    migrations
        .iter()
        .map(|m| m.version.as_deref().unwrap_or("-"))
        .collect()
}

/// The SQL of a part as the parser will see it: its segments, in order.
fn modes(migrations: &[Migration]) -> Vec<Transaction> {
    migrations.iter().map(|m| m.up.transaction).collect()
}

fn sql(part: &Part) -> String {
    part.segments
        .iter()
        .map(|s| &part.file.text[s.range.clone()])
        .collect::<Vec<_>>()
        .join("\n")
}

fn down_sql(m: &Migration) -> Option<String> {
    m.down.as_ref().map(sql)
}

fn header(m: &Migration) -> &str {
    &m.up.file.text[m.header.clone()]
}

fn by_version<'a>(migrations: &'a [Migration], version: &str) -> &'a Migration {
    migrations
        .iter()
        .find(|m| m.version.as_deref() == Some(version))
        .unwrap_or_else(|| panic!("no migration {version} in {:?}", versions(migrations)))
}

#[test]
fn plain_folder_is_ordered_numerically_with_transaction_markers() {
    let ms = load_dir("fixtures/layouts/plain");
    assert_eq!(versions(&ms), ["1", "2", "3", "10"]);
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Plain && m.down.is_none()));
    assert_eq!(
        ms.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        [
            "create_customers",
            "create_orders",
            "backfill_order_status",
            "add_orders_placed_at_index"
        ]
    );
    assert_eq!(ms[0].path, "fixtures/layouts/plain/1_create_customers.sql");
    // Nobody says how a plain folder is run, also for a file that opens its own
    // transaction; `-- no-transaction` says each statement runs on its own.
    assert_eq!(
        modes(&ms),
        [
            Transaction::Unknown,
            Transaction::Unknown,
            Transaction::Unknown,
            Transaction::Statement
        ]
    );
    assert!(sql(&ms[1].up).contains("CREATE INDEX orders_customer_id_idx ON orders (customer_id);"));
    assert!(sql(&ms[2].up).contains("BEGIN;\nSET LOCAL lock_timeout = '2s';"));
    assert_eq!(
        header(&ms[0]),
        "-- owner: @crm-team\n-- expect: succeeds\n-- rollback: DROP TABLE customers;"
    );
    assert!(header(&ms[3]).starts_with("-- no-transaction\n-- owner: @payments-team"));
    assert!(ms.iter().all(|m| m.load_notes.is_empty()));
}

#[test]
fn sqlx_reversible_pairs_by_version() {
    let ms = load_dir("fixtures/layouts/sqlx");
    assert_eq!(
        versions(&ms),
        ["20240105093000", "20240212141500", "20240301080000"]
    );
    assert!(ms.iter().all(|m| m.layout == Layout::Sqlx));
    let index = &ms[1];
    assert_eq!(index.name, "add_users_email_index");
    // `-- no-transaction`: one query without BEGIN, an implicit transaction.
    assert_eq!(index.up.transaction, Transaction::Implicit);
    let down = index
        .down
        .as_ref()
        .expect("down file pairs with the up file");
    assert_eq!(down.transaction, Transaction::Implicit);
    assert_eq!(
        down.file.display,
        "fixtures/layouts/sqlx/20240212141500_add_users_email_index.down.sql"
    );
    assert!(sql(&index.up).contains("CREATE UNIQUE INDEX CONCURRENTLY users_email_idx"));
    assert_eq!(
        (ms[0].up.transaction, ms[2].up.transaction),
        (Transaction::File, Transaction::File)
    );
    assert_eq!(
        down_sql(&ms[2]).unwrap().trim(),
        "ALTER TABLE users DROP COLUMN last_login_at;"
    );
    // The orphan `.down.sql` (no up file) is not a migration.
    assert!(ms.iter().all(|m| !m.path.contains("legacy_sessions")));
}

#[test]
fn sqlx_simple_files_are_detected_by_timestamp_names() {
    let ms = load_dir("fixtures/layouts/sqlx-simple");
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Sqlx && m.down.is_none()));
    assert_eq!(
        modes(&ms),
        [Transaction::File, Transaction::Implicit, Transaction::File]
    );
}

#[test]
fn golang_migrate_orders_by_integer_version() {
    let ms = load_dir("fixtures/layouts/golang-migrate");
    assert_eq!(versions(&ms), ["1", "2", "10"]);
    assert!(ms.iter().all(|m| m.layout == Layout::GolangMigrate));
    assert!(ms.iter().all(|m| m.down.is_some()));
    // The driver sends each file in one Exec: one implicit transaction, also for a file
    // that opens its own (its BEGIN makes the implicit transaction explicit).
    assert_eq!(modes(&ms), [Transaction::Implicit; 3]);
    assert!(sql(&ms[1].up).contains("CREATE TABLE transfers"));
    assert_eq!(
        down_sql(&ms[0]).unwrap().trim(),
        "DROP TABLE IF EXISTS accounts;"
    );
    // 7_…down.sql has no up file and README.md is not SQL: both ignored.
    assert_eq!(ms.len(), 3);
    assert_eq!(header(&ms[0]), "-- owner: @ledger-team");
}

#[test]
fn diesel_orders_folders_by_dashless_version() {
    let ms = load_dir("fixtures/layouts/diesel");
    assert_eq!(
        versions(&ms),
        [
            "00000000000000",
            "20240115103000",
            "20240220160000",
            "20240305101500",
            "20241201000000"
        ]
    );
    assert!(ms.iter().all(|m| m.layout == Layout::Diesel));
    let index = by_version(&ms, "20240305101500");
    assert_eq!(
        index.path,
        "fixtures/layouts/diesel/20240305101500_add_posts_published_index/up.sql"
    );
    assert_eq!(index.name, "add_posts_published_index");
    // metadata.toml run_in_transaction = false: one batch_execute, an implicit transaction.
    assert_eq!(index.up.transaction, Transaction::Implicit);
    assert_eq!(
        index.down.as_ref().unwrap().transaction,
        Transaction::Implicit
    );
    assert!(ms
        .iter()
        .filter(|m| m.version.as_deref() != Some("20240305101500"))
        .all(|m| m.up.transaction == Transaction::File));
    // diesel's generated comment-only down.sql is kept as a down part without SQL, so that
    // the report can say the down migration is empty.
    let generated = by_version(&ms, "20240115103000")
        .down
        .as_ref()
        .expect("the down.sql exists");
    assert!(
        sql(generated).trim().starts_with("-- "),
        "{}",
        sql(generated)
    );
    assert!(!sql(generated)
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")));
    assert_eq!(
        down_sql(by_version(&ms, "20240220160000")).unwrap().trim(),
        "DROP TABLE posts;"
    );
    assert!(sql(&ms[0].up).contains("CREATE OR REPLACE FUNCTION diesel_manage_updated_at"));
}

#[test]
fn goose_sections_statement_blocks_and_no_transaction() {
    let ms = load_dir("fixtures/layouts/goose");
    assert_eq!(versions(&ms), ["1", "2", "10"]);
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Goose && m.load_notes.is_empty()));

    let products = &ms[0];
    assert!(sql(&products.up).contains("CREATE TABLE products"));
    assert!(!sql(&products.up).contains("DROP TABLE"));
    assert_eq!(down_sql(products).unwrap().trim(), "DROP TABLE products;");
    assert_eq!(header(products), "-- owner: @catalog-team\n-- +goose Up");

    let trigger = &ms[1];
    let blocks: Vec<_> = trigger
        .up
        .segments
        .iter()
        .filter(|s| s.single_statement)
        .collect();
    assert_eq!(blocks.len(), 1);
    let function = &trigger.up.file.text[blocks[0].range.clone()];
    assert!(function.starts_with("CREATE OR REPLACE FUNCTION products_touch()"));
    assert!(function.trim_end().ends_with("$$ LANGUAGE plpgsql;"));
    assert!(!function.contains("+goose"));
    assert!(trigger.up.segments.iter().any(|s| !s.single_statement
        && trigger.up.file.text[s.range.clone()].contains("CREATE TRIGGER products_touch")));
    assert!(header(trigger).contains("-- owner: @catalog-team"));

    let index = &ms[2];
    assert!(!index.up.transactional());
    assert!(!index.down.as_ref().unwrap().transactional());
    assert!(ms[0].up.transactional() && ms[1].up.transactional());
}

#[test]
fn goose_problems_become_load_notes() {
    let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n";
    let ms = load_text("20240101000000_f.sql", text, Some(Layout::Goose)).unwrap();
    assert_eq!(ms[0].version.as_deref(), Some("20240101000000"));
    assert_eq!(ms[0].load_notes.len(), 1);
    assert!(ms[0].load_notes[0].message.contains("StatementEnd"));
    assert!(sql(&ms[0].up).contains("CREATE FUNCTION f()"));

    let ms = load_text(
        "x.sql",
        "CREATE TABLE t ();\n-- +goose Down\nDROP TABLE t;\n",
        Some(Layout::Goose),
    )
    .unwrap();
    assert!(ms[0]
        .load_notes
        .iter()
        .any(|n| n.message.contains("missing `-- +goose Up`")));
}

#[test]
fn dbmate_blocks_and_transaction_option() {
    let ms = load_dir("fixtures/layouts/dbmate");
    assert_eq!(
        versions(&ms),
        ["20240110120000", "20240115090000", "20240120170000"]
    );
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Dbmate && m.load_notes.is_empty()));
    let index = &ms[1];
    // transaction:false on each block: one Exec without BEGIN, an implicit transaction.
    assert_eq!(index.up.transaction, Transaction::Implicit);
    assert_eq!(
        index.down.as_ref().unwrap().transaction,
        Transaction::Implicit
    );
    assert!(sql(&index.up).contains("CREATE INDEX CONCURRENTLY invoices_customer_id_idx"));
    // The rollback annotation mentions DROP INDEX; the down block's statement is not in up.
    assert!(!sql(&index.up).contains("\nDROP INDEX"));
    assert!(ms[0].up.transactional() && ms[2].up.transactional());
    assert_eq!(ms[0].up.transaction, Transaction::File);
    assert_eq!(
        down_sql(&ms[2]).unwrap().trim(),
        "ALTER TABLE invoices DROP COLUMN due_at;"
    );
    assert!(header(&ms[2]).contains("-- owner: @billing-team"));
}

#[test]
fn flyway_versions_undo_conf_and_repeatables() {
    let ms = load_dir("fixtures/layouts/flyway");
    assert_eq!(
        versions(&ms),
        ["0.5", "1", "1.9", "1.10", "2", "3", "-", "-"]
    );
    assert!(ms.iter().all(|m| m.layout == Layout::Flyway));
    assert_eq!(
        ms[0].path,
        "fixtures/layouts/flyway/legacy/V0_5__create_hr_schema.sql"
    );

    let index = by_version(&ms, "1.10");
    assert!(
        !index.up.transactional(),
        "executeInTransaction=false in .conf"
    );
    let undo = index.down.as_ref().expect("U1.10 is the undo of V1.10");
    assert!(undo
        .file
        .display
        .ends_with("U1.10__add_employees_email_index.sql"));
    assert!(!undo.transactional());
    assert_eq!(
        down_sql(by_version(&ms, "1")).unwrap().trim(),
        "DROP TABLE employees;"
    );
    assert!(by_version(&ms, "1.9").down.is_none());
    assert!(by_version(&ms, "1.9").up.transactional());
    assert!(
        !by_version(&ms, "3").up.transactional(),
        "inline -- flyway:executeInTransaction=false"
    );

    let repeatables: Vec<_> = ms.iter().filter(|m| m.repeatable).collect();
    assert_eq!(
        repeatables
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["audit_function", "employee_directory_view"]
    );
    assert!(ms[..6].iter().all(|m| !m.repeatable));
    assert!(sql(&repeatables[1].up).contains("CREATE OR REPLACE VIEW employee_directory"));
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn alembic_offline_sections_in_one_transaction() {
    let text = fixture("fixtures/layouts/alembic/upgrade_head.sql");
    let ms = load_text("-", &text, None).unwrap();
    assert_eq!(
        versions(&ms),
        ["1975ea83b712", "ae1027a6acf", "27c6a30d7c24"]
    );
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Alembic && m.path == "-"));
    assert!(ms.iter().all(|m| m.up.transactional()));
    assert_eq!(ms[0].name, "upgrade <base> -> 1975ea83b712");
    let all: Vec<String> = ms.iter().map(|m| sql(&m.up)).collect();
    // The preamble (BEGIN, version table) and the closing COMMIT belong to no revision.
    assert!(all
        .iter()
        .all(|s| !s.contains("CREATE TABLE alembic_version")));
    assert!(all.iter().all(|s| !s.trim_start().starts_with("BEGIN;")));
    assert!(!all[2].trim_end().ends_with("COMMIT;"));
    assert!(all[0].contains("CREATE TABLE account ("));
    assert!(all[1].contains("ALTER TABLE account ADD COLUMN last_transaction_date"));
    // autocommit_block() inside a revision stays for the parser to track.
    assert!(all[2].contains("COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_account_name"));
    assert_eq!(
        header(&ms[0]),
        "-- owner: @accounts-team\n-- expect: succeeds"
    );
    assert_eq!(header(&ms[2]), "");
}

#[test]
fn alembic_downgrade_sections_are_down_parts() {
    let ms = load_paths(&["fixtures/layouts/alembic/roundtrip.sql"], None);
    assert_eq!(versions(&ms), ["3512b954651e", "4d7f0a1b2c3e"]);
    assert!(ms
        .iter()
        .all(|m| m.path == "fixtures/layouts/alembic/roundtrip.sql"));
    assert!(sql(&ms[1].up).contains("SET NOT NULL"));
    assert!(!sql(&ms[1].up).contains("COMMIT;"));
    let down = down_sql(&ms[1]).unwrap();
    assert!(down.contains("ALTER TABLE account ALTER COLUMN email DROP NOT NULL;"));
    assert!(!down.contains("DROP COLUMN email"));
    assert!(down_sql(&ms[0])
        .unwrap()
        .contains("ALTER TABLE account DROP COLUMN email;"));
    assert!(header(&ms[0]).contains("-- rollback: downgrade section below"));
}

#[test]
fn alembic_without_begin_is_not_transactional() {
    let ms = load_dir("fixtures/layouts/alembic");
    // Files in name order, sections in file order.
    assert_eq!(
        versions(&ms),
        [
            "5e8a9b0c1d2f",
            "6f9b0c1d2e3a",
            "3512b954651e",
            "4d7f0a1b2c3e",
            "1975ea83b712",
            "ae1027a6acf",
            "27c6a30d7c24"
        ]
    );
    assert!(!ms[0].up.transactional() && !ms[1].up.transactional());
    assert!(ms[2..].iter().all(|m| m.up.transactional()));
}

#[test]
fn stdin_is_read_once_and_detected_from_content() {
    let django = "BEGIN;\n--\n-- Add field status to order\n--\nALTER TABLE \"shop_order\" ADD COLUMN \"status\" varchar(20) DEFAULT 'new' NOT NULL;\nCOMMIT;\n";
    let paths = [PathBuf::from("-"), PathBuf::from("-")];
    let ms = load(&paths, None, &mut Cursor::new(django.as_bytes())).unwrap();
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    assert_eq!(
        (m.path.as_str(), m.layout, m.version.as_deref()),
        ("-", Layout::Plain, None)
    );
    assert!(
        !m.up.transactional(),
        "sqlmigrate output manages its own transaction"
    );
    assert_eq!(sql(&m.up), django);

    let goose = "-- +goose Up\r\nCREATE TABLE t (id int);\r\n-- +goose Down\r\nDROP TABLE t;\r\n";
    let ms = load(
        &[PathBuf::from("-")],
        None,
        &mut Cursor::new(goose.as_bytes()),
    )
    .unwrap();
    assert_eq!(ms[0].layout, Layout::Goose);
    assert_eq!(sql(&ms[0].up).trim(), "CREATE TABLE t (id int);");

    let err = load(&[PathBuf::from("-")], None, &mut Cursor::new(b" \n")).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "no migrations found in standard input (it was empty)"
    );

    let alembic = fixture("fixtures/layouts/alembic/upgrade_head.sql");
    let ms = load(
        &[PathBuf::from("-")],
        None,
        &mut Cursor::new(alembic.into_bytes()),
    )
    .unwrap();
    assert_eq!(ms.len(), 3);
}

#[test]
fn layout_override_beats_detection() {
    // The goose folder read as plain: whole files, markers are just comments.
    let ms = load_paths(&["fixtures/layouts/goose"], Some(Layout::Plain));
    assert_eq!(versions(&ms), ["1", "2", "10"]);
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Plain && m.down.is_none()));
    assert!(sql(&ms[0].up).contains("DROP TABLE products;"));

    let ms = load_text("-", "-- migrate:up\nSELECT 1;\n", Some(Layout::Plain)).unwrap();
    assert_eq!(ms[0].layout, Layout::Plain);
    let ms = load_text("-", "SELECT 1;\n", Some(Layout::Dbmate)).unwrap();
    assert_eq!(ms[0].layout, Layout::Dbmate);
    assert!(!ms[0].load_notes.is_empty());

    // The golang-migrate folder forced to sqlx: pairs still match, transactions follow sqlx.
    let ms = load_paths(&["fixtures/layouts/golang-migrate"], Some(Layout::Sqlx));
    assert!(ms
        .iter()
        .all(|m| m.layout == Layout::Sqlx && m.up.transactional()));
}

#[test]
fn a_file_given_directly_brings_its_companions() {
    let ms = load_paths(
        &["fixtures/layouts/sqlx/20240212141500_add_users_email_index.up.sql"],
        None,
    );
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].layout, Layout::Sqlx);
    assert!(ms[0].down.is_some());

    let ms = load_paths(
        &["fixtures/layouts/flyway/V1.10__add_employees_email_index.sql"],
        None,
    );
    assert_eq!(versions(&ms), ["1.10"]);
    assert!(!ms[0].up.transactional() && ms[0].down.is_some());

    let ms = load_paths(
        &["fixtures/layouts/diesel/20240305101500_add_posts_published_index/down.sql"],
        None,
    );
    assert_eq!(versions(&ms), ["20240305101500"]);
    assert_eq!(ms[0].up.transaction, Transaction::Implicit);

    let ms = load_paths(
        &["fixtures/layouts/goose/2_add_products_touch_trigger.sql"],
        None,
    );
    assert_eq!(
        (ms[0].layout, ms[0].version.as_deref()),
        (Layout::Goose, Some("2"))
    );

    let ms = load_paths(
        &["fixtures/layouts/plain/10_add_orders_placed_at_index.sql"],
        None,
    );
    assert_eq!(
        (ms[0].layout, ms[0].version.as_deref()),
        (Layout::Plain, Some("10"))
    );
}

#[test]
fn several_paths_concatenate_in_order_without_duplicates() {
    let ms = load_paths(
        &[
            "fixtures/layouts/goose",
            "fixtures/layouts/plain/2_create_orders.sql",
            "fixtures/layouts/goose/1_create_products.sql",
        ],
        None,
    );
    assert_eq!(versions(&ms), ["1", "2", "10", "2"]);
    assert_eq!(ms[3].layout, Layout::Plain);
}

#[test]
fn missing_path_is_an_error_naming_it() {
    let paths = [PathBuf::from("fixtures/layouts/no-such-folder")];
    let err = load(&paths, None, &mut io::empty()).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "Failed to read fixtures/layouts/no-such-folder: no such file or directory"
    );
}

#[test]
fn folder_without_migrations_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "nothing here").unwrap();
    let err = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.starts_with("no migrations found in "), "{message}");
    assert!(
        message.contains("(looked for numbered .sql files"),
        "{message}"
    );

    let err = load(
        &[dir.path().to_path_buf()],
        Some(Layout::Flyway),
        &mut io::empty(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("V<version>__<description>.sql"));
}

#[test]
fn invalid_utf8_file_is_a_note_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_ok.sql"), "CREATE TABLE a (id int);\n").unwrap();
    std::fs::write(
        dir.path().join("2_latin1.sql"),
        b"-- owner: @a\nINSERT INTO cities VALUES ('Montr\xe9al');\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("3_bom.sql"),
        b"\xEF\xBB\xBF-- owner: @b\nSELECT 1;\n",
    )
    .unwrap();
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(versions(&ms), ["1", "2", "3"]);
    assert!(ms[0].load_notes.is_empty() && !ms[0].up.segments.is_empty());

    let bad = &ms[1];
    assert!(bad.up.segments.is_empty());
    assert_eq!(bad.load_notes.len(), 1);
    assert_eq!(
        bad.load_notes[0].message,
        "not valid UTF-8 (first invalid byte at line 2, column 34); save the file as UTF-8"
    );
    assert_eq!(bad.up.file.line_col(bad.load_notes[0].offset), (2, 34));

    let bom = &ms[2];
    assert_eq!(bom.up.file.text, "-- owner: @b\nSELECT 1;\n");
    assert_eq!(header(bom), "-- owner: @b");
}

#[test]
fn load_text_is_one_plain_migration_by_default() {
    let ms = load_text("test.sql", "CREATE INDEX i ON t (a);", None).unwrap();
    assert_eq!(ms.len(), 1);
    let m = &ms[0];
    // A lone plain file: nobody says how it is run.
    assert_eq!(
        (m.path.as_str(), m.layout, m.up.transaction),
        ("test.sql", Layout::Plain, Transaction::Unknown)
    );
    assert_eq!(sql(&m.up), "CREATE INDEX i ON t (a);");
    assert_eq!(m.header, 0..0);
}

fn write(dir: &std::path::Path, name: &str, content: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, content).unwrap();
}

#[test]
fn duplicate_versions_are_noted_on_the_later_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "V1__create_a.sql",
        b"CREATE TABLE a (id bigint);\n",
    );
    write(
        dir.path(),
        "V1.0__create_b.sql",
        b"CREATE TABLE b (id bigint);\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(ms.len(), 2);
    assert!(ms[0].load_notes.is_empty());
    assert_eq!(ms[1].load_notes.len(), 1);
    assert!(ms[1].load_notes[0]
        .message
        .starts_with("duplicate version 1.0: "));
    assert!(ms[1].load_notes[0]
        .message
        .ends_with("V1__create_a.sql has the same version; Flyway refuses to run both"));
}

#[test]
fn companion_file_problems_are_noted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "2024-01-01-000000_add_flag/up.sql",
        b"ALTER TABLE users ADD COLUMN flag boolean;\n",
    );
    write(
        dir.path(),
        "2024-01-01-000000_add_flag/metadata.toml",
        b"run_in_transaction = nope\n",
    );
    write(dir.path(), "20240101000000_add_flag.up.sql", b"SELECT 1;\n");
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(
        ms.len(),
        1,
        "diesel folders outnumber nothing; the loose file is ignored"
    );
    assert!(ms[0].up.transactional());
    assert!(ms[0].load_notes[0]
        .message
        .contains("metadata.toml is not valid TOML"));

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "000001_add_flag.up.sql",
        b"ALTER TABLE users ADD COLUMN flag boolean;\n",
    );
    write(
        dir.path(),
        "000001_add_flag.down.sql",
        b"ALTER TABLE users DROP COLUMN flag; -- \xff\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(ms[0].layout, Layout::GolangMigrate);
    assert_eq!(ms[0].version.as_deref(), Some("1"));
    let down = ms[0]
        .down
        .as_ref()
        .expect("the down file exists, even if unreadable as UTF-8");
    assert!(down.segments.is_empty());
    assert!(ms[0].load_notes[0].message.starts_with("down file "));
    assert!(ms[0].load_notes[0]
        .message
        .contains("000001_add_flag.down.sql: not valid UTF-8"));
}

#[test]
fn dbmate_malformed_files_are_noted() {
    let text = "-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (id int);\n";
    let ms = load_text("20240101000000_t.sql", text, None).unwrap();
    let m = &ms[0];
    assert_eq!(m.layout, Layout::Dbmate);
    assert!(m.load_notes[0].message.contains("before `-- migrate:up`"));
    assert_eq!(sql(&m.up).trim(), "CREATE TABLE t (id int);");
    assert_eq!(down_sql(m).unwrap().trim(), "DROP TABLE t;");
}

#[cfg(unix)]
#[test]
fn unreadable_migration_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_ok.sql", b"SELECT 1;\n");
    std::os::unix::fs::symlink(
        dir.path().join("missing.sql"),
        dir.path().join("2_gone.sql"),
    )
    .unwrap();
    let err = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.starts_with("Failed to read "), "{message}");
    assert!(
        message.ends_with("/2_gone.sql: no such file or directory"),
        "{message}"
    );
}

/// The SQL lines of a part: what is left once comment lines and blank lines are dropped.
fn sql_lines(part: &Part) -> Vec<String> {
    sql(part)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(str::to_string)
        .collect()
}

#[test]
fn down_parts_with_only_comments_are_kept_without_sql() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_flags.up.sql",
        b"CREATE TABLE flags (id int);\n",
    );
    write(dir.path(), "1_flags.down.sql", b"-- nothing yet\n");
    write(
        dir.path(),
        "2_more.up.sql",
        b"CREATE TABLE more (id int);\n",
    );
    write(dir.path(), "2_more.down.sql", b"");
    write(
        dir.path(),
        "3_last.up.sql",
        b"CREATE TABLE last (id int);\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    let comment_only = ms[0]
        .down
        .as_ref()
        .expect("a comment-only down file counts");
    assert_eq!(sql(comment_only).trim(), "-- nothing yet");
    assert!(sql_lines(comment_only).is_empty());
    let empty = ms[1]
        .down
        .as_ref()
        .expect("an empty down file still exists");
    assert!(empty.segments.is_empty());
    assert!(ms[2].down.is_none(), "no down file at all");

    // goose: a Down section with a comment, one with nothing, and none.
    let goose = |text: &str| load_text("1_x.sql", text, None).unwrap().remove(0);
    let m = goose("-- +goose Up\nDELETE FROM s;\n-- +goose Down\n-- irreversible: gone\n");
    assert_eq!(m.layout, Layout::Goose);
    let down = m.down.as_ref().expect("the Down section is there");
    assert_eq!(sql(down).trim(), "-- irreversible: gone");
    assert!(sql_lines(down).is_empty());
    assert!(goose("-- +goose Up\nDELETE FROM s;\n-- +goose Down\n")
        .down
        .is_some_and(|d| d.segments.is_empty()));
    assert!(goose("-- +goose Up\nDELETE FROM s;\n").down.is_none());

    // dbmate: `dbmate new` writes an empty down block.
    let dbmate = |text: &str| {
        load_text("20240101000000_x.sql", text, None)
            .unwrap()
            .remove(0)
    };
    let m = dbmate("-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\n\n");
    assert_eq!(m.layout, Layout::Dbmate);
    assert!(m.down.is_some_and(|d| d.segments.is_empty()));
    let m =
        dbmate("-- migrate:up\nDELETE FROM s;\n-- migrate:down\n-- no rollback: data is gone\n");
    assert_eq!(
        sql(m.down.as_ref().unwrap()).trim(),
        "-- no rollback: data is gone"
    );

    // alembic: a downgrade section whose downgrade() does nothing but comment.
    let text = "-- Running upgrade  -> a1\n\nCREATE TABLE t (id int);\n\n\
                -- Running downgrade a1 -> \n\n-- nothing to undo by hand\n";
    let ms = load_text("-", text, None).unwrap();
    assert_eq!(ms.len(), 1);
    let down = ms[0]
        .down
        .as_ref()
        .expect("the downgrade section is a1's down part");
    assert!(sql_lines(down).is_empty(), "{:?}", sql(down));
}

#[test]
fn up_and_down_naming_beats_goose_without_goose_annotations() {
    // A lone `.up.sql` with nothing but SQL and header comments.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_flags.up.sql",
        b"-- owner: @x\n-- expect: succeeds\nCREATE TABLE feature_flags (name text PRIMARY KEY);\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(
        (
            ms.len(),
            ms[0].layout,
            ms[0].version.as_deref(),
            ms[0].name.as_str()
        ),
        (1, Layout::GolangMigrate, Some("1"), "flags")
    );
    assert!(ms[0].load_notes.is_empty(), "{:?}", ms[0].load_notes);
    // The same file given directly.
    let direct = load(&[dir.path().join("1_flags.up.sql")], None, &mut io::empty()).unwrap();
    assert_eq!(direct[0].layout, Layout::GolangMigrate);

    // Next to a goose file, the pair naming still wins: goose would refuse the `.up.sql` file
    // (no `-- +goose Up`), golang-migrate ignores the goose file.
    write(
        dir.path(),
        "2_more.sql",
        b"-- +goose Up\nCREATE TABLE more (id int);\n-- +goose Down\nDROP TABLE more;\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(versions(&ms), ["1"]);
    assert_eq!(ms[0].layout, Layout::GolangMigrate);

    // A `.up.sql` file that carries goose annotations is goose's.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_flags.up.sql",
        b"-- +goose Up\nCREATE TABLE flags (id int);\n-- +goose Down\nDROP TABLE flags;\n",
    );
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert_eq!(ms[0].layout, Layout::Goose);
    assert_eq!(down_sql(&ms[0]).unwrap().trim(), "DROP TABLE flags;");

    // Goose files that outnumber a stray `.up.sql` keep the folder goose.
    write(
        dir.path(),
        "2_a.sql",
        b"-- +goose Up\nCREATE TABLE a (id int);\n",
    );
    write(
        dir.path(),
        "3_b.sql",
        b"-- +goose Up\nCREATE TABLE b (id int);\n",
    );
    write(dir.path(), "4_c.up.sql", b"CREATE TABLE c (id int);\n");
    let ms = load(&[dir.path().to_path_buf()], None, &mut io::empty()).unwrap();
    assert!(ms.iter().all(|m| m.layout == Layout::Goose));
    assert_eq!(versions(&ms), ["1", "2", "3", "4"]);
}
