//! The admin API: auth, validation, conflicts, body errors, events in the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{JWT_SECRET, token_with};
use reqwest::Method;
use serde_json::json;

fn shirt() -> serde_json::Value {
    json!({
        "sku": "SHIRT-RED-L", "name": "Linen Shirt - Red", "description": "Cool linen.",
        "price_cents": 4500, "currency": "EUR", "attributes": {"category": "clothing", "color": "red"},
        "stock_quantity": 10, "status": "active"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_a_valid_token_with_the_admin_role() {
    let app = common::spawn().await;
    let url = app.server.url("/api/v1/admin/products");
    let cases = [
        (None, 401, "no token"),
        (Some(token_with(JWT_SECRET, &["admin"], -3600)), 401, "expired"),
        (Some(token_with("some-other-secret", &["admin"], 600)), 401, "bad signature"),
        (Some("not.a.jwt".to_owned()), 401, "garbage"),
        (Some(token_with(JWT_SECRET, &["customer"], 600)), 403, "no admin role"),
    ];
    for (token, status, what) in cases {
        for (method, path) in [
            (Method::POST, url.clone()),
            (Method::PATCH, format!("{url}/1")),
            (Method::DELETE, format!("{url}/1")),
            (Method::POST, format!("{url}/1/stock")),
        ] {
            let mut req = app.server.client.request(method.clone(), &path).json(&json!({"quantity": 1}));
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), status, "{what}: {method} {path}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"].is_string(), "{what}: JSON error body");
        }
    }
    assert!(
        app.outbox("product.created").await.len() == 3,
        "only the demo seed's events: nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_delete_and_their_events() {
    let app = common::spawn().await;
    let (status, body) = app.admin(Method::POST, "/api/v1/admin/products", Some(shirt())).await;
    assert_eq!(status, 201, "{body}");
    let p = &body["data"];
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["slug"], "linen-shirt-red", "derived from the name");
    assert_eq!(p["price"]["formatted"], "€45.00");
    assert_eq!((p["status"].clone(), p["stock_quantity"].clone()), (json!("active"), json!(10)));
    let created = app.outbox("product.created").await;
    assert_eq!(created.last().unwrap()["sku"], "SHIRT-RED-L");
    assert_eq!(created.last().unwrap()["product_id"], id);

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/admin/products/{id}"),
            Some(json!({"price_cents": 3999, "description": null})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["price"]["amount_cents"], 3999);
    assert_eq!(body["data"]["description"], json!(null));
    assert_eq!(body["data"]["name"], "Linen Shirt - Red", "absent fields are kept");
    let updated = app.outbox("product.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["price_cents"], 3999);

    let (status, _) = app.admin(Method::DELETE, &format!("/api/v1/admin/products/{id}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(app.outbox("product.deleted").await, [json!({"product_id": id, "sku": "SHIRT-RED-L"})]);
    let (status, _) = app.get("/api/v1/products/linen-shirt-red").await;
    assert_eq!(status, 404, "soft-deleted products are gone from the storefront");
    let (status, body) = app.admin(Method::DELETE, &format!("/api/v1/admin/products/{id}"), None).await;
    assert_eq!((status, body["error"].clone()), (404, json!("Not found")), "deleting twice");
    let (status, _) =
        app.admin(Method::PATCH, &format!("/api/v1/admin/products/{id}"), Some(json!({"name": "X"}))).await;
    assert_eq!(status, 404, "a deleted product cannot be edited");
    let (status, _) =
        app.admin(Method::PATCH, "/api/v1/admin/products/abc", Some(json!({"name": "X"}))).await;
    assert_eq!(status, 404, "a non-numeric id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sku_and_slug_clashes_are_409s_naming_the_field() {
    let app = common::spawn().await;
    let mut dup_sku = shirt();
    dup_sku["sku"] = json!("TSHIRT-BLK-M");
    let (status, body) = app.admin(Method::POST, "/api/v1/admin/products", Some(dup_sku)).await;
    assert_eq!((status, body["field"].clone()), (409, json!("sku")), "{body}");
    let mut dup_slug = shirt();
    dup_slug["slug"] = json!("classic-denim-jeans");
    let (status, body) = app.admin(Method::POST, "/api/v1/admin/products", Some(dup_slug)).await;
    assert_eq!((status, body["field"].clone()), (409, json!("slug")), "{body}");
    let (status, body) = app
        .admin(Method::PATCH, "/api/v1/admin/products/1", Some(json!({"slug": "classic-denim-jeans"})))
        .await;
    assert_eq!((status, body["field"].clone()), (409, json!("slug")), "{body}");
    assert!(app.outbox("product.updated").await.is_empty(), "a failed write leaves no event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_fields_are_422s_in_the_seeds_shape() {
    let app = common::spawn().await;
    let cases = [
        (json!({"name": "x", "price_cents": 100}), "sku"),
        (json!({"sku": "A-1", "name": "x", "price_cents": 0}), "price_cents"),
        (json!({"sku": "A-1", "name": "x", "price_cents": -5}), "price_cents"),
        (json!({"sku": "A-1", "name": "x", "price_cents": 100, "currency": "JPY"}), "currency"),
        (json!({"sku": "A-1", "name": "x", "price_cents": 100, "attributes": [1]}), "attributes"),
        (
            json!({"sku": "A-1", "name": "x", "price_cents": 100, "attributes": {"k": "v".repeat(9000)}}),
            "attributes",
        ),
        (json!({"sku": "A-1", "name": "x", "price_cents": 100, "status": "archived"}), "status"),
        (json!({"sku": "A 1", "name": "x", "price_cents": 100}), "sku"),
        (json!({"sku": "A-1", "name": "x", "price_cents": 100, "slug": "Bad Slug"}), "slug"),
        (json!({"sku": "A-1", "name": "x", "price_cents": 100, "colour": "red"}), "colour"),
        (json!({"sku": "A-1", "name": "x", "price_cents": "cheap"}), "price_cents"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.admin(Method::POST, "/api/v1/admin/products", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["error"], "Validation failed");
        assert!(answer["messages"][field].is_array(), "{body}: expected {field} in {answer}");
    }
    let (status, answer) = app.admin(Method::PATCH, "/api/v1/admin/products/1", Some(json!({}))).await;
    assert_eq!((status, answer["messages"]["body"].is_array()), (422, true), "{answer}");
    let (status, _) =
        app.admin(Method::PATCH, "/api/v1/admin/products/1", Some(json!({"price_cents": 0}))).await;
    assert_eq!(status, 422);
    let (status, _) =
        app.admin(Method::POST, "/api/v1/admin/products/1/stock", Some(json!({"quantity": -1}))).await;
    assert_eq!(status, 422, "a negative quantity is invalid on its own");
    let (status, _) = app
        .admin(Method::POST, "/api/v1/admin/products/1/stock", Some(json!({"quantity": 1, "delta": 1})))
        .await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_mistyped_bodies() {
    let app = common::spawn().await;
    let url = app.server.url("/api/v1/admin/products");
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.server
            .client
            .post(&url)
            .bearer_auth(common::admin_token())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let res = send(b"{\"sku\": ".to_vec(), "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "Bad request");
    let huge = format!("{{\"sku\": \"A\", \"name\": \"{}\"}}", "x".repeat(300 * 1024));
    let res = send(huge.into_bytes(), "application/json").await.unwrap();
    assert_eq!(res.status(), 413);
    let res = send(serde_json::to_vec(&shirt()).unwrap(), "text/plain").await.unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "Unsupported media type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_is_set_or_adjusted_but_never_below_reserved() {
    let app = common::spawn().await;
    // TSHIRT-BLK-M: stock 150, reserved 5.
    let id = 1;
    let path = format!("/api/v1/admin/products/{id}/stock");
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"quantity": 20}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["availability"], json!({"in_stock": true, "quantity": 15}));
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"delta": -10}))).await;
    assert_eq!((status, body["data"]["stock_quantity"].clone()), (200, json!(10)));
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"delta": -6}))).await;
    assert_eq!((status, body["field"].clone()), (409, json!("delta")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("5 reserved"), "{body}");
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"quantity": 4}))).await;
    assert_eq!((status, body["field"].clone()), (409, json!("quantity")), "{body}");
    let (status, _) = app.admin(Method::POST, &path, Some(json!({"delta": i32::MAX}))).await;
    assert_eq!(status, 409, "past i32::MAX");
    let (status, _) =
        app.admin(Method::POST, "/api/v1/admin/products/999/stock", Some(json!({"delta": 1}))).await;
    assert_eq!(status, 404);
    let events = app.outbox("inventory.changed").await;
    assert_eq!(events.len(), 2, "one event per successful change");
    assert_eq!(
        events[1],
        json!({"product_id": id, "sku": "TSHIRT-BLK-M", "stock_quantity": 10, "reserved_quantity": 5, "available": 5})
    );
}
