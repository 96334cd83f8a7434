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
    version,
    about = "Reviews database migrations before they ship",
    long_about = "Reviews database migrations before they ship: every risky statement with \
                  what it locks, why it is risky, what to do instead, and the migration's \
                  owner, expected result and rollback."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

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
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Migration files or folders; `-` reads SQL from stdin. Defaults to `paths` in
    /// migsafe.toml. Example: migsafe check db/migrations
    pub paths: Vec<PathBuf>,

    /// Output format on stdout: table, markdown or json. Example: --format json
    #[arg(long, default_value = "table")]
    pub format: String,

    /// Exit 1 when a finding is at or above this severity: error, warning, info or never.
    /// Defaults to `fail_on` in migsafe.toml, else error. Example: --fail-on warning
    #[arg(long)]
    pub fail_on: Option<String>,

    /// Config file instead of the migsafe.toml found upward from the current directory.
    /// Example: --config ci/migsafe.toml
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Override layout detection: plain, sqlx, diesel, golang-migrate, goose, dbmate,
    /// flyway or alembic. Example: --layout goose
    #[arg(long)]
    pub layout: Option<String>,

    /// A copy of the database to inspect (catalog level): table sizes, existing indexes,
    /// statistics, applied migrations and plain EXPLAIN. Only read-only queries run there.
    /// Example: --database-url postgres://review@copy-host/shop
    #[arg(long, env = "MIGSAFE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Review every migration, including those the copy's history table says are applied.
    #[arg(long)]
    pub all: bool,
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
}

impl CheckArgs {
    /// Validates the arguments and merges them with the config file.
    pub fn into_config(self) -> Result<CheckConfig> {
        let format: Format = self.format.parse()?;
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
        // Without a copy every migration is reviewed anyway, so `--all` is harmless there:
        // CI scripts can pass it whether or not MIGSAFE_DATABASE_URL is set.
        Ok(CheckConfig {
            paths,
            format,
            settings,
            database_url,
            all: self.all,
        })
    }
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above `--fail-on`.
    Clean,
    /// Findings at or above `--fail-on`.
    Findings,
}

/// Runs a parsed command line, writing all output to `out`.
pub fn execute(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    match cli.command {
        Command::Check(args) => {
            let config = args.into_config()?;
            let mut stdin = std::io::stdin();
            let report = match &config.database_url {
                None => crate::review::check_paths(&config.paths, &config.settings, &mut stdin)?,
                Some(url) => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("Failed to start the async runtime")?;
                    runtime.block_on(crate::review::check_on_copy(
                        &config.paths,
                        &config.settings,
                        &mut stdin,
                        url,
                        config.all,
                    ))?
                }
            };
            report::render(&report, config.format, out)?;
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
        Command::Rules => {
            report::rules::render_catalog(RULES, out)?;
            Ok(Outcome::Clean)
        }
        Command::Rule { name } => {
            let Some(rule) = rules::find(&name) else {
                bail!("unknown rule {name:?}; run `migsafe rules` for the catalog");
            };
            report::rules::render_rule(rule, out)?;
            Ok(Outcome::Clean)
        }
    }
}
