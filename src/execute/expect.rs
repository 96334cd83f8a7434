//! Expected results, checked (PRODUCT.md §2, issue 5 item 5): each `-- expect:` line of a
//! migration is compared with what running it on the disposable clone measured, and comes
//! back met, not met or not checked, with the measured value in its detail.
//!
//! The measurements are this module's own type (`MigrationMeasure`), so that checking does
//! not depend on how the executor records them. Plan expectations EXPLAIN their query on the
//! clone after the migration (plain EXPLAIN, never ANALYZE).

use crate::evidence::explain::explain;
use crate::metadata::expectation::{Comparison, Expectation, PlanTarget};
use crate::metadata::EXPECT_FREE_TEXT;
use crate::model::{ExpectStatus, Expected};
use crate::plan::{Plan, PlanNode};
use crate::report::text::{duration_ms, thousands};
use sqlx::postgres::PgConnection;
use std::time::Duration;

/// Longest query text quoted in a plan expectation's detail.
const QUERY_CHARS: usize = 80;

/// What running one migration on the clone measured. `None` means "not measured" (the
/// executor could not observe it), never zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationMeasure {
    /// Rows inserted, updated or deleted by all its statements together.
    pub rows_affected: Option<u64>,
    /// Wall-clock run time of the whole migration.
    pub duration_ms: Option<u64>,
    /// The longest time a lock that blocks other sessions' reads or writes was held;
    /// `Some(0)` when the migration took no such lock.
    pub longest_blocking_lock_ms: Option<u64>,
    /// PostgreSQL's error when the migration failed on the clone.
    pub failed: Option<String>,
    /// The failure was a cancellation by `statement_timeout` or `lock_timeout`: the duration
    /// and lock hold measured are lower bounds of what the whole migration takes.
    pub cancelled: bool,
}

/// Checks each declared expectation against the measurements; `conn` is a session on the
/// clone after the migration ran, used for plan expectations (`None`: they stay not
/// checked). Returns the expectations in the same order, with status and detail filled in.
pub async fn check(
    expected: &[Expected],
    measure: &MigrationMeasure,
    mut conn: Option<&mut PgConnection>,
) -> Vec<Expected> {
    let mut checked = Vec::with_capacity(expected.len());
    for e in expected {
        let (status, detail) = match Expectation::parse(&e.text) {
            None => (ExpectStatus::NotChecked, EXPECT_FREE_TEXT.to_string()),
            Some(Expectation::Plan {
                query,
                uses,
                target,
            }) => check_plan(&query, uses, &target, measure, conn.as_deref_mut()).await,
            Some(other) => check_measured(&other, measure),
        };
        checked.push(Expected {
            status,
            detail,
            ..e.clone()
        });
    }
    checked
}

/// Expectations answered by the measurements alone (all but plan expectations).
pub fn check_measured(
    expectation: &Expectation,
    measure: &MigrationMeasure,
) -> (ExpectStatus, String) {
    match expectation {
        Expectation::Fails => match &measure.failed {
            Some(error) => (
                ExpectStatus::Met,
                format!("the migration failed on the copy: {error}"),
            ),
            None => (
                ExpectStatus::NotMet,
                "the migration succeeded on the copy".to_string(),
            ),
        },
        Expectation::Succeeds => match &measure.failed {
            None => (
                ExpectStatus::Met,
                "the migration succeeded on the copy".to_string(),
            ),
            Some(error) => (
                ExpectStatus::NotMet,
                format!("the migration failed on the copy: {error}"),
            ),
        },
        Expectation::Rows { op, count } => compare(
            "rows affected",
            measure.rows_affected,
            *op,
            *count,
            |n| thousands(i64::try_from(n).unwrap_or(i64::MAX)),
            measure,
        ),
        Expectation::Duration { op, limit } => compare(
            "duration",
            measure.duration_ms,
            *op,
            millis(*limit),
            duration_ms,
            measure,
        ),
        Expectation::Lock { op, limit } => compare(
            "longest blocking lock held",
            measure.longest_blocking_lock_ms,
            *op,
            millis(*limit),
            duration_ms,
            measure,
        ),
        // Plan expectations are checked by `check_plan`; reaching here means no session.
        Expectation::Plan { .. } => (
            ExpectStatus::NotChecked,
            "needs the migration run on a disposable copy".to_string(),
        ),
    }
}

