//! `table-rewrite`: a statement measured rewriting a table (its `relfilenode` changed) on
//! the disposable clone.

use super::{Check, Risk, Rule};
use crate::config::Settings;
use crate::evidence::catalog::SizeClass;
use crate::execute::trace::{MigrationRun, RelationKind};
use crate::model::{Evidence, ParsedMigration, Severity, StatementKind};
use crate::report::text::{bytes, duration_ms, rows};

pub const RULE: Rule = Rule {
    code: "M062",
    name: "table-rewrite",
    severity: Severity::Warning,
    evidence: Evidence::Execution,
    what: "Flags a statement that rewrote a table when the migration ran on the disposable \
           clone: PostgreSQL gave the table a new data file (`pg_class.relfilenode` changed) \
           and rebuilt its indexes. Info for tables below the small-table thresholds, a \
           warning above, an error above the large-table thresholds. It sees rewrites no rule \
           can read from the SQL: inside DO blocks and functions, or caused by a type whose \
           change PostgreSQL cannot do in place.",
    why: "A rewrite copies every row and rebuilds every index while holding ACCESS EXCLUSIVE: \
          no one reads or writes the table until it ends, and it needs free disk space for a \
          second copy of the table and its indexes, plus the WAL that replicas must replay \
          (PostgreSQL docs: \"ALTER TABLE\", notes on rewriting). Its time grows with the \
          table. Durations on a copy are indicative: its hardware and load differ from \
          production.",
    instead: "Avoid the rewrite: add a new column and backfill it in batches, then swap names \
              in a short transaction; change types only in ways PostgreSQL does in place \
              (varchar(n) to a larger n or text, dropping a varchar limit); use defaults that \
              are constant. When a rewrite is unavoidable, schedule it in a maintenance window \
              with `lock_timeout` set, or use a tool like pg_repack.",
    rollback: "The rewrite is done once committed; undoing the change (a type back, a column \
               dropped) usually rewrites the table again, taking as long.",
    bad: include_str!("../../fixtures/rules/table-rewrite/bad.sql"),
    good: include_str!("../../fixtures/rules/table-rewrite/good.sql"),
    check: Check::Engine,
};

/// Every statement that rewrote an existing table: (statement index, risk), one per
/// statement, for the largest table it rewrote.
pub(crate) fn risks(
    run: &MigrationRun,
    migration: &ParsedMigration,
    settings: &Settings,
) -> Vec<(usize, Risk)> {
    run.statements
        .iter()
        .filter(|s| {
            // TRUNCATE gets a new, empty file: a different risk (truncate-table), not a copy.
            !matches!(
                migration.statements.get(s.index).map(|m| &m.kind),
                Some(StatementKind::Truncate { .. })
            )
        })
        .filter_map(|statement| {
            let tables: Vec<_> = statement
                .rewritten
                .iter()
                .filter(|r| r.kind == RelationKind::Table)
                .collect();
            let table = tables
                .iter()
                .max_by_key(|r| (r.bytes.unwrap_or(0), r.rows.unwrap_or(0)))?;
            let indexes = statement
                .rewritten
                .iter()
                .filter(|r| r.kind == RelationKind::Index)
                .count();
            let class = SizeClass::of(
                table.rows.unwrap_or(0),
                table.bytes.unwrap_or(0),
                &settings.thresholds,
            );
            let size = match (table.rows, table.bytes) {
                (Some(n), Some(b)) => format!(" ({}, {} written)", rows(n), bytes(b)),
                (Some(n), None) => format!(" ({})", rows(n)),
                (None, Some(b)) => format!(" ({} written)", bytes(b)),
                (None, None) => String::new(),
            };
            let rebuilt = match indexes {
                0 => String::new(),
                1 => " and rebuilt its index".to_string(),
                n => format!(" and rebuilt its {n} indexes"),
            };
            let others = match tables.len() {
                0 | 1 => String::new(),
                n => format!(" It rewrote {} other tables too.", n - 1),
            };
            let small = if class == SizeClass::Small {
                " The table is small, so this is quick here; it grows with the table."
            } else {
                ""
            };
            let message = format!(
                "Rewrote {}{size}{rebuilt} on the copy: the statement took {} and no one can \
                 read or write the table meanwhile.{others}{small} Durations on a copy are \
                 indicative: its hardware and load differ from production.",
                table.relation,
                duration_ms(statement.duration_ms),
            );
            let written = migration.statements.get(statement.index);
            let mut risk = Risk::new(message)
                .with_instead(instead_for(&table.relation, written, settings))
                .on_table(&table.relation);
            risk.severity = Some(match class {
                SizeClass::Small => Severity::Info,
                SizeClass::Medium => Severity::Warning,
                SizeClass::Large => Severity::Error,
            });
            risk.facts.rows = table.rows;
            risk.facts.bytes = table.bytes;
            risk.facts.duration_ms = Some(statement.duration_ms);
            Some((statement.index, risk))
        })
        .collect()
}

