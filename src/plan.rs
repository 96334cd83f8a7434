//! Plans of `EXPLAIN (FORMAT JSON)` as the rules see them. Pure types and parsing; the
//! query itself runs in `evidence::explain`.

/// A statement's plain (estimated, not executed) plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub text: String,
}

/// What the rules get for one statement at catalog level.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanOutcome {
    Explained(Plan),
    /// Not explained, and why (shown with skipped rules).
    Skipped(String),
}
