//! The review engine: runs every enabled rule over every migration, applies suppressions,
//! and assembles the `Report` that all output formats render.

use crate::config::Settings;
use crate::evidence::catalog::SizeClass;
use crate::evidence::copy::CopyFacts;
use crate::execute::ExecutionFacts;
use crate::metadata::{self, Owners};
use crate::model::{
    Direction, Evidence, Finding, Migration, MigrationSummary, ParsedMigration, Position, Report,
    Severity, SkippedMigration, SkippedRule, Statement, Summary,
};
use crate::model::{Expected, LockedTable, Phase, RollbackStatus, TimelineEntry};
use crate::plan::PlanOutcome;
use crate::report::text::{bytes as human_bytes, thousands};
use crate::rules::{self, Check, Context, MigrationContext, MigrationState, Risk, Rule, RULES};
use crate::schema::Schema;
use crate::suppress::{self, Scope};
use crate::{load, parse, pending};
use anyhow::Result;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

/// Parses a loaded migration and reads its metadata.
pub fn prepare(mut migration: Migration, owners: &Owners) -> ParsedMigration {
    let mut up = parse::parse_part(&migration.up);
    let mut down = migration
        .down
        .as_ref()
        .map(parse::parse_part)
        .unwrap_or_default();
    // Some frameworks decide from the statements themselves (Flyway and CONCURRENTLY).
    let (up_changed, down_changed) = load::settle(&mut migration, &up.statements, &down.statements);
    if up_changed {
        parse::mark_transactions(&migration.up, &mut up.statements);
    }
    if let (true, Some(part)) = (down_changed, &migration.down) {
        parse::mark_transactions(part, &mut down.statements);
    }
    let meta = metadata::extract(&migration, &down.statements, owners);
    ParsedMigration {
        migration,
        statements: up.statements,
        down_statements: down.statements,
        meta,
        comments: up.comments,
        down_comments: down.comments,
    }
}

/// Loads the migrations under `paths` and applies the runners declared in `settings`
/// (`[[runner]]`, `--transaction`).
pub fn load_migrations(
    paths: &[PathBuf],
    settings: &Settings,
    stdin: &mut dyn Read,
) -> Result<Vec<Migration>> {
    Ok(load_outcome(paths, settings, stdin)?.migrations)
}

/// Loads the migrations under `paths` with the runners declared in `settings` applied, and
/// the files found but not reviewed.
pub fn load_outcome(
    paths: &[PathBuf],
    settings: &Settings,
    stdin: &mut dyn Read,
) -> Result<load::Outcome> {
    let mut loaded = load::load_all(paths, &settings.load_options(), stdin)?;
    load::declare_runners(&mut loaded.migrations, settings);
    Ok(loaded)
}

/// A static review of the migrations under `paths` (`-` is stdin).
pub fn check_paths(paths: &[PathBuf], settings: &Settings, stdin: &mut dyn Read) -> Result<Report> {
    let loaded = load_outcome(paths, settings, stdin)?;
    let owners = Owners::discover(&settings.root, settings.default_owner.clone())?;
    let parsed: Vec<ParsedMigration> = loaded
        .migrations
        .into_iter()
        .map(|m| prepare(m, &owners))
        .collect();
    let mut report = review(&parsed, settings);
    report
        .skipped_migrations
        .extend(not_reviewed(loaded.not_reviewed));
    Ok(report)
}

/// The files the loader found and did not review, as the report lists them.
fn not_reviewed(files: Vec<load::NotReviewed>) -> impl Iterator<Item = SkippedMigration> {
    files.into_iter().map(|n| SkippedMigration {
        path: n.path,
        version: n.version,
        reason: n.reason,
    })
}

/// Plans of the reviewed migrations' statements, keyed by (migration index, statement
/// index) in the slice given to [`review_with`].
pub type Plans = HashMap<(usize, usize), PlanOutcome>;

/// What a catalog-level review knows beyond the SQL.
#[derive(Clone, Copy)]
pub struct CopyInputs<'a> {
    pub facts: &'a CopyFacts,
    pub plans: &'a Plans,
    /// Indexes of reviewed migrations the copy has already applied (reviewed anyway with
    /// `--all`): the copy's catalog already shows their effect, so they are judged on their
    /// SQL alone and not replayed a second time.
    pub applied: &'a [usize],
    /// What running the pending migrations on a disposable copy measured (execution level).
    pub execution: Option<&'a ExecutionFacts>,
    /// `--production`: production's snapshot, whose table sizes decide the severity of lock
    /// and rewrite findings (the copy's stay in the message beside them).
    pub production: Option<&'a crate::evidence::snapshot::Snapshot>,
}

/// Rules that read the statement's plan: skipped, with the reason, for a statement that
/// could not be explained.
const PLAN_RULES: &[&str] = &["seq-scan-on-large-table", "dml-touches-many-rows"];

/// Lock and rewrite rules: how long their lock is held grows with the table, so at catalog
/// level their severity follows its size (`[thresholds]`): info below the small-table
/// threshold, error above the large-table one. Rules about correctness (drops, renames,
/// missing WHERE on purpose) or about queueing (`lock-without-timeout`) do not shrink on
/// a small table, so they are not listed.
const SIZE_AWARE_RULES: &[&str] = &[
    "create-index-non-concurrently",
    "drop-index-non-concurrently",
    "reindex-non-concurrently",
    "add-foreign-key-validating",
    "add-check-validating",
    "set-not-null",
    "add-column-volatile-default",
    "column-type-change",
    "add-unique-constraint",
    "add-exclusion-constraint",
    "add-stored-generated-or-serial-column",
    "vacuum-full-or-cluster",
    "detach-partition-non-concurrently",
    "update-without-where",
    "delete-without-where",
    "validate-in-same-transaction",
    "set-logged-or-tablespace",
];

