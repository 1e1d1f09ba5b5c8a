//! Events cart publishes.

use serde::{Deserialize, Serialize};

use crate::events::routing;
use crate::ids::{CartId, OrderId};
use crate::order::OrderNumber;

/// `cart.checked_out`: the cart became an order and is locked until it is paid or canceled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartCheckedOut {
    /// The cart.
    pub cart_id: CartId,
    /// The order made from it.
    pub order_id: OrderId,
    /// That order's number.
    pub order_number: OrderNumber,
}

event_payload!(CartCheckedOut, routing::CART_CHECKED_OUT);
