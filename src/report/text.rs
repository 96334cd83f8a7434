//! Plain-text pieces shared by the human formats (table, markdown, rule pages): counts with
//! plurals, human sizes, row counts, durations and ages, the one-line facts summary, the
//! copy's identity, the grouping of skipped rules and migrations, status labels, execution
//! timelines and lock totals, wrapping and truncation. Everything here is pure (the current
//! time is passed in) and works on any input without panicking.

use crate::model::{
    CopyIdentity, Evidence, ExpectStatus, Facts, LockedTable, MigrationSummary, OwnerSource,
    Report, Rollback, RollbackSource, RollbackStatus, SkippedMigration, SkippedRule, Summary,
    TimelineEntry,
};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// A row count the way a reader sizes a table up: exact below 10,000 (`8,412 rows`), then
/// two significant figures (`12k rows`, `1.2M rows`, `3.4B rows`). Catalog row counts are
/// estimates anyway (`pg_class.reltuples`), so more digits would only pretend precision.
/// A negative count is PostgreSQL's "never vacuumed or analyzed" (`reltuples = -1`).
pub fn rows(n: i64) -> String {
    if n < 0 {
        return "rows unknown (never analyzed)".to_string();
    }
    if n == 1 {
        return "1 row".to_string();
    }
    if n < 10_000 {
        return format!("{} rows", thousands(n));
    }
    let (value, unit) = match n {
        ..=999_999 => (n as f64 / 1e3, "k"),
        1_000_000..=999_999_999 => (n as f64 / 1e6, "M"),
        _ => (n as f64 / 1e9, "B"),
    };
    format!("{} rows", short_number(value, unit))
}

/// `1.2M`, `12M`, `450k`: one decimal below 10 (dropped when it is `.0`), none above.
fn short_number(value: f64, unit: &str) -> String {
    // 999,999 rounds up to "1000k": say "1.0M" instead of a four-digit mantissa.
    let (value, unit) = if value >= 999.5 && unit != "B" {
        (value / 1000.0, if unit == "k" { "M" } else { "B" })
    } else {
        (value, unit)
    };
    let text = if value < 9.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    let text = text.strip_suffix(".0").unwrap_or(&text).to_string();
    format!("{text}{unit}")
}

