//! `column-type-change`: `ALTER COLUMN ... TYPE` on an existing table, which usually rewrites
//! the table and its indexes.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, QualifiedName, Severity, Statement, StatementKind};
use crate::schema::{canonical_type, Schema};

pub const RULE: Rule = Rule {
    code: "M010",
    name: "column-type-change",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `ALTER TABLE ... ALTER COLUMN ... [SET DATA] TYPE` on a table that existed \
           before this migration.",
    why: "Changing a column's type takes an ACCESS EXCLUSIVE lock and, unless the old and new \
          types are binary-coercible, rewrites every row and rebuilds every index of the table \
          while holding it: all reads and writes wait, for minutes on a large table. Changes \
          that need no rewrite are few: `varchar(n)` to a larger `varchar(m)` or to `text`, \
          `text` to unbounded `varchar`, `numeric(p,s)` to a larger precision with the same \
          scale, `cidr` to `inet`, and (PostgreSQL 12+, session TimeZone UTC) `timestamp` to \
          `timestamptz`. Without the catalog migsafe cannot see the old type, so a change to \
          `text`/unbounded `varchar` is only reported as info. With the catalog, a change it \
          can prove binary-coercible with no index rebuild (varchar widened or made text or \
          unbounded, numeric precision raised at the same scale, varbit widened) is reported \
          as info: only the brief ACCESS EXCLUSIVE lock remains. (PostgreSQL docs: ALTER \
          TABLE, \"SET DATA TYPE\" and \"Notes\".)",
    instead: "Expand and contract instead of converting in place: add a new column of the new \
              type, keep it in sync for new writes (application dual-write or a trigger), \
              backfill old rows in batches, switch readers, then drop the old column. To relax \
              a length limit, prefer `text` with a `CHECK (char_length(col) <= n) NOT VALID` \
              constraint validated separately.",
    rollback: "`ALTER TABLE <table> ALTER COLUMN <column> TYPE <old type>;` — another rewrite, \
               and values that do not fit the old type fail or lose precision; keep the old \
               column until the change has proven itself if the data matters.",
    bad: include_str!("../../fixtures/rules/column-type-change/bad.sql"),
    good: include_str!("../../fixtures/rules/column-type-change/good.sql"),
    check: Check::Statement(check),
};

/// `text` and length-less `varchar`: binary-coercible from any `varchar`/`text`.
fn is_unbounded_text(data_type: &str) -> bool {
    matches!(data_type, "text" | "varchar" | "character varying")
}

/// Types whose modifier can be widened in place (`varchar(255)`, `numeric(12,2)`).
fn is_widenable(data_type: &str) -> bool {
    ["varchar(", "character varying(", "numeric(", "decimal("]
        .iter()
        .any(|p| data_type.starts_with(p))
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::AlterTable { name, actions, .. } = &stmt.kind else {
        return None;
    };
    if ctx.table_is_new(name) {
        return None;
    }
    let changes: Vec<_> = actions
        .iter()
        .filter_map(|action| match action {
            AlterAction::AlterColumnType {
                column,
                data_type,
                using,
            } => Some((column, data_type, using)),
            _ => None,
        })
        .collect();
    let (column, data_type, using) = *changes.first()?;
    if let Some(schema) = ctx.schema {
        let proven: Option<Vec<String>> = changes
            .iter()
            .map(|(column, data_type, using)| {
                let old = schema.column(name, column)?;
                let no_rewrite = using.is_none() && metadata_only(&old.data_type, data_type);
                no_rewrite.then(|| {
                    format!(
                        "{name}.{column} from {} to {}",
                        old.data_type,
                        canonical_type(data_type)
                    )
                })
            })
            .collect();
        if let Some(proven) = proven.filter(|_| !changes_collation(stmt)) {
            return Some(metadata_only_risk(schema, name, &proven));
        }
    }
    let target = format!("{name}.{column}");
    let risk = if using.is_none() && is_unbounded_text(data_type) {
        Risk::new(format!(
            "Changing {target} to {data_type} needs no rewrite only if it is already varchar or \
             text; from any other type it rewrites {name} under an ACCESS EXCLUSIVE lock \
             (check the current type)"
        ))
        .with_severity(Severity::Info)
    } else if using.is_none() && is_widenable(data_type) {
        Risk::new(format!(
            "Changing {target} to {data_type} rewrites {name} under an ACCESS EXCLUSIVE lock \
             unless it only widens the same type's limit (e.g. varchar(50) to varchar(255)); \
             reads and writes wait for the rewrite"
        ))
    } else {
        Risk::new(format!(
            "Changing {target} to {data_type} rewrites {name} and rebuilds its indexes under \
             an ACCESS EXCLUSIVE lock: reads and writes wait until it finishes"
        ))
    };
    Some(
        risk.with_instead(instead_for(name, column, data_type, using.as_ref(), ctx))
            .on_table(name)
            .with_lock(LockMode::AccessExclusive),
    )
}