/// Runs the rules over the SQL alone (static evidence) and builds the report.
pub fn review(migrations: &[ParsedMigration], settings: &Settings) -> Report {
    review_with(migrations, settings, None)
}

/// Runs the rules and builds the report; with `copy`, at catalog level: the schema is
/// replayed statement by statement over the copy's catalog, lock and rewrite findings are
/// sized, and the plan rules read the pre-computed plans.
pub fn review_with(
    migrations: &[ParsedMigration],
    settings: &Settings,
    copy: Option<CopyInputs<'_>>,
) -> Report {
    let mut schema = copy.map(|c| Schema::new(c.facts.snapshot.clone()));
    let execution = copy.and_then(|c| c.execution);
    let plans = merged_plans(copy, execution);
    let mut findings = Vec::new();
    let applied = copy.map_or(&[][..], |c| c.applied);
    // Regressions of watched queries are measured over the whole run: they are reported on
    // the last migration that ran.
    let last_run = execution.and_then(|e| {
        e.trace
            .migrations
            .iter()
            .zip(&e.reviewed)
            .filter(|(run, _)| run.not_executed.is_none())
            .map(|(_, &i)| i)
            .next_back()
    });
    let no_expected: Vec<Expected> = Vec::new();
    let mut summaries = Vec::with_capacity(migrations.len());
    for (mi, pm) in migrations.iter().enumerate() {
        let replayed = schema.as_mut().filter(|_| !applied.contains(&mi));
        let on_copy = replayed.map(|schema| OnCopy {
            schema,
            plans: &plans,
            migration: mi,
            production: copy.and_then(|c| c.production),
        });
        let run = execution.and_then(|e| {
            e.trace
                .migrations
                .iter()
                .zip(&e.reviewed)
                .find(|(_, &i)| i == mi)
                .map(|(run, _)| run)
        });
        let inputs = match (execution, run) {
            (Some(e), Some(run)) => Some(rules::ExecutionInputs {
                run,
                checked: e.checked.get(&mi).unwrap_or(&no_expected),
                // Each migration's own regressions (plans taken after each migration); the
                // whole-run comparison only when no per-migration plans were taken.
                regressions: match e.regressions_by_migration.get(&mi) {
                    Some(found) => found,
                    None if e.regressions_by_migration.is_empty() && e.regressions.is_empty() => {
                        &[]
                    }
                    None if e.regressions_by_migration.is_empty() && last_run == Some(mi) => {
                        &e.regressions
                    }
                    None => &[],
                },
                watched_before: &e.watched_before,
            }),
            _ => None,
        };
        findings.extend(review_migration(pm, settings, on_copy, inputs.as_ref()));
        let mut summary = summarize(pm);
        if let Some(inputs) = &inputs {
            executed_summary(&mut summary, pm, inputs);
        }
        if execution.is_some() {
            crate::verdicts::settle_not_checked(&mut summary, pm, run);
        }
        summaries.push(summary);
    }
    let evidence = match (copy.is_some(), execution.is_some()) {
        (_, true) => Evidence::Execution,
        (true, false) => Evidence::Catalog,
        (false, false) => Evidence::Static,
    };
    let mut skipped_rules: Vec<SkippedRule> = RULES
        .iter()
        .filter(|r| r.evidence > evidence)
        .map(|r| SkippedRule::everywhere(r.name, needs(r.evidence)))
        .collect();
    let mut plan_skips: Vec<_> = plans.iter().collect();
    plan_skips.sort_by_key(|(key, _)| **key);
    for ((mi, si), outcome) in plan_skips {
        let PlanOutcome::Skipped(reason) = outcome else {
            continue;
        };
        let (Some(pm), true) = (migrations.get(*mi), copy.is_some()) else {
            continue;
        };
        let line = pm.statements.get(*si).map(|s| s.start.line);
        // At execution level the catalog's reason ("execution measures it") is stale: say
        // what happened to the statement on the copy instead.
        let run = execution.and_then(|e| {
            e.trace
                .migrations
                .iter()
                .zip(&e.reviewed)
                .find(|(_, &i)| i == *mi)
                .map(|(run, _)| run)
        });
        let reason = match run {
            Some(run) if run.not_executed.is_some() => {
                "the migration was not executed on the copy (an earlier one failed)".to_string()
            }
            Some(run) if run.statement(*si).is_some_and(|st| st.error.is_some()) => {
                "the statement failed on the copy before it could be planned (see \
                 fails-on-copy)"
                    .to_string()
            }
            Some(run) if run.statement(*si).is_none() => {
                "the statement did not run on the copy: its migration stopped earlier".to_string()
            }
            _ => reason.clone(),
        };
        for rule in PLAN_RULES.iter().filter_map(|name| rules::find(name)) {
            if settings.level(rule).is_some() {
                skipped_rules.push(SkippedRule {
                    rule: rule.name,
                    reason: reason.clone(),
                    file: Some(pm.migration.path.clone()),
                    line,
                });
            }
        }
    }
    let mut report = Report {
        evidence,
        migrations: summaries,
        findings,
        skipped_rules,
        skipped_migrations: Vec::new(),
        copy: copy.map(|c| c.facts.identity.clone()),
        phases: Vec::new(),
        locked: execution.map(locked_tables).unwrap_or_default(),
        summary: Summary::default(),
        production: None,
    };
    finish(&mut report);
    report
}