/// The measured or estimated facts of a finding as short phrases, strongest first:
/// `lock AccessExclusiveLock (blocks reads and writes) held 29.5 s`, `ran 29.6 s`,
/// `1.2M rows, 700 MB`, …
/// The plan is left out: it is multi-line and each format places it differently.
pub fn facts(facts: &Facts) -> Vec<String> {
    let mut parts = Vec::new();
    // The measured hold time belongs to the lock it measures, so they read as one phrase.
    let held = facts
        .lock_held_ms
        .map(|ms| format!(" held {}", duration_ms(ms)));
    if let Some(lock) = &facts.lock {
        let held = held.unwrap_or_default();
        match facts.blocks.as_deref().filter(|b| !b.is_empty()) {
            Some(blocks) => parts.push(format!("lock {lock} (blocks {blocks}){held}")),
            None => parts.push(format!("lock {lock}{held}")),
        }
    } else if let Some(held) = held {
        parts.push(format!("lock{held}"));
    }
    if let Some(ms) = facts.duration_ms {
        parts.push(format!("ran {}", duration_ms(ms)));
    }
    // Rows and bytes describe one thing, the table's size, so they read as one phrase.
    match (facts.rows, facts.bytes) {
        (Some(r), Some(b)) => parts.push(format!("{}, {}", rows(r), bytes(b))),
        (Some(r), None) => parts.push(rows(r)),
        (None, Some(b)) => parts.push(bytes(b)),
        (None, None) => {}
    }
    match (facts.production_rows, facts.production_bytes) {
        (Some(r), Some(b)) => parts.push(format!("in production {}, {}", rows(r), bytes(b))),
        (Some(r), None) => parts.push(format!("in production {}", rows(r))),
        _ => {}
    }
    match (facts.predicted_duration_ms, facts.predicted_lock_held_ms) {
        (Some(d), Some(l)) => parts.push(format!(
            "predicted in production: runs ~{}, lock held ~{}",
            duration_ms(d),
            duration_ms(l)
        )),
        (Some(d), None) => parts.push(format!("predicted in production: runs ~{}", duration_ms(d))),
        (None, Some(l)) => parts.push(format!(
            "predicted in production: lock held ~{}",
            duration_ms(l)
        )),
        (None, None) => {}
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

/// The first line of a plan without its `(cost=… rows=… width=…)` estimates: the node and
/// the table (`Seq Scan on orders`) are what a reader scans for; the numbers are in the full
/// plan.
pub fn plan_headline(plan: &str, max: usize) -> String {
    let mut lines = plan.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let more = lines.next().is_some();
    let bare = match (first.find("(cost="), first.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let before = first.get(..open).unwrap_or("").trim_end();
            let after = first.get(close + 1..).unwrap_or("").trim_start();
            one_line(&format!("{before} {after}"))
        }
        _ => first.to_string(),
    };
    let cut = truncate(&bare, max);
    if more && !cut.ends_with('…') {
        format!("{cut} …")
    } else {
        cut
    }
}

/// The current time in seconds since the Unix epoch; `None` if the clock is before 1970.
pub fn now() -> Option<i64> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// Seconds since the Unix epoch of an ISO 8601 timestamp such as `2026-11-20T10:00:00Z`
/// (also with a space instead of `T`, fractional seconds, or a `+02:00` / `-05` offset; no
/// offset means UTC). `None` for anything else: the caller then shows the text without an age.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = t.get(range)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let sep = |i: usize, allowed: &[u8]| t.as_bytes().get(i).is_some_and(|b| allowed.contains(b));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = t.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = frac.get(digits..)?;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let body = rest.get(1..)?.replace(':', "");
            if !body.bytes().all(|b| b.is_ascii_digit()) || !matches!(body.len(), 2 | 4) {
                return None;
            }
            let hours: i64 = body.get(..2)?.parse().ok()?;
            let minutes: i64 = body
                .get(2..)
                .filter(|m| !m.is_empty())
                .map_or(Ok(0), str::parse)
                .ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `6 days ago`, `3 hours ago`, `12 minutes ago`, `less than a minute ago`; `None` when
/// `then` lies in the future by more than a few minutes (a skewed clock: better no age than
/// a wrong one).
pub fn age(then: i64, now: i64) -> Option<String> {
    let secs = now.checked_sub(then)?;
    if secs < -300 {
        return None;
    }
    let text = match secs {
        ..=59 => "less than a minute ago".to_string(),
        60..=3_599 => format!("{} ago", count((secs / 60) as usize, "minute", "minutes")),
        3_600..=172_799 => format!("{} ago", count((secs / 3_600) as usize, "hour", "hours")),
        _ => format!("{} ago", count((secs / 86_400) as usize, "day", "days")),
    };
    Some(text)
}

/// The copy a run looked at, in one phrase:
/// `shop on PostgreSQL 15.19, 1.2 GB, statistics analyzed 2026-11-20T10:00:00Z (6 days ago)`.
/// `now` (seconds since the epoch) gives the age; without it only the timestamp is shown.
pub fn copy_identity(copy: &CopyIdentity, now: Option<i64>) -> String {
    let version = copy.server_version.split_whitespace().next().map_or_else(
        || "PostgreSQL (version unknown)".to_string(),
        |v| format!("PostgreSQL {v}"),
    );
    let standby = if copy.in_recovery { " (standby)" } else { "" };
    let database = if copy.database.trim().is_empty() {
        "(unnamed database)".to_string()
    } else {
        one_line(&copy.database)
    };
    let statistics = match &copy.last_analyzed {
        None => "no ANALYZE time recorded".to_string(),
        Some(at) => {
            let at = one_line(at);
            let age = parse_timestamp(&at)
                .zip(now)
                .and_then(|(then, now)| age(then, now));
            match age {
                Some(age) => format!("statistics analyzed {at} ({age})"),
                None => format!("statistics analyzed {at}"),
            }
        }
    };
    format!(
        "{database} on {version}{standby}, {}, {statistics}",
        bytes(copy.database_bytes)
    )
}

/// What the reader should keep in mind about the copy's numbers: the engine's notes, and,
/// when no table was ever analyzed, that row counts are guesses (unless a note says so).
pub fn copy_caveats(copy: &CopyIdentity) -> Vec<String> {
    let mut caveats: Vec<String> = copy
        .notes
        .iter()
        .map(|n| one_line(n))
        .filter(|n| !n.is_empty())
        .collect();
    if copy.last_analyzed.is_none() && !caveats.iter().any(|n| n.contains("pg_class")) {
        caveats.insert(
            0,
            "row counts are estimates from pg_class and may be 0 for tables never analyzed; \
             run ANALYZE on the copy for real numbers"
                .to_string(),
        );
    }
    caveats
}

/// Rules skipped for the whole run that share one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipGroup<'a> {
    pub reason: &'a str,
    pub rules: Vec<&'a str>,
}

