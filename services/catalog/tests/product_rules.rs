//! The admin API and the bulk import apply the same product rules with the same messages
//! (`domain::product::rules`): for each bad field, the admin's 422 message is exactly what the
//! import reports for the same line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use catalog::admin::input::CreateBody;
use catalog::bulk::ProductLine;
use domain::money::Currency;
use serde_json::{Value, json};

/// The admin's messages for `body`, as the 422 would carry them: `(field, message)`.
fn admin(body: &Value) -> Vec<(String, String)> {
    let errors =
        serde_json::from_value::<CreateBody>(body.clone()).unwrap().validate(Currency::Usd).unwrap_err();
    let messages = serde_json::to_value(&errors).unwrap();
    let mut out = Vec::new();
    for (field, list) in messages.as_object().unwrap() {
        for m in list.as_array().unwrap() {
            out.push((field.clone(), m.as_str().unwrap().to_owned()));
        }
    }
    out
}

/// The import's report for the same product as one line.
fn import(body: &Value) -> String {
    ProductLine::parse(&body.to_string()).unwrap().validate(Currency::Usd).unwrap_err()
}

#[test]
fn the_same_bad_field_gets_the_same_message() {
    let good = json!({"sku": "A-1", "name": "Mug", "price_cents": 900});
    let bad: [(&str, Value); 11] = [
        ("sku", json!("bad sku")),
        ("sku", Value::Null),
        ("name", json!("   ")),
        ("name", json!("n".repeat(256))),
        ("slug", json!("Not A Slug")),
        ("price_cents", json!(0)),
        ("price_cents", json!(-5)),
        ("currency", json!("JPY")),
        ("attributes", json!([1])),
        ("stock_quantity", json!(-1)),
        ("status", json!("archived")),
    ];
    for (field, value) in bad {
        let mut body = good.clone();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        let from_admin = admin(&body);
        assert_eq!(from_admin.len(), 1, "{body}: {from_admin:?}");
        let (admin_field, message) = &from_admin[0];
        assert_eq!(admin_field, field, "{body}");
        assert_eq!(&import(&body), message, "{body}: the import and the admin API disagree");
    }
}
