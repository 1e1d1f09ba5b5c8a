//! Payment events drive orders: declined then paid, 3-D Secure, duplicates and reordering,
//! a dispute as the first event of its PaymentIntent, and a payment after its stock was sold.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Who, World, checkout_body};
use domain::events::{Envelope, OrderDisputed, OrderPaid, OrderRefunded};
use serde_json::{Value, json};
use testkit::wait_until;

/// Checks out a fresh cart of one product (stock `stock`, 2 units) and returns the answer.
async fn checkout(w: &World, sku: &str, stock: i64, customer: &str) -> (String, String, i64) {
    let p = w.product(sku, 2000, stock);
    let (cart, _) = w.cart(Some(customer), &[(p, 2)]);
    let (status, body) =
        w.checkout(&Who::Customer(customer.into()), &format!("key-{sku}"), &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    (
        body["order_number"].as_str().unwrap().to_owned(),
        body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
        p,
    )
}

async fn control(w: &World, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new().post(w.stripe.url(path)).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap_or(Value::Null)
}

async fn history(w: &World, number: &str) -> i64 {
    w.count(&format!(
        "SELECT count(*) AS n FROM payment_status_history h JOIN orders o ON o.id = h.order_id WHERE o.order_number = '{number}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_declined_card_fails_the_payment_and_a_second_card_pays() {
    let w = common::spawn().await;
    let (number, pi, _) = checkout(&w, "SKU-DECL", 5, "dan").await;
    let err = w.confirm(&pi, "pm_card_chargeDeclined").await.unwrap_err();
    assert!(matches!(err, stripe::StripeError::Stripe(_, 402)), "{err:?}");
    w.forward_stripe_events().await;
    w.wait_payment(&number, "failed").await;
    assert_eq!(w.order_state(&number).await.1, "pending_payment", "the customer may retry");
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
    assert_eq!(w.order_state(&number).await.1, "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_d_secure_is_required_then_completed() {
    let w = common::spawn().await;
    let (number, pi, _) = checkout(&w, "SKU-3DS", 5, "erin").await;
    let pending = w.confirm(&pi, "pm_card_threeDSecure2Required").await.unwrap();
    assert_eq!(pending.status.as_str(), "requires_action");
    w.forward_stripe_events().await;
    wait_until(common::WAIT, "the requires_action event in the history", || async {
        (history(&w, &number).await >= 1).then_some(())
    })
    .await;
    assert_eq!(w.order_state(&number).await, ("pending".into(), "pending_payment".into()));
    control(&w, &format!("/_emulator/payment_intents/{pi}/authenticate"), json!({"outcome": "complete"}))
        .await;
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_and_reordered_events_are_no_ops() {
    let w = common::spawn().await;
    let (number, pi, _) = checkout(&w, "SKU-DUP", 5, "fay").await;
    // A declined attempt, then a good card: its events are held back and delivered in reverse.
    let _ = w.confirm(&pi, "pm_card_chargeDeclined").await;
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    let mut envelopes: Vec<Envelope> = Vec::new();
    {
        use payment_webhook::webhook::normalize::{Mapping, map, read_event};
        for event in w.stripe.events() {
            let value = serde_json::to_value(&event).unwrap();
            let read = read_event(&value).unwrap();
            if let Mapping::Payment(p) = map(&read) {
                envelopes.push(p.envelope(p.order_id, &read).unwrap());
            }
        }
    }
    let types: Vec<&str> = envelopes.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["payment.failed", "payment.succeeded"]);
    // succeeded first, failed after it, then both again (same ids: a redelivery).
    for e in envelopes.iter().rev().chain(envelopes.iter()) {
        w.publish(e).await;
    }
    w.wait_payment(&number, "completed").await;
    wait_until(common::WAIT, "both events recorded as hints", || async {
        let hints = w
            .count("SELECT count(*) AS n FROM payment_status_history WHERE event_type LIKE 'payment.%'")
            .await;
        (hints == 2).then_some(())
    })
    .await;
    assert_eq!(w.order_state(&number).await, ("completed".into(), "paid".into()));
    let ignored = w
        .count("SELECT count(*) AS n FROM payment_status_history WHERE event_type = 'payment.failed' AND from_status = to_status")
        .await;
    assert_eq!(ignored, 1, "the late failure is recorded as a hint that changed nothing");
    let paid = w.order_events().await.iter().filter(|e| e.is::<OrderPaid>()).count();
    assert_eq!(paid, 1, "one order.paid");
    assert_eq!(w.count("SELECT count(*) AS n FROM processed_events").await, 2, "redeliveries were dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dispute_as_the_first_event_of_its_intent_finds_the_order_and_closes() {
    let w = common::spawn().await;
    let (number, pi, _) = checkout(&w, "SKU-DISP", 5, "gus").await;
    w.confirm(&pi, "pm_card_createDispute").await.unwrap();
    // Only the dispute is delivered first: it has no order metadata.
    let dispute_event =
        w.stripe.events().into_iter().find(|e| e.type_ == "charge.dispute.created").expect("a dispute");
    let envelope = {
        use payment_webhook::webhook::normalize::{Mapping, map, read_event};
        let value = serde_json::to_value(&dispute_event).unwrap();
        let read = read_event(&value).unwrap();
        let Mapping::Payment(p) = map(&read) else { panic!("a payment event") };
        assert_eq!(p.order_id, None, "Stripe's dispute carries no order id");
        p.envelope(None, &read).unwrap()
    };
    w.publish(&envelope).await;
    wait_until(common::WAIT, "the dispute to be recorded", || async {
        w.order_row(&number).await.disputed.then_some(())
    })
    .await;
    // The dispute was only a hint: the order read Stripe and learnt the payment with it.
    assert_eq!(w.order_state(&number).await, ("completed".into(), "paid".into()));
    w.forward_stripe_events().await;
    let dispute_id = dispute_event.data.object["id"].as_str().unwrap().to_owned();
    control(&w, &format!("/_emulator/disputes/{dispute_id}/close"), json!({"outcome": "won"})).await;
    w.forward_stripe_events().await;
    wait_until(common::WAIT, "the dispute to close", || async {
        (!w.order_row(&number).await.disputed).then_some(())
    })
    .await;
    assert_eq!(
        w.count("SELECT count(*) AS n FROM disputes WHERE status = 'won' AND closed_at IS NOT NULL").await,
        1
    );
    let disputed = w.order_events().await.iter().filter(|e| e.is::<OrderDisputed>()).count();
    assert_eq!(disputed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_after_the_stock_was_sold_is_refunded_and_flagged() {
    let w = common::spawn().await;
    let (number, pi, product) = checkout(&w, "SKU-LATE", 2, "hal").await;
    let order = w.order_row(&number).await;
    // The checkout's reservations lapse and someone else buys the whole stock.
    for (id, _) in w.reservations_of_order(order.id) {
        w.expire_reservation(id);
    }
    w.fakes.lock().unwrap().reserve(product, 2, None, None, 15).unwrap();
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "refunded").await;
    let row = w.order_row(&number).await;
    assert!(row.needs_attention, "flagged");
    assert_eq!(row.status, "canceled");
    assert_eq!(row.amount_refunded_cents, 4000);
    let refunds = w.stripe.events().iter().filter(|e| e.type_ == "charge.refunded").count();
    assert_eq!(refunds, 1, "refunded once at Stripe");
    let events = w.order_events().await;
    assert_eq!(events.iter().filter(|e| e.is::<OrderPaid>()).count(), 0, "never sold");
    assert_eq!(events.iter().filter(|e| e.is::<OrderRefunded>()).count(), 1);
    // Stripe's own charge.refunded arrives later: a no-op.
    w.forward_stripe_events().await;
    wait_until(common::WAIT, "the refund event to be consumed", || async {
        (w.count("SELECT count(*) AS n FROM processed_events").await >= 2).then_some(())
    })
    .await;
    assert_eq!(w.order_row(&number).await.amount_refunded_cents, 4000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_after_its_reservation_lapsed_keeps_the_order_when_stock_is_left() {
    let w = common::spawn().await;
    let (number, pi, _) = checkout(&w, "SKU-LAPSE", 10, "ivy").await;
    let order = w.order_row(&number).await;
    for (id, _) in w.reservations_of_order(order.id) {
        w.expire_reservation(id);
    }
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
    assert!(!w.order_row(&number).await.needs_attention);
    let active = w
        .reservations_of_order(order.id)
        .into_iter()
        .filter(|(_, r)| r.status == domain::inventory::ReservationStatus::Active)
        .count();
    assert_eq!(active, 1, "the stock was reserved again for the order");
}
