//! `cart`'s subcommands: serve (default), migrate.

use clap::{Parser, Subcommand};

use crate::app::INFO;
use crate::config::CartConfig;

/// The command line.
#[derive(Parser)]
#[command(name = "cart", about = "Carts: guest and customer carts with stock reserved through catalog")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the cart API, its internal API and the order-event consumer (default).
    Serve,
    /// Apply pending database migrations in the `cart` schema.
    Migrate,
}

/// Runs the subcommand `cli` names.
pub async fn run(cli: Cli, config: CartConfig) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let base = config.base.clone();
            platform::service::serve(&INFO, base, |res| crate::app::describe(&config, res)).await
        }
        Command::Migrate => platform::service::migrate(&INFO, &config.base).await,
    }
}
