//! Request bodies, checked field by field so a 422 lists every broken rule in the seed's shape.

use actix_web::HttpRequest;
use actix_web::http::header;
use domain::cart::{LineRuleError, check_attributes, check_line_quantity};
use domain::ids::{ProductId, Sku};
use platform::http::{ApiError, ValidationErrors};
use serde_json::{Map, Value};

/// How the caller named the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// By catalog id.
    Id(ProductId),
    /// By SKU.
    Sku(Sku),
}

/// `POST /api/v1/carts/{id}/items`.
#[derive(Debug, Clone)]
pub struct AddItem {
    /// The product.
    pub product: ProductRef,
    /// Units to add (1 to 99; default 1).
    pub quantity: i32,
    /// Options picked.
    pub selected_attributes: Map<String, Value>,
}

/// `PATCH /api/v1/carts/{id}/items/{item_id}`.
#[derive(Debug, Clone, Copy)]
pub struct UpdateItem {
    /// The line's new quantity (1 to 99).
    pub quantity: i32,
}

fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::Validation(ValidationErrors::single("body", "The body must be a JSON object."))),
    }
}

fn unknown_fields(body: &Map<String, Value>, known: &[&str], errors: &mut ValidationErrors) {
    for key in body.keys() {
        if !known.contains(&key.as_str()) {
            errors.add(key, "This field is not allowed.");
        }
    }
}

/// An integer, also when written `2.0`: JSON has one number type, and JSON Schema's `integer`
/// (the documented type) is any number without a fraction.
fn whole_number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        let f = v.as_f64()?;
        // Beyond ±2^53 a float is not one integer; quantities are 1 to 99 anyway.
        #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
        (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
    })
}

fn quantity(value: Option<&Value>, default: Option<i32>, errors: &mut ValidationErrors) -> i32 {
    let parsed = match (value, default) {
        (None | Some(Value::Null), Some(d)) => return d,
        (None | Some(Value::Null), None) => {
            errors.add("quantity", "The quantity is required.");
            return 0;
        }
        (Some(v), _) => whole_number(v).ok_or(LineRuleError::Quantity).and_then(check_line_quantity),
    };
    parsed.unwrap_or_else(|e| {
        errors.add("quantity", e.to_string());
        0
    })
}

impl AddItem {
    /// Checks the body.
    pub fn parse(body: Value) -> Result<Self, ApiError> {
        let body = object(body)?;
        let mut errors = ValidationErrors::new();
        unknown_fields(&body, &["product_id", "sku", "quantity", "selected_attributes"], &mut errors);
        let product =
            match (body.get("product_id").filter(|v| !v.is_null()), body.get("sku").filter(|v| !v.is_null()))
            {
                (None, None) => {
                    errors.add("product_id", "A product_id or a sku is required.");
                    None
                }
                (Some(_), Some(_)) => {
                    errors.add("product_id", "Give a product_id or a sku, not both.");
                    None
                }
                (Some(id), None) => {
                    let id = id.as_i64().filter(|n| *n > 0).map(|n| ProductRef::Id(ProductId(n)));
                    if id.is_none() {
                        errors.add("product_id", "The product id must be a positive integer.");
                    }
                    id
                }
                (None, Some(sku)) => match sku.as_str().map(Sku::parse) {
                    Some(Ok(sku)) => Some(ProductRef::Sku(sku)),
                    Some(Err(e)) => {
                        errors.add("sku", e.to_string());
                        None
                    }
                    None => {
                        errors.add("sku", "The sku must be a string.");
                        None
                    }
                },
            };
        let quantity = quantity(body.get("quantity"), Some(1), &mut errors);
        let selected_attributes = match body.get("selected_attributes") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => {
                if let Err(e) = check_attributes(m) {
                    errors.add("selected_attributes", e.to_string());
                }
                m.clone()
            }
            Some(_) => {
                errors.add("selected_attributes", "The selected attributes must be an object.");
                Map::new()
            }
        };
        errors.into_result()?;
        let product = product.ok_or_else(|| ApiError::internal("product checked above"))?;
        Ok(AddItem { product, quantity, selected_attributes })
    }
}

impl UpdateItem {
    /// Checks the body.
    pub fn parse(body: Value) -> Result<Self, ApiError> {
        let body = object(body)?;
        let mut errors = ValidationErrors::new();
        unknown_fields(&body, &["quantity"], &mut errors);
        let quantity = quantity(body.get("quantity"), None, &mut errors);
        errors.into_result()?;
        Ok(UpdateItem { quantity })
    }
}

