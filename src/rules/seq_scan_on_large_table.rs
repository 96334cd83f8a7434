//! `seq-scan-on-large-table`: the plain EXPLAIN of a migration's UPDATE, DELETE or
//! INSERT ... SELECT reads a large table sequentially.

use super::{Check, Context, Risk, Rule};
use crate::evidence::catalog::Table;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::plan::{PlanOutcome, SeqScan};
use crate::report::text::{bytes, thousands};

pub const RULE: Rule = Rule {
    code: "M054",
    name: "seq-scan-on-large-table",
    severity: Severity::Warning,
    evidence: Evidence::Catalog,
    what: "Flags an UPDATE, DELETE or INSERT ... SELECT whose plan on the copy (plain EXPLAIN, \
           not executed) reads a table above the large-table threshold with a sequential scan.",
    why: "A sequential scan reads every page of the table to find the rows the statement wants, \
          so the statement runs for as long as reading the whole table takes, however few rows \
          it changes. Inside the migration's transaction that time is added to every lock the \
          migration holds (rows already updated stay locked, and an earlier ALTER's lock blocks \
          the table), the scan evicts the cache that application queries rely on, and the \
          longer the transaction, the longer vacuum cannot clean up behind it. Warning rather \
          than error: the plan is an estimate from the copy's statistics, and the harm is \
          duration, which a run on a clone measures. Unfiltered UPDATE/DELETE are left to \
          `update-without-where`, `delete-without-where` and `dml-touches-many-rows`. \
          (PostgreSQL docs: 14.1 \"Using EXPLAIN\"; 13.3.2 \"Row-Level Locks\"; 25.1.2 \
          \"Recovering Disk Space\".)",
    instead: "Give the WHERE clause an index to use: create one on the filtered columns first, \
              with `CREATE INDEX CONCURRENTLY` in its own migration (drop it afterwards if only \
              the migration needed it), and check the new plan with `EXPLAIN`. Or walk the \
              table by primary-key range in batches, each in its own short transaction: \
              `UPDATE orders SET status = 'cancelled' WHERE status = 'stuck' AND id >= 1 AND \
              id < 10001;`, then the next range, so each batch reads one index range instead \
              of the whole table.",
    rollback: "The scan itself changes nothing. The statement's changes are rolled back like \
               any DML: copy the rows it changes first (`CREATE TABLE <table>_backup AS SELECT \
               * FROM <table> WHERE <same condition>;`) and restore from that copy.",
    bad: include_str!("../../fixtures/rules/seq-scan-on-large-table/bad.sql"),
    good: include_str!("../../fixtures/rules/seq-scan-on-large-table/good.sql"),
    check: Check::Statement(check),
};

/// The table a group of sequential scans reads: a table, or a partitioned table whose
/// partitions are scanned one by one.
#[derive(Debug)]
struct Scanned {
    table: QualifiedName,
    /// Rows and bytes of the table (or of the scanned partitions), from the catalog; without
    /// it, the rows the scans return, a lower bound.
    rows: i64,
    bytes: Option<i64>,
    /// Rows the scans keep after their filters.
    kept: i64,
    partitions: usize,
    filter: Option<String>,
    /// The relations scanned: the table, or the partitions.
    members: Vec<QualifiedName>,
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let Some(PlanOutcome::Explained(plan)) = ctx.plan else {
        return None;
    };
    // A DML without WHERE must visit every row: a sequential scan is the right plan, and the
    // risk is how many rows it touches, which other rules report.
    let unfiltered = match &stmt.kind {
        StatementKind::Update {
            table,
            has_where: false,
        }
        | StatementKind::Delete {
            table,
            has_where: false,
        } => Some(table),
        _ => None,
    };

