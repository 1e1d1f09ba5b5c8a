//! One product of a bulk load: the JSON line as written, validated with the domain's product
//! rules (`domain::product::rules`, the same rules and messages as the admin API).

use domain::money::Currency;
use domain::product::{Defaults, ProductDraft, ProductStatus};
use serde::Deserialize;

pub use domain::product::NewProduct;

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

impl ProductLine {
    /// Parses one line of JSON.
    pub fn parse(line: &str) -> Result<Self, String> {
        serde_json::from_str(line).map_err(|e| {
            if e.is_data() { format!("wrong shape: {e}") } else { format!("not valid JSON: {e}") }
        })
    }

    /// Validates the line with the domain's rules. `currency` is used when the line has none,
    /// `active` when it has no status. The error lists every broken rule's message (each a
    /// sentence), separated by a space.
    pub fn validate(self, currency: Currency) -> Result<NewProduct, String> {
        let draft = ProductDraft {
            sku: self.sku,
            name: self.name,
            description: self.description,
            slug: self.slug,
            price_cents: self.price_cents,
            price: self.price,
            currency: self.currency,
            attributes: self.attributes,
            stock_quantity: self.stock_quantity,
            reserved_quantity: self.reserved_quantity,
            status: self.status,
        };
        draft
            .validate(Defaults { currency, status: ProductStatus::Active })
            .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::money::Money;

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
        for message in [
            "The sku ",
            "The name field",
            "The price cents field must be greater than 0.",
            "The selected currency is invalid",
            "The attributes field",
            "The reserved quantity field must not be greater",
            "The selected status is invalid",
        ] {
            assert!(err.contains(message), "{message} missing in {err}");
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
                .contains("The stock quantity field")
        );
        assert!(
            check(r#"{"sku":"A","name":"!!!","price_cents":5}"#)
                .unwrap_err()
                .contains("The slug could not be derived")
        );
    }
}
