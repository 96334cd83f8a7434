//! `migsafe.toml` and the validated `Settings` the library runs with.
//!
//! The file is found upward from the current directory (or named with `--config`). Unknown
//! keys are an error naming the key, so that a typo never silently disables a check.

use crate::model::{Layout, Severity, Transaction};
use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const CONFIG_FILE_NAME: &str = "migsafe.toml";

/// A rule's configured level: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    On(Severity),
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "off" | "none" | "ignore" => Level::Off,
            "info" => Level::On(Severity::Info),
            "warning" | "warn" => Level::On(Severity::Warning),
            "error" => Level::On(Severity::Error),
            _ => return None,
        })
    }
}

/// Size thresholds for size-aware severity and batching advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Below both: lock and rewrite findings are info.
    pub small_table_rows: i64,
    pub small_table_bytes: i64,
    /// Above either: lock and rewrite findings are errors.
    pub large_table_rows: i64,
    pub large_table_bytes: i64,
    /// DML estimated above this many rows should be batched.
    pub batch_rows: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            small_table_rows: 10_000,
            small_table_bytes: 10 * 1024 * 1024,
            large_table_rows: 1_000_000,
            large_table_bytes: 1024 * 1024 * 1024,
            batch_rows: 100_000,
        }
    }
}

/// `[require]`: which people facts every migration must have, and at what severity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequireFile {
    owner: Option<String>,
    expect: Option<String>,
    rollback: Option<String>,
}

/// `[execution]` as written: how migrations run on a disposable copy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecutionFile {
    lock_timeout: Option<String>,
    statement_timeout: Option<String>,
    lock_budget: Option<String>,
    analyze: Option<bool>,
    watch: Option<PathBuf>,
    watch_top: Option<usize>,
    plan_cost_factor: Option<f64>,
}

/// How migrations run on a disposable copy (execution level).
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// `lock_timeout` of every session on the copy.
    pub lock_timeout: Duration,
    /// `statement_timeout` of every session on the copy.
    pub statement_timeout: Duration,
    /// A lock that blocks reads or writes held longer than this is `lock-held-too-long`.
    pub lock_budget: Duration,
    /// `EXPLAIN (ANALYZE, BUFFERS)` of DML before it runs (the copy is disposable).
    pub analyze: bool,
    /// Watched queries: a `.sql` file, or a CSV/JSON export of `pg_stat_statements`.
    pub watch: Option<PathBuf>,
    /// From a `pg_stat_statements` export, the top N queries by total time.
    pub watch_top: usize,
    /// A watched query whose estimated cost grows by more than this factor regressed.
    pub plan_cost_factor: f64,
}

impl Default for Execution {
    fn default() -> Self {
        Execution {
            lock_timeout: Duration::from_secs(300),
            statement_timeout: Duration::from_secs(300),
            lock_budget: Duration::from_secs(2),
            analyze: false,
            watch: None,
            watch_top: 20,
            plan_cost_factor: 2.0,
        }
    }
}

/// `2s`, `500ms`, `5min`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => value,
        "ms" | "msec" | "millisecond" | "milliseconds" => value / 1000.0,
        "min" | "mins" | "minute" | "minutes" | "m" => value * 60.0,
        "h" | "hour" | "hours" => value * 3600.0,
        _ => return None,
    };
    // try_: a huge value (`99999999999999999999h`) overflows Duration, which would panic.
    Duration::try_from_secs_f64(seconds).ok()
}

/// `[[runner]]` as written: how the project's runner sends the migrations under `path`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunnerFile {
    path: Option<String>,
    transaction: Option<String>,
    note: Option<String>,
}

/// A declared runner for the migrations whose files match `path` (issue #10): for runners
/// migsafe cannot know (temporal's schema tool, Jisql, a deploy script), or a framework
/// setting it cannot see (golang-migrate's `x-multi-statement`, Flyway's `mixed`).
#[derive(Debug, Clone)]
pub struct RunnerRule {
    /// The glob as written, relative to the folder of migsafe.toml (`schema/**`).
    pub path: String,
    pub matcher: globset::GlobMatcher,
    pub transaction: Transaction,
    /// Free text shown as the mode's source, e.g. "temporal-sql-tool runs each statement".
    pub note: Option<String>,
}

