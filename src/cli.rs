//! The command line in two layers (ripgrep's shape): clap `Cli` mirrors what was typed,
//! `CheckConfig` is the validated form the library runs with.

use crate::config::{FailOn, Settings};
use crate::report::{self, Format};
use crate::rules::{self, RULES};
use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "migsafe",
    version = crate::dist::VERSION,
    about = "Reviews database migrations before they ship",
    long_about = "Reviews database migrations before they ship: every risky statement with \
                  what it locks, why it is risky, what to do instead, and the migration's \
                  owner, expected result and rollback."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour terminal output (the table and concise formats, the rule catalog):
    /// auto (when stdout is a terminal and NO_COLOR is unset), always or never.
    /// Example: --color never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto",
          value_parser = report::ColorChoice::NAMES)]
    pub color: String,
}

// Parsed once per run: the size of the `check` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Review migrations (files, folders, or - for stdin).
    ///
    /// Example: migsafe check migrations/ --format json --fail-on warning
    Check(CheckArgs),
    /// List the rule catalog.
    ///
    /// Example: migsafe rules
    Rules,
    /// Show one rule: what, why, instead, rollback, and its bad and good example.
    ///
    /// Example: migsafe rule create-index-non-concurrently
    Rule {
        /// Rule name or code, e.g. `set-not-null` or `M007`.
        name: String,
    },
    /// Manage the cache of restored dumps (`--restore`): list or clear it.
    ///
    /// Example: migsafe cache list
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Print the shell completion script for SHELL.
    ///
    /// Example: migsafe completions bash > ~/.local/share/bash-completion/completions/migsafe
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_parser = crate::dist::SHELLS)]
        shell: String,
    },
    /// Print the man page migsafe(1), or write one page per subcommand into a folder.
    ///
    /// Example: migsafe man --out-dir share/man/man1
    Man {
        /// Write migsafe.1 and migsafe-<subcommand>.1 into this folder instead of printing
        /// migsafe.1. Example: --out-dir share/man/man1
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Export production's catalog facts (version, settings, sizes, indexes, constraints,
    /// dependencies, top queries) as JSON with no row values, for `check --production`.
    /// Read-only: the same queries as the catalog level.
    ///
    /// Example: migsafe snapshot --database-url postgres://readonly@prod/shop --output prod.json
    Snapshot(SnapshotArgs),
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The database to describe (production, or a read replica of it). Only read-only
    /// catalog and statistics queries run there.
    /// Example: --database-url postgres://readonly@prod-replica/shop
    #[arg(long, env = "MIGSAFE_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// Write the snapshot to FILE instead of stdout. Example: --output ci/production.json
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How many of the top pg_stat_statements queries (by total time) to keep, when the
    /// extension is installed; 0 for none. Example: --top-queries 50
    #[arg(long, value_name = "N", default_value_t = crate::evidence::snapshot::DEFAULT_TOP_QUERIES)]
    pub top_queries: usize,

    /// Also export pg_stats per column, including most common values and histogram bounds.
    /// These ARE row values: the file must then be protected like the data itself.
    #[arg(long)]
    pub include_statistics: bool,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Cached templates with their dumps and sizes, and the cache's size on disk.
    List,
    /// Remove every cached template and cluster.
    Clear,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Migration files or folders; `-` reads SQL from stdin. Defaults to `paths` in
    /// migsafe.toml. Example: migsafe check db/migrations
    pub paths: Vec<PathBuf>,

    /// Output format on stdout: table, concise (one line per finding), markdown (the PR
    /// comment), html (one self-contained page), json, sarif, github (workflow annotations)
    /// or gitlab (Code Quality). Example: --format concise
    #[arg(long, default_value = "table")]
    pub format: String,

    /// Also write the report in FORMAT to PATH; repeatable. The folder must exist.
    /// Example: --report sarif=migsafe.sarif --report markdown=migsafe.md
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<String>,

    /// Report only the migrations added or modified since the merge base of HEAD and this git
    /// ref (committed, uncommitted and untracked files); the earlier ones are still read for
    /// the schema they build. Example: --changed-since origin/main
    #[arg(long, value_name = "GIT_REF")]
    pub changed_since: Option<String>,

    /// Do not add GitHub annotations to the output when GITHUB_ACTIONS=true (they are added
    /// by default there, on stdout after a table, else on stderr).
    #[arg(long)]
    pub no_github_annotations: bool,

    /// Exit 1 when a finding is at or above this severity: error, warning, info or never.
    /// Defaults to `fail_on` in migsafe.toml, else error. Example: --fail-on warning
    #[arg(long)]
    pub fail_on: Option<String>,

    /// Config file instead of the migsafe.toml found upward from the current directory.
    /// Example: --config ci/migsafe.toml
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Override layout detection: plain, sqlx, diesel, golang-migrate, goose, dbmate,
    /// flyway, alembic, popx, prisma, atlas, liquibase, temporal, dolphinscheduler, authelia
    /// or django.
    /// Example: --layout goose
    #[arg(long)]
    pub layout: Option<String>,

    /// How the project's runner sends every migration given, where the file's own markers do
    /// not say: file (BEGIN … COMMIT around each file), implicit (each file sent as one
    /// multi-statement query), statement or none (each statement committed on its own, as
    /// psql does). Per path: [[runner]] in migsafe.toml. Example: --transaction statement
    #[arg(long, value_name = "MODE")]
    pub transaction: Option<String>,

    /// A copy of the database to inspect (catalog level): table sizes, existing indexes,
    /// statistics, applied migrations and plain EXPLAIN. Only read-only queries run there.
    /// Example: --database-url postgres://review@copy-host/shop
    #[arg(long, env = "MIGSAFE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Review every migration, including those the copy's history table says are applied.
    #[arg(long)]
    pub all: bool,

    /// Execution level: also run the pending migrations on a clone of the --database-url
    /// database (CREATE DATABASE … TEMPLATE on its server), dropped when the run ends.
    #[arg(long, conflicts_with = "disposable")]
    pub clone: bool,

    /// Execution level: the --database-url database is itself a throwaway copy, so the
    /// pending migrations may run on it directly. Never use this on a database you keep.
    #[arg(long)]
    pub disposable: bool,

    /// With --clone or --disposable: EXPLAIN (ANALYZE, BUFFERS) the migration's DML as it
    /// runs on the disposable copy, instead of a plain EXPLAIN.
    #[arg(long)]
    pub analyze: bool,

    /// Restore DUMP (plain SQL, gzip'd SQL, custom or directory pg_dump) into a throwaway
    /// database and review there, running the migrations (execution level). On the server
    /// of --database-url when given, else in a temporary local PostgreSQL. Restores are
    /// cached by the dump's checksum. Example: --restore backups/shop.dump
    #[arg(long, value_name = "DUMP", conflicts_with_all = ["clone", "disposable"])]
    pub restore: Option<PathBuf>,

    /// With --restore: restore afresh and keep nothing afterwards.
    #[arg(long)]
    pub no_cache: bool,

    /// Production's snapshot (from `migsafe snapshot`): report how the copy differs from
    /// production, judge lock and rewrite findings at production's table sizes, and predict
    /// each measured duration and lock at that size. Needs a copy (--database-url or
    /// --restore). Example: --production ci/production.json
    #[arg(long, value_name = "SNAPSHOT")]
    pub production: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `check` runs with, validated.
#[derive(Debug)]
pub struct CheckConfig {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub settings: Settings,
    /// The copy to read at catalog level; `None` is a static review.
    pub database_url: Option<String>,
    /// Review applied migrations too.
    pub all: bool,
    /// How far a review with a copy goes: run the migrations on a clone or on the copy
    /// itself (execution level), or only read it (catalog level).
    pub execution: ExecutionMode,
    pub analyze: bool,
    /// `--restore`: the dump to restore into a throwaway database.
    pub restore: Option<PathBuf>,
    pub cache: bool,
    pub quiet: bool,
    /// Narrow the report to migrations changed since this git ref.
    pub changed_since: Option<String>,
    /// Extra reports to write: (format, path).
    pub reports: Vec<(Format, PathBuf)>,
    /// Add GitHub workflow annotations next to the chosen format.
    pub github_annotations: bool,
    /// The command line that reproduces the run, password redacted, without `--format` and
    /// `--report` (the PR comment's footer).
    pub command: String,
    /// `--color`: whether the terminal formats on stdout are coloured.
    pub color: report::ColorChoice,
    /// `--production`: production's snapshot, read and validated.
    pub production: Option<crate::production::ProductionInput>,
}

impl CheckArgs {
    /// Validates the arguments and merges them with the config file.
    pub fn into_config(self) -> Result<CheckConfig> {
        let format: Format = self.format.parse()?;
        let command = self.command_line();
        let reports = self
            .reports
            .iter()
            .map(|spec| parse_report(spec))
            .collect::<Result<Vec<_>>>()?;
        let github_annotations = !self.no_github_annotations
            && std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let config_path = match self.config {
            Some(p) => {
                if !p.is_file() {
                    bail!("Failed to read config {}: no such file", p.display());
                }
                Some(p)
            }
            None => std::env::current_dir()
                .ok()
                .and_then(|d| Settings::discover(&d)),
        };
        let mut settings = match &config_path {
            Some(p) => Settings::from_file(p)?,
            None => Settings::default(),
        };
        if let Some(fail_on) = self.fail_on {
            settings.fail_on = FailOn::parse(&fail_on).with_context(|| {
                format!("--fail-on {fail_on:?} is not one of error, warning, info, never")
            })?;
        }
        if let Some(layout) = self.layout {
            settings.layout = Some(crate::config::parse_layout(&layout)?);
        }
        if let Some(mode) = &self.transaction {
            settings.transaction =
                Some(crate::model::Transaction::parse(mode).with_context(|| {
                    format!("--transaction {mode:?} is not one of file, implicit, statement, none")
                })?);
        }
        let paths = if self.paths.is_empty() {
            settings
                .paths
                .iter()
                .map(|p| settings.root.join(p))
                .collect()
        } else {
            self.paths
        };
        if paths.is_empty() {
            bail!("no migrations given: pass files or folders (or `-` for stdin), or set `paths` in migsafe.toml");
        }
        let database_url = self.database_url.filter(|u| !u.trim().is_empty());
        let execution = match (self.clone, self.disposable) {
            (true, _) => ExecutionMode::Clone,
            (_, true) => ExecutionMode::Disposable,
            _ => ExecutionMode::ReadOnly,
        };
        if execution != ExecutionMode::ReadOnly && database_url.is_none() {
            bail!(
                "--clone and --disposable need --database-url (or MIGSAFE_DATABASE_URL): the \
                 database to clone, or the throwaway copy to run the migrations on"
            );
        }
        if let Some(dump) = &self.restore {
            if !dump.exists() {
                bail!(
                    "Failed to read dump {}: no such file or directory",
                    dump.display()
                );
            }
        }
        if self.analyze && execution == ExecutionMode::ReadOnly && self.restore.is_none() {
            bail!(
                "--analyze runs the migration's DML, so it needs a disposable copy: add --clone \
                 or --disposable"
            );
        }
        let production = match &self.production {
            Some(_) if database_url.is_none() && self.restore.is_none() => bail!(
                "--production compares production's snapshot with a copy: add --database-url \
                 (or MIGSAFE_DATABASE_URL) or --restore"
            ),
            Some(path) => Some(crate::production::ProductionInput::read(path)?),
            None => None,
        };
        // Without a copy every migration is reviewed anyway, so `--all` is harmless there:
        // CI scripts can pass it whether or not MIGSAFE_DATABASE_URL is set.
        Ok(CheckConfig {
            paths,
            format,
            settings,
            database_url,
            all: self.all,
            execution,
            analyze: self.analyze,
            restore: self.restore.clone(),
            cache: !self.no_cache,
            quiet: self.quiet,
            changed_since: self.changed_since,
            reports,
            github_annotations,
            command,
            color: report::ColorChoice::Auto,
            production,
        })
    }

    /// `migsafe check …` as typed, for reproducing the run: without `--format`/`--report`
    /// (the renderer adds its own format) and with the database password redacted.
    fn command_line(&self) -> String {
        let mut words = vec!["migsafe".to_string(), "check".to_string()];
        words.extend(self.paths.iter().map(|p| shell_word(&p.to_string_lossy())));
        let mut flag = |name: &str, value: Option<&str>| {
            if let Some(v) = value {
                words.push(name.to_string());
                words.push(shell_word(v));
            }
        };
        flag("--changed-since", self.changed_since.as_deref());
        flag("--fail-on", self.fail_on.as_deref());
        flag(
            "--config",
            self.config.as_ref().map(|c| c.to_string_lossy()).as_deref(),
        );
        flag("--layout", self.layout.as_deref());
        flag("--transaction", self.transaction.as_deref());
        let url = self
            .database_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(crate::evidence::connect::redact_url);
        flag("--database-url", url.as_deref());
        flag(
            "--production",
            self.production
                .as_ref()
                .map(|p| p.to_string_lossy())
                .as_deref(),
        );
        flag(
            "--restore",
            self.restore
                .as_ref()
                .map(|p| p.to_string_lossy())
                .as_deref(),
        );
        for (set, name) in [
            (self.all, "--all"),
            (self.clone, "--clone"),
            (self.disposable, "--disposable"),
            (self.analyze, "--analyze"),
            (self.no_cache, "--no-cache"),
        ] {
            if set {
                words.push(name.to_string());
            }
        }
        words.join(" ")
    }
}

/// How far a review with a copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionMode {
    /// Catalog level: read-only queries and plain EXPLAIN.
    ReadOnly,
    /// Execution level on a clone migsafe makes and drops (`--clone`).
    Clone,
    /// Execution level on the `--database-url` database itself (`--disposable`).
    Disposable,
}

