//! Plans of `EXPLAIN (VERBOSE, FORMAT JSON)` as the rules see them: the node tree, the rows a
//! DML statement is estimated to touch, its sequential scans, the indexes it uses, and a
//! short text rendering for reports. Pure types and parsing; the query itself runs in
//! `evidence::explain`.
//!
//! Every number here is the planner's estimate (plain EXPLAIN, never ANALYZE): rows come from
//! the copy's statistics, so they are as good as its last ANALYZE. Field names follow
//! PostgreSQL's JSON output (docs: "EXPLAIN", section "Using EXPLAIN" 14.1); `VERBOSE` is what
//! adds the `Schema` of each relation, so a plan captured without it still parses, with
//! unqualified relation names.

use crate::model::QualifiedName;
use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

/// How many lines `Plan::excerpt` shows before folding the rest into a count.
const EXCERPT_LINES: usize = 12;
/// Longest excerpt line, in characters; longer ones (big filters) are cut with `…`.
const EXCERPT_LINE_CHARS: usize = 120;

/// A statement's plain (estimated, not executed) plan.
///
/// Usually one tree; a table with rewrite rules (`CREATE RULE ... DO ALSO`) makes PostgreSQL
/// plan several queries for one statement, and each is a root here, in EXPLAIN's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub roots: Vec<PlanNode>,
}

/// One node of a plan tree.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    /// `Seq Scan`, `Index Scan`, `ModifyTable`, `Hash Join`, ...
    pub node_type: String,
    /// For `ModifyTable`: `Insert`, `Update`, `Delete` or `Merge`.
    pub operation: Option<String>,
    /// The relation a scan reads or a ModifyTable writes; the schema is known only when the
    /// plan was made with `VERBOSE`.
    pub relation: Option<QualifiedName>,
    /// The name the query gave the relation (`o` in `FROM orders o`; PostgreSQL also invents
    /// `events_1` for partitions).
    pub alias: Option<String>,
    /// Index of an index, index-only or bitmap index scan.
    pub index: Option<String>,
    /// For a `CTE Scan`: the CTE it reads.
    pub cte: Option<String>,
    /// Estimated rows this node returns (`Plan Rows`; for a parallel node, per worker).
    pub rows: i64,
    pub startup_cost: f64,
    pub total_cost: f64,
    /// `Filter`: rows the node reads and throws away are tested with this.
    pub filter: Option<String>,
    pub index_cond: Option<String>,
    pub recheck_cond: Option<String>,
    pub hash_cond: Option<String>,
    pub join_filter: Option<String>,
    /// `Inner`, `Left`, `Semi`, ... for joins.
    pub join_type: Option<String>,
    /// `Plain`, `Sorted`, `Hashed`, `Mixed` for aggregates.
    pub strategy: Option<String>,
    /// A parallel-aware node (`Parallel Seq Scan`).
    pub parallel: bool,
    /// How the node hangs off its parent: `Outer`, `Inner`, `Member`, `InitPlan`, `SubPlan`.
    pub parent_relationship: Option<String>,
    /// `CTE moved`, `InitPlan 1 (returns $0)`, `SubPlan 1`.
    pub subplan_name: Option<String>,
    pub children: Vec<PlanNode>,
}

/// A sequential scan found in a plan: a read of every page of `relation`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqScan {
    pub relation: QualifiedName,
    pub alias: Option<String>,
    /// Rows the scan is estimated to return after its filter, not the rows it reads: a scan
    /// that keeps 12 rows of 80 million reads all 80 million.
    pub rows: i64,
    pub filter: Option<String>,
}

/// What the rules get for one statement at catalog level.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanOutcome {
    Explained(Plan),
    /// Not explained, and why (shown with skipped rules).
    Skipped(String),
}

/// The JSON as PostgreSQL writes it; converted into `PlanNode` so that the rest of migsafe
/// does not depend on serde attributes or PostgreSQL's spelling.
#[derive(Deserialize)]
struct RawQuery {
    #[serde(rename = "Plan")]
    plan: RawNode,
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(rename = "Node Type")]
    node_type: String,
    #[serde(rename = "Operation")]
    operation: Option<String>,
    #[serde(rename = "Relation Name")]
    relation: Option<String>,
    #[serde(rename = "Schema")]
    schema: Option<String>,
    #[serde(rename = "Alias")]
    alias: Option<String>,
    #[serde(rename = "Index Name")]
    index: Option<String>,
    #[serde(rename = "CTE Name")]
    cte: Option<String>,
    #[serde(rename = "Plan Rows")]
    rows: f64,
    #[serde(rename = "Startup Cost")]
    startup_cost: f64,
    #[serde(rename = "Total Cost")]
    total_cost: f64,
    #[serde(rename = "Filter")]
    filter: Option<String>,
    #[serde(rename = "Index Cond")]
    index_cond: Option<String>,
    #[serde(rename = "Recheck Cond")]
    recheck_cond: Option<String>,
    #[serde(rename = "Hash Cond")]
    hash_cond: Option<String>,
    #[serde(rename = "Join Filter")]
    join_filter: Option<String>,
    #[serde(rename = "Join Type")]
    join_type: Option<String>,
    #[serde(rename = "Strategy")]
    strategy: Option<String>,
    #[serde(rename = "Parallel Aware", default)]
    parallel: bool,
    #[serde(rename = "Parent Relationship")]
    parent_relationship: Option<String>,
    #[serde(rename = "Subplan Name")]
    subplan_name: Option<String>,
    #[serde(rename = "Plans", default)]
    plans: Vec<RawNode>,
}

