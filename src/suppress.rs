//! Inline suppressions: `-- migsafe:allow <rule>[, <rule>] reason: <text>` silences those
//! rules on the next statement (or the statement the comment sits in);
//! `-- migsafe:allow-file <rule> reason: <text>` silences them for the whole file.
//! A suppression without a reason does not suppress (it is reported instead), and one that
//! suppresses nothing is reported as `unused-suppression`.

use crate::model::{Comment, Position, Statement};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Index of the statement it applies to; `None` when no statement follows it.
    Statement(Option<usize>),
    File,
}

/// One rule named by one suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// The rule as written (name or code).
    pub rule: String,
    pub reason: Option<String>,
    pub scope: Scope,
    pub position: Position,
    /// The whole comment, for messages.
    pub comment: String,
}

const MARKER: &str = "migsafe:allow";

/// Reads every suppression in `comments`, attaching each to its statement.
pub fn collect(comments: &[Comment], statements: &[Statement]) -> Vec<Suppression> {
    let mut out = Vec::new();
    for comment in comments {
        let Some(at) = comment.text.find(MARKER) else {
            continue;
        };
        let rest = &comment.text[at + MARKER.len()..];
        let (file_scope, rest) = match rest.strip_prefix("-file") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        // `migsafe:allowed` or similar is not our marker.
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let (rules, reason) = match find_reason(rest) {
            Some(i) => {
                let reason = rest[i + "reason:".len()..].trim();
                (&rest[..i], (!reason.is_empty()).then(|| reason.to_string()))
            }
            None => (rest, None),
        };
        let scope = if file_scope {
            Scope::File
        } else {
            Scope::Statement(statement_for(comment.start, statements))
        };
        for rule in rules
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            out.push(Suppression {
                rule: rule.to_string(),
                reason: reason.clone(),
                scope,
                position: comment.start,
                comment: comment.text.clone(),
            });
        }
        if rules.trim().is_empty() {
            // A marker naming no rule is reported as unused, so the author sees it.
            out.push(Suppression {
                rule: String::new(),
                reason,
                scope,
                position: comment.start,
                comment: comment.text.clone(),
            });
        }
    }
    out
}

fn find_reason(text: &str) -> Option<usize> {
    text.to_ascii_lowercase().find("reason:")
}

/// The statement a comment belongs to: the one containing it, else the next one.
fn statement_for(at: Position, statements: &[Statement]) -> Option<usize> {
    statements
        .iter()
        .position(|s| s.start <= at && at <= s.end)
        .or_else(|| statements.iter().position(|s| s.start > at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(text: &str, line: usize) -> Comment {
        Comment {
            text: text.to_string(),
            start: Position { line, column: 1 },
        }
    }

    #[test]
    fn reads_rules_reason_and_scope() {
        let sups = collect(
            &[
                comment(
                    "migsafe:allow create-index-non-concurrently, M002 reason: table created above",
                    1,
                ),
                comment("migsafe:allow-file drop-column", 2),
                comment("migsafe:allowed nothing", 3),
            ],
            &[],
        );
        assert_eq!(sups.len(), 3);
        assert_eq!(sups[0].rule, "create-index-non-concurrently");
        assert_eq!(sups[1].rule, "M002");
        assert_eq!(sups[0].reason.as_deref(), Some("table created above"));
        assert_eq!(sups[0].scope, Scope::Statement(None));
        assert_eq!(sups[2].scope, Scope::File);
        assert_eq!(sups[2].reason, None);
    }
}
