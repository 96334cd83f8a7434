//! DDL on objects that belong to one table (triggers, row-security policies, rewrite rules):
//! the object's name and the table, because each of these statements locks that table
//! (see `locks::LOCK_MODEL`).

use super::tokens::{tokenize, Token};
use crate::model::{QualifiedName, StatementKind};

/// `CREATE TRIGGER` / `DROP TRIGGER` / `ALTER TRIGGER` / `CREATE|ALTER|DROP POLICY` /
/// `CREATE|DROP RULE` with the table they name; `None` for anything else.
pub(crate) fn table_ddl(text: &str) -> Option<StatementKind> {
    let toks = tokenize(text);
    let verb = toks.first()?;
    let verb = if verb.is("create") {
        "create"
    } else if verb.is("drop") {
        "drop"
    } else if verb.is("alter") {
        "alter"
    } else {
        return None;
    };
    let mut k = 1;
    if verb == "create" && toks.get(k)?.is("or") && toks.get(k + 1)?.is("replace") {
        k += 2;
    }
    if verb == "create" && toks.get(k)?.is("constraint") {
        k += 1;
    }
    let object = ["trigger", "policy", "rule"]
        .into_iter()
        .find(|o| toks.get(k).is_some_and(|t| t.is(o)))?;
    k += 1;
    if verb == "drop" && toks.get(k)?.is("if") && toks.get(k + 1)?.is("exists") {
        k += 2;
    }
    let name = toks.get(k).filter(|t| t.is_name())?.ident();
    k += 1;
    // The table follows the first ON at depth 0 (after the trigger's events); a rule's ON is
    // followed by its event and then TO <table>.
    let mut depth = 0usize;
    while let Some(t) = toks.get(k) {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is("on") {
            k += 1;
            if object == "rule" && verb == "create" {
                k += 1;
                if !toks.get(k)?.is("to") {
                    return None;
                }
                k += 1;
            }
            let table = qualified(&toks, k)?;
            return Some(StatementKind::TableDdl {
                keywords: format!("{verb} {object}"),
                name,
                table,
            });
        }
        k += 1;
    }
    None
}

/// A possibly schema-qualified name starting at token `k`.
fn qualified(toks: &[Token<'_>], k: usize) -> Option<QualifiedName> {
    let mut k = k;
    if toks.get(k)?.is("only") {
        k += 1;
    }
    let first = toks.get(k).filter(|t| t.is_name())?;
    if toks.get(k + 1).is_some_and(|t| t.is_punct(".")) {
        let second = toks.get(k + 2).filter(|t| t.is_name())?;
        Some(QualifiedName::new(Some(&first.ident()), &second.ident()))
    } else {
        Some(QualifiedName::new(None, &first.ident()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(sql: &str) -> Option<(String, String, String)> {
        match table_ddl(sql)? {
            StatementKind::TableDdl {
                keywords,
                name,
                table,
            } => Some((keywords, name, table.to_string())),
            _ => None,
        }
    }

    #[test]
    fn finds_the_table_each_statement_locks() {
        let t = |k: &str, n: &str, tb: &str| Some((k.to_string(), n.to_string(), tb.to_string()));
        assert_eq!(
            table("CREATE TRIGGER set_updated BEFORE INSERT OR UPDATE OF name, email ON public.users FOR EACH ROW EXECUTE FUNCTION touch()"),
            t("create trigger", "set_updated", "public.users")
        );
        assert_eq!(
            table("CREATE OR REPLACE CONSTRAINT TRIGGER chk AFTER INSERT ON orders DEFERRABLE FOR EACH ROW EXECUTE PROCEDURE f()"),
            t("create trigger", "chk", "orders")
        );
        assert_eq!(
            table("DROP TRIGGER IF EXISTS set_updated ON users CASCADE"),
            t("drop trigger", "set_updated", "users")
        );
        assert_eq!(
            table("CREATE POLICY tenant_isolation ON accounts USING (tenant_id = current_setting('app.tenant')::int)"),
            t("create policy", "tenant_isolation", "accounts")
        );
        assert_eq!(
            table("CREATE RULE keep_history AS ON DELETE TO orders DO INSTEAD NOTHING"),
            t("create rule", "keep_history", "orders")
        );
        assert_eq!(table("CREATE TABLE trigger (id int)"), None);
        assert_eq!(table("DROP TRIGGER"), None);
    }
}