    let mut scanned: Vec<Scanned> = Vec::new();
    for scan in plan.seq_scans() {
        let group = scanned_table(ctx, &scan);
        if unfiltered.is_some_and(|t| t.matches(&group.table) || t.matches(&scan.relation)) {
            continue;
        }
        match scanned.iter_mut().find(|s| s.table == group.table) {
            // The same relation scanned again (a self-join, a CTE, a rewrite rule's query):
            // it is still one table's worth of reading.
            Some(s) if s.members.contains(&scan.relation) => {
                s.rows = s.rows.max(group.rows);
                s.kept = s.kept.max(group.kept);
            }
            // Another partition of the same partitioned table.
            Some(s) => {
                s.rows = s.rows.saturating_add(group.rows);
                s.bytes = s.bytes.zip(group.bytes).map(|(a, b)| a.saturating_add(b));
                s.kept = s.kept.saturating_add(group.kept);
                s.partitions += group.partitions;
                s.filter = s.filter.take().or(group.filter);
                s.members.push(scan.relation.clone());
            }
            None => scanned.push(group),
        }
    }

    let t = &ctx.settings.thresholds;
    let mut large: Vec<Scanned> = scanned
        .into_iter()
        .filter(|s| s.rows > t.large_table_rows || s.bytes.unwrap_or(0) > t.large_table_bytes)
        .collect();
    large.sort_by_key(|s| std::cmp::Reverse((s.bytes.unwrap_or(0), s.rows)));
    let (first, others) = large.split_first()?;

    let mut message = describe(first);
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(|s| s.table.to_string()).collect();
        message.push_str(&format!(
            "; it also scans {} sequentially",
            names.join(", ")
        ));
    }
    // Worth saying only when it differs from what the scan finds (joins, INSERT ... SELECT).
    if let Some(touched) = plan.total_rows().filter(|&t| t != first.kept) {
        message.push_str(&format!(
            "; the statement changes an estimated {} rows",
            thousands(touched)
        ));
    }
    message.push_str("; index the filtered columns or batch by key range");

    let mut risk = Risk::new(message)
        .with_instead(instead_for(ctx, stmt, first))
        .on_table(&first.table);
    risk.facts.rows = Some(first.rows);
    risk.facts.bytes = first.bytes;
    risk.facts.plan = Some(plan.excerpt());
    Some(risk)
}

/// An index on what the plan filters, or the user's statement walked by key range.
fn instead_for(ctx: &Context, stmt: &Statement, scanned: &Scanned) -> String {
    // The table as the statement writes it, when it is the one scanned (the plan qualifies it).
    let written = match &stmt.kind {
        StatementKind::Update { table, .. } | StatementKind::Delete { table, .. }
            if table.matches(&scanned.table) =>
        {
            table
        }
        _ => &scanned.table,
    };
    let t = super::instead::table(written);
    let filter = scanned
        .filter
        .as_deref()
        .map(|f| format!(" (the plan filters `{}`)", f.trim()))
        .unwrap_or_default();
    let batch = super::instead::batch(ctx.settings);
    let walk = match super::instead::update_parts(&stmt.text) {
        Some((set, condition)) => {
            let condition = condition.map(|c| format!("({c}) AND ")).unwrap_or_default();
            format!(
                "`UPDATE {t} SET {set} WHERE {condition}<key> >= 1 AND <key> < {};`, then the \
                 next range",
                1 + batch
            )
        }
        None => format!(
            "each batch limited to a range of {batch} values of the primary key, then the next \
             range"
        ),
    };
    format!(
        "Give the WHERE clause an index to use{filter}: `CREATE INDEX CONCURRENTLY IF NOT EXISTS \
         <name> ON {t} (<the filtered columns>);` in its own migration first (drop it afterwards \
         if only the migration needed it), and check the new plan with `EXPLAIN`. Or walk {t} by \
         primary-key range, each batch in its own short transaction: {walk}, so each batch reads \
         one index range instead of the whole table."
    )
}

