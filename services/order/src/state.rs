//! What handlers, consumers and tasks share.

use std::sync::Arc;

use platform::config::SecretString;
use platform::db::PgPool;
use tokio::sync::Notify;

use crate::clients::cart::CartClient;
use crate::clients::catalog::CatalogClient;
use crate::clients::stripe::Payments;
use crate::config::OrderSettings;
use crate::metrics::OrderMetrics;

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
    pub metrics: OrderMetrics,
    /// Wakes the outbox relay after a commit that wrote events.
    pub relay_wake: Arc<Notify>,
    /// Where the syncer opens its `LISTEN` connection (the pool's database).
    pub database_url: SecretString,
}

impl AppState {
    /// Tells the relay there is something to publish.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}