/// The catalog-level plans, and at execution level the plans measured on the disposable
/// copy right before each DML statement ran, which exist also where the copy could not
/// plan the statement (a backfill of a column an earlier statement added).
fn merged_plans(copy: Option<CopyInputs<'_>>, execution: Option<&ExecutionFacts>) -> Plans {
    let mut plans = copy.map(|c| c.plans.clone()).unwrap_or_default();
    let Some(e) = execution else {
        return plans;
    };
    for (run, &mi) in e.trace.migrations.iter().zip(&e.reviewed) {
        for st in &run.statements {
            if let Some(plan) = &st.plan {
                plans.insert((mi, st.index), PlanOutcome::Explained(plan.clone()));
            }
        }
    }
    plans
}

/// Per table, how long the run on the copy held a lock that blocks its writes or reads.
fn locked_tables(e: &ExecutionFacts) -> Vec<LockedTable> {
    e.trace
        .locked_per_relation()
        .into_iter()
        .map(|(table, mode, held_ms)| LockedTable {
            table: table.to_string(),
            lock: mode.pg_name().to_string(),
            blocks: mode.blocks().to_string(),
            held_ms,
        })
        .collect()
}

/// What the run adds to a migration's summary: its timeline, checked expectations, and
/// whether its rollback restored the schema.
fn executed_summary(
    summary: &mut MigrationSummary,
    pm: &ParsedMigration,
    inputs: &rules::ExecutionInputs<'_>,
) {
    let run = inputs.run;
    summary.not_executed = run.not_executed.clone();
    // Statements withheld from the copy (they act beyond its database, issue #9): the
    // verdict must not claim the migration ran.
    if summary.not_executed.is_none() {
        if let Some(first) = run.withheld.first() {
            let more = match run.withheld.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            summary.not_executed = Some(format!(
                "not executed: line {}{more}, while the other statements ran on the copy: {}",
                first.line, first.reason
            ));
        }
    }
    if let Some(reason) = &run.rollback_withheld {
        summary.rollback.status = RollbackStatus::NotChecked;
        summary.rollback.detail = reason.clone();
    }
    if pm.migration.up.transaction == crate::model::Transaction::Unknown
        && run.not_executed.is_none()
    {
        summary
            .transaction_source
            .push_str("; on the copy it ran as psql runs a script: each statement on its own");
    }
    if !inputs.checked.is_empty() {
        summary.expected = inputs.checked.to_vec();
    }
    summary.timeline = run
        .statements
        .iter()
        .filter(|st| !run.withheld.iter().any(|w| w.statement == st.index))
        .map(|st| {
            let stmt = pm.statements.get(st.index);
            let lock = st.strongest_lock();
            TimelineEntry {
                line: stmt.map_or(0, |s| s.start.line),
                statement: stmt.map(|s| first_line(&s.text)).unwrap_or_default(),
                duration_ms: st.duration_ms,
                lock: lock.map(|l| l.mode.pg_name().to_string()),
                table: lock.map(|l| l.relation.to_string()),
                held_ms: lock.map(|l| l.held_ms),
                rows: st.rows,
                failed: st.error.is_some(),
            }
        })
        .collect();
    if let Some(rollback) = &run.rollback {
        let r = &mut summary.rollback;
        match (&rollback.error, rollback.differences.is_empty()) {
            (Some(error), _) => {
                r.status = RollbackStatus::Differs;
                r.detail = format!("rollback failed on the copy: {}", error.describe());
            }
            (None, true) if !rollback.data_loss.is_empty() => {
                r.status = RollbackStatus::Differs;
                r.detail = format!(
                    "restores the schema, loses data in {}",
                    rollback.data_loss.join("; ")
                );
            }
            (None, true) => {
                r.status = RollbackStatus::Restores;
                r.detail =
                    "up, rollback, compare: the schema and the rows of the tables it touches are \
                     restored exactly"
                        .to_string();
            }
            (None, false) => {
                r.status = RollbackStatus::Differs;
                r.detail = format!(
                    "after up and rollback the schema differs in {} place(s): {}",
                    rollback.differences.len(),
                    rollback.differences.join("; ")
                );
            }
        }
    }
}

/// A statement's first line, shortened for timelines.
fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(79).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// Sorts the findings (file, line, column, code) and counts them.
pub fn finish(report: &mut Report) {
    report.findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    let mut summary = Summary::default();
    for f in &report.findings {
        match f.severity {
            Severity::Error => summary.error += 1,
            Severity::Warning => summary.warning += 1,
            Severity::Info => summary.info += 1,
        }
    }
    report.summary = summary;
}

/// Why a rule needing `evidence` did not run.
fn needs(evidence: Evidence) -> &'static str {
    match evidence {
        Evidence::Static => "",
        Evidence::Catalog => "needs a copy of the database: --database-url",
        Evidence::Execution => {
            "needs a disposable copy to run the migration on: --clone, --disposable or --restore"
        }
    }
}

/// The copy-level state one migration's review reads and advances.
struct OnCopy<'a> {
    schema: &'a mut Schema,
    plans: &'a Plans,
    migration: usize,
    production: Option<&'a crate::evidence::snapshot::Snapshot>,
}

