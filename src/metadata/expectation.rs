//! The checkable forms of `-- expect:` (PRODUCT.md §2): rows touched, run and lock duration,
//! "fails"/"succeeds", and whether a query's plan uses an index or a sequential scan.
//!
//! Parsing is separate from checking so that the execution stage can verify an
//! `Expectation` on a disposable copy; anything `parse` does not recognise is free text,
//! shown as written and never checked.

use std::fmt;
use std::time::Duration;

/// A comparison between a measured value and the declared limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Comparison {
    /// Whether `actual <op> limit` holds.
    pub fn holds<T: PartialOrd>(self, actual: T, limit: T) -> bool {
        match self {
            Comparison::Lt => actual < limit,
            Comparison::Le => actual <= limit,
            Comparison::Eq => actual == limit,
            Comparison::Ge => actual >= limit,
            Comparison::Gt => actual > limit,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Eq => "=",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
        }
    }
}

/// What a plan expectation looks for in `EXPLAIN` output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlanTarget {
    /// An index, by name as written.
    Index(String),
    /// A `Seq Scan` node anywhere in the plan.
    SeqScan,
}

/// One checkable expected result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expectation {
    /// `rows <= 50000`: rows inserted, updated or deleted by the migration.
    Rows { op: Comparison, count: u64 },
    /// `duration <= 30s`: wall-clock run time of the migration.
    Duration { op: Comparison, limit: Duration },
    /// `lock <= 2s`: the longest time a lock that blocks other sessions was held.
    Lock { op: Comparison, limit: Duration },
    /// `fails`: the migration is expected to fail (e.g. a guard against bad data).
    Fails,
    /// `succeeds`: the migration is expected to run to completion.
    Succeeds,
    /// `plan "<query>" uses index <name>`, `... no seq scan`, `... uses seq scan`,
    /// `... does not use index <name>`: the query's plan after the migration.
    Plan {
        query: String,
        uses: bool,
        target: PlanTarget,
    },
}

impl Expectation {
    /// Same as [`parse`].
    pub fn parse(text: &str) -> Option<Expectation> {
        parse(text)
    }
}

/// Recognises a checkable expectation; `None` means free text.
pub fn parse(text: &str) -> Option<Expectation> {
    let text = text.trim().trim_end_matches('.').trim_end();
    let lower = text.to_lowercase();
    match words(&lower).as_slice() {
        ["fails"] | ["fail"] | ["should", "fail"] => return Some(Expectation::Fails),
        ["succeeds"] | ["succeed"] | ["should", "succeed"] => return Some(Expectation::Succeeds),
        _ => {}
    }
    if let Some(rest) = strip_keyword(text, "plan") {
        return parse_plan(rest);
    }
    parse_comparison(text)
}

/// `<subject> <op> <value>` for rows, duration and lock.
fn parse_comparison(text: &str) -> Option<Expectation> {
    let (at, op, len) = find_operator(text)?;
    let subject = text[..at].to_lowercase().replace(['_', '-'], " ");
    let value = text[at + len..].trim();
    match words(&subject).as_slice() {
        ["rows"]
        | ["rows", "affected" | "touched" | "changed" | "updated" | "deleted" | "inserted"] => {
            Some(Expectation::Rows {
                op,
                count: parse_count(value)?,
            })
        }
        ["duration"] | ["runtime"] | ["run", "time"] => Some(Expectation::Duration {
            op,
            limit: parse_duration(value)?,
        }),
        ["lock"] | ["lock", "held" | "time" | "duration"] | ["locks"] => Some(Expectation::Lock {
            op,
            limit: parse_duration(value)?,
        }),
        _ => None,
    }
}

/// The first comparison operator: (byte offset, operator, its length in bytes).
fn find_operator(text: &str) -> Option<(usize, Comparison, usize)> {
    let (at, c) = text.char_indices().find(|(_, c)| "<>=≤≥".contains(*c))?;
    let next = text[at + c.len_utf8()..].chars().next();
    let (op, len) = match (c, next) {
        ('<', Some('=')) => (Comparison::Le, 2),
        ('>', Some('=')) => (Comparison::Ge, 2),
        ('=', Some('=')) => (Comparison::Eq, 2),
        ('<', _) => (Comparison::Lt, 1),
        ('>', _) => (Comparison::Gt, 1),
        ('=', _) => (Comparison::Eq, 1),
        ('≤', _) => (Comparison::Le, c.len_utf8()),
        ('≥', _) => (Comparison::Ge, c.len_utf8()),
        _ => return None,
    };
    Some((at, op, len))
}

