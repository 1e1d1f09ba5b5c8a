//! Webhook delivery: Stripe's Event shape, signatures that `domain::stripe_signature` verifies,
//! retries with back-off after failures, duplicates, out-of-order delivery, trigger.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use std::collections::HashSet;

use common::{DEADLINE, Received, Receiver, Stripe};
use domain::stripe_signature::{self, DEFAULT_TOLERANCE_SECS, SignatureError};
use serde_json::{Value, json};
use stripe_emulator::trigger::TriggerRequest;

const SECRET: &str = "whsec_test_secret";

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_signed_and_shaped_like_stripe() {
    let hook = Receiver::start(0);
    let s = Stripe::with_endpoint(hook.url(), SECRET, 3).await;
    let pi = s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    let got = hook.wait_for_ok(3).await;
    let types: Vec<_> = got.iter().map(|r| r.type_().to_owned()).collect();
    assert_eq!(types, ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"], "in order");
    for r in &got {
        let verified =
            stripe_signature::verify(&r.signature, &r.body, &[SECRET], now(), DEFAULT_TOLERANCE_SECS);
        assert!(verified.is_ok(), "{verified:?}");
        assert_eq!(
            stripe_signature::verify(&r.signature, &r.body, &["whsec_other"], now(), DEFAULT_TOLERANCE_SECS),
            Err(SignatureError::Mismatch)
        );
        let mut tampered = r.body.clone();
        tampered.push(b' ');
        assert!(
            stripe_signature::verify(&r.signature, &tampered, &[SECRET], now(), DEFAULT_TOLERANCE_SECS)
                .is_err()
        );
        let e = &r.event;
        assert!(e["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(e["object"], "event");
        assert_eq!(e["livemode"], json!(false));
        assert_eq!(e["pending_webhooks"], json!(1));
        assert!(e["created"].as_i64().unwrap() > 1_700_000_000);
        assert!(e["api_version"].as_str().unwrap().starts_with("20"));
        assert!(e["request"]["id"].as_str().unwrap().starts_with("req_"));
    }
    let succeeded = &got[2].event["data"]["object"];
    assert_eq!(succeeded["id"], json!(pi.s("/id")));
    assert_eq!(succeeded["status"], "succeeded");
    assert_eq!(succeeded["metadata"]["order_id"], "42");
    assert_eq!(succeeded["amount"], 2000);
    assert_eq!(succeeded["currency"], "usd");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_gets_retries_until_it_answers_2xx() {
    let hook = Receiver::start(2);
    let s = Stripe::with_endpoint(hook.url(), SECRET, 5).await;
    s.create_pi(&[]).await;
    let got = hook.wait_for_ok(1).await;
    assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(got.iter().all(|r| r.id() == got[0].id()), "the same event each time");
    let attempts = s.em.deliveries();
    assert_eq!(attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(500), Some(500), Some(200)]);
    assert!(attempts[2].succeeded && !attempts[0].succeeded);
    // Each retry is signed afresh and still verifies.
    for r in &got {
        assert!(
            stripe_signature::verify(&r.signature, &r.body, &[SECRET], now(), DEFAULT_TOLERANCE_SECS).is_ok()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_retried_a_bounded_number_of_times() {
    // A port nobody listens on: bind, note it, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let s = Stripe::with_endpoint(format!("http://{closed}/hook"), SECRET, 3).await;
    s.create_pi(&[]).await;
    let attempts = testkit::wait_until(DEADLINE, "3 failed attempts", || async {
        let a = s.em.deliveries();
        (a.len() >= 3).then_some(a)
    })
    .await;
    assert!(attempts.iter().all(|a| a.status.is_none() && a.error.is_some() && !a.succeeded));
    assert_eq!(attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_delivers_duplicates_and_deliver_takes_any_order() {
    let s = Stripe::start().await;
    // Events happen before the endpoint exists, so only the control calls deliver them.
    s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    let ids: Vec<String> = s.em.events().into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 3);
    let hook = Receiver::start(0);
    let endpoint = s.control("/_emulator/webhook_endpoints", &json!({"url": hook.url()})).await;
    let secret = endpoint.s("/secret").to_owned();
    assert!(secret.starts_with("whsec_"));

    let reversed: Vec<&String> = ids.iter().rev().collect();
    let r = s.control("/_emulator/deliver", &json!({"events": reversed})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let got = hook.wait_for_ok(3).await;
    assert_eq!(
        got.iter().map(Received::id).collect::<Vec<_>>(),
        reversed.iter().map(|s| s.as_str()).collect::<Vec<_>>()
    );

    let dup = s.control(&format!("/_emulator/events/{}/resend", ids[2]), &json!({"times": 2})).await;
    assert_eq!(dup.status, 202);
    let got = hook.wait_for_ok(5).await;
    assert_eq!(got.iter().filter(|r| r.id() == ids[2]).count(), 3, "two duplicates of the last event");
    assert_eq!(got.iter().map(Received::id).collect::<HashSet<_>>().len(), 3);
    for r in &got {
        assert!(
            stripe_signature::verify(&r.signature, &r.body, &[&secret], now(), DEFAULT_TOLERANCE_SECS)
                .is_ok()
        );
    }
    let missing = s.control("/_emulator/events/evt_nope/resend", &json!({})).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_runs_the_flow_or_replays_about_a_payment_intent() {
    let hook = Receiver::start(0);
    let s = Stripe::with_endpoint(hook.url(), SECRET, 3).await;
    let t = s
        .control(
            "/_emulator/trigger",
            &json!({"type": "payment_intent.succeeded", "metadata": {"order_id": "77"}}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let pi = t.s("/payment_intent").to_owned();
    assert_eq!(t.body["events"].as_array().unwrap().len(), 3);
    let got = hook.wait_for_ok(3).await;
    let last = &got[2].event;
    assert_eq!(last["type"], "payment_intent.succeeded");
    assert_eq!(last["data"]["object"]["metadata"]["order_id"], "77");
    assert_eq!(last["request"]["id"], Value::Null, "no API request caused it");

    let again = s
        .control("/_emulator/trigger", &json!({"type": "payment_intent.succeeded", "payment_intent": pi}))
        .await;
    assert_eq!(again.body["events"].as_array().unwrap().len(), 1);
    let got = hook.wait_for_ok(4).await;
    assert_eq!(got[3].event["data"]["object"]["id"], json!(pi));
    assert_ne!(got[3].id(), got[2].id(), "a new event about the same PaymentIntent");

    for t in stripe_emulator::trigger::SUPPORTED {
        let r = s.control("/_emulator/trigger", &json!({"type": t, "metadata": {"order_id": "9"}})).await;
        assert_eq!(r.status, 200, "{t}: {}", r.body);
        let produced: Vec<String> =
            r.body["events"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        let types: Vec<String> =
            s.em.events().into_iter().filter(|e| produced.contains(&e.id)).map(|e| e.type_).collect();
        assert!(types.iter().any(|x| x == t), "{t} not among {types:?}");
    }
    let bad = s.control("/_emulator/trigger", &json!({"type": "invoice.paid"})).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_triggers_against_a_running_emulator() {
    let s = Stripe::start().await;
    let base = s.em.base_url.clone();
    let out = cli(&[
        "trigger",
        "charge.refunded",
        "--metadata",
        "order_id=5",
        "--refund-amount",
        "500",
        "--emulator-url",
        &base,
    ])
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let refunded = s.em.events().into_iter().find(|e| e.type_ == "charge.refunded").unwrap();
    assert_eq!(refunded.data.object["amount_refunded"], 500);
    assert_eq!(refunded.data.object["metadata"]["order_id"], "5");
    assert!(answer["events"].as_array().unwrap().iter().any(|e| e == &json!(refunded.id)));
    let resend = cli(&["resend", &refunded.id, "--emulator-url", &base]).await;
    assert!(resend.status.success());
    let bad = cli(&["trigger", "nope.nothing", "--emulator-url", &base]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Unsupported event type"));
}

/// Runs the binary (off the async threads: it blocks until the process exits).
async fn cli(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_stripe-emulator")).args(&args).output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_gets_every_event_and_a_failing_one_holds_up_no_other() {
    let good = Receiver::start(0);
    let broken = Receiver::start(usize::MAX);
    let s = Stripe::with_endpoint(good.url(), SECRET, 3).await;
    let broken_endpoint = s.em.add_webhook_endpoint(&broken.url(), Some("whsec_broken".to_owned()));
    let req = TriggerRequest {
        type_: "payment_intent.succeeded".to_owned(),
        metadata: [("order_id".to_owned(), "5".to_owned())].into(),
        ..TriggerRequest::default()
    };
    let (_pi, ids) = s.em.trigger(&req).unwrap();
    let got = good.wait_for_ok(3).await;
    assert_eq!(
        got.iter().map(Received::id).collect::<Vec<_>>(),
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|r| r.event["pending_webhooks"] == 2));
    // The broken endpoint gets each event three times (1 + 2 retries), then no more.
    let attempts = testkit::wait_until(DEADLINE, "3 attempts per event at the broken endpoint", || async {
        let a: Vec<_> =
            s.em.deliveries().into_iter().filter(|a| a.endpoint_id == broken_endpoint.id).collect();
        (a.len() >= 9).then_some(a)
    })
    .await;
    assert_eq!(attempts.len(), 9, "bounded: never more than max_attempts per event");
    assert!(attempts.iter().all(|a| a.status == Some(500) && !a.succeeded));
    for r in broken.received() {
        assert!(
            stripe_signature::verify(&r.signature, &r.body, &["whsec_broken"], now(), DEFAULT_TOLERANCE_SECS)
                .is_ok()
        );
        assert!(
            stripe_signature::verify(&r.signature, &r.body, &[SECRET], now(), DEFAULT_TOLERANCE_SECS)
                .is_err()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_from_stripes_api_get_only_their_enabled_events() {
    let hook = Receiver::start(0);
    let s = Stripe::start().await;
    let missing = s.post("/v1/webhook_endpoints", &[("url", &hook.url())]).await;
    assert_eq!(missing.s("/error/code"), "parameter_missing");
    let created = s
        .post(
            "/v1/webhook_endpoints",
            &[
                ("url", &hook.url()),
                ("enabled_events[]", "payment_intent.succeeded"),
                ("description", "shop"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.s("/object"), "webhook_endpoint");
    let secret = created.s("/secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created.s("/id").to_owned();
    let fetched = s.get(&format!("/v1/webhook_endpoints/{id}")).await;
    assert_eq!(fetched.body["secret"], Value::Null, "the secret is shown only at creation");
    assert_eq!(fetched.s("/description"), "shop");

    s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    let got = hook.wait_for_ok(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].type_(), "payment_intent.succeeded");
    assert!(
        stripe_signature::verify(&got[0].signature, &got[0].body, &[&secret], now(), DEFAULT_TOLERANCE_SECS)
            .is_ok()
    );
    let pending: Vec<usize> = s.em.events().iter().map(|e| e.pending_webhooks).collect();
    assert_eq!(pending, [0, 0, 1], "only payment_intent.succeeded is pending for the endpoint");

    let deleted = s
        .http
        .delete(s.em.url(&format!("/v1/webhook_endpoints/{id}")))
        .bearer_auth(common::KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(s.get(&format!("/v1/webhook_endpoints/{id}")).await.status, 404);
    s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    assert!(s.em.events().iter().skip(3).all(|e| e.pending_webhooks == 0));
}
