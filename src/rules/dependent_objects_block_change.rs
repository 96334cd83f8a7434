//! `dependent-objects-block-change`: at catalog level, a type change, column drop or table
//! drop that the copy's dependency graph (`evidence::depends`) says PostgreSQL will refuse,
//! or that CASCADE turns into dropping views and policies too (issue #11, item 4). Before
//! this rule a `numeric(4,2)` → `numeric(6,2)` change under a view was "info,
//! metadata-only" at catalog level and failed on the copy.

use super::{Check, Context, Risk, Rule};
use crate::evidence::depends::{self, Dependent, DependentKind};
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M069",
    name: "dependent-objects-block-change",
    severity: Severity::Error,
    evidence: Evidence::Catalog,
    what: "Flags, from the copy's dependency graph (pg_depend), an `ALTER COLUMN … TYPE` of a \
           column that a view, rule, policy, trigger or generated column uses, a `DROP COLUMN` \
           or `DROP TABLE` that views, policies or triggers depend on, and the same drops with \
           CASCADE, which silently drop those objects too; and a type change or drop of a \
           partition key column, or of a column a partition or child inherits, which fails \
           even with CASCADE.",
    why: "PostgreSQL refuses to change the type of a column used by a view or rule, a policy, a \
          trigger definition or a generated column, and refuses to drop what other objects \
          depend on without CASCADE: the deploy fails on the first environment that has the \
          view, which is often production only (views are created by hand, by reporting \
          tools, by a DBA). With CASCADE it succeeds and drops the views, policies and \
          triggers with it: reports break, and a dropped row-level-security policy exposes \
          rows.",
    instead: "In one transaction, drop the dependent views (or policies, triggers) first, make \
              the change, and recreate them from their definitions (`pg_get_viewdef`); or \
              leave the column and add a new one. Never rely on CASCADE to find out what \
              depends on a table.",
    rollback: "Recreate the dependents from their saved definitions after reverting the change; \
               what CASCADE dropped is gone from the catalog and must be recreated by hand.",
    bad: include_str!("../../fixtures/rules/dependent-objects-block-change/bad.sql"),
    good: include_str!("../../fixtures/rules/dependent-objects-block-change/good.sql"),
    check: Check::Statement(check),
};

/// A view's name as the graph shows it (`regclass` text) as a qualified name.
fn view_name(shown: &str) -> QualifiedName {
    let unquote = |s: &str| s.trim_matches('"').replace("\"\"", "\"");
    match shown.split_once('.') {
        Some((schema, name)) => QualifiedName::new(Some(&unquote(schema)), &unquote(name)),
        None => QualifiedName::new(None, &unquote(shown)),
    }
}

/// Whether an earlier statement of this migration drops the view.
fn dropped_earlier(ctx: &Context, view: &QualifiedName) -> bool {
    ctx.migration.statements.iter().take(ctx.index).any(|s| {
        matches!(
            &s.kind,
            StatementKind::DropObject { object, names, .. }
                if object.ends_with("view") && names.iter().any(|n| n.matches(view))
        )
    })
}

/// The dependents still in place at this point: a view dropped by an earlier statement no
/// longer blocks anything.
fn live<'a>(
    ctx: &Context,
    schema: &Schema,
    found: impl Iterator<Item = &'a Dependent>,
) -> Vec<&'a Dependent> {
    found
        .filter(|d| match d.kind {
            DependentKind::View | DependentKind::MaterializedView => {
                let view = view_name(&d.name);
                schema.view_exists(&view) && !dropped_earlier(ctx, &view)
            }
            _ => true,
        })
        .collect()
}

