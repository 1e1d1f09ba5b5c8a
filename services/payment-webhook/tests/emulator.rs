//! End to end with the Stripe emulator: it runs the real payment flows, signs the events it
//! produces and delivers them to the webhook over HTTP; every handled event must come out as
//! the right payment event for the right order, once, duplicates included.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{SECRET, WAIT};
use stripe_emulator::{EmulatorConfig, RetryPolicy, RunningEmulator, TriggerRequest};
use testkit::wait_until;

/// Stripe type → payment event, for the types the webhook publishes.
fn expected_type(stripe_type: &str) -> Option<&'static str> {
    Some(match stripe_type {
        "payment_intent.succeeded" => "payment.succeeded",
        "payment_intent.payment_failed" => "payment.failed",
        "payment_intent.canceled" => "payment.canceled",
        "payment_intent.processing" => "payment.processing",
        "payment_intent.requires_action" => "payment.requires_action",
        "charge.refunded" => "payment.refunded",
        "charge.dispute.created" => "payment.disputed",
        "charge.dispute.closed" => "payment.dispute_closed",
        _ => return None,
    })
}

fn trigger(stripe: &RunningEmulator, event_type: &str, order: &str) -> (String, Vec<String>) {
    let request = TriggerRequest {
        type_: event_type.to_owned(),
        metadata: BTreeMap::from([("order_id".to_owned(), order.to_owned())]),
        refund_amount: (event_type == "charge.refunded").then_some(500),
        ..TriggerRequest::default()
    };
    stripe.trigger(&request).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_the_emulator_signs_and_delivers_become_payment_events_once() {
    let app = common::spawn().await;
    let config = EmulatorConfig {
        webhook_endpoints: vec![(app.server.url("/webhooks/stripe"), SECRET.to_owned())],
        retry: RetryPolicy { base_delay: Duration::from_millis(20), ..RetryPolicy::default() },
    };
    let stripe = RunningEmulator::start(config).await.unwrap();

    // Each flow on its own PaymentIntent and order; the emulator sends every event Stripe
    // would (payment_intent.created, charge.succeeded ... which the webhook stores unpublished).
    let flows = [
        ("payment_intent.succeeded", "501"),
        ("payment_intent.payment_failed", "502"),
        ("payment_intent.canceled", "503"),
        ("payment_intent.requires_action", "504"),
        ("payment_intent.processing", "505"),
        ("charge.refunded", "506"),
        ("charge.dispute.closed", "507"),
    ];
    let mut order_of_pi = HashMap::new();
    let mut sent = Vec::new();
    for (event_type, order) in flows {
        let (pi, ids) = trigger(&stripe, event_type, order);
        order_of_pi.insert(pi, order.parse::<i64>().unwrap());
        sent.extend(ids);
    }
    // Stripe redelivers: the refund and dispute events again, twice, out of order.
    let events = stripe.events();
    let again: Vec<String> = events
        .iter()
        .rev()
        .filter(|e| e.type_ == "charge.refunded" || e.type_.starts_with("charge.dispute."))
        .map(|e| e.id.clone())
        .collect();
    stripe.redeliver(&again).unwrap();
    stripe.redeliver(&again).unwrap();

    let total = i64::try_from(events.len()).unwrap();
    wait_until(WAIT, "every emulator event to be stored", || async {
        (app.stored().await == total).then_some(())
    })
    .await;
    let duplicates = u64::try_from(2 * again.len()).unwrap();
    wait_until(WAIT, "the redeliveries to be answered", || async {
        (app.counter("payment_webhook_events_total", "duplicate").await == duplicates).then_some(())
    })
    .await;
    // Every delivery, first or repeated, was answered 200 on the first attempt.
    let want = events.len() + 2 * again.len();
    let deliveries = wait_until(WAIT, "the emulator to record every delivery", || async {
        let d = stripe.deliveries();
        (d.len() >= want).then_some(d)
    })
    .await;
    assert_eq!(deliveries.len(), want, "no retries were needed");
    assert!(deliveries.iter().all(|d| d.status == Some(200)), "{deliveries:?}");

    let published = app.published().await;
    let expected: Vec<_> = events.iter().filter(|e| expected_type(&e.type_).is_some()).collect();
    assert_eq!(published.len(), expected.len(), "one payment event per handled Stripe event, no duplicates");
    let by_id: HashMap<&str, _> =
        published.iter().map(|p| (p.data["stripe_event_id"].as_str().unwrap(), p)).collect();
    for e in &expected {
        let p = by_id.get(e.id.as_str()).unwrap_or_else(|| panic!("{} ({}) not published", e.id, e.type_));
        assert_eq!(Some(p.event_type.as_str()), expected_type(&e.type_), "{}", e.type_);
        let object = &e.data.object;
        let pi =
            if e.type_.starts_with("payment_intent.") { &object["id"] } else { &object["payment_intent"] };
        assert_eq!(&p.data["payment_intent_id"], pi, "{}", e.type_);
        assert_eq!(p.data["order_id"], order_of_pi[pi.as_str().unwrap()], "{}", e.type_);
        assert_eq!(p.data["amount_cents"], object["amount"], "{}", e.type_);
        assert_eq!(p.data["stripe_created"], e.created, "{}", e.type_);
        if e.type_ == "charge.refunded" {
            assert_eq!(p.data["amount_refunded_cents"], 500);
        }
        if e.type_ == "charge.dispute.closed" {
            assert_eq!(p.data["dispute_id"], object["id"]);
        }
    }
    let kinds: std::collections::BTreeSet<&str> = published.iter().map(|p| p.event_type.as_str()).collect();
    assert_eq!(kinds.len(), 8, "every payment event type was produced: {kinds:?}");
    stripe.stop().await;
}
