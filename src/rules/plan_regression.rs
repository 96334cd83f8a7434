//! `plan-regression`: a watched application query (a configured SQL file or a
//! `pg_stat_statements` export) whose plan on the copy gets worse after the pending
//! migrations. Plans and comparison are `execute::watch`; the engine hands the regressions
//! to `risks`.

use super::{Check, Risk, Rule};
use crate::execute::watch::Regression;
use crate::model::{Evidence, Position, Severity};

pub const RULE: Rule = Rule {
    code: "M064",
    name: "plan-regression",
    severity: Severity::Warning,
    evidence: Evidence::Execution,
    what: "Flags a watched query whose plan on the copy, after the pending migrations, no longer \
           uses an index it used before, gains a Seq Scan on a large table (an error), costs \
           more than the allowed factor (default 2x) of its estimate before, or cannot be \
           planned at all any more (an error). Shows the key nodes of both plans.",
    why: "A migration can be perfectly safe to run and still make the application slow: a \
          dropped or replaced index, a changed column type that no longer matches the \
          queries' parameters, a new partial index that does not cover the common case. The \
          slowdown starts at deploy, on every call of the query at once, and is rarely traced \
          back to the migration quickly.",
    instead: "Keep (or first create) an index that serves the query, and drop the old one only \
              once EXPLAIN of the watched queries shows the new plan. If the new plan is \
              expected and acceptable, say so in the migration's `-- expect:` lines and \
              suppress this finding with a reason.",
    rollback: "Recreate what the query used (the finding names the index): `CREATE INDEX \
               CONCURRENTLY ...` from the index's old definition.",
    bad: include_str!("../../fixtures/rules/plan-regression/bad.sql"),
    good: include_str!("../../fixtures/rules/plan-regression/good.sql"),
    check: Check::Engine,
};

/// One risk per regressed query; an error when it now seq-scans a large table or no longer
/// plans.
pub(crate) fn risks(regressions: &[Regression]) -> Vec<Risk> {
    regressions
        .iter()
        .map(|r| {
            let mut risk = Risk {
                position: Some(Position { line: 1, column: 1 }),
                ..Risk::new(message(r))
            };
            risk.facts.plan = Some(format!("before:\n{}\nafter:\n{}", r.before, r.after));
            if let Some((table, rows)) = r.new_seq_scans.first() {
                risk = risk.on_table(table);
                risk.facts.rows = *rows;
            }
            // A window that a later statement closes is a warning: the application sees the
            // worse plan only for as long as the statements in between take.
            let window = r.blame.is_some_and(|b| b.fixed_by.is_some());
            if r.severe && !window {
                risk = risk.with_severity(Severity::Error);
            }
            if let Some(lost) = r.lost_indexes.first() {
                risk = risk.with_instead(format!(
                    "Keep {} (or first create an index that serves {}, with `CREATE INDEX \
                     CONCURRENTLY`), and drop it only once EXPLAIN of that query shows the new \
                     plan. If the new plan is expected and acceptable, say so in the \
                     migration's `-- expect:` lines and suppress this finding with a reason.",
                    super::instead::name(lost),
                    r.query.title()
                ));
            }
            risk
        })
        .collect()
}

/// What the finding says: where in the migration the plan got worse, when plans were taken
/// between its statements, and the ways it got worse.
fn message(r: &Regression) -> String {
    let query = format!("Watched query {} ({})", r.query.title(), r.query.origin);
    let reasons = r.reasons.join("; ");
    let Some(blame) = r.blame else {
        return format!("{query} gets worse after this migration: {reasons}");
    };
    let failed = blame
        .failed_at
        .map(|line| {
            format!(
                " (measured on the copy before the migration failed at line {line}: once that \
                 failure is fixed, this change ships with it)"
            )
        })
        .unwrap_or_default();
    match blame.fixed_by {
        None if blame.failed_at.is_some() => format!(
            "{query} gets worse at this statement (line {}): {reasons}{failed}",
            blame.line
        ),
        None => format!(
            "{query} gets worse at this statement (line {}) and stays worse after the \
             migration: {reasons}",
            blame.line
        ),
        Some((_, until)) => {
            let took = blame
                .window_ms
                .map(|ms| format!(", {} on the copy", crate::report::text::duration_ms(ms)))
                .unwrap_or_default();
            format!(
                "{query} is worse between line {} and line {until} of this migration: a commit \
                 separates them, so the application runs the worse plan in between{took}: \
                 {reasons}. Line {until} restores the plan; doing that first (create the \
                 replacement, then drop) leaves no window{failed}",
                blame.line
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::watch::WatchedQuery;
    use crate::model::QualifiedName;

    fn regression(severe: bool) -> Regression {
        Regression {
            query: WatchedQuery {
                name: "orders by customer".into(),
                sql: "SELECT * FROM orders WHERE customer_id = 42".into(),
                origin: "queries.sql:2".into(),
                calls: None,
                total_ms: None,
            },
            reasons: vec!["it no longer uses index orders_customer_id_idx (Index Scan using orders_customer_id_idx on public.orders)".into()],
            lost_indexes: vec!["orders_customer_id_idx".into()],
            new_seq_scans: vec![(QualifiedName::new(Some("public"), "orders"), Some(2_000_000))],
            severe,
            cost_before: 8.4,
            cost_after: Some(35_000.0),
            before: "Index Scan using orders_customer_id_idx on public.orders".into(),
            after: "Seq Scan on public.orders".into(),
            blame: None,
        }
    }

    #[test]
    fn instead_names_the_lost_index_and_the_query() {
        let found = risks(&[regression(false)]);
        let instead = found[0].instead.as_deref().unwrap_or_default();
        assert!(
            instead.starts_with("Keep orders_customer_id_idx (or first create an index that serves orders by customer"),
            "{instead}"
        );
    }

    #[test]
    fn names_the_query_the_lost_index_and_both_plans() {
        let found = risks(&[regression(false)]);
        assert_eq!(found.len(), 1);
        let r = &found[0];
        assert!(
            r.message
                .contains("Watched query orders by customer (queries.sql:2)"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("orders_customer_id_idx"),
            "{}",
            r.message
        );
        let plan = r.facts.plan.as_deref().unwrap();
        assert!(
            plan.contains("before:\nIndex Scan") && plan.contains("after:\nSeq Scan"),
            "{plan}"
        );
        assert_eq!(r.severity, None);
        assert_eq!(r.facts.rows, Some(2_000_000));
    }

    #[test]
    fn a_large_seq_scan_is_an_error() {
        assert_eq!(
            risks(&[regression(true)])[0].severity,
            Some(Severity::Error)
        );
    }

    #[test]
    fn a_window_closed_by_a_later_statement_is_a_warning_naming_both_lines() {
        let mut r = regression(true);
        r.blame = Some(crate::execute::watch::Blame {
            statement: 0,
            line: 4,
            fixed_by: Some((1, 5)),
            failed_at: None,
            window_ms: Some(1500),
        });
        let risk = &risks(&[r])[0];
        assert_eq!(risk.severity, None);
        assert!(
            risk.message.contains("between line 4 and line 5"),
            "{}",
            risk.message
        );
    }
}
