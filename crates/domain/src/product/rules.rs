//! The product field rules, once: what a new product and a change to one must satisfy, with one
//! set of messages. The admin API shows them as `{"messages": {"field": [message]}}` and the bulk
//! import as `line N: message`; both get the same text for the same broken rule.
//!
//! Messages follow the seed's (Laravel) style: "The price cents field must be greater than 0."

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::ProductStatus;
use crate::ids::{Sku, Slug};
use crate::money::{Currency, Money, parse_decimal_cents};

/// Largest `attributes` object, serialised (bytes).
pub const MAX_ATTRIBUTES_BYTES: usize = 8 * 1024;
/// Longest name (the column is `varchar(255)`).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// One broken rule: the field (as the client named it) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `price_cents` (`body` for a rule about the whole request).
    pub field: &'static str,
    /// The message, a sentence.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError { field, message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `price_cents` → `price cents`, as the messages name fields.
fn label(field: &str) -> String {
    field.replace('_', " ")
}

/// "The {field} field is required."
pub fn required(field: &'static str) -> FieldError {
    FieldError::new(field, format!("The {} field is required.", label(field)))
}

/// "The {field} field must not be null." (a PATCH may not clear it).
pub fn not_null(field: &'static str) -> FieldError {
    FieldError::new(field, format!("The {} field must not be null.", label(field)))
}

/// "The {field} field must be an integer."
pub fn not_an_integer(field: &'static str) -> FieldError {
    FieldError::new(field, format!("The {} field must be an integer.", label(field)))
}

/// A SKU.
pub fn sku(raw: &str) -> Result<Sku, FieldError> {
    Sku::parse(raw).map_err(|e| FieldError::new("sku", format!("The sku {}.", e.reason)))
}

/// A name: trimmed, not blank, at most [`MAX_NAME_CHARS`].
pub fn name(raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new("name", "The name field must not be empty."));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("The name field must not be greater than {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A description: at most [`MAX_DESCRIPTION_CHARS`]; a blank one is no description.
pub fn description(raw: String) -> Result<Option<String>, FieldError> {
    if raw.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(FieldError::new(
            "description",
            format!("The description field must not be greater than {MAX_DESCRIPTION_CHARS} characters."),
        ));
    }
    Ok(Some(raw).filter(|d| !d.trim().is_empty()))
}

/// A slug as given.
pub fn slug(raw: &str) -> Result<Slug, FieldError> {
    Slug::parse(raw).map_err(|e| FieldError::new("slug", format!("The slug {}.", e.reason)))
}

/// The slug made from a (valid) name, when none is given.
pub fn slug_from_name(name: &str) -> Result<Slug, FieldError> {
    Slug::from_name(name)
        .map_err(|_| FieldError::new("slug", "The slug could not be derived from the name; give one."))
}

/// A price in cents: greater than 0. `field` is `price_cents`, or `price` for currency units.
pub fn price(field: &'static str, cents: i64) -> Result<i64, FieldError> {
    if cents <= 0 {
        return Err(FieldError::new(field, format!("The {} field must be greater than 0.", label(field))));
    }
    Ok(cents)
}

/// A price in currency units (`"29.99"` or `29.99`), parsed exactly to cents; greater than 0.
pub fn price_in_units(value: &Value) -> Result<i64, FieldError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(FieldError::new("price", "The price field must be a decimal number such as 19.99.")),
    };
    let cents = parse_decimal_cents(&text)
        .map_err(|e| FieldError::new("price", format!("The price field is not a valid amount ({e}).")))?;
    price("price", cents)
}

/// A supported currency code.
pub fn currency(raw: &str) -> Result<Currency, FieldError> {
    raw.parse::<Currency>()
        .map_err(|_| FieldError::new("currency", "The selected currency is invalid (USD, EUR, GBP or CAD)."))
}

/// Attributes: a JSON object of at most [`MAX_ATTRIBUTES_BYTES`] serialised.
pub fn attributes(value: Value) -> Result<Value, FieldError> {
    if !value.is_object() {
        return Err(FieldError::new("attributes", "The attributes field must be an object."));
    }
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size > MAX_ATTRIBUTES_BYTES {
        return Err(FieldError::new(
            "attributes",
            format!("The attributes field must not be larger than {MAX_ATTRIBUTES_BYTES} bytes."),
        ));
    }
    Ok(value)
}