/// At catalog level, a lock or rewrite finding's severity follows the size of its table on
/// the copy (as replayed up to this statement), and the finding states that size. Returns
/// whether the risk now rests on catalog evidence.
fn size_risk(
    rule: &Rule,
    risk: &mut Risk,
    schema: &Schema,
    settings: &Settings,
    production: Option<&crate::evidence::snapshot::Snapshot>,
) -> bool {
    if !SIZE_AWARE_RULES.contains(&rule.name) || risk.severity.is_some() {
        return false;
    }
    let Some(name) = risk.table.clone() else {
        return false;
    };
    if schema.table_is_new(&name) {
        risk.severity = Some(Severity::Info);
        risk.facts.rows = Some(0);
        risk.message = format!(
            "{} ({name} is created by an earlier pending migration, so it is empty when this runs)",
            risk.message
        );
        return true;
    }
    let Some(table) = schema.table(&name) else {
        return false;
    };
    let t = &settings.thresholds;
    // With production's snapshot, the verdict is production's; the copy's size stays beside.
    let in_production = production.and_then(|p| {
        let name = match &table.name.schema {
            Some(s) => format!("{s}.{}", table.name.name),
            None => table.name.name.clone(),
        };
        p.table(&name)
    });
    let class = match in_production {
        Some(p) => SizeClass::of(p.rows, p.bytes(), t),
        None => table.size_class(t),
    };
    risk.severity = match class {
        SizeClass::Small => Some(Severity::Info),
        SizeClass::Medium => None,
        SizeClass::Large => Some(Severity::Error),
    };
    risk.facts.rows = Some(table.rows);
    risk.facts.bytes = Some(table.bytes());
    let mut size = format!(
        "{name} has ~{} rows, {} on the copy",
        thousands(table.rows.max(0)),
        human_bytes(table.bytes())
    );
    if let Some(p) = in_production {
        risk.facts.production_rows = Some(p.rows);
        risk.facts.production_bytes = Some(p.bytes());
        size.push_str(&format!(
            " and ~{} rows, {} in production",
            thousands(p.rows.max(0)),
            human_bytes(p.bytes())
        ));
    }
    let verdict = match class {
        SizeClass::Small => format!(
            "; below the small-table threshold ({} rows, {}): the lock is brief",
            thousands(t.small_table_rows),
            human_bytes(t.small_table_bytes)
        ),
        SizeClass::Medium => String::new(),
        SizeClass::Large => format!(
            "; above the large-table threshold ({} rows or {}): the lock lasts as long as \
             processing all of it takes",
            thousands(t.large_table_rows),
            human_bytes(t.large_table_bytes)
        ),
    };
    risk.message = format!("{} ({size}{verdict})", risk.message);
    true
}

fn summarize(pm: &ParsedMigration) -> MigrationSummary {
    let m = &pm.migration;
    MigrationSummary {
        path: m.path.clone(),
        version: m.version.clone(),
        name: m.name.clone(),
        layout: m.layout,
        in_transaction: m.up.transactional(),
        transaction: m.up.transaction,
        transaction_source: m.up.runner.source.clone(),
        statements: pm.statements.len(),
        owner: pm.meta.owner.clone(),
        owner_source: pm.meta.owner_source,
        expected: pm.meta.expected.clone(),
        rollback: pm.meta.rollback.clone(),
        timeline: Vec::new(),
        not_executed: None,
    }
}

/// A finding before suppression: which statement it belongs to, if any.
struct Candidate {
    statement: Option<usize>,
    finding: Finding,
}

/// A dropped index that watched queries used before the migration: name them in its
/// `drop-index-in-use` finding.
fn indexes_watched_queries_use(
    pm: &ParsedMigration,
    settings: &Settings,
    inputs: &rules::ExecutionInputs<'_>,
    candidates: &mut Vec<Candidate>,
) {
    let mut added = Vec::new();
    if inputs.watched_before.is_empty() {
        return;
    }
    let rule = rules::by_name("drop-index-in-use");
    for (index, stmt) in pm.statements.iter().enumerate() {
        let crate::model::StatementKind::DropIndex { names, .. } = &stmt.kind else {
            continue;
        };
        for name in names {
            // A replacement index that serves the same queries makes the drop harmless: only
            // an index whose loss made a watched plan worse is reported from the plans.
            // Measured between statements: only a loss at this very statement that the
            // migration leaves behind (not a window a later statement closes).
            let users: Vec<&crate::execute::watch::WatchedQuery> = inputs
                .regressions
                .iter()
                .filter(|r| {
                    r.blame
                        .is_none_or(|b| b.statement == index && b.fixed_by.is_none())
                        && r.lost_indexes.iter().any(|i| {
                            i.rsplit('.')
                                .next()
                                .unwrap_or(i)
                                .trim_matches('"')
                                .eq_ignore_ascii_case(&name.name)
                        })
                })
                .map(|r| &r.query)
                .collect();
            if users.is_empty() {
                continue;
            }
            let list = users
                .iter()
                .map(|q| format!("{} ({})", q.name, q.origin))
                .collect::<Vec<_>>()
                .join(", ");
            let existing = candidates
                .iter_mut()
                .find(|c| c.statement == Some(index) && c.finding.rule == rule.name);
            if let Some(c) = existing {
                c.finding.message = format!(
                    "{} Watched queries whose plans use it: {list}.",
                    c.finding.message
                );
            } else {
                // A clone or restored copy counts 0 scans, so the catalog check is silent;
                // the watched queries' plans are the evidence that the index is in use.
                added.extend(
                    crate::verdicts::index_used_by_watched(&name.name, &list)
                        .and_then(|risk| finding(rule, settings, pm, Some(stmt), risk))
                        .map(|mut f| {
                            f.evidence = Evidence::Execution;
                            Candidate {
                                statement: Some(index),
                                finding: f,
                            }
                        }),
                );
            }
        }
    }
    candidates.append(&mut added);
}

