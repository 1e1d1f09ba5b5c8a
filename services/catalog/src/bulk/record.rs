//! One product of a bulk load: the JSON line as written, and the validated row.

use domain::ids::{Sku, Slug};
use domain::money::{Currency, Money};
use domain::product::ProductStatus;
use serde::Deserialize;

/// Largest accepted `attributes` object, serialized (bytes).
pub const MAX_ATTRIBUTES_BYTES: usize = 8 * 1024;
/// Longest accepted name (the column is `varchar(255)`).
const MAX_NAME_CHARS: usize = 255;
/// Longest accepted description.
const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// A validated product, ready to upsert by SKU.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    /// Unique key of the upsert.
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Long description.
    pub description: Option<String>,
    /// URL slug (unique).
    pub slug: Slug,
    /// Unit price (> 0).
    pub price: Money,
    /// A JSON object (category, color, size, material ...).
    pub attributes: serde_json::Value,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units held (only applied when the product is new: see `upsert_batch`).
    pub reserved_quantity: i32,
    /// Life-cycle status.
    pub status: ProductStatus,
}

impl NewProduct {
    /// The product as one line of `catalog import`'s format.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "slug": self.slug,
            "price_cents": self.price.cents(),
            "currency": self.price.currency(),
            "attributes": self.attributes,
            "stock_quantity": self.stock_quantity,
            "reserved_quantity": self.reserved_quantity,
            "status": self.status,
        })
        .to_string()
    }
}

/// One JSON line of `catalog import`: the seed's product fields. Unknown fields (such as the
/// `id` or `created_at` of an export) are ignored.
#[derive(Debug, Deserialize)]
pub struct ProductLine {
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    slug: Option<String>,
    price_cents: Option<serde_json::Value>,
    /// Alternative to `price_cents`: currency units, `"29.99"` or `29.99`, parsed exactly.
    price: Option<serde_json::Value>,
    currency: Option<String>,
    attributes: Option<serde_json::Value>,
    stock_quantity: Option<serde_json::Value>,
    reserved_quantity: Option<serde_json::Value>,
    status: Option<String>,
}

/// Field → message pairs, joined for one report line.
#[derive(Debug, Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, field: &str, message: impl std::fmt::Display) {
        self.0.push(format!("{field}: {message}"));
    }
}

fn int_field(problems: &mut Problems, field: &str, value: Option<&serde_json::Value>, default: i64) -> i64 {
    match value {
        None | Some(serde_json::Value::Null) => default,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            problems.add(field, "must be an integer");
            default
        }),
    }
}

impl ProductLine {
    /// Parses one line of JSON.
    pub fn parse(line: &str) -> Result<Self, String> {
        serde_json::from_str(line).map_err(|e| {
            if e.is_data() { format!("wrong shape: {e}") } else { format!("not valid JSON: {e}") }
        })
    }

    /// Validates the line with the domain's rules. `currency` is used when the line has none.
    /// The error lists every broken rule as `field: message`, separated by `; `.
    pub fn validate(self, currency: Currency) -> Result<NewProduct, String> {
        let mut p = Problems::default();
        let sku = match self.sku.as_deref().map(Sku::parse) {
            None => {
                p.add("sku", "is required");
                None
            }
            Some(Err(e)) => {
                p.add("sku", e);
                None
            }
            Some(Ok(s)) => Some(s),
        };
        let name = self.name.map(|n| n.trim().to_owned()).unwrap_or_default();
        if name.is_empty() {
            p.add("name", "is required");
        } else if name.chars().count() > MAX_NAME_CHARS {
            p.add("name", format!("must be at most {MAX_NAME_CHARS} characters"));
        }
        let description = self.description.filter(|d| !d.trim().is_empty());
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            p.add("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
        }
        let slug = match self.slug.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Slug::parse(s).map_err(|e| p.add("slug", e)).ok(),
            None if name.is_empty() => None,
            None => Slug::from_name(&name)
                .map_err(|e| p.add("slug", format!("cannot be made from the name ({e})")))
                .ok(),
        };
        let currency = match self.currency.as_deref() {
            None | Some("") => Some(currency),
            Some(code) => code
                .parse::<Currency>()
                .map_err(|_| p.add("currency", "must be one of USD, EUR, GBP, CAD"))
                .ok(),
        };
        let cents = price_cents(&mut p, self.price_cents.as_ref(), self.price.as_ref());
        let attributes = match self.attributes {
            None | Some(serde_json::Value::Null) => serde_json::Value::Object(serde_json::Map::new()),
            Some(v @ serde_json::Value::Object(_)) => {
                if v.to_string().len() > MAX_ATTRIBUTES_BYTES {
                    p.add("attributes", format!("must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"));
                }
                v
            }
            Some(_) => {
                p.add("attributes", "must be a JSON object");
                serde_json::Value::Null
            }
        };
        let stock = int_field(&mut p, "stock_quantity", self.stock_quantity.as_ref(), 0);
        let reserved = int_field(&mut p, "reserved_quantity", self.reserved_quantity.as_ref(), 0);
        let stock_quantity = i32::try_from(stock).ok().filter(|s| *s >= 0);
        if stock_quantity.is_none() {
            p.add("stock_quantity", "must be between 0 and 2147483647");
        }
        let reserved_quantity = i32::try_from(reserved).ok().filter(|r| *r >= 0);
        if reserved_quantity.is_none() {
            p.add("reserved_quantity", "must be between 0 and 2147483647");
        } else if reserved > stock && stock_quantity.is_some() {
            p.add("reserved_quantity", "must not be greater than stock_quantity");
        }
        let status = match self.status.as_deref() {
            None | Some("") => Some(ProductStatus::Active),
            Some(s) => s.parse::<ProductStatus>().map_err(|e| p.add("status", e)).ok(),
        };
        match (sku, slug, currency, cents, stock_quantity, reserved_quantity, status) {
            (
                Some(sku),
                Some(slug),
                Some(currency),
                Some(cents),
                Some(stock),
                Some(reserved),
                Some(status),
            ) if p.0.is_empty() => Ok(NewProduct {
                sku,
                name,
                description,
                slug,
                price: Money::new(cents, currency),
                attributes,
                stock_quantity: stock,
                reserved_quantity: reserved,
                status,
            }),
            _ => Err(p.0.join("; ")),
        }
    }
}

