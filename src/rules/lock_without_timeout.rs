//! `lock-without-timeout`: the first statement of a migration that takes a lock blocking
//! reads or writes of an existing table while no `lock_timeout` is set.

use super::{instead, Check, Context, Risk, Rule};
use crate::locks::{table_locks, LockMode, TableLock};
use crate::model::{Evidence, QualifiedName, ReindexTarget, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M017",
    name: "lock-without-timeout",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags the first statement of a migration that takes a lock blocking writes (SHARE or \
           stronger) on a table that existed before the migration, when no `SET lock_timeout` \
           ran before it. Reported once per migration.",
    why: "Locks are granted in queue order. A DDL statement that must wait for its lock — behind \
          a long-running query, a backup or an idle-in-transaction session — sits in the queue \
          holding nothing, yet every later query that conflicts with it queues behind it. An \
          ACCESS EXCLUSIVE request therefore stops all reads and writes on the table for as long \
          as it waits, even if the change itself takes a millisecond; without lock_timeout it \
          waits forever. (PostgreSQL docs: Explicit Locking, \"Table-Level Locks\"; Client \
          Connection Defaults, \"lock_timeout\".)",
    instead: "Start the migration with `SET lock_timeout = '2s';` (or `SET LOCAL lock_timeout = \
              '2s';` inside its transaction; SET LOCAL ends with the transaction and does nothing \
              outside one) so that a blocked statement gives up quickly instead \
              of stalling the table, and retry the migration later (with backoff) when it times \
              out. A `statement_timeout` additionally bounds how long the lock is held once \
              granted.",
    rollback: "Nothing to undo: `lock_timeout` only changes how long the session waits for locks.",
    bad: include_str!("../../fixtures/rules/lock-without-timeout/bad.sql"),
    good: include_str!("../../fixtures/rules/lock-without-timeout/good.sql"),
    check: Check::Statement(check),
};

/// What the statements before the one being judged created: tables (new and empty) and the
/// indexes built on those tables.
#[derive(Default)]
struct Created {
    tables: Vec<QualifiedName>,
    indexes: Vec<QualifiedName>,
}

impl Created {
    fn table(&self, table: &QualifiedName) -> bool {
        self.tables.iter().any(|t| t.matches(table))
    }

    fn index(&self, index: &QualifiedName) -> bool {
        self.indexes.iter().any(|i| i.matches(index))
    }

    fn track(&mut self, kind: &StatementKind) {
        match kind {
            StatementKind::CreateTable { name, .. } | StatementKind::CreateView { name, .. } => {
                self.tables.push(name.clone());
            }
            StatementKind::CreateIndex {
                name: Some(name),
                table,
                ..
            } if self.table(table) => self.indexes.push(name.clone()),
            _ => {}
        }
    }
}

/// The write-blocking lock a statement takes on something that existed before the migration:
/// the table (when known) and the mode.
fn blocking_lock(
    kind: &StatementKind,
    created: &Created,
) -> Option<(Option<QualifiedName>, LockMode)> {
    blocking_table_lock(kind, created)
        .map(|l| (Some(l.table), l.mode))
        .or_else(|| blocking_index_lock(kind, created))
}

/// The strongest write-blocking lock the model says the statement takes on an existing table.
fn blocking_table_lock(kind: &StatementKind, created: &Created) -> Option<TableLock> {
    table_locks(kind)
        .into_iter()
        .filter(|l| l.mode.blocks_writes() && !created.table(&l.table))
        .max_by_key(|l| l.mode)
}

fn blocking_index_lock(
    kind: &StatementKind,
    created: &Created,
) -> Option<(Option<QualifiedName>, LockMode)> {
    // Index commands lock the index's table, which is unknown without a catalog.
    match kind {
        StatementKind::DropIndex {
            names,
            concurrently: false,
            ..
        } if names.iter().any(|n| !created.index(n)) => Some((None, LockMode::AccessExclusive)),
        StatementKind::Reindex {
            target: ReindexTarget::Index,
            name: Some(name),
            concurrently: false,
        } if !created.index(name) => Some((None, LockMode::Share)),
        StatementKind::Reindex {
            target: ReindexTarget::Schema | ReindexTarget::Database | ReindexTarget::System,
            concurrently: false,
            ..
        } => Some((None, LockMode::Share)),
        _ => None,
    }
}

