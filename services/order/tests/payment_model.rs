//! Model-based test of the payment rule (issue 16, ADR 0071): sequences of Stripe actions
//! (confirm, decline, 3-D Secure, full and partial manual capture, an amount update, refunds,
//! disputes won or lost) are played against the emulator; their webhooks are delivered to the
//! order service reordered, duplicated and dropped (followed by a reconciliation when any was
//! dropped); the order's final payment must equal a model computed from the emulator's final
//! objects. `PAYMENT_MODEL_CASES` sets how many random sequences run after the fixed ones
//! (default 24; `make test-long` runs 300); the seed is fixed, so a failure repeats.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Who, World, checkout_body};
use domain::events::{Envelope, OrderPaid};
use domain::ids::OrderId;
use order::payments::sync::{self, Origin};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Value, json};
use stripe_core::payment_intent::{CapturePaymentIntent, UpdatePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_shared::PaymentIntentCaptureMethod;

/// How the customer pays.
#[derive(Debug, Clone)]
enum Payment {
    Visa,
    Declined,
    DeclinedThenVisa,
    ThreeDsCompleted,
    ThreeDsAbandoned,
    ManualUncaptured,
    ManualCaptured { percent: u8 },
    Disputed { closed: Option<bool> },
}

/// A change to the PaymentIntent's amount before it is confirmed (through Stripe's API).
#[derive(Debug, Clone, Copy)]
enum AmountChange {
    Same,
    Lower,
    Higher,
}

/// One sequence: Stripe actions, then how the webhooks travel.
#[derive(Debug, Clone)]
struct Plan {
    amount: AmountChange,
    payment: Payment,
    /// Refunds made at Stripe after the payment, each a percentage of what is left (100 = all).
    refunds: Vec<u8>,
    /// Delivery order keys, one per event (events sorted by key).
    order: Vec<u16>,
    /// Events delivered twice.
    duplicated: Vec<bool>,
    /// Events never delivered.
    dropped: Vec<bool>,
}

fn payment() -> impl Strategy<Value = Payment> {
    prop_oneof![
        4 => Just(Payment::Visa),
        1 => Just(Payment::Declined),
        2 => Just(Payment::DeclinedThenVisa),
        2 => Just(Payment::ThreeDsCompleted),
        1 => Just(Payment::ThreeDsAbandoned),
        1 => Just(Payment::ManualUncaptured),
        2 => (1u8..=100).prop_map(|percent| Payment::ManualCaptured { percent }),
        2 => prop_oneof![Just(None), Just(Some(true)), Just(Some(false))].prop_map(|closed| Payment::Disputed { closed }),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let amount = prop_oneof![6 => Just(AmountChange::Same), 1 => Just(AmountChange::Lower), 1 => Just(AmountChange::Higher)];
    let refund = prop_oneof![Just(100u8), 1u8..100];
    (
        amount,
        payment(),
        prop::collection::vec(refund, 0..3),
        prop::collection::vec(any::<u16>(), 16),
        prop::collection::vec(prop::bool::weighted(0.2), 16),
        prop::collection::vec(prop::bool::weighted(0.15), 16),
    )
        .prop_map(|(amount, payment, refunds, order, duplicated, dropped)| Plan {
            amount,
            payment,
            refunds,
            order,
            duplicated,
            dropped,
        })
}

/// The three cases, always run first: a refund delivered before the payment, an amount
/// updated through the API, a partial manual capture.
fn fixed_plans() -> Vec<Plan> {
    let base = Plan {
        amount: AmountChange::Same,
        payment: Payment::Visa,
        refunds: vec![],
        order: (0..16).collect(),
        duplicated: vec![false; 16],
        dropped: vec![false; 16],
    };
    // The Visa payment emits payment_intent.succeeded and charge.succeeded (0, 1); the refund's
    // charge.refunded (and refund.created) come after: delivered first by giving them low keys.
    let refund_first = Plan {
        refunds: vec![100],
        order: vec![10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15],
        ..base.clone()
    };
    let amount = Plan { amount: AmountChange::Lower, ..base.clone() };
    let partial = Plan { payment: Payment::ManualCaptured { percent: 25 }, ..base.clone() };
    let duplicated = Plan { refunds: vec![40, 100], duplicated: vec![true; 16], ..base };
    vec![refund_first, amount, partial, duplicated]
}

static CASE: AtomicUsize = AtomicUsize::new(0);

/// What the emulator holds, read over its HTTP API (not through the service's code).
async fn stripe_get(w: &World, path: &str) -> Value {
    let res =
        reqwest::Client::new().get(w.stripe.url(path)).bearer_auth("sk_test_order").send().await.unwrap();
    res.json().await.unwrap()
}

/// The order's payment as the model computes it from Stripe's final objects.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    payment_status: String,
    amount_paid: i64,
    amount_refunded: i64,
    disputed: bool,
    /// `None` when either outcome is right (a full refund before or after paying).
    status: Option<String>,
    needs_attention: bool,
}

async fn model(w: &World, pi: &str, total: i64) -> Expected {
    let intent = stripe_get(w, &format!("/v1/payment_intents/{pi}")).await;
    let received = intent["amount_received"].as_i64().unwrap();
    let (captured, refunded) = match intent["latest_charge"].as_str() {
        Some(ch) if received > 0 => {
            let c = stripe_get(w, &format!("/v1/charges/{ch}")).await;
            let amount = c["amount"].as_i64().unwrap();
            let cap = c["amount_captured"].as_i64().unwrap();
            (cap, (c["amount_refunded"].as_i64().unwrap() - (amount - cap)).clamp(0, cap))
        }
        _ => (0, 0),
    };
    let listed = stripe_get(w, &format!("/v1/disputes?payment_intent={pi}")).await;
    let disputed = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| !matches!(d["status"].as_str(), Some("won" | "lost" | "warning_closed")));
    let status = intent["status"].as_str().unwrap();
    let payment_status = if captured > 0 {
        match refunded {
            0 => "completed",
            r if r < captured => "partially_refunded",
            _ => "refunded",
        }
    } else {
        match status {
            "processing" | "requires_capture" => "processing",
            "canceled" => "failed",
            "requires_payment_method" if !intent["last_payment_error"].is_null() => "failed",
            _ => "pending",
        }
    };
    let matches = captured == total && intent["currency"] == "usd";
    let (status, needs_attention) = if captured == 0 {
        (Some("pending_payment".to_owned()), false)
    } else if !matches {
        (Some("canceled".to_owned()), true)
    } else if refunded < captured {
        (Some("paid".to_owned()), false)
    } else {
        (None, false)
    };
    Expected {
        payment_status: payment_status.into(),
        amount_paid: captured,
        amount_refunded: refunded,
        disputed,
        status,
        needs_attention,
    }
}