/// The review with a copy: makes the clone when asked, runs the review, and drops the clone
/// whatever happens, also on Ctrl-C.
async fn review_on_copy(
    config: &CheckConfig,
    url: &str,
    stdin: &mut dyn std::io::Read,
) -> Result<crate::model::Report> {
    let mut target = crate::review::Target {
        url: url.to_string(),
        execute_on: None,
        analyze: config.analyze,
    };
    let started = std::time::Instant::now();
    let clone = match config.execution {
        // Signals are listened for while the clone is made too: the guard inside `create`
        // cancels the copy and drops the half-made clone when this future is dropped.
        ExecutionMode::Clone => Some(tokio::select! {
            clone = crate::evidence::clone::Clone::create(url) => clone?,
            signal = crate::evidence::cache::interrupted() => {
                return Err(crate::evidence::cache::Interrupted { signal }.into());
            }
        }),
        ExecutionMode::Disposable => {
            target.execute_on = Some(url.to_string());
            None
        }
        ExecutionMode::ReadOnly => None,
    };
    let clone_phase = clone.as_ref().map(|c| crate::model::Phase {
        name: "clone".to_string(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        detail: Some(c.name.clone()),
    });
    if let Some(c) = &clone {
        target.execute_on = Some(c.url.clone());
    }
    let review = crate::review::check_on_target_with(
        &config.paths,
        &config.settings,
        stdin,
        &target,
        config.all,
        config.production.as_ref(),
    );
    let result = tokio::select! {
        r = review => r,
        signal = crate::evidence::cache::interrupted() => {
            Err(crate::evidence::cache::Interrupted { signal }.into())
        }
    };
    // The cause comes first: a clone that cannot be dropped because the server died is
    // named as left behind, never shown instead of why the run failed.
    let mut left_behind = Vec::new();
    let mut cleanup_error = None;
    if let Some(c) = clone {
        let name = c.name.clone();
        if let Err(e) = c.drop_now().await {
            left_behind.push(format!("database {name}"));
            cleanup_error = Some(e);
        }
    }
    let mut report = match (result, cleanup_error) {
        (Err(cause), _) => {
            if cause
                .downcast_ref::<crate::evidence::cache::Interrupted>()
                .is_some()
            {
                if !left_behind.is_empty() {
                    crate::progress::always(&format!(
                        "warning: left behind: {}",
                        left_behind.join(", ")
                    ));
                }
                return Err(cause);
            }
            return Err(crate::evidence::lost::classify(cause, left_behind));
        }
        (Ok(_), Some(cleanup)) => {
            return Err(crate::evidence::lost::classify(cleanup, left_behind))
        }
        (Ok(report), None) => report,
    };
    if let Some(p) = clone_phase {
        report.phases.insert(0, p);
    }
    Ok(report)
}

/// `sarif=out/migsafe.sarif` → (Sarif, path), checking that the folder exists before the
/// review runs (a typo must not cost a whole run).
fn parse_report(spec: &str) -> Result<(Format, PathBuf)> {
    let Some((name, path)) = spec.split_once('=') else {
        bail!("--report {spec:?} is not FORMAT=PATH, e.g. --report sarif=migsafe.sarif");
    };
    let format: Format = name.parse()?;
    if path.trim().is_empty() {
        bail!("--report {spec:?} names no file, e.g. --report {name}=migsafe.out");
    }
    let path = PathBuf::from(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            bail!(
                "--report {spec}: cannot write {}: the folder {} does not exist",
                path.display(),
                dir.display()
            );
        }
    }
    Ok((format, path))
}

