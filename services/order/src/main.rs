//! `order`: reads the configuration and runs the subcommand (see `order::cli`).

use clap::Parser;
use order::cli::{self, Cli};
use order::config::OrderConfig;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    platform::cli::run(order::app::SERVICE, OrderConfig::from_env, |config| cli::run(cli, config))
}
