//! Admin request bodies, parsed into values that already obey every rule (422 otherwise).
//! The product field rules and their messages are the domain's (`domain::product::rules`),
//! shared with the bulk import.

use domain::money::Currency;
use domain::product::rules::{self, FieldError};
use domain::product::{Defaults, ProductDraft, ProductStatus};
use platform::http::ValidationErrors;
use serde::Deserialize;

pub use domain::product::{NewProduct, ProductChanges, ProductPatch as UpdateBody};

/// `POST /api/v1/admin/products` as sent. Every field is optional here so that a missing one
/// gets the "is required" rule rather than a serde error; unknown fields are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    slug: Option<String>,
    price_cents: Option<i64>,
    currency: Option<String>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<serde_json::Value>,
    stock_quantity: Option<i64>,
    status: Option<String>,
}

/// `POST /api/v1/admin/products/{id}/stock`: exactly one of `quantity` (set) or `delta` (adjust).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    quantity: Option<i64>,
    delta: Option<i64>,
}

/// A validated stock change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// Set stock to this many units.
    Set(i32),
    /// Add (or, negative, remove) units.
    Adjust(i32),
}

/// The broken rules in the seed's 422 shape.
pub fn invalid(errors: Vec<FieldError>) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    for e in errors {
        out.add(e.field, e.message);
    }
    out
}

impl CreateBody {
    /// Applies every rule; `shop_currency` is used when `currency` is absent, `draft` when
    /// `status` is.
    pub fn validate(self, shop_currency: Currency) -> Result<NewProduct, ValidationErrors> {
        let draft = ProductDraft {
            sku: self.sku,
            name: self.name,
            description: self.description,
            slug: self.slug,
            price_cents: self.price_cents.map(serde_json::Value::from),
            price: None,
            currency: self.currency,
            attributes: self.attributes,
            stock_quantity: self.stock_quantity.map(serde_json::Value::from),
            reserved_quantity: None,
            status: self.status,
        };
        draft.validate(Defaults { currency: shop_currency, status: ProductStatus::Draft }).map_err(invalid)
    }
}

/// Applies every rule to the fields of a PATCH that are present; an empty body is a 422.
pub fn validate_update(body: UpdateBody) -> Result<ProductChanges, ValidationErrors> {
    body.validate().map_err(invalid)
}

impl StockBody {
    /// Exactly one of `quantity` (≥ 0) and `delta` (non-zero).
    pub fn validate(self) -> Result<StockChange, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let change = match (self.quantity, self.delta) {
            (Some(q), None) => rules::quantity("quantity", q, 0)
                .map(StockChange::Set)
                .map_err(|r| e.add(r.field, r.message))
                .ok(),
            (None, Some(d)) => match i32::try_from(d) {
                Ok(0) => {
                    e.add("delta", "The delta field must not be 0.");
                    None
                }
                Ok(d) => Some(StockChange::Adjust(d)),
                Err(_) => {
                    e.add("delta", "The delta field is out of range.");
                    None
                }
            },
            (Some(_), Some(_)) => {
                e.add("body", "Give either quantity or delta, not both.");
                None
            }
            (None, None) => {
                e.add("body", "Give quantity (set) or delta (adjust).");
                None
            }
        };
        change.filter(|_| e.is_empty()).ok_or(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::money::Money;
    use serde_json::json;

    fn create(v: serde_json::Value) -> Result<NewProduct, ValidationErrors> {
        serde_json::from_value::<CreateBody>(v).unwrap().validate(Currency::Eur)
    }

    fn fields(e: &ValidationErrors) -> serde_json::Value {
        serde_json::to_value(e).unwrap()
    }

    #[test]
    fn create_defaults_and_derived_slug() {
        let p = create(json!({"sku": "A-1", "name": " Men's Café Shirt ", "price_cents": 100})).unwrap();
        assert_eq!((p.slug.as_str(), p.name.as_str()), ("mens-cafe-shirt", "Men's Café Shirt"));
        assert_eq!(
            (p.price, p.status, p.stock_quantity),
            (Money::new(100, Currency::Eur), ProductStatus::Draft, 0)
        );
        assert_eq!(p.attributes, json!({}));
    }

    #[test]
    fn create_rules() {
        let e = create(json!({})).unwrap_err();
        let f = fields(&e);
        for field in ["sku", "name", "price_cents"] {
            assert!(f[field][0].as_str().unwrap().contains("is required"), "{field}: {f}");
        }
        let e = create(json!({
            "sku": "bad sku", "name": "x", "price_cents": 0, "currency": "JPY",
            "attributes": [1], "stock_quantity": -1, "status": "archived", "slug": "Not A Slug"
        }))
        .unwrap_err();
        let f = fields(&e);
        for field in ["sku", "price_cents", "currency", "attributes", "stock_quantity", "status", "slug"] {
            assert!(f.get(field).is_some(), "{field} missing from {f}");
        }
        assert!(serde_json::from_value::<CreateBody>(json!({"reserved_quantity": 1})).is_err());
    }

    #[test]
    fn update_goes_through_the_domain_rules() {
        let b: UpdateBody = serde_json::from_value(json!({"name": null})).unwrap();
        assert!(
            fields(&validate_update(b).unwrap_err())["name"][0]
                .as_str()
                .unwrap()
                .contains("must not be null")
        );
        let b: UpdateBody = serde_json::from_value(json!({})).unwrap();
        assert!(fields(&validate_update(b).unwrap_err())["body"].is_array());
    }

    #[test]
    fn stock_rules() {
        let s = |v| serde_json::from_value::<StockBody>(v).unwrap().validate();
        assert_eq!(s(json!({"quantity": 5})).unwrap(), StockChange::Set(5));
        assert_eq!(s(json!({"delta": -3})).unwrap(), StockChange::Adjust(-3));
        assert!(s(json!({"quantity": -1})).is_err());
        assert!(s(json!({"delta": 0})).is_err());
        assert!(s(json!({"quantity": 1, "delta": 1})).is_err());
        assert!(s(json!({})).is_err());
        assert!(s(json!({"quantity": 3_000_000_000_i64})).is_err());
    }
}

/// `PATCH /api/v1/admin/products/{id}` as documented: any of the fields, `null` clears
/// `description` (a schema only: [`UpdateBody`] reads it).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PatchDoc {
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    slug: Option<String>,
    price_cents: Option<i64>,
    currency: Option<String>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<serde_json::Value>,
    status: Option<String>,
}

/// [`StockBody`] as documented: exactly one of the two (a schema only).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum StockDoc {
    /// Set stock to this many units.
    #[schema(title = "set")]
    Set(StockSet),
    /// Add (or, negative, remove) units.
    #[schema(title = "adjust")]
    Adjust(StockAdjust),
}

/// `{"quantity": N}`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StockSet {
    /// New stock, 0 to 2147483647.
    #[schema(minimum = 0, maximum = 2_147_483_647)]
    quantity: i64,
}

/// `{"delta": N}`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StockAdjust {
    /// Units to add (negative: remove).
    #[schema(minimum = -2_147_483_647, maximum = 2_147_483_647)]
    delta: i64,
}