/// Run-wide skipped rules grouped by reason, in the order the reasons first appear: every
/// static run skips the same handful of catalog rules for the same reason, and one line per
/// reason keeps them from burying the findings.
pub fn skip_groups(skipped: &[SkippedRule]) -> Vec<SkipGroup<'_>> {
    let mut groups: Vec<SkipGroup> = Vec::new();
    for s in skipped.iter().filter(|s| s.file.is_none()) {
        match groups.iter_mut().find(|g| g.reason == s.reason) {
            Some(g) if g.rules.contains(&s.rule) => {}
            Some(g) => g.rules.push(s.rule),
            None => groups.push(SkipGroup {
                reason: &s.reason,
                rules: vec![s.rule],
            }),
        }
    }
    groups
}

/// `Skipped 6 rules that need --database-url`, `Skipped 1 rule that needs …`, or, for a
/// reason not phrased as `needs …`, `Skipped 2 rules (reason)`.
pub fn skip_group_head(group: &SkipGroup) -> String {
    let n = group.rules.len();
    let rules = count(n, "rule", "rules");
    let reason = one_line(group.reason);
    match reason.strip_prefix("needs ") {
        Some(what) if n == 1 => format!("Skipped {rules} that needs {what}"),
        Some(what) => format!("Skipped {rules} that need {what}"),
        None => format!("Skipped {rules} ({reason})"),
    }
}

/// Rules skipped for single statements, with their place.
pub fn statement_skips(skipped: &[SkippedRule]) -> Vec<&SkippedRule> {
    skipped.iter().filter(|s| s.file.is_some()).collect()
}

/// `migrations/0042.sql:7` (or just the file when the line is unknown).
pub fn skip_location(s: &SkippedRule) -> String {
    match (&s.file, s.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        (None, _) => String::new(),
    }
}

/// Migrations not reviewed for one reason, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSkipGroup<'a> {
    pub reason: &'a str,
    pub migrations: Vec<&'a SkippedMigration>,
}

pub fn migration_skip_groups(skipped: &[SkippedMigration]) -> Vec<MigrationSkipGroup<'_>> {
    let mut groups: Vec<MigrationSkipGroup> = Vec::new();
    for m in skipped {
        match groups.iter_mut().find(|g| g.reason == m.reason) {
            Some(g) => g.migrations.push(m),
            None => groups.push(MigrationSkipGroup {
                reason: &m.reason,
                migrations: vec![m],
            }),
        }
    }
    groups
}

/// `200 migrations not reviewed — already applied on the copy`. The reason is the engine's,
/// shown as written.
pub fn migration_skip_head(group: &MigrationSkipGroup) -> String {
    let n = count(group.migrations.len(), "migration", "migrations");
    let reason = one_line(group.reason);
    if reason.is_empty() {
        format!("{n} not reviewed")
    } else {
        format!("{n} not reviewed — {reason}")
    }
}

