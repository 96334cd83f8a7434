//! Shared by the rules about dropping objects running code depends on (drop-view,
//! drop-function, drop-type, drop-sequence, drop-extension): which of the dropped objects
//! existed before this migration.

use super::{Context, Risk};
use crate::model::{Statement, StatementKind};

/// The names of `objects` this statement drops that the migration did not create earlier,
/// as a risk with `message(names, object, cascade)`.
pub(super) fn check(
    ctx: &Context,
    stmt: &Statement,
    objects: &[&str],
    message: fn(&str, &str, bool) -> String,
) -> Option<Risk> {
    let StatementKind::DropObject {
        object,
        names,
        cascade,
        ..
    } = &stmt.kind
    else {
        return None;
    };
    if !objects.contains(&object.as_str()) {
        return None;
    }
    let existing: Vec<String> = names
        .iter()
        .filter(|n| {
            let new_view = object.ends_with("view") && ctx.table_is_new(n);
            let new_function = matches!(object.as_str(), "function" | "procedure" | "routine")
                && ctx.state.function(&n.name).is_some();
            // Created (and perhaps renamed since) in this migration: nothing deployed uses it.
            let tracked = ctx.state.object_is_new(object, None, n);
            let created = ctx
                .earlier()
                .iter()
                .any(|s| crate::parse::objects::creates(&s.text, object, n));
            !(new_view || new_function || tracked || created)
        })
        .map(|n| ctx.state.describe_object(object, None, n))
        .collect();
    if existing.is_empty() {
        return None;
    }
    Some(Risk::new(message(&existing.join(", "), object, *cascade)))
}

/// [`check`], with the rule's *instead* written by `instead(names, drop)` from the dropped
/// names and the user's own statement without CASCADE (issue #12).
pub(super) fn check_with_instead(
    ctx: &Context,
    stmt: &Statement,
    objects: &[&str],
    message: fn(&str, &str, bool) -> String,
    instead: fn(&str, &str) -> String,
) -> Option<Risk> {
    let risk = check(ctx, stmt, objects, message)?;
    let StatementKind::DropObject { names, .. } = &stmt.kind else {
        return Some(risk);
    };
    let names = names
        .iter()
        .map(super::instead::table)
        .collect::<Vec<_>>()
        .join(", ");
    Some(risk.with_instead(instead(&names, &without_cascade(&stmt.text))))
}

/// The statement on one line without a trailing CASCADE, so PostgreSQL refuses the drop while
/// something still depends on the object.
fn without_cascade(text: &str) -> String {
    let one = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let lower = one.to_ascii_lowercase();
    let kept = match lower.strip_suffix(" cascade") {
        Some(rest) => one.get(..rest.len()).unwrap_or(&one),
        None => &one,
    };
    let kept = kept.strip_suffix(" RESTRICT").unwrap_or(kept);
    format!("{};", kept.trim_end())
}
