//! The `migsafe` binary: parse arguments, call the library, map the outcome to an exit code
//! (0 clean, 1 findings at or above --fail-on, 2 the review could not run, 130 interrupted
//! by SIGINT/SIGTERM after cleaning up).

use clap::Parser;
use migsafe::cli::{execute, Cli, Outcome};
use migsafe::evidence::cache::Interrupted;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = execute(cli, &mut out).and_then(|o| out.flush().map(|_| o).map_err(Into::into));
    // The progress lines go before anything else is said on stderr.
    migsafe::progress::finish();
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<Interrupted>().is_some() => {
            eprintln!("migsafe: {err:#}");
            ExitCode::from(Interrupted::EXIT_CODE as u8)
        }
        Err(err) => {
            eprintln!("migsafe: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A closed pipe (`migsafe check | head`) is not an error (ripgrep and ruff agree).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
