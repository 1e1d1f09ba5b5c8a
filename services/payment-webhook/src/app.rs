//! Wiring: routes, the HTTP server, and `payment-webhook serve`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use platform::db::{self, PoolOptions};
use platform::events::{Broker, Relay, RelayOptions};
use platform::http::health::PostgresCheck;
use platform::http::{HttpKit, Readiness, ReadyCheck};
use platform::shutdown;

use crate::config::{SCHEMA, WebhookConfig};
use crate::metrics::WebhookMetrics;
use crate::state::AppState;
use crate::webhook;

/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "payment-webhook";

/// Adds the webhook route and its app data.
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let state = web::Data::new(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone()).route(webhook::PATH, web::post().to(webhook::receive));
    }
}

/// The server on `listener` (tests pass a random port).
pub fn http_server(listener: TcpListener, kit: HttpKit, state: AppState) -> std::io::Result<Server> {
    platform::http::build_server(listener, kit, routes(state))
}

/// Readiness: PostgreSQL only. The broker is left out on purpose: events wait in the outbox
/// while RabbitMQ is away, so the webhook keeps accepting (docs/adr/0040).
pub fn readiness(state: &AppState) -> Readiness {
    let checks: Vec<Box<dyn ReadyCheck>> = vec![Box::new(PostgresCheck(state.pool.clone()))];
    Readiness::new(checks, Duration::from_secs(2))
}

/// Pool and state from configuration (lazy: nothing connects yet).
pub fn state(config: &WebhookConfig, metrics: WebhookMetrics) -> anyhow::Result<AppState> {
    let options = PoolOptions {
        max_size: config.db_pool_size,
        statement_timeout: config.db_statement_timeout,
        ..PoolOptions::default()
    };
    let pool = db::pool(config.database_url.expose(), SCHEMA, options)?;
    Ok(AppState {
        pool,
        secrets: config.webhook_secrets.clone().into(),
        tolerance_secs: config.tolerance_secs,
        body_limit: webhook::BODY_LIMIT,
        metrics,
        relay_wake: Arc::default(),
    })
}

/// `payment-webhook serve`: HTTP, the outbox relay and metrics until SIGTERM.
pub async fn serve(config: WebhookConfig) -> anyhow::Result<()> {
    let registry = prometheus::Registry::new();
    let mut state = state(&config, WebhookMetrics::register(&registry)?)?;
    let broker = Arc::new(
        Broker::new(config.amqp_url.expose(), config.amqp_exchange.clone()).with_connection_name(SERVICE),
    );
    let readiness = readiness(&state);
    let metrics =
        platform::http::metrics::middleware(SERVICE, registry.clone()).map_err(anyhow::Error::msg)?;
    let (trigger, stop) = shutdown::channel();
    platform::http::metrics::spawn_db_gauges(&registry, state.pool.clone(), true, stop.clone())?;

    let relay = Relay::new(
        state.pool.clone(),
        config.database_url.expose().to_owned(),
        SCHEMA.to_owned(),
        broker.clone(),
        RelayOptions { batch_size: config.relay_batch, ..RelayOptions::default() },
    );
    state.relay_wake = relay.waker();
    let relay_task = tokio::spawn(relay.run(stop.clone()));

    let mut kit = HttpKit::new(metrics, readiness.clone());
    kit.workers = config.http_workers;
    let listener = TcpListener::bind(config.http_addr)?;
    tracing::info!(
        addr = %config.http_addr,
        database = %config.database_url.redacted(),
        secrets = config.webhook_secrets.len(),
        tolerance_secs = config.tolerance_secs,
        "payment-webhook listening"
    );
    let server = http_server(listener, kit, state)?;
    platform::http::run_until_signal(
        server,
        readiness,
        trigger.clone(),
        Duration::from_secs(config.shutdown_drain_seconds),
    )
    .await?;
    trigger.trigger();
    // The relay finishes the batch in hand; don't wait forever for it.
    let _ = tokio::time::timeout(Duration::from_secs(10), relay_task).await;
    // A broker that throttles or ignores us must not hold the exit up.
    let _ = tokio::time::timeout(Duration::from_secs(5), broker.close()).await;
    tracing::info!("payment-webhook stopped");
    Ok(())
}
