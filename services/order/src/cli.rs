//! `order`'s subcommands: serve (default), migrate, worker, sweep, reconcile.

use clap::Subcommand;
use platform::cli::ServiceCommand;

use crate::config::OrderConfig;
use crate::state::AppState;
use crate::{INFO, payments, sweeper, worker};

/// The order's subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// `serve` (the checkout and order API, payment events, the sweeper) and `migrate`.
    #[command(flatten)]
    Service(ServiceCommand),
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

/// Runs `command` (`serve` when `None`).
pub async fn run(command: Option<Command>, config: OrderConfig) -> anyhow::Result<()> {
    let base = config.base.clone();
    match command.unwrap_or(Command::Service(ServiceCommand::Serve)) {
        Command::Service(command) => command.run(&INFO, base, |res| crate::app::describe(&config, res)).await,
        Command::Worker => platform::service::serve(&INFO, base, |res| worker::describe(&config, res)).await,
        Command::Sweep => sweep(&config).await,
        Command::Reconcile { since } => reconcile(&config, &since).await,
    }
}

/// The state of a one-off command (a small pool, no relay: events wait for `order serve`'s).
fn one_off_state(config: &OrderConfig) -> anyhow::Result<AppState> {
    let base = &config.base;
    let options = platform::db::PoolOptions {
        max_size: 4,
        statement_timeout: base.db_statement_timeout,
        ..platform::db::PoolOptions::default()
    };
    let pool = platform::db::pool(base.connections.database_url.expose(), INFO.schema, options)?;
    AppState::new(
        config.service.clone(),
        pool,
        &base.internal_token,
        &prometheus::Registry::new(),
        std::sync::Arc::default(),
        base.connections.database_url.expose(),
    )
}

async fn sweep(config: &OrderConfig) -> anyhow::Result<()> {
    let state = one_off_state(config)?;
    let swept = sweeper::sweep_once(&state).await?;
    let mut synced = 0;
    loop {
        let n = payments::sync::syncer::pass(&state).await?;
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
    let since = payments::reconcile::parse_since(since, chrono::Utc::now())?;
    let state = one_off_state(config)?;
    let report = payments::reconcile::run(&state, since).await?;
    print!("{report}");
    Ok(())
}
