//! `stripe-emulator`: serve (default), trigger, resend.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stripe_emulator::config::ServeConfig;
use stripe_emulator::trigger::TriggerRequest;
use stripe_emulator::{Emulator, cli};

#[derive(Parser)]
#[command(
    name = "stripe-emulator",
    about = "A Stripe-compatible API and webhook sender for development and tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the emulated API on HTTP_ADDR (default 0.0.0.0:12111).
    Serve,
    /// Make a running emulator send an event, like `stripe trigger`.
    Trigger {
        /// Event type, e.g. payment_intent.succeeded, charge.refunded, charge.dispute.created.
        event_type: String,
        /// Send the event about this existing PaymentIntent instead of creating one.
        #[arg(long)]
        payment_intent: Option<String>,
        /// Amount in minor units of the PaymentIntent created (default 2000).
        #[arg(long)]
        amount: Option<i64>,
        /// Currency of the PaymentIntent created (default usd).
        #[arg(long)]
        currency: Option<String>,
        /// Metadata of the PaymentIntent created, key=value (repeatable), e.g. order_id=42.
        #[arg(long)]
        metadata: Vec<String>,
        /// Amount refunded for charge.refunded / refund.created (default: all).
        #[arg(long)]
        refund_amount: Option<i64>,
        /// The emulator (default $STRIPE_API_BASE or http://127.0.0.1:12111).
        #[arg(long)]
        emulator_url: Option<String>,
    },
    /// Deliver an existing event again (a duplicate, as Stripe sometimes sends).
    Resend {
        /// The event id (evt_...).
        event_id: String,
        /// How many times.
        #[arg(long, default_value_t = 1)]
        times: usize,
        /// The emulator (default $STRIPE_API_BASE or http://127.0.0.1:12111).
        #[arg(long)]
        emulator_url: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stripe-emulator: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Trigger {
            event_type,
            payment_intent,
            amount,
            currency,
            metadata,
            refund_amount,
            emulator_url,
        } => {
            let body = serde_json::to_value(TriggerRequest {
                type_: event_type,
                payment_intent,
                amount,
                currency,
                metadata: cli::metadata(&metadata)?,
                refund_amount,
            })?;
            let answer = cli::post(&cli::emulator_url(emulator_url), "/_emulator/trigger", &body).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
        Command::Resend { event_id, times, emulator_url } => {
            let path = format!("/_emulator/events/{event_id}/resend");
            let answer =
                cli::post(&cli::emulator_url(emulator_url), &path, &serde_json::json!({ "times": times }))
                    .await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = match ServeConfig::from_env() {
        Ok(c) => c,
        Err(e) => anyhow::bail!("{e}"),
    };
    let _telemetry = platform::telemetry::init(stripe_emulator::SERVICE, config.log_format);
    let listener = TcpListener::bind(&config.http_addr)?;
    let emulator = Emulator::new(&config.emulator);
    let endpoints: Vec<String> = config.emulator.webhook_endpoints.iter().map(|(u, _)| u.clone()).collect();
    tracing::info!(addr = %config.http_addr, ?endpoints, "stripe emulator listening");
    // actix handles SIGINT/SIGTERM itself and stops gracefully.
    stripe_emulator::emulator::server(listener, emulator, 2)?.await?;
    Ok(())
}