/// Whether a `SET lock_timeout` value turns the timeout off (`0`, `'0s'`, `DEFAULT`).
fn disables_timeout(value: &str) -> bool {
    let v = value
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim()
        .to_ascii_lowercase();
    if v == "default" {
        return true;
    }
    let number: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

/// Whether a non-zero `lock_timeout` is in force for `stmt`: the state knows one was set; the
/// last such SET must not have turned it off again, and a `SET LOCAL` only lasts until the end
/// of its transaction (outside a transaction block it does nothing at all).
fn timeout_in_effect(ctx: &Context, stmt: &Statement) -> bool {
    if !ctx.state.lock_timeout_set {
        return false;
    }
    let earlier = ctx.earlier();
    let last = earlier
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| match &s.kind {
            StatementKind::Set { name, value, local }
                if name.eq_ignore_ascii_case("lock_timeout") =>
            {
                Some((i, s, value, *local))
            }
            _ => None,
        });
    let Some((index, set, value, local)) = last else {
        return false;
    };
    if disables_timeout(value) {
        return false;
    }
    if local {
        let ended = earlier
            .get(index + 1..)
            .unwrap_or_default()
            .iter()
            .any(|s| matches!(s.kind, StatementKind::Commit | StatementKind::Rollback));
        return set.in_transaction && stmt.in_transaction && !ended;
    }
    true
}

/// "on the referenced table" etc.
fn entry_target(lock: &TableLock) -> String {
    format!("on {}", crate::locks::entry(lock.form).target)
}

/// SQL spelling of a lock mode, as `LOCK TABLE` and the manual write it.
fn sql_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::AccessShare => "ACCESS SHARE",
        LockMode::RowShare => "ROW SHARE",
        LockMode::RowExclusive => "ROW EXCLUSIVE",
        LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
        LockMode::Share => "SHARE",
        LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
        LockMode::Exclusive => "EXCLUSIVE",
        LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
    }
}

fn check(ctx: &Context, stmt: &Statement) -> Option<Risk> {
    // Cheap filter first: most statements take no blocking lock at all.
    blocking_lock(&stmt.kind, &Created::default())?;
    if timeout_in_effect(ctx, stmt) {
        return None;
    }
    // Report once per migration: stay quiet if an earlier statement already qualified.
    let mut created = Created::default();
    for earlier in ctx.earlier() {
        if blocking_lock(&earlier.kind, &created).is_some() {
            return None;
        }
        created.track(&earlier.kind);
    }
    let (table, mode) = blocking_lock(&stmt.kind, &created)?;
    let target = match &table {
        Some(t) => t.to_string(),
        None => "the index's table".to_string(),
    };
    // Say which row of the lock model this is when the lock is not on the table the
    // statement is about (a referenced table, a trigger's table): the user may not expect it.
    let source = blocking_table_lock(&stmt.kind, &created)
        .map(|l| {
            format!(
                " ({}: {} {}; PostgreSQL docs: {})",
                l.statement(),
                sql_name(l.mode),
                entry_target(&l),
                l.docs()
            )
        })
        .unwrap_or_default();
    let risk = Risk::new(format!(
        "This statement locks {target} {} (blocks {}) with no lock_timeout set before it: while \
         it waits behind a long-running query, every new query on {target} queues behind it; \
         start the migration with SET lock_timeout = '{}'{source}",
        sql_name(mode),
        mode.blocks(),
        instead::lock_timeout(ctx.settings),
    ))
    .with_instead(instead_for(ctx, stmt))
    .with_lock(mode);
    // `SET LOCAL` outside a block does nothing under psql, but would under a wrapping runner.
    let local_outside = ctx.earlier().iter().any(|s| {
        matches!(&s.kind, StatementKind::Set { name, local: true, .. }
            if name.eq_ignore_ascii_case("lock_timeout"))
            && !s.in_transaction
    });
    let risk = if local_outside && ctx.runner_unknown() {
        Risk {
            message: format!(
                "{} (the SET LOCAL lock_timeout before it only lasts inside a transaction block, \
                 so each statement on its own leaves it without effect; {})",
                risk.message,
                super::UNKNOWN_RUNNER
            ),
            ..risk
        }
    } else {
        risk
    };
    Some(match &table {
        Some(t) => risk.on_table(t),
        None => risk,
    })
}

