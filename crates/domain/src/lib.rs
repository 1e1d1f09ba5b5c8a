//! Pure domain types and rules shared by every service: money, identifiers, catalog and cart
//! values, the order and payment state machines, and the integration events.
//!
//! No I/O, no async, no framework: everything here is a value and a function on it.

// In unit tests a panic is the failure report. The non-test build of the library is still
// linted with `unwrap_used` denied, so this cannot hide an unwrap in shipped code.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cart;
pub mod checkout_lock;
pub mod events;
pub mod hex;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod order;
pub mod product;
pub mod stripe_signature;

pub use cart::{CartLine, CartTotals, Quantity, QuantityError};
pub use events::{DecodeError, EXCHANGE, Envelope, EventPayload};
pub use ids::{CartId, EventId, OrderId, ParseIdError, ProductId, Sku, Slug};
pub use money::{Currency, Money, MoneyError, ParseMoneyError, UnknownCurrency, parse_decimal_cents};
pub use order::{
    FulfillmentEvent, FulfillmentStatus, IllegalTransition, OrderNumber, OrderTotals, PaymentEvent,
    PaymentStatus, can_fulfil,
};
pub use product::{Availability, ProductStatus, ProductSummary};
