//! Nobody reads or changes a cart that is not theirs: 404 (never 403), whoever asks, on every route.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TSHIRT, Who, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ownership_matrix() {
    let w = World::start().await;
    let (guest_a_cart, token_a) = w.guest_cart().await;
    let (_guest_b_cart, token_b) = w.guest_cart().await;
    let customer_a_cart = w.customer_cart("customer-a").await;
    w.customer_cart("customer-b").await;

    let guest_a = Who::Guest(token_a.clone());
    let customer_a = Who::Customer("customer-a".into());
    assert_eq!(w.add(&guest_a_cart, &guest_a, TSHIRT, 1).await.0, 201);
    assert_eq!(w.add(&customer_a_cart, &customer_a, TSHIRT, 1).await.0, 201);
    let line_of = |cart: serde_json::Value| cart["items"][0]["id"].as_str().unwrap().to_owned();
    let guest_line = line_of(w.call("GET", &format!("/api/v1/carts/{guest_a_cart}"), &guest_a, None).await.1);
    let customer_line =
        line_of(w.call("GET", &format!("/api/v1/carts/{customer_a_cart}"), &customer_a, None).await.1);

    let callers = |owner: &str| -> Vec<(&'static str, Who)> {
        let mut all = vec![
            ("guest A", Who::Guest(token_a.clone())),
            ("guest B", Who::Guest(token_b.clone())),
            ("customer A", Who::Customer("customer-a".into())),
            ("customer B", Who::Customer("customer-b".into())),
            ("no credentials", Who::Nobody),
            ("a made-up token", Who::Guest("0".repeat(64))),
        ];
        all.retain(|(name, _)| *name != owner);
        all
    };
    for (owner, cart, line) in
        [("guest A", &guest_a_cart, &guest_line), ("customer A", &customer_a_cart, &customer_line)]
    {
        let routes: Vec<(&str, String, Option<serde_json::Value>)> = vec![
            ("GET", format!("/api/v1/carts/{cart}"), None),
            ("POST", format!("/api/v1/carts/{cart}/items"), Some(json!({"product_id": 1, "quantity": 1}))),
            ("PATCH", format!("/api/v1/carts/{cart}/items/{line}"), Some(json!({"quantity": 2}))),
            ("DELETE", format!("/api/v1/carts/{cart}/items/{line}"), None),
            ("DELETE", format!("/api/v1/carts/{cart}"), None),
        ];
        for (name, who) in callers(owner) {
            // Guest A's token on customer A's cart: not theirs either.
            for (method, path, body) in &routes {
                let (status, res) = w.call(method, path, &who, body.clone()).await;
                assert_eq!(status, 404, "{name} {method} {path}: {res}");
                assert_eq!(res["error"], "Not found");
            }
        }
        // Unknown and malformed ids look the same.
        for path in ["/api/v1/carts/6f1c5a64-3f57-4d0c-9c9e-1d8b8e1a2b3c", "/api/v1/carts/not-a-uuid"] {
            assert_eq!(w.call("GET", path, &Who::Nobody, None).await.0, 404);
        }
    }
    // Nothing changed for the owners.
    let (_, a) = w.call("GET", &format!("/api/v1/carts/{guest_a_cart}"), &guest_a, None).await;
    assert_eq!(a["items"][0]["quantity"], 1);
    let (_, c) = w.call("GET", &format!("/api/v1/carts/{customer_a_cart}"), &customer_a, None).await;
    assert_eq!(c["items"][0]["quantity"], 1);
    assert_eq!(w.counters(TSHIRT).await.1, 5 + 2);

    // A bad bearer token is 401, not a silent guest.
    let res = w
        .client
        .get(format!("{}/api/v1/carts/{guest_a_cart}", w.cart_url))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn internal_routes_need_the_service_token() {
    let w = World::start().await;
    let (id, _) = w.guest_cart().await;
    for (method, path) in [
        ("GET", format!("/internal/v1/carts/{id}")),
        ("POST", format!("/internal/v1/carts/{id}/checkout-lock")),
        ("DELETE", format!("/internal/v1/carts/{id}/checkout-lock?holder=x")),
    ] {
        for (token, expected) in [(None, 401), (Some("wrong"), 403)] {
            let mut req = w.client.request(method.parse().unwrap(), format!("{}{path}", w.cart_url));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req.json(&json!({"holder": "h", "ttl_seconds": 60})).send().await.unwrap();
            assert_eq!(res.status().as_u16(), expected, "{method} {path} {token:?}");
        }
    }
}
