//! `payment-webhook`: serve (default), migrate.

use clap::{Parser, Subcommand};
use payment_webhook::config::{SCHEMA, WebhookConfig};

#[derive(Parser)]
#[command(
    name = "payment-webhook",
    about = "Stripe webhook intake: verified Stripe events become payment events"
)]
struct Cli {
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    platform::cli::run(payment_webhook::app::SERVICE, WebhookConfig::from_env, |config| run(cli, config))
}

async fn run(cli: Cli, config: WebhookConfig) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = platform::telemetry::init(payment_webhook::app::SERVICE, config.log_format);
            payment_webhook::app::serve(config).await
        }
        Command::Migrate => {
            let url = config.database_url.expose();
            let applied = platform::db::migrate(url, SCHEMA, payment_webhook::MIGRATIONS).await?;
            println!("payment-webhook: {applied} migration(s) applied");
            Ok(())
        }
    }
}
