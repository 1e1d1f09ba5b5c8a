//! `payment-webhook`'s subcommands: serve (default), migrate.

use clap::{Parser, Subcommand};

use crate::app::INFO;
use crate::config::WebhookConfig;

/// The command line.
#[derive(Parser)]
#[command(
    name = "payment-webhook",
    about = "Stripe webhook intake: verified Stripe events become payment events"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve POST /webhooks/stripe and publish outbox events (default).
    Serve,
    /// Apply pending database migrations in the `payments` schema.
    Migrate,
}

/// Runs the subcommand `cli` names.
pub async fn run(cli: Cli, config: WebhookConfig) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let base = config.base.clone();
            platform::service::serve(&INFO, base, |res| crate::app::describe(&config, res)).await
        }
        Command::Migrate => platform::service::migrate(&INFO, &config.base).await,
    }
}