fn review_migration(
    pm: &ParsedMigration,
    settings: &Settings,
    mut on_copy: Option<OnCopy<'_>>,
    executed: Option<&rules::ExecutionInputs<'_>>,
) -> Vec<Finding> {
    let mut candidates = Vec::new();
    let file = &pm.migration.up.file;

    for note in &pm.migration.load_notes {
        let (line, column) = file.line_col(note.offset);
        let risk = Risk {
            position: Some(Position { line, column }),
            ..Risk::new(note.message.clone())
        };
        if let Some(f) = finding(
            rules::by_name("malformed-migration"),
            settings,
            pm,
            None,
            risk,
        ) {
            candidates.push(Candidate {
                statement: None,
                finding: f,
            });
        }
    }

    let mut state = MigrationState::default();
    let routines = crate::parse::Routines::of(&pm.statements);
    for (index, stmt) in pm.statements.iter().enumerate() {
        let schema = on_copy.as_ref().map(|c| &*c.schema);
        let ctx = Context {
            migration: pm,
            index,
            state: &state,
            settings,
            schema,
            plan: on_copy
                .as_ref()
                .and_then(|c| c.plans.get(&(c.migration, index))),
        };
        for rule in RULES {
            let Check::Statement(check) = rule.check else {
                continue;
            };
            if settings.level(rule).is_none() {
                continue;
            }
            if let Some(mut risk) = check(&ctx, stmt) {
                let production = on_copy.as_ref().and_then(|c| c.production);
                let sized =
                    schema.is_some_and(|s| size_risk(rule, &mut risk, s, settings, production));
                if schema.is_none() {
                    crate::verdicts::static_default(rule.name, stmt, &mut risk);
                }
                if let Some(mut f) = finding(rule, settings, pm, Some(stmt), risk) {
                    if sized {
                        f.evidence = f.evidence.max(Evidence::Catalog);
                    }
                    candidates.push(Candidate {
                        statement: Some(index),
                        finding: f,
                    });
                }
            }
        }
        state.apply(index, stmt);
        if let Some(c) = on_copy.as_mut() {
            c.schema.apply(stmt);
        }
        // The SQL a DO block or a called function runs (issue #12), judged by the same rules
        // and placed on its own lines; it belongs to the statement that runs it.
        for nested in crate::parse::nested(&pm.migration.up.file, &pm.statements, &routines, index)
        {
            let n = &nested.statement;
            let schema = on_copy.as_ref().map(|c| &*c.schema);
            let ctx = Context {
                migration: pm,
                index,
                state: &state,
                settings,
                schema,
                plan: None,
            };
            for rule in RULES {
                let Check::Statement(check) = rule.check else {
                    continue;
                };
                if settings.level(rule).is_none() {
                    continue;
                }
                if let Some(mut risk) = check(&ctx, n) {
                    risk.message = format!("{} ({})", risk.message, nested.context);
                    if let Some(f) = finding(rule, settings, pm, Some(n), risk) {
                        candidates.push(Candidate {
                            statement: Some(index),
                            finding: f,
                        });
                    }
                }
            }
            state.apply(index, n);
        }
    }

    let mctx = MigrationContext {
        migration: pm,
        settings,
    };
    for rule in RULES {
        let Check::Migration(check) = rule.check else {
            continue;
        };
        if let Some(risk) = check(&mctx) {
            if let Some(f) = finding(rule, settings, pm, None, risk) {
                candidates.push(Candidate {
                    statement: None,
                    finding: f,
                });
            }
        }
    }

    if let Some(inputs) = executed {
        for (rule, index, risk) in rules::execution_risks(inputs, pm, settings) {
            let stmt = index.and_then(|i| pm.statements.get(i));
            if let Some(f) = finding(rule, settings, pm, stmt, risk) {
                candidates.push(Candidate {
                    statement: index,
                    finding: f,
                });
            }
        }
        indexes_watched_queries_use(pm, settings, inputs, &mut candidates);
        // Static and catalog findings of statements that ran carry what was measured.
        for c in &mut candidates {
            let Some(run) = c.statement.and_then(|i| inputs.run.statement(i)) else {
                continue;
            };
            let facts = &mut c.finding.facts;
            facts.duration_ms.get_or_insert(run.duration_ms);
            if let Some(lock) = run.strongest_lock() {
                facts.lock_held_ms.get_or_insert(lock.held_ms);
            }
        }
    }

    candidates.extend(down_candidates(pm, settings));
    apply_suppressions(pm, settings, candidates)
}

/// Rules that stay quiet on a down migration: what they flag (dropping or renaming what the
/// up migration added, relaxing the constraint it set, the column types of the schema it
/// restores) is what a rollback is for, and the people who roll back have decided to lose
/// that. Everything about locks, rewrites, transactions and failures still applies: the
/// rollback runs in production, on the real tables. (notes/runner-model.md)
const NOT_FOR_ROLLBACK: &[&str] = &[
    "drop-column",
    "drop-table",
    "drop-schema",
    "truncate-table",
    "rename-column",
    "rename-table",
    "drop-not-null",
    "int-primary-key",
    "timestamp-without-time-zone",
    "char-column",
    "json-column",
    // Dropping or renaming the objects the up part added (issue #12's object rules).
    "drop-view",
    "drop-function",
    "drop-type",
    "drop-sequence",
    "drop-extension",
    "set-schema",
    "identity-change",
    "drop-default",
    "drop-constraint",
    "rename-object",
    "drop-trigger",
    "drop-generated-expression",
    "domain-with-constraint",
    "identifier-too-long",
];

/// Tables (and their indexes) the up migration creates. Its rollback removing them is judged
/// as the up migration judges its own new tables: only the deploy being rolled back has used
/// them, so their locks block nobody who was there before.
struct CreatedByUp {
    tables: Vec<crate::model::QualifiedName>,
    indexes: Vec<crate::model::QualifiedName>,
}

