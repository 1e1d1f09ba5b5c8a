//! Admin request bodies, parsed into values that already obey every rule (422 otherwise).

use domain::ids::{Sku, Slug};
use domain::money::Currency;
use domain::product::ProductStatus;
use platform::http::ValidationErrors;
use serde::{Deserialize, Deserializer};

/// Largest `attributes` object, serialised (bytes).
pub const MAX_ATTRIBUTES_BYTES: usize = 8 * 1024;
/// Longest name (the column is `varchar(255)`).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// A PATCH field: absent (keep), `null` (clear, where allowed) or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value.
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Patch::Null, Patch::Value))
    }
}

impl<T> Patch<T> {
    fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

/// `POST /api/v1/admin/products` as sent. Every field is optional here so that a missing one
/// gets the seed's "is required" message rather than a serde error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    sku: Option<String>,
    name: Option<String>,
    description: Option<String>,
    slug: Option<String>,
    price_cents: Option<i64>,
    currency: Option<String>,
    attributes: Option<serde_json::Value>,
    stock_quantity: Option<i64>,
    status: Option<String>,
}

/// `PATCH /api/v1/admin/products/{id}` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    sku: Patch<String>,
    #[serde(default)]
    name: Patch<String>,
    #[serde(default)]
    description: Patch<String>,
    #[serde(default)]
    slug: Patch<String>,
    #[serde(default)]
    price_cents: Patch<i64>,
    #[serde(default)]
    currency: Patch<String>,
    #[serde(default)]
    attributes: Patch<serde_json::Value>,
    #[serde(default)]
    status: Patch<String>,
}

/// `POST /api/v1/admin/products/{id}/stock`: exactly one of `quantity` (set) or `delta` (adjust).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    quantity: Option<i64>,
    delta: Option<i64>,
}

/// A validated new product.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// SKU.
    pub sku: Sku,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Given or derived from the name.
    pub slug: Slug,
    /// > 0.
    pub price_cents: i64,
    /// Supported currency (the shop's when absent).
    pub currency: Currency,
    /// A JSON object of bounded size.
    pub attributes: serde_json::Value,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Status (draft when absent).
    pub status: ProductStatus,
}

/// A validated partial update; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    /// New SKU.
    pub sku: Option<Sku>,
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New slug.
    pub slug: Option<Slug>,
    /// New price.
    pub price_cents: Option<i64>,
    /// New currency.
    pub currency: Option<Currency>,
    /// New attributes.
    pub attributes: Option<serde_json::Value>,
    /// New status.
    pub status: Option<ProductStatus>,
}

/// A validated stock change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// Set stock to this many units.
    Set(i32),
    /// Add (or, negative, remove) units.
    Adjust(i32),
}

fn required<T>(value: Option<T>, field: &str, errors: &mut ValidationErrors) -> Option<T> {
    if value.is_none() {
        errors.add(field, format!("The {} field is required.", field.replace('_', " ")));
    }
    value
}

fn sku(raw: &str, errors: &mut ValidationErrors) -> Option<Sku> {
    Sku::parse(raw).map_err(|e| errors.add("sku", format!("The sku {}.", e.reason))).ok()
}

fn name(raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        errors.add("name", "The name field must not be empty.");
        return None;
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        errors.add("name", format!("The name field must not be greater than {MAX_NAME_CHARS} characters."));
        return None;
    }
    Some(trimmed.to_owned())
}

fn description(raw: String, errors: &mut ValidationErrors) -> Option<String> {
    if raw.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add(
            "description",
            format!("The description field must not be greater than {MAX_DESCRIPTION_CHARS} characters."),
        );
        return None;
    }
    Some(raw)
}

fn slug(raw: &str, errors: &mut ValidationErrors) -> Option<Slug> {
    Slug::parse(raw).map_err(|e| errors.add("slug", format!("The slug {}.", e.reason))).ok()
}

fn price(cents: i64, errors: &mut ValidationErrors) -> Option<i64> {
    if cents <= 0 {
        errors.add("price_cents", "The price cents field must be greater than 0.");
        return None;
    }
    Some(cents)
}

fn currency(raw: &str, errors: &mut ValidationErrors) -> Option<Currency> {
    raw.parse::<Currency>()
        .map_err(|_| errors.add("currency", "The selected currency is invalid (USD, EUR, GBP or CAD)."))
        .ok()
}

fn attributes(value: serde_json::Value, errors: &mut ValidationErrors) -> Option<serde_json::Value> {
    if !value.is_object() {
        errors.add("attributes", "The attributes field must be an object.");
        return None;
    }
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size > MAX_ATTRIBUTES_BYTES {
        errors.add(
            "attributes",
            format!("The attributes field must not be larger than {MAX_ATTRIBUTES_BYTES} bytes."),
        );
        return None;
    }
    Some(value)
}

fn status(raw: &str, errors: &mut ValidationErrors) -> Option<ProductStatus> {
    raw.parse::<ProductStatus>()
        .map_err(|_| errors.add("status", "The selected status is invalid (draft, active or discontinued)."))
        .ok()
}

fn quantity(value: i64, field: &str, min: i64, errors: &mut ValidationErrors) -> Option<i32> {
    let label = field.replace('_', " ");
    if value < min {
        errors.add(field, format!("The {label} field must be at least {min}."));
        return None;
    }
    i32::try_from(value)
        .map_err(|_| errors.add(field, format!("The {label} field must not be greater than {}.", i32::MAX)))
        .ok()
}