/// The price in cents from `price_cents` (integer) or `price` (decimal units); must be > 0.
fn price_cents(
    p: &mut Problems,
    cents: Option<&serde_json::Value>,
    units: Option<&serde_json::Value>,
) -> Option<i64> {
    let (field, value) = match (cents, units) {
        (Some(c), _) if !c.is_null() => {
            let Some(v) = c.as_i64() else {
                p.add("price_cents", "must be an integer number of cents");
                return None;
            };
            ("price_cents", v)
        }
        (_, Some(u)) if !u.is_null() => {
            let text = match u {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    p.add("price", "must be a decimal number such as 19.99");
                    return None;
                }
            };
            match domain::money::parse_decimal_cents(&text) {
                Ok(v) => ("price", v),
                Err(e) => {
                    p.add("price", e);
                    return None;
                }
            }
        }
        _ => {
            p.add("price_cents", "is required (or price in currency units)");
            return None;
        }
    };
    if value <= 0 {
        p.add(field, "must be greater than 0");
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> Result<NewProduct, String> {
        ProductLine::parse(line)?.validate(Currency::Usd)
    }

    #[test]
    fn a_full_line() {
        let p = check(
            r#"{"sku":"TSHIRT-BLK-M","name":"Premium Cotton T-Shirt - Black","description":"Soft.",
                "price_cents":2999,"currency":"EUR","attributes":{"category":"clothing"},
                "stock_quantity":150,"reserved_quantity":5,"status":"draft","id":7}"#,
        )
        .unwrap();
        assert_eq!(p.sku.as_str(), "TSHIRT-BLK-M");
        assert_eq!(p.slug.as_str(), "premium-cotton-t-shirt-black", "made from the name");
        assert_eq!(p.price, Money::new(2999, Currency::Eur));
        assert_eq!((p.stock_quantity, p.reserved_quantity, p.status), (150, 5, ProductStatus::Draft));
    }

    #[test]
    fn a_generated_product_reads_back_as_itself() {
        for i in 1..=50 {
            let p = crate::bulk::generate::product(3, i);
            assert_eq!(check(&p.to_json_line()).unwrap(), p);
        }
    }

    #[test]
    fn defaults_and_decimal_price() {
        let p = check(r#"{"sku":"A1","name":"Mug","price":"12.50"}"#).unwrap();
        assert_eq!(p.price, Money::new(1250, Currency::Usd));
        assert_eq!((p.stock_quantity, p.reserved_quantity, p.status), (0, 0, ProductStatus::Active));
        assert_eq!(p.attributes, serde_json::json!({}));
        assert_eq!(check(r#"{"sku":"A1","name":"Mug","price":19.99}"#).unwrap().price.cents(), 1999);
    }

    #[test]
    fn every_broken_rule_is_named() {
        let err = check(
            r#"{"sku":"bad sku","name":" ","price_cents":0,"currency":"JPY","attributes":[1],
                "stock_quantity":2,"reserved_quantity":3,"status":"gone"}"#,
        )
        .unwrap_err();
        for field in [
            "sku:",
            "name:",
            "price_cents: must be greater than 0",
            "currency:",
            "attributes:",
            "reserved_quantity: must not be greater",
            "status:",
        ] {
            assert!(err.contains(field), "{field} missing in {err}");
        }
        assert!(check("{nope").unwrap_err().starts_with("not valid JSON"));
        assert!(
            check(r#"{"sku":"A","name":"B","price":"1.999"}"#)
                .unwrap_err()
                .contains("at most 2 decimal places")
        );
        assert!(
            check(r#"{"sku":"A","name":"B","price_cents":5,"stock_quantity":-1}"#)
                .unwrap_err()
                .contains("stock_quantity")
        );
        assert!(
            check(r#"{"sku":"A","name":"!!!","price_cents":5}"#)
                .unwrap_err()
                .contains("slug: cannot be made")
        );
    }
}
