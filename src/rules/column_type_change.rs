//! `column-type-change`: `ALTER COLUMN ... TYPE` on an existing table, which usually rewrites
//! the table and its indexes.

use super::{Check, Context, Risk, Rule};
use crate::locks::LockMode;
use crate::model::{AlterAction, Evidence, Severity, Statement, StatementKind};

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
          `text`/unbounded `varchar` is only reported as info. (PostgreSQL docs: ALTER TABLE, \
          \"SET DATA TYPE\" and \"Notes\".)",
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
    let (column, data_type, using) = actions.iter().find_map(|action| match action {
        AlterAction::AlterColumnType {
            column,
            data_type,
            using,
        } => Some((column, data_type, using)),
        _ => None,
    })?;
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
    Some(risk.on_table(name).with_lock(LockMode::AccessExclusive))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_rewriting_type_changes() {
        let findings = check(
            &RULE,
            "ALTER TABLE events ALTER COLUMN payload_size TYPE bigint;",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Warning);
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
}
