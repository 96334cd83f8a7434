//! How volatile a function called in an expression is, from the best source available: the
//! migration's own `CREATE FUNCTION` (its clause, else PostgreSQL's default VOLATILE), the
//! copy's `pg_proc` at catalog level, then what migsafe knows about built-ins and common
//! extensions. A function nobody knows is assumed volatile, and the finding says so
//! (PostgreSQL docs: CREATE FUNCTION, "VOLATILE is the default"; "Function Volatility
//! Categories").

use super::Context;
use crate::model::Volatility;

/// Built-in and common extension functions that are VOLATILE.
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "setseed",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuid_generate_v7",
    "gen_random_bytes",
    "gen_salt",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "currval",
    "lastval",
    "gen_ulid",
    "generate_ulid",
];

/// Built-ins that are STABLE or IMMUTABLE (evaluated once for `ADD COLUMN ... DEFAULT`), and
/// type words the tokenizer sees before a parenthesis (`character varying(255)`).
#[rustfmt::skip]
const NOT_VOLATILE: &[&str] = &[
    "now", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime",
    "statement_timestamp", "transaction_timestamp", "txid_current", "pg_current_xact_id",
    "current_user", "session_user", "current_schema", "current_setting", "current_database",
    "lower", "upper", "md5", "length", "concat", "concat_ws", "replace", "coalesce", "nullif",
    "greatest", "least", "to_json", "to_jsonb", "json_build_object", "jsonb_build_object",
    "json_build_array", "jsonb_build_array", "array_fill", "make_interval", "make_date",
    "make_timestamp", "make_timestamptz", "to_timestamp", "to_char", "to_date", "to_number",
    "date_trunc", "date_part", "timezone", "uuid_nil", "int4", "int8", "numeric", "decimal",
    "varchar", "char", "character", "varying", "bit", "time", "timestamp", "timestamptz",
    "interval", "float", "precision", "inet", "point", "tsrange", "tstzrange", "daterange",
    "int4range", "int8range", "numrange", "encode", "decode", "digest", "extract", "abs",
    "round", "floor", "ceil", "trim", "btrim", "ltrim", "rtrim", "left", "right", "substring",
    "substr", "format", "array_to_string", "string_to_array", "regexp_replace", "split_part",
    "jsonb_set", "to_tsvector", "setweight", "pg_catalog",
];

/// Where the volatility of a called function came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Defined earlier in this migration (line of its `CREATE FUNCTION`); `declared` is false
    /// when it has no clause and is VOLATILE by default.
    Migration { line: usize, declared: bool },
    /// The copy's `pg_proc`.
    Catalog,
    /// migsafe's list of built-ins and extension functions.
    Builtin,
    /// Nobody knows: assumed volatile.
    Unknown,
}

/// The first volatile (or unknown, so assumed volatile) function among `functions`.
pub fn first_volatile(ctx: &Context, functions: &[String]) -> Option<(String, Source)> {
    let mut unknown = None;
    for f in functions {
        let bare = f.rsplit('.').next().unwrap_or(f);
        match judge(ctx, bare) {
            (Volatility::Volatile, Source::Unknown) => {
                unknown.get_or_insert((bare.to_string(), Source::Unknown));
            }
            (Volatility::Volatile, source) => return Some((bare.to_string(), source)),
            _ => {}
        }
    }
    unknown
}

/// Volatility of one function and where that knowledge came from.
pub fn judge(ctx: &Context, name: &str) -> (Volatility, Source) {
    if let Some(f) = ctx.state.function(name) {
        return (
            f.volatility.unwrap_or(Volatility::Volatile),
            Source::Migration {
                line: f.line,
                declared: f.volatility.is_some(),
            },
        );
    }
    if let Some(v) = ctx.schema.and_then(|s| s.function_volatility(name)) {
        return (v, Source::Catalog);
    }
    if VOLATILE.contains(&name) {
        return (Volatility::Volatile, Source::Builtin);
    }
    if NOT_VOLATILE.contains(&name) {
        return (Volatility::Stable, Source::Builtin);
    }
    (Volatility::Volatile, Source::Unknown)
}

/// What a message says about where the volatility came from; `catalog` says whether a
/// copy's `pg_proc` was consulted.
pub fn explain(name: &str, source: &Source, catalog: bool) -> String {
    match source {
        Source::Migration {
            line,
            declared: true,
        } => format!("{name}() is declared VOLATILE on line {line}"),
        Source::Migration {
            line,
            declared: false,
        } => format!(
            "{name}(), created on line {line} without IMMUTABLE or STABLE, is VOLATILE \
             (PostgreSQL's default)"
        ),
        Source::Catalog => format!("{name}() is VOLATILE in the copy's pg_proc"),
        Source::Builtin => format!("{name}() is volatile"),
        Source::Unknown => format!(
            "migsafe does not know {name}() (not created in this migration{}), so it assumes \
             it is VOLATILE, PostgreSQL's default; if it is IMMUTABLE or STABLE, say so in a \
             suppression",
            if catalog {
                " and not in the copy's pg_proc"
            } else {
                "; give --database-url to read its volatility from the copy"
            }
        ),
    }
}
