//! Flyway: `V<version>__<description>.sql` versioned migrations, `U<version>__…` undo scripts
//! (the down part of the `V` with the same version), `R__<description>.sql` repeatables.
//!
//! Versions are dot- or underscore-separated integers compared part by part (`1.9` < `1.10`,
//! `1.0` = `1`), stored as Flyway records them in `flyway_schema_history` (`1_1` → `1.1`, no
//! `V`). Repeatables run after every versioned migration, ordered by description. A script runs
//! in a transaction unless its sibling `<script>.conf` or an inline
//! `-- flyway:executeInTransaction=false` among its leading comments turns that off.
//! Flyway scans its locations recursively, and so do we once a folder is Flyway. Baseline
//! (`B…`) scripts and other prefixes are ignored.

use super::source::{Entry, Loaded, Reader};
use super::{attach_down, duplicate_note_by, file_migration, stem, text};
use crate::model::{Layout, Migration};
use anyhow::Result;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Versioned,
    Undo,
    Repeatable,
}

#[derive(Debug, Clone)]
pub(super) struct Name {
    pub kind: Kind,
    /// Parts without leading zeros; trailing zero parts dropped for comparison.
    pub parts: Vec<String>,
    pub version: Option<String>,
    pub description: String,
}

/// Parses a Flyway script name.
pub(super) fn parse_name(file_name: &str) -> Option<Name> {
    let stem = file_name.strip_suffix(".sql")?;
    let (prefix, rest) = stem.split_at_checked(1)?;
    let kind = match prefix {
        "V" => Kind::Versioned,
        "U" => Kind::Undo,
        "R" => Kind::Repeatable,
        _ => return None,
    };
    let (version, description) = rest.split_once("__")?;
    if kind == Kind::Repeatable {
        return version.is_empty().then(|| Name {
            kind,
            parts: Vec::new(),
            version: None,
            description: description.to_string(),
        });
    }
    let parts: Vec<String> = version
        .split(['.', '_'])
        .map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| super::text::strip_zeros(p))
        })
        .collect::<Option<_>>()?;
    let shown = parts.join(".");
    let mut key = parts;
    while key.len() > 1 && key.last().is_some_and(|p| p == "0") {
        key.pop();
    }
    Some(Name {
        kind,
        parts: key,
        version: Some(shown),
        description: description.to_string(),
    })
}

/// Whether a file name is a Flyway versioned or repeatable script (what detection counts).
pub(super) fn is_script(file_name: &str) -> bool {
    parse_name(file_name).is_some_and(|n| n.kind != Kind::Undo)
}