/// A word as a POSIX shell reads it back: as is when it is plain, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Where the report's paths sit in the repository, for the formats that locate files from
/// its root (SARIF, annotations, Code Quality).
fn run_info(config: &CheckConfig) -> Result<report::RunInfo> {
    let cwd = std::env::current_dir().context("Failed to read the current directory")?;
    let (prefix, root) = match crate::changed::repo(&cwd) {
        Some(repo) => (repo.prefix, repo.toplevel),
        None => (String::new(), cwd.canonicalize().unwrap_or(cwd)),
    };
    Ok(report::RunInfo {
        prefix,
        root: Some(root),
        home: std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute() && h.as_os_str().len() > 1),
        command: Some(config.command.clone()),
        reports: config
            .reports
            .iter()
            .map(|(f, p)| (*f, p.to_string_lossy().into_owned()))
            .collect(),
    })
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above `--fail-on`.
    Clean,
    /// Findings at or above `--fail-on`.
    Findings,
}

/// Writes the `--report` files, the chosen format to `out`, and GitHub annotations when
/// running in GitHub Actions: after a table on `out`; on stderr next to any other format
/// (the runner reads workflow commands from both, and JSON or Markdown must stay clean).
fn write_outputs(
    report: &crate::model::Report,
    config: &CheckConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let run = run_info(config)?;
    for (format, path) in &config.reports {
        let file = std::fs::File::create(path).with_context(|| {
            format!("Failed to write the {format} report to {}", path.display())
        })?;
        let mut file = std::io::BufWriter::new(file);
        report::render_run(report, *format, &report::Terminal::plain(), &run, &mut file)
            .and_then(|()| file.flush().map_err(Into::into))
            .with_context(|| {
                format!("Failed to write the {format} report to {}", path.display())
            })?;
    }
    report::render_run(
        report,
        config.format,
        &report::Terminal::detect_with(config.color),
        &run,
        out,
    )?;
    if config.github_annotations && config.format != Format::Github {
        let (report, run) = report::relative::prepare(report, Format::Github, &run);
        if config.format == Format::Table {
            report::github::annotations(&report, &run, out)?;
        } else {
            let mut err = std::io::stderr().lock();
            report::github::annotations(&report, &run, &mut err)?;
        }
    }
    Ok(())
}

