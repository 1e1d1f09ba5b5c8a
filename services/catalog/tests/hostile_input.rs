//! Hostile input against the running catalog: every admin field and id, the internal
//! reservation ids, cache headers and forwarded values in links. Never a 5xx; every error
//! is the documented JSON shape.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use reqwest::Method;
use serde_json::{Value, json};

const CART: &str = "0b7d6b2e-7a1e-4d3c-9a51-2f1f0f6c9a10";

fn assert_error_shape(what: &str, status: u16, body: &Value) {
    assert!(status < 500, "{what} → {status} {body}");
    assert!(body["error"].is_string(), "{what} → {status}: {body}");
    if status == 422 {
        let messages = body["messages"].as_object().unwrap_or_else(|| panic!("{what}: {body}"));
        assert!(!messages.is_empty() && messages.values().all(Value::is_array), "{what}: {body}");
    } else {
        assert!(body["message"].is_string(), "{what} → {status}: {body}");
    }
}

/// Values no field should turn into a 5xx.
fn hostile_values() -> Vec<Value> {
    let deep = (0..200).fold(json!(1), |v, _| json!({ "a": v }));
    vec![
        json!(null),
        json!(""),
        json!(" "),
        json!("\u{0}"),
        json!("a\u{0}b"),
        json!("\u{1b}[31mred\u{7f}"),
        json!("line\nbreak\ttab"),
        json!("\u{202e}rtl"),
        json!("💩".repeat(300)),
        json!("x".repeat(70_000)),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
        json!(1e308),
        json!(-0.0),
        json!(true),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({"category": "a\u{0}b"}),
        json!({"\u{0}": 1}),
        json!({"nested": {"k": "\u{0}"}}),
        deep,
    ]
}

const CREATE_FIELDS: &[&str] = &[
    "sku",
    "name",
    "description",
    "slug",
    "price_cents",
    "currency",
    "attributes",
    "stock_quantity",
    "status",
];

fn valid_create(n: usize) -> Value {
    json!({
        "sku": format!("HOSTILE-{n}"),
        "name": format!("Hostile {n}"),
        "price_cents": 1000,
        "stock_quantity": 5,
        "attributes": {"category": "test"},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_field_value_gets_a_5xx() {
    let app = common::spawn().await;
    let mut n = 0;
    for field in CREATE_FIELDS {
        for value in hostile_values() {
            n += 1;
            let mut body = valid_create(n);
            body[*field] = value.clone();
            let what = format!("POST {field}={}", truncate(&value));
            let (status, answer) = app.admin(Method::POST, "/api/v1/admin/products", Some(body)).await;
            if status != 201 {
                assert_error_shape(&what, status, &answer);
            }
            if *field != "stock_quantity" {
                let what = format!("PATCH {field}={}", truncate(&value));
                let (status, answer) = app
                    .admin(Method::PATCH, "/api/v1/admin/products/1", Some(json!({ *field: value.clone() })))
                    .await;
                if status != 200 {
                    assert_error_shape(&what, status, &answer);
                }
            }
        }
    }
    for field in ["quantity", "delta"] {
        for value in hostile_values() {
            let what = format!("stock {field}={}", truncate(&value));
            let (status, answer) = app
                .admin(Method::POST, "/api/v1/admin/products/1/stock", Some(json!({ field: value })))
                .await;
            if status != 200 {
                assert_error_shape(&what, status, &answer);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_characters_in_json_bodies_are_422_naming_the_field() {
    let app = common::spawn().await;
    let mut body = valid_create(1);
    body["name"] = json!("a\u{0}b");
    let (status, answer) = app.admin(Method::POST, "/api/v1/admin/products", Some(body)).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["messages"]["name"].is_array(), "{answer}");
    let mut body = valid_create(2);
    body["attributes"] = json!({"nested": {"\u{0}": 1}});
    let (status, answer) = app.admin(Method::POST, "/api/v1/admin/products", Some(body)).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["messages"]["attributes.nested"].is_array(), "{answer}");
}

fn truncate(v: &Value) -> String {
    v.to_string().chars().take(40).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_ids_are_checked_at_the_edge() {
    let app = common::spawn().await;
    for id in ["0", "-1", "-9223372036854775808", "9223372036854775808", "abc", "1.5", "%00", "1%00"] {
        for (method, path, body) in [
            (Method::PATCH, format!("/api/v1/admin/products/{id}"), Some(json!({"name": "X"}))),
            (Method::DELETE, format!("/api/v1/admin/products/{id}"), None),
            (Method::POST, format!("/api/v1/admin/products/{id}/stock"), Some(json!({"delta": 1}))),
        ] {
            let (status, answer) = app.admin(method.clone(), &path, body).await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
            assert_error_shape(&path, status, &answer);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservation_ids_are_validated_at_the_edge() {
    let app = common::spawn().await;
    for order_id in [json!(0), json!(-1), json!(i64::MIN)] {
        let (status, body) = app
            .internal_post(
                "/internal/v1/reservations",
                &json!({"product_id": 1, "quantity": 1, "order_id": order_id}),
            )
            .await;
        assert_eq!(status, 422, "order_id {order_id}: {body}");
        assert!(body["messages"]["order_id"].is_array(), "{body}");
    }
    let (status, body) = app
        .internal_post(
            "/internal/v1/reservations",
            &json!({"product_id": -5, "quantity": 1, "cart_id": CART}),
        )
        .await;
    assert_eq!((status, body["messages"]["product_id"].is_array()), (422, true), "{body}");

    let (status, r) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": 1, "quantity": 1, "cart_id": CART}))
        .await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_str().unwrap();
    for order_id in [json!(0), json!(-7)] {
        let (status, body) = app
            .internal_post(&format!("/internal/v1/reservations/{id}/extend"), &json!({"order_id": order_id}))
            .await;
        assert_eq!(status, 422, "extend with order_id {order_id}: {body}");
        assert!(body["messages"]["order_id"].is_array(), "{body}");
    }
    for bad in ["0", "-1", "not-a-uuid", "%00"] {
        let (status, body) = app.internal_get(&format!("/internal/v1/reservations/{bad}")).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_error_shape(bad, status, &body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_and_product_pages_say_how_to_cache_them() {
    let app = common::spawn().await;
    let res = app.server.client.get(app.server.url("/api/v1/products")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cache_control = res.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache_control.starts_with("public, max-age="), "{cache_control}");
    let vary = res.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
    for h in ["host", "forwarded", "x-forwarded-proto", "x-forwarded-host"] {
        assert!(vary.contains(h), "Vary names {h}: {vary}");
    }
    let res = app
        .server
        .client
        .get(app.server.url("/api/v1/products/premium-cotton-tshirt-black"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], cache_control.as_str());
    // Errors are not marked cacheable.
    let res = app.server.client.get(app.server.url("/api/v1/products?page=0")).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.headers().get("cache-control").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_forwarded_values_never_reach_links() {
    let app = common::spawn().await;
    let get = |proto: &'static str, host: &'static str| {
        let req = app
            .server
            .client
            .get(app.server.url("/api/v1/products?per_page=1"))
            .header("X-Forwarded-Proto", proto)
            .header("X-Forwarded-Host", host);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["links"]["next"].clone() }
    };
    let own = app.server.url("/api/v1/products?per_page=1&page=2");
    assert_eq!(get("javascript:alert(1)//", "evil.example/<script>").await, own);
    assert_eq!(get("https", "a b").await, own.replacen("http:", "https:", 1));
    assert_eq!(
        get("https", "shop.example.com:8443").await,
        "https://shop.example.com:8443/api/v1/products?per_page=1&page=2"
    );
}
