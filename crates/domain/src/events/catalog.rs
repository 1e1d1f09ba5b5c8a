//! Events catalog publishes.

use serde::{Deserialize, Serialize};

use crate::events::routing;
use crate::ids::{ProductId, Sku, Slug};
use crate::money::{Currency, Money};
use crate::product::{Availability, ProductStatus};

/// A product's state after a create or update, enough for a consumer to keep a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChanged {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: Sku,
    /// Its display name.
    pub name: String,
    /// Its URL slug.
    pub slug: Slug,
    /// Its unit price in minor units.
    pub price_cents: i64,
    /// The price's currency.
    pub currency: Currency,
    /// Its life-cycle status.
    pub status: ProductStatus,
    /// Units in stock.
    pub stock_quantity: i64,
    /// Units held by reservations.
    pub reserved_quantity: i64,
}

impl ProductChanged {
    /// The unit price.
    pub const fn price(&self) -> Money {
        Money::new(self.price_cents, self.currency)
    }
}

/// `product.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductCreated(pub ProductChanged);

/// `product.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductUpdated(pub ProductChanged);

/// `product.deleted` (a soft delete: the id and SKU stay taken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDeleted {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: Sku,
}

/// `inventory.changed`: stock or reservations moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryChanged {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: Sku,
    /// Units in stock.
    pub stock_quantity: i64,
    /// Units held by reservations.
    pub reserved_quantity: i64,
    /// Units that can be bought now: `max(0, stock − reserved)`.
    pub available: i64,
}

impl InventoryChanged {
    /// The event for these counters, with `available` computed by [`Availability::from_stock`].
    pub fn new(product_id: ProductId, sku: Sku, stock_quantity: i64, reserved_quantity: i64) -> Self {
        InventoryChanged {
            product_id,
            sku,
            stock_quantity,
            reserved_quantity,
            available: Availability::from_stock(stock_quantity, reserved_quantity).quantity,
        }
    }
}

event_payload!(ProductCreated, routing::PRODUCT_CREATED);
event_payload!(ProductUpdated, routing::PRODUCT_UPDATED);
event_payload!(ProductDeleted, routing::PRODUCT_DELETED);
event_payload!(InventoryChanged, routing::INVENTORY_CHANGED);
