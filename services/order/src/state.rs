//! What handlers, consumers and tasks share.

use std::sync::Arc;

use platform::config::{ExposeSecret, SecretString};
use platform::db::PgPool;
use tokio::sync::Notify;

use crate::checkout::metrics::CheckoutMetrics;
use platform::clients::cart::CartClient;
use platform::clients::catalog::CatalogClient;
use platform::clients::internal::InternalClient;

use crate::clients::INTERNAL_TIMEOUT;
use crate::clients::stripe::Payments;
use crate::config::OrderSettings;
use crate::payments::metrics::PaymentMetrics;
use crate::sweeper::metrics::SweepMetrics;

/// Pools, clients and settings, in app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, schema `orders`.
    pub pool: PgPool,
    /// Cart's internal API.
    pub cart: CartClient,
    /// Catalog's internal API.
    pub catalog: CatalogClient,
    /// Stripe.
    pub stripe: Payments,
    /// The service's own settings.
    pub settings: Arc<OrderSettings>,
    /// Counters.
    pub metrics: Metrics,
    /// Wakes the outbox relay after a commit that wrote events.
    pub relay_wake: Arc<Notify>,
    /// Where the syncer opens its `LISTEN` connection (the pool's database).
    pub database_url: SecretString,
}

/// The counters of the features `order serve` runs, each declared in its feature.
#[derive(Clone)]
pub struct Metrics {
    /// `order_checkouts_total`.
    pub checkout: CheckoutMetrics,
    /// `order_payment_*_total`.
    pub payments: PaymentMetrics,
    /// `order_sweeps_total`.
    pub sweeper: SweepMetrics,
}

impl AppState {
    /// The state from its parts: `order serve` gets them from the runner, one-off commands
    /// (`sweep`, `reconcile`) make their own.
    pub fn new(
        settings: OrderSettings,
        pool: PgPool,
        internal_token: &SecretString,
        registry: &prometheus::Registry,
        relay_wake: Arc<Notify>,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        let stripe = Payments::new(&settings.stripe_api_base, &settings.stripe_secret_key)?;
        let token = SecretString::from(internal_token.expose_secret());
        let metrics = Metrics {
            checkout: CheckoutMetrics::register(registry)?,
            payments: PaymentMetrics::register(registry)?,
            sweeper: SweepMetrics::register(registry)?,
        };
        Ok(Self {
            pool,
            cart: CartClient::new(&settings.cart_url, token.clone(), INTERNAL_TIMEOUT)?.with_latency(
                InternalClient::latency_histogram(registry, "order_cart_call_seconds", "cart")?,
            ),
            catalog: CatalogClient::new(&settings.catalog_url, token, INTERNAL_TIMEOUT)?
                .with_latency(CatalogClient::latency_histogram(registry, "order_catalog_call_seconds")?),
            stripe,
            settings: Arc::new(settings),
            metrics,
            relay_wake,
            database_url: SecretString::from(database_url),
        })
    }

    /// Tells the relay there is something to publish.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}