/// A life-cycle status.
pub fn status(raw: &str) -> Result<ProductStatus, FieldError> {
    raw.parse::<ProductStatus>().map_err(|_| {
        FieldError::new("status", "The selected status is invalid (draft, active or discontinued).")
    })
}

/// A unit count: at least `min`, at most `i32::MAX` (the columns are `integer`).
pub fn quantity(field: &'static str, value: i64, min: i64) -> Result<i32, FieldError> {
    if value < min {
        return Err(FieldError::new(field, format!("The {} field must be at least {min}.", label(field))));
    }
    i32::try_from(value).map_err(|_| {
        FieldError::new(field, format!("The {} field must not be greater than {}.", label(field), i32::MAX))
    })
}

/// A validated new product (admin create, bulk import and seed all write this).
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    /// SKU (the bulk upsert's key).
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Long description.
    pub description: Option<String>,
    /// Given, or made from the name.
    pub slug: Slug,
    /// Unit price (> 0).
    pub price: Money,
    /// A JSON object of bounded size (category, color, size, material ...).
    pub attributes: Value,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units held (≤ stock; only the bulk import sets it, and only on new SKUs).
    pub reserved_quantity: i32,
    /// Life-cycle status.
    pub status: ProductStatus,
}

impl NewProduct {
    /// The product as one JSON line, its fields named as the admin API and the import name them.
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

/// What a writer uses for a field that is absent (or an empty string).
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// The shop's currency (`ECOMMERCE_CURRENCY`).
    pub currency: Currency,
    /// `draft` for the admin API, `active` for the import.
    pub status: ProductStatus,
}

/// A new product's fields as given, before any rule. Numbers are JSON values so that "not an
/// integer" is a rule like the others.
#[derive(Debug, Clone, Default)]
pub struct ProductDraft {
    /// Required.
    pub sku: Option<String>,
    /// Required.
    pub name: Option<String>,
    /// Optional.
    pub description: Option<String>,
    /// Made from the name when absent or empty.
    pub slug: Option<String>,
    /// Integer cents; required unless `price` is given.
    pub price_cents: Option<Value>,
    /// Currency units (`"29.99"`), the import's alternative to `price_cents`.
    pub price: Option<Value>,
    /// The default currency when absent or empty.
    pub currency: Option<String>,
    /// `{}` when absent or null.
    pub attributes: Option<Value>,
    /// 0 when absent or null.
    pub stock_quantity: Option<Value>,
    /// 0 when absent or null.
    pub reserved_quantity: Option<Value>,
    /// The default status when absent or empty.
    pub status: Option<String>,
}

/// Collects rule results; every broken rule is reported, not only the first.
#[derive(Default)]
struct Collector(Vec<FieldError>);

impl Collector {
    fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }
}

