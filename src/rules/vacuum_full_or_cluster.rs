//! `vacuum-full-or-cluster`: `VACUUM FULL` or `CLUSTER`, which rewrite tables under an ACCESS
//! EXCLUSIVE lock.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M014",
    name: "vacuum-full-or-cluster",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `VACUUM FULL` and `CLUSTER` on tables that existed before this migration (or on \
           every table, when none is named).",
    why: "Both write a complete new copy of the table and all its indexes while holding an \
          ACCESS EXCLUSIVE lock: every read and write waits for the whole rewrite, and the disk \
          needs room for a second copy. Without a table name they process every table of the \
          database (VACUUM FULL) or every previously clustered table (CLUSTER). VACUUM, and \
          CLUSTER without a table, cannot run inside a transaction block at all. (PostgreSQL \
          docs: VACUUM, \"FULL\"; CLUSTER, \"Notes\"; Routine Vacuuming.)",
    instead: "Keep maintenance out of migrations. To reclaim space online use pg_repack or \
              pg_squeeze, which rebuild the table while reads and writes continue and take \
              ACCESS EXCLUSIVE only briefly at the end (`pg_repack --order-by` replaces \
              CLUSTER). Plain `VACUUM` (no FULL) makes dead space reusable without blocking \
              reads or writes.",
    rollback: "Nothing to undo: the rewrite keeps the table's contents. Cancelling it midway is \
               safe (the old files stay until it commits).",
    bad: include_str!("../../fixtures/rules/vacuum-full-or-cluster/bad.sql"),
    good: include_str!("../../fixtures/rules/vacuum-full-or-cluster/good.sql"),
    check: Check::Statement(check),
};

fn list(tables: &[QualifiedName]) -> String {
    tables
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    match &stmt.kind {
        StatementKind::Vacuum { full: true, tables } => {
            let existing: Vec<QualifiedName> = tables
                .iter()
                .filter(|t| !ctx.table_is_new(t))
                .cloned()
                .collect();
            if !tables.is_empty() && existing.is_empty() {
                return None;
            }
            let risk = if existing.is_empty() {
                Risk::new(
                    "VACUUM FULL without a table rewrites every table of the database, each \
                     under an ACCESS EXCLUSIVE lock that blocks its reads and writes",
                )
            } else {
                let names = list(&existing);
                Risk::new(format!(
                    "VACUUM FULL rewrites {names} under an ACCESS EXCLUSIVE lock: reads and \
                     writes wait until the copy is complete; use pg_repack or plain VACUUM"
                ))
                .with_instead({
                    let tables = existing
                        .iter()
                        .map(|t| format!(" --table={t}"))
                        .collect::<String>();
                    format!(
                        "Keep maintenance out of migrations. To reclaim the space of {} online, \
                         run `pg_repack --no-order{tables}`, which rebuilds while reads and \
                         writes continue and takes ACCESS EXCLUSIVE only briefly at the end. \
                         Plain `VACUUM {};` (no FULL) makes dead space reusable without blocking \
                         reads or writes.",
                        existing
                            .iter()
                            .map(instead::table)
                            .collect::<Vec<_>>()
                            .join(", "),
                        existing
                            .iter()
                            .map(instead::table)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .on_table(&existing[0])
            };
            let mut risk = risk.with_lock(LockMode::AccessExclusive);
            if !stmt.in_transaction && ctx.runner_unknown() {
                risk.message.push_str(
                    "; VACUUM also cannot run inside a transaction block, so a runner that wraps \
                     the file would fail it",
                );
            }
            if stmt.in_transaction {
                risk.message.push_str(
                    "; besides, VACUUM cannot run inside a transaction block, so this migration \
                     fails",
                );
                risk = risk.with_severity(Severity::Error);
            }
            Some(risk)
        }
        StatementKind::Cluster { table: Some(table) } => {
            if ctx.table_is_new(table) {
                return None;
            }
            Some(
                Risk::new(format!(
                    "CLUSTER rewrites {table} in index order under an ACCESS EXCLUSIVE lock: \
                     reads and writes wait until the copy is complete; use pg_repack --order-by"
                ))
                .with_instead(format!(
                    "Keep maintenance out of migrations. To put {} in index order online, run \
                     `pg_repack --table={table} --order-by=<the index's columns>`, which rebuilds \
                     while reads and writes continue and takes ACCESS EXCLUSIVE only briefly at \
                     the end.",
                    instead::table(table)
                ))
                .on_table(table)
                .with_lock(LockMode::AccessExclusive),
            )
        }
        StatementKind::Cluster { table: None } => {
            let mut risk = Risk::new(
                "CLUSTER without a table rewrites every previously clustered table, each under \
                 an ACCESS EXCLUSIVE lock that blocks its reads and writes",
            )
            .with_lock(LockMode::AccessExclusive);
            if !stmt.in_transaction && ctx.runner_unknown() {
                risk.message.push_str(
                    "; CLUSTER without a table also cannot run inside a transaction block, so a \
                     runner that wraps the file would fail it",
                );
            }
            if stmt.in_transaction {
                risk.message.push_str(
                    "; besides, CLUSTER without a table cannot run inside a transaction block, \
                     so this migration fails",
                );
                risk = risk.with_severity(Severity::Error);
            }
            Some(risk)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_tables() {
        let found = check(&RULE, "-- no-transaction\nVACUUM FULL rental, payment;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`pg_repack --no-order --table=rental --table=payment`"),
            "{instead}"
        );
        assert!(instead.contains("`VACUUM rental, payment;`"), "{instead}");
        let found = check(&RULE, "CLUSTER rental USING idx_rental_return_date;");
        assert!(
            found[0]
                .instead
                .contains("`pg_repack --table=rental --order-by="),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_vacuum_full_and_cluster() {
        let findings = check(&RULE, "-- no-transaction\nVACUUM FULL orders;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("orders"));
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert_eq!(
            count(&RULE, "CLUSTER orders USING orders_created_at_idx;"),
            1
        );
        assert_eq!(
            count(&RULE, "-- no-transaction\nvacuum (full, analyze) orders;"),
            1
        );
        assert_eq!(count(&RULE, "-- no-transaction\nVACUUM FULL;"), 1);
    }

    #[test]
    fn vacuum_inside_a_transaction_is_an_error() {
        let findings = check(&RULE, "VACUUM FULL orders;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("transaction block"));
    }

    #[test]
    fn allows_plain_vacuum_and_new_tables() {
        assert_eq!(
            count(&RULE, "-- no-transaction\nVACUUM (ANALYZE) orders;"),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint);\nCLUSTER carts USING carts_pkey;"
            ),
            0
        );
    }

    #[test]
    fn whole_database_forms() {
        let findings = check(&RULE, "-- no-transaction\nCLUSTER;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        let findings = check(&RULE, "CLUSTER;");
        assert_eq!(findings[0].severity, Severity::Error);
        let findings = check(&RULE, "VACUUM FULL;");
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("every table"));
    }

    #[test]
    fn an_unknown_runner_is_told_that_a_wrapping_runner_fails_vacuum() {
        let found = crate::rules::test_support::check_as(&RULE, "VACUUM FULL orders;", None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("a runner that wraps"),
            "{}",
            found[0].message
        );
    }
}
