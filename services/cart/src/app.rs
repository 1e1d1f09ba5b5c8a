//! Wiring: the cart's state, routes, consumer and readiness checks.

use std::sync::Arc;

use actix_web::web;
use platform::catalog_client::CatalogClient;
use platform::config::Secret;
use platform::db::PgPool;
use platform::redis::Redis;

use crate::carts::metrics::CartMetrics;
use crate::carts::prices::PriceBook;
use crate::carts::reserve::Reserver;
use crate::carts::store::{CartStore, Ttls};
use crate::config::CartSettings;
use crate::state::AppState;
use crate::{carts, checkout};

/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "cart";
/// The cart's PostgreSQL schema.
pub const SCHEMA: &str = "cart";

/// The shared state from settings and the runner's pools; metrics go to `registry`.
pub fn state(
    settings: &CartSettings,
    pool: PgPool,
    redis: Redis,
    internal_token: Secret,
    registry: &prometheus::Registry,
) -> anyhow::Result<AppState> {
    let latency = CatalogClient::latency_histogram(registry, "cart_catalog_call_seconds")?;
    let catalog = CatalogClient::new(&settings.catalog_url, internal_token, settings.catalog_timeout)?
        .with_latency(latency);
    let store =
        CartStore::new(redis, pool, Ttls { guest: settings.guest_ttl, customer_cache: settings.cache_ttl });
    Ok(AppState {
        store,
        prices: Arc::new(PriceBook::new(catalog.clone(), settings.price_cache)),
        reserver: Reserver::new(catalog.clone(), settings.reserve_on_add, settings.reservation_ttl_minutes),
        catalog,
        currency: settings.currency,
        metrics: CartMetrics::register(registry)?,
    })
}

/// Adds the public and internal routes with their app data.
pub fn routes(state: AppState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
    let state = web::Data::new(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone()).configure(carts::routes).configure(checkout::routes);
    }
}
