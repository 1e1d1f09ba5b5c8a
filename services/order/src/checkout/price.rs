//! Pricing a cart from catalog (never from the client) and computing its totals.

use std::collections::HashMap;

use domain::checkout_lock::CartSnapshot;
use domain::ids::{ProductId, Sku};
use domain::money::{Currency, Money};
use domain::order::OrderTotals;
use domain::product::ProductStatus;
use platform::http::{ApiError, ValidationErrors};
use uuid::Uuid;

use super::failure::{Failure, catalog_failed, out_of_stock};
use crate::state::AppState;

/// The most distinct products one checkout prices (catalog's look-up limit).
const MAX_PRODUCTS: usize = 100;

/// A cart line with its authoritative price.
pub struct PricedLine {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: Sku,
    /// Its name now.
    pub name: String,
    /// Units.
    pub quantity: i64,
    /// Catalog's price now.
    pub unit_price_cents: i64,
    /// The options picked.
    pub selected_attributes: serde_json::Value,
    /// The cart's reservation for the line, if it holds one.
    pub reservation_id: Option<Uuid>,
}

/// The priced lines and the order's totals.
pub struct Priced {
    /// The lines.
    pub lines: Vec<PricedLine>,
    /// Subtotal, tax, shipping, total.
    pub totals: OrderTotals,
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::Before(ApiError::Validation(ValidationErrors::single("cart_id", message)))
}

/// Prices `cart` from catalog and computes the totals; refuses what Stripe would refuse.
pub async fn price(state: &AppState, cart: &CartSnapshot) -> Result<Priced, Failure> {
    if cart.items.is_empty() {
        return Err(invalid("The cart is empty."));
    }
    let currency: Currency =
        cart.currency.parse().map_err(|_| invalid("The cart's currency is not supported."))?;
    let mut ids: Vec<ProductId> = cart.items.iter().map(|i| i.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_PRODUCTS {
        return Err(invalid(format!("A cart may hold at most {MAX_PRODUCTS} products.")));
    }
    let request = domain::inventory::LookupRequest { product_ids: ids, skus: Vec::new() };
    let found = state.catalog.lookup(&request).await.map_err(catalog_failed)?;
    let by_id: HashMap<ProductId, _> = found.data.into_iter().map(|p| (p.id, p)).collect();
    let mut lines = Vec::with_capacity(cart.items.len());
    for item in &cart.items {
        let Some(product) = by_id.get(&item.product_id).filter(|p| p.status == ProductStatus::Active) else {
            return Err(out_of_stock(&item.sku, 0));
        };
        if product.price.currency() != currency {
            return Err(Failure::Before(ApiError::conflict(format!(
                "{} is not sold in {currency}",
                product.sku
            ))));
        }
        if !(1..=999).contains(&item.quantity) {
            return Err(invalid("A cart line has an invalid quantity."));
        }
        lines.push(PricedLine {
            product_id: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            quantity: i64::from(item.quantity),
            unit_price_cents: product.price.cents(),
            selected_attributes: serde_json::Value::Object(item.selected_attributes.clone()),
            reservation_id: item.reservation_id,
        });
    }
    let parts: Vec<(i64, i64)> = lines.iter().map(|l| (l.unit_price_cents, l.quantity)).collect();
    let totals = state.settings.pricing.totals(currency, &parts).map_err(|e| invalid(e.to_string()))?;
    // Refused before anything is reserved: Stripe would refuse the PaymentIntent forever.
    let (min, max) = currency.charge_limits();
    if !(min..=max).contains(&totals.total().cents()) {
        return Err(invalid(format!(
            "The order total must be between {} and {} {currency}.",
            Money::new(min, currency).decimal_string(),
            Money::new(max, currency).decimal_string()
        )));
    }
    Ok(Priced { lines, totals })
}
