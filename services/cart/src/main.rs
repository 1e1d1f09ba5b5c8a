//! `cart`: reads the configuration and runs the subcommand (see `cart::cli`).

use cart::cli::{self, Cli};
use cart::config::CartConfig;
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    platform::cli::run(cart::app::SERVICE, CartConfig::from_env, |config| cli::run(cli, config))
}