fn created_by(statements: &[Statement]) -> CreatedByUp {
    use crate::model::StatementKind;
    let mut created = CreatedByUp {
        tables: Vec::new(),
        indexes: Vec::new(),
    };
    for s in statements {
        match &s.kind {
            StatementKind::CreateTable { name, .. } | StatementKind::CreateView { name, .. } => {
                created.tables.push(name.clone());
            }
            StatementKind::CreateIndex {
                name: Some(name),
                table,
                ..
            } if created.tables.iter().any(|t| t.matches(table)) => {
                created.indexes.push(name.clone())
            }
            _ => {}
        }
    }
    created
}

impl CreatedByUp {
    /// Whether a rollback's risk is about something the up migration created.
    fn covers(&self, risk: &Risk, stmt: &Statement) -> bool {
        use crate::model::StatementKind;
        if let Some(table) = &risk.table {
            return self.tables.iter().any(|t| t.matches(table));
        }
        match &stmt.kind {
            StatementKind::DropIndex { names, .. } => {
                !names.is_empty()
                    && names
                        .iter()
                        .all(|n| self.indexes.iter().any(|i| i.matches(n)))
            }
            _ => false,
        }
    }
}

/// The down migration's findings (issue #10, item 3): every statement rule over the down
/// part as its runner sends it, located in the down file, marked `direction: down` and worded
/// as a risk of running the rollback in production. Static evidence only: the copy's sizes
/// describe the schema before the up migration, not the one a rollback starts from.
fn down_candidates(pm: &ParsedMigration, settings: &Settings) -> Vec<Candidate> {
    let Some(down) = &pm.migration.down else {
        return Vec::new();
    };
    if pm.down_statements.is_empty() {
        return Vec::new();
    }
    // The down part seen as a migration of its own, so that every rule (and its view of
    // earlier and later statements, and of the runner's mode) reads the rollback.
    let flipped = ParsedMigration {
        migration: Migration {
            path: down.file.display.clone(),
            up: down.clone(),
            down: None,
            load_notes: Vec::new(),
            ..pm.migration.clone()
        },
        statements: pm.down_statements.clone(),
        down_statements: Vec::new(),
        meta: pm.meta.clone(),
        comments: pm.down_comments.clone(),
        down_comments: Vec::new(),
    };
    let created = created_by(&pm.statements);
    let mut out = Vec::new();
    let mut state = MigrationState::default();
    for (index, stmt) in flipped.statements.iter().enumerate() {
        let ctx = Context {
            migration: &flipped,
            index,
            state: &state,
            settings,
            schema: None,
            plan: None,
        };
        for rule in RULES {
            let Check::Statement(check) = rule.check else {
                continue;
            };
            if settings.level(rule).is_none() || NOT_FOR_ROLLBACK.contains(&rule.name) {
                continue;
            }
            let Some(mut risk) = check(&ctx, stmt) else {
                continue;
            };
            if created.covers(&risk, stmt) {
                continue;
            }
            risk.message = format!(
                "Rollback (runs in production when this migration is rolled back): {}",
                risk.message
            );
            if let Some(mut f) = finding(rule, settings, &flipped, Some(stmt), risk) {
                f.direction = Direction::Down;
                out.push(Candidate {
                    statement: Some(index),
                    finding: f,
                });
            }
        }
        state.apply(index, stmt);
    }
    out
}

/// Removes suppressed findings and reports suppressions that lack a reason or match nothing.
/// The up part's suppressions silence up findings; the down part's silence down findings,
/// and where both parts share a file (goose, dbmate, alembic) a file-wide one silences both.
fn apply_suppressions(
    pm: &ParsedMigration,
    settings: &Settings,
    candidates: Vec<Candidate>,
) -> Vec<Finding> {
    let up = suppress::collect(&pm.comments, &pm.statements);
    let down = suppress::collect(&pm.down_comments, &pm.down_statements);
    let shared_file = pm
        .migration
        .down
        .as_ref()
        .is_some_and(|d| std::sync::Arc::ptr_eq(&d.file, &pm.migration.up.file));
    let mut used_up = vec![false; up.len()];
    let mut used_down = vec![false; down.len()];
    let mut kept = Vec::new();
    for c in candidates {
        let matches = |s: &suppress::Suppression, statement: Option<usize>, file_only: bool| {
            s.reason.is_some()
                && (s.rule.eq_ignore_ascii_case(c.finding.rule)
                    || s.rule.eq_ignore_ascii_case(c.finding.code))
                && match s.scope {
                    Scope::File => true,
                    Scope::Statement(_) if file_only => false,
                    Scope::Statement(i) => i.is_some() && i == statement,
                }
        };
        let hit = match c.finding.direction {
            Direction::Up => up
                .iter()
                .position(|s| matches(s, c.statement, false))
                .map(|i| &mut used_up[i]),
            Direction::Down => match down.iter().position(|s| matches(s, c.statement, false)) {
                Some(i) => Some(&mut used_down[i]),
                None if shared_file => up
                    .iter()
                    .position(|s| matches(s, None, true))
                    .map(|i| &mut used_up[i]),
                None => None,
            },
        };
        match hit {
            Some(used) => *used = true,
            None => kept.push(c.finding),
        }
    }
    let down_file = pm.migration.down.as_ref().map(|d| d.file.display.clone());
    let mut reported = suppression_findings(pm, settings, &up, &used_up);
    let mut of_down = suppression_findings(pm, settings, &down, &used_down);
    for f in &mut of_down {
        f.direction = Direction::Down;
        if let Some(file) = &down_file {
            f.file = file.clone();
        }
    }
    reported.append(&mut of_down);
    kept.append(&mut reported);
    kept
}

