//! `payment-webhook`: reads the configuration and runs the subcommand (see `payment_webhook::cli`).

use clap::Parser;
use payment_webhook::cli::{self, Cli};
use payment_webhook::config::WebhookConfig;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    platform::cli::run(payment_webhook::app::SERVICE, WebhookConfig::from_env, |config| cli::run(cli, config))
}
