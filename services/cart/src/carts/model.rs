//! A cart as the service holds it: the document stored in Redis (JSON) and, for customers,
//! mirrored into `carts` / `cart_items`.

use chrono::{DateTime, Utc};
use domain::cart::{MAX_LINES, merged_quantity};
use domain::ids::{CartId, OrderId, ProductId, Sku};
use domain::money::Currency;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whose cart it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "key")]
pub enum Owner {
    /// A signed-in customer: the JWT subject.
    Customer(String),
    /// A guest: the SHA-256 (hex) of the cart token; the token itself is never stored.
    Guest(String),
}

/// The checkout lock (the contract is `domain::checkout_lock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLock {
    /// Who holds it (order's idempotency scope).
    pub holder: String,
    /// When it lapses by itself (a crashed checkout never freezes a cart).
    pub expires_at: DateTime<Utc>,
    /// The order the checkout made, once named (cart.checked_out was written for it).
    pub order_id: Option<OrderId>,
}

/// One line: a product with its options, and the reservation that holds its units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The line id (UUID v4).
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Its SKU (display and checkout).
    pub sku: Sku,
    /// Units (1 to 99).
    pub quantity: i32,
    /// Options picked (a small flat object).
    #[serde(default)]
    pub selected_attributes: serde_json::Map<String, serde_json::Value>,
    /// The catalog reservation holding `quantity` units, if one is held.
    pub reservation_id: Option<Uuid>,
    /// When that reservation lapses.
    pub reserved_until: Option<DateTime<Utc>>,
    /// Set when a catalog call about this reservation got no answer: its quantity in catalog is
    /// unknown until the next read checks it.
    #[serde(default)]
    pub needs_sync: bool,
    /// Units catalog said were available when re-reserving failed (the line is `unavailable`).
    #[serde(default)]
    pub unavailable: Option<i64>,
}

impl Line {
    /// Whether the line holds a reservation that has not lapsed at `now` and is known to match.
    pub fn is_reserved(&self, now: DateTime<Utc>) -> bool {
        self.reservation_id.is_some() && !self.needs_sync && self.reserved_until.is_some_and(|t| t > now)
    }

    /// Same product and same options: the two are one line.
    pub fn same_item(
        &self,
        product_id: ProductId,
        attrs: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        self.product_id == product_id && &self.selected_attributes == attrs
    }

    /// Forgets the reservation (it was released, expired, or is about to be).
    pub fn clear_reservation(&mut self) {
        self.reservation_id = None;
        self.reserved_until = None;
        self.needs_sync = false;
    }
}

/// A cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    /// Its id (UUID v4).
    pub id: CartId,
    /// Who it belongs to.
    pub owner: Owner,
    /// The shop currency when it was made.
    pub currency: Currency,
    /// The checkout lock, if one was taken (check [`Cart::locked_at`]).
    pub lock: Option<CheckoutLock>,
    /// Bumped on every save.
    pub version: i64,
    /// Lines in the order they were added.
    pub lines: Vec<Line>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Who a reservation is held for: the cart, and whether its owner is a guest (a guest's hold
/// is shorter: see `INVENTORY_GUEST_RESERVATION_TTL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The cart.
    pub cart_id: CartId,
    /// Whether the cart belongs to a guest.
    pub guest: bool,
}

impl Cart {
    /// The reservation holder this cart is.
    pub fn holder(&self) -> Holder {
        Holder { cart_id: self.id, guest: matches!(self.owner, Owner::Guest(_)) }
    }

    /// Units of `product` over every line but `except`.
    pub fn units_of(&self, product: ProductId, except: Option<Uuid>) -> i32 {
        self.lines
            .iter()
            .filter(|l| l.product_id == product && Some(l.id) != except)
            .map(|l| l.quantity)
            .sum()
    }

    /// An empty cart for `owner`.
    pub fn new(owner: Owner, currency: Currency) -> Self {
        let now = Utc::now();
        Self {
            id: CartId::new(),
            owner,
            currency,
            lock: None,
            version: 0,
            lines: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The customer it belongs to, if any.
    pub fn customer_id(&self) -> Option<&str> {
        match &self.owner {
            Owner::Customer(sub) => Some(sub),
            Owner::Guest(_) => None,
        }
    }

    /// The lock if it is held at `now` (an expired lock is as good as none).
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<&CheckoutLock> {
        self.lock.as_ref().filter(|l| l.expires_at > now)
    }

    /// The index of the line with this id.
    pub fn line_index(&self, id: Uuid) -> Option<usize> {
        self.lines.iter().position(|l| l.id == id)
    }

    /// The index of the line for this product and options.
    pub fn item_index(
        &self,
        product_id: ProductId,
        attrs: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<usize> {
        self.lines.iter().position(|l| l.same_item(product_id, attrs))
    }

    /// Whether one more line fits.
    pub fn has_room(&self) -> bool {
        self.lines.len() < MAX_LINES
    }

    /// Every reservation id the cart holds.
    pub fn reservation_ids(&self) -> Vec<Uuid> {
        self.lines.iter().filter_map(|l| l.reservation_id).collect()
    }
}

/// What merging a guest line into a customer's cart does to that cart (pure: the caller does
/// the catalog calls the plan asks for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeStep {
    /// The customer has the same item: line `index` grows to `quantity` (capped at 99).
    Grow {
        /// The customer's line.
        index: usize,
        /// Its new quantity.
        quantity: i32,
    },
    /// A new item and there is room: the guest line moves over as it is.
    Move,
    /// A new item and the cart is full: the guest line is dropped (its reservation released).
    Drop,
}

/// The step for one guest line.
pub fn merge_step(customer: &Cart, guest_line: &Line) -> MergeStep {
    match customer.item_index(guest_line.product_id, &guest_line.selected_attributes) {
        Some(index) => {
            let quantity = merged_quantity(customer.lines[index].quantity, guest_line.quantity);
            MergeStep::Grow { index, quantity }
        }
        None if customer.has_room() => MergeStep::Move,
        None => MergeStep::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: i64, qty: i32) -> Line {
        Line {
            id: Uuid::new_v4(),
            product_id: ProductId(product),
            sku: Sku::parse("SKU-1").unwrap(),
            quantity: qty,
            selected_attributes: serde_json::Map::new(),
            reservation_id: None,
            reserved_until: None,
            needs_sync: false,
            unavailable: None,
        }
    }

    #[test]
    fn merge_steps() {
        let mut cart = Cart::new(Owner::Customer("c".into()), Currency::Usd);
        cart.lines.push(line(1, 60));
        assert_eq!(merge_step(&cart, &line(1, 50)), MergeStep::Grow { index: 0, quantity: 99 });
        assert_eq!(merge_step(&cart, &line(2, 1)), MergeStep::Move);
        cart.lines = (1..=100).map(|p| line(p, 1)).collect();
        assert_eq!(merge_step(&cart, &line(101, 1)), MergeStep::Drop);
    }

    #[test]
    fn lock_expires() {
        let mut cart = Cart::new(Owner::Guest("h".into()), Currency::Usd);
        let now = Utc::now();
        cart.lock = Some(CheckoutLock {
            holder: "a".into(),
            expires_at: now - chrono::Duration::seconds(1),
            order_id: None,
        });
        assert!(cart.locked_at(now).is_none());
    }
}