/// `suppression-without-reason` and `unused-suppression` findings for one part's
/// suppressions.
fn suppression_findings(
    pm: &ParsedMigration,
    settings: &Settings,
    sups: &[suppress::Suppression],
    used: &[bool],
) -> Vec<Finding> {
    let mut kept = Vec::new();
    for (s, used) in sups.iter().zip(used.iter().copied()) {
        let position = Some(s.position);
        if s.reason.is_none() {
            let risk = Risk {
                position,
                ..Risk::new(format!(
                    "Suppression `{}` has no reason, so it does not suppress anything; add `reason: <why this is safe>`",
                    s.comment
                ))
            };
            // The user's own comment, completed (issue #12).
            let risk = match s.rule.is_empty() {
                true => risk,
                false => risk.with_instead(format!(
                    "Say why the risk is acceptable here: `-- {} reason: <why this is safe here>`.",
                    s.comment.trim().trim_start_matches('-').trim_start()
                )),
            };
            kept.extend(finding(
                rules::by_name("suppression-without-reason"),
                settings,
                pm,
                None,
                risk,
            ));
        } else if !used {
            let what = if s.rule.is_empty() {
                "names no rule".to_string()
            } else if rules::find(&s.rule).is_none() {
                format!(
                    "names `{}`, which is not a rule (see `migsafe rules`)",
                    s.rule
                )
            } else {
                format!("allows `{}`, but that rule found nothing here", s.rule)
            };
            let risk = Risk {
                position,
                ..Risk::new(format!("Suppression {what}; remove it"))
            };
            kept.extend(finding(
                rules::by_name("unused-suppression"),
                settings,
                pm,
                None,
                risk,
            ));
        }
    }
    kept
}

/// Builds a finding from a rule's risk, or `None` when the rule is off.
fn finding(
    rule: &'static Rule,
    settings: &Settings,
    pm: &ParsedMigration,
    stmt: Option<&Statement>,
    risk: Risk,
) -> Option<Finding> {
    let configured = settings.rules.get(rule.name).copied();
    let severity = match configured {
        Some(crate::config::Level::Off) => return None,
        Some(crate::config::Level::On(sev)) => sev,
        None => risk.severity.unwrap_or(rule.severity),
    };
    let position = risk
        .position
        .or(stmt.map(|s| s.start))
        .unwrap_or(Position { line: 1, column: 1 });
    Some(Finding {
        rule: rule.name,
        code: rule.code,
        severity,
        evidence: rule.evidence,
        file: pm.migration.path.clone(),
        line: position.line,
        column: position.column,
        statement: stmt.map(|s| s.text.clone()).unwrap_or_default(),
        message: risk.message,
        why: rule.why,
        instead: match risk.instead {
            Some(text) => Cow::Owned(text),
            None => Cow::Borrowed(rule.instead),
        },
        owner: pm.meta.owner.clone(),
        table: risk.table.map(|t| t.to_string()),
        facts: risk.facts,
        direction: crate::model::Direction::Up,
    })
}

/// Reviews SQL text as one migration file named `display` (layout detected from the text,
/// plain by default); used by tests, examples and stdin.
pub fn review_sql(display: &str, sql: &str, settings: &Settings) -> Result<Report> {
    let mut migrations = load::load_text(display, sql, settings.layout)?;
    load::declare_runners(&mut migrations, settings);
    let owners = Owners::discover(&settings.root, settings.default_owner.clone())?;
    let parsed: Vec<ParsedMigration> = migrations
        .into_iter()
        .map(|m| prepare(m, &owners))
        .collect();
    Ok(review(&parsed, settings))
}

/// A catalog-level review: reads the copy at `url` (read-only), reviews the migrations its
/// history table does not list as applied (every one with `all`), and reports where the
/// folder and the copy disagree.
pub async fn check_on_copy(
    paths: &[PathBuf],
    settings: &Settings,
    stdin: &mut dyn Read,
    url: &str,
    all: bool,
) -> Result<Report> {
    let target = Target {
        url: url.to_string(),
        execute_on: None,
        analyze: false,
    };
    check_on_target(paths, settings, stdin, &target, all).await
}

/// Where a review above static level looks.
#[derive(Debug, Clone)]
pub struct Target {
    /// The copy whose catalog, statistics and history are read (read-only).
    pub url: String,
    /// A disposable database with the same data where the pending migrations are run
    /// (execution level): a clone migsafe made, a database it restored, or one the user
    /// marked `--disposable`. `None`: catalog level only.
    pub execute_on: Option<String>,
    /// `EXPLAIN (ANALYZE, BUFFERS)` DML on the disposable database (`--analyze`).
    pub analyze: bool,
}

/// A catalog-level review of `target.url`, and with `target.execute_on` an execution-level
/// one: the pending migrations run on that disposable database and what was measured joins
/// the findings.
pub async fn check_on_target(
    paths: &[PathBuf],
    settings: &Settings,
    stdin: &mut dyn Read,
    target: &Target,
    all: bool,
) -> Result<Report> {
    check_on_target_with(paths, settings, stdin, target, all, None).await
}