fn cmp_parts(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = super::text::cmp_digits(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Whether a `key=value` setting (properties syntax) turns `executeInTransaction` off.
fn turns_transaction_off(setting: &str) -> bool {
    setting.split_once(['=', ':']).is_some_and(|(k, v)| {
        k.trim() == "executeInTransaction" && v.trim().eq_ignore_ascii_case("false")
    })
}

/// Flyway's inline script configuration: `-- flyway:executeInTransaction=false` among the
/// script's leading comments.
fn inline_off(text: &str) -> bool {
    let header = text::comment_block(text, 0);
    text.get(header).unwrap_or("").lines().any(|line| {
        line.trim()
            .strip_prefix("--")
            .and_then(|rest| rest.trim().strip_prefix("flyway:"))
            .is_some_and(turns_transaction_off)
    })
}

/// Whether Flyway wraps `script` in a transaction: not when its inline configuration or its
/// `.conf` sibling (a Java properties file) sets `executeInTransaction=false`.
fn transactional(script: &Loaded, path: &Path, reader: &mut Reader) -> Result<bool> {
    if inline_off(&script.file.text) {
        return Ok(false);
    }
    let mut conf = path.as_os_str().to_os_string();
    conf.push(".conf");
    let conf = PathBuf::from(conf);
    if !conf.is_file() {
        return Ok(true);
    }
    let loaded = reader.read(&conf, &format!("{}.conf", script.file.display))?;
    let off = loaded.file.text.lines().any(|line| {
        let line = line.trim();
        !(line.starts_with('#') || line.starts_with('!')) && turns_transaction_off(line)
    });
    Ok(!off)
}

/// Every Flyway migration under a folder (recursively): versioned by version, then repeatables.
pub(super) fn build(entries: &[Entry], reader: &mut Reader) -> Result<Vec<Migration>> {
    let mut scripts: Vec<(&Entry, Name)> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| parse_name(&e.name).map(|n| (e, n)))
        .collect();
    scripts.sort_by(|a, b| {
        cmp_parts(&a.1.parts, &b.1.parts)
            .then_with(|| a.1.description.cmp(&b.1.description))
            .then_with(|| a.0.display.cmp(&b.0.display))
    });
    let mut out = Vec::new();
    for (entry, name) in scripts.iter().filter(|(_, n)| n.kind == Kind::Versioned) {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let tx = transactional(&loaded, &entry.path, reader)?;
        let mut m = file_migration(
            Layout::Flyway,
            &loaded,
            name.version.clone(),
            name.description.clone(),
            tx,
        );
        let undo = scripts
            .iter()
            .find(|(_, u)| u.kind == Kind::Undo && u.parts == name.parts);
        if let Some((undo, _)) = undo {
            let loaded = reader.read(&undo.path, &undo.display)?;
            let tx = transactional(&loaded, &undo.path, reader)?;
            attach_down(&mut m, &loaded, tx);
        }
        out.push(m);
    }
    duplicate_note_by(&mut out, "Flyway", |v| {
        let mut key = v;
        while let Some(shorter) = key.strip_suffix(".0") {
            key = shorter;
        }
        key.to_string()
    });
    for (entry, name) in scripts.iter().filter(|(_, n)| n.kind == Kind::Repeatable) {
        let loaded = reader.read(&entry.path, &entry.display)?;
        let tx = transactional(&loaded, &entry.path, reader)?;
        let mut m = file_migration(Layout::Flyway, &loaded, None, name.description.clone(), tx);
        m.repeatable = true;
        out.push(m);
    }
    Ok(out)
}

/// A lone Flyway script (stdin or `--layout flyway` on a file outside its folder).
pub(super) fn lone(loaded: &Loaded, file_name: Option<&str>) -> Migration {
    let parsed = file_name.and_then(parse_name);
    let name = parsed
        .as_ref()
        .map(|n| n.description.clone())
        .unwrap_or_else(|| stem(file_name));
    let mut m = file_migration(
        Layout::Flyway,
        loaded,
        parsed.as_ref().and_then(|n| n.version.clone()),
        name,
        !inline_off(&loaded.file.text),
    );
    m.repeatable = parsed.is_some_and(|n| n.kind == Kind::Repeatable);
    m
}

/// The display of the script a `.conf` file configures (`V1__a.sql.conf` → `V1__a.sql`).
pub(super) fn script_of_conf(display: &str) -> Option<String> {
    display
        .strip_suffix(".conf")
        .filter(|s| s.ends_with(".sql"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_part_by_part() {
        let v = |s: &str| parse_name(s).unwrap();
        assert_eq!(
            cmp_parts(&v("V1.9__a.sql").parts, &v("V1.10__b.sql").parts),
            Ordering::Less
        );
        assert_eq!(
            cmp_parts(&v("V1__a.sql").parts, &v("V1.0__b.sql").parts),
            Ordering::Equal
        );
        assert_eq!(
            cmp_parts(&v("V2_1__a.sql").parts, &v("V2.01__b.sql").parts),
            Ordering::Equal
        );
        assert_eq!(v("V2_01__a.sql").version.as_deref(), Some("2.1"));
    }

    #[test]
    fn inline_script_configuration() {
        assert!(inline_off("-- owner: @a\n-- flyway:executeInTransaction=false\nCREATE INDEX CONCURRENTLY i ON t (a);"));
        assert!(!inline_off(
            "CREATE INDEX i ON t (a);\n-- flyway:executeInTransaction=false\n"
        ));
        assert!(!inline_off("-- flyway:executeInTransaction=true\n"));
    }

    #[test]
    fn kinds() {
        assert_eq!(parse_name("R__views.sql").unwrap().kind, Kind::Repeatable);
        assert_eq!(parse_name("U3__drop.sql").unwrap().kind, Kind::Undo);
        assert!(parse_name("R1__views.sql").is_none());
        assert!(parse_name("V1_init.sql").is_none());
        assert!(parse_name("Vx__init.sql").is_none());
        assert!(parse_name("V__init.sql").is_none());
        assert!(parse_name("B1__baseline.sql").is_none());
    }
}