impl From<RawNode> for PlanNode {
    fn from(raw: RawNode) -> Self {
        let relation = raw
            .relation
            .map(|name| QualifiedName::new(raw.schema.as_deref(), &name));
        PlanNode {
            node_type: raw.node_type,
            operation: raw.operation,
            relation,
            alias: raw.alias,
            index: raw.index,
            cte: raw.cte,
            // `as` saturates (and maps NaN to 0): estimates beyond i64 are not a real case,
            // but a hostile or corrupt input must not panic.
            rows: raw.rows.max(0.0) as i64,
            startup_cost: raw.startup_cost,
            total_cost: raw.total_cost,
            filter: raw.filter,
            index_cond: raw.index_cond,
            recheck_cond: raw.recheck_cond,
            hash_cond: raw.hash_cond,
            join_filter: raw.join_filter,
            join_type: raw.join_type,
            strategy: raw.strategy,
            parallel: raw.parallel,
            parent_relationship: raw.parent_relationship,
            subplan_name: raw.subplan_name,
            children: raw.plans.into_iter().map(PlanNode::from).collect(),
        }
    }
}

impl Plan {
    /// Parses the output of `EXPLAIN (FORMAT JSON)`: an array with one `{"Plan": ...}` object
    /// per planned query. Anything else is an error naming what is wrong.
    ///
    /// serde_json limits nesting (128 levels), so an absurdly deep input is an error rather
    /// than a stack overflow here or in the tree walks below.
    pub fn from_json(json: &str) -> Result<Plan> {
        let queries: Vec<RawQuery> = serde_json::from_str(json)
            .context("Failed to parse the EXPLAIN (FORMAT JSON) output")?;
        if queries.is_empty() {
            bail!("Failed to parse the EXPLAIN (FORMAT JSON) output: it holds no plan");
        }
        Ok(Plan {
            roots: queries
                .into_iter()
                .map(|q| PlanNode::from(q.plan))
                .collect(),
        })
    }

    /// Every node of every root, parents before children, in EXPLAIN's order.
    pub fn nodes(&self) -> Nodes<'_> {
        Nodes {
            stack: self.roots.iter().rev().collect(),
        }
    }

    /// Estimated rows the statement inserts, updates or deletes: for each ModifyTable node,
    /// the rows its input produces (the ModifyTable itself reports 0 unless it has
    /// RETURNING), and the largest of those when CTEs or rewrite rules add more than one.
    /// `None` for a plan that modifies nothing (a SELECT).
    pub fn total_rows(&self) -> Option<i64> {
        self.nodes()
            .filter(|n| n.is_modify_table())
            .map(|n| n.input().map_or(n.rows, |input| input.rows))
            .max()
    }

    /// The table the first ModifyTable in EXPLAIN's order writes (for a partitioned table,
    /// the parent). With rewrite rules that may be a rule's table rather than the statement's.
    pub fn target(&self) -> Option<&QualifiedName> {
        self.nodes()
            .find(|n| n.is_modify_table())
            .and_then(|n| n.relation.as_ref())
    }

    /// Every sequential scan, in plan order. A partitioned table appears as one scan per
    /// partition, each under the partition's own name.
    pub fn seq_scans(&self) -> Vec<SeqScan> {
        self.nodes()
            .filter(|n| n.node_type == "Seq Scan")
            .filter_map(|n| {
                Some(SeqScan {
                    relation: n.relation.clone()?,
                    alias: n.alias.clone(),
                    rows: n.rows,
                    filter: n.filter.clone(),
                })
            })
            .collect()
    }

    /// Whether any node reads the index `name` (index, index-only or bitmap index scan).
    /// `name` is written as in SQL: unquoted names fold to lower case, a schema qualifier is
    /// ignored (plans name indexes without their schema).
    pub fn uses_index(&self, name: &str) -> bool {
        let wanted = sql_ident(last_part(name));
        self.nodes()
            .filter_map(|n| n.index.as_deref())
            .any(|index| index == wanted)
    }

    /// Whether the plan reads `table` with a sequential scan. A table without a schema
    /// matches that name in any schema.
    pub fn uses_seq_scan_on(&self, table: &QualifiedName) -> bool {
        self.seq_scans().iter().any(|s| s.relation.matches(table))
    }

    /// A few lines in the style of EXPLAIN's text format, for a report's `facts.plan`:
    /// node, relation, index, cost and rows, and the filter and index conditions. Long
    /// plans are cut after a dozen lines, long conditions after 120 characters.
    pub fn excerpt(&self) -> String {
        let mut lines = Vec::new();
        for (i, root) in self.roots.iter().enumerate() {
            if i > 0 {
                // Rewrite rules: EXPLAIN's text format separates the plans the same way.
                lines.push(String::new());
            }
            render(root, 0, &mut lines);
        }
        let hidden = lines.len().saturating_sub(EXCERPT_LINES);
        let mut out: Vec<String> = lines
            .into_iter()
            .take(EXCERPT_LINES)
            .map(|l| truncate(&l, EXCERPT_LINE_CHARS))
            .collect();
        if hidden > 0 {
            out.push(format!(
                "… ({hidden} more line{})",
                if hidden == 1 { "" } else { "s" }
            ));
        }
        out.join("\n")
    }
}

