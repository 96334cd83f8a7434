//! Watched-query plans between the statements of a migration (issue #11, item 3): which
//! statements can change a watched query's plan, planning the queries on the migration's own
//! session right after such a statement without disturbing its transaction, and naming the
//! statement whose change made a plan worse.
//!
//! Decisions (notes/watched-plans.md):
//! - Only statements that can change a plan of a query that reads what they touch are
//!   followed by plans (DDL and maintenance on a relation the queries read, large DML on it,
//!   opaque code); every other statement costs nothing.
//! - Inside the migration's transaction each EXPLAIN runs in a savepoint that is always
//!   rolled back: a failing EXPLAIN (a dropped table) cannot abort the migration, and the
//!   AccessShare locks planning takes are released again, so the lock measurements stay the
//!   migration's own. Outside a transaction each EXPLAIN runs in a transaction of its own that
//!   is rolled back. Either way read-only, never ANALYZE.
//! - Plans use the session's default settings (`RESET ALL` inside the savepoint): a `SET` in a
//!   migration only changes the migration's own session, never the application's, so it
//!   cannot make the application's query slower.
//! - What is reported is the net change over the migration, blamed on the statement from
//!   which the plan stayed worse. A plan made worse and restored within the same transaction
//!   was never visible to the application and is not reported; one restored only after a
//!   commit in between (statement-by-statement runs, `CONCURRENTLY`) is a warning, "worse
//!   between line X and line Y".

use super::trace::MigrationRun;
use super::watch::{regressions, Blame, Regression, WatchThresholds, WatchedQuery};
use crate::model::{QualifiedName, Statement, StatementKind};
use crate::plan::Plan;
use anyhow::{Context as _, Result};
use sqlx::postgres::PgConnection;
use sqlx::AssertSqlSafe;
use std::collections::BTreeSet;
use std::time::Duration;

/// Each watched query with its plan, or why it could not be planned.
pub type Planned = Vec<(WatchedQuery, Result<Plan, String>)>;

/// The plans taken right after one statement of a migration.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index of the statement in the migration's up part.
    pub statement: usize,
    /// Whether the statement ran inside a transaction still open after it.
    pub in_transaction: bool,
    pub plans: Planned,
}

/// What the watched queries were measured against during one migration: their plans right
/// before it, and after each statement that could change them.
#[derive(Debug, Clone, Default)]
pub struct WatchedRun {
    pub before: Planned,
    pub steps: Vec<Step>,
}

/// The names a statement must touch to change a watched plan: the relations and indexes the
/// current plans read, and the tables and views the queries name (a view is not in its plan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Lower-case, unqualified.
    names: BTreeSet<String>,
    schemas: BTreeSet<String>,
    /// Every identifier-like word of the queries, for functions they call.
    words: BTreeSet<String>,
}

impl Reads {
    /// What `queries` read, from their text and `plans`.
    pub fn of(queries: &[WatchedQuery], plans: &Planned) -> Reads {
        let mut reads = Reads::default();
        for query in queries {
            let words = words(&query.sql);
            for pair in words.windows(2) {
                if matches!(
                    pair[0].as_str(),
                    "from" | "join" | "update" | "into" | "using"
                ) {
                    reads.names.insert(pair[1].clone());
                }
            }
            reads.words.extend(words);
        }
        for (_, plan) in plans {
            let Ok(plan) = plan else { continue };
            for node in plan.nodes() {
                if let Some(relation) = &node.relation {
                    reads.names.insert(relation.name.to_lowercase());
                    if let Some(schema) = &relation.schema {
                        reads.schemas.insert(schema.to_lowercase());
                    }
                }
                if let Some(index) = &node.index {
                    reads.names.insert(index.to_lowercase());
                }
            }
        }
        reads
    }

    /// Adds what `other` reads: a statement that changed a plan leaves the old names
    /// relevant (the index a query used before a drop, recreated later).
    pub fn merge(&mut self, other: Reads) {
        self.names.extend(other.names);
        self.schemas.extend(other.schemas);
        self.words.extend(other.words);
    }

    fn reads(&self, name: &QualifiedName) -> bool {
        self.names.contains(&name.name.to_lowercase())
    }