/// What brings a group of skipped migrations back into the review: leaving out
/// `--changed-since` for those it left out, `--all` for those the copy has applied; nothing
/// for files the loader does not review (another engine's, a down file without an up…), whose
/// reason says what to do.
pub fn migration_skip_hint(group: &MigrationSkipGroup) -> &'static str {
    let many = group.migrations.len() != 1;
    if !group.reason.starts_with(crate::changed::UNCHANGED_PREFIX)
        && !group.reason.contains("on the copy")
    {
        return "";
    }
    if group.reason.starts_with(crate::changed::UNCHANGED_PREFIX) {
        if many {
            "Run without --changed-since to review them."
        } else {
            "Run without --changed-since to review it."
        }
    } else {
        review_all_hint(group.migrations.len())
    }
}

/// `--all` reviews every migration whatever the reason it was skipped.
pub fn review_all_hint(n: usize) -> &'static str {
    if n == 1 {
        "Use --all to review it."
    } else {
        "Use --all to review them."
    }
}

/// The directory all `paths` share (`migrations/`), so that a list of them can name only the
/// files; empty when they share none.
pub fn common_dir<'a>(paths: &[&'a str]) -> &'a str {
    let Some(first) = paths.first() else {
        return "";
    };
    let mut len = first.len();
    for p in paths.iter().skip(1) {
        let shared = first
            .bytes()
            .zip(p.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        len = len.min(shared);
    }
    // `/` is ASCII, so its position is always a character boundary.
    let prefix = first.as_bytes().get(..len).unwrap_or_default();
    match prefix.iter().rposition(|&b| b == b'/') {
        Some(i) => first.get(..=i).unwrap_or(""),
        None => "",
    }
}

/// The first `head` and last `tail` items and how many lie between them, or all items when
/// that is no more than `head + tail + 1` (saying "1 more" takes as long as naming it).
pub fn ends<T>(items: &[T], head: usize, tail: usize) -> (&[T], usize, &[T]) {
    if items.len() <= head + tail + 1 {
        return (items, 0, &[]);
    }
    let first = items.get(..head).unwrap_or(items);
    let last = items.get(items.len() - tail..).unwrap_or(&[]);
    (first, items.len() - head - tail, last)
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

/// The first sentence of a rule text: up to the first `. ` (or `.` at the end) that is outside
/// parentheses and code spans and is followed by an upper-case letter, a `(` or nothing, so
/// `e.g. ` and `pg_class.reltuples` do not end it. The whole text when it is one sentence.
pub fn first_sentence(text: &str) -> String {
    let text = one_line(text);
    let chars: Vec<char> = text.chars().collect();
    let mut depth = 0usize;
    let mut in_code = false;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '`' => in_code = !in_code,
            '(' if !in_code => depth += 1,
            ')' if !in_code => depth = depth.saturating_sub(1),
            '.' if !in_code && depth == 0 => {
                let next = chars.get(i + 1).copied();
                let after = chars.get(i + 2).copied();
                let ends = match (next, after) {
                    (None, _) => true,
                    (Some(' '), Some(a)) => a.is_uppercase() || a == '(',
                    _ => false,
                };
                if ends {
                    return chars.get(..=i).unwrap_or(&chars).iter().collect();
                }
            }
            _ => {}
        }
    }
    text
}

/// The finding's *instead* when the rule wrote it with the statement's own names (issue #12),
/// which the human formats show with the finding itself; `None` for the rule's generic text,
/// which they show once per rule.
pub fn built_instead(f: &crate::model::Finding) -> Option<&str> {
    match &f.instead {
        std::borrow::Cow::Owned(text) => Some(text.as_str()),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// The *instead* to show once per rule among `findings`: the generic text of a finding that
/// has no built one; `None` when every finding of the rule shows its own (the generic example
/// would only repeat, with someone else's names, what each finding already says).
pub fn rule_instead<'a>(findings: &[&'a crate::model::Finding], code: &str) -> Option<&'a str> {
    findings
        .iter()
        .filter(|f| f.code == code)
        .find(|f| built_instead(f).is_none())
        .map(|f| &*f.instead)
}

/// Rule texts are written as one paragraph across source lines (`\` continuations collapse
/// the spaces only partly); this joins runs of whitespace into single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Said wherever measured durations are shown: a copy is not production (issue #5, item 3).
pub const INDICATIVE: &str = "Durations and lock times were measured on a copy: they are \
    indicative, since its hardware and concurrent load differ from production.";

