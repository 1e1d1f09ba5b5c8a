//! Cart lines and totals. Prices are whatever catalog said last; checkout re-prices.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{ProductId, Sku};
use crate::money::{Currency, Money, MoneyError};

/// How many units of one product a cart line holds: 1 to 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct Quantity(i32);

/// A quantity outside `1..=999`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("quantity must be between 1 and 999, got {0}")]
pub struct QuantityError(pub i64);

impl Quantity {
    /// The smallest quantity on a line.
    pub const MIN: i32 = 1;
    /// The largest quantity on a line (the seed's limit).
    pub const MAX: i32 = 999;

    /// Validates `n` as a line quantity.
    pub fn new(n: i32) -> Result<Self, QuantityError> {
        if (Self::MIN..=Self::MAX).contains(&n) { Ok(Quantity(n)) } else { Err(QuantityError(i64::from(n))) }
    }

    /// The number of units.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// The quantity after merging another line of the same item; fails above 999.
    pub fn checked_add(self, other: Quantity) -> Result<Self, QuantityError> {
        // Both are ≤ 999, so the i32 sum cannot overflow.
        let sum = self.0 + other.0;
        Quantity::new(sum)
    }
}

impl TryFrom<i32> for Quantity {
    type Error = QuantityError;

    fn try_from(n: i32) -> Result<Self, Self::Error> {
        Quantity::new(n)
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        i32::try_from(n).map_err(|_| QuantityError(n)).and_then(Quantity::new)
    }
}

impl From<Quantity> for i32 {
    fn from(q: Quantity) -> i32 {
        q.0
    }
}

/// The most units one cart line may hold (tighter than [`Quantity::MAX`], the seed's order limit).
pub const MAX_LINE_QUANTITY: i32 = 99;
/// The most lines one cart may hold.
pub const MAX_LINES: usize = 100;
/// The most keys in a line's `selected_attributes`.
pub const MAX_ATTRIBUTES: usize = 10;
/// The longest attribute name, in characters.
pub const MAX_ATTRIBUTE_KEY_LEN: usize = 50;
/// The longest attribute string value, in characters.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 100;

/// Why a line's quantity or options were refused (each message names the rule).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineRuleError {
    /// Outside `1..=MAX_LINE_QUANTITY`.
    #[error("The quantity must be between 1 and {MAX_LINE_QUANTITY}.")]
    Quantity,
    /// More keys than [`MAX_ATTRIBUTES`].
    #[error("The selected attributes may have at most {MAX_ATTRIBUTES} keys.")]
    TooManyAttributes,
    /// An empty or too long key.
    #[error("Each attribute name must be 1 to {MAX_ATTRIBUTE_KEY_LEN} characters.")]
    AttributeKey,
    /// A value that is not a short string, a number or a boolean (nested objects, arrays, null).
    #[error(
        "Each attribute value must be a string of at most {MAX_ATTRIBUTE_VALUE_LEN} characters, a number or a boolean."
    )]
    AttributeValue,
    /// A key the product does not have, or a value it does not offer.
    #[error("The product has no option {0:?} with this value.")]
    NotOffered(String),
}

/// Checks a cart line quantity (`1..=99`).
pub fn check_line_quantity(n: i64) -> Result<i32, LineRuleError> {
    i32::try_from(n).ok().filter(|n| (1..=MAX_LINE_QUANTITY).contains(n)).ok_or(LineRuleError::Quantity)
}

/// Checks `selected_attributes`: a small flat object of short strings, numbers and booleans.
pub fn check_attributes(attrs: &serde_json::Map<String, serde_json::Value>) -> Result<(), LineRuleError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(LineRuleError::TooManyAttributes);
    }
    for (key, value) in attrs {
        if key.is_empty() || key.chars().count() > MAX_ATTRIBUTE_KEY_LEN {
            return Err(LineRuleError::AttributeKey);
        }
        let ok = match value {
            serde_json::Value::String(s) => s.chars().count() <= MAX_ATTRIBUTE_VALUE_LEN,
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => true,
            _ => false,
        };
        if !ok {
            return Err(LineRuleError::AttributeValue);
        }
    }
    Ok(())
}