    fn any(&self, names: &[QualifiedName]) -> bool {
        names.iter().any(|n| self.reads(n))
    }

    /// Whether the text names something the queries read (a word match: cheap, and wrong
    /// only towards planning once too often).
    fn mentioned_in(&self, text: &str) -> bool {
        words(text).iter().any(|w| self.names.contains(w))
    }
}

/// Identifier-like words, lower-cased (quoted identifiers lose their quotes).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether running `stmt` can change the plan of a watched query that reads `reads`.
/// `rows` is what the statement wrote (DML) and `table_rows` the table's row estimate before
/// it: DML changes a plan only by changing the table's size or, after ANALYZE, its
/// statistics, so only a write of a tenth of the table or more counts.
pub fn can_change_plans(
    stmt: &Statement,
    reads: &Reads,
    rows: Option<u64>,
    table_rows: impl Fn(&QualifiedName) -> Option<i64>,
) -> bool {
    use StatementKind::*;
    match &stmt.kind {
        // Session settings reach only the migration's session (plans are taken with the
        // session's defaults); the rest changes no relation a plan reads.
        Begin
        | Commit
        | Rollback
        | PsqlMeta { .. }
        | Invalid { .. }
        | Set { .. }
        | CreateSchema { .. }
        | AlterSequence { .. }
        | AlterType { .. }
        | LockTable { .. } => false,
        // Opaque code can do anything, including DDL.
        Do | Dynamic { .. } | Unparsed { .. } | Select => true,
        CreateTable {
            name, partition_of, ..
        } => reads.reads(name) || partition_of.as_ref().is_some_and(|p| reads.reads(p)),
        AlterTable { name, .. } => reads.reads(name),
        DropTable { names, .. } | Truncate { tables: names } => reads.any(names),
        CreateIndex { table, .. } => reads.reads(table),
        DropIndex { names, .. } => reads.any(names),
        AlterIndex { name, .. } => reads.reads(name),
        Reindex { name, .. } => name.as_ref().is_none_or(|n| reads.reads(n)),
        Vacuum { tables, .. } => tables.is_empty() || reads.any(tables),
        Cluster { table } => table.as_ref().is_none_or(|t| reads.reads(t)),
        RefreshMaterializedView { name, .. } | CreateView { name, .. } => reads.reads(name),
        DropObject { names, .. } => {
            reads.any(names)
                || names
                    .iter()
                    .any(|n| reads.words.contains(&n.name.to_lowercase()))
        }
        TableDdl { table, .. } => reads.reads(table),
        DropSchema { names, cascade, .. } => {
            *cascade
                && names
                    .iter()
                    .any(|s| reads.schemas.contains(&s.to_lowercase()))
        }
        DropDatabase { .. } => false,
        CreateFunction { name, .. } => reads.words.contains(&name.name.to_lowercase()),
        Insert { table, .. } | Update { table, .. } | Delete { table, .. } => {
            if !reads.reads(table) {
                return false;
            }
            let written = rows.unwrap_or(0);
            let size = table_rows(table).unwrap_or(0).max(0) as u64;
            written > 0 && written.saturating_mul(10) >= size
        }
        Other { keywords } => {
            // A bare ANALYZE (no table named) analyzes every table.
            let bare_analyze = keywords.starts_with("analy")
                && words(&stmt.text).iter().all(|w| {
                    matches!(
                        w.as_str(),
                        "analyze" | "analyse" | "verbose" | "skip_locked" | "true" | "false"
                    )
                });
            bare_analyze || reads.mentioned_in(&stmt.text)
        }
    }
}