fn list(dependents: &[&Dependent]) -> String {
    let mut names: Vec<String> = dependents
        .iter()
        .map(|d| format!("{} {}", d.kind.as_str(), d.name))
        .collect();
    names.dedup();
    names.join(", ")
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let schema = ctx.schema?;
    let graph = &schema.snapshot().dependents;
    if graph.is_empty() {
        return None;
    }
    let cascade = stmt.text.to_ascii_uppercase().contains("CASCADE");
    match &stmt.kind {
        StatementKind::AlterTable { name, actions, .. } => {
            if ctx.table_is_new(name) {
                return None;
            }
            let table = schema.resolve_table(name)?;
            for action in actions {
                match action {
                    AlterAction::AlterColumnType {
                        column,
                        data_type,
                        using,
                    } => {
                        let recursed = format!(
                            "ALTER COLUMN {} TYPE {data_type}{}",
                            super::instead::name(column),
                            using
                                .as_ref()
                                .map(|u| format!(" USING {}", u.text))
                                .unwrap_or_default()
                        );
                        if let Some(risk) = refused(graph, &table, column, false, &recursed) {
                            return Some(risk);
                        }
                        let blocking: Vec<&Dependent> = live(
                            ctx,
                            schema,
                            depends::of(graph, &table, Some(column.as_str()))
                                .filter(|d| d.kind.type_change_error().is_some()),
                        );
                        let first = blocking.first()?;
                        let error = first.kind.type_change_error().unwrap_or_default();
                        return Some(views_recreated(
                            Risk::new(format!(
                                "Fails: {table}.{column} is used by {}, so PostgreSQL refuses \
                                 to change its type (\"{error}\"); drop and recreate {} in the \
                                 same transaction",
                                list(&blocking),
                                if blocking.len() == 1 { "it" } else { "them" }
                            ))
                            .on_table(&table),
                            &blocking,
                            stmt,
                        ));
                    }
                    AlterAction::DropColumn { name: column, .. } => {
                        let recursed = format!("DROP COLUMN {}", super::instead::name(column));
                        if let Some(risk) = refused(graph, &table, column, true, &recursed) {
                            return Some(risk);
                        }
                        let found = live(ctx, schema, depends::of(graph, &table, Some(column)));
                        if found.is_empty() {
                            continue;
                        }
                        let (blocking, auto): (Vec<&Dependent>, Vec<&Dependent>) =
                            found.into_iter().partition(|d| d.kind.blocks_drop());
                        if let Some(risk) = drop_risk(
                            &format!("column {table}.{column}"),
                            &table,
                            &blocking,
                            &auto,
                            cascade,
                        ) {
                            return Some(views_recreated(risk, &blocking, stmt));
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        StatementKind::DropTable { names, cascade, .. } => {
            for name in names {
                let Some(table) = schema.resolve_table(name) else {
                    continue;
                };
                // Policies, triggers and rules of the table itself go with it.
                let blocking: Vec<&Dependent> = live(
                    ctx,
                    schema,
                    depends::of(graph, &table, None).filter(|d| {
                        matches!(
                            d.kind,
                            DependentKind::View | DependentKind::MaterializedView
                        ) && !view_name(&d.name).matches(&table)
                    }),
                );
                if let Some(risk) =
                    drop_risk(&format!("table {table}"), &table, &blocking, &[], *cascade)
                {
                    return Some(views_recreated(risk, &blocking, stmt));
                }
            }
            None
        }
        _ => None,
    }
}

/// A change PostgreSQL refuses whatever else the migration drops first, CASCADE included:
/// the column is in its table's partition key, or inherited from a parent. `recursed` is the
/// action as it would be written on the parent.
fn refused(
    graph: &[Dependent],
    table: &QualifiedName,
    column: &str,
    drop: bool,
    recursed: &str,
) -> Option<Risk> {
    let (fact, error) = depends::of(graph, table, Some(column))
        .find_map(|d| Some((d, d.kind.refusal(column, &d.name, drop)?)))?;
    let change = if drop { "drop it" } else { "change its type" };
    // `fact.name` is regclass text, quoted where needed: the suffix goes inside the quotes.
    let new_table = match fact.name.strip_suffix('"') {
        Some(quoted) => format!("{quoted}_new\""),
        None => format!("{}_new", fact.name),
    };
    let risk = match fact.kind {
        DependentKind::PartitionKey => Risk::new(format!(
            "Fails: {table}.{column} is part of the partition key of {}, so PostgreSQL refuses              to {change}, even with CASCADE (\"{error}\")",
            fact.name
        ))
        .with_instead(format!(
            "A partition key column cannot be {} in place: create a new table partitioned the \
             way you want (`CREATE TABLE {new_table} (LIKE {} INCLUDING ALL) PARTITION BY …`), \
             create its partitions, copy the rows in batches, then swap the names in one short \
             transaction. Or keep the column and add a new one beside it.",
            if drop { "dropped" } else { "retyped" },
            fact.name
        )),
        _ => Risk::new(format!(
            "Fails: {table}.{column} is inherited from {}, so PostgreSQL refuses to {change} on \
             the child alone (\"{error}\")",
            fact.name
        ))
        .with_instead(format!(
            "Change the column where it is defined, which applies it to every partition or \
             child: `ALTER TABLE {} {recursed};`.",
            fact.name
        )),
    };
    Some(risk.on_table(table))
}

/// The drop-change-recreate sequence written with the dependent views' names and the user's
/// statement, when every blocking dependent is a view (others keep the generic text).
fn views_recreated(risk: Risk, blocking: &[&Dependent], stmt: &Statement) -> Risk {
    let views = || {
        blocking.iter().map(|d| match d.kind {
            DependentKind::View => Some(("VIEW", d.name.as_str())),
            DependentKind::MaterializedView => Some(("MATERIALIZED VIEW", d.name.as_str())),
            _ => None,
        })
    };
    let Some(views) = views()
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty())
    else {
        return risk;
    };
    let save = views
        .iter()
        .map(|(_, v)| {
            format!(
                "pg_get_viewdef({}::regclass, true)",
                crate::quote::literal(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let drops = views
        .iter()
        .map(|(kind, v)| format!("DROP {kind} {v};"))
        .collect::<Vec<_>>()
        .join(" ");
    let creates = views
        .iter()
        .map(|(kind, v)| format!("CREATE {kind} {v} AS <its saved definition>;"))
        .collect::<Vec<_>>()
        .join(" ");
    let statement = super::instead::statement_head(&stmt.text, 120);
    let statement = statement
        .strip_suffix(" CASCADE;")
        .or_else(|| statement.strip_suffix(" cascade;"))
        .map(|s| format!("{s};"))
        .unwrap_or(statement);
    risk.with_instead(format!(
        "Save the definitions first (`SELECT {save};`), then in one transaction: `{drops} \
         {statement} {creates}`, and re-grant the views' privileges. Or leave the column and \
         add a new one. Never rely on CASCADE to find out what depends on a table."
    ))
}

fn drop_risk(
    what: &str,
    table: &QualifiedName,
    blocking: &[&Dependent],
    auto: &[&Dependent],
    cascade: bool,
) -> Option<Risk> {
    let mut message = if blocking.is_empty() {
        String::new()
    } else if cascade {
        format!(
            "CASCADE also drops {} because {} depend{} on {what}; they are not recreated",
            list(blocking),
            if blocking.len() == 1 { "it" } else { "they" },
            if blocking.len() == 1 { "s" } else { "" }
        )
    } else {
        format!(
            "Fails: {} depend{} on {what}, so PostgreSQL refuses to drop it without CASCADE \
             (\"cannot drop {what} because other objects depend on it\")",
            list(blocking),
            if blocking.len() == 1 { "s" } else { "" }
        )
    };
    if !auto.is_empty() {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&format!("dropping it also drops {}", list(auto)));
    }
    if message.is_empty() {
        return None;
    }
    let risk = Risk::new(message).on_table(table);
    Some(if blocking.is_empty() || cascade {
        risk.with_severity(Severity::Warning)
    } else {
        risk
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instead_recreates_the_users_views_around_the_statement() {
        let m = crate::review::prepare(
            crate::load::load_text(
                "t.sql",
                "ALTER TABLE film ALTER COLUMN rating TYPE text;",
                None,
            )
            .unwrap()
            .remove(0),
            &crate::metadata::Owners::default(),
        );
        let view = Dependent {
            table: QualifiedName::new(Some("public"), "film"),
            column: Some("rating".into()),
            kind: DependentKind::View,
            name: "film_list".into(),
        };
        let risk = views_recreated(Risk::new("x"), &[&view], &m.statements[0]);
        let instead = risk.instead.unwrap_or_default();
        assert!(
            instead.contains("`DROP VIEW film_list; ALTER TABLE film ALTER COLUMN rating TYPE text; CREATE VIEW film_list AS <its saved definition>;`"),
            "{instead}"
        );
        assert!(
            instead.contains("pg_get_viewdef('film_list'::regclass, true)"),
            "{instead}"
        );
        // A trigger or policy has no such recipe: the generic text stays.
        let trigger = Dependent {
            kind: DependentKind::Trigger,
            ..view
        };
        assert_eq!(
            views_recreated(Risk::new("x"), &[&trigger], &m.statements[0]).instead,
            None
        );
    }

    #[test]
    fn view_names_as_regclass_prints_them() {
        assert_eq!(
            view_name("film_list"),
            QualifiedName::new(None, "film_list")
        );
        assert_eq!(
            view_name("reports.\"Sales\""),
            QualifiedName::new(Some("reports"), "Sales")
        );
    }
}
