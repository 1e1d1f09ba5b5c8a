//! Checkout: the happy path to `paid`, idempotency (replays, 20 concurrent, mismatches), the
//! refusals, and a retry after a crash between the order insert and the Stripe call.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Options, Who, checkout_body};
use domain::events::{OrderCreated, OrderPaid};
use domain::inventory::ReservationStatus;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkout_then_card_payment_makes_a_paid_order() {
    let w = common::spawn_with(Options {
        vars: vec![("TAX_RATE_BPS", "1000".into()), ("SHIPPING_FLAT_CENTS", "500".into())],
        ..Options::default()
    })
    .await;
    let shirt = w.product("TSHIRT-BLK-M", 1999, 10);
    let mug = w.product("MUG-1", 1000, 5);
    let (cart, _) = w.cart(Some("alice"), &[(shirt, 2), (mug, 1)]);
    let alice = Who::Customer("alice".into());
    let (status, body) = w.checkout(&alice, "key-1", &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    // 2 x 19.99 + 10.00 = 49.98; tax 10 % = 5.00 (half up from 4.998); shipping 5.00.
    assert_eq!(
        body["totals"],
        json!({"subtotal": 4998, "tax": 500, "shipping": 500, "discount": 0, "total": 5998, "currency": "USD"})
    );
    assert_eq!(body["status"], "pending_payment");
    assert_eq!(body["payment"]["provider"], "stripe");
    let secret = body["payment"]["client_secret"].as_str().unwrap();
    let pi = body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(&pi));
    let number = body["order_number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("ORD-"));
    assert!(body["access_token"].as_str().unwrap().len() >= 64);

    // The stock is held for the order now, for the checkout session.
    let order = w.order_row(&number).await;
    let held = w.reservations_of_order(order.id);
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|(_, r)| r.status == ReservationStatus::Active));
    assert_eq!(w.order_state(&number).await, ("pending".into(), "pending_payment".into()));

    // The PaymentIntent carries the order id and the amount.
    let intent = w.state.stripe.retrieve(&pi).await.unwrap();
    assert_eq!(intent.amount, 5998);

    w.confirm(&pi, "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
    assert_eq!(w.order_state(&number).await, ("completed".into(), "paid".into()));

    let events = w.order_events().await;
    let created: Vec<OrderCreated> = events.iter().filter_map(|e| e.decode().ok()).collect();
    let paid: Vec<OrderPaid> = events.iter().filter_map(|e| e.decode().ok()).collect();
    assert_eq!((created.len(), paid.len()), (1, 1), "{events:?}");
    assert_eq!(created[0].total_cents, 5998);
    assert_eq!(created[0].cart_id, Some(cart));
    assert_eq!(paid[0].amount_cents, 5998);
    let mut want: Vec<_> = held.iter().map(|(id, _)| *id).collect();
    let mut got = paid[0].reservation_ids.clone();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want, "order.paid names the reservations to commit");

    // The owner reads it.
    let (status, read) =
        w.get(&format!("/api/v1/orders/{number}"), Some(&common::jwt("alice", &[])), None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["payment_status"], "completed");
    assert_eq!(read["items"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_checkouts_with_one_key_make_one_order_and_one_payment_intent() {
    let w = common::spawn().await;
    let p = w.product("SKU-CONC", 2500, 10);
    let (cart, token) = w.cart(None, &[(p, 1)]);
    let body = checkout_body(cart);
    let guest = Who::Guest(token);
    let mut tasks = Vec::new();
    let w = std::sync::Arc::new(w);
    for _ in 0..20 {
        let (w, body, guest) = (w.clone(), body.clone(), guest.clone());
        tasks.push(tokio::spawn(async move { w.checkout(&guest, "same-key", &body).await }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let first = answers.iter().find(|(s, _)| *s == 201).expect("one answer").1.clone();
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body, &first, "every answer is the first one");
    }
    assert_eq!(w.count("SELECT count(*) AS n FROM orders").await, 1);
    assert_eq!(w.count("SELECT count(*) AS n FROM payments").await, 1);
    assert_eq!(w.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'order.created'").await, 1);
    let created = w.stripe.events().iter().filter(|e| e.type_ == "payment_intent.created").count();
    assert_eq!(created, 1, "one PaymentIntent");

    // Later: the same key replays; the same key with another body is a 422.
    let (status, again) = w.checkout(&guest, "same-key", &body).await;
    assert_eq!((status, &again), (201, &first));
    let mut other = body.clone();
    other["customer_name"] = json!("Someone Else");
    let (status, err) = w.checkout(&guest, "same-key", &other).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"], "Validation failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_missing_key_empty_unknown_foreign_cart_and_stock_gone() {
    let w = common::spawn().await;
    let p = w.product("SKU-R", 1000, 3);
    let (cart, _) = w.cart(Some("bob"), &[(p, 1)]);
    let bob = Who::Customer("bob".into());
    // No Idempotency-Key.
    let (status, _) = w.checkout(&bob, "", &checkout_body(cart)).await;
    assert_eq!(status, 400);
    // Bad body.
    let mut bad = checkout_body(cart);
    bad["customer_email"] = json!("nope");
    let (status, err) = w.checkout(&bob, "k-bad", &bad).await;
    assert_eq!(status, 422);
    assert!(err["messages"]["customer_email"].is_array(), "{err}");
    // Unknown cart, and someone else's cart: 404 alike.
    let (status, _) = w.checkout(&bob, "k-unknown", &checkout_body(domain::ids::CartId::new())).await;
    assert_eq!(status, 404);
    let (status, _) = w.checkout(&Who::Customer("mallory".into()), "k-foreign", &checkout_body(cart)).await;
    assert_eq!(status, 404);
    // Empty cart.
    let (empty, _) = w.cart(Some("bob"), &[]);
    let (status, err) = w.checkout(&bob, "k-empty", &checkout_body(empty)).await;
    assert_eq!(status, 422, "{err}");
    // Stock gone: the cart's reservation lapsed and the rest was sold meanwhile.
    let rid = w.fakes.lock().unwrap().carts[&cart.0].lines[0].reservation_id.unwrap();
    w.expire_reservation(rid);
    w.fakes.lock().unwrap().reserve(p, 3, None, None, 15).unwrap();
    let (status, err) = w.checkout(&bob, "k-gone", &checkout_body(cart)).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "Insufficient stock");
    assert_eq!(w.count("SELECT count(*) AS n FROM orders").await, 0);
    // A refusal forgets the key and unlocks the cart: the same key works once stock is back.
    assert_eq!(w.count("SELECT count(*) AS n FROM idempotency_keys").await, 0);
    assert!(w.fakes.lock().unwrap().carts[&cart.0].lock.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkout_interrupted_before_stripe_is_finished_by_its_retry() {
    // Stripe is reached through a proxy that is down for the first attempt: the order is
    // written, the PaymentIntent call fails — the state a crash right there leaves.
    let w = common::spawn_with(Options { stripe_proxy: true, ..Options::default() }).await;
    let proxy = w.proxy.as_ref().unwrap();
    let p = w.product("SKU-CRASH", 1500, 5);
    let (cart, _) = w.cart(Some("carol"), &[(p, 2)]);
    let carol = Who::Customer("carol".into());
    proxy.set_down();
    let (status, err) = w.checkout(&carol, "crash-key", &checkout_body(cart)).await;
    assert_eq!(status, 503, "{err}");
    assert_eq!(w.count("SELECT count(*) AS n FROM orders").await, 1, "the order was written");
    assert_eq!(w.count("SELECT count(*) AS n FROM orders WHERE payment_intent_id IS NULL").await, 1);
    proxy.set_up();
    let (status, body) = w.checkout(&carol, "crash-key", &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(w.count("SELECT count(*) AS n FROM orders").await, 1, "still one order");
    assert_eq!(w.count("SELECT count(*) AS n FROM orders WHERE payment_intent_id IS NOT NULL").await, 1);
    let created = w.stripe.events().iter().filter(|e| e.type_ == "payment_intent.created").count();
    assert_eq!(created, 1);
    assert_eq!(w.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'order.created'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_buyers_for_ten_units_make_ten_paid_orders_and_never_oversell() {
    let w = std::sync::Arc::new(common::spawn().await);
    let p = w.product("SKU-RUSH", 1000, 10);
    // Ten carts got a unit reserved; forty were added when nothing was left to reserve.
    let mut carts = Vec::new();
    for i in 0..50 {
        let customer = format!("buyer{i}");
        let cart = if i < 10 {
            w.cart(Some(&customer), &[(p, 1)]).0
        } else {
            w.cart_unreserved(&customer, &[(p, 1)])
        };
        carts.push((customer, cart));
    }
    let mut tasks = Vec::new();
    for (customer, cart) in carts {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            w.checkout(&Who::Customer(customer.clone()), &format!("rush-{customer}"), &checkout_body(cart))
                .await
        }));
    }
    let mut placed = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, body) => placed.push(body),
            (409, body) => {
                assert_eq!(body["error"], "Insufficient stock", "{body}");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((placed.len(), refused), (10, 40));
    for body in &placed {
        w.confirm(body["payment"]["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await.unwrap();
    }
    w.forward_stripe_events().await;
    for body in &placed {
        w.wait_payment(body["order_number"].as_str().unwrap(), "completed").await;
    }
    assert_eq!(w.count("SELECT count(*) AS n FROM orders WHERE status = 'paid'").await, 10);
    let s = w.fakes.lock().unwrap();
    let product = &s.products[&p];
    assert!(product.reserved <= product.stock, "never more held than in stock");
    assert_eq!(product.reserved, 10);
}