/// Plans `queries` on the migration's session between two of its statements. Inside the
/// migration's transaction (`in_transaction`) each EXPLAIN runs in a savepoint, outside in a
/// transaction of its own; both are rolled back. `Err` only when the session itself fails (a
/// lost connection); a query that does not plan carries the reason.
pub async fn plans_in_session(
    conn: &mut PgConnection,
    queries: &[WatchedQuery],
    in_transaction: bool,
    limits: (Duration, Duration),
    server_version: i64,
) -> Result<Planned> {
    let (statement_timeout, lock_timeout) = limits;
    let (open, close) = if in_transaction {
        (
            "SAVEPOINT migsafe_watch",
            "ROLLBACK TO SAVEPOINT migsafe_watch; RELEASE SAVEPOINT migsafe_watch",
        )
    } else {
        ("BEGIN", "ROLLBACK")
    };
    // RESET ALL first: the application's sessions start with the defaults, not with what
    // the migration SET; then the limits migsafe keeps on every session, and read-only
    // (always allowed, even in a transaction that has written).
    let settings = format!(
        "RESET ALL; SET LOCAL transaction_read_only = on; \
         SET LOCAL statement_timeout = '{}ms'; SET LOCAL lock_timeout = '{}ms'",
        statement_timeout.as_millis().max(1),
        lock_timeout.as_millis().max(1)
    );
    let mut out = Vec::with_capacity(queries.len());
    for query in queries {
        if !super::watch::plannable(&query.sql) {
            out.push((
                query.clone(),
                Err(
                    "not a query EXPLAIN can plan (only SELECT, INSERT, UPDATE, DELETE, MERGE)"
                        .to_string(),
                ),
            ));
            continue;
        }
        sqlx::raw_sql(open)
            .execute(&mut *conn)
            .await
            .context("Failed to open a savepoint for planning the watched queries")?;
        let mut prepared = false;
        let plan = match sqlx::raw_sql(AssertSqlSafe(settings.clone()))
            .execute(&mut *conn)
            .await
        {
            Ok(_) => super::watch::explain_in_open(conn, &query.sql, server_version, &mut prepared)
                .await
                .map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("{e}")),
        };
        sqlx::raw_sql(close)
            .execute(&mut *conn)
            .await
            .context("Failed to roll back the planning of the watched queries")?;
        if prepared {
            // A prepared statement outlives the rollback; its DEALLOCATE runs in a savepoint
            // of its own so that nothing can abort the migration's transaction.
            let deallocate = if in_transaction {
                "SAVEPOINT migsafe_watch; DEALLOCATE migsafe_watched_query; \
                 RELEASE SAVEPOINT migsafe_watch"
            } else {
                "DEALLOCATE migsafe_watched_query"
            };
            sqlx::raw_sql(deallocate)
                .execute(&mut *conn)
                .await
                .context("Failed to remove the watched query's prepared statement")?;
        }
        out.push((query.clone(), plan));
    }
    Ok(out)
}

/// The regressions of one migration, each blamed on the statement that caused it: the net
/// change from `run.before` to the last plans measured (after the last statement that could
/// change them, or before the failure), at the statement from which the plan stayed worse;
/// and, where the plan got worse and a later statement restored it after a commit in
/// between, that window (a warning).
pub fn attribute(
    run: &WatchedRun,
    statements: &[Statement],
    measured: &MigrationRun,
    thresholds: &WatchThresholds,
    table_rows: impl Fn(&QualifiedName) -> Option<i64>,
) -> Vec<Regression> {
    let line = |index: usize| statements.get(index).map_or(0, |s| s.start.line);
    let failed_at = measured.failed.as_ref().map(|f| line(f.statement));
    let mut found = Vec::new();
    for (query, old) in &run.before {
        if old.is_err() {
            continue;
        }
        let base = [(query.clone(), old.clone())];
        // (step, the regression from before the migration to this step's plan)
        let judged: Vec<(&Step, Option<Regression>)> = run
            .steps
            .iter()
            .filter_map(|step| {
                let plan = step
                    .plans
                    .iter()
                    .find(|(q, _)| q.name == query.name && q.sql == query.sql)?;
                let worse = regressions(&base, std::slice::from_ref(plan), thresholds, &table_rows)
                    .into_iter()
                    .next();
                Some((step, worse))
            })
            .collect();
        let Some((_, last)) = judged.last() else {
            continue;
        };
        if let Some(net) = last {
            // The statement from which it stayed worse: after an earlier drop restored and
            // dropped again, the second drop is what the migration leaves behind.
            let from = judged
                .iter()
                .rposition(|(_, worse)| worse.is_none())
                .map_or(0, |p| p + 1);
            let Some((culprit, _)) = judged.get(from) else {
                continue;
            };
            let mut regression = net.clone();
            regression.blame = Some(Blame {
                statement: culprit.statement,
                line: line(culprit.statement),
                fixed_by: None,
                failed_at,
                window_ms: None,
            });
            found.push(regression);
            continue;
        }
        // Net unchanged: a window in which the plan was worse, visible only when a commit
        // separates the statement that made it worse from the one that restored it.
        let mut at = 0;
        while at < judged.len() {
            let Some((culprit, Some(worse))) = judged.get(at) else {
                at += 1;
                continue;
            };
            let mut end = at;
            while judged.get(end).is_some_and(|(_, w)| w.is_some()) {
                end += 1;
            }
            let Some((fixer, _)) = judged.get(end) else {
                break;
            };
            if committed_between(culprit, fixer, statements) {
                let window_ms = ((culprit.statement + 1)..=fixer.statement)
                    .filter_map(|i| measured.statement(i))
                    .map(|s| s.duration_ms)
                    .sum();
                let mut regression = worse.clone();
                regression.blame = Some(Blame {
                    statement: culprit.statement,
                    line: line(culprit.statement),
                    fixed_by: Some((fixer.statement, line(fixer.statement))),
                    failed_at,
                    window_ms: Some(window_ms),
                });
                found.push(regression);
                break;
            }
            at = end;
        }
    }
    found
}

