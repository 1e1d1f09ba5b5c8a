//! The real async-stripe client against the emulator, for every call the platform makes:
//! its parser accepts what the emulator sends (objects, errors, events), and its request
//! encoding (serde_qs brackets, idempotency header) is what the emulator reads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use std::collections::HashMap;

use common::Stripe;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CancelPaymentIntentCancellationReason, CapturePaymentIntent, ConfirmPaymentIntent,
    CreatePaymentIntent, RetrievePaymentIntent, UpdatePaymentIntent,
};
use stripe_core::refund::{CreateRefund, RetrieveRefund};
use stripe_shared::{
    PaymentIntentAllowedPaymentMethodTypes, PaymentIntentCaptureMethod, PaymentIntentStatus,
};
use stripe_types::Currency;

fn client(s: &Stripe) -> Client {
    ClientBuilder::new(common::KEY).url(format!("{}/", s.em.base_url)).build().expect("client")
}

fn order(id: &str) -> HashMap<String, String> {
    HashMap::from([("order_id".to_owned(), id.to_owned())])
}

fn idempotent(key: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(key).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_confirm_retrieve_refund_round_trip() {
    let s = Stripe::start().await;
    let c = client(&s);
    let created = CreatePaymentIntent::new(2599, Currency::USD)
        .metadata(order("42"))
        .allowed_payment_method_types(vec![PaymentIntentAllowedPaymentMethodTypes::Card])
        .customize()
        .request_strategy(idempotent("order-42-payment"))
        .send(&c)
        .await
        .expect("create");
    assert_eq!(created.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert_eq!(created.amount, 2599);
    assert_eq!(created.currency, Currency::USD);
    assert_eq!(created.metadata.get("order_id").map(String::as_str), Some("42"));
    let secret = created.client_secret.clone().expect("client_secret");
    assert!(secret.starts_with(created.id.as_str()));

    // The same idempotency key replays the same object.
    let replay = CreatePaymentIntent::new(2599, Currency::USD)
        .metadata(order("42"))
        .allowed_payment_method_types(vec![PaymentIntentAllowedPaymentMethodTypes::Card])
        .customize()
        .request_strategy(idempotent("order-42-payment"))
        .send(&c)
        .await
        .expect("replay");
    assert_eq!(replay.id, created.id);

    let confirmed =
        ConfirmPaymentIntent::new(created.id.clone()).payment_method("pm_card_visa").send(&c).await.unwrap();
    assert_eq!(confirmed.status, PaymentIntentStatus::Succeeded);
    assert_eq!(confirmed.amount_received, 2599);
    assert!(confirmed.latest_charge.is_some());

    let fetched = RetrievePaymentIntent::new(created.id.clone()).send(&c).await.unwrap();
    assert_eq!(fetched.status, PaymentIntentStatus::Succeeded);
    assert_eq!(fetched.metadata.get("order_id").map(String::as_str), Some("42"));

    let partial = CreateRefund::new()
        .payment_intent(created.id.as_str())
        .amount(1000)
        .customize()
        .request_strategy(idempotent("order-42-refund-1"))
        .send(&c)
        .await
        .expect("refund");
    assert_eq!(partial.amount, 1000);
    assert_eq!(partial.status.as_deref(), Some("succeeded"));
    let again = CreateRefund::new()
        .payment_intent(created.id.as_str())
        .amount(1000)
        .customize()
        .request_strategy(idempotent("order-42-refund-1"))
        .send(&c)
        .await
        .unwrap();
    assert_eq!(again.id, partial.id, "replayed, not refunded twice");
    let rest = CreateRefund::new().payment_intent(created.id.as_str()).send(&c).await.unwrap();
    assert_eq!(rest.amount, 1599, "the default refunds what is left");
    let fetched = RetrieveRefund::new(rest.id.clone()).send(&c).await.unwrap();
    assert_eq!(fetched.id, rest.id);

    let over = CreateRefund::new().payment_intent(created.id.as_str()).amount(1).send(&c).await;
    match over {
        Err(StripeError::Stripe(e, 400)) => {
            assert_eq!(e.code.map(|c| c.as_str().to_owned()).as_deref(), Some("charge_already_refunded"));
        }
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_is_a_402_card_error_in_the_client() {
    let s = Stripe::start().await;
    let c = client(&s);
    let pi = CreatePaymentIntent::new(2000, Currency::EUR).metadata(order("7")).send(&c).await.unwrap();
    let err =
        ConfirmPaymentIntent::new(pi.id.clone()).payment_method("pm_card_chargeDeclined").send(&c).await;
    let Err(StripeError::Stripe(e, status)) = err else { panic!("expected a Stripe error, got {err:?}") };
    assert_eq!(status, 402);
    assert_eq!(e.type_.as_str(), "card_error");
    assert_eq!(e.code.map(|c| c.as_str().to_owned()).as_deref(), Some("card_declined"));
    assert_eq!(e.decline_code.as_deref(), Some("generic_decline"));
    let embedded = e.payment_intent.expect("the PaymentIntent rides along in the error");
    assert_eq!(embedded.id, pi.id);
    assert_eq!(embedded.status, PaymentIntentStatus::RequiresPaymentMethod);
    let last = embedded.last_payment_error.expect("last_payment_error");
    assert_eq!(last.code.map(|c| c.as_str().to_owned()).as_deref(), Some("card_declined"));

    let missing = RetrievePaymentIntent::new("pi_does_not_exist").send(&c).await;
    assert!(matches!(missing, Err(StripeError::Stripe(_, 404))), "{missing:?}");
    // A base URL without a trailing slash works too (hyper's Uri adds the `/`).
    let bad_key = ClientBuilder::new("sk_live_nope").url(s.em.base_url.clone()).build().unwrap();
    let unauthorised = RetrievePaymentIntent::new(pi.id.clone()).send(&bad_key).await;
    assert!(matches!(unauthorised, Err(StripeError::Stripe(_, 401))), "{unauthorised:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_d_secure_cancel_capture_and_update_through_the_client() {
    let s = Stripe::start().await;
    let c = client(&s);
    let pi = CreatePaymentIntent::new(5000, Currency::GBP)
        .metadata(order("8"))
        .payment_method("pm_card_threeDSecure2Required")
        .confirm(true)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(pi.status, PaymentIntentStatus::RequiresAction);
    let next = pi.next_action.expect("next_action");
    assert_eq!(next.type_, "use_stripe_sdk");
    let canceled = CancelPaymentIntent::new(pi.id.clone())
        .cancellation_reason(CancelPaymentIntentCancellationReason::RequestedByCustomer)
        .send(&c)
        .await
        .unwrap();
    assert_eq!(canceled.status, PaymentIntentStatus::Canceled);
    assert!(canceled.canceled_at.is_some());

    let held = CreatePaymentIntent::new(3000, Currency::USD)
        .capture_method(PaymentIntentCaptureMethod::Manual)
        .send(&c)
        .await
        .unwrap();
    let held =
        UpdatePaymentIntent::new(held.id.clone()).amount(3500).metadata(order("9")).send(&c).await.unwrap();
    assert_eq!(held.amount, 3500);
    let held =
        ConfirmPaymentIntent::new(held.id.clone()).payment_method("pm_card_visa").send(&c).await.unwrap();
    assert_eq!(held.status, PaymentIntentStatus::RequiresCapture);
    assert_eq!(held.amount_capturable, 3500);
    let captured = CapturePaymentIntent::new(held.id.clone()).amount_to_capture(3000).send(&c).await.unwrap();
    assert_eq!(captured.status, PaymentIntentStatus::Succeeded);
    assert_eq!(captured.amount_received, 3000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_emitted_event_and_object_parses_as_async_stripe_types() {
    let s = Stripe::start().await;
    for t in stripe_emulator::trigger::SUPPORTED {
        let r = s
            .control("/_emulator/trigger", &serde_json::json!({"type": t, "metadata": {"order_id": "1"}}))
            .await;
        assert_eq!(r.status, 200, "{t}: {}", r.body);
    }
    let events = s.em.events();
    assert!(events.len() > 30);
    // The check below can fail: a charge without its required fields does not parse.
    assert!(
        miniserde::json::from_str::<stripe_shared::Charge>(r#"{"id":"ch_1","object":"charge"}"#).is_err()
    );
    for event in &events {
        // The wire form exactly as delivered to webhooks.
        let wire = serde_json::to_string_pretty(event).unwrap();
        let parsed: stripe_shared::Event = miniserde::json::from_str(&wire)
            .unwrap_or_else(|_| panic!("{} does not parse as an Event", event.type_));
        assert_eq!(parsed.id.as_str(), event.id);
        let object = serde_json::to_string(&event.data.object).unwrap();
        let kind = event.data.object["object"].as_str().unwrap();
        let ok = match kind {
            "payment_intent" => miniserde::json::from_str::<stripe_shared::PaymentIntent>(&object).is_ok(),
            "charge" => miniserde::json::from_str::<stripe_shared::Charge>(&object).is_ok(),
            "refund" => miniserde::json::from_str::<stripe_shared::Refund>(&object).is_ok(),
            "dispute" => miniserde::json::from_str::<stripe_shared::Dispute>(&object).is_ok(),
            other => panic!("unexpected object {other}"),
        };
        assert!(ok, "{} ({kind}) does not parse: {object}", event.type_);
    }
}