/// The configured lock_timeout set right before the user's statement (SET LOCAL inside a
/// transaction, where it ends with it).
fn instead_for(ctx: &Context, stmt: &Statement) -> String {
    let timeout = instead::lock_timeout(ctx.settings);
    let set = if stmt.in_transaction {
        format!("SET LOCAL lock_timeout = '{timeout}';")
    } else {
        format!("SET lock_timeout = '{timeout}';")
    };
    format!(
        "Start the migration with `{set}` before `{}` so that a blocked statement gives up after \
         {timeout} instead of stalling the table, and retry the migration later (with backoff) \
         when it times out. A `statement_timeout` additionally bounds how long the lock is held \
         once granted.",
        instead::statement_head(&stmt.text, 120)
    )
}

#[cfg(test)]
mod tests {
    use super::{disables_timeout, RULE};
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_sets_the_configured_timeout_before_the_users_statement() {
        let found = check(&RULE, "ALTER TABLE rental ADD COLUMN note text;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`SET LOCAL lock_timeout = '2s';` before `ALTER TABLE rental ADD COLUMN note text;`"),
            "{instead}"
        );
        let mut settings = crate::config::Settings::default();
        settings.execution.lock_budget = std::time::Duration::from_millis(500);
        let report = crate::review::review_sql(
            "test.sql",
            "-- no-transaction\nALTER TABLE rental ADD COLUMN note text;",
            &settings,
        )
        .unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == RULE.name)
            .unwrap();
        assert!(
            f.instead.contains("`SET lock_timeout = '500ms';`"),
            "{}",
            f.instead
        );
    }

    #[test]
    fn flags_the_first_blocking_statement_once() {
        let findings = check(
            &RULE,
            "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE users ADD COLUMN bio text;",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].line, 1);
        assert_eq!(findings[0].table.as_deref(), Some("orders"));
        assert_eq!(
            findings[0].facts.lock.as_deref(),
            Some("AccessExclusiveLock")
        );
        assert!(findings[0].message.contains("orders"));
        assert_eq!(
            count(&RULE, "CREATE INDEX orders_status_idx ON orders (status);"),
            1
        );
        assert_eq!(count(&RULE, "LOCK TABLE orders IN SHARE MODE;"), 1);
        assert_eq!(count(&RULE, "DROP INDEX orders_status_idx;"), 1);
    }

    #[test]
    fn locks_on_tables_the_statement_only_names_count() {
        // A new table referencing an existing one locks the existing one SHARE ROW EXCLUSIVE.
        let found = check(
            &RULE,
            "CREATE TABLE order_notes (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id));",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].table.as_deref(), Some("orders"));
        assert_eq!(
            found[0].facts.lock.as_deref(),
            Some("ShareRowExclusiveLock")
        );
        assert!(
            found[0].message.contains("on the referenced table"),
            "{}",
            found[0].message
        );
        // A table constraint too, and a partition locks its parent ACCESS EXCLUSIVE.
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE line_items (id bigint, order_id bigint, FOREIGN KEY (order_id) REFERENCES public.orders (id));"
            ),
            1
        );
        let found = check(
            &RULE,
            "CREATE TABLE events_2026_12 PARTITION OF events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');",
        );
        assert_eq!(found[0].facts.lock.as_deref(), Some("AccessExclusiveLock"));
        // Triggers lock their table: CREATE SHARE ROW EXCLUSIVE, DROP ACCESS EXCLUSIVE.
        let found = check(
            &RULE,
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
        );
        assert_eq!(found[0].table.as_deref(), Some("orders"));
        assert_eq!(
            found[0].facts.lock.as_deref(),
            Some("ShareRowExclusiveLock")
        );
        let found = check(&RULE, "DROP TRIGGER IF EXISTS orders_touch ON orders;");
        assert_eq!(found[0].facts.lock.as_deref(), Some("AccessExclusiveLock"));
        // Tables created here are new: referencing one of them, or a self-reference, is quiet.
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE a (id bigint PRIMARY KEY);\n\
                 CREATE TABLE b (id bigint, a_id bigint REFERENCES a (id), parent bigint REFERENCES b (id));\n\
                 CREATE TRIGGER b_touch BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION touch();"
            ),
            0
        );
    }

    #[test]
    fn quiet_when_lock_timeout_is_set_first() {
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "SET LOCAL lock_timeout TO 5000;\nALTER TABLE orders ADD COLUMN note text;"
            ),
            0
        );
    }

    #[test]
    fn a_zero_timeout_does_not_count() {
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout = 0;\nALTER TABLE orders ADD COLUMN note text;"
            ),
            1
        );
        assert!(disables_timeout("'0s'"));
        assert!(disables_timeout("DEFAULT"));
        assert!(!disables_timeout("'2s'"));
        assert!(!disables_timeout("5000"));
    }

    #[test]
    fn flags_a_blocking_statement_set_before_the_timeout() {
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders ADD COLUMN note text;\nSET lock_timeout = '2s';"
            ),
            1
        );
    }

    #[test]
    fn ignores_new_tables_and_non_blocking_statements() {
        assert_eq!(
            count(
                &RULE,
                "CREATE TABLE carts (id bigint, owner bigint);\n\
                 ALTER TABLE carts ADD COLUMN note text;\n\
                 CREATE INDEX carts_owner_idx ON carts (owner);\n\
                 DROP INDEX carts_owner_idx;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nCREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"
            ),
            0
        );
        assert_eq!(count(&RULE, "UPDATE orders SET note = '' WHERE id = 1;"), 0);
        assert_eq!(
            count(
                &RULE,
                "ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;"
            ),
            0
        );
    }

    #[test]
    fn set_config_and_default_values() {
        assert_eq!(
            count(
                &RULE,
                "SELECT set_config('lock_timeout', '3s', false);\nALTER TABLE orders ADD COLUMN note text;"
            ),
            0
        );
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout TO DEFAULT;\nALTER TABLE orders ADD COLUMN note text;"
            ),
            1
        );
    }

    #[test]
    fn set_local_lasts_only_for_its_transaction() {
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nSET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\nSET LOCAL lock_timeout = '2s';\nCOMMIT;\n\
                 ALTER TABLE orders ADD COLUMN note text;"
            ),
            1
        );
        assert_eq!(
            count(
                &RULE,
                "-- no-transaction\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n\
                 ALTER TABLE orders ADD COLUMN note text;\nCOMMIT;"
            ),
            0
        );
    }

    #[test]
    fn set_local_follows_how_the_runner_sends_the_file() {
        let sql = "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;";
        // Sent as one query, SET LOCAL lasts for the implicit transaction.
        assert_eq!(
            crate::rules::test_support::check_as(
                &RULE,
                sql,
                Some(crate::model::Transaction::Implicit)
            )
            .len(),
            0
        );
        // Each on its own it does nothing; for an unknown runner the finding says why.
        let found = crate::rules::test_support::check_as(&RULE, sql, None);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("SET LOCAL"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("assumed psql"),
            "{}",
            found[0].message
        );
    }
}
