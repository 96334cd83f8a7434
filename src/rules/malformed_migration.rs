//! `malformed-migration`: structural problems the loader found in a migration file
//! (`Migration::load_notes`), turned into findings by the review engine.

use super::{Check, Rule};
use crate::model::{Evidence, Severity};

pub const RULE: Rule = Rule {
    code: "M046",
    name: "malformed-migration",
    severity: Severity::Error,
    evidence: Evidence::Static,
    what: "Flags a migration file whose structure is broken: bytes that are not UTF-8, a goose \
           `-- +goose StatementBegin` without its `StatementEnd`, misplaced up/down markers, \
           and similar problems the loader finds before any SQL is read.",
    why: "The migration framework either rejects such a file at deploy time or splits it into \
          statements differently from how it reads, so the SQL that runs is not the SQL that \
          was reviewed, and every other check on the file rests on a guess.",
    instead: "Fix the file so the framework reads it as written: save it as UTF-8, close every \
              `StatementBegin` with `-- +goose StatementEnd`, keep up and down markers in \
              order. The message names the problem and its line.",
    rollback: "Not applicable: nothing has run yet; fix the file before it ships.",
    bad: include_str!("../../fixtures/rules/malformed-migration/bad.sql"),
    good: include_str!("../../fixtures/rules/malformed-migration/good.sql"),
    check: Check::Engine,
};
