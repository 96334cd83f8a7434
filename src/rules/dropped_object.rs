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