/// Expand and contract with this column and type: a new column, kept in sync, backfilled in
/// batches, swapped by rename; for a varchar limit, the metadata-only `text` + CHECK route.
fn instead_for(
    table: &QualifiedName,
    column: &str,
    data_type: &str,
    using: Option<&crate::model::Expr>,
    ctx: &Context,
) -> String {
    let t = instead::table(table);
    let c = instead::name(column);
    let fresh = instead::name(&format!("{column}_new"));
    let old = instead::name(&format!("{column}_old"));
    let value = match using {
        Some(e) => e.text.trim().to_string(),
        None => format!("{c}::{data_type}"),
    };
    let limit = type_modifiers(&canonical_type(data_type))
        .filter(|(base, mods)| *base == "character varying" && mods.len() == 1)
        .and_then(|(_, mods)| mods.first().copied());
    let relax =
        match limit {
            Some(n) => format!(
            " If the point is a new length limit: `ALTER TABLE {t} ALTER COLUMN {c} TYPE text;` \
             is metadata-only from varchar, then `ALTER TABLE {t} ADD CONSTRAINT {} CHECK \
             (char_length({c}) <= {n}) NOT VALID;` and VALIDATE it in a separate transaction.",
            instead::name(&instead::derived(&table.name, &[column.to_string()], "length"))
        ),
            None => String::new(),
        };
    format!(
        "Expand and contract instead of converting in place: (1) `ALTER TABLE {t} ADD COLUMN \
         {fresh} {data_type};` (instant); (2) keep it in sync for new writes (application \
         dual-write, or a BEFORE INSERT OR UPDATE trigger setting `NEW.{fresh} := {};`); (3) \
         repeat {} in separate transactions until it updates no rows; (4) switch readers, then in \
         one short transaction `{} ALTER TABLE {t} RENAME COLUMN {c} TO {old}; ALTER TABLE {t} \
         RENAME COLUMN {fresh} TO {c};`; (5) drop {old} in a later migration (see \
         drop-column).{relax}",
        match using {
            Some(_) => format!("{value}` with its columns read from `NEW"),
            None => format!("NEW.{c}::{data_type}"),
        },
        instead::batched_update(
            &t,
            &format!("{fresh} = {value}"),
            &format!("{fresh} IS NULL AND {c} IS NOT NULL"),
            ctx.settings
        ),
        instead::set_lock_timeout(ctx.settings),
    )
}

/// Whether changing a column of type `old` (as `format_type` prints it) to `new` (as the
/// migration writes it) neither rewrites the table nor rebuilds its indexes: the old type is
/// binary-coercible to the new one and sorts the same (PostgreSQL docs: ALTER TABLE, Notes;
/// the length/precision checks are no-ops when the limit only grows). `timestamp` to
/// `timestamptz` is left out: it is free only when the session TimeZone is UTC, which the
/// catalog does not show.
pub(crate) fn metadata_only(old: &str, new: &str) -> bool {
    let (old, new) = (canonical_type(old), canonical_type(new));
    if old == new {
        return true;
    }
    let (Some((old_base, old_mods)), Some((new_base, new_mods))) =
        (type_modifiers(&old), type_modifiers(&new))
    else {
        return false;
    };
    match (old_base, new_base) {
        ("character varying", "character varying") | ("bit varying", "bit varying") => {
            match (old_mods.as_slice(), new_mods.as_slice()) {
                (_, []) => true,
                ([o], [n]) => n >= o,
                _ => false,
            }
        }
        ("character varying", "text") => true,
        ("text", "character varying") => new_mods.is_empty(),
        ("numeric", "numeric") => match (old_mods.as_slice(), new_mods.as_slice()) {
            (_, []) => true,
            ([p, s], [p2, s2]) => s2 == s && p2 >= p,
            _ => false,
        },
        _ => false,
    }
}