/// Depth-first iterator over a plan's nodes; iterative, so plan depth never costs stack.
pub struct Nodes<'a> {
    stack: Vec<&'a PlanNode>,
}

impl<'a> Iterator for Nodes<'a> {
    type Item = &'a PlanNode;

    fn next(&mut self) -> Option<&'a PlanNode> {
        let node = self.stack.pop()?;
        self.stack.extend(node.children.iter().rev());
        Some(node)
    }
}

impl PlanNode {
    pub fn is_modify_table(&self) -> bool {
        self.node_type == "ModifyTable"
    }

    /// The node that feeds this one its rows: the `Outer` child, not an InitPlan or SubPlan
    /// (a CTE hangs off the ModifyTable as an InitPlan).
    pub fn input(&self) -> Option<&PlanNode> {
        self.children
            .iter()
            .find(|c| c.parent_relationship.as_deref() == Some("Outer"))
            .or_else(|| {
                self.children.iter().find(|c| {
                    !matches!(
                        c.parent_relationship.as_deref(),
                        Some("InitPlan") | Some("SubPlan")
                    )
                })
            })
    }

    /// The node's headline as EXPLAIN's text format writes it: `Update on public.orders o`,
    /// `Index Scan using orders_pkey on public.orders`, `Hash Left Join`.
    pub fn label(&self) -> String {
        let parallel = if self.parallel { "Parallel " } else { "" };
        let name = match (self.node_type.as_str(), self.operation.as_deref()) {
            ("ModifyTable", Some(op)) => op.to_string(),
            ("Aggregate", _) => match self.strategy.as_deref() {
                Some("Hashed") => "HashAggregate".to_string(),
                Some("Sorted") => "GroupAggregate".to_string(),
                Some("Mixed") => "MixedAggregate".to_string(),
                _ => "Aggregate".to_string(),
            },
            (join @ ("Hash Join" | "Merge Join" | "Nested Loop"), _) => {
                match self.join_type.as_deref() {
                    Some(jt) if jt != "Inner" => match join {
                        "Nested Loop" => format!("Nested Loop {jt} Join"),
                        _ => format!("{} {jt} Join", join.trim_end_matches(" Join")),
                    },
                    _ => join.to_string(),
                }
            }
            (other, _) => other.to_string(),
        };
        let mut label = format!("{parallel}{name}");
        if let Some(index) = &self.index {
            if self.relation.is_some() {
                label.push_str(&format!(" using {index}"));
            } else {
                // Bitmap Index Scan names only the index.
                label.push_str(&format!(" on {index}"));
            }
        }
        if let Some(relation) = &self.relation {
            label.push_str(&format!(" on {relation}"));
            if let Some(alias) = self.alias.as_deref().filter(|a| *a != relation.name) {
                label.push_str(&format!(" {alias}"));
            }
        } else if let Some(cte) = &self.cte {
            label.push_str(&format!(" on {cte}"));
            if let Some(alias) = self.alias.as_deref().filter(|a| a != cte) {
                label.push_str(&format!(" {alias}"));
            }
        }
        label
    }
}

