//! Production awareness (`check --production SNAPSHOT`, issue #15): how far the copy is from
//! production (`drift`), and what the run on the copy predicts at production's size
//! (`predict`). The review engine sizes its lock and rewrite findings with production's
//! tables itself (`review::size_risk`); this module adds the representativeness findings,
//! the predictions on every measured statement, the lock budget and the duration and lock
//! expectations judged on the prediction, and the report's production section.

pub mod drift;
pub mod predict;

use crate::config::{Level, Settings};
use crate::evidence::catalog::CatalogSnapshot;
use crate::evidence::snapshot::{self, Snapshot};
use crate::execute::expect::{check_measured, MigrationMeasure};
use crate::execute::ExecutionFacts;
use crate::metadata::expectation::Expectation;
use crate::model::{
    Direction, Evidence, ExpectStatus, Facts, Finding, ParsedMigration, Prediction,
    ProductionReview, QualifiedName, Report, Severity, Statement, StatementKind, TableScale,
};
use crate::report::text::{bytes, duration_ms, rows};
use crate::rules::{self, Rule};
use std::collections::{BTreeMap, BTreeSet};

/// A snapshot given with `--production`, and the path it was read from.
#[derive(Debug, Clone)]
pub struct ProductionInput {
    pub path: String,
    pub snapshot: Snapshot,
}

impl ProductionInput {
    /// Production's top queries as watched queries: planned on the clone before and after
    /// the migrations, so a plan that gets worse is a regression without a watch file.
    pub fn watched(&self) -> Vec<crate::execute::watch::WatchedQuery> {
        self.snapshot
            .top_queries
            .iter()
            .enumerate()
            .map(|(i, q)| crate::execute::watch::WatchedQuery {
                name: format!("production query {}", i + 1),
                sql: q.query.trim().trim_end_matches(';').trim_end().to_string(),
                origin: format!("{} top query {}", self.path, i + 1),
                calls: Some(q.calls),
                total_ms: Some(q.total_exec_ms),
            })
            .collect()
    }

    /// Reads the snapshot file (errors name the file and how to make one).
    pub fn read(path: &std::path::Path) -> anyhow::Result<ProductionInput> {
        Ok(ProductionInput {
            path: path.display().to_string(),
            snapshot: Snapshot::read_file(path)?,
        })
    }
}

/// What the copy looked like, as the review read it.
pub struct CopySide<'a> {
    pub catalog: &'a CatalogSnapshot,
    /// The copy's settings and extensions (`evidence::snapshot::read_environment`).
    pub settings: BTreeMap<String, String>,
    pub extensions: BTreeMap<String, String>,
}

/// Adds production's view to a finished review.
pub fn apply(
    report: &mut Report,
    reviewed: &[ParsedMigration],
    applied: &[usize],
    copy: &CopySide<'_>,
    execution: Option<&ExecutionFacts>,
    input: &ProductionInput,
    settings: &Settings,
) {
    let prod = &input.snapshot;
    let mut copy_snapshot = snapshot::from_catalog(copy.catalog);
    copy_snapshot.settings = copy.settings.clone();
    copy_snapshot.extensions = copy.extensions.clone();

    let touched = touched_tables(reviewed, applied, copy.catalog);
    let names: BTreeSet<String> = touched.keys().cloned().collect();
    let differences = drift::compare(&copy_snapshot, prod, &names);
    let fallback = reviewed
        .first()
        .map(|m| m.migration.path.clone())
        .unwrap_or_else(|| input.path.clone());
    let mut section = ProductionReview {
        snapshot: input.path.clone(),
        database: prod.server.database.clone(),
        server_version: prod.server.version.clone(),
        ..ProductionReview::default()
    };
    for d in &differences {
        section.differences.push(d.message.clone());
        let Some(rule) = rules::find(d.rule) else {
            continue;
        };
        let at = d.table.as_ref().and_then(|t| touched.get(t));
        let (file, line, statement, owner) = match at {
            Some(&(mi, si)) => {
                let pm = &reviewed[mi];
                let st = pm.statements.get(si);
                (
                    pm.migration.path.clone(),
                    st.map_or(1, |s| s.start.line),
                    st.map(|s| s.text.clone()).unwrap_or_default(),
                    pm.meta.owner.clone(),
                )
            }
            None => (
                fallback.clone(),
                1,
                String::new(),
                reviewed.first().and_then(|m| m.meta.owner.clone()),
            ),
        };
        if let Some(f) = finding(
            rule,
            settings,
            d.severity,
            Place {
                file,
                line,
                statement,
                owner,
            },
            d.message.clone(),
            d.table.clone(),
        ) {
            report.findings.push(f);
        }
    }
    for (name, _) in touched.iter() {
        let Some(c) = copy_snapshot.table(name) else {
            continue;
        };
        let p = prod.table(name);
        section.tables.push(TableScale {
            table: name.clone(),
            copy_rows: c.rows,
            copy_bytes: c.bytes(),
            production_rows: p.map(|p| p.rows),
            production_bytes: p.map(|p| p.bytes()),
            ratio: p.and_then(|p| drift::ratio(c, p)),
        });
    }
    if let Some(execution) = execution {
        predictions(
            report,
            reviewed,
            copy.catalog,
            execution,
            input,
            settings,
            &mut section,
        );
    }
    for note in &prod.notes {
        section.differences.push(format!("Snapshot note: {note}"));
    }
    report.production = Some(section);
    crate::review::finish(report);
}

