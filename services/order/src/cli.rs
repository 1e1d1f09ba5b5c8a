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
    /// One sweeper pass (expire unpaid checkouts, queue payments to compare with Stripe), then
    /// run the queued payment syncs, then exit.
    Sweep,
    /// Compare every order with a PaymentIntent created since `--since` with Stripe, repair
    /// what drifted (an audit row per repaired field) and list what needs a person.
    Reconcile {
        /// How far back: `24h`, `7d`, `90m`, or an RFC 3339 time.
        #[arg(long, default_value = "24h")]
        since: String,
    },
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
        Command::Reconcile { since } => reconcile(&config, &since).await,
    }
}

/// The state of a one-off command (a small pool, no relay: events wait for `order serve`'s).
fn one_off_state(config: &OrderConfig) -> anyhow::Result<crate::state::AppState> {
    let base = &config.base;
    let options = platform::db::PoolOptions {
        max_size: 4,
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
        base.connections.database_url.expose(),
    )?;
    Ok(state)
}

async fn sweep(config: &OrderConfig) -> anyhow::Result<()> {
    let state = one_off_state(config)?;
    let swept = crate::sweeper::sweep_once(&state).await?;
    let mut synced = 0;
    loop {
        let n = crate::payments::sync::syncer::pass(&state).await?;
        if n == 0 {
            break;
        }
        synced += n;
    }
    println!(
        "order sweep: {} expired, {} queued for Stripe, {synced} synced",
        swept.expired, swept.reconciled
    );
    Ok(())
}

async fn reconcile(config: &OrderConfig, since: &str) -> anyhow::Result<()> {
    let since = crate::payments::reconcile::parse_since(since, chrono::Utc::now())?;
    let state = one_off_state(config)?;
    let report = crate::payments::reconcile::run(&state, since).await?;
    print!("{report}");
    Ok(())
}
