//! `drop-database`: `DROP DATABASE` in a migration.

use super::{instead, Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M024",
    name: "drop-database",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags `DROP DATABASE` anywhere in a migration.",
    why: "It deletes every table, every row and every object of the database at once and \
          cannot be undone: not even the transaction can roll it back, because `DROP \
          DATABASE` refuses to run inside a transaction block. Run from a migration it fires \
          in every environment the migration reaches, production included, and `WITH (FORCE)` \
          (PostgreSQL 13+) also terminates the sessions still connected to it. (PostgreSQL \
          docs: DROP DATABASE.)",
    instead: "Do not drop databases from application migrations. Retire a database as an \
              operations task: revoke access first (`REVOKE CONNECT ON DATABASE <db> FROM \
              PUBLIC;`), watch that nothing connects, take a final `pg_dump`, and have a DBA \
              drop it by hand in each environment.",
    rollback: "None in SQL. Restore the database from a backup or from the final dump \
               (`createdb <db> && pg_restore -d <db> <dump>`).",
    bad: include_str!("../../fixtures/rules/drop-database/bad.sql"),
    good: include_str!("../../fixtures/rules/drop-database/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::DropDatabase { name } = &stmt.kind else {
        return None;
    };
    let db = instead::name(name);
    Some(
        Risk::new(format!(
            "Dropping database {name} deletes all of its data irreversibly; retire databases by \
             hand, not from a migration"
        ))
        .with_instead(format!(
            "Do not drop databases from application migrations. Retire {db} as an operations \
             task: revoke access first (`REVOKE CONNECT ON DATABASE {db} FROM PUBLIC;`), watch \
             that nothing connects (`pg_stat_activity`), take a final `pg_dump -d {db}`, and \
             have a DBA drop it by hand in each environment."
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn instead_names_the_users_database() {
        let found = check(&RULE, "DROP DATABASE dvdrental_old;");
        let instead = &found[0].instead;
        assert!(
            instead.contains("`REVOKE CONNECT ON DATABASE dvdrental_old FROM PUBLIC;`"),
            "{instead}"
        );
    }

    #[test]
    fn flags_drop_database() {
        let found = check(&RULE, "DROP DATABASE legacy_reports;");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("legacy_reports"),
            "{}",
            found[0].message
        );
        assert_eq!(
            count(
                &RULE,
                "DROP DATABASE IF EXISTS legacy_reports WITH (FORCE);"
            ),
            1
        );
    }

    #[test]
    fn ignores_other_drops_and_revokes() {
        assert_eq!(
            count(
                &RULE,
                "REVOKE CONNECT ON DATABASE legacy_reports FROM PUBLIC;"
            ),
            0
        );
        assert_eq!(count(&RULE, "DROP TABLE legacy_reports;"), 0);
    }
}
