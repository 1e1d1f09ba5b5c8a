//! The JSON a cart is answered with: lines with their current price, line totals, reservation
//! expiry and status; totals in cents and formatted as the seed formats money.

use chrono::{DateTime, Utc};
use domain::cart::{CartLine, CartTotals, Quantity};
use domain::ids::ProductId;
use domain::money::Money;
use domain::product::ProductStatus;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Cart, Line};
use super::prices::Summaries;

/// Money as the storefront shows it (the seed's `price` object, plus `amount_cents`).
pub fn money(m: Money) -> Value {
    json!({"amount": m.amount_f64(), "amount_cents": m.cents(), "formatted": m.formatted(), "currency": m.currency().code()})
}

/// One line as answered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LineView {
    id: Uuid,
    product_id: ProductId,
    sku: String,
    name: Option<String>,
    quantity: i32,
    selected_attributes: serde_json::Map<String, Value>,
    #[schema(value_type = Option<MoneyDoc>)]
    unit_price: Option<Value>,
    #[schema(value_type = Option<MoneyDoc>)]
    line_total: Option<Value>,
    /// `reserved`, `unreserved` (reservations off), or `unavailable` (not enough stock or no
    /// longer sold: `available` says what is left).
    #[schema(pattern = "^(reserved|unreserved|unavailable)$")]
    status: &'static str,
    available: Option<i64>,
    reservation_id: Option<Uuid>,
    reservation_expires_at: Option<DateTime<Utc>>,
}

/// A cart as answered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CartView {
    id: String,
    /// The guest token: only in the answer that created the cart.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    customer_id: Option<String>,
    currency: &'static str,
    checkout_in_progress: bool,
    items: Vec<LineView>,
    #[schema(value_type = CartTotalsDoc)]
    totals: Value,
    updated_at: DateTime<Utc>,
}

impl CartView {
    /// Adds the guest token (creation only).
    #[must_use]
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }
}

fn status_of(line: &Line, reserving: bool, now: DateTime<Utc>, sold: bool) -> (&'static str, Option<i64>) {
    if !sold {
        return ("unavailable", Some(0));
    }
    if let Some(available) = line.unavailable {
        return ("unavailable", Some(available));
    }
    // Not reserved: reservations are off, or it lapsed and catalog did not answer on this read.
    if reserving && line.is_reserved(now) { ("reserved", None) } else { ("unreserved", None) }
}

/// Builds the answer. Lines whose product is unknown or not in the cart's currency have no
/// price and count for nothing in the totals.
pub fn render(cart: &Cart, prices: &Summaries, reserving: bool) -> CartView {
    let now = Utc::now();
    let mut sold_lines = Vec::with_capacity(cart.lines.len());
    let mut items = Vec::with_capacity(cart.lines.len());
    for line in &cart.lines {
        let summary = prices.get(&line.product_id).and_then(Option::as_ref);
        let price = summary.map(|s| s.price).filter(|p| p.currency() == cart.currency);
        let sold = summary.is_some_and(|s| s.status == ProductStatus::Active) && price.is_some();
        let line_total = price.and_then(|p| p.checked_mul(i64::from(line.quantity)).ok());
        if let (true, Some(unit_price), Ok(quantity)) = (sold, price, Quantity::new(line.quantity)) {
            sold_lines.push(CartLine {
                product_id: line.product_id,
                sku: line.sku.clone(),
                quantity,
                unit_price,
                selected_attributes: line.selected_attributes.clone(),
            });
        }
        let (status, available) = status_of(line, reserving, now, sold);
        items.push(LineView {
            id: line.id,
            product_id: line.product_id,
            sku: line.sku.as_ref().to_owned(),
            name: summary.map(|s| s.name.clone()),
            quantity: line.quantity,
            selected_attributes: line.selected_attributes.clone(),
            unit_price: price.map(money),
            line_total: line_total.map(money),
            status,
            available,
            reservation_id: line.reservation_id.filter(|_| line.is_reserved(now)),
            reservation_expires_at: line.reserved_until.filter(|_| line.is_reserved(now)),
        });
    }
    let totals = match CartTotals::from_lines(&sold_lines, cart.currency) {
        Ok(t) => json!({
            "subtotal": money(t.subtotal),
            "item_count": t.item_count,
            "line_count": cart.lines.len(),
            "currency": t.currency.code(),
        }),
        // Overflow needs prices above 10^16 cents: show the count, not a wrong sum.
        Err(_) => {
            json!({"subtotal": null, "item_count": null, "line_count": cart.lines.len(), "currency": cart.currency.code()})
        }
    };
    CartView {
        id: cart.id.to_string(),
        token: None,
        customer_id: cart.customer_id().map(str::to_owned),
        currency: cart.currency.code(),
        checkout_in_progress: cart.locked_at(now).is_some(),
        items,
        totals,
        updated_at: cart.updated_at,
    }
}

/// [`money`] as documented (a schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MoneyDoc {
    /// Currency units as a JSON number (29.99).
    amount: f64,
    /// Exact minor units.
    amount_cents: i64,
    /// `$29.99`.
    formatted: String,
    /// ISO code.
    currency: String,
}

/// A cart's `totals` as documented (a schema only); `subtotal` and `item_count` are `null` only
/// when the sum overflows.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CartTotalsDoc {
    /// Sum of the sold lines.
    subtotal: Option<MoneyDoc>,
    /// Units in the sold lines.
    item_count: Option<i64>,
    /// Lines in the cart.
    line_count: i64,
    /// ISO code.
    currency: String,
}