/// Every table the reviewed (not yet applied) migrations touch that exists on the copy, by
/// `schema.name`, with the first statement that touches it: (migration, statement index).
fn touched_tables(
    reviewed: &[ParsedMigration],
    applied: &[usize],
    copy: &CatalogSnapshot,
) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    for (mi, pm) in reviewed.iter().enumerate() {
        if applied.contains(&mi) {
            continue;
        }
        for (si, stmt) in pm.statements.iter().enumerate() {
            for name in tables_of(&stmt.kind) {
                if let Some(t) = copy.table(&name) {
                    out.entry(qualified(&t.name)).or_insert((mi, si));
                }
            }
        }
    }
    out
}

/// The existing tables a statement acts on.
fn tables_of(kind: &StatementKind) -> Vec<QualifiedName> {
    match kind {
        StatementKind::AlterTable { name, .. } => vec![name.clone()],
        StatementKind::CreateIndex { table, .. } => vec![table.clone()],
        StatementKind::DropTable { names, .. } => names.clone(),
        StatementKind::Truncate { tables } | StatementKind::LockTable { tables, .. } => {
            tables.clone()
        }
        StatementKind::Vacuum { tables, .. } => tables.clone(),
        StatementKind::Cluster { table } => table.iter().cloned().collect(),
        StatementKind::Update { table, .. }
        | StatementKind::Delete { table, .. }
        | StatementKind::Insert { table, .. } => vec![table.clone()],
        _ => Vec::new(),
    }
}

fn qualified(name: &QualifiedName) -> String {
    match &name.schema {
        Some(s) => format!("{s}.{}", name.name),
        None => name.name.clone(),
    }
}

/// Where a finding points.
struct Place {
    file: String,
    line: usize,
    statement: String,
    owner: Option<String>,
}

/// A finding of `rule` with `severity` unless migsafe.toml sets the rule's level.
fn finding(
    rule: &'static Rule,
    settings: &Settings,
    severity: Severity,
    place: Place,
    message: String,
    table: Option<String>,
) -> Option<Finding> {
    let severity = match settings.rules.get(rule.name) {
        Some(Level::Off) => return None,
        Some(Level::On(sev)) => *sev,
        None => severity,
    };
    Some(Finding {
        rule: rule.name,
        code: rule.code,
        severity,
        evidence: rule.evidence.max(Evidence::Catalog),
        file: place.file,
        line: place.line,
        column: 1,
        statement: place.statement,
        message,
        why: rule.why,
        instead: std::borrow::Cow::Borrowed(rule.instead),
        owner: place.owner,
        table,
        facts: Facts::default(),
        direction: Direction::Up,
    })
}