/// [`check_on_target`] with production's snapshot (`--production`): representativeness
/// findings, severities at production size, and each measurement predicted at that size.
pub async fn check_on_target_with(
    paths: &[PathBuf],
    settings: &Settings,
    stdin: &mut dyn Read,
    target: &Target,
    all: bool,
    production: Option<&crate::production::ProductionInput>,
) -> Result<Report> {
    let url = target.url.as_str();
    let loaded = load_outcome(paths, settings, stdin)?;
    let migrations = loaded.migrations;
    let layout = settings
        .layout
        .or_else(|| migrations.first().map(|m| m.layout));
    let mut phases = Vec::new();
    let started = Instant::now();
    let shown = crate::progress::phase("catalog", "reading sizes, indexes and statistics");
    let (mut conn, mut facts) = crate::evidence::copy::read(url, layout).await?;
    shown.done();
    phases.push(phase(
        "snapshot",
        started,
        Some(facts.identity.database.clone()),
    ));
    let pending = layout.map(|l| pending::classify(&migrations, facts.applied.as_ref(), l));
    let owners = Owners::discover(&settings.root, settings.default_owner.clone())?;
    let mut skipped = Vec::new();
    let mut reviewed = Vec::new();
    let mut applied = Vec::new();
    for (index, migration) in migrations.into_iter().enumerate() {
        let state = pending
            .as_ref()
            .and_then(|p| p.migrations.iter().find(|s| s.index == index));
        match state {
            Some(s) if !all && s.state == pending::State::Applied => {
                skipped.push(SkippedMigration {
                    path: s.path.clone(),
                    version: s.version.clone(),
                    reason: s.reason.clone(),
                })
            }
            Some(s) if s.state == pending::State::Applied => {
                applied.push(reviewed.len());
                reviewed.push(prepare(migration, &owners));
            }
            _ => reviewed.push(prepare(migration, &owners)),
        }
    }
    if let Some(p) = &pending {
        facts.identity.notes.extend(p.notes.iter().cloned());
    }
    let started = Instant::now();
    let shown = crate::progress::phase("explain", "planning the migrations' statements");
    let plans =
        crate::evidence::copy::explain_pending(&mut conn, &reviewed, &applied, &facts.snapshot)
            .await?;
    shown.done();
    phases.push(phase(
        "explain",
        started,
        Some(format!("{} statements", plans.len())),
    ));
    let copy_environment = match production {
        Some(_) => Some(crate::evidence::snapshot::read_environment(&mut conn).await?),
        None => None,
    };
    let _ = sqlx::Connection::close(conn).await;
    let execution = match &target.execute_on {
        Some(disposable) => {
            let started = Instant::now();
            let x = &settings.execution;
            let options = crate::execute::ExecOptions {
                disposable_confirmed: true,
                lock_timeout: x.lock_timeout,
                statement_timeout: x.statement_timeout,
                lock_budget: x.lock_budget,
                analyze: target.analyze || x.analyze,
                ..crate::execute::ExecOptions::default()
            };
            let watched = production.map(|p| p.watched()).unwrap_or_default();
            let measured = crate::execute::measure_with(
                disposable,
                &reviewed,
                &applied,
                &facts.snapshot,
                settings,
                &options,
                &watched,
            )
            .await?;
            let mut measured = measured;
            crate::verdicts::explain_stops(&mut measured.trace, &measured.reviewed.clone(), |i| {
                pending.as_ref().and_then(|p| {
                    let path = &reviewed.get(i)?.migration.path;
                    p.migrations
                        .iter()
                        .find(|s| &s.path == path)
                        .map(|s| s.reason.clone())
                })
            });
            let ran = measured.trace.migrations.len();
            phases.push(phase("execute", started, Some(format!("{ran} migrations"))));
            Some(measured)
        }
        None => None,
    };
    let mut report = review_with(
        &reviewed,
        settings,
        Some(CopyInputs {
            facts: &facts,
            plans: &plans,
            applied: &applied,
            execution: execution.as_ref(),
            production: production.map(|p| &p.snapshot),
        }),
    );
    report.skipped_migrations = skipped;
    report
        .skipped_migrations
        .extend(not_reviewed(loaded.not_reviewed));
    report.phases = phases;
    if let Some(p) = &pending {
        let fallback = paths
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".to_string());
        report
            .findings
            .extend(drift_findings(&p.drift, &reviewed, settings, &fallback));
    }
    if let (Some(input), Some((copy_settings, extensions))) = (production, copy_environment) {
        let copy = crate::production::CopySide {
            catalog: &facts.snapshot,
            settings: copy_settings,
            extensions,
        };
        crate::production::apply(
            &mut report,
            &reviewed,
            &applied,
            &copy,
            execution.as_ref(),
            input,
            settings,
        );
    }
    finish(&mut report);
    Ok(report)
}

fn phase(name: &str, started: Instant, detail: Option<String>) -> Phase {
    Phase {
        name: name.to_string(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        detail,
    }
}

/// Folder-versus-history disagreements as `schema-drift` findings.
fn drift_findings(
    drift: &[pending::Drift],
    reviewed: &[ParsedMigration],
    settings: &Settings,
    folder: &str,
) -> Vec<Finding> {
    let Some(rule) = rules::find("schema-drift") else {
        return Vec::new();
    };
    let Some(severity) = settings.level(rule) else {
        return Vec::new();
    };
    drift
        .iter()
        .map(|d| {
            let owner = d
                .path
                .as_ref()
                .and_then(|p| reviewed.iter().find(|m| &m.migration.path == p))
                .and_then(|m| m.meta.owner.clone());
            Finding {
                rule: rule.name,
                code: rule.code,
                severity,
                evidence: Evidence::Catalog,
                file: d.path.clone().unwrap_or_else(|| folder.to_string()),
                line: d.line.unwrap_or(1),
                column: 1,
                statement: String::new(),
                message: d.message.clone(),
                why: rule.why,
                instead: Cow::Borrowed(rule.instead),
                owner,
                table: None,
                facts: Default::default(),
                direction: crate::model::Direction::Up,
            }
        })
        .collect()
}