/// `50000`, `50_000`, `50,000`, `10k`, `1.5M`.
fn parse_count(value: &str) -> Option<u64> {
    let value: String = value.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let (number, factor) = match value.chars().last()? {
        'k' | 'K' => (&value[..value.len() - 1], 1_000.0),
        'm' | 'M' => (&value[..value.len() - 1], 1_000_000.0),
        _ => (value.as_str(), 1.0),
    };
    let number = number.trim();
    if let Ok(n) = number.parse::<u64>() {
        // Exact for plain integers, which a float would round above 2^53.
        return n.checked_mul(factor as u64);
    }
    let n = decimal(number)? * factor;
    (n.fract() == 0.0 && n <= u64::MAX as f64).then_some(n as u64)
}

/// `30s`, `2 s`, `500ms`, `1.5 minutes`, `1h`. A number without a unit is not accepted:
/// guessing seconds or milliseconds would check the wrong thing.
fn parse_duration(value: &str) -> Option<Duration> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(value.len());
    let number = decimal(&value[..split].replace('_', ""))?;
    let unit = value[split..].trim().to_lowercase();
    let micros_per_unit = match unit.as_str() {
        "us" | "µs" | "microsecond" | "microseconds" => 1.0,
        "ms" | "msec" | "millisecond" | "milliseconds" => 1e3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e6,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e6,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600e6,
        _ => return None,
    };
    let micros = (number * micros_per_unit).round();
    // A bound far beyond any migration keeps the conversion exact and panic-free.
    (micros < 1e15).then(|| Duration::from_micros(micros as u64))
}

/// A non-negative decimal written with digits and at most one dot.
fn decimal(text: &str) -> Option<f64> {
    let valid = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|&c| c == '.').count() <= 1
        && text.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `"<query>" <assertion>` after the `plan` keyword.
fn parse_plan(rest: &str) -> Option<Expectation> {
    let rest = rest.trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &rest[quote.len_utf8()..];
    // Quotes may also appear inside the query (quoted identifiers) and around the index
    // name, so try each quote from the last one back until the rest reads as an assertion.
    body.match_indices(quote)
        .map(|(at, _)| at)
        .rev()
        .find_map(|close| {
            let query = body[..close].trim();
            let (uses, target) = plan_assertion(&body[close + quote.len_utf8()..])?;
            (!query.is_empty()).then(|| Expectation::Plan {
                query: query.to_string(),
                uses,
                target,
            })
        })
}

/// `uses index x`, `does not use index x`, `uses seq scan`, `no seq scan`, ...
fn plan_assertion(tail: &str) -> Option<(bool, PlanTarget)> {
    let original: Vec<&str> = tail.split_whitespace().collect();
    let lower: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let (uses, rest_at) = match lower.as_slice() {
        ["uses" | "use", "no", ..] => (false, 2),
        ["uses" | "use", ..] => (true, 1),
        ["does", "not", "use" | "uses", ..] => (false, 3),
        ["doesn't" | "doesnt", "use" | "uses", ..] => (false, 2),
        ["no" | "without", ..] => (false, 1),
        _ => return None,
    };
    let target = match &lower[rest_at..] {
        ["index", _] | ["an", "index", _] => {
            let name = original.last()?.trim_end_matches([',', '.', ';']);
            PlanTarget::Index(name.to_string())
        }
        ["seq", "scan"]
        | ["seqscan"]
        | ["sequential", "scan"]
        | ["a", "seq", "scan"]
        | ["a", "sequential", "scan"]
        | ["seq", "scans"]
        | ["sequential", "scans"] => PlanTarget::SeqScan,
        _ => return None,
    };
    Some((uses, target))
}

/// `keyword` followed by whitespace or a quote, case-insensitive; returns the rest.
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = &text[keyword.len()..];
    rest.starts_with(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ':'))
        .then(|| rest.trim_start_matches(':'))
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Durations as people write them: `2s`, `1.5s`, `250ms`.
fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros.is_multiple_of(1_000_000) {
        format!("{}s", micros / 1_000_000)
    } else if micros.is_multiple_of(1_000) {
        format!("{}ms", micros / 1_000)
    } else {
        format!("{micros}us")
    }
}

