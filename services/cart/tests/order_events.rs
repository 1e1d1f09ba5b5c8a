//! The `cart.orders` consumer: order.paid deletes the cart (twice is once; a change after the
//! order does not save the cart), order.canceled / order.expired unlock it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{JEANS, TSHIRT, Who, World};
use domain::events::{Envelope, OrderCanceled, OrderClosed, OrderExpired, OrderPaid};
use domain::ids::{CartId, OrderId};
use domain::money::Currency;
use domain::order::OrderNumber;
use serde_json::json;

fn paid(cart: &str, order: i64) -> Envelope {
    let body = OrderPaid {
        order_id: OrderId(order),
        order_number: OrderNumber::parse(&format!("ORD-{order:012}")).unwrap(),
        payment_intent_id: "pi_1".into(),
        amount_cents: 5998,
        currency: Currency::Usd,
        reservation_ids: Vec::new(),
        cart_id: Some(cart.parse::<CartId>().unwrap()),
    };
    Envelope::new("order", &body, None).unwrap()
}

fn closed(cart: &str, order: i64, reservation_ids: Vec<uuid::Uuid>) -> OrderClosed {
    OrderClosed {
        order_id: OrderId(order),
        order_number: OrderNumber::parse(&format!("ORD-{order:012}")).unwrap(),
        reason: "customer_canceled".into(),
        reservation_ids,
        cart_id: Some(cart.parse::<CartId>().unwrap()),
    }
}

async fn processed(w: &World) -> i64 {
    w.cart_count("SELECT count(*) AS n FROM processed_events").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn order_paid_twice_and_after_a_later_change_deletes_the_cart_once() {
    let w = World::start().await;
    let cart = w.customer_cart("payer").await;
    let payer = Who::Customer("payer".into());
    assert_eq!(w.add(&cart, &payer, TSHIRT, 2).await.0, 201);
    let lock = format!("/internal/v1/carts/{cart}/checkout-lock");
    let take = json!({"holder": "order:p1", "ttl_seconds": 600, "customer_id": "payer"});
    assert_eq!(w.internal("POST", &lock, Some(take)).await.0, 200);
    // The checkout gives the lock back (say, a retry path) and the customer changes the cart
    // after the order was placed: the cart's last change comes after the order.
    assert_eq!(w.internal("DELETE", &format!("{lock}?holder=order:p1"), None).await.0, 204);
    assert_eq!(w.add(&cart, &payer, JEANS, 1).await.0, 201);

    let event = paid(&cart, 7);
    w.publish(&event).await;
    w.publish(&event).await; // redelivered
    testkit::wait_until(common::WAIT, "the cart to be deleted", || async {
        (w.cart_count("SELECT count(*) AS n FROM carts").await == 0).then_some(())
    })
    .await;
    testkit::wait_until(common::WAIT, "both deliveries handled", || async {
        (processed(&w).await == 1).then_some(())
    })
    .await;
    assert_eq!(w.call("GET", &format!("/api/v1/carts/{cart}"), &payer, None).await.0, 404);
    // A paid order for a cart that is already gone (or never existed) is a no-op.
    w.publish(&paid(&cart, 8)).await;
    w.publish(&paid("6f1c5a64-3f57-4d0c-9c9e-1d8b8e1a2b3c", 9)).await;
    testkit::wait_until(common::WAIT, "the no-op events", || async {
        (processed(&w).await == 3).then_some(())
    })
    .await;
    // The customer starts afresh.
    assert_ne!(w.customer_cart("payer").await, cart);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn order_canceled_or_expired_unlocks_and_the_next_read_re_reserves() {
    let w = World::start().await;
    let (cart, token) = w.guest_cart().await;
    let guest = Who::Guest(token.clone());
    assert_eq!(w.add(&cart, &guest, TSHIRT, 2).await.0, 201);
    let (_, internal) = w.internal("GET", &format!("/internal/v1/carts/{cart}"), None).await;
    let reservation: uuid::Uuid = internal["items"][0]["reservation_id"].as_str().unwrap().parse().unwrap();
    let lock = format!("/internal/v1/carts/{cart}/checkout-lock");
    let named = json!({"holder": "order:c1", "ttl_seconds": 600, "cart_token": token,
                       "order_id": 11, "order_number": "ORD-00000000000B"});
    assert_eq!(w.internal("POST", &lock, Some(named)).await.0, 200);
    assert_eq!(w.add(&cart, &guest, TSHIRT, 1).await.0, 409);

    // Catalog releases the order's reservations on order.canceled; cart unlocks.
    w.catalog_sql(&format!(
        "UPDATE products SET reserved_quantity = reserved_quantity - 2 WHERE id = 1;
         UPDATE reservations SET status = 'released', closed_at = now() WHERE id = '{reservation}'"
    ))
    .await;
    // An event for another order leaves the lock alone.
    w.publish(&Envelope::new("order", &OrderExpired(closed(&cart, 99, Vec::new())), None).unwrap()).await;
    w.publish(&Envelope::new("order", &OrderCanceled(closed(&cart, 11, vec![reservation])), None).unwrap())
        .await;
    testkit::wait_until(common::WAIT, "the cart to unlock", || async {
        (w.add(&cart, &guest, TSHIRT, 1).await.0 == 201).then_some(())
    })
    .await;
    assert_eq!(processed(&w).await, 2);
    let (_, body) = w.call("GET", &format!("/api/v1/carts/{cart}"), &guest, None).await;
    assert_eq!(body["checkout_in_progress"], false);
    assert_eq!(body["items"][0]["quantity"], 3);
    assert_eq!(body["items"][0]["status"], "reserved");
    assert_eq!(w.counters(TSHIRT).await.1, 5 + 3, "re-reserved after catalog released the order's units");
}
