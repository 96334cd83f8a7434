//! Version trees: a folder of one sub-folder per schema version, read version by version.
//!
//! - temporal / cadence (`schema/postgresql/v12/temporal/versioned/`): `v1.0/`, `v1.1/`, … each
//!   with a `manifest.json` whose `CurrVersion` is the version and whose `SchemaUpdateCqlFiles`
//!   lists the files to run, in order. The schema tool (`temporal-sql-tool update-schema`)
//!   splits each file into statements and executes them one by one without a transaction:
//!   [`Transaction::Statement`]. It records the version reached in `schema_version`.
//! - DolphinScheduler (`sql/upgrade/`): `3.1.0_schema/` folders with one sub-folder per engine
//!   (`postgresql/`, `mysql/`), each holding `dolphinscheduler_ddl.sql` / `_dml.sql`. Only the
//!   PostgreSQL folder is reviewed; its files run in name order under the version without
//!   `_schema`. Its upgrade tool is a statement runner whose transactions migsafe does not
//!   know: [`Transaction::Unknown`] (set it in `migsafe.toml`). It records the version reached in
//!   `t_ds_version`.
//! - Any other tree (synapse's `delta/<version>/`): each version folder is loaded as a folder
//!   of its own, in version order.
//!
//! Versions compare part by part as integers (`v1.9` < `v1.10`).

use super::dialect::{self, Engine};
use super::skipped::NotReviewed;
use super::source::{join_display, Entry, Reader};
use super::{file_migration, runs, LoadNote};
use crate::model::{Layout, Migration, Runner, Transaction};
use anyhow::Result;
use std::cmp::Ordering;

pub(super) const MANIFEST: &str = "manifest.json";

/// temporal's and cadence's schema tool sends each statement on its own;
/// DolphinScheduler's upgrade tool is not known to us.
pub(super) fn runner(layout: Layout) -> (Transaction, Runner) {
    if layout == Layout::Temporal {
        (
            Transaction::Statement,
            Runner::default_of("temporal/cadence schema tool: each statement on its own"),
        )
    } else {
        (
            Transaction::Unknown,
            Runner::default_of(
                "DolphinScheduler: its upgrade tool's runner is not known; declare it with \
                 [[runner]]",
            ),
        )
    }
}

/// Loads a version folder of no known tree kind as a folder of its own.
pub(super) type Nested<'a> =
    dyn FnMut(&Entry, &mut Reader) -> Result<(Vec<Migration>, Vec<NotReviewed>)> + 'a;

/// The version a sub-folder name stands for (`v1.10` → `1.10`, `3.1.0_schema` → `3.1.0`).
pub(super) fn version_of(dir_name: &str) -> Option<&str> {
    let v = dir_name.strip_suffix("_schema").unwrap_or(dir_name);
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let ok = !v.is_empty()
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(v)
}

/// Compares dotted versions part by part as integers.
pub(super) fn cmp_versions(a: &str, b: &str) -> Ordering {
    let mut pa = a.split('.');
    let mut pb = b.split('.');
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return Ordering::Equal,
            (Some(x), None) => {
                return if x.trim_matches('0').is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (None, Some(y)) => {
                return if y.trim_matches('0').is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Less
                }
            }
            (Some(x), Some(y)) => match super::text::cmp_digits(x, y) {
                Ordering::Equal => continue,
                o => return o,
            },
        }
    }
}

/// Whether a folder is a version tree: version sub-folders and no SQL file of its own that
/// looks like a migration.
pub(super) fn is_root(entries: &[Entry]) -> bool {
    let versions = entries
        .iter()
        .filter(|e| e.is_dir && version_of(&e.name).is_some())
        .count();
    let own_migrations = entries
        .iter()
        .filter(|e| e.is_file() && e.name.ends_with(".sql"))
        .filter(|e| e.name.starts_with(|c: char| c.is_ascii_digit() || c == 'V'))
        .count();
    versions > 0 && own_migrations == 0
}

