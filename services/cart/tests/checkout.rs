//! The internal API order uses: read a cart, take and give back the checkout lock.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TSHIRT, Who, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkout_locks_the_cart_until_it_gives_the_lock_back() {
    let w = World::start().await;
    let cart = w.customer_cart("buyer").await;
    let buyer = Who::Customer("buyer".into());
    assert_eq!(w.add(&cart, &buyer, TSHIRT, 2).await.0, 201);

    let (status, body) = w.internal("GET", &format!("/internal/v1/carts/{cart}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["customer_id"], "buyer");
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["locked_by"], serde_json::Value::Null);
    assert_eq!(body["items"][0]["sku"], "TSHIRT-BLK-M");
    assert_eq!(body["items"][0]["quantity"], 2);
    assert!(body["items"][0]["reservation_id"].is_string());
    assert!(body["items"][0]["reservation_expires_at"].is_string());
    assert_eq!(
        w.internal("GET", "/internal/v1/carts/6f1c5a64-3f57-4d0c-9c9e-1d8b8e1a2b3c", None).await.0,
        404
    );

    let lock = format!("/internal/v1/carts/{cart}/checkout-lock");
    // Ownership: another customer, a guest token, or nobody → 404.
    for owner in [json!({"customer_id": "someone-else"}), json!({"cart_token": "0".repeat(64)}), json!({})] {
        let mut body = json!({"holder": "order:k1", "ttl_seconds": 600});
        body.as_object_mut().unwrap().extend(owner.as_object().unwrap().clone());
        assert_eq!(w.internal("POST", &lock, Some(body)).await.0, 404);
    }
    for bad in [
        json!({"holder": "", "ttl_seconds": 600, "customer_id": "buyer"}),
        json!({"holder": "h", "ttl_seconds": 59, "customer_id": "buyer"}),
        json!({"holder": "h", "ttl_seconds": 3601, "customer_id": "buyer"}),
        json!({"holder": "x".repeat(101), "ttl_seconds": 600, "customer_id": "buyer"}),
        json!({"holder": "h", "ttl_seconds": 600, "customer_id": "buyer", "order_id": 5}),
    ] {
        assert_eq!(w.internal("POST", &lock, Some(bad.clone())).await.0, 422, "{bad}");
    }

    let take = json!({"holder": "order:k1", "ttl_seconds": 600, "customer_id": "buyer"});
    let (status, body) = w.internal("POST", &lock, Some(take.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["locked_by"], "order:k1");
    assert!(body["lock_expires_at"].is_string());
    // The same holder again: 200; another holder: 409.
    assert_eq!(w.internal("POST", &lock, Some(take.clone())).await.0, 200);
    let (status, body) = w
        .internal(
            "POST",
            &lock,
            Some(json!({"holder": "order:k2", "ttl_seconds": 600, "customer_id": "buyer"})),
        )
        .await;
    assert_eq!((status, body["error"].clone()), (409, json!("Checkout in progress")));

    // While locked, every public change is 409; reading is fine.
    let (_, cart_body) = w.call("GET", &format!("/api/v1/carts/{cart}"), &buyer, None).await;
    assert_eq!(cart_body["checkout_in_progress"], true);
    let line = cart_body["items"][0]["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        ("POST", format!("/api/v1/carts/{cart}/items"), Some(json!({"product_id": 1}))),
        ("PATCH", format!("/api/v1/carts/{cart}/items/{line}"), Some(json!({"quantity": 1}))),
        ("DELETE", format!("/api/v1/carts/{cart}/items/{line}"), None),
        ("DELETE", format!("/api/v1/carts/{cart}"), None),
    ] {
        let (status, res) = w.call(method, &path, &buyer, body).await;
        assert_eq!(status, 409, "{method} {path} {res}");
        assert_eq!(res["error"], "Checkout in progress");
    }

    // Naming the order publishes cart.checked_out once (through the outbox).
    let named = json!({"holder": "order:k1", "ttl_seconds": 600, "customer_id": "buyer",
                       "order_id": 42, "order_number": "ORD-00000000001A"});
    assert_eq!(w.internal("POST", &lock, Some(named.clone())).await.0, 200, "{named}");
    assert_eq!(w.internal("POST", &lock, Some(named)).await.0, 200);
    assert_eq!(
        w.cart_count("SELECT count(*) AS n FROM outbox WHERE event_type = 'cart.checked_out'").await,
        1
    );
    assert_eq!(
        w.cart_count(&format!(
            "SELECT count(*) AS n FROM outbox WHERE payload -> 'data' ->> 'cart_id' = '{cart}' AND (payload -> 'data' ->> 'order_id')::int = 42"
        ))
        .await,
        1
    );

    // Another holder's unlock leaves it; the holder's releases it (and again: still 204).
    assert_eq!(w.internal("DELETE", &format!("{lock}?holder=order:k2"), None).await.0, 204);
    assert_eq!(w.add(&cart, &buyer, TSHIRT, 1).await.0, 409);
    assert_eq!(w.internal("DELETE", &format!("{lock}?holder=order:k1"), None).await.0, 204);
    assert_eq!(w.internal("DELETE", &format!("{lock}?holder=order:k1"), None).await.0, 204);
    assert_eq!(w.add(&cart, &buyer, TSHIRT, 1).await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_checkout_never_freezes_a_cart_and_guests_lock_with_their_token() {
    let w = World::start().await;
    let (cart, token) = w.guest_cart().await;
    let guest = Who::Guest(token.clone());
    assert_eq!(w.add(&cart, &guest, TSHIRT, 1).await.0, 201);
    let lock = format!("/internal/v1/carts/{cart}/checkout-lock");
    let (status, body) = w
        .internal("POST", &lock, Some(json!({"holder": "order:g1", "ttl_seconds": 60, "cart_token": token})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.add(&cart, &guest, TSHIRT, 1).await.0, 409);
    // The holder crashed: once the lock's time is up, the cart changes again.
    let id: domain::ids::CartId = cart.parse().unwrap();
    let mut stored = cart::carts::store::CartStore::load(&w.state.store, id).await.unwrap().unwrap();
    stored.lock.as_mut().unwrap().expires_at = chrono::Utc::now() - chrono::Duration::seconds(1);
    w.state.store.save(&mut stored, &[]).await.unwrap();
    assert_eq!(w.add(&cart, &guest, TSHIRT, 1).await.0, 201);
    // And another checkout may take it.
    let (status, _) = w
        .internal("POST", &lock, Some(json!({"holder": "order:g2", "ttl_seconds": 60, "cart_token": token})))
        .await;
    assert_eq!(status, 200);
}
