//! Events order publishes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::routing;
use crate::ids::{CartId, OrderId, ProductId, Sku};
use crate::money::{Currency, Money};
use crate::order::OrderNumber;

/// One line of a new order, with the stock reservation that backs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItemRef {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: Sku,
    /// Units ordered.
    pub quantity: i32,
    /// The unit price charged, in minor units of the order's currency.
    pub unit_price_cents: i64,
    /// The catalog reservation holding the stock, if one was made.
    pub reservation_id: Option<Uuid>,
}

/// `order.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: OrderNumber,
    /// Where the confirmation goes.
    pub customer_email: String,
    /// What was ordered.
    pub items: Vec<OrderItemRef>,
    /// The total charged, in minor units.
    pub total_cents: i64,
    /// The order's currency.
    pub currency: Currency,
    /// The cart it came from, if any.
    pub cart_id: Option<CartId>,
}

impl OrderCreated {
    /// The total charged.
    pub const fn total(&self) -> Money {
        Money::new(self.total_cents, self.currency)
    }
}

/// `order.paid`: catalog commits the reservations, cart deletes the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: OrderNumber,
    /// The Stripe `PaymentIntent` that paid it.
    pub payment_intent_id: String,
    /// The amount received, in minor units.
    pub amount_cents: i64,
    /// The currency.
    pub currency: Currency,
    /// The reservations to commit.
    pub reservation_ids: Vec<Uuid>,
    /// The cart to delete, if any.
    pub cart_id: Option<CartId>,
}

impl OrderPaid {
    /// The amount received.
    pub const fn amount(&self) -> Money {
        Money::new(self.amount_cents, self.currency)
    }
}

/// The body of `order.canceled` and `order.expired`: release the stock, unlock the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderClosed {
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: OrderNumber,
    /// Why it closed, for people reading logs (e.g. `"customer_canceled"`).
    pub reason: String,
    /// The reservations to release.
    pub reservation_ids: Vec<Uuid>,
    /// The cart to unlock, if any.
    pub cart_id: Option<CartId>,
}

/// `order.canceled`: canceled before payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderCanceled(pub OrderClosed);

/// `order.expired`: not paid before the checkout session timed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderExpired(pub OrderClosed);

/// `order.refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefunded {
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: OrderNumber,
    /// The amount of this refund, in minor units.
    pub amount_cents: i64,
    /// The currency.
    pub currency: Currency,
    /// Whether the order is now refunded in full.
    pub fully: bool,
}

/// `order.disputed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDisputed {
    /// The order.
    pub order_id: OrderId,
    /// Its number.
    pub order_number: OrderNumber,
    /// The Stripe dispute id.
    pub dispute_id: String,
    /// The disputed amount, in minor units.
    pub amount_cents: i64,
    /// The currency.
    pub currency: Currency,
}

event_payload!(OrderCreated, routing::ORDER_CREATED);
event_payload!(OrderPaid, routing::ORDER_PAID);
event_payload!(OrderCanceled, routing::ORDER_CANCELED);
event_payload!(OrderExpired, routing::ORDER_EXPIRED);
event_payload!(OrderRefunded, routing::ORDER_REFUNDED);
event_payload!(OrderDisputed, routing::ORDER_DISPUTED);