impl CreateBody {
    /// Applies every rule; `shop_currency` is used when `currency` is absent.
    pub fn validate(self, shop_currency: Currency) -> Result<NewProduct, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let sku = required(self.sku, "sku", &mut e).and_then(|s| sku(&s, &mut e));
        let name = required(self.name, "name", &mut e).and_then(|n| name(&n, &mut e));
        let description = self.description.and_then(|d| description(d, &mut e));
        let slug = match (self.slug, &name) {
            (Some(s), _) => slug(&s, &mut e),
            (None, Some(n)) => Slug::from_name(n)
                .map_err(|_| e.add("slug", "The slug could not be derived from the name; give one."))
                .ok(),
            (None, None) => None,
        };
        let price_cents = required(self.price_cents, "price_cents", &mut e).and_then(|p| price(p, &mut e));
        let currency = match self.currency {
            Some(c) => currency(&c, &mut e),
            None => Some(shop_currency),
        };
        let attributes = attributes(self.attributes.unwrap_or_else(|| serde_json::json!({})), &mut e);
        let stock_quantity = quantity(self.stock_quantity.unwrap_or(0), "stock_quantity", 0, &mut e);
        let status = match self.status {
            Some(s) => status(&s, &mut e),
            None => Some(ProductStatus::Draft),
        };
        match (sku, name, slug, price_cents, currency, attributes, stock_quantity, status) {
            (
                Some(sku),
                Some(name),
                Some(slug),
                Some(price_cents),
                Some(currency),
                Some(attributes),
                Some(stock_quantity),
                Some(status),
            ) if e.is_empty() => Ok(NewProduct {
                sku,
                name,
                description,
                slug,
                price_cents,
                currency,
                attributes,
                stock_quantity,
                status,
            }),
            _ => Err(e),
        }
    }
}

fn not_null<T>(patch: Patch<T>, field: &str, errors: &mut ValidationErrors) -> Option<T> {
    match patch {
        Patch::Absent => None,
        Patch::Null => {
            errors.add(field, format!("The {} field must not be null.", field.replace('_', " ")));
            None
        }
        Patch::Value(v) => Some(v),
    }
}

impl UpdateBody {
    /// Applies every rule to the fields present; an empty body is a 422.
    pub fn validate(self) -> Result<ProductChanges, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let nothing = self.sku.is_absent()
            && self.name.is_absent()
            && self.description.is_absent()
            && self.slug.is_absent()
            && self.price_cents.is_absent()
            && self.currency.is_absent()
            && self.attributes.is_absent()
            && self.status.is_absent();
        if nothing {
            e.add("body", "At least one field to change is required.");
            return Err(e);
        }
        let changes = ProductChanges {
            sku: not_null(self.sku, "sku", &mut e).and_then(|s| sku(&s, &mut e)),
            name: not_null(self.name, "name", &mut e).and_then(|n| name(&n, &mut e)),
            description: match self.description {
                Patch::Absent => None,
                Patch::Null => Some(None),
                Patch::Value(d) => description(d, &mut e).map(Some),
            },
            slug: not_null(self.slug, "slug", &mut e).and_then(|s| slug(&s, &mut e)),
            price_cents: not_null(self.price_cents, "price_cents", &mut e).and_then(|p| price(p, &mut e)),
            currency: not_null(self.currency, "currency", &mut e).and_then(|c| currency(&c, &mut e)),
            attributes: not_null(self.attributes, "attributes", &mut e).and_then(|a| attributes(a, &mut e)),
            status: not_null(self.status, "status", &mut e).and_then(|s| status(&s, &mut e)),
        };
        if e.is_empty() { Ok(changes) } else { Err(e) }
    }
}

impl StockBody {
    /// Exactly one of `quantity` (≥ 0) and `delta` (non-zero).
    pub fn validate(self) -> Result<StockChange, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let change = match (self.quantity, self.delta) {
            (Some(q), None) => quantity(q, "quantity", 0, &mut e).map(StockChange::Set),
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
        assert_eq!((p.currency, p.status, p.stock_quantity), (Currency::Eur, ProductStatus::Draft, 0));
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
        let big = json!({"sku": "A", "name": "x", "price_cents": 1, "attributes": {"k": "v".repeat(9000)}});
        assert!(fields(&create(big).unwrap_err())["attributes"][0].as_str().unwrap().contains("8192 bytes"));
        let e = create(json!({"sku": "A", "name": "!!!", "price_cents": 1})).unwrap_err();
        assert!(fields(&e)["slug"][0].as_str().unwrap().contains("could not be derived"));
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let b: UpdateBody = serde_json::from_value(json!({"description": null, "price_cents": 5})).unwrap();
        let c = b.validate().unwrap();
        assert_eq!((c.description, c.price_cents, c.name), (Some(None), Some(5), None));
        let b: UpdateBody = serde_json::from_value(json!({"name": null})).unwrap();
        assert!(fields(&b.validate().unwrap_err())["name"][0].as_str().unwrap().contains("must not be null"));
        let b: UpdateBody = serde_json::from_value(json!({})).unwrap();
        assert!(b.validate().is_err());
        assert!(serde_json::from_value::<UpdateBody>(json!({"stock_quantity": 1})).is_err());
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