/// The canonical spelling, which `parse` reads back to the same value.
impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expectation::Rows { op, count } => write!(f, "rows {op} {count}"),
            Expectation::Duration { op, limit } => {
                write!(f, "duration {op} {}", format_duration(*limit))
            }
            Expectation::Lock { op, limit } => write!(f, "lock {op} {}", format_duration(*limit)),
            Expectation::Fails => f.write_str("fails"),
            Expectation::Succeeds => f.write_str("succeeds"),
            Expectation::Plan {
                query,
                uses,
                target,
            } => {
                write!(f, "plan \"{query}\" ")?;
                match (uses, target) {
                    (true, PlanTarget::Index(name)) => write!(f, "uses index {name}"),
                    (false, PlanTarget::Index(name)) => write!(f, "does not use index {name}"),
                    (true, PlanTarget::SeqScan) => f.write_str("uses seq scan"),
                    (false, PlanTarget::SeqScan) => f.write_str("no seq scan"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn reads_row_limits() {
        assert_eq!(
            parse("rows <= 50000"),
            Some(Expectation::Rows {
                op: Comparison::Le,
                count: 50_000
            })
        );
        assert_eq!(
            parse("  ROWS<10k "),
            Some(Expectation::Rows {
                op: Comparison::Lt,
                count: 10_000
            })
        );
        assert_eq!(
            parse("rows affected <= 1,000,000"),
            Some(Expectation::Rows {
                op: Comparison::Le,
                count: 1_000_000
            })
        );
        assert_eq!(
            parse("rows = 0"),
            Some(Expectation::Rows {
                op: Comparison::Eq,
                count: 0
            })
        );
        assert_eq!(
            parse("rows <= 1.5M"),
            Some(Expectation::Rows {
                op: Comparison::Le,
                count: 1_500_000
            })
        );
    }

    #[test]
    fn reads_durations_and_lock_times() {
        assert_eq!(
            parse("duration <= 30s"),
            Some(Expectation::Duration {
                op: Comparison::Le,
                limit: secs(30)
            })
        );
        assert_eq!(
            parse("lock <= 2s"),
            Some(Expectation::Lock {
                op: Comparison::Le,
                limit: secs(2)
            })
        );
        assert_eq!(
            parse("lock held < 500 ms"),
            Some(Expectation::Lock {
                op: Comparison::Lt,
                limit: Duration::from_millis(500)
            })
        );
        assert_eq!(
            parse("Duration <= 1.5 minutes"),
            Some(Expectation::Duration {
                op: Comparison::Le,
                limit: secs(90)
            })
        );
    }

    #[test]
    fn reads_outcomes() {
        assert_eq!(parse("fails"), Some(Expectation::Fails));
        assert_eq!(parse("Succeeds."), Some(Expectation::Succeeds));
    }

    #[test]
    fn reads_plan_expectations() {
        assert_eq!(
            parse(
                r#"plan "SELECT * FROM orders WHERE customer_id = 42" uses index orders_customer_id_idx"#
            ),
            Some(Expectation::Plan {
                query: "SELECT * FROM orders WHERE customer_id = 42".into(),
                uses: true,
                target: PlanTarget::Index("orders_customer_id_idx".into()),
            })
        );
        assert_eq!(
            parse(r#"plan "SELECT * FROM orders WHERE status = 'pending'" no seq scan"#),
            Some(Expectation::Plan {
                query: "SELECT * FROM orders WHERE status = 'pending'".into(),
                uses: false,
                target: PlanTarget::SeqScan,
            })
        );
        assert_eq!(
            parse(r#"PLAN "select 1 from t" Uses Seq Scan"#),
            Some(Expectation::Plan {
                query: "select 1 from t".into(),
                uses: true,
                target: PlanTarget::SeqScan,
            })
        );
        assert_eq!(
            parse(
                r#"plan "SELECT * FROM "Orders" WHERE id = 1" does not use index "Orders_old_idx""#
            ),
            Some(Expectation::Plan {
                query: r#"SELECT * FROM "Orders" WHERE id = 1"#.into(),
                uses: false,
                target: PlanTarget::Index(r#""Orders_old_idx""#.into()),
            })
        );
    }

    #[test]
    fn free_text_and_near_misses_are_not_checkable() {
        for text in [
            "orders lookups by customer use orders_customer_id_idx",
            "every existing order reads status 'delivered'",
            "duration <= 30",
            "duration <= soon",
            "rows <= many",
            "rows <= -5",
            "rows <= 1.5",
            "lock <= NaNs",
            "plan uses index x",
            r#"plan "" uses index x"#,
            r#"plan "select 1" uses index"#,
            r#"plan "select 1" is fast"#,
            "planning is done",
            "fails sometimes",
            "",
            "<=",
        ] {
            assert_eq!(parse(text), None, "{text:?} should be free text");
        }
    }

    #[test]
    fn canonical_text_reads_back() {
        for text in [
            "rows <= 50000",
            "rows > 3",
            "duration <= 30s",
            "lock < 250ms",
            "fails",
            "succeeds",
            r#"plan "SELECT 1 FROM t WHERE a = 'x'" uses index t_a_idx"#,
            r#"plan "SELECT 1 FROM t" does not use index t_old_idx"#,
            r#"plan "SELECT 1 FROM t" uses seq scan"#,
            r#"plan "SELECT 1 FROM t" no seq scan"#,
        ] {
            let e = parse(text).unwrap_or_else(|| panic!("{text} parses"));
            assert_eq!(e.to_string(), text);
            assert_eq!(parse(&e.to_string()), Some(e));
        }
    }

    #[test]
    fn comparisons_hold_as_written() {
        assert!(Comparison::Le.holds(5, 5));
        assert!(!Comparison::Lt.holds(5, 5));
        assert!(Comparison::Gt.holds(secs(3), secs(2)));
    }
}
