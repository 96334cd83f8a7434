//! `<version>.<name>.{up,down}.sql` pairs as authelia names them:
//! `V0001.Initial_Schema.all.up.sql`, `V0002.Webauthn.postgres.down.sql` (the provider part is
//! `all`, `postgres`, `mysql` or `sqlite`; older trees have none).
//!
//! - The provider is read by the dialect step before this module sees the name: `postgres`
//!   files keep their place under the plain name, other providers are listed as another
//!   engine's; `all` (or none) runs everywhere.
//! - Version: the integer after `V` (`V0001` → `1`), ordered numerically. authelia records the
//!   schema version reached in its `migrations` table (`version_after` of the latest row).
//! - Transactions: on PostgreSQL authelia opens one transaction (`BeginTxx`) for the whole
//!   upgrade and runs every pending migration in it: [`Transaction::File`].

use super::source::{Entry, Reader};
use super::text::strip_zeros;
use super::{attach_down, duplicate_note, file_migration, runs};
use crate::model::{Layout, Migration, Runner, Transaction};
use anyhow::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Name {
    pub digits: String,
    pub name: String,
    pub up: bool,
}

/// authelia runs the whole upgrade, all pending migrations, in one transaction.
pub(super) fn runner() -> (Transaction, Runner) {
    (
        Transaction::File,
        Runner::default_of("authelia: the whole upgrade runs in one transaction"),
    )
}

/// Parses `V<digits>.<name>[.all].{up,down}.sql` (a provider other than `all` has been taken
/// off already, see [`super::dialect::split_name`]).
pub(super) fn parse_name(file_name: &str) -> Option<Name> {
    let rest = file_name.strip_prefix('V')?.strip_suffix(".sql")?;
    let (rest, up) = if let Some(r) = rest.strip_suffix(".up") {
        (r, true)
    } else {
        (rest.strip_suffix(".down")?, false)
    };
    let rest = rest.strip_suffix(".all").unwrap_or(rest);
    let (digits, name) = rest.split_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.contains('.') {
        return None;
    }
    Some(Name {
        digits: digits.to_string(),
        name: name.to_string(),
        up,
    })
}

/// Whether a folder's files are named this way.
pub(super) fn is_folder(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| e.is_file() && parse_name(&e.name).is_some())
}

/// Every migration of such a folder, ordered by version, each with its down file.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let named: Vec<(&Entry, Name)> = entries
        .iter()
        .filter(|e| e.is_file())
        .filter_map(|e| parse_name(&e.name).map(|n| (e, n)))
        .collect();
    let mut ups: Vec<&(&Entry, Name)> = named.iter().filter(|(_, n)| n.up).collect();
    ups.sort_by(|a, b| {
        super::text::cmp_digits(&a.1.digits, &b.1.digits).then_with(|| a.0.name.cmp(&b.0.name))
    });
    let mut out = Vec::new();
    for (entry, name) in ups {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let version = strip_zeros(&name.digits);
        let mut m = file_migration(
            Layout::Authelia,
            &loaded,
            Some(version.clone()),
            name.name.replace('_', " "),
            true,
        );
        let down = named
            .iter()
            .find(|(_, d)| !d.up && strip_zeros(&d.digits) == version);
        if let Some((down, _)) = down {
            let loaded = reader.read(&down.path, &down.display)?;
            attach_down(&mut m, &loaded, true);
        }
        let (transaction, by) = runner();
        runs(&mut m.up, transaction, by.clone());
        if let Some(down) = m.down.as_mut() {
            runs(down, transaction, by);
        }
        out.push(m);
    }
    duplicate_note(&mut out, "authelia");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = parse_name("V0001.Initial_Schema.all.up.sql").unwrap();
        assert_eq!(
            (n.digits.as_str(), n.name.as_str(), n.up),
            ("0001", "Initial_Schema", true)
        );
        let n = parse_name("V0012.OAuth2_Consent.down.sql").unwrap();
        assert!(!n.up);
        assert!(parse_name("V1__init.sql").is_none());
        assert!(parse_name("V0001.a.b.c.up.sql").is_none());
        assert!(parse_name("0001.a.up.sql").is_none());
    }
}