impl RunnerRule {
    /// Compiles one `[[runner]]` entry; `index` is its position, for messages.
    fn from_file(index: usize, r: RunnerFile) -> Result<RunnerRule> {
        let at = format!("runner[{index}]");
        let path = r.path.with_context(|| {
            format!(
                "{at}.path is missing: name the migrations it is for, e.g. path = \"schema/**\""
            )
        })?;
        let value = r.transaction.with_context(|| {
            format!(
                "{at}.transaction is missing: one of file, implicit, statement, none \
                 (e.g. transaction = \"statement\")"
            )
        })?;
        let transaction = Transaction::parse(&value).with_context(|| {
            format!(
                "{at}.transaction = {value:?} is not one of file (BEGIN … COMMIT around each \
                 file), implicit (the file sent as one multi-statement query), statement or \
                 none (each statement committed on its own)"
            )
        })?;
        let matcher = globset::GlobBuilder::new(path.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .with_context(|| format!("{at}.path = {path:?} is not a valid glob"))?
            .compile_matcher();
        Ok(RunnerRule {
            path,
            matcher,
            transaction,
            note: r.note,
        })
    }
}

/// The file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// Default paths when none are given on the command line.
    paths: Option<Vec<PathBuf>>,
    layout: Option<String>,
    /// `auto` (default): other engines' SQL is listed as not reviewed; `postgres`: every file
    /// is reviewed as PostgreSQL.
    dialect: Option<String>,
    fail_on: Option<String>,
    /// Owner used when neither an annotation nor CODEOWNERS names one.
    owner: Option<String>,
    require: Option<RequireFile>,
    rules: Option<BTreeMap<String, String>>,
    thresholds: Option<Thresholds>,
    execution: Option<ExecutionFile>,
    runner: Option<Vec<RunnerFile>>,
    python: Option<PythonFile>,
}

/// `[python]`: how migsafe runs the project's Alembic or Django (issue #16).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PythonFile {
    interpreter: Option<String>,
    timeout: Option<u64>,
    server_version: Option<u32>,
}

/// The threshold that decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Severity(Severity),
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Option<FailOn> {
        Some(match s.to_ascii_lowercase().as_str() {
            "never" => FailOn::Never,
            other => match Level::parse(other)? {
                Level::On(sev) => FailOn::Severity(sev),
                Level::Off => FailOn::Never,
            },
        })
    }
}

/// Everything the review needs to know about the user's choices, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Per-rule overrides by rule name.
    pub rules: BTreeMap<String, Level>,
    pub default_owner: Option<String>,
    pub thresholds: Thresholds,
    pub layout: Option<Layout>,
    /// `dialect = "postgres"`: review every file as PostgreSQL, without recognising other
    /// engines' SQL (issue #10).
    pub force_postgres: bool,
    pub paths: Vec<PathBuf>,
    pub fail_on: FailOn,
    /// Directory the config file was found in (CODEOWNERS and relative paths start here).
    pub root: PathBuf,
    pub execution: Execution,
    /// `[[runner]]`: declared runners by path, first match wins.
    pub runners: Vec<RunnerRule>,
    /// `--transaction`: how every migration given is run, where its own markers do not say.
    pub transaction: Option<Transaction>,
    /// `[python]`: the interpreter and timeout for rendering Alembic/Django migrations.
    pub python: crate::load::python::PythonOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rules: BTreeMap::new(),
            default_owner: None,
            thresholds: Thresholds::default(),
            layout: None,
            force_postgres: false,
            paths: Vec::new(),
            fail_on: FailOn::Severity(Severity::Error),
            root: PathBuf::from("."),
            execution: Execution::default(),
            runners: Vec::new(),
            transaction: None,
            python: crate::load::python::PythonOptions::default(),
        }
    }
}

impl Settings {
    /// How the loader reads the paths.
    pub fn load_options(&self) -> crate::load::Options {
        crate::load::Options {
            layout: self.layout,
            detect_engines: !self.force_postgres,
            python: self.python.clone(),
        }
    }

    /// The severity a rule runs at, or `None` when it is off.
    pub fn level(&self, rule: &crate::rules::Rule) -> Option<Severity> {
        match self.rules.get(rule.name) {
            Some(Level::Off) => None,
            Some(Level::On(sev)) => Some(*sev),
            None => Some(rule.severity),
        }
    }

