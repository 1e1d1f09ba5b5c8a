//! Guest → customer merge on the first signed-in request that carries the guest token.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{JEANS, SHOES, TSHIRT, Who, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quantities_add_up_to_the_limits_and_reservations_follow() {
    let w = World::start().await;
    w.catalog_sql("UPDATE products SET stock_quantity = 200, reserved_quantity = 0").await;
    let customer = w.customer_cart("shopper").await;
    let signed_in = Who::Customer("shopper".into());
    assert_eq!(w.add(&customer, &signed_in, TSHIRT, 60).await.0, 201);
    assert_eq!(w.add(&customer, &signed_in, JEANS, 1).await.0, 201);

    let (guest, token) = w.guest_cart().await;
    let anonymous = Who::Guest(token.clone());
    assert_eq!(w.add(&guest, &anonymous, TSHIRT, 50).await.0, 201);
    assert_eq!(w.add(&guest, &anonymous, SHOES, 2).await.0, 201);
    assert_eq!(w.counters(TSHIRT).await.1, 110);

    // Signing in with the token still sent: the guest cart merges, whatever route comes first.
    let both = Who::Both("shopper".into(), token.clone());
    let (status, cart) = w.call("GET", &format!("/api/v1/carts/{guest}"), &both, None).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["id"], customer.as_str(), "the guest id now answers with the customer's cart");
    let items = cart["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!((items[0]["product_id"].as_i64(), items[0]["quantity"].as_i64()), (Some(TSHIRT), Some(99)));
    assert_eq!(items[2]["product_id"], SHOES);
    assert!(items.iter().all(|i| i["status"] == "reserved"), "{cart}");
    // Reservations follow: catalog holds exactly what the merged lines hold.
    assert_eq!(w.counters(TSHIRT).await.1, 99);
    assert_eq!(w.counters(SHOES).await.1, 2);
    assert_eq!(w.counters(JEANS).await.1, 1);
    assert_eq!(
        w.catalog_count("SELECT count(*) AS n FROM reservations WHERE status = 'active'").await,
        3,
        "one reservation per line"
    );

    // The guest cart is gone: its token opens nothing.
    assert_eq!(w.call("GET", &format!("/api/v1/carts/{guest}"), &anonymous, None).await.0, 404);
    // The customer's cart is in PostgreSQL with the merged lines.
    assert_eq!(w.cart_count("SELECT count(*) AS n FROM cart_items").await, 3);
    // A second request with the same token changes nothing more.
    let (_, again) = w.call("GET", &format!("/api/v1/carts/{customer}"), &both, None).await;
    assert_eq!(again["items"], cart["items"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_without_a_cart_adopts_the_guest_cart() {
    let w = World::start().await;
    let (guest, token) = w.guest_cart().await;
    assert_eq!(w.add(&guest, &Who::Guest(token.clone()), TSHIRT, 2).await.0, 201);
    let (status, cart) =
        w.call("POST", "/api/v1/carts", &Who::Both("newcomer".into(), token.clone()), None).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["id"], guest.as_str());
    assert_eq!(cart["customer_id"], "newcomer");
    assert_eq!(cart["items"][0]["quantity"], 2);
    assert_eq!(w.cart_count("SELECT count(*) AS n FROM carts WHERE customer_id = 'newcomer'").await, 1);
    assert_eq!(w.call("GET", &format!("/api/v1/carts/{guest}"), &Who::Guest(token), None).await.0, 404);
    assert_eq!(w.counters(TSHIRT).await.1, 5 + 2);
}
