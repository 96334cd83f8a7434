//! `rename-object`: `ALTER VIEW|MATERIALIZED VIEW|SEQUENCE|INDEX|TYPE|DOMAIN|FUNCTION|
//! PROCEDURE|SCHEMA|TRIGGER ... RENAME`, `ALTER TABLE ... RENAME CONSTRAINT` and `ALTER TYPE
//! ... RENAME VALUE` of something that existed before this migration (squawk's
//! renaming-object). Tables and their columns keep their own rules (rename-table,
//! rename-column), whose safe sequences differ.

use super::{instead, renamed, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::quote;

pub const RULE: Rule = Rule {
    code: "M081",
    name: "rename-object",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags renames of objects other than tables and columns that existed before this \
           migration: `ALTER VIEW|MATERIALIZED VIEW|SEQUENCE|TYPE|DOMAIN|FUNCTION|PROCEDURE|\
           SCHEMA ... RENAME TO`, `ALTER TYPE ... RENAME VALUE` (enum labels) and `RENAME \
           ATTRIBUTE`, `ALTER VIEW ... RENAME COLUMN`, `ALTER DOMAIN ... RENAME CONSTRAINT` and \
           `ALTER TABLE ... RENAME CONSTRAINT` (warnings), and `ALTER INDEX|TRIGGER ... RENAME \
           TO` (info: only DDL names them). Objects created earlier in the same migration are \
           not flagged, nor a view or function renamed when the migration creates a \
           replacement under the old name.",
    why: "The rename is instant, but everything outside the database that names the object \
          keeps using the old name: application instances still running the previous release, \
          reports, other services, and function bodies (stored as text, not updated). From the \
          moment the migration commits their queries fail with \"does not exist\": a renamed \
          view or function, a cast to a renamed type, `nextval('old_seq')`, a query qualified \
          with a renamed schema. A renamed enum label makes writes of the old label fail with \
          \"invalid input value for enum\". A renamed constraint breaks `ON CONFLICT ON \
          CONSTRAINT` and the code (Ecto, Rails and Django error handlers) that recognises its \
          violations by name; renaming the index behind a primary key, unique or exclusion \
          constraint renames the constraint too. The rollback of an earlier release that still \
          names the object fails as well. (PostgreSQL docs: ALTER VIEW, ALTER TYPE, ALTER \
          INDEX, ALTER TABLE RENAME CONSTRAINT.)",
    instead: "Keep the old name working until no deployed code uses it: for a view, rename it \
              and create a view with the old name in the same transaction (`ALTER VIEW \
              <old> RENAME TO <new>; CREATE VIEW <old> AS SELECT * FROM <new>;`); for a \
              function, create the new one and keep the old one calling it; for an enum \
              label, add the new value, move the rows in batches and stop writing the old one. \
              Deploy code that uses the new name, then drop the compatibility object in a later \
              migration.",
    rollback: "Rename it back (`ALTER <object> <new> RENAME TO <old>;`, `ALTER TYPE <type> \
               RENAME VALUE '<new>' TO '<old>';`): instant, but it breaks code that by then uses \
               the new name.",
    bad: include_str!("../../fixtures/rules/rename-object/bad.sql"),
    good: include_str!("../../fixtures/rules/rename-object/good.sql"),
    check: Check::Statement(check),
};

/// What breaks, and the safe version with the statement's own names.
fn consequence(object: &str, owner: &QualifiedName, old: &str, new: &str) -> (String, String) {
    // SQL in the advice spells names the way the user writes them; prose keeps them as read.
    let schema = owner
        .schema
        .as_ref()
        .map(|s| format!("{}.", instead::name(s)))
        .unwrap_or_default();
    let owner_sql = instead::table(owner);
    let (o, n) = (instead::name(old), instead::name(new));
    let (o_lit, n_lit) = (quote::literal(old), quote::literal(new));
    match object {
        "view" | "materialized view" => (
            format!("every query, report and service that reads `{old}` fails"),
            format!(
                "Keep the old name readable while code moves: in one transaction `ALTER {} \
                 {schema}{o} RENAME TO {n}; CREATE VIEW {schema}{o} AS SELECT * FROM \
                 {schema}{n};` (a simple view stays updatable). Deploy code that reads `{new}`, \
                 then drop the view `{old}` in a later migration.",
                object.to_uppercase()
            ),
        ),
        "function" | "procedure" | "routine" | "aggregate" => (
            format!(
                "every caller of `{old}` (running code, triggers, other functions' bodies) fails"
            ),
            format!(
                "Create `{schema}{n}` as a new {object} with the same body and keep \
                 `{schema}{o}` (or make it call `{n}`) until no code calls it; drop `{o}` in a \
                 later migration."
            ),
        ),
        "sequence" => (
            format!(
                "code that calls `nextval('{old}')` or `setval('{old}', ...)` by name fails \
                 (column defaults follow the rename)"
            ),
            format!(
                "Move every caller of `{old}` to the column's default or to \
                 `pg_get_serial_sequence(...)` and deploy that first; then `ALTER SEQUENCE \
                 {schema}{o} RENAME TO {n};`."
            ),
        ),
        "type" | "domain" => (
            format!(
                "queries that cast to `{old}` or declare it (`::{old}`, function signatures in \
                 running code) fail"
            ),
            format!(
                "Deploy code that no longer names `{old}` first; then `ALTER {} {schema}{o} \
                 RENAME TO {n};`.",
                object.to_uppercase()
            ),
        ),
        "schema" => (
            format!(
                "every name qualified with `{old}.` and every search_path that lists `{old}` \
                 stops finding its objects"
            ),
            format!(
                "Move code, roles' search_path and connection settings to `{new}` first, or \
                 create `{n}` and move objects one by one with a view left behind; then `ALTER \
                 SCHEMA {o} RENAME TO {n};`."
            ),
        ),
        "enum value" => (
            format!(
                "running code that writes or compares `'{old}'` fails with \"invalid input \
                 value for enum {owner}\""
            ),
            format!(
                "Deploy code that accepts both labels, `ALTER TYPE {owner_sql} ADD VALUE \
                 {n_lit};`, move the rows in batches (`UPDATE ... SET ... = {n_lit} WHERE ... = \
                 {o_lit}`), and stop writing {o_lit}; the label itself can stay."
            ),
        ),
        "view column" => (
            format!("queries that read `{old}` from `{owner}` fail"),
            format!(
                "Add the new name next to the old one (`CREATE OR REPLACE VIEW {owner_sql} AS \
                 SELECT ..., {o}, {o} AS {n}` — new columns go last), deploy code that reads \
                 `{new}`, then drop `{old}` from the view in a later migration."
            ),
        ),
        "attribute" => (
            format!("code that reads attribute `{old}` of `{owner}` fails"),
            format!(
                "Deploy code that no longer reads `({owner_sql}).{o}` first, then rename it to \
                 `{n}`."
            ),
        ),
        "domain constraint" | "constraint" => (
            format!(
                "`ON CONFLICT ON CONSTRAINT {old}` and code that recognises `{old}` violations \
                 by name (Ecto, Rails and Django error handlers) break"
            ),
            format!(
                "Deploy code that recognises both `{old}` and `{new}` first; then rename it in \
                 its own migration."
            ),
        ),
        "index" => (
            format!(
                "DDL that names `{old}` (later migrations, an earlier release's rollback, \
                 planner hints) fails, and if it backs a primary key, unique or exclusion \
                 constraint, that constraint is renamed too"
            ),
            format!(
                "Check that no migration, rollback note or hint names `{old}` and that it backs \
                 no constraint (`SELECT conname FROM pg_constraint WHERE conindid = {}::regclass;`), \
                 then rename it.",
                quote::literal(&format!("{schema}{o}"))
            ),
        ),
        _ => (
            format!(
                "DDL that names `{old}` (later migrations, an earlier release's rollback) fails"
            ),
            format!(
                "Check that no migration or rollback note still names `{old}`, then rename it."
            ),
        ),
    }
}

/// Whether the migration creates a replacement under the old name after the rename (a
/// compatibility view or function), so running code keeps working.
fn replacement_follows(ctx: &Context, object: &str, old: &QualifiedName) -> bool {
    ctx.later().iter().any(|s| match (&s.kind, object) {
        (StatementKind::CreateView { name, .. }, "view" | "materialized view") => name.matches(old),
        (
            StatementKind::CreateFunction { name, .. },
            "function" | "procedure" | "routine" | "aggregate",
        ) => name.matches(old),
        _ => false,
    })
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    if let StatementKind::AlterTable { name, actions, .. } = &stmt.kind {
        if ctx.table_is_new(name) {
            return None;
        }
        let (old, new) = actions.iter().find_map(|a| match a {
            AlterAction::RenameConstraint { old, new } => {
                (!ctx.state.constraint_is_new(name, old)).then_some((old, new))
            }
            _ => None,
        })?;
        let label =
            ctx.state
                .describe_object("constraint", Some(name), &QualifiedName::new(None, old));
        let (breaks, instead) = consequence("constraint", name, old, new);
        return Some(
            Risk::new(format!(
                "Renaming constraint {label} of {name} to `{new}`: {breaks}"
            ))
            .on_table(name)
            .with_lock(LockMode::AccessExclusive)
            .with_instead(instead),
        );
    }
    let r = renamed(stmt)?;
    if let Some(owner) = super::member_owner_class(&r.object) {
        if ctx.state.object_is_new(owner, None, &r.name) {
            return None;
        }
    } else if ctx
        .state
        .object_is_new(&r.object, r.table.as_ref(), &r.name)
        || replacement_follows(ctx, &r.object, &r.name)
    {
        return None;
    }
    let label = if r.is_member() {
        ctx.state
            .describe_object(&r.object, Some(&r.name), &QualifiedName::new(None, &r.old))
    } else {
        ctx.state
            .describe_object(&r.object, r.table.as_ref(), &r.name)
    };
    let what = if r.is_member() {
        format!("{} {label} of `{}`", r.object, r.name)
    } else {
        format!("{} {label}", r.object)
    };
    let (breaks, instead) = consequence(&r.object, &r.name, &r.old, &r.new);
    let mut risk =
        Risk::new(format!("Renaming {what} to `{}`: {breaks}", r.new)).with_instead(instead);
    if matches!(r.object.as_str(), "index" | "trigger") {
        risk = risk.with_severity(Severity::Info);
    }
    if let Some(table) = &r.table {
        risk = risk.on_table(table);
    }
    Some(risk)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_renames_of_existing_objects_with_what_breaks() {
        let found = check(
            &RULE,
            "ALTER VIEW reporting.active_customers RENAME TO customers_active;",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .instead
                .contains("CREATE VIEW reporting.active_customers AS SELECT * FROM reporting.customers_active;"),
            "{}",
            found[0].instead
        );
        let value = check(
            &RULE,
            "ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';",
        );
        assert_eq!(value.len(), 1);
        assert!(
            value[0]
                .message
                .contains("enum value `canceled` of `order_status`")
                && value[0].message.contains("invalid input value"),
            "{}",
            value[0].message
        );
        for sql in [
            "ALTER MATERIALIZED VIEW daily_totals RENAME TO daily_revenue;",
            "ALTER SEQUENCE invoice_number_seq RENAME TO invoice_no_seq;",
            "ALTER FUNCTION touch_updated_at() RENAME TO set_updated_at;",
            "ALTER PROCEDURE archive_orders(int) RENAME TO archive_old_orders;",
            "ALTER DOMAIN email_address RENAME TO email;",
            "ALTER SCHEMA billing RENAME TO invoicing;",
            "ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_email_unique;",
            "ALTER VIEW active_users RENAME COLUMN last_login TO last_seen_at;",
        ] {
            assert_eq!(count(&RULE, sql), 1, "{sql}");
        }
        // Only DDL names indexes and triggers: info.
        let index = check(
            &RULE,
            "ALTER INDEX orders_created_idx RENAME TO orders_created_at_idx;",
        );
        assert_eq!(index.len(), 1);
        assert_eq!(index[0].severity, Severity::Info);
        let trigger = check(
            &RULE,
            "ALTER TRIGGER audit ON orders RENAME TO orders_audit;",
        );
        assert_eq!(trigger[0].severity, Severity::Info);
        assert_eq!(trigger[0].table.as_deref(), Some("orders"));
    }

    #[test]
    fn the_instead_spells_names_and_labels_as_sql() {
        let view = check(
            &RULE,
            "ALTER VIEW \"Reporting\".\"Active\" RENAME TO active;",
        );
        assert!(
            view[0].instead.contains(
                "CREATE VIEW \"Reporting\".\"Active\" AS SELECT * FROM \"Reporting\".active;"
            ),
            "{}",
            view[0].instead
        );
        let label = check(&RULE, "ALTER TYPE mood RENAME VALUE 'don''t' TO 'do not';");
        assert!(
            label[0]
                .instead
                .contains("ALTER TYPE mood ADD VALUE 'do not';")
                && label[0].instead.contains("stop writing 'don''t'"),
            "{}",
            label[0].instead
        );
    }

    #[test]
    fn objects_created_here_and_compatibility_replacements_are_not_flagged() {
        for sql in [
            "CREATE VIEW v2 AS SELECT 1 AS a;\nALTER VIEW v2 RENAME TO v3;",
            "CREATE SEQUENCE s;\nALTER SEQUENCE s RENAME TO s2;",
            "CREATE TYPE mood AS ENUM ('ok', 'sad');\nALTER TYPE mood RENAME VALUE 'sad' TO 'blue';",
            "CREATE INDEX CONCURRENTLY i ON orders (a);\nALTER INDEX i RENAME TO i2;",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nALTER FUNCTION f() RENAME TO g;",
            "ALTER TABLE users ADD CONSTRAINT users_age CHECK (age > 0) NOT VALID;\nALTER TABLE users RENAME CONSTRAINT users_age TO users_age_positive;",
            "CREATE TABLE t (id int CONSTRAINT t_pk PRIMARY KEY);\nALTER TABLE t RENAME CONSTRAINT t_pk TO t_pkey;",
            "ALTER VIEW active_users RENAME TO users_active;\nCREATE VIEW active_users AS SELECT * FROM users_active;",
            // Tables and columns have their own rules.
            "ALTER TABLE users RENAME TO accounts;",
            "ALTER TYPE order_status ADD VALUE 'refunded';",
        ] {
            assert_eq!(count(&RULE, sql), 0, "{sql}");
        }
    }

    #[test]
    fn renamed_objects_are_tracked_through_later_statements() {
        // Renamed twice: the finding names the original.
        let found = check(
            &RULE,
            "ALTER VIEW a RENAME TO b;\nALTER VIEW b RENAME TO c;",
        );
        assert_eq!(found.len(), 2);
        assert!(
            found[1]
                .message
                .contains("`b` (renamed from `a` on line 1)"),
            "{}",
            found[1].message
        );
        // A view created here, renamed, then dropped is this migration's own.
        let drop_view = crate::rules::find("drop-view").unwrap();
        assert_eq!(
            count(
                drop_view,
                "CREATE VIEW v2 AS SELECT 1 AS a;\nALTER VIEW v2 RENAME TO v3;\nDROP VIEW v3;"
            ),
            0
        );
        // An existing one renamed, then dropped, says where it came from.
        let dropped = check(drop_view, "ALTER VIEW v RENAME TO v_old;\nDROP VIEW v_old;");
        assert_eq!(dropped.len(), 1);
        assert!(
            dropped[0]
                .message
                .contains("`v_old` (renamed from `v` on line 1)"),
            "{}",
            dropped[0].message
        );
        let drop_type = crate::rules::find("drop-type").unwrap();
        assert_eq!(
            count(
                drop_type,
                "CREATE TYPE mood AS ENUM ('ok');\nALTER TYPE mood RENAME TO mood_v1;\nDROP TYPE mood_v1;"
            ),
            0
        );
    }
}