    /// Reads `path` into settings.
    pub fn from_file(path: &Path) -> Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read config {}", path.display()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Settings::from_toml(&text, root)
            .with_context(|| format!("Failed to load config {}", path.display()))
    }

    /// Parses the text of a `migsafe.toml`.
    pub fn from_toml(text: &str, root: PathBuf) -> Result<Settings> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut settings = Settings {
            root,
            ..Settings::default()
        };
        if let Some(paths) = file.paths {
            settings.paths = paths;
        }
        if let Some(layout) = file.layout {
            settings.layout = Some(parse_layout(&layout)?);
        }
        if let Some(dialect) = file.dialect {
            settings.force_postgres = match dialect.to_ascii_lowercase().as_str() {
                "auto" => false,
                "postgres" | "postgresql" => true,
                _ => bail!("dialect = {dialect:?} is not one of auto, postgres"),
            };
        }
        if let Some(fail_on) = file.fail_on {
            settings.fail_on = FailOn::parse(&fail_on).with_context(|| {
                format!("fail_on = {fail_on:?} is not one of error, warning, info, never")
            })?;
        }
        settings.default_owner = file.owner;
        if let Some(p) = file.python {
            // A relative path (`.venv/bin/python`) is relative to this file's folder; a bare
            // name (`python3`) is looked up on PATH.
            let interpreter = p.interpreter.map(|i| {
                let path = std::path::Path::new(&i);
                if i.contains('/') && path.is_relative() {
                    settings.root.join(path).display().to_string()
                } else {
                    i
                }
            });
            settings.python = crate::load::python::PythonOptions {
                interpreter,
                timeout_secs: p.timeout,
                server_version: p.server_version,
            };
        }
        if let Some(t) = file.thresholds {
            // A batch of 0 rows makes the advised backfill loop stop before it updates
            // anything, and a negative size makes every table "large" or none "small".
            for (key, value, least) in [
                ("small_table_rows", t.small_table_rows, 0),
                ("small_table_bytes", t.small_table_bytes, 0),
                ("large_table_rows", t.large_table_rows, 0),
                ("large_table_bytes", t.large_table_bytes, 0),
                ("batch_rows", t.batch_rows, 1),
            ] {
                if value < least {
                    bail!("thresholds.{key} = {value} must be at least {least}");
                }
            }
            settings.thresholds = t;
        }
        if let Some(e) = file.execution {
            let x = &mut settings.execution;
            for (key, value, slot) in [
                ("lock_timeout", e.lock_timeout, &mut x.lock_timeout),
                (
                    "statement_timeout",
                    e.statement_timeout,
                    &mut x.statement_timeout,
                ),
                ("lock_budget", e.lock_budget, &mut x.lock_budget),
            ] {
                if let Some(v) = value {
                    let parsed = parse_duration(&v).with_context(|| {
                        format!("execution.{key} = {v:?} is not a duration like \"2s\", \"500ms\" or \"5min\"")
                    })?;
                    // PostgreSQL's timeouts are an int of milliseconds (guc.c: INT_MAX).
                    if key != "lock_budget" && parsed.as_millis() > i32::MAX as u128 {
                        anyhow::bail!(
                            "execution.{key} = {v:?} is longer than PostgreSQL allows for a \
                             timeout (2147483647ms, about 24.8 days); use a shorter duration"
                        );
                    }
                    *slot = parsed;
                }
            }
            if let Some(a) = e.analyze {
                x.analyze = a;
            }
            if let Some(w) = e.watch {
                x.watch = Some(settings.root.join(w));
            }
            if let Some(n) = e.watch_top {
                x.watch_top = n;
            }
            if let Some(f) = e.plan_cost_factor {
                if !(f.is_finite() && f > 1.0) {
                    bail!("execution.plan_cost_factor = {f} must be a number above 1 (e.g. 2.0)");
                }
                x.plan_cost_factor = f;
            }
        }
        if let Some(req) = file.require {
            for (key, rule, value) in [
                ("owner", "missing-owner", req.owner),
                ("expect", "missing-expected-result", req.expect),
                ("rollback", "missing-rollback", req.rollback),
            ] {
                if let Some(v) = value {
                    let level = Level::parse(&v).with_context(|| {
                        format!("require.{key} = {v:?} is not one of off, info, warning, error")
                    })?;
                    settings.rules.insert(rule.to_string(), level);
                }
            }
        }
        for (index, r) in file.runner.unwrap_or_default().into_iter().enumerate() {
            settings.runners.push(RunnerRule::from_file(index, r)?);
        }
        for (name, value) in file.rules.unwrap_or_default() {
            let Some(rule) = crate::rules::find(&name) else {
                bail!("rules.{name}: unknown rule (run `migsafe rules` for the catalog)");
            };
            let level = Level::parse(&value).with_context(|| {
                format!("rules.{name} = {value:?} is not one of off, info, warning, error")
            })?;
            settings.rules.insert(rule.name.to_string(), level);
        }
        Ok(settings)
    }

    /// Finds `migsafe.toml` in `start` or its ancestors.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE_NAME))
            .find(|p| p.is_file())
    }
}