/// An optional integer field; null counts as absent.
fn integer(field: &'static str, value: Option<&Value>) -> Result<Option<i64>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| not_an_integer(field)),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl ProductDraft {
    /// Applies every rule; the error lists every broken one.
    pub fn validate(self, defaults: Defaults) -> Result<NewProduct, Vec<FieldError>> {
        let mut c = Collector::default();
        let sku = c.check(self.sku.as_deref().ok_or_else(|| required("sku")).and_then(sku));
        let name = c.check(self.name.as_deref().ok_or_else(|| required("name")).and_then(name));
        let description = self.description.and_then(|d| c.check(description(d))).flatten();
        let slug = match (non_empty(self.slug), &name) {
            (Some(s), _) => c.check(slug(&s)),
            (None, Some(n)) => c.check(slug_from_name(n)),
            (None, None) => None,
        };
        let cents = match (integer("price_cents", self.price_cents.as_ref()), self.price.as_ref()) {
            (Ok(Some(cents)), _) => c.check(price("price_cents", cents)),
            (Err(e), _) => c.check(Err(e)),
            (Ok(None), Some(units)) if !units.is_null() => c.check(price_in_units(units)),
            (Ok(None), _) => c.check(Err(required("price_cents"))),
        };
        let currency = match non_empty(self.currency) {
            Some(code) => c.check(currency(&code)),
            None => Some(defaults.currency),
        };
        let attributes = match self.attributes {
            None | Some(Value::Null) => Some(Value::Object(serde_json::Map::new())),
            Some(v) => c.check(attributes(v)),
        };
        let stock = c
            .check(integer("stock_quantity", self.stock_quantity.as_ref()))
            .and_then(|s| c.check(quantity("stock_quantity", s.unwrap_or(0), 0)));
        let reserved = c
            .check(integer("reserved_quantity", self.reserved_quantity.as_ref()))
            .and_then(|r| c.check(quantity("reserved_quantity", r.unwrap_or(0), 0)));
        if let (Some(s), Some(r)) = (stock, reserved)
            && r > s
        {
            c.0.push(FieldError::new(
                "reserved_quantity",
                "The reserved quantity field must not be greater than the stock quantity.",
            ));
        }
        let status = match non_empty(self.status) {
            Some(s) => c.check(status(&s)),
            None => Some(defaults.status),
        };
        match (sku, name, slug, cents, currency, attributes, stock, reserved, status) {
            (
                Some(sku),
                Some(name),
                Some(slug),
                Some(cents),
                Some(currency),
                Some(attributes),
                Some(stock_quantity),
                Some(reserved_quantity),
                Some(status),
            ) if c.0.is_empty() => Ok(NewProduct {
                sku,
                name,
                description,
                slug,
                price: Money::new(cents, currency),
                attributes,
                stock_quantity,
                reserved_quantity,
                status,
            }),
            _ => Err(c.0),
        }
    }
}

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

    /// The value, if any; `null` is a broken rule for a field that cannot be cleared.
    fn required(self, field: &'static str, c: &mut Collector) -> Option<T> {
        match self {
            Patch::Absent => None,
            Patch::Null => {
                c.0.push(not_null(field));
                None
            }
            Patch::Value(v) => Some(v),
        }
    }
}

/// A change to a product as sent (`PATCH /api/v1/admin/products/{id}`); unknown fields are
/// refused. Stock is changed through its own endpoint, never here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    /// New SKU.
    #[serde(default)]
    pub sku: Patch<String>,
    /// New name.
    #[serde(default)]
    pub name: Patch<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    pub description: Patch<String>,
    /// New slug.
    #[serde(default)]
    pub slug: Patch<String>,
    /// New price in cents.
    #[serde(default)]
    pub price_cents: Patch<i64>,
    /// New currency.
    #[serde(default)]
    pub currency: Patch<String>,
    /// New attributes.
    #[serde(default)]
    pub attributes: Patch<Value>,
    /// New status.
    #[serde(default)]
    pub status: Patch<String>,
}

/// A validated change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChanges {
    /// New SKU.
    pub sku: Option<Sku>,
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New slug.
    pub slug: Option<Slug>,
    /// New price in cents.
    pub price_cents: Option<i64>,
    /// New currency.
    pub currency: Option<Currency>,
    /// New attributes.
    pub attributes: Option<Value>,
    /// New status.
    pub status: Option<ProductStatus>,
}