/// The ways around a rewrite of the user's table, the statement itself behind the
/// configured lock_timeout when a rewrite cannot be avoided.
fn instead_for(
    table: &crate::model::QualifiedName,
    statement: Option<&crate::model::Statement>,
    settings: &Settings,
) -> String {
    let t = super::instead::table(table);
    let window = match statement {
        Some(s) => format!(
            "schedule `{} {}` in a maintenance window",
            super::instead::set_lock_timeout(settings),
            super::instead::statement_head(&s.text, 120)
        ),
        None => format!(
            "schedule it in a maintenance window with `{}`",
            super::instead::set_lock_timeout(settings)
        ),
    };
    format!(
        "Avoid rewriting {t}: add a new column and backfill it in batches of {} rows, then swap \
         names in a short transaction; change types only in ways PostgreSQL does in place \
         (varchar(n) to a larger n or text, dropping a varchar limit); use defaults that are \
         constant. When a rewrite is unavoidable, {window}, or rebuild {t} online with \
         `pg_repack --table={table}`.",
        super::instead::batch(settings)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::trace::{Rewrite, StatementRun};
    use crate::model::QualifiedName;

    fn rewrite(name: &str, kind: RelationKind, rows: i64, bytes: i64) -> Rewrite {
        Rewrite {
            relation: QualifiedName::new(Some("public"), name),
            kind,
            old_filenode: 1,
            new_filenode: 2,
            rows: Some(rows),
            bytes: Some(bytes),
        }
    }

    fn migration(sql: &str) -> ParsedMigration {
        crate::review::prepare(
            crate::load::load_text("t.sql", sql, None)
                .unwrap()
                .remove(0),
            &crate::metadata::Owners::default(),
        )
    }

    fn run(rewritten: Vec<Rewrite>) -> MigrationRun {
        MigrationRun {
            statements: vec![StatementRun {
                index: 0,
                duration_ms: 4_200,
                rewritten,
                ..StatementRun::default()
            }],
            ..MigrationRun::default()
        }
    }

    #[test]
    fn instead_names_the_rewritten_table_and_the_users_statement() {
        let m = migration("ALTER TABLE orders ALTER COLUMN id TYPE bigint;");
        let found = risks(
            &run(vec![rewrite(
                "orders",
                RelationKind::Table,
                1_200_000,
                90 << 20,
            )]),
            &m,
            &Settings::default(),
        );
        let instead = found[0].1.instead.as_deref().unwrap_or_default();
        assert!(
            instead.contains(
                "`SET lock_timeout = '2s'; ALTER TABLE orders ALTER COLUMN id TYPE bigint;`"
            ),
            "{instead}"
        );
        assert!(
            instead.contains("Avoid rewriting public.orders"),
            "{instead}"
        );
        assert!(instead.contains("batches of 100000 rows"), "{instead}");
    }

    #[test]
    fn reports_a_measured_rewrite_with_size_and_rebuilt_indexes() {
        let m = migration("ALTER TABLE orders ALTER COLUMN id TYPE bigint;");
        let found = risks(
            &run(vec![
                rewrite("orders", RelationKind::Table, 1_200_000, 90 << 20),
                rewrite("orders_pkey", RelationKind::Index, 1_200_000, 30 << 20),
                rewrite(
                    "orders_status_idx",
                    RelationKind::Index,
                    1_200_000,
                    20 << 20,
                ),
            ]),
            &m,
            &Settings::default(),
        );
        assert_eq!(found.len(), 1);
        let risk = &found[0].1;
        assert!(
            risk.message.starts_with(
                "Rewrote public.orders (1.2M rows, 90 MB written) and rebuilt its 2 indexes on \
                 the copy: the statement took 4.2 s"
            ),
            "{}",
            risk.message
        );
        assert_eq!(risk.severity, Some(Severity::Error));
        assert_eq!(risk.facts.rows, Some(1_200_000));
    }

    #[test]
    fn small_tables_are_info_and_medium_ones_a_warning() {
        let m = migration("ALTER TABLE t ALTER COLUMN id TYPE bigint;");
        let small = risks(
            &run(vec![rewrite("t", RelationKind::Table, 200, 16_384)]),
            &m,
            &Settings::default(),
        );
        assert_eq!(small[0].1.severity, Some(Severity::Info));
        assert!(small[0].1.message.contains("The table is small"));
        let medium = risks(
            &run(vec![rewrite("t", RelationKind::Table, 50_000, 4 << 20)]),
            &m,
            &Settings::default(),
        );
        assert_eq!(medium[0].1.severity, Some(Severity::Warning));
    }

    #[test]
    fn index_only_rewrites_and_truncate_are_not_table_rewrites() {
        let reindex = migration("REINDEX INDEX orders_pkey;");
        assert!(risks(
            &run(vec![rewrite("orders_pkey", RelationKind::Index, 10, 8192)]),
            &reindex,
            &Settings::default()
        )
        .is_empty());
        let truncate = migration("TRUNCATE orders;");
        assert!(risks(
            &run(vec![rewrite("orders", RelationKind::Table, 10, 0)]),
            &truncate,
            &Settings::default()
        )
        .is_empty());
    }
}
