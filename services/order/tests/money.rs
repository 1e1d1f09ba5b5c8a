//! Money that always matches Stripe (issue 16, ADR 0071): each case is what Stripe really does
//! (events in any order, an amount updated through the API, a manual partial capture) and the
//! order must end as Stripe's objects say, never paid for money it did not receive.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Who, World, checkout_body};
use domain::events::{Envelope, OrderCanceled, OrderPaid};
use order::payments::reconcile;
use serde_json::json;
use stripe_core::payment_intent::{CapturePaymentIntent, UpdatePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_shared::PaymentIntentCaptureMethod;

/// A checkout of 2 × 2,000 cents (total 4,000 + tax/shipping as configured): (number, pi, total).
async fn checkout(w: &World, sku: &str, customer: &str) -> (String, String, i64) {
    let p = w.product(sku, 2000, 50);
    let (cart, _) = w.cart(Some(customer), &[(p, 2)]);
    let (status, body) =
        w.checkout(&Who::Customer(customer.into()), &format!("key-{sku}"), &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    let number = body["order_number"].as_str().unwrap().to_owned();
    let total = w.order_row(&number).await.total_cents;
    (number, body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(), total)
}

/// Forwards every Stripe event not forwarded yet, in `order` (by type, others after, in order).
async fn deliver(w: &World, first: &[&str]) -> Vec<Envelope> {
    let mut events = w.take_stripe_events();
    events.sort_by_key(|e| first.iter().position(|t| *t == e.type_).unwrap_or(first.len()));
    let mut out = Vec::new();
    for e in &events {
        out.extend(w.forward_event(e).await);
    }
    w.wait_synced(&out).await;
    out
}

async fn admin_search(w: &World, query: &str) -> serde_json::Value {
    let (status, body) =
        w.get(&format!("/api/v1/admin/orders?{query}"), Some(&common::jwt("root", &["admin"])), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_delivered_before_the_payment_is_not_lost() {
    let w = common::spawn().await;
    let (number, pi, total) = checkout(&w, "SKU-RFIRST", "ann").await;
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    // The merchant refunds everything at Stripe; Stripe delivers `charge.refunded` first.
    CreateRefund::new().payment_intent(pi.as_str()).send(&w.stripe_client).await.unwrap();
    deliver(&w, &["charge.refunded"]).await;
    let row = w.order_row(&number).await;
    assert_eq!((row.payment_status.as_str(), row.status.as_str()), ("refunded", "canceled"), "{row:?}");
    assert_eq!((row.amount_paid_cents, row.amount_refunded_cents), (total, total));
    let events = w.order_events().await;
    assert_eq!(
        events.iter().filter(|e| e.is::<OrderPaid>()).count(),
        0,
        "no stock committed, no confirmation"
    );
    assert_eq!(events.iter().filter(|e| e.is::<OrderCanceled>()).count(), 1, "stock released, cart unlocked");
    // Nothing is left to refund: the admin is told so, and Stripe is not asked.
    let admin = common::jwt("root", &["admin"]);
    let (status, body) = w
        .post(
            &format!("/api/v1/admin/orders/{number}/refund"),
            Some(&admin),
            &json!({}),
            &[("idempotency-key", "r1")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_amount_changed_at_stripe_is_never_paid() {
    let w = common::spawn().await;
    let (number, pi, total) = checkout(&w, "SKU-AMOUNT", "bea").await;
    UpdatePaymentIntent::new(pi.as_str()).amount(100).send(&w.stripe_client).await.unwrap();
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    deliver(&w, &[]).await;
    let row = w.order_row(&number).await;
    assert_eq!(row.status, "canceled", "{row:?}");
    assert!(row.needs_attention);
    assert_eq!(
        row.attention_reason.as_deref(),
        Some(format!("payment captured 100 cents of the order's {total}: refunded automatically").as_str())
    );
    assert_eq!(
        (row.amount_paid_cents, row.amount_refunded_cents, row.payment_status.as_str()),
        (100, 100, "refunded")
    );
    assert_eq!(w.order_events().await.iter().filter(|e| e.is::<OrderPaid>()).count(), 0);
    // The merchant finds it with the admin filter.
    let found = admin_search(&w, "needs_attention=true").await;
    assert!(found.to_string().contains(&number), "{found}");
    let metrics = w.server.client.get(w.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("order_payment_attention_total{reason=\"underpaid\"} 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_currency_is_never_paid_and_a_forged_event_changes_nothing() {
    let w = common::spawn().await;
    let (number, pi, total) = checkout(&w, "SKU-EUR", "cy").await;
    // A signed-looking event claiming EUR success while Stripe has taken nothing.
    let forged = {
        use payment_webhook::webhook::normalize::{Mapping, map, read_event};
        let value = json!({"id": "evt_forged", "type": "payment_intent.succeeded", "created": 1, "data": {"object": {
            "id": pi, "object": "payment_intent", "amount": total, "amount_received": total, "currency": "eur",
            "status": "succeeded", "metadata": {"order_id": w.order_row(&number).await.id.to_string()}}}});
        let read = read_event(&value).unwrap();
        let Mapping::Payment(p) = map(&read) else { panic!() };
        p.envelope(p.order_id, &read).unwrap()
    };
    w.publish(&forged).await;
    w.wait_synced(std::slice::from_ref(&forged)).await;
    assert_eq!(
        w.order_state(&number).await,
        ("pending".into(), "pending_payment".into()),
        "Stripe took nothing"
    );
    // Stripe really captures EUR: flagged and given back.
    UpdatePaymentIntent::new(pi.as_str())
        .currency(stripe_types::Currency::EUR)
        .send(&w.stripe_client)
        .await
        .unwrap();
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    deliver(&w, &[]).await;
    let row = w.order_row(&number).await;
    assert_eq!(row.status, "canceled");
    assert_eq!(
        row.attention_reason.as_deref(),
        Some("payment captured in EUR, the order is in USD: refunded automatically")
    );
    assert_eq!(row.amount_refunded_cents, total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partial_capture_is_recorded_as_what_it_is() {
    let w = common::spawn().await;
    let (number, pi, total) = checkout(&w, "SKU-PARTIAL", "dee").await;
    UpdatePaymentIntent::new(pi.as_str())
        .capture_method(PaymentIntentCaptureMethod::Manual)
        .send(&w.stripe_client)
        .await
        .unwrap();
    let held = w.confirm(&pi, "pm_card_visa").await.unwrap();
    assert_eq!(held.status.as_str(), "requires_capture");
    // Authorised, not captured: not paid (a reconciliation reads it as still processing).
    deliver(&w, &[]).await;
    order::payments::sync::sync(
        &w.state,
        domain::ids::OrderId(w.order_row(&number).await.id),
        order::payments::sync::Origin::Reconcile,
    )
    .await
    .unwrap();
    assert_eq!(w.order_state(&number).await, ("processing".into(), "pending_payment".into()));
    CapturePaymentIntent::new(pi.as_str()).amount_to_capture(1000).send(&w.stripe_client).await.unwrap();
    deliver(&w, &[]).await;
    let row = w.order_row(&number).await;
    assert_eq!((row.amount_paid_cents, row.status.as_str()), (1000, "canceled"), "{row:?}");
    assert_eq!(
        row.attention_reason.as_deref(),
        Some(format!("payment captured 1000 cents of the order's {total}: refunded automatically").as_str())
    );
    assert_eq!(row.amount_refunded_cents, 1000, "what was captured went back, not a 409 from Stripe");
    let ledger = w
        .count(&format!(
            "SELECT count(*) AS n FROM payment_ledger WHERE order_id = {} AND ((kind = 'captured' AND amount_cents = 1000) \
             OR (kind = 'refunded' AND amount_cents = 1000))",
            row.id
        ))
        .await;
    assert_eq!(ledger, 2, "the ledger holds what moved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_webhooks_are_repaired_by_reconcile_with_an_audit_row() {
    let w = common::spawn().await;
    let (number, pi, total) = checkout(&w, "SKU-LOST", "eve").await;
    w.confirm(&pi, "pm_card_visa").await.unwrap();
    CreateRefund::new().payment_intent(pi.as_str()).amount(500).send(&w.stripe_client).await.unwrap();
    // Every webhook is lost.
    let _ = w.take_stripe_events();
    let since = chrono::Utc::now() - chrono::Duration::hours(1);
    let report = reconcile::run(&w.state, since).await.unwrap();
    assert_eq!(report.checked, 1);
    assert_eq!(report.repaired.len(), 1, "{report}");
    assert!(report.failed.is_empty(), "{report}");
    let row = w.order_row(&number).await;
    assert_eq!((row.status.as_str(), row.payment_status.as_str()), ("paid", "partially_refunded"));
    assert_eq!((row.amount_paid_cents, row.amount_refunded_cents), (total, 500));
    let audit = w
        .count(&format!(
            "SELECT count(*) AS n FROM payment_repairs WHERE order_id = {} AND origin = 'reconcile'",
            row.id
        ))
        .await;
    assert!(audit >= 2, "payment status and amounts, one row each");
    // A second run finds nothing to repair.
    let again = reconcile::run(&w.state, since).await.unwrap();
    assert!(again.repaired.is_empty(), "{again}");
    assert_eq!(w.order_events().await.iter().filter(|e| e.is::<OrderPaid>()).count(), 1);
}
