//! `lock-table`: an explicit `LOCK TABLE` on an existing table.

use super::{instead, Check, Context, Risk, Rule, UNKNOWN_RUNNER};
use crate::locks::LockMode;
use crate::model::{Evidence, QualifiedName, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M019",
    name: "lock-table",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags `LOCK TABLE` on tables that existed before this migration (info for modes that \
           do not block writes; error outside a transaction, where PostgreSQL rejects it, or a \
           warning that names the assumption when the runner is unknown).",
    why: "An explicit lock is held until the transaction ends, so everything the migration does \
          afterwards runs while other sessions wait. The default mode is ACCESS EXCLUSIVE, \
          which blocks even SELECT; SHARE and stronger block every INSERT, UPDATE and DELETE. \
          Waiting for the lock queues every conflicting query behind it. Outside a transaction \
          block LOCK TABLE is an error. (PostgreSQL docs: LOCK; Explicit Locking, \"Table-Level \
          Locks\".)",
    instead: "Rely on the locks each statement takes by itself. If writers really must be \
              held off, name the weakest sufficient mode explicitly (e.g. `SHARE ROW EXCLUSIVE` \
              instead of the default ACCESS EXCLUSIVE), set `lock_timeout` first and keep the \
              transaction short. To serialize only cooperating jobs, use an advisory lock \
              (`SELECT pg_advisory_xact_lock(...)`), which blocks no other query.",
    rollback: "Nothing to undo: the lock is released at COMMIT or ROLLBACK.",
    bad: include_str!("../../fixtures/rules/lock-table/bad.sql"),
    good: include_str!("../../fixtures/rules/lock-table/good.sql"),
    check: Check::Statement(check),
};

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::LockTable { tables, mode } = &stmt.kind else {
        return None;
    };
    let existing: Vec<&QualifiedName> = tables.iter().filter(|t| !ctx.table_is_new(t)).collect();
    let first = *existing.first()?;
    let names = existing
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let lock = LockMode::from_sql(mode).unwrap_or(LockMode::AccessExclusive);
    let mode_text = if mode.trim().is_empty() {
        "ACCESS EXCLUSIVE"
    } else {
        mode.as_str()
    };
    let risk = Risk::new(format!(
        "LOCK TABLE {names} IN {mode_text} MODE blocks {} on {names} until the transaction ends",
        lock.blocks()
    ))
    .with_instead({
        let names = existing
            .iter()
            .map(|t| instead::table(t))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "Rely on the locks each statement takes by itself. If writers really must be held \
             off, name the weakest sufficient mode and bound the wait, inside the transaction: \
             `SET LOCAL lock_timeout = '{}'; LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE;` \
             (reads continue), and keep the transaction short. To serialize only cooperating \
             jobs, use an advisory lock (`SELECT pg_advisory_xact_lock(hashtext({}));`), which \
             blocks no other query.",
            instead::lock_timeout(ctx.settings),
            crate::quote::literal(&first.to_string())
        )
    })
    .on_table(first)
    .with_lock(lock);
    Some(if !stmt.in_transaction && ctx.runner_unknown() {
        // psql would fail here; a runner that wraps the file would not.
        let message = format!(
            "LOCK TABLE {names} outside a transaction block is rejected (\"LOCK TABLE can only \
             be used in transaction blocks\") when each statement runs on its own, as in psql; \
             {UNKNOWN_RUNNER}"
        );
        Risk { message, ..risk }.with_severity(Severity::Warning)
    } else if !stmt.in_transaction {
        let message = format!(
            "LOCK TABLE {names} runs outside a transaction block, where PostgreSQL rejects it \
             (\"LOCK TABLE can only be used in transaction blocks\") and the migration fails"
        );
        Risk { message, ..risk }.with_severity(Severity::Error)
    } else if !lock.blocks_writes() {
        risk.with_severity(Severity::Info)
    } else {
        risk
    })
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::model::Severity;
    use crate::rules::test_support::{check, check_as, count};

    #[test]
    fn instead_names_the_users_tables() {
        let found = check(&RULE, "BEGIN;\nLOCK TABLE rental;\nCOMMIT;");
        let instead = &found[0].instead;
        assert!(
            instead.contains(
                "`SET LOCAL lock_timeout = '2s'; LOCK TABLE rental IN SHARE ROW EXCLUSIVE MODE;`"
            ),
            "{instead}"
        );
        assert!(instead.contains("hashtext('rental')"), "{instead}");
    }

    #[test]
    fn flags_explicit_locks() {
        let findings = check(&RULE, "LOCK TABLE accounts;");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(findings[0].message.contains("accounts"));
        assert!(findings[0].message.contains("ACCESS EXCLUSIVE"));
        assert_eq!(findings[0].table.as_deref(), Some("accounts"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        let findings = check(&RULE, "lock table accounts in share row exclusive mode;");
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("ShareRowExclusiveLock")
        );
        assert_eq!(findings[0].severity, Severity::Warning);
    }

    #[test]
    fn weak_modes_are_info_and_no_transaction_is_an_error() {
        let findings = check(&RULE, "LOCK TABLE accounts IN ROW EXCLUSIVE MODE;");
        assert_eq!(findings[0].severity, Severity::Info);
        let findings = check(
            &RULE,
            "-- no-transaction\nLOCK TABLE accounts IN SHARE MODE;",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("transaction block"));
        // A lone plain file: psql would reject it, a wrapping runner would not.
        let findings = check_as(&RULE, "LOCK TABLE accounts IN SHARE MODE;", None);
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(
            findings[0].message.contains("assumed psql"),
            "{}",
            findings[0].message
        );
        // As one query with other statements it is inside the implicit transaction.
        let findings = check_as(
            &RULE,
            "LOCK TABLE accounts IN SHARE MODE;\nUPDATE accounts SET tier = 'a' WHERE id = 1;",
            Some(crate::model::Transaction::Implicit),
        );
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(!findings[0].message.contains("rejected"));
    }

    #[test]
    fn ignores_new_tables() {
        assert_eq!(
            count(&RULE, "CREATE TABLE carts (id bigint);\nLOCK TABLE carts;"),
            0
        );
        assert_eq!(
            count(&RULE, "UPDATE accounts SET tier = 'gold' WHERE id = 1;"),
            0
        );
    }
}
