//! What handlers and the event consumer share.

use std::sync::Arc;

use domain::money::Currency;
use platform::clients::catalog::CatalogClient;

use crate::carts::metrics::CartMetrics;
use crate::carts::prices::PriceBook;
use crate::carts::reserve::Reserver;
use crate::carts::store::CartStore;

/// In app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// Redis + PostgreSQL.
    pub store: CartStore,
    /// Current prices (cached look-ups).
    pub prices: Arc<PriceBook>,
    /// Reservations for lines.
    pub reserver: Reserver,
    /// The catalog client itself.
    pub catalog: CatalogClient,
    /// `ECOMMERCE_CURRENCY`: new carts' currency.
    pub currency: Currency,
    /// Counters.
    pub metrics: CartMetrics,
    /// `CART_MAX_UNITS_PER_PRODUCT`.
    pub max_units_per_product: i32,
}