/// Scales each measured statement, attaches the prediction to its findings, judges the lock
/// budget and the duration/lock expectations on it.
fn predictions(
    report: &mut Report,
    reviewed: &[ParsedMigration],
    copy: &CatalogSnapshot,
    execution: &ExecutionFacts,
    input: &ProductionInput,
    settings: &Settings,
    section: &mut ProductionReview,
) {
    let budget_default =
        u64::try_from(settings.execution.lock_budget.as_millis()).unwrap_or(u64::MAX);
    for (run, &mi) in execution.trace.migrations.iter().zip(&execution.reviewed) {
        let Some(pm) = reviewed.get(mi) else {
            continue;
        };
        if run.not_executed.is_some() {
            continue;
        }
        // First pass: each statement's own prediction.
        let mut own: Vec<Option<(Prediction, u64)>> = Vec::new();
        for st in &run.statements {
            let Some(stmt) = pm.statements.get(st.index) else {
                own.push(None);
                continue;
            };
            if st.error.is_some() {
                own.push(None);
                continue;
            }
            match predict_one(pm, stmt, st, copy, &input.snapshot) {
                Ok(p) => {
                    let delta = p.predicted_duration_ms.saturating_sub(p.duration_ms);
                    own.push(Some((p, delta)));
                }
                Err(reason) => {
                    section.differences.push(format!(
                        "{}:{}: not predicted: {reason}",
                        pm.migration.path, stmt.start.line
                    ));
                    own.push(None);
                }
            }
        }
        // Second pass: a lock held to COMMIT grows with every later statement too.
        let deltas: Vec<u64> = own
            .iter()
            .map(|p| p.as_ref().map_or(0, |(_, d)| *d))
            .collect();
        let mut predicted_total: u64 = 0;
        let mut longest_lock: u64 = 0;
        for (i, (st, slot)) in run.statements.iter().zip(own).enumerate() {
            predicted_total = predicted_total.saturating_add(match &slot {
                Some((p, _)) => p.predicted_duration_ms,
                None => st.duration_ms,
            });
            let Some((mut p, _)) = slot else {
                if let Some(lock) = st.strongest_lock().filter(|l| l.mode.blocks_writes()) {
                    longest_lock = longest_lock.max(lock.held_ms);
                }
                continue;
            };
            let later: u64 = deltas.iter().skip(i + 1).sum();
            p.predicted_lock_held_ms = predict::lock_held(st, p.predicted_duration_ms, later);
            let blocking = st.strongest_lock().filter(|l| {
                l.mode.blocks_writes() && l.kind == crate::execute::trace::RelationKind::Table
            });
            if let (Some(lock), Some(held)) = (blocking, p.predicted_lock_held_ms) {
                longest_lock = longest_lock.max(held);
                let budget = if run.lock_budget_ms == 0 {
                    budget_default
                } else {
                    run.lock_budget_ms
                };
                if held > budget && lock.held_ms <= budget {
                    lock_budget_finding(report, pm, &p, lock, budget, settings);
                }
            }
            attach(report, pm, &p);
            // A SET or a catalog change on no table says nothing about production's size.
            if p.table.is_some() || p.operation != predict::Operation::CatalogOnly.name() {
                section.predictions.push(p);
            }
        }
        // The part of the run outside the statements (BEGIN, COMMIT) stays as measured.
        let measured_statements: u64 = run.statements.iter().map(|s| s.duration_ms).sum();
        let predicted_run =
            predicted_total.saturating_add(run.duration_ms.saturating_sub(measured_statements));
        judge_expectations(report, pm, mi, predicted_run, longest_lock, settings);
    }
}

