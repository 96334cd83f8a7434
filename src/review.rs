//! The review engine: runs every enabled rule over every migration, applies suppressions,
//! and assembles the `Report` that all output formats render.

use crate::config::Settings;
use crate::metadata::{self, Owners};
use crate::model::{
    Evidence, Finding, Migration, MigrationSummary, ParsedMigration, Position, Report, Severity,
    Statement, Summary,
};
use crate::rules::{self, Check, Context, MigrationContext, MigrationState, Risk, Rule, RULES};
use crate::suppress::{self, Scope};
use crate::{load, parse};
use anyhow::Result;
use std::io::Read;
use std::path::PathBuf;

/// Parses a loaded migration and reads its metadata.
pub fn prepare(migration: Migration, owners: &Owners) -> ParsedMigration {
    let up = parse::parse_part(&migration.up);
    let down = migration
        .down
        .as_ref()
        .map(parse::parse_part)
        .unwrap_or_default();
    let meta = metadata::extract(&migration, &down.statements, owners);
    ParsedMigration {
        migration,
        statements: up.statements,
        down_statements: down.statements,
        meta,
        comments: up.comments,
    }
}

/// A static review of the migrations under `paths` (`-` is stdin).
pub fn check_paths(paths: &[PathBuf], settings: &Settings, stdin: &mut dyn Read) -> Result<Report> {
    let migrations = load::load(paths, settings.layout, stdin)?;
    let owners = Owners::discover(&settings.root, settings.default_owner.clone())?;
    let parsed: Vec<ParsedMigration> = migrations
        .into_iter()
        .map(|m| prepare(m, &owners))
        .collect();
    Ok(review(&parsed, settings))
}

/// Runs the rules and builds the report.
pub fn review(migrations: &[ParsedMigration], settings: &Settings) -> Report {
    let mut findings = Vec::new();
    for pm in migrations {
        findings.extend(review_migration(pm, settings));
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    let mut summary = Summary::default();
    for f in &findings {
        match f.severity {
            Severity::Error => summary.error += 1,
            Severity::Warning => summary.warning += 1,
            Severity::Info => summary.info += 1,
        }
    }
    Report {
        evidence: Evidence::Static,
        migrations: migrations.iter().map(summarize).collect(),
        findings,
        skipped_rules: Vec::new(),
        skipped_migrations: Vec::new(),
        copy: None,
        summary,
    }
}

fn summarize(pm: &ParsedMigration) -> MigrationSummary {
    let m = &pm.migration;
    MigrationSummary {
        path: m.path.clone(),
        version: m.version.clone(),
        name: m.name.clone(),
        layout: m.layout,
        in_transaction: m.up.transactional,
        statements: pm.statements.len(),
        owner: pm.meta.owner.clone(),
        owner_source: pm.meta.owner_source,
        expected: pm.meta.expected.clone(),
        rollback: pm.meta.rollback.clone(),
    }
}

/// A finding before suppression: which statement it belongs to, if any.
struct Candidate {
    statement: Option<usize>,
    finding: Finding,
}

fn review_migration(pm: &ParsedMigration, settings: &Settings) -> Vec<Finding> {
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
    for (index, stmt) in pm.statements.iter().enumerate() {
        let ctx = Context {
            migration: pm,
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
            if settings.level(rule).is_none() {
                continue;
            }
            if let Some(risk) = check(&ctx, stmt) {
                if let Some(f) = finding(rule, settings, pm, Some(stmt), risk) {
                    candidates.push(Candidate {
                        statement: Some(index),
                        finding: f,
                    });
                }
            }
        }
        state.apply(index, stmt);
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

    apply_suppressions(pm, settings, candidates)
}

/// Removes suppressed findings and reports suppressions that lack a reason or match nothing.
fn apply_suppressions(
    pm: &ParsedMigration,
    settings: &Settings,
    candidates: Vec<Candidate>,
) -> Vec<Finding> {
    let sups = suppress::collect(&pm.comments, &pm.statements);
    let mut used = vec![false; sups.len()];
    let mut kept = Vec::new();
    for c in candidates {
        let hit = sups.iter().position(|s| {
            s.reason.is_some()
                && (s.rule.eq_ignore_ascii_case(c.finding.rule)
                    || s.rule.eq_ignore_ascii_case(c.finding.code))
                && match s.scope {
                    Scope::File => true,
                    Scope::Statement(i) => i.is_some() && i == c.statement,
                }
        });
        match hit {
            Some(i) => used[i] = true,
            None => kept.push(c.finding),
        }
    }
    for (s, used) in sups.iter().zip(used) {
        let position = Some(s.position);
        if s.reason.is_none() {
            let risk = Risk {
                position,
                ..Risk::new(format!(
                    "Suppression `{}` has no reason, so it does not suppress anything; add `reason: <why this is safe>`",
                    s.comment
                ))
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
        instead: rule.instead,
        owner: pm.meta.owner.clone(),
        table: risk.table.map(|t| t.to_string()),
        facts: risk.facts,
    })
}

/// Reviews SQL text as one migration file named `display` (layout detected from the text,
/// plain by default); used by tests, examples and stdin.
pub fn review_sql(display: &str, sql: &str, settings: &Settings) -> Result<Report> {
    let migrations = load::load_text(display, sql, settings.layout)?;
    let owners = Owners::discover(&settings.root, settings.default_owner.clone())?;
    let parsed: Vec<ParsedMigration> = migrations
        .into_iter()
        .map(|m| prepare(m, &owners))
        .collect();
    Ok(review(&parsed, settings))
}