/// Whether the report shows anything timed on the copy (timelines, lock totals, a finding's
/// measured lock or duration): only then is the `INDICATIVE` caveat due. Static and catalog
/// runs never have any.
pub fn has_measurements(report: &Report) -> bool {
    report.evidence == Evidence::Execution
        && (!report.locked.is_empty()
            || report.migrations.iter().any(|m| !m.timeline.is_empty())
            || report
                .findings
                .iter()
                .any(|f| f.facts.lock_held_ms.is_some() || f.facts.duration_ms.is_some()))
}

/// A lock mode as the SQL of `LOCK TABLE` and PostgreSQL's lock-conflict table spell it:
/// `AccessExclusiveLock` → `ACCESS EXCLUSIVE`. What readers look up in the docs ("13.3.1
/// Table-Level Locks") is the SQL name; anything not shaped like a `pg_locks` mode is shown
/// as given.
pub fn lock_mode_sql(mode: &str) -> String {
    let Some(stem) = mode.strip_suffix("Lock").filter(|s| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphabetic())
            && s.starts_with(|c: char| c.is_ascii_uppercase())
    }) else {
        return mode.to_string();
    };
    let mut out = String::with_capacity(stem.len() + 4);
    for (i, c) in stem.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `120,000 rows`, `1 row`: rows a statement affected are exact counts, not estimates, so
/// they are never rounded the way `rows` rounds catalog estimates.
pub fn exact_rows(n: u64) -> String {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    if n == 1 {
        "1 row".to_string()
    } else {
        format!("{} rows", thousands(n))
    }
}

/// Whether a timeline entry is folded into "N more statements under 1 ms": it took no
/// measurable time, took no lock others notice, and did not fail.
pub fn is_quick(t: &TimelineEntry) -> bool {
    t.duration_ms == 0 && t.lock.is_none() && !t.failed
}

/// `AccessExclusiveLock on public.orders held 1.6 s`, or `None` when the statement took no
/// lock others notice.
pub fn timeline_lock(t: &TimelineEntry) -> Option<String> {
    let lock = t.lock.as_deref()?;
    let mut s = match &t.table {
        Some(table) => format!("{lock} on {table}"),
        None => lock.to_string(),
    };
    if let Some(ms) = t.held_ms {
        s.push_str(&format!(" held {}", duration_ms(ms)));
    }
    Some(s)
}

/// One row of a timeline as the human formats show it: `head` is the aligned place and
/// duration (`L12   1.6 s`), `tail` what else was measured (`FAILED`, the lock, the rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow<'a> {
    pub head: String,
    pub tail: String,
    pub entry: &'a TimelineEntry,
}

impl TimelineRow<'_> {
    /// `L12   1.6 s  AccessExclusiveLock on orders held 1.6 s  120,000 rows`.
    pub fn line(&self) -> String {
        if self.tail.is_empty() {
            self.head.clone()
        } else {
            format!("{}  {}", self.head, self.tail)
        }
    }
}

/// A migration's timeline as aligned rows, without the statement text (each format places
/// that itself). Statements under 1 ms without a lock are left out: `quick_statements`
/// counts them, so that a migration of many quick statements stays readable.
pub fn timeline_rows(m: &MigrationSummary) -> Vec<TimelineRow<'_>> {
    let shown: Vec<&TimelineEntry> = m.timeline.iter().filter(|t| !is_quick(t)).collect();
    let labels: Vec<String> = shown.iter().map(|t| format!("L{}", t.line)).collect();
    let took: Vec<String> = shown.iter().map(|t| duration_ms(t.duration_ms)).collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let took_w = took.iter().map(|d| d.chars().count()).max().unwrap_or(0);
    shown
        .into_iter()
        .zip(labels.iter().zip(&took))
        .map(|(t, (label, took))| {
            let mut tail = Vec::new();
            if t.failed {
                tail.push("FAILED".to_string());
            }
            tail.extend(timeline_lock(t));
            tail.extend(t.rows.map(exact_rows));
            TimelineRow {
                head: format!("{label:<label_w$}  {took:>took_w$}"),
                tail: tail.join("  "),
                entry: t,
            }
        })
        .collect()
}

