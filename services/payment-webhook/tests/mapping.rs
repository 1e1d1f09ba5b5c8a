//! Every handled Stripe type becomes the right payment event for the right order; unknown
//! types and events without an order are stored, acknowledged and not published.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;

use common::fixtures::{charge_refunded, dispute, event_id, payment_intent_event};
use domain::OrderId;
use domain::events::{
    Envelope, PaymentDisputeClosed, PaymentDisputed, PaymentFailed, PaymentRefunded, PaymentSucceeded,
};
use domain::money::Currency;
use serde_json::json;

/// Published envelopes by the Stripe event id they came from.
fn by_stripe_id(published: Vec<Envelope>) -> HashMap<String, Envelope> {
    published.into_iter().map(|e| (e.data["stripe_event_id"].as_str().unwrap().to_owned(), e)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_handled_type_maps_to_its_payment_event_and_order() {
    let app = common::spawn().await;
    let pi = "pi_map_1";
    let mut expected = Vec::new();
    for (suffix, ours) in [
        ("processing", "payment.processing"),
        ("requires_action", "payment.requires_action"),
        ("payment_failed", "payment.failed"),
        ("succeeded", "payment.succeeded"),
        ("canceled", "payment.canceled"),
    ] {
        let id = event_id();
        let (status, json) = app.deliver(&payment_intent_event(&id, suffix, pi, Some("101"))).await;
        assert_eq!((status, json["outcome"].as_str()), (200, Some("published")), "{suffix}: {json}");
        expected.push((id, ours));
    }
    let refund = event_id();
    assert_eq!(app.deliver(&charge_refunded(&refund, pi, Some("101"), 1500)).await.0, 200);
    expected.push((refund.clone(), "payment.refunded"));
    // Disputes carry no order metadata: the order comes from the earlier events of the PaymentIntent.
    let opened = event_id();
    assert_eq!(
        app.deliver(&dispute(&opened, "charge.dispute.created", pi, "needs_response", json!({}))).await.0,
        200
    );
    expected.push((opened.clone(), "payment.disputed"));
    let closed = event_id();
    assert_eq!(app.deliver(&dispute(&closed, "charge.dispute.closed", pi, "lost", json!({}))).await.0, 200);
    expected.push((closed.clone(), "payment.dispute_closed"));

    let published = by_stripe_id(app.published().await);
    assert_eq!(published.len(), expected.len());
    for (stripe_id, ours) in &expected {
        let e = &published[stripe_id];
        assert_eq!(e.event_type, *ours, "{stripe_id}");
        assert_eq!(e.source, "payment-webhook");
        assert_eq!(e.data["order_id"], 101, "{ours}");
        assert_eq!(e.data["payment_intent_id"], pi, "{ours}");
        assert!(e.data["stripe_created"].as_i64().unwrap() > 1_700_000_000);
    }
    let succeeded: PaymentSucceeded = published[&expected[3].0].decode().unwrap();
    assert_eq!((succeeded.payment.amount_cents, succeeded.payment.currency), (2999, Currency::Usd));
    let failed: PaymentFailed = published[&expected[2].0].decode().unwrap();
    assert_eq!(failed.failure_code.as_deref(), Some("card_declined"));
    let refunded: PaymentRefunded = published[&refund].decode().unwrap();
    assert_eq!((refunded.amount_refunded_cents, refunded.payment.amount_cents), (1500, 5000));
    assert_eq!(refunded.payment.currency, Currency::Eur);
    let disputed: PaymentDisputed = published[&opened].decode().unwrap();
    assert_eq!(
        (disputed.dispute_id.as_str(), disputed.dispute_status.as_str()),
        ("du_1Test", "needs_response")
    );
    let done: PaymentDisputeClosed = published[&closed].decode().unwrap();
    assert_eq!((done.payment.order_id, done.dispute_status.as_str()), (Some(OrderId(101)), "lost"));
    let stored =
        app.count("SELECT count(*) AS n FROM stripe_events WHERE order_id = 101 AND flags = '{}'").await;
    assert_eq!(stored, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_with_its_own_metadata_uses_it() {
    let app = common::spawn().await;
    let id = event_id();
    let event = dispute(
        &id,
        "charge.dispute.created",
        "pi_never_seen",
        "warning_needs_response",
        json!({"order_id": "77"}),
    );
    assert_eq!(app.deliver(&event).await.1["outcome"], "published");
    let published = app.published().await;
    assert_eq!((published.len(), &published[0].data["order_id"]), (1, &json!(77)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_types_and_invalid_objects_are_stored_not_published_and_orderless_events_are_published() {
    let app = common::spawn().await;
    let unknown = common::fixtures::event(
        &event_id(),
        "customer.created",
        json!({"id": "cus_1", "object": "customer"}),
    );
    assert_eq!(app.deliver(&unknown).await, (200, json!({"received": true, "outcome": "unhandled_type"})));

    let orphan_id = event_id();
    let orphan = payment_intent_event(&orphan_id, "succeeded", "pi_orphan", None);
    assert_eq!(app.deliver(&orphan).await.1["outcome"], "published");
    // A dispute of a PaymentIntent never seen before: published with the PaymentIntent only,
    // order resolves it by that (issue 11).
    let lost = dispute(&event_id(), "charge.dispute.created", "pi_unknown", "needs_response", json!({}));
    assert_eq!(app.deliver(&lost).await.1["outcome"], "published");
    let bad = payment_intent_event(&event_id(), "succeeded", "pi_bad", Some("not-a-number"));
    assert_eq!(app.deliver(&bad).await.1["outcome"], "published");

    let mut yen = payment_intent_event(&event_id(), "succeeded", "pi_yen", Some("5"));
    yen["data"]["object"]["currency"] = json!("jpy");
    assert_eq!(app.deliver(&yen).await.1["outcome"], "invalid_object");

    assert_eq!(app.stored().await, 5);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM stripe_events WHERE 'unhandled_type' = ANY(flags)").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM stripe_events WHERE 'missing_order_id' = ANY(flags)").await,
        3
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM stripe_events WHERE 'invalid_object' = ANY(flags)").await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM stripe_events WHERE published_type IS NOT NULL").await,
        3
    );
    assert_eq!(app.counter("payment_webhook_events_total", "published").await, 3);
    assert_eq!(app.counter("payment_webhook_events_total", "unhandled_type").await, 1);
    assert_eq!(app.counter("payment_webhook_events_total", "invalid_object").await, 1);
    // The stored payload is the event as received.
    let payload_kept = app
        .count(&format!(
            "SELECT count(*) AS n FROM stripe_events WHERE id = '{orphan_id}' AND payload -> 'data' -> 'object' ->> 'id' = 'pi_orphan'"
        ))
        .await;
    assert_eq!(payload_kept, 1);
    let published = app.published().await;
    assert_eq!(published.len(), 3);
    let mut intents: Vec<&str> =
        published.iter().map(|e| e.data["payment_intent_id"].as_str().unwrap()).collect();
    intents.sort_unstable();
    assert_eq!(intents, ["pi_bad", "pi_orphan", "pi_unknown"]);
    assert!(published.iter().all(|e| e.data.get("order_id").is_none()), "no order id is made up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkout_trace_in_the_metadata_travels_with_the_event() {
    let app = common::spawn().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut event = payment_intent_event(&event_id(), "succeeded", "pi_traced", Some("12"));
    event["data"]["object"]["metadata"]["traceparent"] = json!(traceparent);
    assert_eq!(app.deliver(&event).await.1["outcome"], "published");
    let stored = app
        .count(&format!("SELECT count(*) AS n FROM outbox WHERE headers ->> 'traceparent' = '{traceparent}'"))
        .await;
    assert_eq!(stored, 1, "the outbox row continues the checkout's trace");
    let mut forged = payment_intent_event(&event_id(), "succeeded", "pi_forged", Some("13"));
    forged["data"]["object"]["metadata"]["traceparent"] = json!("not-a-traceparent");
    assert_eq!(app.deliver(&forged).await.1["outcome"], "published");
    let kept = app
        .count("SELECT count(*) AS n FROM outbox WHERE headers ->> 'traceparent' = 'not-a-traceparent'")
        .await;
    assert_eq!(kept, 0, "a malformed value is ignored");
}
