//! `catalog`: reads the configuration and runs the subcommand (see `catalog::cli`).

use catalog::cli::{self, Cli};
use catalog::config::CatalogConfig;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    platform::cli::run(catalog::app::SERVICE, CatalogConfig::from_env, |config| cli::run(cli, config))
}
