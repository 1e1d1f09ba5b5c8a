//! payment-webhook as the runner sees it: one route and the outbox relay.

use actix_web::web;
use platform::events::RelayOptions;
use platform::http::ReadyCheck;
use platform::http::health::PostgresCheck;
use platform::openapi::Api;
use platform::service::{Resources, ServiceSpec};

use crate::INFO;
use crate::config::WebhookConfig;
use crate::state::AppState;
use crate::webhook;
use crate::webhook::batch::Batcher;
use crate::webhook::metrics::WebhookMetrics;
use crate::webhook::store::EventStore;

/// The documented route: the handler's `utoipa::path` names its method and path.
pub fn api() -> Api {
    Api::new(crate::SERVICE, "Stripe webhook intake: signatures, deduplication, `payment.*` events")
        .op(webhook::__path_receive, webhook::receive)
}

/// The webhook route (and `GET /openapi.json`), with `state` as app data.
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static {
    api().with_state(state)
}

/// Handler state from configuration and the runner's resources.
/// Starts the batcher (on the current runtime): it stores events and wakes the relay after
/// each commit (the outbox is written without NOTIFY).
pub fn state(config: &WebhookConfig, res: &Resources) -> anyhow::Result<AppState> {
    let metrics = WebhookMetrics::register(&res.registry)?;
    let store =
        EventStore { pool: res.pool.clone(), relay_wake: res.relay_wake.clone(), metrics: metrics.clone() };
    Ok(AppState {
        pool: res.pool.clone(),
        intake: Batcher::spawn(store, config.batch),
        secrets: config.webhook_secrets.clone().into(),
        tolerance_secs: config.tolerance_secs,
        body_limit: webhook::BODY_LIMIT,
        metrics,
    })
}

/// The service from `state`. Readiness is PostgreSQL only: events wait in the outbox while
/// RabbitMQ is away, so the webhook keeps accepting (docs/adr/0040).
pub fn spec(state: AppState, relay_batch: u32) -> ServiceSpec {
    let checks: Vec<Box<dyn ReadyCheck>> = vec![Box::new(PostgresCheck(state.pool.clone()))];
    ServiceSpec::new(&INFO)
        .routes(routes(state))
        .readiness_only(checks)
        .relay_options(RelayOptions { batch_size: relay_batch, ..RelayOptions::default() })
}

/// The service from configuration (what `payment-webhook serve` runs).
pub fn describe(config: &WebhookConfig, res: &Resources) -> anyhow::Result<ServiceSpec> {
    Ok(spec(state(config, res)?, config.relay_batch))
}
