//! `order`'s subcommands: serve (default), migrate, worker, sweep.

use clap::{Parser, Subcommand};

use crate::app::INFO;
use crate::config::OrderConfig;

/// The command line.
#[derive(Parser)]
#[command(name = "order", about = "Checkout, orders and payments; `order worker` sends the customer emails")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the checkout and order API, apply payment events, run the sweeper (default).
    Serve,
    /// Apply pending database migrations in the `orders` schema.
    Migrate,
    /// Send customer emails (order.paid, refunds, cancellations) over SMTP_URL.
    Worker,
    /// One sweeper pass (expire unpaid checkouts, reconcile stuck payments), then exit.
    Sweep,
}

/// Runs the subcommand `cli` names.
pub async fn run(cli: Cli, config: OrderConfig) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let base = config.base.clone();
            platform::service::serve(&INFO, base, |res| crate::app::describe(&config, res)).await
        }
        Command::Worker => {
            let base = config.base.clone();
            platform::service::serve(&INFO, base, |res| crate::app::describe_worker(&config, res)).await
        }
        Command::Migrate => platform::service::migrate(&INFO, &config.base).await,
        Command::Sweep => sweep(&config).await,
    }
}

async fn sweep(config: &OrderConfig) -> anyhow::Result<()> {
    let base = &config.base;
    let options = platform::db::PoolOptions {
        max_size: 2,
        statement_timeout: base.db_statement_timeout,
        ..platform::db::PoolOptions::default()
    };
    let pool = platform::db::pool(base.connections.database_url.expose(), INFO.schema, options)?;
    let registry = prometheus::Registry::new();
    let state = crate::app::state(
        config.settings.clone(),
        pool,
        &base.internal_token,
        &registry,
        std::sync::Arc::default(),
    )?;
    let swept = crate::sweeper::sweep_once(&state).await?;
    println!("order sweep: {} expired, {} reconciled", swept.expired, swept.reconciled);
    Ok(())
}
