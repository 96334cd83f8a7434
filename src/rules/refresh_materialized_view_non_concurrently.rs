//! `refresh-materialized-view-non-concurrently`: `REFRESH MATERIALIZED VIEW` without
//! `CONCURRENTLY`, which blocks every read of the view.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M015",
    name: "refresh-materialized-view-non-concurrently",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` on a materialized view that \
           existed before this migration.",
    why: "A plain refresh re-runs the view's query and replaces its contents while holding an \
          ACCESS EXCLUSIVE lock on the view: every SELECT from it waits until the query has \
          finished, which for the heavy queries materialized views exist for can be minutes. \
          (PostgreSQL docs: REFRESH MATERIALIZED VIEW, \"CONCURRENTLY\".)",
    instead: "Give the view a unique index on plain columns (no WHERE clause) covering every \
              row, once: `CREATE UNIQUE INDEX CONCURRENTLY ... ON <view> (...)`. Then use \
              `REFRESH MATERIALIZED VIEW CONCURRENTLY <view>;`, which computes the new contents \
              aside and applies the difference under an EXCLUSIVE lock: reads continue, only \
              other refreshes wait. It may run inside a transaction, is slower when most rows \
              change, and needs the view to be populated already.",
    rollback: "Nothing to undo: the view now holds the query's current result; the previous \
               contents cannot be restored, only refreshed again.",
    bad: include_str!("../../fixtures/rules/refresh-materialized-view-non-concurrently/bad.sql"),
    good: include_str!("../../fixtures/rules/refresh-materialized-view-non-concurrently/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::RefreshMaterializedView {
        name,
        concurrently: false,
    } = &stmt.kind
    else {
        return None;
    };
    // A view created earlier in this migration has no readers yet.
    if ctx.table_is_new(name) {
        return None;
    }
    Some(
        Risk::new(format!(
            "Refreshing materialized view {name} without CONCURRENTLY locks it ACCESS \
             EXCLUSIVE: every read of {name} waits until its query has run"
        ))
        .with_instead(instead_for(name))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// The unique index + `REFRESH ... CONCURRENTLY` recipe for the user's view.
fn instead_for(view: &crate::model::QualifiedName) -> String {
    let v = instead::table(view);
    let index = instead::name(&format!("{}_refresh_key", view.name));
    format!(
        "Give {v} a unique index on plain columns (no WHERE clause) covering every row, once: \
         `CREATE UNIQUE INDEX CONCURRENTLY {index} ON {v} (<key columns>);`. Then use `REFRESH \
         MATERIALIZED VIEW CONCURRENTLY {v};`, which computes the new contents aside and applies \
         the difference under an EXCLUSIVE lock: reads continue, only other refreshes wait. It \
         may run inside a transaction, is slower when most rows change, and needs {v} to be \
         populated already."
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_view() {
        let found = check(&RULE, "REFRESH MATERIALIZED VIEW rental_by_month;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`REFRESH MATERIALIZED VIEW CONCURRENTLY rental_by_month;`"),
            "{instead}"
        );
        assert!(
            instead.contains(
                "CREATE UNIQUE INDEX CONCURRENTLY rental_by_month_refresh_key ON rental_by_month"
            ),
            "{instead}"
        );
        assert!(!instead.contains("<view>"), "{instead}");
    }

    #[test]
    fn flags_plain_refresh() {
        let findings = check(&RULE, "REFRESH MATERIALIZED VIEW sales_daily_totals;");
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("sales_daily_totals"));
        assert_eq!(findings[0].table.as_deref(), Some("sales_daily_totals"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert_eq!(
            count(&RULE, "refresh materialized view reporting.sales_daily;"),
            1
        );
    }

    #[test]
    fn allows_concurrent_refresh_and_new_views() {
        assert_eq!(
            count(
                &RULE,
                "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_daily_totals;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "CREATE MATERIALIZED VIEW sales_daily AS SELECT 1 AS one WITH NO DATA;\n\
                 REFRESH MATERIALIZED VIEW sales_daily;"
            ),
            0
        );
    }
}
