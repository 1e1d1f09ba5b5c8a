//! The `main` every service binary shares: read the configuration (exit code 2 with one line
//! naming the variable when it is wrong), start the runtime, run the subcommand, report failure.

use std::fmt::Display;
use std::future::Future;
use std::process::{ExitCode, Termination};

use crate::service::{BaseConfig, Config, Resources, ServiceInfo, ServiceSpec, ServiceVars};

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

/// The subcommands every service binary has (ARCHITECTURE §6); a service adds its own next to
/// them with `#[command(flatten)]`.
#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum ServiceCommand {
    /// Serve the HTTP API, the consumers, the background tasks and the outbox relay (default).
    Serve,
    /// Apply pending database migrations in the service's schema.
    Migrate,
}

impl ServiceCommand {
    /// Runs `serve` or `migrate` for the service `describe` describes.
    pub async fn run<F>(self, info: &'static ServiceInfo, base: BaseConfig, describe: F) -> anyhow::Result<()>
    where
        F: FnOnce(&Resources) -> anyhow::Result<ServiceSpec>,
    {
        match self {
            Self::Serve => crate::service::serve(info, base, describe).await,
            Self::Migrate => crate::service::migrate(info, &base).await,
        }
    }
}

#[derive(clap::Parser)]
struct Line<C: clap::Subcommand> {
    #[command(subcommand)]
    command: Option<C>,
}

/// Parses the command line into the service's subcommand (`None`: none given, i.e. serve);
/// `--help` and usage errors exit the process as clap does.
pub fn parse<C: clap::Subcommand>(name: &'static str, about: &'static str) -> Option<C> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Line::<C>::command().name(name).about(about).get_matches();
    match Line::<C>::from_arg_matches(&matches) {
        Ok(line) => line.command,
        Err(e) => e.exit(),
    }
}

/// The whole `main` of a service with subcommands of its own (`C` flattens [`ServiceCommand`]):
/// parses the command line, reads `Config<S>`, then hands both to `run_command`.
pub fn main_with_commands<C, S, T, Fut>(
    about: &'static str,
    run_command: impl FnOnce(Option<C>, Config<S>) -> Fut,
) -> ExitCode
where
    C: clap::Subcommand,
    S: ServiceVars,
    T: Termination,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let info = S::INFO;
    let command = parse::<C>(info.name, about);
    run(info.name, Config::<S>::from_env, |config| run_command(command, config))
}

/// The whole `main` of a service whose only subcommands are [`ServiceCommand`]s.
pub fn main_with_standard_commands<S: ServiceVars>(
    about: &'static str,
    describe: impl FnOnce(&Config<S>, &Resources) -> anyhow::Result<ServiceSpec>,
) -> ExitCode {
    let info = S::INFO;
    let command = parse::<ServiceCommand>(info.name, about).unwrap_or(ServiceCommand::Serve);
    run(info.name, Config::<S>::from_env, |config| async move {
        command.run(info, config.base.clone(), |res| describe(&config, res)).await
    })
}