/// Checks `selected` against what the product offers: every key must be one of the product's
/// attributes, and its value the product's value (or one of them, when the product lists
/// several). Invented options would let one cart split a product into any number of lines.
pub fn check_offered(
    selected: &serde_json::Map<String, serde_json::Value>,
    product: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), LineRuleError> {
    fn text(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    for (key, value) in selected {
        let wanted = text(value);
        let offers = |v: &serde_json::Value| wanted.is_some() && text(v) == wanted;
        let offered = match product.get(key) {
            Some(serde_json::Value::Array(values)) => values.iter().any(offers),
            Some(v) => offers(v),
            None => false,
        };
        if !offered {
            return Err(LineRuleError::NotOffered(key.clone()));
        }
    }
    Ok(())
}

/// Two lines of the same item merged (a guest cart into a customer's): the sum, capped at
/// [`MAX_LINE_QUANTITY`].
pub fn merged_quantity(a: i32, b: i32) -> i32 {
    a.saturating_add(b).min(MAX_LINE_QUANTITY)
}

/// One product (with its chosen options) in a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// The product's SKU, kept for display and events.
    pub sku: Sku,
    /// How many units.
    pub quantity: Quantity,
    /// The price of one unit.
    pub unit_price: Money,
    /// Options the customer picked, such as `{"size": "M"}`.
    #[serde(default)]
    pub selected_attributes: serde_json::Map<String, serde_json::Value>,
}

impl CartLine {
    /// `unit_price × quantity`; fails on overflow.
    pub fn line_total(&self) -> Result<Money, MoneyError> {
        self.unit_price.checked_mul(i64::from(self.quantity.get()))
    }

    /// Whether `other` is the same item (same product, same options), so the two merge.
    pub fn same_item(&self, other: &CartLine) -> bool {
        // serde_json::Map compares by key, whatever the insertion order.
        self.product_id == other.product_id && self.selected_attributes == other.selected_attributes
    }
}

/// A cart's totals: the sum of its lines and the number of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartTotals {
    /// The sum of the line totals.
    pub subtotal: Money,
    /// The number of units across all lines (not the number of lines).
    pub item_count: i64,
    /// The cart's currency: the lines', or the shop default when the cart is empty.
    pub currency: Currency,
}

