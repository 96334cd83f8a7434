//! `unparsed-statement`: a statement migsafe could not understand (so no other rule judged
//! it), or a psql meta-command, which is not SQL at all.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M043",
    name: "unparsed-statement",
    severity: Severity::Info,
    evidence: Evidence::Static,
    what: "Reports statements that neither sqlparser nor migsafe's keyword fallback understood, \
           and psql meta-commands (`\\c`, `\\set`, `\\i` ...) in migration files.",
    why: "migsafe can only judge what it parsed: an unparsed statement got no review at all, so \
          a table rewrite or a long lock inside it goes unreported. Typical causes are template \
          placeholders (`{{ schema }}`, `${table}`), syntax from another database, newer \
          PostgreSQL syntax the parser does not know yet, or a real syntax error. psql \
          meta-commands are interpreted by the psql client, not the server: migration \
          frameworks send them to PostgreSQL, which rejects them with a syntax error.",
    instead: "Review the statement by hand. Render templates before reviewing \
              (`alembic upgrade head --sql`, `sqlmigrate`) and pipe the SQL to `migsafe check -`. \
              Replace psql meta-commands with SQL (`SET` for settings, the connection URL for \
              `\\c`) or keep them only in scripts that psql runs. If the statement is valid \
              PostgreSQL, report it so migsafe learns it.",
    rollback: "Nothing to roll back for the finding itself; roll back the statement as its own \
               effect requires.",
    bad: include_str!("../../fixtures/rules/unparsed-statement/bad.sql"),
    good: include_str!("../../fixtures/rules/unparsed-statement/good.sql"),
    check: Check::Statement(check),
};

/// Long parser messages are cut so the finding stays readable in a table.
const MAX_REASON_CHARS: usize = 200;

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    match &stmt.kind {
        StatementKind::Unparsed { reason } => {
            let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
            let reason = if reason.chars().count() > MAX_REASON_CHARS {
                let cut: String = reason.chars().take(MAX_REASON_CHARS).collect();
                format!("{cut}…")
            } else if reason.is_empty() {
                "no reason given".to_string()
            } else {
                reason
            };
            Some(Risk::new(format!(
                "migsafe could not parse this statement ({reason}); it was not reviewed — check \
                 it by hand"
            )))
        }
        StatementKind::PsqlMeta { command } => {
            let name = command.split_whitespace().next().unwrap_or("\\");
            let name = if name.starts_with('\\') {
                name.to_string()
            } else {
                format!("\\{name}")
            };
            Some(Risk::new(format!(
                "`{name}` is a psql meta-command, not SQL: migration frameworks reject it; \
                 migsafe skipped it"
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn reports_psql_meta_commands_by_name() {
        let found = check(&RULE, "\\c app_production\nCREATE TABLE t (id bigint);");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.starts_with("`\\c` is a psql meta-command"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].line, 1);
    }

    #[test]
    fn reports_statements_nobody_understood() {
        let found = check(&RULE, "FROBNICATE TABLE orders WITH GUSTO;");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .starts_with("migsafe could not parse this statement ("),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.ends_with("check it by hand"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn stays_quiet_on_sql_it_understands() {
        assert_eq!(
            count(
                &RULE,
                "SET lock_timeout = '2s';\nCREATE TABLE t (id bigint PRIMARY KEY);\nCOMMENT ON TABLE t IS 'x';"
            ),
            0
        );
    }
}