/// Appends `node` and its subtree with EXPLAIN's indentation: children under `->  `, details
/// six columns further in.
fn render(node: &PlanNode, depth: usize, lines: &mut Vec<String>) {
    let (head, detail) = if depth == 0 {
        (String::new(), "  ".to_string())
    } else {
        let pad = 6 * depth - 4;
        (format!("{}->  ", " ".repeat(pad)), " ".repeat(pad + 6))
    };
    if let Some(sub) = &node.subplan_name {
        let pad = if depth == 0 { 0 } else { 6 * depth - 6 };
        lines.push(format!("{}{sub}", " ".repeat(pad + 2)));
    }
    lines.push(format!(
        "{head}{}  (cost={:.2}..{:.2} rows={})",
        node.label(),
        node.startup_cost,
        node.total_cost,
        node.rows
    ));
    for (what, text) in [
        ("Hash Cond", &node.hash_cond),
        ("Join Filter", &node.join_filter),
        ("Index Cond", &node.index_cond),
        ("Recheck Cond", &node.recheck_cond),
        ("Filter", &node.filter),
    ] {
        if let Some(text) = text {
            lines.push(format!("{detail}{what}: {text}"));
        }
    }
    for child in &node.children {
        render(child, depth + 1, lines);
    }
}

/// `line` cut to `max` characters (not bytes), ending in `…` when cut (as the reports do).
fn truncate(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        return line.to_string();
    }
    let kept: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// The last dot-separated part of a possibly qualified name, respecting double quotes.
fn last_part(name: &str) -> &str {
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in name.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => start = i + 1,
            _ => {}
        }
    }
    name.get(start..).unwrap_or(name).trim()
}

/// An identifier as PostgreSQL resolves it: quoted kept (with `""` unescaped), unquoted
/// lower-cased.
fn sql_ident(word: &str) -> String {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => word.to_lowercase(),
    }
}

/// Plans captured from PostgreSQL 15.20 (`EXPLAIN (VERBOSE, FORMAT JSON)` unless noted) on
/// the rule fixtures' tables plus a partitioned `events` table and `billing.invoices`; shared
/// with the plan rules' tests.
#[cfg(test)]
pub(crate) mod samples {
    use crate::config::Settings;
    use crate::metadata::Owners;
    use crate::rules::{Check, Context, MigrationState, Risk, Rule};
    use crate::schema::Schema;

