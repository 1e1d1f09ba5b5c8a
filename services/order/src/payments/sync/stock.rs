//! Keeping a paid order's stock, asked of catalog before the order's transaction (no row lock
//! or pooled connection is held across these calls): each line's reservation is extended, and
//! a lapsed one is reserved again for the order. Never oversell: stock is only sold through a
//! reservation that is active when the payment is applied.

use domain::ids::{OrderId, ProductId};
use uuid::Uuid;

use platform::clients::catalog::CatalogError;

use crate::clients::{self, Unavailable};
use crate::orders::repo::ItemRow;
use crate::state::AppState;

/// Minutes a paid order's reservations are held for catalog to commit them.
pub const PAID_HOLD_MINUTES: i64 = 60;

/// What catalog answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The order's stock outcome.
    pub stock: crate::order::Stock,
    /// Lines whose reservation was replaced: (product, old reservation, new reservation).
    pub replaced: Vec<(i64, Option<Uuid>, Uuid)>,
}

/// Extends or re-reserves every line; on the first line that cannot be held, releases what was
/// re-held and answers `Short`.
pub async fn hold(state: &AppState, order: OrderId, items: &[ItemRow]) -> Result<Held, Unavailable> {
    let mut held = Vec::with_capacity(items.len());
    let mut replaced = Vec::new();
    // Every line's reservation extended in one call; a line whose one lapsed is reserved again.
    let ids = items.iter().filter_map(|i| i.reservation_id).collect();
    let extended = clients::extend_many(&state.catalog, ids, PAID_HOLD_MINUTES, order)
        .await
        .map_err(|e| Unavailable::new("catalog", e))?;
    for item in items {
        if let Some(r) = item.reservation_id.filter(|r| extended.contains_key(r)) {
            held.push(r);
            continue;
        }
        let product = ProductId(item.product_id);
        // Keyed by the line it replaces: a sync retried after a crash finds the same reservation.
        let previous = item.reservation_id.map_or_else(|| "none".to_owned(), |r| r.to_string());
        let key = format!("order:{order}:product:{}:replaces:{previous}", item.product_id);
        match clients::reserve(
            &state.catalog,
            product,
            i64::from(item.quantity),
            order,
            PAID_HOLD_MINUTES,
            key,
        )
        .await
        {
            Ok(new) => {
                held.push(new.id);
                replaced.push((item.product_id, item.reservation_id, new.id));
            }
            Err(CatalogError::Insufficient { .. } | CatalogError::NotFound | CatalogError::NotActive) => {
                release(state, replaced_ids(&replaced)).await;
                return Ok(Held {
                    stock: crate::order::Stock::Short(item.sku.clone()),
                    replaced: Vec::new(),
                });
            }
            Err(e) => {
                release(state, replaced_ids(&replaced)).await;
                return Err(Unavailable::new("catalog", e));
            }
        }
    }
    Ok(Held { stock: crate::order::Stock::Held(held), replaced })
}

/// The new reservations among `replaced`.
pub fn replaced_ids(replaced: &[(i64, Option<Uuid>, Uuid)]) -> Vec<Uuid> {
    replaced.iter().map(|r| r.2).collect()
}

/// Gives back reservations the order will not use (best effort: they lapse by themselves).
pub async fn release(state: &AppState, ids: Vec<Uuid>) {
    for id in ids {
        if let Err(e) = clients::release(&state.catalog, id).await {
            tracing::warn!(error = %e, reservation = %id, "could not release a reservation; it expires by itself");
        }
    }
}
