//! The public cart API end to end against a real catalog: lines, prices, reservations.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{JEANS, SHOES, TSHIRT, Who, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_guest_fills_a_cart_with_prices_totals_and_reservations() {
    let w = World::start().await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token.clone());
    assert!(token.len() >= 32, "a token of at least 128 bits");

    let (status, body) = w.add(&id, &guest, TSHIRT, 2).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = w
        .call(
            "POST",
            &format!("/api/v1/carts/{id}/items"),
            &guest,
            Some(json!({"sku": "JEANS-DNM-32", "quantity": 1, "selected_attributes": {"size": 32}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The same product with the same options is one line.
    let (status, body) = w.add(&id, &guest, TSHIRT, 1).await;
    assert_eq!(status, 201, "{body}");

    let (status, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(status, 200, "{cart}");
    let items = cart["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["product_id"], TSHIRT);
    assert_eq!(items[0]["quantity"], 3);
    assert_eq!(
        items[0]["unit_price"],
        json!({"amount": 29.99, "amount_cents": 2999, "formatted": "$29.99", "currency": "USD"})
    );
    assert_eq!(items[0]["line_total"]["amount_cents"], 8997);
    assert_eq!(items[0]["line_total"]["formatted"], "$89.97");
    assert_eq!(items[0]["status"], "reserved");
    assert!(items[0]["reservation_expires_at"].is_string());
    assert_eq!(items[1]["sku"], "JEANS-DNM-32");
    assert_eq!(items[1]["selected_attributes"], json!({"size": 32}));
    assert_eq!(cart["totals"]["subtotal"]["amount_cents"], 8997 + 7999);
    assert_eq!(cart["totals"]["subtotal"]["formatted"], "$169.96");
    assert_eq!(cart["totals"]["item_count"], 4);

    // Catalog holds exactly what the lines hold (the seed has 5 reserved on the t-shirt already).
    let (_, tshirt_reserved_before) = (0, 5);
    assert_eq!(w.counters(TSHIRT).await.1, tshirt_reserved_before + 3);
    assert_eq!(
        w.catalog_count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE cart_id = '{id}' AND status = 'active'"
        ))
        .await,
        2
    );

    // Decrease: the reservation shrinks; increase: it grows; both keep their id.
    let line = items[0]["id"].as_str().unwrap().to_owned();
    let reservation = w
        .catalog_count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE cart_id = '{id}' AND product_id = 1"
        ))
        .await;
    assert_eq!(reservation, 1);
    let (status, body) = w
        .call("PATCH", &format!("/api/v1/carts/{id}/items/{line}"), &guest, Some(json!({"quantity": 1})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.counters(TSHIRT).await.1, 5 + 1);
    let (status, _) = w
        .call("PATCH", &format!("/api/v1/carts/{id}/items/{line}"), &guest, Some(json!({"quantity": 7})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(w.counters(TSHIRT).await.1, 5 + 7);
    assert_eq!(
        w.catalog_count(&format!("SELECT count(*) AS n FROM reservations WHERE cart_id = '{id}'")).await,
        2
    );

    // Remove: released.
    let (status, body) = w.call("DELETE", &format!("/api/v1/carts/{id}/items/{line}"), &guest, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(w.counters(TSHIRT).await.1, 5);

    // Delete the cart: everything released, the cart is gone.
    let jeans_reserved = w.counters(JEANS).await.1;
    let (status, _) = w.call("DELETE", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(status, 204);
    assert_eq!(w.counters(JEANS).await.1, jeans_reserved - 1);
    assert_eq!(w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await.0, 404);

    // The service's own metrics are on /metrics.
    let metrics = w.client.get(format!("{}/metrics", w.cart_url)).send().await.unwrap().text().await.unwrap();
    for line in ["cart_carts_created_total{owner=\"guest\"} 1", "cart_lines_added_total 3"] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("cart_catalog_call_seconds_count{operation=\"reserve\",outcome=\"ok\"} 2"));
    assert!(metrics.contains("cart_reservation_refusals_total 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_than_available_is_409_and_changes_nothing() {
    let w = World::start().await;
    w.catalog_sql("UPDATE products SET stock_quantity = 4, reserved_quantity = 0 WHERE id = 3").await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    assert_eq!(w.add(&id, &guest, SHOES, 3).await.0, 201);
    let (status, body) = w.add(&id, &guest, SHOES, 2).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "Insufficient stock");
    assert_eq!(body["available"], 1);
    // Growing into exactly what is left works: only the difference comes from stock.
    assert_eq!(w.add(&id, &guest, SHOES, 1).await.0, 201);
    assert_eq!(w.counters(SHOES).await, (4, 4));
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(cart["items"][0]["quantity"], 4);

    // A product that is not for sale: 409 with nothing available; an unknown one: 422.
    w.catalog_sql("UPDATE products SET status = 'discontinued' WHERE id = 2").await;
    let (status, body) = w.add(&id, &guest, JEANS, 1).await;
    assert_eq!((status, body["available"].clone()), (409, json!(0)), "{body}");
    let (status, body) = w.add(&id, &guest, 999, 1).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["messages"]["product_id"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lapsed_reservations_are_renewed_on_read_or_the_line_is_flagged() {
    let w = World::start().await;
    w.catalog_sql("UPDATE products SET stock_quantity = 10, reserved_quantity = 0 WHERE id IN (1, 3)").await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    assert_eq!(w.add(&id, &guest, TSHIRT, 2).await.0, 201);
    assert_eq!(w.add(&id, &guest, SHOES, 5).await.0, 201);
    // Both reservations lapse; meanwhile someone else takes most of the shoes.
    w.lapse(&id).await;
    assert_eq!(w.counters(TSHIRT).await.1, 0);
    w.catalog_sql("UPDATE products SET reserved_quantity = 8 WHERE id = 3").await;

    let (status, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["items"][0]["status"], "reserved");
    assert_eq!(cart["items"][1]["status"], "unavailable");
    assert_eq!(cart["items"][1]["available"], 2);
    assert_eq!(w.counters(TSHIRT).await.1, 2, "re-reserved");
    assert_eq!(w.counters(SHOES).await.1, 8, "nothing taken for the flagged line");
    // Stock comes back: the next read re-reserves the flagged line.
    w.catalog_sql("UPDATE products SET reserved_quantity = 0 WHERE id = 3").await;
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(cart["items"][1]["status"], "reserved");
    assert_eq!(w.counters(SHOES).await.1, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_has_one_cart_and_reservations_can_be_off() {
    let w = World::with(common::Options { reserve_on_add: false, ..common::Options::default() }).await;
    let first = w.customer_cart("cust-1").await;
    assert_eq!(w.customer_cart("cust-1").await, first, "one cart per customer");
    let who = Who::Customer("cust-1".into());
    let before = w.counters(TSHIRT).await;
    let (status, body) = w.add(&first, &who, TSHIRT, 2).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["items"][0]["status"], "unreserved");
    assert_eq!(w.counters(TSHIRT).await, before, "INVENTORY_RESERVE_ON_ADD=false reserves nothing");
    assert_eq!(w.cart_count("SELECT count(*) AS n FROM cart_items").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_down_is_503_and_nothing_half_done() {
    let w = World::start().await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    assert_eq!(w.add(&id, &guest, TSHIRT, 2).await.0, 201);
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    let line = cart["items"][0]["id"].as_str().unwrap().to_owned();
    let reserved = w.counters(TSHIRT).await.1;

    w.catalog_proxy.set_down();
    for (method, path, body) in [
        ("POST", format!("/api/v1/carts/{id}/items"), Some(json!({"product_id": 2}))),
        ("POST", format!("/api/v1/carts/{id}/items"), Some(json!({"product_id": 1}))),
        ("PATCH", format!("/api/v1/carts/{id}/items/{line}"), Some(json!({"quantity": 5}))),
        ("DELETE", format!("/api/v1/carts/{id}/items/{line}"), None),
        ("DELETE", format!("/api/v1/carts/{id}"), None),
    ] {
        let (status, res) = w.call(method, &path, &guest, body).await;
        assert_eq!(status, 503, "{method} {path}: {res}");
        assert_eq!(res["error"], "Service unavailable");
    }
    assert_eq!(w.counters(TSHIRT).await.1, reserved, "catalog untouched");

    // Back up: the line is as it was, and the read that checks the unanswered resize leaves
    // catalog holding exactly the line's quantity.
    w.catalog_proxy.set_up();
    let (status, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["items"][0]["quantity"], 2);
    assert_eq!(cart["items"][0]["status"], "reserved");
    assert_eq!(w.counters(TSHIRT).await.1, reserved);
    assert_eq!(
        w.catalog_count(&format!(
            "SELECT count(*) AS n FROM reservations WHERE cart_id = '{id}' AND status = 'active'"
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_add_retried_after_a_lost_answer_holds_the_stock_once() {
    let w = World::start().await;
    w.catalog_sql("UPDATE products SET stock_quantity = 10, reserved_quantity = 0 WHERE id = 3").await;
    let (cart, token) = w.guest_cart().await;
    // The first attempt reached catalog, which reserved under the line's key, but its answer
    // never came back: nothing was saved in the cart.
    let id = domain::ids::CartId(cart.parse().unwrap());
    let stored = w.state.store.load(id).await.unwrap().unwrap();
    let line = cart::carts::new_line_id(&stored, domain::ids::ProductId(SHOES), &serde_json::Map::new(), 2);
    let key = cart::carts::reserve::line_key(id, line, 2);
    let res = w
        .client
        .post(w.catalog.url("/internal/v1/reservations"))
        .bearer_auth(testkit::INTERNAL_TOKEN)
        .json(&json!({"product_id": SHOES, "quantity": 2, "cart_id": cart, "idempotency_key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(w.counters(SHOES).await.1, 2);
    // The client retries the add: the same line, the same key, the same reservation.
    let (status, body) = w.add(&cart, &Who::Guest(token), SHOES, 2).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(w.counters(SHOES).await.1, 2, "held once, not twice");
    assert_eq!(
        w.catalog_count("SELECT count(*) AS n FROM reservations WHERE product_id = 3 AND status = 'active'")
            .await,
        1
    );
}