/// `rows affected 120,000 > 50,000`: the measured value against the limit, stated the way
/// it actually compares.
fn compare(
    what: &str,
    measured: Option<u64>,
    op: Comparison,
    limit: u64,
    show: impl Fn(u64) -> String,
    measure: &MigrationMeasure,
) -> (ExpectStatus, String) {
    let Some(actual) = measured else {
        let reason = match &measure.failed {
            Some(error) => format!("not measured: the migration failed on the copy ({error})"),
            None => format!("not measured: {what} was not recorded on the copy"),
        };
        return (ExpectStatus::NotChecked, reason);
    };
    if measure.failed.is_some() && measure.cancelled && what != "rows affected" {
        return lower_bound(what, actual, op, limit, show);
    }
    if measure.failed.is_some() {
        // A migration that failed midway touched and locked less than the real one will:
        // its numbers would make a limit look met when it is not.
        return (
            ExpectStatus::NotChecked,
            format!(
                "not comparable: the migration failed on the copy after {what} {}",
                show(actual)
            ),
        );
    }
    if op.holds(actual, limit) {
        (
            ExpectStatus::Met,
            format!("{what} {} {op} {}", show(actual), show(limit)),
        )
    } else {
        (
            ExpectStatus::NotMet,
            format!("{what} {} {} {}", show(actual), negated(op), show(limit)),
        )
    }
}

/// A migration cancelled by the copy's timeout ran (and held its locks) at least `actual`:
/// an upper limit below that is not met, a lower limit at or below it is met, anything else
/// is unknown because it never finished.
fn lower_bound(
    what: &str,
    actual: u64,
    op: Comparison,
    limit: u64,
    show: impl Fn(u64) -> String,
) -> (ExpectStatus, String) {
    let at_least = format!(
        "{what} at least {} (cancelled by the copy's timeout before it finished)",
        show(actual)
    );
    let exceeded = match op {
        Comparison::Lt => actual >= limit,
        Comparison::Le | Comparison::Eq => actual > limit,
        Comparison::Ge | Comparison::Gt => false,
    };
    let reached = match op {
        Comparison::Ge => actual >= limit,
        Comparison::Gt => actual > limit,
        _ => false,
    };
    if exceeded {
        (
            ExpectStatus::NotMet,
            format!("{at_least} {} {}", negated(op), show(limit)),
        )
    } else if reached {
        (
            ExpectStatus::Met,
            format!("{at_least} {op} {}", show(limit)),
        )
    } else {
        (
            ExpectStatus::NotChecked,
            format!("not comparable: {at_least}; its full {what} is unknown"),
        )
    }
}

/// The operator that holds when `op` does not.
fn negated(op: Comparison) -> &'static str {
    match op {
        Comparison::Lt => ">=",
        Comparison::Le => ">",
        Comparison::Eq => "!=",
        Comparison::Ge => "<",
        Comparison::Gt => "<=",
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// EXPLAINs `query` on the clone after the migration and looks for the target.
async fn check_plan(
    query: &str,
    uses: bool,
    target: &PlanTarget,
    measure: &MigrationMeasure,
    conn: Option<&mut PgConnection>,
) -> (ExpectStatus, String) {
    let shown = short(query);
    let Some(conn) = conn else {
        return (
            ExpectStatus::NotChecked,
            "needs the migration run on a disposable copy (--clone, --disposable or --restore)"
                .to_string(),
        );
    };
    if let Some(error) = &measure.failed {
        return (
            ExpectStatus::NotChecked,
            format!("not checked: the migration failed on the copy ({error})"),
        );
    }
    match explain(conn, query).await {
        Ok(plan) => judge_plan(&plan, &shown, uses, target),
        Err(e) => (
            ExpectStatus::NotChecked,
            format!("could not EXPLAIN `{shown}` after the migration: {e:#}"),
        ),
    }
}

/// Whether `plan` (of the query shown as `shown`) satisfies the plan expectation.
pub fn judge_plan(
    plan: &Plan,
    shown: &str,
    uses: bool,
    target: &PlanTarget,
) -> (ExpectStatus, String) {
    match target {
        PlanTarget::Index(name) => {
            let found = plan.uses_index(name);
            let status = if found == uses {
                ExpectStatus::Met
            } else {
                ExpectStatus::NotMet
            };
            let how = if found {
                let wanted = index_name(name);
                let node = plan
                    .nodes()
                    .find(|n| n.index.as_deref() == Some(wanted.as_str()))
                    .map(PlanNode::label)
                    .unwrap_or_else(|| format!("index {wanted}"));
                format!("uses {node}")
            } else {
                format!("does not use {} ({})", index_name(name), scans(plan))
            };
            (status, format!("plan of `{shown}` {how}"))
        }
        PlanTarget::SeqScan => {
            let seq: Vec<String> = plan
                .nodes()
                .filter(|n| n.node_type == "Seq Scan")
                .map(PlanNode::label)
                .collect();
            let status = if seq.is_empty() != uses {
                ExpectStatus::Met
            } else {
                ExpectStatus::NotMet
            };
            let how = if seq.is_empty() {
                format!("has no Seq Scan ({})", scans(plan))
            } else {
                format!("has {}", seq.join(", "))
            };
            (status, format!("plan of `{shown}` {how}"))
        }
    }
}

/// The plan's scan nodes, for saying what it does instead.
fn scans(plan: &Plan) -> String {
    let labels: Vec<String> = plan
        .nodes()
        .filter(|n| n.node_type.contains("Scan"))
        .map(PlanNode::label)
        .collect();
    if labels.is_empty() {
        plan.roots
            .first()
            .map(PlanNode::label)
            .unwrap_or_else(|| "empty plan".to_string())
    } else {
        labels.join(", ")
    }
}

/// An index name as plans spell it: unqualified, unquoted names folded to lower case.
fn index_name(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name).trim();
    match last.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => last.to_lowercase(),
    }
}