/// `POST /api/v1/carts` takes no fields: an empty body, or a JSON object with nothing in it.
pub fn check_create_body(req: &HttpRequest, body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if body.len() > super::BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge(format!(
            "The request body exceeds the limit of {} bytes",
            super::BODY_LIMIT
        )));
    }
    let is_json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType("Expected Content-Type: application/json".to_owned()));
    }
    let value: Value = platform::http::extract::decode_json(body)?;
    if value.is_null() {
        // JSON's "nothing": the same as no body.
        return Ok(());
    }
    let body = object(value)?;
    let mut errors = ValidationErrors::new();
    unknown_fields(&body, &[], &mut errors);
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation(v) => {
                let json = serde_json::to_value(&v).unwrap();
                json.as_object().unwrap().keys().cloned().collect()
            }
            other => panic!("not a 422: {other}"),
        }
    }

    #[test]
    fn add_item_rules() {
        let ok = AddItem::parse(
            json!({"sku": "TSHIRT-BLK-M", "quantity": 2, "selected_attributes": {"size": "M"}}),
        )
        .unwrap();
        assert_eq!(ok.product, ProductRef::Sku(Sku::parse("TSHIRT-BLK-M").unwrap()));
        assert_eq!(ok.quantity, 2);
        assert_eq!(AddItem::parse(json!({"product_id": 3})).unwrap().quantity, 1);
        for (body, field) in [
            (json!({}), "product_id"),
            (json!({"product_id": 1, "sku": "A"}), "product_id"),
            (json!({"product_id": -1}), "product_id"),
            (json!({"product_id": "1"}), "product_id"),
            (json!({"sku": "bad sku"}), "sku"),
            (json!({"product_id": 1, "quantity": 0}), "quantity"),
            (json!({"product_id": 1, "quantity": 100}), "quantity"),
            (json!({"product_id": 1, "quantity": 1.5}), "quantity"),
            (json!({"product_id": 1, "selected_attributes": {"a": {"b": 1}}}), "selected_attributes"),
            (json!({"product_id": 1, "selected_attributes": [1]}), "selected_attributes"),
            (json!({"product_id": 1, "price_cents": 1}), "price_cents"),
        ] {
            let err = AddItem::parse(body.clone()).unwrap_err();
            assert!(fields(err).contains(&field.to_owned()), "{body}");
        }
        assert!(matches!(AddItem::parse(json!([1])), Err(ApiError::Validation(_))));
    }

    #[test]
    fn update_item_rules() {
        assert_eq!(UpdateItem::parse(json!({"quantity": 99})).unwrap().quantity, 99);
        assert!(UpdateItem::parse(json!({})).is_err());
        assert!(UpdateItem::parse(json!({"quantity": 0})).is_err());
    }
}

/// `POST /api/v1/carts/{id}/items` as documented (a schema only: [`AddItem::parse`] reads it,
/// with per-field messages).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AddItemDoc {
    /// By product id.
    #[schema(title = "by product id")]
    ById(AddById),
    /// By SKU.
    #[schema(title = "by sku")]
    BySku(AddBySku),
}

/// A line by product id.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AddById {
    /// The product.
    #[schema(minimum = 1)]
    product_id: i64,
    /// Units, 1 to 99 (1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 99)]
    quantity: i32,
    /// Options picked from the product's attributes (`{"size": "M"}`).
    #[serde(default)]
    selected_attributes: Map<String, Value>,
}

/// A line by SKU.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AddBySku {
    /// The product's SKU.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
    sku: String,
    /// Units, 1 to 99 (1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 99)]
    quantity: i32,
    /// Options picked from the product's attributes (`{"size": "M"}`).
    #[serde(default)]
    selected_attributes: Map<String, Value>,
}

/// `PATCH /api/v1/carts/{id}/items/{item_id}` as documented (a schema only).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UpdateItemDoc {
    /// Units, 1 to 99.
    #[schema(minimum = 1, maximum = 99)]
    quantity: i32,
}

/// `POST /api/v1/carts` as documented: no body, or an empty object (a schema only).
#[derive(utoipa::ToSchema)]
#[schema(max_properties = 0)]
#[allow(dead_code)]
pub struct CreateCartDoc {}