impl ProductPatch {
    /// Applies every rule to the fields present; an empty patch is itself a broken rule.
    pub fn validate(self) -> Result<ProductChanges, Vec<FieldError>> {
        let mut c = Collector::default();
        let nothing = self.sku.is_absent()
            && self.name.is_absent()
            && self.description.is_absent()
            && self.slug.is_absent()
            && self.price_cents.is_absent()
            && self.currency.is_absent()
            && self.attributes.is_absent()
            && self.status.is_absent();
        if nothing {
            return Err(vec![FieldError::new("body", "At least one field to change is required.")]);
        }
        let changes = ProductChanges {
            sku: self.sku.required("sku", &mut c).and_then(|s| c.check(sku(&s))),
            name: self.name.required("name", &mut c).and_then(|n| c.check(name(&n))),
            description: match self.description {
                Patch::Absent => None,
                Patch::Null => Some(None),
                Patch::Value(d) => c.check(description(d)),
            },
            slug: self.slug.required("slug", &mut c).and_then(|s| c.check(slug(&s))),
            price_cents: self
                .price_cents
                .required("price_cents", &mut c)
                .and_then(|p| c.check(price("price_cents", p))),
            currency: self.currency.required("currency", &mut c).and_then(|v| c.check(currency(&v))),
            attributes: self.attributes.required("attributes", &mut c).and_then(|a| c.check(attributes(a))),
            status: self.status.required("status", &mut c).and_then(|s| c.check(status(&s))),
        };
        if c.0.is_empty() { Ok(changes) } else { Err(c.0) }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ADMIN: Defaults = Defaults { currency: Currency::Eur, status: ProductStatus::Draft };

    fn draft(v: &Value) -> ProductDraft {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| v.get(k).cloned();
        ProductDraft {
            sku: s("sku"),
            name: s("name"),
            description: s("description"),
            slug: s("slug"),
            price_cents: n("price_cents"),
            price: n("price"),
            currency: s("currency"),
            attributes: n("attributes"),
            stock_quantity: n("stock_quantity"),
            reserved_quantity: n("reserved_quantity"),
            status: s("status"),
        }
    }

    fn messages(v: &Value) -> Vec<String> {
        draft(v).validate(ADMIN).unwrap_err().into_iter().map(|e| format!("{}: {e}", e.field)).collect()
    }

    #[test]
    fn defaults_and_derived_slug() {
        let p = draft(&json!({"sku": "A-1", "name": " Men's Café Shirt ", "price_cents": 100}))
            .validate(ADMIN)
            .unwrap();
        assert_eq!((p.slug.as_str(), p.name.as_str()), ("mens-cafe-shirt", "Men's Café Shirt"));
        assert_eq!(
            (p.price, p.status, p.stock_quantity),
            (Money::new(100, Currency::Eur), ProductStatus::Draft, 0)
        );
        assert_eq!(p.attributes, json!({}));
        let p = draft(&json!({"sku": "A1", "name": "Mug", "price": "12.50", "description": " "}))
            .validate(ADMIN)
            .unwrap();
        assert_eq!((p.price.cents(), p.description), (1250, None));
    }

    #[test]
    fn every_broken_rule_is_reported_once() {
        assert_eq!(
            messages(&json!({})),
            [
                "sku: The sku field is required.",
                "name: The name field is required.",
                "price_cents: The price cents field is required."
            ]
        );
        let all = messages(&json!({
            "sku": "bad sku", "name": "x", "price_cents": 0, "currency": "JPY", "attributes": [1],
            "stock_quantity": -1, "reserved_quantity": "2", "status": "archived", "slug": "Not A Slug"
        }));
        let fields: Vec<&str> = all.iter().map(|m| m.split(':').next().unwrap()).collect();
        assert_eq!(
            fields,
            [
                "sku",
                "slug",
                "price_cents",
                "currency",
                "attributes",
                "stock_quantity",
                "reserved_quantity",
                "status"
            ]
        );
        assert_eq!(
            messages(
                &json!({"sku": "A", "name": "B", "price_cents": 5, "stock_quantity": 1, "reserved_quantity": 2})
            ),
            ["reserved_quantity: The reserved quantity field must not be greater than the stock quantity."]
        );
        assert!(
            messages(&json!({"sku": "A", "name": "B", "price": "1.999"}))[0]
                .contains("at most 2 decimal places")
        );
        assert!(
            messages(&json!({"sku": "A", "name": "!!!", "price_cents": 1}))[0]
                .contains("could not be derived")
        );
        let big = json!({"sku": "A", "name": "x", "price_cents": 1, "attributes": {"k": "v".repeat(9000)}});
        assert!(messages(&big)[0].contains("8192 bytes"));
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let patch = |v: Value| serde_json::from_value::<ProductPatch>(v);
        let c = patch(json!({"description": null, "price_cents": 5})).unwrap().validate().unwrap();
        assert_eq!((c.description, c.price_cents, c.name), (Some(None), Some(5), None));
        let e = patch(json!({"name": null})).unwrap().validate().unwrap_err();
        assert_eq!(e, [not_null("name")]);
        assert_eq!(patch(json!({})).unwrap().validate().unwrap_err()[0].field, "body");
        assert!(patch(json!({"stock_quantity": 1})).is_err(), "stock has its own endpoint");
        let e = patch(json!({"price_cents": 0})).unwrap().validate().unwrap_err();
        assert_eq!(e, [price("price_cents", 0).unwrap_err()], "the same rule and message as a new product");
    }
}
