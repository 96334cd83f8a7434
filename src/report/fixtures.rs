//! Hand-built reports for the format tests: every field a format shows is exercised, with
//! values chosen so that a wrong field in the output is easy to spot in a snapshot.

use crate::model::{
    CopyIdentity, Evidence, ExpectStatus, Expected, Facts, Finding, Layout, LockedTable,
    MigrationSummary, OwnerSource, Phase, Report, Rollback, RollbackSource, RollbackStatus,
    Severity, SkippedMigration, SkippedRule, Summary, TimelineEntry,
};

/// The time the catalog sample is rendered at: 2026-11-26T12:00:00Z, six days and two hours
/// after its copy was last analyzed.
pub const NOW: i64 = 1_795_694_400;

/// What a static run skips: the catalog rules for want of a copy, the execution rules for
/// want of a disposable one.
pub fn static_skips() -> Vec<SkippedRule> {
    let mut skips: Vec<SkippedRule> = [
        "duplicate-index",
        "foreign-key-without-index",
        "drop-index-in-use",
        "schema-drift",
        "seq-scan-on-large-table",
        "dml-touches-many-rows",
    ]
    .into_iter()
    .map(|r| SkippedRule::everywhere(r, "needs --database-url"))
    .collect();
    skips.extend(execution_skips());
    skips
}

/// What a catalog run skips for the whole run.
fn execution_skips() -> Vec<SkippedRule> {
    ["lock-held-too-long", "rollback-does-not-restore"]
        .into_iter()
        .map(|r| SkippedRule::everywhere(r, "needs execution on a disposable copy (--clone)"))
        .collect()
}

const WHY_INDEX: &str =
    "A plain index build holds a SHARE lock on the table for the whole build: every INSERT, \
    UPDATE and DELETE waits until the index is complete.";
const INSTEAD_INDEX: &str =
    "Use `CREATE INDEX CONCURRENTLY` in a migration that does not run inside a transaction.";

fn rollback(text: &str, source: RollbackSource, status: RollbackStatus, detail: &str) -> Rollback {
    Rollback {
        text: text.to_string(),
        source,
        status,
        detail: detail.to_string(),
        irreversible: false,
    }
}

fn expected(text: &str, status: ExpectStatus, detail: &str) -> Expected {
    Expected {
        text: text.to_string(),
        status,
        detail: detail.to_string(),
        line: 2,
    }
}

fn summary(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.severity {
            Severity::Error => s.error += 1,
            Severity::Warning => s.warning += 1,
            Severity::Info => s.info += 1,
        }
    }
    s
}