/// What one scan reads, sized from the schema when the copy knows the table; partitions are
/// counted under their top-level partitioned table.
fn scanned_table(ctx: &Context, scan: &SeqScan) -> Scanned {
    match table_in_schema(ctx, &scan.relation) {
        Some(table) => Scanned {
            table: partition_root(ctx, table),
            rows: table.rows.max(scan.rows),
            bytes: Some(table.bytes()),
            kept: scan.rows,
            partitions: usize::from(table.partition_of.is_some()),
            filter: scan.filter.clone(),
            members: vec![scan.relation.clone()],
        },
        None => Scanned {
            table: scan.relation.clone(),
            rows: scan.rows,
            bytes: None,
            kept: scan.rows,
            partitions: 0,
            filter: scan.filter.clone(),
            members: vec![scan.relation.clone()],
        },
    }
}

/// The partitioned table at the top of `table`'s partition tree, or `table` itself.
fn partition_root(ctx: &Context, table: &Table) -> QualifiedName {
    let mut name = &table.name;
    let mut parent = table.partition_of.as_ref();
    // Partition trees are a few levels deep; the bound only guards against a malformed
    // catalog that loops.
    for _ in 0..32 {
        let Some(p) = parent else { break };
        name = p;
        parent = table_in_schema(ctx, p).and_then(|t| t.partition_of.as_ref());
    }
    name.clone()
}

/// The copy's table of that name, as the statements before this one left it.
fn table_in_schema<'a>(ctx: &Context<'a>, name: &QualifiedName) -> Option<&'a Table> {
    ctx.schema?.table(name)
}

/// `Seq Scan on public.orders reads all of its 20,000 rows (1.2 MB) to find an estimated 200
/// (Filter: ...)`.
fn describe(s: &Scanned) -> String {
    let filter = s
        .filter
        .as_deref()
        .map(|f| format!(" (Filter: {})", short(f, 80)))
        .unwrap_or_default();
    let (scans, reads, its) = match s.partitions {
        0 | 1 => (format!("Seq Scan on {}", s.table), "reads", "its"),
        n => (
            format!("Seq Scans on {n} partitions of {}", s.table),
            "read",
            "their",
        ),
    };
    match s.bytes {
        Some(size) => format!(
            "{scans} {reads} all of {its} {} rows ({}) to find an estimated {}{filter}",
            thousands(s.rows),
            bytes(size),
            thousands(s.kept)
        ),
        None => format!(
            "{scans} {} an estimated {} rows{filter}, so the table has at least that many \
             (its size is not in the copy's catalog)",
            if reads == "reads" {
                "returns"
            } else {
                "return"
            },
            thousands(s.rows)
        ),
    }
}