async fn control(w: &World, path: &str, body: Value) {
    let res = reqwest::Client::new().post(w.stripe.url(path)).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
}

/// Plays `plan`'s Stripe actions for a new order; returns (number, order id, pi, total).
async fn act(w: &World, plan: &Plan) -> (String, i64, String, i64) {
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let customer = format!("model-{case}");
    let product = w.product(&format!("SKU-MODEL-{case}"), 2000, 1000);
    let (cart, _) = w.cart(Some(&customer), &[(product, 2)]);
    let (status, body) =
        w.checkout(&Who::Customer(customer.clone()), &format!("key-{case}"), &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    let number = body["order_number"].as_str().unwrap().to_owned();
    let pi = body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    let row = w.order_row(&number).await;
    let c = &w.stripe_client;
    match plan.amount {
        AmountChange::Same => {}
        AmountChange::Lower => {
            drop(UpdatePaymentIntent::new(pi.as_str()).amount(row.total_cents - 300).send(c).await.unwrap());
        }
        AmountChange::Higher => {
            drop(UpdatePaymentIntent::new(pi.as_str()).amount(row.total_cents + 500).send(c).await.unwrap());
        }
    }
    match &plan.payment {
        Payment::Visa => drop(w.confirm(&pi, "pm_card_visa").await.unwrap()),
        Payment::Declined => drop(w.confirm(&pi, "pm_card_chargeDeclined").await),
        Payment::DeclinedThenVisa => {
            drop(w.confirm(&pi, "pm_card_chargeDeclined").await);
            drop(w.confirm(&pi, "pm_card_visa").await.unwrap());
        }
        Payment::ThreeDsCompleted | Payment::ThreeDsAbandoned => {
            drop(w.confirm(&pi, "pm_card_threeDSecure2Required").await.unwrap());
            if matches!(plan.payment, Payment::ThreeDsCompleted) {
                control(
                    w,
                    &format!("/_emulator/payment_intents/{pi}/authenticate"),
                    json!({"outcome": "complete"}),
                )
                .await;
            }
        }
        Payment::ManualUncaptured | Payment::ManualCaptured { .. } => {
            UpdatePaymentIntent::new(pi.as_str())
                .capture_method(PaymentIntentCaptureMethod::Manual)
                .send(c)
                .await
                .unwrap();
            let held = w.confirm(&pi, "pm_card_visa").await.unwrap();
            if let Payment::ManualCaptured { percent } = plan.payment {
                let amount =
                    (held.amount_capturable * i64::from(percent) / 100).max(50).min(held.amount_capturable);
                CapturePaymentIntent::new(pi.as_str()).amount_to_capture(amount).send(c).await.unwrap();
            }
        }
        Payment::Disputed { closed } => {
            drop(w.confirm(&pi, "pm_card_createDispute").await.unwrap());
            if let Some(won) = closed {
                let list = stripe_get(w, &format!("/v1/disputes?payment_intent={pi}")).await;
                let id = list["data"][0]["id"].as_str().unwrap().to_owned();
                let outcome = if *won { "won" } else { "lost" };
                control(w, &format!("/_emulator/disputes/{id}/close"), json!({"outcome": outcome})).await;
            }
        }
    }
    for percent in &plan.refunds {
        let m = model(w, &pi, row.total_cents).await;
        let left = m.amount_paid - m.amount_refunded;
        if left <= 0 {
            break;
        }
        let amount = (left * i64::from(*percent) / 100).max(1);
        // A disputed charge may refuse: that is Stripe's answer, and the model reads it back.
        drop(CreateRefund::new().payment_intent(pi.as_str()).amount(amount).send(c).await);
    }
    (number, row.id, pi, row.total_cents)
}

/// Delivers this case's webhooks as `plan` says; `true` when any was dropped.
async fn deliver(w: &World, plan: &Plan) -> (Vec<Envelope>, bool) {
    let events = w.take_stripe_events();
    let mut queue = Vec::new();
    let mut dropped = false;
    for (i, e) in events.iter().enumerate() {
        let k = i % plan.order.len();
        if plan.dropped[k] {
            dropped = true;
            continue;
        }
        queue.push((plan.order[k], i, e));
        if plan.duplicated[k] {
            queue.push((plan.order[k].wrapping_add(7919), i, e));
        }
    }
    queue.sort_by_key(|(key, i, _)| (*key, *i));
    let mut out = Vec::new();
    for (_, _, e) in queue {
        out.extend(w.forward_event(e).await);
    }
    (out, dropped)
}

async fn run_case(w: &World, plan: &Plan) -> Result<(), String> {
    let (number, id, pi, total) = act(w, plan).await;
    let (delivered, dropped) = deliver(w, plan).await;
    w.wait_synced(&delivered).await;
    if dropped {
        // Lost webhooks: the reconciliation reads Stripe.
        sync::sync(&w.state, OrderId(id), Origin::Reconcile).await.map_err(|e| e.to_string())?;
    }
    let expected = model(w, &pi, total).await;
    let row = w.order_row(&number).await;
    let actual = Expected {
        payment_status: row.payment_status.clone(),
        amount_paid: row.amount_paid_cents,
        amount_refunded: row.amount_refunded_cents,
        disputed: row.disputed,
        status: expected.status.as_ref().map(|_| row.status.clone()),
        needs_attention: row.needs_attention,
    };
    if actual != expected {
        return Err(format!("order {number} ({plan:?}):\n  expected {expected:?}\n  actual   {actual:?}"));
    }
    if expected.status.is_none() && !matches!(row.status.as_str(), "paid" | "canceled") {
        return Err(format!("order {number}: fully refunded, yet {}", row.status));
    }
    let paid_events =
        w.order_events().await.iter().filter(|e| e.is::<OrderPaid>() && e.data["order_id"] == id).count();
    let want = usize::from(row.status == "paid");
    if paid_events != want {
        return Err(format!("order {number} is {} but had {paid_events} order.paid", row.status));
    }
    Ok(())
}

#[test]
fn the_order_follows_stripes_objects_whatever_the_deliveries() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let w = rt.block_on(common::spawn());
    for plan in fixed_plans() {
        rt.block_on(run_case(&w, &plan)).unwrap_or_else(|e| panic!("{e}"));
    }
    let cases = std::env::var("PAYMENT_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 16, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[16; 32]));
    let result = runner.run(&plan(), |plan| rt.block_on(run_case(&w, &plan)).map_err(TestCaseError::fail));
    eprintln!("payment model: {} fixed + {cases} random sequences", fixed_plans().len());
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(w.stop());
}