/// `3 more statements under 1 ms`, when some were folded out of `timeline_rows`.
pub fn quick_statements(m: &MigrationSummary) -> Option<String> {
    let quick = m.timeline.iter().filter(|t| is_quick(t)).count();
    (quick > 0).then(|| {
        format!(
            "{} under 1 ms",
            count(quick, "more statement", "more statements")
        )
    })
}

/// `12 statements, 31.2 s in all, 1 failed`: a timeline in one phrase, for where the
/// statements themselves do not fit.
pub fn timeline_summary(m: &MigrationSummary) -> String {
    let total = m
        .timeline
        .iter()
        .fold(0u64, |sum, t| sum.saturating_add(t.duration_ms));
    let mut s = format!(
        "{}, {} in all",
        count(m.timeline.len(), "statement", "statements"),
        duration_ms(total)
    );
    let failed = m.timeline.iter().filter(|t| t.failed).count();
    if failed > 0 {
        s.push_str(&format!(", {failed} failed"));
    }
    s
}

/// `public.orders ACCESS EXCLUSIVE (reads and writes) 29.5 s`.
pub fn locked_table(l: &LockedTable) -> String {
    let blocks = one_line(&l.blocks);
    let blocks = if blocks.is_empty() {
        String::new()
    } else {
        format!(" ({blocks})")
    };
    format!(
        "{} {}{blocks} {}",
        l.table,
        lock_mode_sql(&l.lock),
        duration_ms(l.held_ms)
    )
}