/// `text` cut to `max` characters.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::config::Settings;
    use crate::evidence::catalog::{CatalogSnapshot, RowSource, Table, TableKind};
    use crate::evidence::connect::ServerIdentity;
    use crate::model::QualifiedName;
    use crate::plan::samples::{self, explained, judge, judge_in};
    use crate::plan::PlanOutcome;
    use crate::schema::Schema;

    fn table(name: &str, parent: Option<&str>, rows: i64, heap_bytes: i64) -> Table {
        Table {
            name: QualifiedName::new(Some("public"), name),
            kind: if parent.is_some() {
                TableKind::Partition
            } else {
                TableKind::Table
            },
            partition_of: parent.map(|p| QualifiedName::new(Some("public"), p)),
            rows,
            row_source: RowSource::Analyze,
            heap_bytes,
            index_bytes: 0,
            toast_bytes: 0,
            triggers: 0,
            locked: false,
            columns: Vec::new(),
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        let server = ServerIdentity {
            version_num: 150020,
            version: "15.20".into(),
            database: "copy".into(),
            database_bytes: 0,
            in_recovery: false,
            last_analyzed: None,
            seconds_since_analyze: None,
        };
        let snapshot = CatalogSnapshot::from_parts(
            server,
            Vec::new(),
            tables,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        Schema::new(snapshot)
    }

    /// The fixture's thresholds: orders (20,000 rows) is large.
    fn small_thresholds() -> Settings {
        let mut settings = Settings::default();
        settings.thresholds.large_table_rows = 10_000;
        settings.thresholds.batch_rows = 5_000;
        settings
    }

    const STUCK: &str = "UPDATE orders SET status = 'cancelled' WHERE status = 'stuck';";

    #[test]
    fn needs_an_explained_plan() {
        let settings = small_thresholds();
        assert_eq!(judge(&RULE, STUCK, None, &settings), None);
        let skipped = PlanOutcome::Skipped("column \"x\" does not exist".into());
        assert_eq!(judge(&RULE, STUCK, Some(&skipped), &settings), None);
    }

    #[test]
    fn instead_walks_the_users_statement_by_key_range() {
        let plan = explained(samples::UPDATE_SEQ_SCAN);
        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 100;
        let risk = judge(&RULE, STUCK, Some(&plan), &settings).expect("finding");
        let instead = risk.instead.unwrap_or_default();
        assert!(
            instead.contains("ON orders (<the filtered columns>)"),
            "{instead}"
        );
        assert!(instead.contains("`UPDATE orders SET "), "{instead}");
        assert!(instead.contains("<key> >= 1 AND <key> <"), "{instead}");
    }

    #[test]
    fn without_catalog_sizes_the_scan_estimate_decides() {
        // The plan's seq scan on orders returns 200 rows: below any sensible threshold, and
        // without the catalog that is all that is known of the table.
        let plan = explained(samples::UPDATE_SEQ_SCAN);
        assert_eq!(judge(&RULE, STUCK, Some(&plan), &small_thresholds()), None);

        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 100;
        let risk = judge(&RULE, STUCK, Some(&plan), &settings).expect("finding");
        assert!(
            risk.message.starts_with(
                "Seq Scan on public.orders returns an estimated 200 rows (Filter: \
                 (orders.status = 'stuck'::text)), so the table has at least that many"
            ),
            "{}",
            risk.message
        );
        assert!(
            !risk.message.contains("changes an estimated"),
            "the rows found are the rows changed: said once"
        );
        assert_eq!(
            risk.table.as_ref().map(|t| t.to_string()).as_deref(),
            Some("public.orders")
        );
        assert_eq!(risk.facts.rows, Some(200));
        assert_eq!(risk.facts.bytes, None);
        assert!(risk
            .facts
            .plan
            .as_deref()
            .unwrap_or("")
            .contains("Seq Scan on public.orders"));
        assert_eq!(risk.severity, None, "warning, the rule's default");
    }

    #[test]
    fn insert_select_reading_a_large_table_is_flagged() {
        let plan = explained(samples::INSERT_SELECT);
        let sql =
            "INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2024-01-05';";
        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 5_000;
        let risk = judge(&RULE, sql, Some(&plan), &settings).expect("finding");
        assert!(
            risk.message
                .contains("public.orders returns an estimated 5,759 rows"),
            "{}",
            risk.message
        );
    }

    #[test]
    fn index_scans_are_not_flagged() {
        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 0;
        for (sql, json) in [
            (
                "DELETE FROM orders WHERE id < 50;",
                samples::DELETE_INDEX_SCAN,
            ),
            (
                "UPDATE orders o SET note = 'vip' WHERE customer_id IN (1, 2, 3);",
                samples::UPDATE_BITMAP,
            ),
        ] {
            assert_eq!(
                judge(&RULE, sql, Some(&explained(json)), &settings),
                None,
                "{sql}"
            );
        }
    }

    #[test]
    fn unfiltered_dml_is_left_to_the_row_count_rules() {
        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 0;
        let plan = explained(samples::UPDATE_ALL_ROWS);
        assert_eq!(
            judge(
                &RULE,
                "UPDATE orders SET note = 'migrated';",
                Some(&plan),
                &settings
            ),
            None
        );
    }

    #[test]
    fn every_large_scan_of_a_join_is_named() {
        let mut settings = small_thresholds();
        settings.thresholds.large_table_rows = 100;
        let plan = explained(samples::UPDATE_JOIN);
        let sql = "UPDATE billing.invoices i SET amount = 0 FROM orders o \
                   WHERE o.id = i.order_id AND o.status = 'stuck';";
        let risk = judge(&RULE, sql, Some(&plan), &settings).expect("finding");
        assert_eq!(risk.facts.rows, Some(5000), "the biggest scan leads");
        assert!(
            risk.message
                .starts_with("Seq Scan on billing.invoices returns an estimated 5,000 rows"),
            "{}",
            risk.message
        );
        assert!(
            risk.message.contains("also scans public.orders"),
            "{}",
            risk.message
        );
        assert!(
            risk.message
                .contains("; the statement changes an estimated 50 rows;"),
            "{}",
            risk.message
        );
    }

    #[test]
    fn catalog_size_shows_what_the_scan_really_reads() {
        let plan = explained(samples::UPDATE_SEQ_SCAN);
        let copy = schema(vec![table("orders", None, 20_000, 1_245_184)]);
        let risk =
            judge_in(&RULE, STUCK, Some(&plan), Some(&copy), &small_thresholds()).expect("finding");
        assert_eq!(
            risk.message,
            "Seq Scan on public.orders reads all of its 20,000 rows (1.2 MB) to find an \
             estimated 200 (Filter: (orders.status = 'stuck'::text)); index the filtered \
             columns or batch by key range"
        );
        assert_eq!(risk.facts.rows, Some(20_000));
        assert_eq!(risk.facts.bytes, Some(1_245_184));

        // The same plan on a table the catalog knows to be small is fine.
        let small = schema(vec![table("orders", None, 5_000, 300_000)]);
        assert_eq!(
            judge_in(&RULE, STUCK, Some(&plan), Some(&small), &small_thresholds()),
            None
        );
    }

    #[test]
    fn a_bloated_table_is_large_by_bytes() {
        let plan = explained(samples::UPDATE_SEQ_SCAN);
        let bloated = schema(vec![table("orders", None, 500, 2 << 30)]);
        let risk = judge_in(
            &RULE,
            STUCK,
            Some(&plan),
            Some(&bloated),
            &Settings::default(),
        )
        .expect("finding");
        assert!(
            risk.message.contains("500 rows (2.0 GB)"),
            "{}",
            risk.message
        );
    }

    #[test]
    fn partitions_add_up_under_their_partitioned_table() {
        let plan = explained(samples::UPDATE_PARTITIONED);
        let mut parent = table("events", None, 12_000, 1_000_000);
        parent.kind = TableKind::Partitioned;
        let copy = schema(vec![
            parent,
            table("events_2023", Some("events"), 6_000, 500_000),
            table("events_2024", Some("events"), 6_000, 500_000),
        ]);
        let sql = "UPDATE events SET kind = 'click' WHERE kind = 'tap';";
        let risk = judge_in(&RULE, sql, Some(&plan), Some(&copy), &small_thresholds())
            .expect("each partition is below the threshold, together they are above");
        assert!(
            risk.message.starts_with(
                "Seq Scans on 2 partitions of public.events read all of their 12,000 rows"
            ),
            "{}",
            risk.message
        );
        assert_eq!(
            risk.table.map(|t| t.to_string()).as_deref(),
            Some("public.events")
        );
    }

    #[test]
    fn a_table_scanned_twice_is_counted_once() {
        let plan = explained(samples::UPDATE_SELF_JOIN);
        let copy = schema(vec![table("orders", None, 20_000, 1_245_184)]);
        let sql = "UPDATE orders o SET note = 'dup' FROM orders p \
                   WHERE p.customer_id = o.customer_id AND p.id <> o.id \
                   AND p.status = 'stuck' AND o.status = 'stuck';";
        let risk =
            judge_in(&RULE, sql, Some(&plan), Some(&copy), &small_thresholds()).expect("finding");
        assert_eq!(risk.facts.rows, Some(20_000));
        assert!(
            risk.message.starts_with(
                "Seq Scan on public.orders reads all of its 20,000 rows (1.2 MB) to find an \
                 estimated 200"
            ),
            "{}",
            risk.message
        );
        assert!(!risk.message.contains("also scans"), "{}", risk.message);
        assert!(
            risk.message.contains("changes an estimated 40 rows"),
            "{}",
            risk.message
        );
    }
}
