//! The `main` every service binary shares: read the configuration (exit code 2 with one line
//! naming the variable when it is wrong), start the runtime, run the subcommand, report failure.

use std::fmt::Display;
use std::future::Future;
use std::process::{ExitCode, Termination};

/// Loads the configuration with `load`, then runs `run(config)` on a multi-threaded runtime.
/// Its `Ok` value gives the exit code (`()` is success); errors are printed to stderr as
/// `"<service>: <error with causes>"`.
pub fn run<C, E, T, R, Fut>(
    service: &str,
    load: impl FnOnce() -> Result<C, E>,
    run: impl FnOnce(C) -> Fut,
) -> ExitCode
where
    E: Display,
    T: Termination,
    R: Display,
    Fut: Future<Output = Result<T, R>>,
{
    let config = match load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(outcome) => outcome.report(),
        Err(e) => {
            // `{:#}` prints an anyhow error with its causes.
            eprintln!("{service}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