/// The query on one line, cut at `QUERY_CHARS` characters.
fn short(query: &str) -> String {
    let one_line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= QUERY_CHARS {
        one_line
    } else {
        let cut: String = one_line.chars().take(QUERY_CHARS - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(text: &str) -> Expected {
        Expected {
            text: text.to_string(),
            status: ExpectStatus::NotChecked,
            detail: String::new(),
            line: 3,
        }
    }

    fn measured(rows: u64, ms: u64, lock_ms: u64) -> MigrationMeasure {
        MigrationMeasure {
            rows_affected: Some(rows),
            duration_ms: Some(ms),
            longest_blocking_lock_ms: Some(lock_ms),
            failed: None,
            cancelled: false,
        }
    }

    #[test]
    fn a_cancelled_migration_is_judged_on_its_lower_bound() {
        let cancelled = MigrationMeasure {
            failed: Some("canceling statement due to statement timeout".into()),
            cancelled: true,
            ..measured(10, 5_000, 5_000)
        };
        assert_eq!(one("duration < 1s", &cancelled).0, ExpectStatus::NotMet);
        assert_eq!(one("duration > 2s", &cancelled).0, ExpectStatus::Met);
        let (status, detail) = one("duration < 10s", &cancelled);
        assert_eq!(status, ExpectStatus::NotChecked);
        assert!(detail.contains("at least 5.0 s"), "{detail}");
        assert_eq!(one("rows <= 5", &cancelled).0, ExpectStatus::NotChecked);
    }

    fn one(text: &str, measure: &MigrationMeasure) -> (ExpectStatus, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(check(&[expected(text)], measure, None));
        (out[0].status, out[0].detail.clone())
    }

    #[test]
    fn row_limits_show_the_measured_count() {
        let m = measured(120_000, 10, 0);
        assert_eq!(
            one("rows <= 50000", &m),
            (
                ExpectStatus::NotMet,
                "rows affected 120,000 > 50,000".into()
            )
        );
        assert_eq!(
            one("rows <= 150k", &m),
            (ExpectStatus::Met, "rows affected 120,000 <= 150,000".into())
        );
    }

    #[test]
    fn durations_and_locks_compare_in_milliseconds() {
        let m = measured(0, 31_500, 2_400);
        assert_eq!(
            one("duration <= 30s", &m),
            (ExpectStatus::NotMet, "duration 31.5 s > 30.0 s".into())
        );
        assert_eq!(
            one("lock < 2.5s", &m),
            (
                ExpectStatus::Met,
                "longest blocking lock held 2.4 s < 2.5 s".into()
            )
        );
    }

    #[test]
    fn outcomes_and_failed_runs() {
        let failed = MigrationMeasure {
            failed: Some("could not create unique index \"u\"".into()),
            rows_affected: Some(10),
            ..MigrationMeasure::default()
        };
        assert_eq!(one("fails", &failed).0, ExpectStatus::Met);
        assert_eq!(one("succeeds", &failed).0, ExpectStatus::NotMet);
        let (status, detail) = one("rows <= 5", &failed);
        assert_eq!(status, ExpectStatus::NotChecked);
        assert!(detail.contains("failed on the copy"), "{detail}");
        assert_eq!(one("fails", &measured(0, 1, 0)).0, ExpectStatus::NotMet);
    }

    #[test]
    fn free_text_unmeasured_values_and_plans_without_a_copy_are_not_checked() {
        let m = MigrationMeasure::default();
        assert_eq!(
            one("orders load faster", &m),
            (ExpectStatus::NotChecked, EXPECT_FREE_TEXT.into())
        );
        assert_eq!(one("rows <= 5", &m).0, ExpectStatus::NotChecked);
        let (status, detail) = one(r#"plan "SELECT 1 FROM t" no seq scan"#, &m);
        assert_eq!(status, ExpectStatus::NotChecked);
        assert!(detail.contains("disposable copy"), "{detail}");
    }

    #[test]
    fn line_and_text_are_kept() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(check(&[expected("rows <= 1")], &measured(1, 1, 1), None));
        assert_eq!(out[0].line, 3);
        assert_eq!(out[0].text, "rows <= 1");
    }
}
