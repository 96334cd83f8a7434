//! `dynamic-sql`: SQL inside a `DO` block or a called function that migsafe cannot review
//! before it runs: `EXECUTE` of a string built at run time, or code in a language other than
//! SQL and PL/pgSQL.

use super::{Check, Context, Risk, Rule};
use crate::model::{Evidence, Severity, Statement, StatementKind};

pub const RULE: Rule = Rule {
    code: "M070",
    name: "dynamic-sql",
    severity: Severity::Warning,
    evidence: Evidence::Static,
    what: "Flags SQL that a `DO` block or a function the migration calls builds at run time \
           (`EXECUTE format(...)`, `EXECUTE 'ALTER TABLE ' || t`), and `DO` blocks or called \
           functions written in a language other than SQL or PL/pgSQL. The SQL around it in the \
           same block is reviewed as usual.",
    why: "migsafe reviews the statements of a DO block and of called PL/pgSQL functions like \
          any other, but a string assembled while the migration runs does not exist before it \
          runs: the index built without CONCURRENTLY, the table rewrite or the ACCESS EXCLUSIVE \
          lock it takes is invisible to every rule, often once per table in a loop. (PostgreSQL \
          docs: PL/pgSQL, \"Executing Dynamic Commands\".)",
    instead: "Write the statements out, one per table, so that they can be reviewed (and, for \
              indexes, built CONCURRENTLY outside a transaction, which a DO block cannot do). \
              When the set of tables really is only known at run time, generate the migration \
              file from a script and review the generated file, or review the statement the \
              loop builds by hand and say so: `-- migsafe:allow dynamic-sql reason: <what it \
              runs>`.",
    rollback: "As the generated statements require; write the reverse statements out the same \
               way.",
    bad: include_str!("../../fixtures/rules/dynamic-sql/bad.sql"),
    good: include_str!("../../fixtures/rules/dynamic-sql/good.sql"),
    check: Check::Statement(check),
};

fn check(_ctx: &Context, stmt: &Statement) -> Option<Risk> {
    let StatementKind::Dynamic { reason } = &stmt.kind else {
        return None;
    };
    Some(Risk::new(format!(
        "{reason}: migsafe cannot review SQL that only exists when the migration runs; review \
         what it executes by hand"
    )))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::test_support::{check, count};

    #[test]
    fn flags_execute_of_built_strings_inside_do_blocks() {
        let found = check(
            &RULE,
            "DO $$\nBEGIN\n  EXECUTE 'ALTER TABLE ' || quote_ident('orders') || ' ADD COLUMN note text';\nEND $$;",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        let m = &found[0].message;
        assert!(m.contains("builds its SQL at run time"), "{m}");
        assert!(m.contains("inside the DO block on line 1"), "{m}");
    }

    #[test]
    fn constant_strings_and_plain_sql_are_reviewed_instead() {
        assert_eq!(
            count(
                &RULE,
                "DO $$ BEGIN EXECUTE 'CREATE INDEX orders_note_idx ON orders (note)'; END $$;"
            ),
            0
        );
        assert_eq!(
            count(&RULE, "DO $$ BEGIN UPDATE orders SET note = ''; END $$;"),
            0
        );
    }
}
