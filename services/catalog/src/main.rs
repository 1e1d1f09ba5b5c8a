//! `catalog`: reads the configuration and runs the subcommand (see `catalog::cli`).

use catalog::cli::{self, ABOUT, Command};
use catalog::config::CatalogConfig;

fn main() -> std::process::ExitCode {
    let command = platform::cli::parse::<Command>(catalog::app::SERVICE, ABOUT);
    platform::cli::run(catalog::app::SERVICE, CatalogConfig::from_env, |config| cli::run(command, config))
}
