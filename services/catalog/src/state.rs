//! What handlers share.

use domain::money::Currency;
use platform::db::PgPool;
use platform::redis::Redis;

/// Pools and settings, in app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// Primary: writes and reservations.
    pub pool: PgPool,
    /// Replica for listings (the primary when no replica is configured).
    pub read_pool: PgPool,
    /// Redis with the catalog's key prefix.
    pub redis: Redis,
    /// `ECOMMERCE_CURRENCY`.
    pub currency: Currency,
    /// `INVENTORY_RESERVATION_TTL`: minutes a reservation lives unless the caller says otherwise.
    pub reservation_ttl_minutes: u64,
}
