//! The production section (`check --production`, issue #15) as the terminal table and the
//! PR comment show it: production's identity, the touched tables' sizes on both sides, the
//! differences that can change a verdict, and each measurement predicted at production size
//! with its model. JSON carries the same section as data (`production` in report/json.rs).

use super::text::{bytes, duration_ms, thousands};
use crate::model::{Prediction, ProductionReview};

/// At most this many differences and predictions in the PR comment; JSON has them all.
pub const MAX_ITEMS: usize = 30;

/// `Production: shop (PostgreSQL 15.18), snapshot ci/production.json`.
pub fn headline(p: &ProductionReview) -> String {
    format!(
        "Production: {} (PostgreSQL {}), snapshot {}",
        p.database, p.server_version, p.snapshot
    )
}

/// `public.tickets: ~2,000 rows, 176 kB on the copy; ~20,000 rows, 1.6 MB in production (10×)`.
pub fn table_lines(p: &ProductionReview) -> Vec<String> {
    p.tables
        .iter()
        .map(|t| {
            let production = match (t.production_rows, t.production_bytes) {
                (Some(r), Some(b)) => {
                    format!("~{} rows, {} in production", thousands(r.max(0)), bytes(b))
                }
                _ => "not in production".to_string(),
            };
            let ratio = t
                .ratio
                .map(|r| format!(" ({}×)", crate::production::drift::format_ratio(r)))
                .unwrap_or_default();
            format!(
                "{}: ~{} rows, {} on the copy; {production}{ratio}",
                t.table,
                thousands(t.copy_rows.max(0)),
                bytes(t.copy_bytes)
            )
        })
        .collect()
}

/// `migrations/0002.sql:6 ALTER TABLE … — rewrite (linear in …): 11 ms on the copy → ~90 ms;
/// AccessExclusiveLock held 12 ms → ~97 ms`.
pub fn prediction_line(p: &Prediction) -> String {
    let lock = match (&p.lock, p.lock_held_ms, p.predicted_lock_held_ms) {
        (Some(lock), Some(held), Some(predicted)) => format!(
            "; {lock} held {} → ~{}",
            duration_ms(held),
            duration_ms(predicted)
        ),
        _ => String::new(),
    };
    let rows = match (p.rows, p.predicted_rows) {
        (Some(r), Some(pr)) if p.operation == "backfill" => format!(
            "; {} rows → ~{}",
            thousands(i64::try_from(r).unwrap_or(i64::MAX)),
            thousands(i64::try_from(pr).unwrap_or(i64::MAX))
        ),
        _ => String::new(),
    };
    format!(
        "{}:{} {} — {} ({}): {} on the copy → ~{}{lock}{rows}",
        p.file,
        p.line,
        p.statement,
        p.operation,
        p.model,
        duration_ms(p.duration_ms),
        duration_ms(p.predicted_duration_ms)
    )
}

/// The whole section as plain lines for the terminal.
pub fn text_lines(p: &ProductionReview) -> Vec<String> {
    let mut lines = vec![headline(p)];
    for t in table_lines(p) {
        lines.push(format!("  {t}"));
    }
    if !p.differences.is_empty() {
        lines.push("  Differences from production:".to_string());
        lines.extend(p.differences.iter().map(|d| format!("  - {d}")));
    }
    if !p.predictions.is_empty() {
        lines.push("  Predicted at production size:".to_string());
        lines.extend(
            p.predictions
                .iter()
                .map(|x| format!("  - {}", prediction_line(x))),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TableScale;

    #[test]
    fn the_section_names_sizes_models_and_predictions() {
        let p = ProductionReview {
            snapshot: "ci/production.json".into(),
            database: "helpdesk".into(),
            server_version: "15.18".into(),
            differences: vec![
                "Index public.tickets_status_idx … exists in production but not on the copy".into(),
            ],
            tables: vec![TableScale {
                table: "public.tickets".into(),
                copy_rows: 2000,
                copy_bytes: 180_224,
                production_rows: Some(20_000),
                production_bytes: Some(1_638_400),
                ratio: Some(10.0),
            }],
            predictions: vec![Prediction {
                file: "m/0002.sql".into(),
                line: 6,
                statement: "ALTER TABLE tickets ALTER COLUMN number TYPE bigint".into(),
                operation: "rewrite".into(),
                model: "linear in table + index bytes".into(),
                table: Some("public.tickets".into()),
                copy_rows: Some(2000),
                copy_bytes: Some(180_224),
                production_rows: Some(20_000),
                production_bytes: Some(1_638_400),
                factor: 9.1,
                duration_ms: 11,
                predicted_duration_ms: 91,
                lock: Some("AccessExclusiveLock".into()),
                lock_held_ms: Some(12),
                predicted_lock_held_ms: Some(97),
                rows: None,
                predicted_rows: None,
            }],
        };
        let text = text_lines(&p).join("\n");
        assert!(text
            .starts_with("Production: helpdesk (PostgreSQL 15.18), snapshot ci/production.json"));
        assert!(text.contains("public.tickets: ~2,000 rows, 176 kB on the copy; ~20,000 rows, 1.6 MB in production (10×)"), "{text}");
        assert!(text.contains("tickets_status_idx"));
        assert!(text.contains("m/0002.sql:6 ALTER TABLE tickets ALTER COLUMN number TYPE bigint — rewrite (linear in table + index bytes): 11 ms on the copy → ~91 ms; AccessExclusiveLock held 12 ms → ~97 ms"), "{text}");
    }
}
