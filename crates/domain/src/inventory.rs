//! Stock reservations: the payloads of catalog's internal inventory API (`/internal/v1`), which
//! cart and order call. Catalog owns stock; everyone else holds reservations.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::ids::{CartId, OrderId, ProductId, Sku};
use crate::product::ProductSummary;

/// Where a reservation is in its life. Only `Active` holds stock; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    /// Holds `quantity` units until it expires, is released or is committed.
    Active,
    /// The order was paid: the units left stock for good.
    Committed,
    /// Given back (cart line removed, order canceled, payment failed).
    Released,
    /// Not committed in time; the sweeper gave the units back.
    Expired,
}

impl ReservationStatus {
    /// Every status.
    pub const ALL: [ReservationStatus; 4] = [
        ReservationStatus::Active,
        ReservationStatus::Committed,
        ReservationStatus::Released,
        ReservationStatus::Expired,
    ];

    /// The stored and JSON spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "active",
            ReservationStatus::Committed => "committed",
            ReservationStatus::Released => "released",
            ReservationStatus::Expired => "expired",
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reservation status string that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown reservation status {0:?}")]
pub struct UnknownReservationStatus(pub String);

impl FromStr for ReservationStatus {
    type Err = UnknownReservationStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReservationStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownReservationStatus(s.to_owned()))
    }
}

/// `POST /internal/v1/reservations`: hold `quantity` units of a product for a cart or an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    /// The product.
    pub product_id: ProductId,
    /// Units to hold (1 to 999, a cart line's range).
    pub quantity: i64,
    /// The cart holding it (at least one of `cart_id` and `order_id`).
    #[serde(default)]
    pub cart_id: Option<CartId>,
    /// The order holding it; `order.paid` / `order.canceled` find reservations by it.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// Minutes until it expires (1 to 1440); catalog's `INVENTORY_RESERVATION_TTL` when absent.
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
    /// The caller's key (1 to 200 printable ASCII): while a reservation made with it is active,
    /// the same request answers that reservation instead of holding the stock again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// `POST /internal/v1/reservations/release-by-key`: give back the active reservation made with
/// this key, if any (a caller that gave up on a reserve it got no answer to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseByKeyRequest {
    /// The key of the reserve request.
    pub idempotency_key: String,
}

/// `POST /internal/v1/reservations/{id}/extend`: push the expiry out (checkout does this), and
/// optionally tie the reservation to the order made from the cart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    /// New expiry, counted from now (1 to 1440); `INVENTORY_RESERVATION_TTL` when absent.
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
    /// The order the reservation now belongs to.
    #[serde(default)]
    pub order_id: Option<OrderId>,
}

/// `POST /internal/v1/reservations/extend`: [`ExtendRequest`] for several reservations at once
/// (a checkout's lines, a paid order's), in one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendManyRequest {
    /// The reservations (1 to 100 ids).
    pub reservation_ids: Vec<Uuid>,
    /// New expiry, counted from now (1 to 1440); `INVENTORY_RESERVATION_TTL` when absent.
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
    /// The order the reservations now belong to.
    #[serde(default)]
    pub order_id: Option<OrderId>,
}

/// What `POST /internal/v1/reservations/extend` extended: an id asked for and missing here was
/// not extended (unknown, no longer active, or past its expiry), as a single extend's 404/409.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExtendManyResponse {
    /// The reservations extended, with their new expiry.
    pub data: Vec<Reservation>,
}

/// A reservation, as every reservation endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reservation {
    /// Its id (UUID v7).
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Units held (or committed / released).
    pub quantity: i64,
    /// Where it is in its life.
    pub status: ReservationStatus,
    /// The cart holding it, if any.
    pub cart_id: Option<CartId>,
    /// The order holding it, if any.
    pub order_id: Option<OrderId>,
    /// When an active reservation lapses.
    pub expires_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Units of the product still available after this change (stock − reserved, ≥ 0).
    pub available: i64,
}

/// `POST /internal/v1/reservations/{id}/resize`: change how many units an active reservation
/// holds, atomically (a cart line's quantity changed). Growing takes only the difference from
/// stock, so a cart holding the last units can still grow into what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeRequest {
    /// The new number of units (1 to 999).
    pub quantity: i64,
    /// New expiry, counted from now (1 to 1440); `INVENTORY_RESERVATION_TTL` when absent.
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
}

/// `POST /internal/v1/products/lookup`: current price and availability of several products,
/// by id and/or by SKU (1 to 100 in all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// Products by id.
    #[serde(default)]
    pub product_ids: Vec<ProductId>,
    /// Products by SKU (exact, case as stored).
    #[serde(default)]
    pub skus: Vec<Sku>,
}

/// The answer to a [`LookupRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LookupResponse {
    /// Products found (not deleted), ids first in the order asked, then SKUs in the order asked
    /// (a product asked for both ways appears once); any status (check `status`).
    pub data: Vec<ProductSummary>,
    /// Ids that match no product (or a deleted one).
    pub missing: Vec<ProductId>,
    /// SKUs that match no product (or a deleted one).
    #[serde(default)]
    pub missing_skus: Vec<Sku>,
}

/// `409` body when there is not enough stock: `{"error":"Insufficient stock","available":N}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InsufficientStock {
    /// Always `"Insufficient stock"`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// Units that could be reserved now.
    pub available: i64,
}

impl InsufficientStock {
    /// The body for `available` units left.
    pub fn new(available: i64, message: impl Into<String>) -> Self {
        Self { error: "Insufficient stock".to_owned(), message: message.into(), available }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_spellings() {
        for st in ReservationStatus::ALL {
            assert_eq!(st.as_str().parse::<ReservationStatus>(), Ok(st));
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{st}\""));
        }
        assert!("Active".parse::<ReservationStatus>().is_err());
    }

    #[test]
    fn reserve_request_shape() {
        let r: ReserveRequest = serde_json::from_value(serde_json::json!({
            "product_id": 7, "quantity": 2, "cart_id": "0b7d6b2e-7a1e-4d3c-9a51-2f1f0f6c9a10"
        }))
        .unwrap();
        assert_eq!((r.product_id, r.quantity, r.order_id, r.ttl_minutes), (ProductId(7), 2, None, None));
        assert!(
            serde_json::from_value::<ReserveRequest>(
                serde_json::json!({"product_id": 7, "quantity": 1, "qty": 1})
            )
            .is_err()
        );
        let body = serde_json::to_value(InsufficientStock::new(3, "Only 3 left")).unwrap();
        assert_eq!(body["error"], "Insufficient stock");
        assert_eq!(body["available"], 3);
    }
}
