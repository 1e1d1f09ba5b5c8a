//! What handlers share.

use std::sync::Arc;

use tokio::sync::Notify;

use domain::money::Currency;
use platform::db::PgPool;
use platform::redis::Redis;

use crate::cache::PageCache;

/// Pools and settings, in app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// Primary: writes and reservations.
    pub pool: PgPool,
    /// Replica for listings and product pages (the primary when no replica is configured).
    pub read_pool: PgPool,
    /// Redis with the catalog's key prefix.
    pub redis: Redis,
    /// `ECOMMERCE_CURRENCY`.
    pub currency: Currency,
    /// Listing and product-page cache (tag-versioned, in Redis).
    pub cache: Arc<PageCache>,
    /// `INVENTORY_RESERVATION_TTL`: minutes a reservation lives unless the caller says otherwise.
    pub reservation_ttl_minutes: u64,
    /// `CATALOG_COUNT_CAP`: bounded counts stay exact below it (docs/adr/0013-listing-totals.md).
    pub count_cap: i64,
    /// Wakes this process's outbox relay (reservations write their events without `NOTIFY`).
    pub relay_wake: Arc<Notify>,
}

impl AppState {
    /// Call after committing a reservation change: its `inventory.changed` row is waiting.
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}