/// Whether the application could see the state between `culprit` and `fixer`: either ran
/// outside a transaction, or a transaction ended between them.
fn committed_between(culprit: &Step, fixer: &Step, statements: &[Statement]) -> bool {
    !culprit.in_transaction
        || !fixer.in_transaction
        || statements
            .get(culprit.statement + 1..=fixer.statement)
            .unwrap_or_default()
            .iter()
            .any(|s| {
                matches!(
                    s.kind,
                    StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback
                )
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_sql;

    fn query() -> WatchedQuery {
        WatchedQuery {
            name: "rentals of a copy".into(),
            sql: "SELECT * FROM rental WHERE inventory_id = 100".into(),
            origin: "queries.sql:2".into(),
            calls: None,
            total_ms: None,
        }
    }

    fn index_scan() -> Plan {
        Plan::from_json(
            r#"[{"Plan": {"Node Type": "Index Scan", "Relation Name": "rental",
                "Schema": "public", "Index Name": "idx_fk_inventory_id", "Plan Rows": 13,
                "Startup Cost": 0.29, "Total Cost": 40.1}}]"#,
        )
        .unwrap()
    }

    fn seq_scan() -> Plan {
        Plan::from_json(
            r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "rental",
                "Schema": "public", "Plan Rows": 13, "Startup Cost": 0,
                "Total Cost": 1100.0, "Filter": "(inventory_id = 100)"}}]"#,
        )
        .unwrap()
    }

    fn step(statement: usize, in_transaction: bool, plan: Plan) -> Step {
        Step {
            statement,
            in_transaction,
            plans: vec![(query(), Ok(plan))],
        }
    }

    fn reads() -> Reads {
        Reads::of(&[query()], &vec![(query(), Ok(index_scan()))])
    }

    fn can(sql: &str, rows: Option<u64>) -> bool {
        let stmt = parse_sql(sql, false).statements.remove(0);
        can_change_plans(&stmt, &reads(), rows, |_| Some(60_000))
    }

    #[test]
    fn only_statements_touching_what_the_queries_read_are_followed_by_plans() {
        for sql in [
            "DROP INDEX idx_fk_inventory_id",
            "DROP INDEX CONCURRENTLY IF EXISTS public.idx_fk_inventory_id",
            "CREATE INDEX rental_inv ON rental (inventory_id, customer_id)",
            "ALTER TABLE rental DROP COLUMN inventory_id",
            "ALTER TABLE public.rental RENAME TO rentals",
            "ANALYZE rental",
            "ANALYZE",
            "VACUUM rental",
            "CREATE STATISTICS rental_stats ON inventory_id, customer_id FROM rental",
            "DROP TABLE rental",
            "DO $$ BEGIN EXECUTE 'DROP INDEX idx_fk_inventory_id'; END $$",
        ] {
            assert!(can(sql, None), "{sql}");
        }
        for sql in [
            "SET enable_indexscan = off",
            "SET lock_timeout = '2s'",
            "CREATE INDEX customer_email ON customer (email)",
            "ALTER TABLE customer ADD COLUMN note text",
            "DROP INDEX customer_email",
            "ANALYZE customer",
            "COMMENT ON TABLE customer IS 'x'",
            "CREATE TABLE audit (id int)",
        ] {
            assert!(!can(sql, None), "{sql}");
        }
        // DML counts once it writes a tenth of the table.
        assert!(!can(
            "UPDATE rental SET customer_id = 1 WHERE rental_id < 10",
            Some(9)
        ));
        assert!(can("UPDATE rental SET customer_id = 1", Some(60_000)));
        assert!(!can(
            "UPDATE customer SET email = lower(email)",
            Some(60_000)
        ));
    }

    fn migration(sql: &str) -> Vec<Statement> {
        parse_sql(sql, false).statements
    }

    fn judge(run: &WatchedRun, statements: &[Statement]) -> Vec<Regression> {
        attribute(
            run,
            statements,
            &MigrationRun::default(),
            &WatchThresholds::default(),
            |_| Some(60_000),
        )
    }

    #[test]
    fn the_statement_from_which_the_plan_stays_worse_is_blamed() {
        let statements = migration(
            "ALTER TABLE rental ADD COLUMN note text;\nDROP INDEX idx_fk_inventory_id;\nANALYZE rental;\n",
        );
        let run = WatchedRun {
            before: vec![(query(), Ok(index_scan()))],
            steps: vec![
                step(0, true, index_scan()),
                step(1, true, seq_scan()),
                step(2, true, seq_scan()),
            ],
        };
        let found = judge(&run, &statements);
        assert_eq!(found.len(), 1);
        let blame = found[0].blame.unwrap();
        assert_eq!((blame.statement, blame.line), (1, 2));
        assert_eq!(blame.fixed_by, None);
        assert_eq!(found[0].lost_indexes, ["idx_fk_inventory_id"]);
    }

    #[test]
    fn a_plan_restored_in_the_same_transaction_is_not_a_regression() {
        let statements = migration(
            "DROP INDEX idx_fk_inventory_id;\nCREATE INDEX idx_fk_inventory_id ON rental (inventory_id);\n",
        );
        let run = WatchedRun {
            before: vec![(query(), Ok(index_scan()))],
            steps: vec![step(0, true, seq_scan()), step(1, true, index_scan())],
        };
        assert!(judge(&run, &statements).is_empty());
    }

    #[test]
    fn a_plan_restored_after_a_commit_is_a_window() {
        let statements = migration(
            "DROP INDEX CONCURRENTLY idx_fk_inventory_id;\nCREATE INDEX CONCURRENTLY idx_fk_inventory_id ON rental (inventory_id);\n",
        );
        let run = WatchedRun {
            before: vec![(query(), Ok(index_scan()))],
            steps: vec![step(0, false, seq_scan()), step(1, false, index_scan())],
        };
        let found = judge(&run, &statements);
        assert_eq!(found.len(), 1);
        let blame = found[0].blame.unwrap();
        assert_eq!(blame.line, 1);
        assert_eq!(blame.fixed_by, Some((1, 2)));
        // Explicit COMMIT between statements of one run: also visible.
        let statements = migration(
            "BEGIN;\nDROP INDEX idx_fk_inventory_id;\nCOMMIT;\nBEGIN;\nCREATE INDEX idx_fk_inventory_id ON rental (inventory_id);\nCOMMIT;\n",
        );
        let run = WatchedRun {
            before: vec![(query(), Ok(index_scan()))],
            steps: vec![step(1, true, seq_scan()), step(4, true, index_scan())],
        };
        assert_eq!(judge(&run, &statements).len(), 1);
    }

    #[test]
    fn a_query_that_no_longer_plans_is_blamed_on_the_drop() {
        let statements = migration("DROP TABLE rental;\n");
        let run = WatchedRun {
            before: vec![(query(), Ok(index_scan()))],
            steps: vec![Step {
                statement: 0,
                in_transaction: true,
                plans: vec![(query(), Err("relation \"rental\" does not exist".into()))],
            }],
        };
        let found = judge(&run, &statements);
        assert_eq!(found.len(), 1);
        assert!(found[0].severe);
        assert_eq!(found[0].blame.unwrap().line, 1);
    }
}