/// `character varying(20)` → (`character varying`, [20]); `None` for arrays and anything
/// after the modifier.
fn type_modifiers(t: &str) -> Option<(&str, Vec<i64>)> {
    if t.ends_with(']') {
        return None;
    }
    let Some(open) = t.find('(') else {
        return Some((t, Vec::new()));
    };
    let inner = t.get(open + 1..)?.strip_suffix(')')?;
    let mods: Option<Vec<i64>> = inner.split(',').map(|m| m.trim().parse().ok()).collect();
    Some((t.get(..open)?.trim_end(), mods?))
}

/// `TYPE ... COLLATE ...`: a new collation changes the sort order, so indexes are rebuilt.
fn changes_collation(stmt: &Statement) -> bool {
    stmt.text
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case("collate"))
}

fn metadata_only_risk(schema: &Schema, table: &QualifiedName, changes: &[String]) -> Risk {
    let mut risk = Risk::new(format!(
        "Changing {} is metadata-only: the old type is binary-coercible to the new one, so \
         PostgreSQL neither rewrites {table} nor rebuilds its indexes; the ACCESS EXCLUSIVE \
         lock is held only for a moment (though it still waits for running queries on \
         {table}, and queues everything behind it while it waits)",
        changes.join(", ")
    ))
    .on_table(table)
    .with_lock(LockMode::AccessExclusive)
    .with_severity(Severity::Info);
    risk.facts.rows = schema.table(table).map(|t| t.rows);
    risk
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_is_written_with_the_users_column_and_type() {
        let found = check(
            &RULE,
            "ALTER TABLE rental ALTER COLUMN inventory_id TYPE bigint;",
        );
        let instead = &found[0].instead;
        assert!(
            instead.contains("`ALTER TABLE rental ADD COLUMN inventory_id_new bigint;`"),
            "{instead}"
        );
        assert!(
            instead.contains("UPDATE rental SET inventory_id_new = inventory_id::bigint WHERE ctid IN (SELECT ctid FROM rental WHERE inventory_id_new IS NULL AND inventory_id IS NOT NULL LIMIT 100000);"),
            "{instead}"
        );
        assert!(
            instead.contains("ALTER TABLE rental RENAME COLUMN inventory_id TO inventory_id_old;"),
            "{instead}"
        );
        let found = check(
            &RULE,
            "ALTER TABLE customer ALTER COLUMN email TYPE varchar(320);",
        );
        assert!(
            found[0]
                .instead
                .contains("CHECK (char_length(email) <= 320) NOT VALID"),
            "{}",
            found[0].instead
        );
    }

    #[test]
    fn flags_rewriting_type_changes() {
        let findings = check(
            &RULE,
            "ALTER TABLE events ALTER COLUMN payload_size TYPE bigint;",
        );
        assert_eq!(findings.len(), 1);
        // Static level: the table's size is unknown, a rewrite is an error (notes/verdicts.md).
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("events.payload_size"));
        assert!(findings[0].message.contains("bigint"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert_eq!(
            count(
                &RULE,
                "alter table events alter column status set data type integer using status::integer;"
            ),
            1
        );
    }

    #[test]
    fn a_change_to_text_is_only_info() {
        let findings = check(&RULE, "ALTER TABLE users ALTER COLUMN bio TYPE text;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(findings[0].message.contains("users.bio"));
        let findings = check(
            &RULE,
            "ALTER TABLE users ALTER COLUMN bio TYPE varchar(500);",
        );
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(findings[0].message.contains("widens"));
    }

    #[test]
    fn ignores_new_tables_and_other_alters() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, total integer);\n\
                 ALTER TABLE carts ALTER COLUMN total TYPE bigint;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE events ADD COLUMN payload_size_v2 bigint;"
            ),
            0
        );
    }

    mod with_the_catalog {
        use super::super::{metadata_only, RULE};
        use crate::model::Severity;
        use crate::rules::test_support::{catalog_risks, snapshot, table};
        use crate::rules::Risk;

        fn risks(sql: &str) -> Vec<Risk> {
            let copy = snapshot(
                vec![table(
                    "users",
                    2_000_000,
                    &[
                        ("id", "integer"),
                        ("name", "character varying(50)"),
                        ("bio", "text"),
                        ("balance", "numeric(10,2)"),
                        ("flags", "bit varying(8)"),
                        ("tags", "character varying(20)[]"),
                    ],
                )],
                Vec::new(),
                Vec::new(),
            );
            catalog_risks(&RULE, copy, sql)
        }

        fn severity(sql: &str) -> Option<Severity> {
            let found = risks(sql);
            assert_eq!(found.len(), 1, "{sql}");
            found[0].severity
        }

        #[test]
        fn binary_coercible_changes_are_info_and_say_so() {
            let found = risks("ALTER TABLE users ALTER COLUMN name TYPE varchar(100);");
            assert_eq!(found[0].severity, Some(Severity::Info));
            assert!(
                found[0].message.starts_with(
                    "Changing users.name from character varying(50) to character \
                     varying(100) is metadata-only"
                ),
                "{}",
                found[0].message
            );
            assert_eq!(found[0].facts.rows, Some(2_000_000));
            for sql in [
                "ALTER TABLE users ALTER COLUMN name TYPE text;",
                "ALTER TABLE users ALTER COLUMN name TYPE character varying;",
                "ALTER TABLE users ALTER COLUMN bio TYPE varchar;",
                "ALTER TABLE users ALTER COLUMN balance TYPE numeric(14, 2);",
                "ALTER TABLE users ALTER COLUMN balance TYPE numeric;",
                "ALTER TABLE users ALTER COLUMN flags TYPE varbit(16);",
                "ALTER TABLE users ALTER COLUMN name TYPE varchar(100), ALTER COLUMN bio TYPE text;",
            ] {
                assert_eq!(severity(sql), Some(Severity::Info), "{sql}");
            }
        }

        #[test]
        fn rewriting_changes_keep_todays_verdict() {
            for sql in [
                "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);",
                "ALTER TABLE users ALTER COLUMN balance TYPE numeric(12, 3);",
                "ALTER TABLE users ALTER COLUMN id TYPE bigint;",
                "ALTER TABLE users ALTER COLUMN bio TYPE varchar(500);",
                "ALTER TABLE users ALTER COLUMN tags TYPE varchar(40)[];",
                "ALTER TABLE users ALTER COLUMN name TYPE varchar(100), ALTER COLUMN id TYPE bigint;",
                "ALTER TABLE users ALTER COLUMN name TYPE varchar(100) USING upper(name);",
            ] {
                assert_eq!(severity(sql), None, "{sql}");
            }
            // A new collation reorders the index: same verdict as without the catalog.
            assert_eq!(
                severity("ALTER TABLE users ALTER COLUMN bio TYPE text COLLATE \"C\";"),
                Some(Severity::Info)
            );
            assert!(
                !risks("ALTER TABLE users ALTER COLUMN bio TYPE text COLLATE \"C\";")[0]
                    .message
                    .contains("metadata-only")
            );
        }

        #[test]
        fn follows_the_column_through_the_replay() {
            let found = risks(
                "ALTER TABLE users RENAME COLUMN name TO full_name;\n\
                 ALTER TABLE users ALTER COLUMN full_name TYPE text;",
            );
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].severity, Some(Severity::Info));
            let found = risks(
                "ALTER TABLE users ALTER COLUMN name TYPE varchar(30) USING left(name, 30);\n\
                 ALTER TABLE users ALTER COLUMN name TYPE varchar(40);",
            );
            assert_eq!(
                found.iter().map(|r| r.severity).collect::<Vec<_>>(),
                vec![None, Some(Severity::Info)]
            );
        }

        #[test]
        fn timestamp_to_timestamptz_is_not_assumed_free() {
            assert!(!metadata_only("timestamp without time zone", "timestamptz"));
            assert!(metadata_only("timestamp with time zone", "timestamptz"));
            assert!(!metadata_only("character varying", "character varying(10)"));
            assert!(metadata_only("numeric(10,2)", "decimal(10, 2)"));
        }
    }
}
