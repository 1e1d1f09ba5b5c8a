//! What handlers share.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use domain::money::Currency;
use platform::db::PgPool;
use platform::redis::Redis;
use platform::service::Resources;

use crate::cache::{CacheTiming, PageCache};

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

    /// State on the runner's pool with the page cache off, 15-minute reservations and the default
    /// count cap: the catalog as other services' tests embed it.
    pub fn uncached(res: &Resources) -> Self {
        Self {
            pool: res.pool.clone(),
            read_pool: res.pool.clone(),
            redis: res.redis.clone(),
            currency: res.base.currency,
            cache: Arc::new(PageCache::new(res.redis.clone(), CacheTiming::from_ttl(Duration::ZERO), false)),
            reservation_ttl_minutes: 15,
            count_cap: crate::listing::total::DEFAULT_CAP,
            relay_wake: res.relay_wake.clone(),
        }
    }
}