pub fn parse_layout(name: &str) -> Result<Layout> {
    Layout::parse(name).with_context(|| {
        let all: Vec<_> = Layout::ALL.iter().map(|l| l.as_str()).collect();
        format!(
            "unknown layout {name:?}; expected one of {}",
            all.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_settings_parse_durations_and_reject_nonsense() {
        let s = Settings::from_toml(
            "[execution]\nlock_budget = \"500ms\"\nstatement_timeout = \"10min\"\nwatch = \"db/watched.sql\"\nplan_cost_factor = 3.0\n",
            "proj".into(),
        )
        .unwrap();
        assert_eq!(s.execution.lock_budget, Duration::from_millis(500));
        assert_eq!(s.execution.statement_timeout, Duration::from_secs(600));
        assert_eq!(s.execution.lock_timeout, Duration::from_secs(300));
        assert_eq!(
            s.execution.watch,
            Some(PathBuf::from("proj/db/watched.sql"))
        );
        assert_eq!(s.execution.plan_cost_factor, 3.0);
        let err =
            Settings::from_toml("[execution]\nlock_budget = \"soon\"\n", ".".into()).unwrap_err();
        assert!(
            format!("{err:#}").contains("execution.lock_budget"),
            "{err:#}"
        );
        let err =
            Settings::from_toml("[execution]\nplan_cost_factor = 0.5\n", ".".into()).unwrap_err();
        assert!(format!("{err:#}").contains("plan_cost_factor"), "{err:#}");
        for bad in [
            "batch_rows = 0",
            "batch_rows = -100",
            "large_table_rows = -1",
        ] {
            let err =
                Settings::from_toml(&format!("[thresholds]\n{bad}\n"), ".".into()).unwrap_err();
            let key = bad.split(' ').next().unwrap_or_default();
            assert!(
                format!("{err:#}").contains(&format!("thresholds.{key}")),
                "{err:#}"
            );
        }
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn runners_parse_and_bad_values_name_the_key() {
        let s = Settings::from_toml(
            "[[runner]]\npath = \"schema/**\"\ntransaction = \"statement\"\nnote = \"temporal-sql-tool\"\n\
             [[runner]]\npath = \"./db/*.sql\"\ntransaction = \"none\"\n",
            ".".into(),
        )
        .unwrap();
        assert_eq!(s.runners.len(), 2);
        assert_eq!(s.runners[0].transaction, Transaction::Statement);
        assert_eq!(s.runners[1].transaction, Transaction::Statement);
        assert!(s.runners[0].matcher.is_match("schema/v1/001.sql"));
        assert!(s.runners[1].matcher.is_match("db/1.sql"));
        assert!(!s.runners[1].matcher.is_match("db/x/1.sql"));
        for (toml, key) in [
            (
                "[[runner]]\npath = \"a\"\ntransaction = \"autocommit\"\n",
                "runner[0].transaction",
            ),
            ("[[runner]]\ntransaction = \"file\"\n", "runner[0].path"),
            ("[[runner]]\npath = \"a\"\n", "runner[0].transaction"),
            (
                "[[runner]]\npath = \"a[\"\ntransaction = \"file\"\n",
                "runner[0].path",
            ),
            (
                "[[runner]]\npath = \"a\"\ntransaction = \"file\"\nmode = 1\n",
                "mode",
            ),
        ] {
            let err = Settings::from_toml(toml, ".".into()).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{toml}: {err:#}");
        }
    }

    #[test]
    fn unknown_key_names_the_key() {
        let err = Settings::from_toml("fail_onn = \"error\"", ".".into()).unwrap_err();
        assert!(format!("{err:#}").contains("fail_onn"), "{err:#}");
    }

    #[test]
    fn unknown_rule_is_an_error() {
        let err = Settings::from_toml("[rules]\nno-such-rule = \"off\"", ".".into()).unwrap_err();
        assert!(format!("{err:#}").contains("no-such-rule"), "{err:#}");
    }

    #[test]
    fn rule_levels_and_requirements_apply() {
        let s = Settings::from_toml(
            "fail_on = \"warning\"\n[require]\nowner = \"error\"\nrollback = \"off\"\n[rules]\ndrop-column = \"off\"\n[thresholds]\nbatch_rows = 5\n",
            ".".into(),
        )
        .unwrap();
        assert_eq!(s.fail_on, FailOn::Severity(Severity::Warning));
        assert_eq!(s.level(crate::rules::by_name("drop-column")), None);
        assert_eq!(
            s.level(crate::rules::by_name("missing-owner")),
            Some(Severity::Error)
        );
        assert_eq!(s.level(crate::rules::by_name("missing-rollback")), None);
        assert_eq!(s.thresholds.batch_rows, 5);
        assert_eq!(s.thresholds.large_table_rows, 1_000_000);
    }
}
