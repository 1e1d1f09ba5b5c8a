//! Catalog values other services rely on: product status, availability, the shared summary,
//! and the field rules every writer of a product applies ([`rules`]).

pub mod rules;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{ProductId, Sku};
use crate::money::Money;

pub use self::rules::{Defaults, FieldError, NewProduct, Patch, ProductChanges, ProductDraft, ProductPatch};

/// Where a product is in its life; only `Active` products are shown or sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    /// Being prepared; invisible to customers.
    Draft,
    /// On sale.
    Active,
    /// No longer sold; kept for order history.
    Discontinued,
}

impl ProductStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [ProductStatus; 3] =
        [ProductStatus::Draft, ProductStatus::Active, ProductStatus::Discontinued];

    /// The stored and JSON spelling, e.g. `"active"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Active => "active",
            ProductStatus::Discontinued => "discontinued",
        }
    }
}

impl fmt::Display for ProductStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product status string that is not `draft`, `active` or `discontinued`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown product status {0:?}: expected draft, active or discontinued")]
pub struct UnknownProductStatus(pub String);

impl FromStr for ProductStatus {
    type Err = UnknownProductStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProductStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownProductStatus(s.to_owned()))
    }
}

/// What the storefront shows about stock: `{"in_stock": true, "quantity": 145}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Availability {
    /// Whether at least one unit can be bought now.
    pub in_stock: bool,
    /// Units that can be bought now (stock not held by reservations).
    pub quantity: i64,
}

impl Availability {
    /// Availability from the stock and reserved counters: `max(0, stock − reserved)`.
    pub fn from_stock(stock: i64, reserved: i64) -> Self {
        // Clamped: reserved may briefly exceed stock after an admin lowers stock.
        let quantity = stock.saturating_sub(reserved).max(0);
        Availability { in_stock: quantity > 0, quantity }
    }
}

/// What catalog tells cart and order about a product: enough to price and check a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductSummary {
    /// The product id.
    pub id: ProductId,
    /// The SKU.
    pub sku: Sku,
    /// The display name.
    pub name: String,
    /// The current unit price (authoritative at checkout).
    pub price: Money,
    /// The life-cycle status.
    pub status: ProductStatus,
    /// Units not held by reservations (never negative).
    pub available_quantity: i64,
    /// The product's attributes (what a cart line's `selected_attributes` may pick from).
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl ProductSummary {
    /// Whether `quantity` units can be sold now: the product is active and enough is available.
    pub fn can_sell(&self, quantity: i64) -> bool {
        self.status == ProductStatus::Active && quantity > 0 && quantity <= self.available_quantity
    }

    /// The storefront availability for this product.
    pub fn availability(&self) -> Availability {
        Availability::from_stock(self.available_quantity, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn status_spellings() {
        for st in ProductStatus::ALL {
            assert_eq!(st.as_str().parse::<ProductStatus>(), Ok(st));
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{st}\""));
        }
        assert_eq!(
            "Active".parse::<ProductStatus>().unwrap_err().to_string(),
            "unknown product status \"Active\": expected draft, active or discontinued"
        );
        assert!(serde_json::from_str::<ProductStatus>("\"deleted\"").is_err());
    }

    #[test]
    fn availability_from_stock() {
        assert_eq!(Availability::from_stock(150, 5), Availability { in_stock: true, quantity: 145 });
        assert_eq!(Availability::from_stock(5, 5), Availability { in_stock: false, quantity: 0 });
        assert_eq!(Availability::from_stock(3, 10), Availability { in_stock: false, quantity: 0 });
        assert_eq!(Availability::from_stock(i64::MIN, i64::MAX).quantity, 0);
        let json = serde_json::to_value(Availability::from_stock(2, 1)).unwrap();
        assert_eq!(json, serde_json::json!({"in_stock": true, "quantity": 1}));
    }

    #[test]
    fn summary_can_sell() {
        let mut p = ProductSummary {
            id: ProductId(1),
            sku: Sku::parse("TSHIRT-BLK-M").unwrap(),
            name: "T-Shirt".into(),
            price: Money::new(2999, Currency::Usd),
            status: ProductStatus::Active,
            available_quantity: 3,
            attributes: serde_json::Map::new(),
        };
        assert!(p.can_sell(3));
        assert!(!p.can_sell(4));
        assert!(!p.can_sell(0));
        assert_eq!(p.availability().quantity, 3);
        p.status = ProductStatus::Draft;
        assert!(!p.can_sell(1));
        let back: ProductSummary = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
