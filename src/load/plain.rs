//! plain: numbered `.sql` files (`001_init.sql`, `2_add.sql`, `10-more.sql`) run one after the
//! other by a runner migsafe cannot see: psql (each statement on its own), a deploy script,
//! a tool that wraps each file in a transaction. So the mode is `Unknown` (reviewed and run on
//! a copy the way psql would, and said so), unless the first line is `-- no-transaction`
//! (sqlx's marker, accepted here as the author's word: each statement on its own) or
//! migsafe.toml declares the runner. A file that opens its own transaction (`BEGIN` first)
//! stays `Unknown`: the parser follows its BEGIN/COMMIT whatever the runner.
//!
//! Order: the leading number's value (`2_x` before `10_y`), then the file name. `.down.sql`
//! files are never forward migrations and are skipped. A folder without any numbered file falls
//! back to all its `.sql` files in name order, so a folder of hand-named scripts still gets
//! reviewed.

use super::source::{Entry, Loaded, Reader};
use super::text::{cmp_digits, leading_digits, no_transaction_line, starts_own_transaction};
use super::{file_migration_with, stem};
use crate::model::{Layout, Migration, Runner, Transaction};
use anyhow::Result;

/// How a plain file is run, as far as the file itself says.
pub(super) fn runner(text: &str) -> (Transaction, Runner) {
    if no_transaction_line(text) {
        return (
            Transaction::Statement,
            Runner::marker("plain: `-- no-transaction` first line: each statement on its own"),
        );
    }
    let own = if starts_own_transaction(text, 0) {
        "; the file opens its own transaction (BEGIN first)"
    } else {
        ""
    };
    (
        Transaction::Unknown,
        Runner::default_of(format!(
            "plain: the runner is unknown{own}; reviewed as psql runs it (each statement on \
             its own); declare the runner in migsafe.toml ([[runner]]) or with --transaction"
        )),
    )
}

/// `(version, name)` of a numbered file name: the leading digits as written, then the rest
/// without its separator.
pub(super) fn parse_name(file_name: &str) -> Option<(String, String)> {
    let version = leading_digits(file_name)?;
    let rest = file_name.get(version.len()..).unwrap_or("");
    let rest = rest.strip_suffix(".sql").unwrap_or(rest);
    let name = rest.trim_start_matches(['_', '-', '.', ' ']);
    let name = if name.is_empty() { version } else { name };
    Some((version.to_string(), name.to_string()))
}

fn is_candidate(entry: &Entry) -> bool {
    !entry.is_dir && entry.name.ends_with(".sql") && !entry.name.ends_with(".down.sql")
}

pub(super) fn migration(loaded: &Loaded, version: Option<String>, name: String) -> Migration {
    let (tx, how) = runner(&loaded.file.text);
    file_migration_with(Layout::Plain, loaded, version, name, tx, how)
}

/// Every plain migration in a folder, in numeric order.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut numbered: Vec<(&Entry, String, String)> = entries
        .iter()
        .filter(|e| is_candidate(e))
        .filter_map(|e| parse_name(&e.name).map(|(v, n)| (e, v, n)))
        .collect();
    numbered.sort_by(|a, b| cmp_digits(&a.1, &b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    let mut out = Vec::new();
    if numbered.is_empty() {
        for entry in entries.iter().filter(|e| is_candidate(e)) {
            let loaded = reader.read(&entry.path, &entry.display)?;
            out.push(migration(&loaded, None, stem(Some(&entry.name))));
        }
        return Ok(out);
    }
    for (entry, version, name) in numbered {
        let loaded = reader.read(&entry.path, &entry.display)?;
        out.push(migration(&loaded, Some(version), name));
    }
    Ok(out)
}

pub(super) fn lone(loaded: &Loaded, file_name: Option<&str>) -> Migration {
    let (version, name) = match file_name.and_then(parse_name) {
        Some((v, n)) => (Some(v), n),
        None => (None, stem(file_name)),
    };
    migration(loaded, version, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            parse_name("001_init.sql"),
            Some(("001".into(), "init".into()))
        );
        assert_eq!(parse_name("10-add.sql"), Some(("10".into(), "add".into())));
        assert_eq!(parse_name("7.sql"), Some(("7".into(), "7".into())));
        assert_eq!(parse_name("init.sql"), None);
    }

    #[test]
    fn transaction_markers() {
        let mode = |text| runner(text).0;
        assert_eq!(
            mode("-- owner: @a\nCREATE TABLE t ();"),
            Transaction::Unknown
        );
        assert_eq!(
            mode("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            Transaction::Statement
        );
        assert!(runner("-- no-transaction\n").1.marker);
        let (tx, how) = runner("-- Django\nBEGIN;\nCREATE TABLE t ();\nCOMMIT;");
        assert_eq!(tx, Transaction::Unknown);
        assert!(
            how.source.contains("opens its own transaction"),
            "{}",
            how.source
        );
        assert!(how.source.contains("migsafe.toml"), "{}", how.source);
        assert_eq!(mode("start transaction;\nCOMMIT;"), Transaction::Unknown);
    }
}