/// One statement's prediction.
fn predict_one(
    pm: &ParsedMigration,
    stmt: &Statement,
    st: &crate::execute::trace::StatementRun,
    copy: &CatalogSnapshot,
    production: &Snapshot,
) -> Result<Prediction, String> {
    let (mut op, table) = predict::classify(&stmt.kind, st);
    let lock = st.strongest_lock();
    let mut p = Prediction {
        file: pm.migration.path.clone(),
        line: stmt.start.line,
        statement: first_line(&stmt.text),
        operation: op.name().to_string(),
        model: op.model().to_string(),
        table: None,
        copy_rows: None,
        copy_bytes: None,
        production_rows: None,
        production_bytes: None,
        factor: 1.0,
        duration_ms: st.duration_ms,
        predicted_duration_ms: st.duration_ms,
        lock: lock.map(|l| l.mode.pg_name().to_string()),
        lock_held_ms: lock.map(|l| l.held_ms),
        predicted_lock_held_ms: None,
        rows: st.rows,
        predicted_rows: st.rows,
    };
    let Some(table) = table else {
        return Ok(p);
    };
    let Some(c) = copy.table(&table) else {
        // Created by an earlier statement of the run: as small in production as on the copy.
        if op != predict::Operation::CatalogOnly {
            p.model = format!(
                "unscaled: {table} is created by the migrations, so it is as small in \
                 production as on the copy"
            );
        }
        return Ok(p);
    };
    let name = qualified(&c.name);
    let Some(prod) = production.table(&name) else {
        return Err(format!("production's snapshot has no table {name}"));
    };
    let memory = production
        .settings
        .get("maintenance_work_mem")
        .and_then(|m| predict::memory_bytes(m));
    op = predict::refine(op, prod, memory);
    p.model = op.model().to_string();
    p.table = Some(name);
    p.copy_rows = Some(c.rows);
    p.copy_bytes = Some(c.bytes());
    p.production_rows = Some(prod.rows);
    p.production_bytes = Some(prod.bytes());
    let factor = predict::factor(op, c, prod)?;
    p.factor = (factor * 1000.0).round() / 1000.0;
    p.predicted_duration_ms = predict::scale(st.duration_ms, factor, op.fixed_ms());
    if op == predict::Operation::Backfill {
        let row_ratio = if c.rows > 0 {
            prod.rows.max(0) as f64 / c.rows as f64
        } else {
            factor
        };
        p.predicted_rows = st.rows.map(|r| (r as f64 * row_ratio).round() as u64);
    }
    Ok(p)
}

/// Adds the prediction's facts to the findings of its statement, and says it in words.
fn attach(report: &mut Report, pm: &ParsedMigration, p: &Prediction) {
    for f in report
        .findings
        .iter_mut()
        .filter(|f| f.direction == Direction::Up && f.file == pm.migration.path && f.line == p.line)
    {
        if f.facts.duration_ms.is_none() && f.facts.lock_held_ms.is_none() {
            continue;
        }
        f.facts.production_rows = f.facts.production_rows.or(p.production_rows);
        f.facts.production_bytes = f.facts.production_bytes.or(p.production_bytes);
        f.facts.predicted_duration_ms = Some(p.predicted_duration_ms);
        if f.facts.lock_held_ms.is_some() {
            f.facts.predicted_lock_held_ms = p.predicted_lock_held_ms;
        }
        if !f.message.contains("Predicted at production size") {
            let sep = if f.message.trim_end().ends_with('.') {
                " "
            } else {
                ". "
            };
            f.message = format!("{}{sep}{}", f.message.trim_end(), predicted_sentence(p));
        }
    }
}

/// `Predicted at production size (~1.2M rows, 100 MB): runs ~4.8 s, lock held ~4.8 s
/// (index-build: n·log n in rows …, ×12 the copy's 0.4 s).`
fn predicted_sentence(p: &Prediction) -> String {
    let size = match (p.production_rows, p.production_bytes) {
        (Some(r), Some(b)) => format!(" ({}, {})", rows(r), bytes(b)),
        _ => String::new(),
    };
    let lock = match p.predicted_lock_held_ms {
        Some(ms) => format!(", lock held ~{}", duration_ms(ms)),
        None => String::new(),
    };
    format!(
        "Predicted at production size{size}: runs ~{}{lock} ({}: {}; ×{} the copy's {}).",
        duration_ms(p.predicted_duration_ms),
        p.operation,
        p.model,
        drift::format_ratio(p.factor),
        duration_ms(p.duration_ms)
    )
}