/// What a tree's version folders hold, which decides the layout name of the whole tree.
pub(super) fn kind(entries: &[Entry], reader: &mut Reader) -> Option<Layout> {
    for dir in entries
        .iter()
        .filter(|e| e.is_dir && version_of(&e.name).is_some())
    {
        let Ok(inner) = reader.list(&dir.path, &dir.display) else {
            continue;
        };
        if inner
            .iter()
            .any(|e| e.is_file() && e.file_name() == MANIFEST)
        {
            return Some(Layout::Temporal);
        }
        if inner
            .iter()
            .any(|e| e.is_dir && Engine::from_word(&e.name).is_some())
        {
            return Some(Layout::Dolphinscheduler);
        }
    }
    None
}

/// The manifest's version and files, or why it cannot be used.
fn manifest(text: &str) -> Result<(String, String, Vec<String>), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("manifest.json is not valid JSON ({e})"))?;
    let version = value
        .get("CurrVersion")
        .and_then(serde_json::Value::as_str)
        .ok_or("manifest.json has no CurrVersion")?
        .to_string();
    let description = value
        .get("Description")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_string();
    let files = value
        .get("SchemaUpdateCqlFiles")
        .and_then(serde_json::Value::as_array)
        .ok_or("manifest.json has no SchemaUpdateCqlFiles list")?
        .iter()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    Ok((version, description, files))
}

/// One temporal version folder.
fn temporal_version(
    dir: &Entry,
    inner: &[Entry],
    reader: &mut Reader,
    out: &mut Vec<Migration>,
    skipped: &mut Vec<NotReviewed>,
) -> Result<()> {
    let Some(manifest_entry) = inner
        .iter()
        .find(|e| e.is_file() && e.file_name() == MANIFEST)
    else {
        skipped.push(NotReviewed::new(
            dir.display.clone(),
            "a version folder without manifest.json: the schema tool does not run it",
        ));
        return Ok(());
    };
    let loaded = reader.read(&manifest_entry.path, &manifest_entry.display)?;
    let (version, description, files) = match manifest(&loaded.file.text) {
        Ok(m) => m,
        Err(why) => {
            skipped.push(NotReviewed::new(
                manifest_entry.display.clone(),
                format!("{why}: the schema tool cannot run this version"),
            ));
            return Ok(());
        }
    };
    for file in &files {
        let Some(entry) = inner.iter().find(|e| e.file_name() == file && e.is_file()) else {
            skipped.push(NotReviewed {
                path: join_display(&dir.display, file),
                version: Some(version.clone()),
                reason: "listed in manifest.json but missing: the schema tool fails on it"
                    .to_string(),
            });
            continue;
        };
        let loaded = reader.read(&entry.path, &entry.display)?;
        let name = if description.is_empty() {
            file.trim_end_matches(".sql").to_string()
        } else {
            description.clone()
        };
        let mut m = file_migration(
            Layout::Temporal,
            &loaded,
            Some(version.clone()),
            name,
            false,
        );
        let (transaction, by) = runner(Layout::Temporal);
        runs(&mut m.up, transaction, by);
        out.push(m);
    }
    for entry in inner.iter().filter(|e| e.file_name() != MANIFEST) {
        if !files.iter().any(|f| f == entry.file_name()) && entry.is_file() {
            skipped.push(NotReviewed {
                path: entry.display.clone(),
                version: Some(version.clone()),
                reason: "not listed in manifest.json: the schema tool does not run it".to_string(),
            });
        }
    }
    Ok(())
}

