//! Idempotency-Key on POSTs: replay of the first response, conflict on different parameters,
//! expiry after 24 hours (emulator clock advanced, no waiting).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use common::Stripe;
use serde_json::json;

const CREATE: &[(&str, &str)] = &[("amount", "2000"), ("currency", "usd"), ("metadata[order_id]", "42")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_same_params_replays_the_first_response() {
    let s = Stripe::start().await;
    let first = s.post_idem("/v1/payment_intents", CREATE, Some("k-1")).await;
    assert_eq!(first.status, 200);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // Parameters in another order are the same parameters.
    let reordered = [CREATE[2], CREATE[0], CREATE[1]];
    let second = s.post_idem("/v1/payment_intents", &reordered, Some("k-1")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(s.event_types(), ["payment_intent.created"], "one PaymentIntent, one event");
    // Without a key, the same request is a new PaymentIntent.
    let third = s.post("/v1/payment_intents", CREATE).await;
    assert_ne!(third.s("/id"), first.s("/id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_different_params_or_endpoint_is_an_idempotency_error() {
    let s = Stripe::start().await;
    let first = s.post_idem("/v1/payment_intents", CREATE, Some("k-2")).await;
    let other =
        s.post_idem("/v1/payment_intents", &[("amount", "2100"), ("currency", "usd")], Some("k-2")).await;
    assert_eq!(other.status, 400);
    assert_eq!(other.s("/error/type"), "idempotency_error");
    assert!(other.s("/error/message").contains("same parameters"));
    let pi = first.s("/id");
    let elsewhere = s.post_idem(&format!("/v1/payment_intents/{pi}/cancel"), &[], Some("k-2")).await;
    assert_eq!(elsewhere.s("/error/type"), "idempotency_error");
    assert_eq!(s.get(&format!("/v1/payment_intents/{pi}")).await.s("/status"), "requires_payment_method");
    // Keys belong to one API key: another account's key is free.
    let other_account = s
        .http
        .post(s.em.url("/v1/payment_intents"))
        .bearer_auth("sk_test_another_account")
        .header("idempotency-key", "k-2")
        .body("amount=2100&currency=usd")
        .send()
        .await
        .unwrap();
    assert_eq!(other_account.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_confirm_is_replayed_with_its_402() {
    let s = Stripe::start().await;
    let pi = s.create_pi(&[]).await.s("/id").to_owned();
    let path = format!("/v1/payment_intents/{pi}/confirm");
    let params = [("payment_method", "pm_card_chargeDeclined")];
    let first = s.post_idem(&path, &params, Some("confirm-1")).await;
    assert_eq!(first.status, 402);
    let again = s.post_idem(&path, &params, Some("confirm-1")).await;
    assert_eq!(again.status, 402);
    assert_eq!(again.body, first.body);
    let failures = s.event_types().iter().filter(|t| *t == "payment_intent.payment_failed").count();
    assert_eq!(failures, 1, "the replay charged nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_are_not_saved_under_the_key() {
    let s = Stripe::start().await;
    let bad = s.post_idem("/v1/payment_intents", &[("amount", "10"), ("currency", "usd")], Some("k-3")).await;
    assert_eq!(bad.status, 400);
    let fixed = s.post_idem("/v1/payment_intents", CREATE, Some("k-3")).await;
    assert_eq!(
        fixed.status, 200,
        "Stripe keeps no result for a request refused by validation: {}",
        fixed.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_after_24_hours() {
    let s = Stripe::start().await;
    let first = s.post_idem("/v1/payment_intents", CREATE, Some("k-4")).await;
    s.control("/_emulator/clock/advance", &json!({"seconds": 23 * 3600})).await;
    let within =
        s.post_idem("/v1/payment_intents", &[("amount", "999"), ("currency", "usd")], Some("k-4")).await;
    assert_eq!(within.s("/error/type"), "idempotency_error", "still remembered after 23 h");
    let advanced = s.control("/_emulator/clock/advance", &json!({"seconds": 3600})).await;
    assert_eq!(advanced.status, 200);
    let after =
        s.post_idem("/v1/payment_intents", &[("amount", "999"), ("currency", "usd")], Some("k-4")).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_ne!(after.s("/id"), first.s("/id"));
    assert_eq!(after.i("/amount"), 999);
    assert!(after.i("/created") >= first.i("/created") + 24 * 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_key_create_one_object() {
    let s = Stripe::start().await;
    let answers = futures_util::future::join_all(
        (0..20).map(|_| s.post_idem("/v1/payment_intents", CREATE, Some("k-5"))),
    )
    .await;
    let ids: std::collections::HashSet<_> = answers.iter().map(|a| a.s("/id").to_owned()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(s.event_types().len(), 1);
}
