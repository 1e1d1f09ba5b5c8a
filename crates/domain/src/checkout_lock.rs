//! The cart ↔ order contract: cart's internal API (`/internal/v1/carts`, service token, never
//! routed by the gateway) that order's checkout calls. Cart serves these shapes, order reads
//! them, and order's tests fake cart with them, so the three cannot drift apart.
//!
//! - `GET /internal/v1/carts/{id}` → 200 [`CartSnapshot`] (lapsed reservations re-reserved first).
//! - `POST /internal/v1/carts/{id}/checkout-lock` [`CheckoutLockRequest`] → 200 [`CartSnapshot`]
//!   with the lock held; 409 when another holder has it; 404 when the cart is unknown or not the
//!   caller's (customer id or guest cart token).
//! - `DELETE /internal/v1/carts/{id}/checkout-lock?holder=` ([`UnlockQuery`]) → 204, also when
//!   the lock is not held.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{CartId, OrderId, ProductId};
use crate::order::OrderNumber;

/// Shortest and longest lock a checkout may ask for, in seconds.
pub const LOCK_TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=3600;
/// Longest holder string.
pub const MAX_HOLDER_LEN: usize = 100;

/// A cart as order reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CartSnapshot {
    /// The cart.
    pub id: CartId,
    /// Its owner (JWT subject), `None` for a guest cart.
    pub customer_id: Option<String>,
    /// Its currency, e.g. `USD`.
    pub currency: String,
    /// Who holds the checkout lock, if anyone.
    #[serde(default)]
    pub locked_by: Option<String>,
    /// When that lock lapses.
    #[serde(default)]
    pub lock_expires_at: Option<DateTime<Utc>>,
    /// The lines.
    pub items: Vec<CartSnapshotItem>,
}

/// A cart line as order reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CartSnapshotItem {
    /// The line id.
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Units.
    pub quantity: i32,
    /// The options picked.
    #[serde(default)]
    pub selected_attributes: serde_json::Map<String, serde_json::Value>,
    /// The catalog reservation holding the units, when one is active.
    pub reservation_id: Option<Uuid>,
    /// When that reservation lapses.
    pub reservation_expires_at: Option<DateTime<Utc>>,
}

/// `POST /internal/v1/carts/{id}/checkout-lock` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutLockRequest {
    /// Who takes the lock (order's idempotency scope).
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub holder: String,
    /// How long it holds without being taken again ([`LOCK_TTL_RANGE`]).
    #[schema(minimum = 60, maximum = 3600)]
    pub ttl_seconds: i64,
    /// The signed-in customer checking out (customer carts).
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The guest's cart token (guest carts).
    #[serde(default)]
    pub cart_token: Option<String>,
    /// The order made from the cart, once it exists: `cart.checked_out` is published the first
    /// time a holder names it.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// That order's number (required with `order_id`).
    #[serde(default)]
    pub order_number: Option<OrderNumber>,
}

/// `?holder=` of `DELETE /internal/v1/carts/{id}/checkout-lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockQuery {
    /// The holder giving the lock back.
    pub holder: String,
}