/// One DolphinScheduler version folder (`3.1.0_schema/`).
fn engine_version(
    dir: &Entry,
    version: &str,
    inner: &[Entry],
    reader: &mut Reader,
    out: &mut Vec<Migration>,
    skipped: &mut Vec<NotReviewed>,
) -> Result<()> {
    for sub in inner.iter().filter(|e| e.is_dir) {
        let files = reader.list(&sub.path, &sub.display)?;
        let engine = Engine::from_word(&sub.name);
        for entry in files.iter().filter(|e| !e.is_dir) {
            if entry.special {
                skipped.push(NotReviewed::new(
                    entry.display.clone(),
                    super::skipped::SPECIAL_FILE,
                ));
                continue;
            }
            if !entry.name.ends_with(".sql") {
                continue;
            }
            match engine {
                Some(Engine::Postgres) => {
                    let loaded = reader.read(&entry.path, &entry.display)?;
                    let name = entry.name.trim_end_matches(".sql").to_string();
                    let mut m = file_migration(
                        Layout::Dolphinscheduler,
                        &loaded,
                        Some(version.to_string()),
                        name,
                        false,
                    );
                    let (transaction, by) = runner(Layout::Dolphinscheduler);
                    runs(&mut m.up, transaction, by);
                    out.push(m);
                }
                Some(other) => skipped.push(NotReviewed {
                    path: entry.display.clone(),
                    version: Some(version.to_string()),
                    reason: dialect::named_reason(other),
                }),
                None => skipped.push(NotReviewed {
                    path: entry.display.clone(),
                    version: Some(version.to_string()),
                    reason: format!(
                        "in {}, which names no engine: the upgrade tool reads only the \
                         engine folders",
                        sub.display
                    ),
                }),
            }
        }
    }
    let _ = dir;
    Ok(())
}

/// The migrations of a version tree in version order. `nested` loads a version folder of
/// another kind as a folder of its own.
pub(super) fn build(
    layout: Option<Layout>,
    entries: &[Entry],
    reader: &mut Reader,
    skipped: &mut Vec<NotReviewed>,
    nested: &mut Nested<'_>,
) -> Result<Vec<Migration>> {
    let mut dirs: Vec<(&Entry, &str)> = entries
        .iter()
        .filter(|e| e.is_dir)
        .filter_map(|e| version_of(&e.name).map(|v| (e, v)))
        .collect();
    dirs.sort_by(|a, b| cmp_versions(a.1, b.1).then_with(|| a.0.name.cmp(&b.0.name)));
    let mut out = Vec::new();
    for (dir, version) in dirs {
        let inner = reader.list(&dir.path, &dir.display)?;
        match layout {
            Some(Layout::Temporal) => temporal_version(dir, &inner, reader, &mut out, skipped)?,
            Some(Layout::Dolphinscheduler) => {
                engine_version(dir, version, &inner, reader, &mut out, skipped)?
            }
            _ => {
                let (ms, nr) = nested(dir, reader)?;
                out.extend(ms);
                skipped.extend(nr);
            }
        }
    }
    if layout == Some(Layout::Temporal) {
        // The tool refuses a manifest whose version is not above the previous one.
        let mut previous: Option<String> = None;
        for m in out.iter_mut() {
            let Some(v) = m.version.clone() else { continue };
            if let Some(p) = &previous {
                if cmp_versions(&v, p) == Ordering::Less {
                    m.load_notes.push(LoadNote {
                        offset: 0,
                        message: format!(
                            "CurrVersion {v} is below the previous folder's {p}: the schema \
                             tool applies versions in increasing order"
                        ),
                    });
                }
            }
            previous = Some(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_folder_names() {
        assert_eq!(version_of("v1.10"), Some("1.10"));
        assert_eq!(version_of("3.1.0_schema"), Some("3.1.0"));
        assert_eq!(version_of("85"), Some("85"));
        assert_eq!(version_of("v1.x"), None);
        assert_eq!(version_of("versioned"), None);
        assert_eq!(cmp_versions("1.9", "1.10"), Ordering::Less);
        assert_eq!(cmp_versions("1.0", "1"), Ordering::Equal);
        assert_eq!(cmp_versions("2", "1.10"), Ordering::Greater);
    }

    #[test]
    fn manifests() {
        let (v, d, f) = manifest(
            r#"{"CurrVersion": "1.1", "MinCompatibleVersion": "1.0", "Description": "add x", "SchemaUpdateCqlFiles": ["a.sql", "b.sql"]}"#,
        )
        .unwrap();
        assert_eq!((v.as_str(), d.as_str()), ("1.1", "add x"));
        assert_eq!(f, ["a.sql", "b.sql"]);
        assert!(manifest("{")
            .unwrap_err()
            .starts_with("manifest.json is not valid JSON"));
        assert_eq!(
            manifest("{}").unwrap_err(),
            "manifest.json has no CurrVersion"
        );
    }
}