/// `orders ACCESS EXCLUSIVE (reads and writes) 29.5 s; customers SHARE (writes) 400 ms`.
pub fn locked_totals(locked: &[LockedTable]) -> String {
    locked
        .iter()
        .map(locked_table)
        .collect::<Vec<_>>()
        .join("; ")
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
    fn row_counts_are_compact_above_ten_thousand() {
        assert_eq!(rows(1), "1 row");
        assert_eq!(rows(0), "0 rows");
        assert_eq!(rows(9_999), "9,999 rows");
        assert_eq!(rows(12_345), "12k rows");
        assert_eq!(rows(450_000), "450k rows");
        assert_eq!(rows(999_999), "1M rows");
        assert_eq!(rows(1_200_000), "1.2M rows");
        assert_eq!(rows(80_000_000), "80M rows");
        assert_eq!(rows(3_400_000_000), "3.4B rows");
        assert!(rows(i64::MAX).ends_with("B rows"));
        assert_eq!(rows(-1), "rows unknown (never analyzed)");
    }

    #[test]
    fn timestamps_parse_with_offsets_and_fractions() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2026-11-20T10:00:00Z"), Some(1_795_168_800));
        assert_eq!(
            parse_timestamp("2026-11-20 12:00:00.123456+02:00"),
            Some(1_795_168_800)
        );
        assert_eq!(
            parse_timestamp("2026-11-20T05:00:00-05"),
            Some(1_795_168_800)
        );
        assert_eq!(parse_timestamp("2024-02-29T00:00:00"), Some(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-20",
            "2026-11-20T10:00:00Q",
            "２０２６-11-20T10:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages_read_naturally_and_skewed_clocks_say_nothing() {
        assert_eq!(age(0, 30).as_deref(), Some("less than a minute ago"));
        assert_eq!(age(0, 60).as_deref(), Some("1 minute ago"));
        assert_eq!(age(0, 7_200).as_deref(), Some("2 hours ago"));
        assert_eq!(age(0, 47 * 3_600).as_deref(), Some("47 hours ago"));
        assert_eq!(age(0, 6 * 86_400 + 7_200).as_deref(), Some("6 days ago"));
        assert_eq!(age(3_600, 0), None);
        assert_eq!(age(i64::MIN, i64::MAX), None);
    }

    fn copy() -> CopyIdentity {
        CopyIdentity {
            server_version: "15.19 (Debian 15.19-0+deb12u1)".into(),
            database: "shop".into(),
            database_bytes: 1_288_490_189,
            last_analyzed: Some("2026-11-20T10:00:00Z".into()),
            in_recovery: false,
            notes: vec![],
        }
    }

    #[test]
    fn copy_identity_names_version_size_and_freshness() {
        assert_eq!(
            copy_identity(&copy(), Some(1_795_694_400)),
            "shop on PostgreSQL 15.19, 1.2 GB, statistics analyzed 2026-11-20T10:00:00Z (6 days ago)"
        );
        assert_eq!(
            copy_identity(&copy(), None),
            "shop on PostgreSQL 15.19, 1.2 GB, statistics analyzed 2026-11-20T10:00:00Z"
        );
        let odd = CopyIdentity {
            server_version: String::new(),
            database: String::new(),
            last_analyzed: None,
            in_recovery: true,
            ..copy()
        };
        assert_eq!(
            copy_identity(&odd, Some(0)),
            "(unnamed database) on PostgreSQL (version unknown) (standby), 1.2 GB, no ANALYZE time recorded"
        );
        assert!(copy_caveats(&copy()).is_empty());
        assert!(copy_caveats(&odd)[0].starts_with("row counts are estimates from pg_class"));
        // The engine's own note about pg_class is not repeated.
        let noted = CopyIdentity {
            notes: vec!["row counts come from pg_class".into()],
            ..odd
        };
        assert_eq!(copy_caveats(&noted), ["row counts come from pg_class"]);
    }

    #[test]
    fn skipped_rules_group_by_reason_and_conjugate() {
        let skipped = vec![
            SkippedRule::everywhere("a", "needs --database-url"),
            SkippedRule::everywhere("b", "needs --database-url"),
            SkippedRule::everywhere("a", "needs --database-url"),
            SkippedRule::everywhere("c", "disabled in migsafe.toml"),
            SkippedRule {
                file: Some("m.sql".into()),
                line: Some(7),
                ..SkippedRule::everywhere("d", "table is new")
            },
        ];
        let groups = skip_groups(&skipped);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].rules, ["a", "b"]);
        assert_eq!(
            skip_group_head(&groups[0]),
            "Skipped 2 rules that need --database-url"
        );
        assert_eq!(
            skip_group_head(&groups[1]),
            "Skipped 1 rule (disabled in migsafe.toml)"
        );
        let one = SkipGroup {
            reason: "needs --clone",
            rules: vec!["x"],
        };
        assert_eq!(skip_group_head(&one), "Skipped 1 rule that needs --clone");
        let located = statement_skips(&skipped);
        assert_eq!(located.len(), 1);
        assert_eq!(skip_location(located[0]), "m.sql:7");
    }

    #[test]
    fn lists_name_their_ends_and_shared_folder() {
        let items: Vec<u32> = (1..=10).collect();
        assert_eq!(ends(&items, 2, 2), (&items[..2], 6, &items[8..]));
        assert_eq!(ends(&items[..5], 2, 2), (&items[..5], 0, &[][..]));
        assert_eq!(ends::<u32>(&[], 2, 2), (&[][..], 0, &[][..]));
        assert_eq!(
            common_dir(&["migrations/a.sql", "migrations/b.sql"]),
            "migrations/"
        );
        assert_eq!(common_dir(&["db/m/1/up.sql", "db/m/2/up.sql"]), "db/m/");
        assert_eq!(common_dir(&["a.sql", "b.sql"]), "");
        assert_eq!(common_dir(&["migrations/a.sql", "migrationsb.sql"]), "");
        assert_eq!(common_dir(&["é/a.sql", "é/b.sql"]), "é/");
        assert_eq!(common_dir(&[]), "");
    }

    #[test]
    fn plan_headline_drops_estimates() {
        assert_eq!(
            plan_headline(
                "Seq Scan on orders  (cost=0.00..22.70 rows=1270 width=36)\n  Filter: x",
                60
            ),
            "Seq Scan on orders …"
        );
        assert_eq!(plan_headline("Result", 60), "Result");
        assert_eq!(plan_headline("", 60), "");
        assert_eq!(plan_headline("Seq Scan (cost=", 60), "Seq Scan (cost=");
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
        let sized = Facts {
            rows: Some(1_200_000),
            bytes: Some(734_003_200),
            index_scans: Some(2_000_000),
            ..f
        };
        assert_eq!(
            facts(&sized),
            [
                "lock ShareLock (blocks writes)",
                "1.2M rows, 700 MB",
                "2,000,000 index scans"
            ]
        );
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
    fn first_sentences_skip_abbreviations_code_and_parentheses() {
        assert_eq!(
            first_sentence("A plain build locks (see docs. Really.) the table. It waits."),
            "A plain build locks (see docs. Really.) the table."
        );
        assert_eq!(
            first_sentence("Use `a. B` e.g. here. Then"),
            "Use `a. B` e.g. here."
        );
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(first_sentence(""), "");
        assert_eq!(first_sentence("No full stop"), "No full stop");
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
    fn entry(line: usize, ms: u64, lock: Option<&str>, rows: Option<u64>) -> TimelineEntry {
        TimelineEntry {
            line,
            statement: format!("statement at {line}"),
            duration_ms: ms,
            lock: lock.map(str::to_string),
            table: lock.map(|_| "public.orders".to_string()),
            held_ms: lock.map(|_| ms),
            rows,
            failed: false,
        }
    }

    #[test]
    fn timeline_rows_align_and_fold_quick_statements() {
        let mut m = crate::report::fixtures::sample().migrations.remove(0);
        m.timeline = vec![
            entry(3, 0, None, None),
            entry(12, 1_600, Some("AccessExclusiveLock"), Some(120_000)),
            entry(4, 0, None, None),
            TimelineEntry {
                failed: true,
                ..entry(100, 420, None, None)
            },
        ];
        let rows: Vec<String> = timeline_rows(&m).iter().map(TimelineRow::line).collect();
        assert_eq!(
            rows,
            [
                "L12    1.6 s  AccessExclusiveLock on public.orders held 1.6 s  120,000 rows",
                "L100  420 ms  FAILED",
            ]
        );
        assert_eq!(
            quick_statements(&m).as_deref(),
            Some("2 more statements under 1 ms")
        );
        assert_eq!(timeline_summary(&m), "4 statements, 2.0 s in all, 1 failed");
        m.timeline.clear();
        assert!(timeline_rows(&m).is_empty() && quick_statements(&m).is_none());
    }

    #[test]
    fn lock_totals_use_the_sql_names_of_lock_modes() {
        assert_eq!(lock_mode_sql("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(lock_mode_sql("ShareLock"), "SHARE");
        assert_eq!(
            lock_mode_sql("ShareRowExclusiveLock"),
            "SHARE ROW EXCLUSIVE"
        );
        for odd in ["", "Lock", "ACCESS EXCLUSIVE", "weird lock", "éLock"] {
            assert_eq!(lock_mode_sql(odd), odd);
        }
        let locked = [
            LockedTable {
                table: "orders".into(),
                lock: "AccessExclusiveLock".into(),
                blocks: "reads and writes".into(),
                held_ms: 29_500,
            },
            LockedTable {
                table: "customers".into(),
                lock: "ShareLock".into(),
                blocks: "writes".into(),
                held_ms: 400,
            },
        ];
        assert_eq!(
            locked_totals(&locked),
            "orders ACCESS EXCLUSIVE (reads and writes) 29.5 s; customers SHARE (writes) 400 ms"
        );
    }

    #[test]
    fn measured_hold_time_reads_with_its_lock() {
        let f = Facts {
            lock: Some("AccessExclusiveLock".into()),
            blocks: Some("reads and writes".into()),
            lock_held_ms: Some(29_500),
            duration_ms: Some(29_600),
            ..Facts::default()
        };
        assert_eq!(
            facts(&f),
            [
                "lock AccessExclusiveLock (blocks reads and writes) held 29.5 s",
                "ran 29.6 s"
            ]
        );
        let bare = Facts {
            lock_held_ms: Some(5),
            ..Facts::default()
        };
        assert_eq!(facts(&bare), ["lock held 5 ms"]);
    }
}
