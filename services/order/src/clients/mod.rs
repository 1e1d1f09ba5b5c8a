//! Stripe's client, and what order asks of its siblings through the shared internal clients
//! (`platform::clients`: catalog and cart, with time-outs and trace headers).

pub mod stripe;

use std::collections::HashMap;
use std::time::Duration;

use domain::ids::{OrderId, ProductId};
use domain::inventory::{ExtendManyRequest, Reservation, ReserveRequest};
use platform::clients::catalog::{CatalogClient, CatalogError};
use platform::clients::internal::Unreachable;
use uuid::Uuid;

/// Time-out of one call to catalog or cart (checkout waits on them, a buyer waits on checkout).
pub const INTERNAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a sibling service could not answer usefully (network, 5xx, or an unexpected body).
#[derive(Debug, thiserror::Error)]
#[error("{service} unavailable: {detail}")]
pub struct Unavailable {
    /// `cart`, `catalog` or `stripe`.
    pub service: &'static str,
    /// What went wrong (no secrets).
    pub detail: String,
}

impl Unavailable {
    pub(crate) fn new(service: &'static str, detail: impl std::fmt::Display) -> Self {
        Self { service, detail: detail.to_string() }
    }
}

impl From<Unreachable> for Unavailable {
    fn from(e: Unreachable) -> Self {
        Self { service: e.service, detail: e.detail }
    }
}

/// Pushes the expiry of several reservations to `minutes` from now and ties them to `order`, in
/// one call; the answer holds the ones extended, by id (the others lapsed or were closed).
pub async fn extend_many(
    catalog: &CatalogClient,
    ids: Vec<Uuid>,
    minutes: i64,
    order: OrderId,
) -> Result<HashMap<Uuid, Reservation>, CatalogError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let req = ExtendManyRequest { reservation_ids: ids, ttl_minutes: Some(minutes), order_id: Some(order) };
    Ok(catalog.extend_many(&req).await?.into_iter().map(|r| (r.id, r)).collect())
}

/// Reserves `quantity` of `product` for `order` under `key` (a retry finds the same one).
pub async fn reserve(
    catalog: &CatalogClient,
    product: ProductId,
    quantity: i64,
    order: OrderId,
    minutes: i64,
    key: String,
) -> Result<Reservation, CatalogError> {
    let req = ReserveRequest {
        product_id: product,
        quantity,
        cart_id: None,
        order_id: Some(order),
        ttl_minutes: Some(minutes),
        idempotency_key: Some(key),
    };
    catalog.reserve(&req).await
}

/// Gives a reservation back; one already closed or unknown is fine.
pub async fn release(catalog: &CatalogClient, id: Uuid) -> Result<(), Unavailable> {
    match catalog.release(id).await {
        Ok(_) | Err(CatalogError::NotActive | CatalogError::NotFound) => Ok(()),
        Err(e) => Err(Unavailable::new("catalog", e)),
    }
}