impl CartTotals {
    /// Totals of `lines`; an empty cart is zero in `default_currency`. Mixed currencies fail.
    pub fn from_lines(lines: &[CartLine], default_currency: Currency) -> Result<Self, MoneyError> {
        let currency = lines.first().map_or(default_currency, |l| l.unit_price.currency());
        let mut subtotal = Money::zero(currency);
        let mut item_count: i64 = 0;
        for line in lines {
            subtotal = subtotal.checked_add(line.line_total()?)?;
            item_count =
                item_count.checked_add(i64::from(line.quantity.get())).ok_or(MoneyError::Overflow)?;
        }
        Ok(CartTotals { subtotal, item_count, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: i64, qty: i32, cents: i64, currency: Currency) -> CartLine {
        CartLine {
            product_id: ProductId(product),
            sku: Sku::parse("SKU-1").unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            unit_price: Money::new(cents, currency),
            selected_attributes: serde_json::Map::new(),
        }
    }

    #[test]
    fn line_rules() {
        assert_eq!(check_line_quantity(1), Ok(1));
        assert_eq!(check_line_quantity(99), Ok(99));
        for bad in [0, -1, 100, i64::MAX] {
            assert_eq!(check_line_quantity(bad), Err(LineRuleError::Quantity));
        }
        let ok = serde_json::json!({"size": "M", "gift": true, "length": 32});
        assert!(check_attributes(ok.as_object().unwrap()).is_ok());
        for bad in [
            serde_json::json!({"size": {"eu": 40}}),
            serde_json::json!({"size": ["M"]}),
            serde_json::json!({"size": null}),
            serde_json::json!({"": "x"}),
            serde_json::json!({"k": "x".repeat(101)}),
            serde_json::Value::Object((0..11).map(|i| (format!("k{i}"), "v".into())).collect()),
        ] {
            assert!(check_attributes(bad.as_object().unwrap()).is_err(), "{bad}");
        }
        assert_eq!(merged_quantity(60, 50), 99);
        let product = serde_json::json!({"color": "black", "size": ["S", "M"], "length": 32});
        let product = product.as_object().unwrap();
        for ok in [
            serde_json::json!({}),
            serde_json::json!({"size": "M", "color": "black"}),
            serde_json::json!({"length": "32"}),
        ] {
            assert!(check_offered(ok.as_object().unwrap(), product).is_ok(), "{ok}");
        }
        for bad in [
            serde_json::json!({"size": "XL"}),
            serde_json::json!({"engraving": "hi"}),
            serde_json::json!({"color": "white"}),
        ] {
            assert!(
                matches!(check_offered(bad.as_object().unwrap(), product), Err(LineRuleError::NotOffered(_))),
                "{bad}"
            );
        }
        assert_eq!(merged_quantity(2, 3), 5);
    }

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(-1).is_err());
        assert!(Quantity::new(1000).is_err());
        assert_eq!(Quantity::new(999).unwrap().get(), 999);
        assert_eq!(Quantity::new(0).unwrap_err().to_string(), "quantity must be between 1 and 999, got 0");
        assert!(serde_json::from_str::<Quantity>("1000").is_err());
        assert_eq!(serde_json::from_str::<Quantity>("5").unwrap().get(), 5);
        let q = Quantity::new(500).unwrap();
        assert_eq!(q.checked_add(Quantity::new(499).unwrap()).unwrap().get(), 999);
        assert!(q.checked_add(q).is_err());
        assert_eq!(Quantity::try_from(7_i64).unwrap().get(), 7);
        assert_eq!(Quantity::try_from(i64::MAX), Err(QuantityError(i64::MAX)));
    }

    #[test]
    fn line_total_is_checked() {
        assert_eq!(line(1, 3, 1999, Currency::Usd).line_total(), Ok(Money::new(5997, Currency::Usd)));
        assert_eq!(line(1, 2, i64::MAX, Currency::Usd).line_total(), Err(MoneyError::Overflow));
    }

    #[test]
    fn same_item_compares_product_and_options() {
        let mut a = line(1, 1, 100, Currency::Usd);
        let mut b = line(1, 5, 120, Currency::Usd);
        assert!(a.same_item(&b));
        a.selected_attributes.insert("size".into(), "M".into());
        assert!(!a.same_item(&b));
        b.selected_attributes.insert("size".into(), "M".into());
        assert!(a.same_item(&b));
        assert!(!a.same_item(&line(2, 1, 100, Currency::Usd)));
    }

    #[test]
    fn totals() {
        let empty = CartTotals::from_lines(&[], Currency::Eur).unwrap();
        assert_eq!(empty.subtotal, Money::zero(Currency::Eur));
        assert_eq!((empty.item_count, empty.currency), (0, Currency::Eur));

        let lines = [line(1, 2, 2999, Currency::Usd), line(2, 1, 4999, Currency::Usd)];
        let t = CartTotals::from_lines(&lines, Currency::Eur).unwrap();
        assert_eq!(t.subtotal, Money::new(10_997, Currency::Usd));
        assert_eq!((t.item_count, t.currency), (3, Currency::Usd));

        let mixed = [line(1, 1, 100, Currency::Usd), line(2, 1, 100, Currency::Gbp)];
        assert!(matches!(
            CartTotals::from_lines(&mixed, Currency::Usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn line_json_defaults_attributes() {
        let json = serde_json::json!({
            "product_id": 1, "sku": "SKU-1", "quantity": 2,
            "unit_price": {"amount_cents": 100, "currency": "USD"}
        });
        let l: CartLine = serde_json::from_value(json).unwrap();
        assert!(l.selected_attributes.is_empty());
    }
}
