//! `set-logged-or-tablespace`: `ALTER TABLE ... SET LOGGED | UNLOGGED | TABLESPACE | ACCESS
//! METHOD` on a table that existed before this migration: each one rewrites the table.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M037",
    name: "set-logged-or-tablespace",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE` and `SET ACCESS \
           METHOD` on a table that existed before this migration.",
    why: "Each of these copies the whole table while holding an ACCESS EXCLUSIVE lock, so every \
          read and write waits for the copy: `SET LOGGED`/`SET UNLOGGED` rewrite it (and `SET \
          LOGGED` writes all of it to WAL, lagging replicas), `SET TABLESPACE` moves its data \
          files (its indexes stay where they are unless moved separately, with the same lock), \
          and `SET ACCESS METHOD` (PostgreSQL 15+) rewrites it into the new format. The time is \
          proportional to the table's size. (PostgreSQL docs: ALTER TABLE, SET LOGGED/UNLOGGED, \
          SET TABLESPACE, SET ACCESS METHOD.)",
    instead: "Do it without the long lock: move data between tablespaces with `pg_repack \
              --tablespace`, or build a copy (new table with the wanted storage, dual-write, \
              batched backfill, swap by rename in one short transaction). For new data only, \
              set `default_tablespace` or create new partitions in the target tablespace. \
              Otherwise schedule it in a maintenance window with `lock_timeout` set.",
    rollback: "The reverse statement (`SET UNLOGGED`/`SET LOGGED`, `SET TABLESPACE <old>`, `SET \
               ACCESS METHOD <old>`), which rewrites the table again under the same lock.",
    bad: include_str!("../../fixtures/rules/set-logged-or-tablespace/bad.sql"),
    good: include_str!("../../fixtures/rules/set-logged-or-tablespace/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let what = actions.iter().find_map(|a| match a {
        AlterAction::SetStorage { what } => Some(what),
        _ => None,
    })?;
    // The parser gives the lower-case keywords (`logged`, `tablespace`, `access method`).
    let what = what
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let what = what.strip_prefix("SET ").unwrap_or(&what);
    Some(
        Risk::new(format!(
            "SET {what} rewrites all of {name} under an ACCESS EXCLUSIVE lock, blocking reads \
             and writes for the whole copy"
        ))
        .with_instead(instead_for(ctx, stmt, name))
        .on_table(name)
        .with_lock(LockMode::AccessExclusive),
    )
}

/// pg_repack for the user's table and tablespace, or the statement in a maintenance window
/// behind the configured lock_timeout.
fn instead_for(ctx: &Context, stmt: &Statement, table: &crate::model::QualifiedName) -> String {
    let t = instead::table(table);
    let words: Vec<&str> = stmt.text.split_whitespace().collect();
    let tablespace = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("tablespace"))
        .and_then(|i| words.get(i + 1))
        .map(|w| w.trim_end_matches(';'));
    let online = match tablespace {
        Some(ts) => format!(
            "move it with `pg_repack --table={} --tablespace={ts}` (it rebuilds the table while \
             reads and writes continue), ",
            table
        ),
        None => format!(
            "build a copy of {t} with the wanted storage (dual-write, batched backfill of {} rows \
             at a time, swap by rename in one short transaction), ",
            instead::batch(ctx.settings)
        ),
    };
    format!(
        "Do it without the long lock on {t}: {online}or schedule `{} {}` in a maintenance \
         window. For new data only, set `default_tablespace` or create new partitions in the \
         target tablespace.",
        instead::set_lock_timeout(ctx.settings),
        instead::statement_head(&stmt.text, 120)
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_table_and_tablespace() {
        let found = check(&RULE, "ALTER TABLE rental SET TABLESPACE fast_ssd;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`pg_repack --table=rental --tablespace=fast_ssd`"),
            "{instead}"
        );
        assert!(
            instead
                .contains("`SET lock_timeout = '2s'; ALTER TABLE rental SET TABLESPACE fast_ssd;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_every_rewriting_storage_change() {
        for sql in [
            "ALTER TABLE audit_log SET TABLESPACE archive_space;",
            "ALTER TABLE import_batches SET LOGGED;",
            "ALTER TABLE import_batches SET UNLOGGED;",
            "ALTER TABLE events SET ACCESS METHOD heap;",
        ] {
            assert_eq!(count(&RULE, sql), 1, "{sql}");
        }
        let found = check(&RULE, "ALTER TABLE audit_log SET TABLESPACE archive_space;");
        assert!(
            found[0].message.contains("audit_log"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.to_ascii_lowercase().contains("tablespace"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn ignores_new_tables_and_non_rewriting_settings() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE t (id bigint); ALTER TABLE t SET LOGGED;"
            ),
            0
        );
        assert_eq!(count(&RULE, "SET default_tablespace = 'archive_space';"), 0);
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.01);"
            ),
            0
        );
    }
}