/// Runs a parsed command line, writing all output to `out`.
pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    // clap has checked the value against the same names.
    let color = report::ColorChoice::parse(&cli.color).unwrap_or_default();
    match cli.command {
        Command::Check(args) => {
            let mut config = args.into_config()?;
            config.color = color;
            crate::progress::set_quiet(config.quiet);
            // Asked before the review, so that a bad ref fails before any database work.
            let changed = match &config.changed_since {
                Some(git_ref) => {
                    let cwd =
                        std::env::current_dir().context("Failed to read the current directory")?;
                    Some(crate::changed::changed_since(&cwd, git_ref)?)
                }
                None => None,
            };
            let mut stdin = std::io::stdin();
            let mut report = match (&config.restore, &config.database_url) {
                (None, None) => {
                    crate::review::check_paths(&config.paths, &config.settings, &mut stdin)?
                }
                (Some(dump), server) => runtime()?.block_on(review_restored(
                    &config,
                    dump,
                    server.as_deref(),
                    &mut stdin,
                ))?,
                (None, Some(url)) => {
                    runtime()?.block_on(review_on_copy(&config, url, &mut stdin))?
                }
            };
            if let Some(changed) = &changed {
                crate::changed::restrict(&mut report, changed);
            }
            write_outputs(&report, &config, out)?;
            let failed = match config.settings.fail_on {
                FailOn::Never => false,
                FailOn::Severity(threshold) => report.worst().is_some_and(|w| w >= threshold),
            };
            Ok(if failed {
                Outcome::Findings
            } else {
                Outcome::Clean
            })
        }
        Command::Snapshot(args) => {
            snapshot(args, out)?;
            Ok(Outcome::Clean)
        }
        Command::Rules => {
            report::rules::render_catalog_with(RULES, &report::Terminal::detect_with(color), out)?;
            Ok(Outcome::Clean)
        }
        Command::Rule { name } => {
            let Some(rule) = rules::find(&name) else {
                bail!("unknown rule {name:?}; run `migsafe rules` for the catalog");
            };
            report::rules::render_rule_with(rule, &report::Terminal::detect_with(color), out)?;
            Ok(Outcome::Clean)
        }
        Command::Completions { shell } => {
            crate::dist::completions(&shell, out)?;
            Ok(Outcome::Clean)
        }
        Command::Man { out_dir: None } => {
            crate::dist::man(out)?;
            Ok(Outcome::Clean)
        }
        Command::Man { out_dir: Some(dir) } => {
            for page in crate::dist::man_pages(&dir)? {
                writeln!(out, "{}", page.display())?;
            }
            Ok(Outcome::Clean)
        }
        Command::Cache { action } => {
            use crate::evidence::cache;
            let dir = cache::cache_dir()?;
            match action {
                CacheAction::List => {
                    let listing = cache::list(&dir)?;
                    writeln!(out, "cache: {}", listing.dir.display())?;
                    if listing.templates.is_empty() {
                        writeln!(out, "no restored dumps cached")?;
                    }
                    for t in &listing.templates {
                        writeln!(
                            out,
                            "{}  {}  {} ({}), restored {}  PostgreSQL {}  {}",
                            t.name,
                            crate::report::text::bytes(
                                i64::try_from(t.database_bytes).unwrap_or(i64::MAX)
                            ),
                            t.dump,
                            t.format,
                            t.created_utc(),
                            t.server_major,
                            &t.checksum.get(..12).unwrap_or(&t.checksum),
                        )?;
                    }
                    writeln!(
                        out,
                        "{} on disk",
                        crate::report::text::bytes(
                            i64::try_from(listing.bytes_on_disk).unwrap_or(i64::MAX)
                        )
                    )?;
                }
                CacheAction::Clear => {
                    let freed =
                        runtime()?.block_on(cache::clear(&dir, &cache::Terminal::new(false)))?;
                    writeln!(
                        out,
                        "cleared {}: {} freed",
                        dir.display(),
                        crate::report::text::bytes(i64::try_from(freed).unwrap_or(i64::MAX))
                    )?;
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// `migsafe snapshot`: reads production's catalog and writes the snapshot to the file or
/// to `out`.
fn snapshot(args: SnapshotArgs, out: &mut dyn Write) -> Result<()> {
    use crate::evidence::snapshot;
    if let Some(dir) = args
        .output
        .as_ref()
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        if !dir.is_dir() {
            bail!(
                "--output: cannot write the snapshot into {}: the folder does not exist",
                dir.display()
            );
        }
    }
    let options = snapshot::SnapshotOptions {
        top_queries: args.top_queries,
        statistics: args.include_statistics,
    };
    let taken = runtime()?.block_on(snapshot::take(&args.database_url, &options))?;
    let json = taken.to_json()?;
    match &args.output {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("Failed to write the snapshot to {}", path.display()))?,
        None => out
            .write_all(json.as_bytes())
            .context("Failed to write the snapshot")?,
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("Failed to start the async runtime")
}

/// The review on a restored dump: restore (or clone the cached template), review there with
/// the migrations executed (the restored database is disposable), clean up on every path.
async fn review_restored(
    config: &CheckConfig,
    dump: &std::path::Path,
    server: Option<&str>,
    stdin: &mut dyn std::io::Read,
) -> Result<crate::model::Report> {
    use crate::evidence::cache;
    let options = cache::RestoreOptions {
        cache: config.cache,
        ..cache::RestoreOptions::default()
    };
    let progress = cache::Terminal::new(config.quiet);
    cache::with_restored_copy(
        dump,
        server,
        &options,
        &progress,
        |url, phases| async move {
            let target = crate::review::Target {
                url: url.clone(),
                execute_on: Some(url),
                analyze: config.analyze,
            };
            let mut report = crate::review::check_on_target_with(
                &config.paths,
                &config.settings,
                stdin,
                &target,
                config.all,
                config.production.as_ref(),
            )
            .await
            .map_err(|e| crate::evidence::lost::classify(e, Vec::new()))?;
            let mut all = phases;
            all.append(&mut report.phases);
            report.phases = all;
            Ok(report)
        },
    )
    .await
}

#[cfg(test)]
mod ci_tests {
    use super::*;

    fn command(args: &[&str]) -> String {
        let cli = Cli::parse_from(args);
        let Command::Check(check) = cli.command else {
            panic!("not check");
        };
        check.command_line()
    }

    #[test]
    fn reproduce_command_redacts_the_password_and_quotes_words() {
        let line = command(&[
            "migsafe",
            "check",
            "db/my migrations",
            "--format",
            "json",
            "--report",
            "sarif=x.sarif",
            "--changed-since",
            "origin/main",
            "--database-url",
            "postgres://review:s3cret@copy-host/shop",
        ]);
        assert_eq!(
            line,
            "migsafe check 'db/my migrations' --changed-since origin/main \
             --database-url 'postgres://review:***@copy-host/shop'"
        );
        assert!(!line.contains("s3cret"));
    }

    #[test]
    fn report_specs_are_checked_before_the_run() {
        assert_eq!(
            parse_report("md=out.md").unwrap(),
            (Format::Markdown, PathBuf::from("out.md"))
        );
        let err = parse_report("sarif=no/such/dir/x.sarif")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no/such/dir/x.sarif") && err.contains("does not exist"),
            "{err}"
        );
        assert!(parse_report("sarif").is_err());
        assert!(parse_report("sarif=").is_err());
    }
}