/// A blocking lock within the budget on the copy but over it at production size.
fn lock_budget_finding(
    report: &mut Report,
    pm: &ParsedMigration,
    p: &Prediction,
    lock: &crate::execute::trace::HeldLock,
    budget: u64,
    settings: &Settings,
) {
    let rule = rules::by_name("lock-held-too-long");
    let held = p.predicted_lock_held_ms.unwrap_or_default();
    let severity = if held > budget.saturating_mul(5) {
        Severity::Error
    } else {
        Severity::Warning
    };
    let who = if lock.mode.blocks_reads() {
        "every read and write"
    } else {
        "every write"
    };
    let message = format!(
        "Predicted at production size: holds {} on {} for ~{} ({} measured on the copy, ×{} \
         with the {} model: {}); {who} of the table waits that long. The budget is {}.",
        lock.mode.pg_name(),
        lock.relation,
        duration_ms(held),
        duration_ms(lock.held_ms),
        drift::format_ratio(p.factor),
        p.operation,
        p.model,
        duration_ms(budget)
    );
    let stmt = pm.statements.iter().find(|s| s.start.line == p.line);
    if let Some(mut f) = finding(
        rule,
        settings,
        severity,
        Place {
            file: pm.migration.path.clone(),
            line: p.line,
            statement: stmt.map(|s| s.text.clone()).unwrap_or_default(),
            owner: pm.meta.owner.clone(),
        },
        message,
        Some(lock.relation.to_string()),
    ) {
        f.evidence = Evidence::Execution;
        f.facts = Facts {
            lock: Some(lock.mode.pg_name().to_string()),
            blocks: Some(lock.mode.blocks().to_string()),
            lock_held_ms: Some(lock.held_ms),
            duration_ms: Some(p.duration_ms),
            rows: p.copy_rows,
            bytes: p.copy_bytes,
            production_rows: p.production_rows,
            production_bytes: p.production_bytes,
            predicted_duration_ms: Some(p.predicted_duration_ms),
            predicted_lock_held_ms: Some(held),
            ..Facts::default()
        };
        report.findings.push(f);
    }
}

/// Duration and lock expectations judged on the prediction: the summary shows the predicted
/// verdict, and one the copy met but production would not becomes an expectation-not-met
/// finding.
fn judge_expectations(
    report: &mut Report,
    pm: &ParsedMigration,
    mi: usize,
    predicted_run_ms: u64,
    longest_lock_ms: u64,
    settings: &Settings,
) {
    let measure = MigrationMeasure {
        duration_ms: Some(predicted_run_ms),
        longest_blocking_lock_ms: Some(longest_lock_ms),
        ..MigrationMeasure::default()
    };
    let Some(summary) = report.migrations.get_mut(mi) else {
        return;
    };
    let mut new_findings = Vec::new();
    for e in &mut summary.expected {
        let Some(expectation) = Expectation::parse(&e.text) else {
            continue;
        };
        if !matches!(
            expectation,
            Expectation::Duration { .. } | Expectation::Lock { .. }
        ) {
            continue;
        }
        let (status, detail) = check_measured(&expectation, &measure);
        let was = e.status;
        e.detail = format!(
            "at production size (predicted): {detail}; on the copy: {}",
            e.detail
        );
        e.status = status;
        if status == ExpectStatus::NotMet && was != ExpectStatus::NotMet {
            new_findings.push((e.line, e.text.clone(), detail));
        }
    }
    let rule = rules::by_name("expectation-not-met");
    for (line, text, detail) in new_findings {
        if let Some(mut f) = finding(
            rule,
            settings,
            rule.severity,
            Place {
                file: pm.migration.path.clone(),
                line: line.max(1),
                statement: String::new(),
                owner: pm.meta.owner.clone(),
            },
            format!(
                "Expected `{}`, but at production size (predicted from the copy's \
                 measurements): {detail}",
                text.trim()
            ),
            None,
        ) {
            f.evidence = Evidence::Execution;
            report.findings.push(f);
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(79).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}