    /// `UPDATE orders SET status = 'cancelled' WHERE status = 'stuck'` (20,000 rows, 200 stuck).
    pub const UPDATE_SEQ_SCAN: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":398,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":38,"Output":["'cancelled'::text","ctid"],"Filter":"(orders.status = 'stuck'::text)"}]}}]"#;
    /// `UPDATE orders SET note = 'migrated'`.
    pub const UPDATE_ALL_ROWS: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":348,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":348,"Plan Rows":20000,"Plan Width":38,"Output":["'migrated'::text","ctid"]}]}}]"#;
    /// `DELETE FROM orders WHERE id < 50`.
    pub const DELETE_INDEX_SCAN: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Delete","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0.29,"Total Cost":9.14,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Index Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Scan Direction":"Forward","Index Name":"orders_pkey","Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0.29,"Total Cost":9.14,"Plan Rows":49,"Plan Width":6,"Output":["ctid"],"Index Cond":"(orders.id < 50)"}]}}]"#;
    /// `INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2024-01-05'`.
    pub const INSERT_SELECT: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Insert","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders_archive","Schema":"public","Alias":"orders_archive","Startup Cost":0,"Total Cost":398,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":398,"Plan Rows":5759,"Plan Width":63,"Output":["orders.id","orders.customer_id","orders.status","orders.note","orders.created_at"],"Filter":"(orders.created_at < '2024-01-05 00:00:00+00'::timestamp with time zone)"}]}}]"#;
    /// `SELECT * FROM orders WHERE id = 42`, without VERBOSE (no schemas).
    pub const SELECT_INDEX_SCAN: &str = r#"[{"Plan":{"Node Type":"Index Scan","Parallel Aware":false,"Async Capable":false,"Scan Direction":"Forward","Index Name":"orders_pkey","Relation Name":"orders","Alias":"orders","Startup Cost":0.29,"Total Cost":8.3,"Plan Rows":1,"Plan Width":63,"Index Cond":"(id = 42)"}}]"#;
    /// `UPDATE orders o SET note = 'vip' WHERE customer_id IN (1, 2, 3)`.
    pub const UPDATE_BITMAP: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"o","Startup Cost":13.33,"Total Cost":126.97,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Bitmap Heap Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"o","Startup Cost":13.33,"Total Cost":126.97,"Plan Rows":60,"Plan Width":38,"Output":["'vip'::text","ctid"],"Recheck Cond":"(o.customer_id = ANY ('{1,2,3}'::bigint[]))","Plans":[{"Node Type":"Bitmap Index Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Index Name":"orders_customer_id_idx","Startup Cost":0,"Total Cost":13.31,"Plan Rows":60,"Plan Width":0,"Index Cond":"(o.customer_id = ANY ('{1,2,3}'::bigint[]))"}]}]}}]"#;
    /// `WITH moved AS (DELETE FROM orders WHERE status = 'stuck' RETURNING *)
    /// INSERT INTO orders_archive SELECT * FROM moved`.
    pub const CTE_DELETE_INSERT: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Insert","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders_archive","Schema":"public","Alias":"orders_archive","Startup Cost":398,"Total Cost":402,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"ModifyTable","Operation":"Delete","Parent Relationship":"InitPlan","Subplan Name":"CTE moved","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":6,"Output":["orders.id","orders.customer_id","orders.status","orders.note","orders.created_at"],"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"orders","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":6,"Output":["orders.ctid"],"Filter":"(orders.status = 'stuck'::text)"}]},{"Node Type":"CTE Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"CTE Name":"moved","Alias":"moved","Startup Cost":0,"Total Cost":4,"Plan Rows":200,"Plan Width":88,"Output":["moved.id","moved.customer_id","moved.status","moved.note","moved.created_at"]}]}}]"#;
    /// `UPDATE events SET kind = 'click' WHERE kind = 'tap'` (two partitions).
    pub const UPDATE_PARTITIONED: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"events","Schema":"public","Alias":"events","Startup Cost":0,"Total Cost":152.01,"Plan Rows":0,"Plan Width":0,"Target Tables":[{"Relation Name":"events_2023","Schema":"public","Alias":"events_1"},{"Relation Name":"events_2024","Schema":"public","Alias":"events_2"}],"Plans":[{"Node Type":"Append","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Startup Cost":0,"Total Cost":152.01,"Plan Rows":2,"Plan Width":42,"Subplans Removed":0,"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Member","Parallel Aware":false,"Async Capable":false,"Relation Name":"events_2023","Schema":"public","Alias":"events_1","Startup Cost":0,"Total Cost":97.19,"Plan Rows":1,"Plan Width":42,"Output":["'click'::text","events_1.tableoid","events_1.ctid"],"Filter":"(events_1.kind = 'tap'::text)"},{"Node Type":"Seq Scan","Parent Relationship":"Member","Parallel Aware":false,"Async Capable":false,"Relation Name":"events_2024","Schema":"public","Alias":"events_2","Startup Cost":0,"Total Cost":54.81,"Plan Rows":1,"Plan Width":42,"Output":["'click'::text","events_2.tableoid","events_2.ctid"],"Filter":"(events_2.kind = 'tap'::text)"}]}]}}]"#;
    /// `UPDATE subscriptions SET plan = 'basic' WHERE plan = 'legacy'` (7,000 of 8,000 rows).
    pub const UPDATE_MANY_ROWS: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"subscriptions","Schema":"public","Alias":"subscriptions","Startup Cost":0,"Total Cost":158,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"subscriptions","Schema":"public","Alias":"subscriptions","Startup Cost":0,"Total Cost":158,"Plan Rows":7000,"Plan Width":38,"Output":["'basic'::text","ctid"],"Filter":"(subscriptions.plan = 'legacy'::text)"}]}}]"#;
    /// `UPDATE billing.invoices i SET amount = 0 FROM orders o
    /// WHERE o.id = i.order_id AND o.status = 'stuck'`.
    pub const UPDATE_JOIN: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"invoices","Schema":"billing","Alias":"i","Startup Cost":400.5,"Total Cost":495.62,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Hash Join","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Join Type":"Inner","Startup Cost":400.5,"Total Cost":495.62,"Plan Rows":50,"Plan Width":16,"Output":["0","i.ctid","o.ctid"],"Inner Unique":true,"Hash Cond":"(i.order_id = o.id)","Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"invoices","Schema":"billing","Alias":"i","Startup Cost":0,"Total Cost":82,"Plan Rows":5000,"Plan Width":14,"Output":["i.ctid","i.order_id"]},{"Node Type":"Hash","Parent Relationship":"Inner","Parallel Aware":false,"Async Capable":false,"Startup Cost":398,"Total Cost":398,"Plan Rows":200,"Plan Width":14,"Output":["o.ctid","o.id"],"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"o","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":14,"Output":["o.ctid","o.id"],"Filter":"(o.status = 'stuck'::text)"}]}]}]}}]"#;

    /// `DELETE FROM orders WHERE id = 7` with a rule `ON DELETE TO orders DO ALSO INSERT INTO
    /// audit ...`, without VERBOSE: two plans, the rule's first.
    pub const DELETE_WITH_RULE: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Insert","Parallel Aware":false,"Async Capable":false,"Relation Name":"audit","Alias":"audit","Startup Cost":0.29,"Total Cost":8.31,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Index Only Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Scan Direction":"Forward","Index Name":"orders_pkey","Relation Name":"orders","Alias":"orders","Startup Cost":0.29,"Total Cost":8.31,"Plan Rows":1,"Plan Width":16,"Index Cond":"(id = 7)"}]}},{"Plan":{"Node Type":"ModifyTable","Operation":"Delete","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Alias":"orders","Startup Cost":0.29,"Total Cost":8.3,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Index Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Scan Direction":"Forward","Index Name":"orders_pkey","Relation Name":"orders","Alias":"orders","Startup Cost":0.29,"Total Cost":8.3,"Plan Rows":1,"Plan Width":6,"Index Cond":"(id = 7)"}]}}]"#;

    /// `UPDATE orders o SET note = 'dup' FROM orders p WHERE p.customer_id = o.customer_id
    /// AND p.id <> o.id AND p.status = 'stuck' AND o.status = 'stuck'`: orders scanned twice.
    pub const UPDATE_SELF_JOIN: &str = r#"[{"Plan":{"Node Type":"ModifyTable","Operation":"Update","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"o","Startup Cost":400.5,"Total Cost":804.5,"Plan Rows":0,"Plan Width":0,"Plans":[{"Node Type":"Hash Join","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Join Type":"Inner","Startup Cost":400.5,"Total Cost":804.5,"Plan Rows":40,"Plan Width":44,"Output":["'dup'::text","o.ctid","p.ctid"],"Inner Unique":false,"Hash Cond":"(o.customer_id = p.customer_id)","Join Filter":"(p.id <> o.id)","Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"o","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":22,"Output":["o.ctid","o.customer_id","o.id"],"Filter":"(o.status = 'stuck'::text)"},{"Node Type":"Hash","Parent Relationship":"Inner","Parallel Aware":false,"Async Capable":false,"Startup Cost":398,"Total Cost":398,"Plan Rows":200,"Plan Width":22,"Output":["p.ctid","p.customer_id","p.id"],"Plans":[{"Node Type":"Seq Scan","Parent Relationship":"Outer","Parallel Aware":false,"Async Capable":false,"Relation Name":"orders","Schema":"public","Alias":"p","Startup Cost":0,"Total Cost":398,"Plan Rows":200,"Plan Width":22,"Output":["p.ctid","p.customer_id","p.id"],"Filter":"(p.status = 'stuck'::text)"}]}]}]}}]"#;

    /// A statement's plan wrapped for a rule `Context`.
    pub fn explained(json: &str) -> super::PlanOutcome {
        super::PlanOutcome::Explained(super::Plan::from_json(json).unwrap())
    }

    /// What `rule` says about the last statement of `sql` (a plain, transactional migration)
    /// when the engine hands it `plan` and no schema; the earlier statements only build up
    /// the migration state, as in a real review.
    pub fn judge(
        rule: &Rule,
        sql: &str,
        plan: Option<&super::PlanOutcome>,
        settings: &Settings,
    ) -> Option<Risk> {
        judge_in(rule, sql, plan, None, settings)
    }

    /// [`judge`] with the copy's schema as well.
    pub fn judge_in(
        rule: &Rule,
        sql: &str,
        plan: Option<&super::PlanOutcome>,
        schema: Option<&Schema>,
        settings: &Settings,
    ) -> Option<Risk> {
        let migration = crate::load::load_text("test.sql", sql, None)
            .unwrap()
            .remove(0);
        let owners = Owners::discover(std::path::Path::new("."), None).unwrap();
        let pm = crate::review::prepare(migration, &owners);
        let index = pm.statements.len() - 1;
        let mut state = MigrationState::default();
        for (i, stmt) in pm.statements[..index].iter().enumerate() {
            state.apply(i, stmt);
        }
        let ctx = Context {
            migration: &pm,
            index,
            state: &state,
            settings,
            schema,
            plan,
        };
        let Check::Statement(check) = rule.check else {
            panic!("{} is not a statement rule", rule.name);
        };
        check(&ctx, &pm.statements[index])
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    fn plan(json: &str) -> Plan {
        Plan::from_json(json).unwrap()
    }

    fn public(name: &str) -> QualifiedName {
        QualifiedName::new(Some("public"), name)
    }

    #[test]
    fn update_with_unindexed_filter_is_a_seq_scan_touching_few_rows() {
        let p = plan(UPDATE_SEQ_SCAN);
        assert_eq!(p.total_rows(), Some(200));
        assert_eq!(p.target(), Some(&public("orders")));
        let scans = p.seq_scans();
        assert_eq!(scans.len(), 1);
        assert_eq!(scans[0].relation, public("orders"));
        assert_eq!(scans[0].rows, 200);
        assert_eq!(
            scans[0].filter.as_deref(),
            Some("(orders.status = 'stuck'::text)")
        );
        assert!(p.uses_seq_scan_on(&public("orders")));
        assert!(p.uses_seq_scan_on(&QualifiedName::new(None, "orders")));
        assert!(!p.uses_seq_scan_on(&QualifiedName::new(Some("billing"), "orders")));
        assert!(!p.uses_index("orders_pkey"));
    }

    #[test]
    fn update_of_every_row_touches_the_whole_table() {
        let p = plan(UPDATE_ALL_ROWS);
        assert_eq!(p.total_rows(), Some(20_000));
        assert_eq!(p.seq_scans()[0].filter, None);
    }

    #[test]
    fn delete_by_key_range_uses_the_primary_key() {
        let p = plan(DELETE_INDEX_SCAN);
        assert_eq!(p.total_rows(), Some(49));
        assert!(p.seq_scans().is_empty());
        assert!(p.uses_index("orders_pkey"));
        assert!(p.uses_index("public.orders_pkey"));
        assert!(
            p.uses_index("ORDERS_PKEY"),
            "unquoted names fold to lower case"
        );
        assert!(!p.uses_index("\"ORDERS_PKEY\""), "quoted names are exact");
        assert!(!p.uses_index("orders_customer_id_idx"));
        let delete = &p.roots[0];
        assert_eq!(delete.operation.as_deref(), Some("Delete"));
        assert_eq!(
            delete.rows, 0,
            "a ModifyTable without RETURNING reports 0 rows"
        );
        assert_eq!(delete.total_cost, 9.14);
        assert_eq!(
            delete.children[0].index_cond.as_deref(),
            Some("(orders.id < 50)")
        );
    }

    #[test]
    fn insert_select_counts_the_rows_its_select_produces() {
        let p = plan(INSERT_SELECT);
        assert_eq!(p.total_rows(), Some(5759));
        assert_eq!(p.target(), Some(&public("orders_archive")));
        assert!(p.uses_seq_scan_on(&public("orders")));
        assert!(!p.uses_seq_scan_on(&public("orders_archive")));
    }

    #[test]
    fn select_modifies_nothing_and_without_verbose_has_no_schemas() {
        let p = plan(SELECT_INDEX_SCAN);
        assert_eq!(p.total_rows(), None);
        assert_eq!(p.target(), None);
        assert!(p.uses_index("orders_pkey"));
        assert_eq!(
            p.roots[0].relation,
            Some(QualifiedName::new(None, "orders"))
        );
        assert_eq!(
            p.excerpt(),
            "Index Scan using orders_pkey on orders  (cost=0.29..8.30 rows=1)\n  Index Cond: (id = 42)"
        );
    }

    #[test]
    fn bitmap_scans_use_their_index_and_keep_the_alias() {
        let p = plan(UPDATE_BITMAP);
        assert_eq!(p.total_rows(), Some(60));
        assert!(p.uses_index("orders_customer_id_idx"));
        assert!(p.seq_scans().is_empty());
        assert_eq!(p.roots[0].alias.as_deref(), Some("o"));
        assert_eq!(
            p.excerpt(),
            "Update on public.orders o  (cost=13.33..126.97 rows=0)\n\
             \x20 ->  Bitmap Heap Scan on public.orders o  (cost=13.33..126.97 rows=60)\n\
             \x20       Recheck Cond: (o.customer_id = ANY ('{1,2,3}'::bigint[]))\n\
             \x20       ->  Bitmap Index Scan on orders_customer_id_idx  (cost=0.00..13.31 rows=60)\n\
             \x20             Index Cond: (o.customer_id = ANY ('{1,2,3}'::bigint[]))"
        );
    }

    #[test]
    fn a_cte_that_deletes_counts_as_touching_rows() {
        let p = plan(CTE_DELETE_INSERT);
        // The INSERT reads the CTE (200 rows); the DELETE inside it touches 200 rows too.
        assert_eq!(p.total_rows(), Some(200));
        assert_eq!(p.target(), Some(&public("orders_archive")));
        assert!(p.uses_seq_scan_on(&public("orders")));
        let insert = &p.roots[0];
        assert_eq!(
            insert.input().map(|n| n.node_type.as_str()),
            Some("CTE Scan")
        );
        let excerpt = p.excerpt();
        assert!(excerpt.contains("  CTE moved\n"), "{excerpt}");
        assert!(excerpt.contains("CTE Scan on moved  (cost="), "{excerpt}");
    }

    #[test]
    fn partitioned_update_scans_each_partition() {
        let p = plan(UPDATE_PARTITIONED);
        assert_eq!(p.target(), Some(&public("events")));
        assert_eq!(p.total_rows(), Some(2));
        let scans: Vec<_> = p.seq_scans().into_iter().map(|s| s.relation).collect();
        assert_eq!(scans, [public("events_2023"), public("events_2024")]);
        assert!(
            !p.uses_seq_scan_on(&public("events")),
            "partitions keep their own names"
        );
        assert!(p.excerpt().contains("->  Append"));
    }

    #[test]
    fn joins_report_every_scanned_table_with_its_schema() {
        let p = plan(UPDATE_JOIN);
        assert_eq!(p.total_rows(), Some(50));
        assert_eq!(
            p.target(),
            Some(&QualifiedName::new(Some("billing"), "invoices"))
        );
        let scans: Vec<_> = p
            .seq_scans()
            .into_iter()
            .map(|s| (s.relation, s.rows))
            .collect();
        assert_eq!(
            scans,
            [
                (QualifiedName::new(Some("billing"), "invoices"), 5000),
                (public("orders"), 200)
            ]
        );
        assert!(p.excerpt().contains("Hash Cond: (i.order_id = o.id)"));
    }

    #[test]
    fn a_self_join_scans_the_table_twice() {
        let p = plan(UPDATE_SELF_JOIN);
        let aliases: Vec<_> = p.seq_scans().into_iter().map(|s| s.alias).collect();
        assert_eq!(aliases, [Some("o".to_string()), Some("p".to_string())]);
        assert_eq!(p.total_rows(), Some(40));
        assert!(
            p.excerpt().contains("Join Filter: (p.id <> o.id)"),
            "{}",
            p.excerpt()
        );
    }

    #[test]
    fn rewrite_rules_give_several_plans() {
        let p = plan(DELETE_WITH_RULE);
        assert_eq!(p.roots.len(), 2);
        assert_eq!(p.target(), Some(&QualifiedName::new(None, "audit")));
        assert_eq!(p.total_rows(), Some(1));
        assert!(p.uses_index("orders_pkey"));
        assert!(
            p.excerpt().contains("\n\nDelete on orders"),
            "{}",
            p.excerpt()
        );
    }

    #[test]
    fn many_rows_plan_estimates_from_statistics() {
        assert_eq!(plan(UPDATE_MANY_ROWS).total_rows(), Some(7000));
    }

    #[test]
    fn excerpt_is_explain_text_without_widths() {
        assert_eq!(
            plan(UPDATE_SEQ_SCAN).excerpt(),
            "Update on public.orders  (cost=0.00..398.00 rows=0)\n\
             \x20 ->  Seq Scan on public.orders  (cost=0.00..398.00 rows=200)\n\
             \x20       Filter: (orders.status = 'stuck'::text)"
        );
    }

    #[test]
    fn excerpt_folds_long_plans_and_cuts_long_lines() {
        let mut node = PlanNode {
            node_type: "Seq Scan".into(),
            operation: None,
            relation: Some(public("t")),
            alias: None,
            index: None,
            cte: None,
            rows: 1,
            startup_cost: 0.0,
            total_cost: 1.0,
            filter: Some(format!("(a = '{}')", "é".repeat(300))),
            index_cond: None,
            recheck_cond: None,
            hash_cond: None,
            join_filter: None,
            join_type: None,
            strategy: None,
            parallel: false,
            parent_relationship: None,
            subplan_name: None,
            children: Vec::new(),
        };
        for _ in 0..20 {
            let mut parent = node.clone();
            parent.node_type = "Nested Loop".into();
            parent.relation = None;
            parent.filter = None;
            parent.join_type = Some("Left".into());
            parent.children = vec![node];
            node = parent;
        }
        let excerpt = Plan { roots: vec![node] }.excerpt();
        let lines: Vec<&str> = excerpt.lines().collect();
        assert_eq!(lines.len(), EXCERPT_LINES + 1, "{excerpt}");
        assert!(
            lines[0].starts_with("Nested Loop Left Join  (cost="),
            "{excerpt}"
        );
        assert_eq!(lines[EXCERPT_LINES], "… (10 more lines)");
        assert!(lines
            .iter()
            .all(|l| l.chars().count() <= EXCERPT_LINE_CHARS));
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for bad in [
            "",
            "not json",
            "[]",
            "{}",
            r#"[{"Plan": {}}]"#,
            r#"[{"Plan": {"Node Type": "Seq Scan"}}]"#,
            r#"[{"Plan": {"Node Type": 7, "Plan Rows": 1, "Startup Cost": 0, "Total Cost": 1}}]"#,
            r#"[{"Plan": {"Node Type": "Result", "Plan Rows": "many", "Startup Cost": 0, "Total Cost": 1}}]"#,
            &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            &UPDATE_SEQ_SCAN[..UPDATE_SEQ_SCAN.len() / 2],
        ] {
            let err = Plan::from_json(bad).unwrap_err();
            assert!(format!("{err:#}").contains("EXPLAIN"), "{err:#}");
        }
    }

    #[test]
    fn deep_plans_parse_within_serde_limits_and_walk_without_recursion() {
        let mut json =
            r#"{"Node Type": "Result", "Plan Rows": 1, "Startup Cost": 0, "Total Cost": 1}"#
                .to_string();
        for _ in 0..60 {
            json = format!(
                r#"{{"Node Type": "Materialize", "Plan Rows": 1e300, "Startup Cost": 0, "Total Cost": 1, "Plans": [{json}]}}"#
            );
        }
        let p = plan(&format!(r#"[{{"Plan": {json}}}]"#));
        assert_eq!(p.nodes().count(), 61);
        assert_eq!(p.roots[0].rows, i64::MAX, "huge estimates saturate");
    }
}
