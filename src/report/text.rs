//! Plain-text pieces shared by the human formats (table, markdown, rule pages): counts with
//! plurals, human sizes and durations, the one-line facts summary, status labels, wrapping
//! and truncation. Everything here is pure and works on any input without panicking.

use crate::model::{
    ExpectStatus, Facts, OwnerSource, Rollback, RollbackSource, RollbackStatus, Summary,
};

/// `1 error`, `2 errors`; `info` has no plural.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("{n} {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// `2 errors, 1 warning, 3 info`: always all three, so the line has the same shape every run
/// and a reader (or a grep in CI) finds each count in the same place.
pub fn severity_counts(summary: &Summary) -> String {
    format!(
        "{}, {}, {} info",
        count(summary.error, "error", "errors"),
        count(summary.warning, "warning", "warnings"),
        summary.info
    )
}

/// `1,200,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Sizes the way `pg_size_pretty` spells them (1024-based `kB`, `MB`, `GB`, `TB`), with one
/// decimal below 10 so that `5.4 GB` and `700 MB` both read naturally.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n.unsigned_abs() < 1024 {
        return if n == 1 {
            "1 byte".to_string()
        } else {
            format!("{n} bytes")
        };
    }
    let mut value = n as f64;
    let mut unit = "bytes";
    for u in UNITS {
        if value.abs() < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.abs() < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// `540 ms`, `5.4 s`, `3 min 20 s`, `1 h 5 min`.
pub fn duration_ms(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        let s = ms / 1000;
        format!("{} min {} s", s / 60, s % 60)
    } else {
        let min = ms / 60_000;
        format!("{} h {} min", min / 60, min % 60)
    }
}

/// The measured or estimated facts of a finding as short phrases, strongest first:
/// `lock AccessExclusiveLock (blocks reads and writes)`, `1,200,000 rows`, `700 MB`, …
/// The plan is left out: it is multi-line and each format places it differently.
pub fn facts(facts: &Facts) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(lock) = &facts.lock {
        match facts.blocks.as_deref().filter(|b| !b.is_empty()) {
            Some(blocks) => parts.push(format!("lock {lock} (blocks {blocks})")),
            None => parts.push(format!("lock {lock}")),
        }
    }
    if let Some(ms) = facts.lock_held_ms {
        parts.push(format!("held {}", duration_ms(ms)));
    }
    if let Some(ms) = facts.duration_ms {
        parts.push(format!("ran {}", duration_ms(ms)));
    }
    if let Some(rows) = facts.rows {
        let noun = if rows == 1 { "row" } else { "rows" };
        parts.push(format!("{} {noun}", thousands(rows)));
    }
    if let Some(n) = facts.bytes {
        parts.push(bytes(n));
    }
    if let Some(scans) = facts.index_scans {
        let noun = if scans == 1 {
            "index scan"
        } else {
            "index scans"
        };
        parts.push(format!("{} {noun}", thousands(scans)));
    }
    parts
}

pub fn expect_status(status: ExpectStatus) -> &'static str {
    match status {
        ExpectStatus::Met => "met",
        ExpectStatus::NotMet => "not met",
        ExpectStatus::NotChecked => "not checked",
    }
}

pub fn rollback_status(status: RollbackStatus) -> &'static str {
    match status {
        RollbackStatus::Restores => "restores",
        RollbackStatus::Differs => "differs",
        RollbackStatus::NotChecked => "not checked",
    }
}

pub fn rollback_source(source: RollbackSource) -> &'static str {
    match source {
        RollbackSource::Annotation => "annotation",
        RollbackSource::DownFile => "down file",
        RollbackSource::None => "none",
    }
}

pub fn owner_source(source: OwnerSource) -> &'static str {
    match source {
        OwnerSource::Annotation => "annotation",
        OwnerSource::Codeowners => "CODEOWNERS",
        OwnerSource::Config => "config",
        OwnerSource::None => "none",
    }
}

/// What a reader needs to know about a rollback note in one word or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackState {
    /// `irreversible` was written: an explicit, allowed answer.
    Irreversible,
    /// No note and no down file.
    Missing,
    Present(RollbackStatus),
}

pub fn rollback_state(rollback: &Rollback) -> RollbackState {
    if rollback.irreversible {
        RollbackState::Irreversible
    } else if rollback.source == RollbackSource::None && rollback.text.trim().is_empty() {
        RollbackState::Missing
    } else {
        RollbackState::Present(rollback.status)
    }
}

/// What a migration without owner is called (PRODUCT.md §2).
pub const UNOWNED: &str = "unowned";

/// The first non-blank line of `text`, cut to `max` characters; `…` marks anything left out
/// (later lines or the rest of the line).
pub fn first_line(text: &str, max: usize) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let more = lines.next().is_some();
    let cut = truncate(first, max);
    if more && !cut.ends_with('…') {
        format!("{cut} …")
    } else {
        cut
    }
}

/// `text` cut to at most `max` characters (counting the `…` that marks the cut).
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Word-wraps `text` to `width` columns, each line prefixed with `indent`. Existing line
/// breaks are kept; a word longer than the line stays whole rather than being split, since
/// splitting an identifier or a URL makes it unusable.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let avail = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split_whitespace() {
            let wlen = word.chars().count();
            if len > 0 && len + 1 + wlen > avail {
                out.push_str(indent);
                out.push_str(&line);
                out.push('\n');
                line.clear();
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += wlen;
        }
        if !line.is_empty() {
            out.push_str(indent);
            out.push_str(&line);
        }
        out.push('\n');
    }
    out
}

/// Rule texts are written as one paragraph across source lines (`\` continuations collapse
/// the spaces only partly); this joins runs of whitespace into single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_like_postgres() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(734_003_200), "700 MB");
        assert_eq!(bytes(5_798_205_850), "5.4 GB");
        assert_eq!(bytes(i64::MAX), "8192 PB");
        assert_eq!(bytes(i64::MIN), "-8192 PB");
        assert_eq!(duration_ms(540), "540 ms");
        assert_eq!(duration_ms(5_410), "5.4 s");
        assert_eq!(duration_ms(200_000), "3 min 20 s");
        assert_eq!(duration_ms(3_900_000), "1 h 5 min");
        assert!(!duration_ms(u64::MAX).is_empty());
        assert_eq!(thousands(1_200_000), "1,200,000");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn facts_list_lock_first_and_skip_unknowns() {
        let f = Facts {
            rows: Some(1),
            lock: Some("ShareLock".into()),
            blocks: Some("writes".into()),
            ..Facts::default()
        };
        assert_eq!(facts(&f), ["lock ShareLock (blocks writes)", "1 row"]);
        assert!(facts(&Facts::default()).is_empty());
    }

    #[test]
    fn wrapping_keeps_words_whole_and_lines_short() {
        let text = "a plain index build holds a SHARE lock on the table for the whole build";
        let wrapped = wrap(text, 30, "  ");
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 30),
            "{wrapped}"
        );
        assert_eq!(one_line(&wrapped), text);
        assert_eq!(wrap("", 30, "  "), "");
    }

    #[test]
    fn truncation_marks_what_was_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(
            first_line("\n  DROP INDEX a;\nDROP INDEX b;", 40),
            "DROP INDEX a; …"
        );
        assert_eq!(first_line("", 40), "");
        assert_eq!(truncate("ééééé", 0), "…");
    }
}