/// Three migrations (annotated owner with all three expectation statuses and a checked
/// rollback; CODEOWNERS owner with a multi-line down file; no owner, irreversible) and four
/// findings (with and without owner, table and facts), plus a skipped rule.
pub fn sample() -> Report {
    let migrations = vec![
        MigrationSummary {
            timeline: vec![],
            not_executed: None,
            path: "migrations/20240101120000_add_orders_index.sql".into(),
            version: Some("20240101120000".into()),
            name: "add_orders_index".into(),
            layout: Layout::Sqlx,
            in_transaction: true,
            transaction: crate::model::Transaction::File,
            transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
            statements: 2,
            owner: Some("@payments-team".into()),
            owner_source: OwnerSource::Annotation,
            expected: vec![
                expected("rows <= 50000", ExpectStatus::Met, "1,204 rows touched"),
                expected(
                    "plan \"SELECT * FROM orders WHERE customer_id = 42\" uses index orders_customer_id_idx",
                    ExpectStatus::NotMet,
                    "plan is Seq Scan on orders",
                ),
                expected(
                    "lock < 2s",
                    ExpectStatus::NotChecked,
                    "needs a disposable copy (--clone)",
                ),
            ],
            rollback: rollback(
                "DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;",
                RollbackSource::Annotation,
                RollbackStatus::Restores,
                "",
            ),
        },
        MigrationSummary {
            timeline: vec![],
            not_executed: None,
            path: "migrations/20240102090000_drop_legacy.sql".into(),
            version: Some("20240102090000".into()),
            name: "drop_legacy".into(),
            layout: Layout::Sqlx,
            in_transaction: false,
            transaction: crate::model::Transaction::Implicit,
            transaction_source: "sqlx: `-- no-transaction` first line: the file is sent as one query without BEGIN, which PostgreSQL runs as one implicit transaction".into(),
            statements: 3,
            owner: Some("@core|db".into()),
            owner_source: OwnerSource::Codeowners,
            expected: vec![expected(
                "free text: checkout keeps working",
                ExpectStatus::NotChecked,
                "",
            )],
            rollback: rollback(
                "ALTER TABLE users ADD COLUMN legacy_id bigint;\nUPDATE users SET legacy_id = id;",
                RollbackSource::DownFile,
                RollbackStatus::NotChecked,
                "needs a disposable copy (--clone)",
            ),
        },
        MigrationSummary {
            timeline: vec![],
            not_executed: None,
            path: "migrations/20240103000000_truncate_audit.sql".into(),
            version: None,
            name: "truncate_audit".into(),
            layout: Layout::Plain,
            in_transaction: true,
            transaction: crate::model::Transaction::File,
            transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
            statements: 1,
            owner: None,
            owner_source: OwnerSource::None,
            expected: vec![],
            rollback: Rollback {
                irreversible: true,
                ..rollback(
                    "irreversible",
                    RollbackSource::Annotation,
                    RollbackStatus::NotChecked,
                    "",
                )
            },
        },
    ];
    let findings = vec![
        Finding {
            rule: "create-index-non-concurrently",
            code: "M001",
            severity: Severity::Error,
            evidence: Evidence::Catalog,
            file: "migrations/20240101120000_add_orders_index.sql".into(),
            line: 5,
            column: 1,
            statement: "CREATE INDEX orders_customer_id_idx ON orders (customer_id)".into(),
            message: "Building index orders_customer_id_idx on orders without CONCURRENTLY blocks writes to orders until the build finishes".into(),
            why: WHY_INDEX,
            instead: INSTEAD_INDEX.into(),
            owner: Some("@payments-team".into()),
            table: Some("public.orders".into()),
            facts: Facts {
                rows: Some(1_200_000),
                bytes: Some(734_003_200),
                lock: Some("ShareLock".into()),
                blocks: Some("writes".into()),
                lock_held_ms: Some(5_400),
                duration_ms: Some(5_410),
                index_scans: None,
                plan: Some("Seq Scan on orders  (cost=0.00..22.70 rows=1270 width=36)\n  Filter: (customer_id = 42)".into()),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "drop-column",
            code: "M022",
            severity: Severity::Warning,
            evidence: Evidence::Static,
            file: "migrations/20240102090000_drop_legacy.sql".into(),
            line: 3,
            column: 1,
            statement: "ALTER TABLE users\n    DROP COLUMN legacy_id".into(),
            message: "Dropping column legacy_id of users breaks code that still reads it | writes it".into(),
            why: "Running application code still selects the column; `SELECT *` and ORMs fail with <column does not exist>.",
            instead: "Stop reading the column in code first, deploy, then drop it in a later migration.".into(),
            owner: Some("@core|db".into()),
            table: Some("users".into()),
            facts: Facts::default(),
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "missing-expected-result",
            code: "M039",
            severity: Severity::Info,
            evidence: Evidence::Static,
            file: "migrations/20240103000000_truncate_audit.sql".into(),
            line: 1,
            column: 1,
            statement: String::new(),
            message: "No `-- expect:` line: say what this migration should do so reviewers can check it".into(),
            why: "Without an expected result nobody can tell whether the migration did what it should.",
            instead: "Add `-- expect: rows <= N` or a plan expectation to the header.".into(),
            owner: None,
            table: None,
            facts: Facts::default(),
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "truncate-table",
            code: "M026",
            severity: Severity::Error,
            evidence: Evidence::Static,
            file: "migrations/20240103000000_truncate_audit.sql".into(),
            line: 2,
            column: 1,
            statement: "TRUNCATE audit_log".into(),
            message: "TRUNCATE audit_log removes every row and takes an ACCESS EXCLUSIVE lock".into(),
            why: "TRUNCATE cannot be undone once committed and blocks all access to the table.",
            instead: "Delete in batches, or archive the rows first.".into(),
            owner: None,
            table: Some("audit_log".into()),
            facts: Facts {
                lock: Some("AccessExclusiveLock".into()),
                blocks: Some("reads and writes".into()),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
    ];
    Report {
        evidence: Evidence::Catalog,
        summary: summary(&findings),
        production: None,
        migrations,
        findings,
        skipped_rules: vec![SkippedRule::everywhere(
            "backfill-seq-scan",
            "needs execution on a disposable copy (--clone)",
        )],
        skipped_migrations: vec![],
        copy: None,
        phases: vec![],
        locked: vec![],
    }
}

/// A clean run: migrations with people facts, no findings.
pub fn clean() -> Report {
    let mut r = sample();
    r.findings.clear();
    r.skipped_rules = static_skips();
    r.summary = Summary::default();
    r.evidence = Evidence::Static;
    r.migrations.truncate(2);
    r
}

/// A catalog-level run against a copy: the copy's identity with a caveat, two pending
/// migrations reviewed, 200 applied ones skipped, findings measured on the copy (rows and
/// bytes, index scans, a multi-line plan), and rules skipped both for the whole run and for
/// one statement.
pub fn catalog() -> Report {
    let pending = |n: u32, name: &str, owner: &str| MigrationSummary {
        timeline: vec![],
        not_executed: None,
        path: format!("migrations/{n:04}_{name}.sql"),
        version: Some(format!("{n:04}")),
        name: name.to_string(),
        layout: Layout::GolangMigrate,
        in_transaction: true,
        transaction: crate::model::Transaction::File,
        transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
        statements: 3,
        owner: Some(owner.to_string()),
        owner_source: OwnerSource::Codeowners,
        expected: vec![expected(
            "rows <= 50000",
            ExpectStatus::NotMet,
            "the plan estimates 12M rows",
        )],
        rollback: rollback(
            "DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;",
            RollbackSource::DownFile,
            RollbackStatus::NotChecked,
            "needs execution on a disposable copy (--clone)",
        ),
    };
    let migrations = vec![
        pending(201, "order_events", "@payments-team"),
        pending(202, "backfill_order_status", "@payments-team"),
    ];
    let first = "migrations/0201_order_events.sql";
    let second = "migrations/0202_backfill_order_status.sql";
    let findings = vec![
        Finding {
            rule: "create-index-non-concurrently",
            code: "M001",
            severity: Severity::Error,
            evidence: Evidence::Catalog,
            file: first.into(),
            line: 4,
            column: 1,
            statement: "CREATE INDEX orders_status_idx ON orders (status)".into(),
            message: "Building index orders_status_idx on orders without CONCURRENTLY blocks writes to orders (1.2M rows, 700 MB) until the build finishes".into(),
            why: WHY_INDEX,
            instead: INSTEAD_INDEX.into(),
            owner: Some("@payments-team".into()),
            table: Some("public.orders".into()),
            facts: Facts {
                rows: Some(1_200_000),
                bytes: Some(734_003_200),
                lock: Some("ShareLock".into()),
                blocks: Some("writes".into()),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "drop-index-in-use",
            code: "M047",
            severity: Severity::Warning,
            evidence: Evidence::Catalog,
            file: first.into(),
            line: 9,
            column: 1,
            statement: "DROP INDEX CONCURRENTLY orders_legacy_idx".into(),
            message: "Index orders_legacy_idx served 2,000,000 scans on the copy: queries that use it will fall back to another plan".into(),
            why: "Queries that use the index slow down, often to a sequential scan, the moment it is gone.",
            instead: "Check the queries behind the scans first; drop the index in a later release once `idx_scan` stays flat.".into(),
            owner: Some("@payments-team".into()),
            table: Some("public.orders".into()),
            facts: Facts {
                index_scans: Some(2_000_000),
                bytes: Some(90_177_536),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "dml-touches-many-rows",
            code: "M049",
            severity: Severity::Error,
            evidence: Evidence::Catalog,
            file: second.into(),
            line: 3,
            column: 1,
            statement: "UPDATE orders SET status = 'open' WHERE status IS NULL".into(),
            message: "The plan estimates 12,000,000 rows updated in one statement, above the batch threshold of 100,000".into(),
            why: "One huge UPDATE holds its row locks until it commits and bloats the table with dead tuples.",
            instead: "Update in batches of at most 100,000 rows, each in its own transaction.".into(),
            owner: Some("@payments-team".into()),
            table: Some("public.orders".into()),
            facts: Facts {
                rows: Some(12_000_000),
                bytes: Some(5_798_205_850),
                plan: Some(
                    "Update on orders  (cost=0.00..412500.00 rows=0 width=0)\n  ->  Seq Scan on orders  (cost=0.00..412500.00 rows=12000000 width=38)\n        Filter: (status IS NULL)".into(),
                ),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
    ];
    let mut skipped_rules = execution_skips();
    skipped_rules.push(SkippedRule {
        file: Some(second.into()),
        line: Some(7),
        ..SkippedRule::everywhere(
            "seq-scan-on-large-table",
            "table order_events is created by an earlier pending migration; EXPLAIN on the copy cannot see it",
        )
    });
    let skipped_migrations = (1..=200)
        .map(|n| SkippedMigration {
            path: format!("migrations/{n:04}_change_{n}.sql"),
            version: Some(format!("{n:04}")),
            reason: "already applied on the copy (schema_migrations)".into(),
        })
        .collect();
    Report {
        evidence: Evidence::Catalog,
        summary: summary(&findings),
        production: None,
        migrations,
        findings,
        skipped_rules,
        skipped_migrations,
        copy: Some(CopyIdentity {
            server_version: "15.19 (Debian 15.19-0+deb12u1)".into(),
            database: "shop".into(),
            database_bytes: 1_288_490_189,
            last_analyzed: Some("2026-11-20T10:00:00Z".into()),
            in_recovery: false,
            notes: vec![
                "statistics of a restored copy start at the restore: idx_scan counts may be low"
                    .into(),
            ],
        }),
        phases: vec![],
        locked: vec![],
    }
}

/// `migrations` migrations with `findings` findings spread over them, every third an error,
/// with long statements and texts: the shape of a big PR that must still fit in a comment.
pub fn large(migrations: usize, findings: usize) -> Report {
    let ms: Vec<MigrationSummary> = (0..migrations)
        .map(|i| MigrationSummary {
            timeline: vec![],
            not_executed: None,
            path: format!("db/migrations/{:04}_change_number_{i}.sql", i + 1),
            version: Some(format!("{:04}", i + 1)),
            name: format!("change_number_{i}"),
            layout: Layout::Plain,
            in_transaction: true,
            transaction: crate::model::Transaction::File,
            transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
            statements: 10,
            owner: Some(format!("@team-{}", i % 7)),
            owner_source: OwnerSource::Annotation,
            expected: vec![expected(
                "rows <= 1000",
                ExpectStatus::NotChecked,
                "needs --clone",
            )],
            rollback: rollback(
                &format!("DROP TABLE IF EXISTS t{i};\nDROP INDEX IF EXISTS t{i}_idx;"),
                RollbackSource::DownFile,
                RollbackStatus::NotChecked,
                "",
            ),
        })
        .collect();
    let fs: Vec<Finding> = (0..findings)
        .map(|i| {
            let m = &ms[i % migrations.max(1)];
            let severity = match i % 3 {
                0 => Severity::Error,
                1 => Severity::Warning,
                _ => Severity::Info,
            };
            Finding {
                rule: "create-index-non-concurrently",
                code: "M001",
                severity,
                evidence: Evidence::Static,
                file: m.path.clone(),
                line: i + 1,
                column: 1,
                statement: format!(
                    "CREATE INDEX big_table_{i}_idx ON big_table_{i} (customer_id, created_at)\n  WHERE deleted_at IS NULL AND status IN ('open', 'pending', 'review')"
                ),
                message: format!(
                    "Building index big_table_{i}_idx on big_table_{i} without CONCURRENTLY blocks writes to big_table_{i} until the build finishes"
                ),
                why: WHY_INDEX,
                instead: INSTEAD_INDEX.into(),
                owner: m.owner.clone(),
                table: Some(format!("big_table_{i}")),
                facts: Facts {
                    lock: Some("ShareLock".into()),
                    blocks: Some("writes".into()),
                    ..Facts::default()
                },
                direction: crate::model::Direction::Up,
            }
        })
        .collect();
    let mut fs = fs;
    fs.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Report {
        evidence: Evidence::Static,
        summary: summary(&fs),
        production: None,
        migrations: ms,
        findings: fs,
        skipped_rules: vec![],
        skipped_migrations: vec![],
        copy: None,
        phases: vec![],
        locked: vec![],
    }
}

/// One statement of an execution-level timeline.
fn ran(
    line: usize,
    statement: &str,
    duration_ms: u64,
    lock: Option<(&str, &str, u64)>,
    rows: Option<u64>,
) -> TimelineEntry {
    TimelineEntry {
        line,
        statement: statement.to_string(),
        duration_ms,
        lock: lock.map(|(mode, _, _)| mode.to_string()),
        table: lock.map(|(_, table, _)| table.to_string()),
        held_ms: lock.map(|(_, _, held)| held),
        rows,
        failed: false,
    }
}

/// An execution-level run on a restored copy: a rewriting type change that held ACCESS
/// EXCLUSIVE on orders for 29.5 s, with a backfill and quick statements (one expectation met,
/// one not; a rollback that does not restore); a unique index that failed on real
/// duplicates; and a migration after it that was therefore not executed. Findings carry the
/// measured lock and duration; the run's lock totals name both tables.
pub fn execution() -> Report {
    let first = "migrations/0301_orders_id_bigint.sql";
    let second = "migrations/0302_unique_customer_email.sql";
    let third = "migrations/0303_backfill_segments.sql";
    let orders = "public.orders";
    let customers = "public.customers";
    let migration = |path: &str, name: &str, statements: usize| MigrationSummary {
        path: path.to_string(),
        version: path
            .trim_start_matches("migrations/")
            .get(..4)
            .map(str::to_string),
        name: name.to_string(),
        layout: Layout::GolangMigrate,
        in_transaction: true,
        transaction: crate::model::Transaction::File,
        transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
        statements,
        owner: Some("@payments-team".into()),
        owner_source: OwnerSource::Annotation,
        expected: vec![],
        rollback: rollback("", RollbackSource::None, RollbackStatus::NotChecked, ""),
        timeline: vec![],
        not_executed: None,
    };
    let migrations =
        vec![
        MigrationSummary {
            expected: vec![
                expected("duration <= 60s", ExpectStatus::Met, "ran 31.2 s on the copy"),
                expected(
                    "lock <= 2s",
                    ExpectStatus::NotMet,
                    "AccessExclusiveLock on public.orders held 29.5 s > 2 s",
                ),
            ],
            rollback: rollback(
                "ALTER TABLE orders ALTER COLUMN id TYPE integer;",
                RollbackSource::DownFile,
                RollbackStatus::Differs,
                "after up and rollback the schema differs in 1 place(s): column orders.legacy_ref \
                 is missing",
            ),
            timeline: vec![
                ran(2, "SET lock_timeout = '5s'", 0, None, None),
                ran(3, "SET statement_timeout = '10min'", 0, None, None),
                ran(
                    5,
                    "ALTER TABLE orders ALTER COLUMN id TYPE bigint",
                    29_480,
                    Some(("AccessExclusiveLock", orders, 29_500)),
                    None,
                ),
                ran(
                    6,
                    "UPDATE orders SET legacy_ref = NULL WHERE created_at < '2020-01-01'",
                    1_640,
                    Some(("RowExclusiveLock", orders, 1_650)),
                    Some(120_000),
                ),
                ran(8, "ALTER TABLE orders DROP COLUMN legacy_ref", 0, None, None),
            ],
            ..migration(first, "orders_id_bigint", 5)
        },
        MigrationSummary {
            expected: vec![expected(
                "succeeds",
                ExpectStatus::NotMet,
                "failed on the copy at line 3",
            )],
            rollback: rollback(
                "DROP INDEX IF EXISTS customers_email_key;",
                RollbackSource::Annotation,
                RollbackStatus::NotChecked,
                "the migration failed on the copy",
            ),
            timeline: vec![
                ran(
                    2,
                    "ALTER TABLE customers ADD COLUMN email_verified boolean",
                    3,
                    Some(("AccessExclusiveLock", customers, 412)),
                    None,
                ),
                TimelineEntry {
                    failed: true,
                    ..ran(
                        3,
                        "CREATE UNIQUE INDEX customers_email_key ON customers (email)",
                        409,
                        Some(("ShareLock", customers, 409)),
                        None,
                    )
                },
            ],
            ..migration(second, "unique_customer_email", 2)
        },
        MigrationSummary {
            expected: vec![expected(
                "rows <= 50000",
                ExpectStatus::NotChecked,
                "not executed on the copy",
            )],
            not_executed: Some(format!(
                "not executed: {second} failed at line 3 (could not create unique index \
                 \"customers_email_key\"), and later migrations usually depend on it"
            )),
            ..migration(third, "backfill_segments", 1)
        },
    ];
    let findings = vec![
        Finding {
            rule: "lock-held-too-long",
            code: "M061",
            severity: Severity::Error,
            evidence: Evidence::Execution,
            file: first.into(),
            line: 5,
            column: 1,
            statement: "ALTER TABLE orders ALTER COLUMN id TYPE bigint".into(),
            message: "Held AccessExclusiveLock on public.orders for 29.5 s on the copy, above \
                      the 2 s budget: every read and write of orders waits that long"
                .into(),
            why: "Every query on the table queues behind the lock, and new connections pile up \
                  until the pool is exhausted.",
            instead: "Add a new column, backfill it in batches, then swap it in a short \
                      transaction."
                .into(),
            owner: Some("@payments-team".into()),
            table: Some(orders.into()),
            facts: Facts {
                rows: Some(12_000_000),
                bytes: Some(1_825_361_100),
                lock: Some("AccessExclusiveLock".into()),
                blocks: Some("reads and writes".into()),
                lock_held_ms: Some(29_500),
                duration_ms: Some(29_480),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "expectation-not-met",
            code: "M063",
            severity: Severity::Error,
            evidence: Evidence::Execution,
            file: first.into(),
            line: 1,
            column: 1,
            statement: String::new(),
            message: "Expected `lock <= 2s`, but on the copy: AccessExclusiveLock on \
                      public.orders held 29.5 s > 2 s"
                .into(),
            why: "The author's stated expectation does not hold on real data.",
            instead: "Change the migration until the expectation holds, or correct the \
                      expectation."
                .into(),
            owner: Some("@payments-team".into()),
            table: None,
            facts: Facts::default(),
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "rollback-does-not-restore",
            code: "M065",
            severity: Severity::Warning,
            evidence: Evidence::Execution,
            file: first.into(),
            line: 1,
            column: 1,
            statement: String::new(),
            message: "After up and rollback the schema differs: column orders.legacy_ref is \
                      missing"
                .into(),
            why: "A rollback that does not restore the schema leaves production in a state no \
                  release was tested against.",
            instead: "Make the down migration recreate what the up migration dropped.".into(),
            owner: Some("@payments-team".into()),
            table: Some(orders.into()),
            facts: Facts::default(),
            direction: crate::model::Direction::Up,
        },
        Finding {
            rule: "fails-on-copy",
            code: "M060",
            severity: Severity::Error,
            evidence: Evidence::Execution,
            file: second.into(),
            line: 3,
            column: 1,
            statement: "CREATE UNIQUE INDEX customers_email_key ON customers (email)".into(),
            message: "Fails on the copy: could not create unique index \"customers_email_key\" \
                      (detail: Key (email)=(ann@example.com) is duplicated.)"
                .into(),
            why: "The same statement fails in production, halfway through the deploy.",
            instead: "Clean up the duplicates first, in an earlier migration or a script.".into(),
            owner: Some("@payments-team".into()),
            table: Some(customers.into()),
            facts: Facts {
                lock: Some("ShareLock".into()),
                blocks: Some("writes".into()),
                lock_held_ms: Some(409),
                duration_ms: Some(409),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        },
    ];
    Report {
        evidence: Evidence::Execution,
        summary: summary(&findings),
        production: None,
        migrations,
        findings,
        skipped_rules: vec![],
        skipped_migrations: vec![],
        copy: Some(CopyIdentity {
            server_version: "16.4".into(),
            database: "migsafe_clone_shop".into(),
            database_bytes: 2_147_483_648,
            last_analyzed: Some("2026-11-26T11:58:00Z".into()),
            in_recovery: false,
            notes: vec![],
        }),
        phases: vec![Phase {
            name: "execute".into(),
            duration_ms: 31_612,
            detail: None,
        }],
        locked: vec![
            LockedTable {
                table: orders.into(),
                lock: "AccessExclusiveLock".into(),
                blocks: "reads and writes".into(),
                held_ms: 29_500,
            },
            LockedTable {
                table: customers.into(),
                lock: "AccessExclusiveLock".into(),
                blocks: "reads and writes".into(),
                held_ms: 412,
            },
        ],
    }
}

/// The shape of issue #14's example: a static review of nine small migrations of a web shop
/// with 29 findings, the only error among eleven safety warnings, and people facts (missing
/// owner, expected result, rollback) making up almost half of the findings. Rule texts come
/// from the real registry, so sizes measured on it (the PR comment's budget) are real.
pub fn nine() -> Report {
    let names = [
        ("20240105093000", "create_carts", Some("@checkout"), true),
        (
            "20240112141500",
            "add_carts_customer_index",
            Some("@checkout"),
            false,
        ),
        ("20240119101000", "require_customer_email", None, false),
        (
            "20240126160000",
            "add_orders_customer_fk",
            Some("@payments-team"),
            true,
        ),
        ("20240202113000", "backfill_order_currency", None, false),
        (
            "20240209120000",
            "rename_sku_column",
            Some("@catalog"),
            false,
        ),
        ("20240216090000", "drop_legacy_flags", None, true),
        ("20240223170000", "reset_sessions", Some("@platform"), false),
        ("20240301080000", "add_events_payload", None, false),
    ];
    let path = |i: usize| format!("db/migrations/{}_{}.sql", names[i].0, names[i].1);
    let migrations: Vec<MigrationSummary> = names
        .iter()
        .enumerate()
        .map(|(i, (version, name, owner, documented))| MigrationSummary {
            timeline: vec![],
            not_executed: None,
            path: path(i),
            version: Some(version.to_string()),
            name: name.to_string(),
            layout: Layout::Sqlx,
            in_transaction: true,
            transaction: crate::model::Transaction::File,
            transaction_source: "sqlx: BEGIN … COMMIT around the file, sent as one query".into(),
            statements: 2,
            owner: owner.map(str::to_string),
            owner_source: if owner.is_some() {
                OwnerSource::Annotation
            } else {
                OwnerSource::None
            },
            expected: if *documented {
                vec![expected(
                    "succeeds",
                    ExpectStatus::NotChecked,
                    "needs --clone",
                )]
            } else {
                vec![]
            },
            rollback: if *documented {
                rollback(
                    &format!("DROP TABLE IF EXISTS {name};"),
                    RollbackSource::Annotation,
                    RollbackStatus::NotChecked,
                    "needs --clone",
                )
            } else {
                rollback("", RollbackSource::None, RollbackStatus::NotChecked, "")
            },
        })
        .collect();
    let finding = |i: usize,
                   rule: &str,
                   line: usize,
                   statement: &str,
                   message: &str,
                   table: Option<&str>,
                   lock: Option<(&str, &str)>| {
        let r = crate::rules::by_name(rule);
        Finding {
            rule: r.name,
            code: r.code,
            severity: if rule == "truncate-table" {
                Severity::Error
            } else {
                r.severity
            },
            evidence: Evidence::Static,
            file: path(i),
            line,
            column: 1,
            statement: statement.to_string(),
            message: message.to_string(),
            why: r.why,
            instead: r.instead.into(),
            owner: names[i].2.map(str::to_string),
            table: table.map(str::to_string),
            facts: Facts {
                lock: lock.map(|(l, _)| l.to_string()),
                blocks: lock.map(|(_, b)| b.to_string()),
                ..Facts::default()
            },
            direction: crate::model::Direction::Up,
        }
    };
    let share = Some(("ShareLock", "writes"));
    let exclusive = Some(("AccessExclusiveLock", "reads and writes"));
    let srx = Some(("ShareRowExclusiveLock", "writes"));
    let row = Some(("RowExclusiveLock", "schema changes and maintenance only"));
    let mut findings = vec![
        finding(0, "timestamp-without-time-zone", 4, "CREATE TABLE carts (id bigint PRIMARY KEY, customer_id bigint NOT NULL, created_at timestamp NOT NULL DEFAULT now())", "Column carts.created_at is timestamp without time zone: it stores wall-clock times without their offset", Some("carts"), None),
        finding(1, "create-index-non-concurrently", 3, "CREATE INDEX carts_customer_id_idx ON carts (customer_id)", "Building index carts_customer_id_idx on carts without CONCURRENTLY blocks writes to carts until the build finishes", Some("carts"), share),
        finding(1, "lock-without-timeout", 3, "CREATE INDEX carts_customer_id_idx ON carts (customer_id)", "This statement locks carts SHARE (blocks writes) with no lock_timeout set before it: while it waits behind a long-running query, every new query on carts queues behind it; start the migration with SET lock_timeout = '2s'", Some("carts"), share),
        finding(2, "lock-without-timeout", 3, "ALTER TABLE customers ALTER COLUMN email SET NOT NULL", "This statement locks customers ACCESS EXCLUSIVE (blocks reads and writes) with no lock_timeout set before it; start the migration with SET lock_timeout = '2s'", Some("customers"), exclusive),
        finding(2, "set-not-null", 3, "ALTER TABLE customers ALTER COLUMN email SET NOT NULL", "Setting customers.email NOT NULL scans all of customers under an ACCESS EXCLUSIVE lock: reads and writes wait; add and VALIDATE a CHECK (... IS NOT NULL) constraint first, which PostgreSQL 12+ uses to skip the scan", Some("customers"), exclusive),
        finding(3, "add-foreign-key-validating", 4, "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)", "Adding foreign key orders_customer_fk to orders checks every existing row of orders against customers while blocking writes to both tables; add it NOT VALID and VALIDATE it in a separate transaction", Some("orders"), srx),
        finding(4, "update-without-where", 3, "UPDATE orders SET currency = 'EUR'", "UPDATE without WHERE rewrites every row of orders in one transaction, locking them all until commit; backfill in batches", Some("orders"), row),
        finding(4, "statements-after-exclusive-lock", 4, "ALTER TABLE orders ALTER COLUMN currency SET DEFAULT 'EUR'", "orders is locked ACCESS EXCLUSIVE by the statement on line 2 until this transaction commits, so reads and writes on orders also wait for this statement", Some("orders"), exclusive),
        finding(5, "rename-column", 3, "ALTER TABLE products RENAME COLUMN sku TO stock_keeping_unit", "Renaming products.sku breaks every query of the running release that still uses the old name", Some("products"), exclusive),
        finding(6, "drop-column", 3, "ALTER TABLE customers DROP COLUMN legacy_flags", "Dropping column legacy_flags of customers breaks code that still reads or writes it", Some("customers"), exclusive),
        finding(6, "lock-without-timeout", 3, "ALTER TABLE customers DROP COLUMN legacy_flags", "This statement locks customers ACCESS EXCLUSIVE (blocks reads and writes) with no lock_timeout set before it; start the migration with SET lock_timeout = '2s'", Some("customers"), exclusive),
        finding(7, "truncate-table", 3, "TRUNCATE sessions", "TRUNCATE sessions removes every row and takes an ACCESS EXCLUSIVE lock", Some("sessions"), exclusive),
        finding(8, "json-column", 3, "ALTER TABLE events ADD COLUMN payload json", "Column events.payload is json: it keeps whitespace and duplicate keys and cannot be indexed; use jsonb", Some("events"), None),
        finding(8, "char-column", 4, "ALTER TABLE events ADD COLUMN kind char(12)", "Column events.kind is char(12): blank-padded, so comparisons and lengths surprise; use text or varchar", Some("events"), None),
        finding(8, "create-index-non-concurrently", 5, "CREATE INDEX events_kind_idx ON events (kind)", "Building index events_kind_idx on events without CONCURRENTLY blocks writes to events until the build finishes", Some("events"), share),
    ];
    for (i, (_, _, owner, documented)) in names.iter().enumerate() {
        if owner.is_none() {
            findings.push(finding(i, "missing-owner", 1, "", "No owner: add `-- owner: @team` to the file's leading comments, or a CODEOWNERS entry", None, None));
        }
        if !documented {
            findings.push(finding(i, "missing-expected-result", 1, "", "No expected result: add `-- expect: ...` (rows, plan, lock or duration) to the file's leading comments", None, None));
            if findings
                .iter()
                .filter(|f| f.rule == "missing-rollback")
                .count()
                < 4
            {
                findings.push(finding(i, "missing-rollback", 1, "", "No rollback: add `-- rollback: <SQL or steps>` (or `-- rollback: irreversible`) to the file's leading comments, or a down migration", None, None));
            }
        }
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.code).cmp(&(&b.file, b.line, b.code)));
    Report {
        evidence: Evidence::Static,
        summary: summary(&findings),
        production: None,
        migrations,
        findings,
        skipped_rules: static_skips(),
        skipped_migrations: vec![],
        copy: None,
        phases: vec![],
        locked: vec![],
    }
}
