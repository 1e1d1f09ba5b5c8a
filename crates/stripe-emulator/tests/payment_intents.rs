//! PaymentIntents over HTTP: every status path, validation, auth and Stripe's error shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use common::Stripe;
use serde_json::json;

/// (params, expected error code, expected param)
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_keeps_metadata_and_gives_a_client_secret() {
    let s = Stripe::start().await;
    let pi = s.create_pi(&[("description", "order 42"), ("payment_method_types[]", "card")]).await;
    assert_eq!(pi.status, 200, "{}", pi.body);
    let id = pi.s("/id").to_owned();
    assert!(id.starts_with("pi_"));
    assert!(pi.s("/client_secret").starts_with(&format!("{id}_secret_")));
    assert_eq!(pi.s("/object"), "payment_intent");
    assert_eq!(pi.s("/status"), "requires_payment_method");
    assert_eq!(pi.s("/metadata/order_id"), "42");
    assert_eq!(pi.i("/amount"), 2000);
    assert_eq!(pi.s("/currency"), "usd");
    assert_eq!(pi.body["livemode"], json!(false));
    assert_eq!(pi.body["payment_method_types"], json!(["card"]));
    assert!(pi.headers.get("request-id").is_some());

    let got = s.get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, pi.body);
    assert_eq!(s.event_types(), ["payment_intent.created"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amount_and_currency_are_validated_like_stripe() {
    let s = Stripe::start().await;
    let cases: &[Case] = &[
        (&[("currency", "usd")], "parameter_missing", "amount"),
        (&[("amount", "2000")], "parameter_missing", "currency"),
        (&[("amount", "49"), ("currency", "usd")], "amount_too_small", "amount"),
        (&[("amount", "0"), ("currency", "usd")], "parameter_invalid_integer", "amount"),
        (&[("amount", "-5"), ("currency", "usd")], "parameter_invalid_integer", "amount"),
        (&[("amount", "12.5"), ("currency", "usd")], "parameter_invalid_integer", "amount"),
        (&[("amount", "100000000"), ("currency", "usd")], "amount_too_large", "amount"),
        (&[("amount", "2000"), ("currency", "usd"), ("colour", "red")], "parameter_unknown", "colour"),
        (
            &[("amount", "2000"), ("currency", "usd"), ("payment_method", "pm_nope")],
            "resource_missing",
            "payment_method",
        ),
    ];
    for (params, code, param) in cases {
        let r = s.post("/v1/payment_intents", params).await;
        assert_eq!(r.status, 400, "{params:?}: {}", r.body);
        assert_eq!(r.s("/error/type"), "invalid_request_error");
        assert_eq!(r.s("/error/code"), *code, "{params:?}: {}", r.body);
        assert_eq!(r.s("/error/param"), *param);
        assert!(!r.s("/error/message").is_empty());
    }
    let small = s.post("/v1/payment_intents", &[("amount", "49"), ("currency", "usd")]).await;
    assert_eq!(small.s("/error/message"), "Amount must be at least $0.50 usd");
    let bad_currency = s.post("/v1/payment_intents", &[("amount", "2000"), ("currency", "xyz")]).await;
    assert_eq!(bad_currency.status, 400);
    assert_eq!(bad_currency.s("/error/param"), "currency");
    // GBP's minimum is 30 pence, so 30 is fine there.
    assert_eq!(s.post("/v1/payment_intents", &[("amount", "30"), ("currency", "gbp")]).await.status, 200);
    assert_eq!(s.event_types(), ["payment_intent.created"], "refused requests create nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_with_a_test_secret_key() {
    let s = Stripe::start().await;
    let url = s.em.url("/v1/payment_intents");
    let none = s.http.post(&url).body("amount=2000&currency=usd").send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("did not provide an API key"));
    for key in ["sk_live_abcdef", "pk_live_abcdef", "sk_test_"] {
        let r = s.http.post(&url).bearer_auth(key).body("amount=2000&currency=usd").send().await.unwrap();
        assert_eq!(r.status(), 401, "{key}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().starts_with("Invalid API Key provided"));
    }
    // A publishable key is a key, but not for this call (tests/browser.rs: what it may do).
    let r = s
        .http
        .post(&url)
        .bearer_auth("pk_test_abcdef")
        .body("amount=2000&currency=usd")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot be made with a publishable API key"));
    // HTTP Basic with the key as user name, as in Stripe's curl examples.
    let basic = s
        .http
        .get(s.em.url("/v1/payment_intents/pi_x"))
        .basic_auth(common::KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 404, "authenticated, then not found");
    let unknown = s.get("/v1/customers").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.s("/error/type"), "invalid_request_error");
    let wrong_method =
        s.http.delete(s.em.url("/v1/payment_intents/pi_x")).bearer_auth(common::KEY).send().await.unwrap();
    assert_eq!(wrong_method.status(), 404);
    let body: serde_json::Value = wrong_method.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL (DELETE: /v1/payment_intents/pi_x)")
    );
    let missing = s.get("/v1/payment_intents/pi_missing").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.s("/error/code"), "resource_missing");
    assert_eq!(missing.s("/error/message"), "No such payment_intent: 'pi_missing'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visa_confirm_succeeds_with_a_charge() {
    let s = Stripe::start().await;
    let id = s.create_pi(&[("payment_method", "pm_card_visa")]).await.s("/id").to_owned();
    assert_eq!(s.get(&format!("/v1/payment_intents/{id}")).await.s("/status"), "requires_confirmation");
    let pi = s.post(&format!("/v1/payment_intents/{id}/confirm"), &[]).await;
    assert_eq!(pi.status, 200, "{}", pi.body);
    assert_eq!(pi.s("/status"), "succeeded");
    assert_eq!(pi.i("/amount_received"), 2000);
    let charge_id = pi.s("/latest_charge").to_owned();
    assert!(charge_id.starts_with("ch_"));
    let charge = s.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge.s("/status"), "succeeded");
    assert_eq!(charge.i("/amount_captured"), 2000);
    assert_eq!(charge.s("/payment_intent"), id);
    assert_eq!(charge.s("/metadata/order_id"), "42");
    assert_eq!(s.event_types(), ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]);
    let again = s.post(&format!("/v1/payment_intents/{id}/confirm"), &[]).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.s("/error/code"), "payment_intent_unexpected_state");
    assert_eq!(again.s("/error/payment_intent/id"), id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_true_at_create_and_requires_payment_method_without_one() {
    let s = Stripe::start().await;
    let pi = s.create_pi(&[("payment_method", "pm_card_mastercard"), ("confirm", "true")]).await;
    assert_eq!(pi.s("/status"), "succeeded", "{}", pi.body);
    let bare = s.create_pi(&[]).await.s("/id").to_owned();
    let r = s.post(&format!("/v1/payment_intents/{bare}/confirm"), &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.s("/error/code"), "payment_intent_unexpected_state");
    let ok =
        s.post(&format!("/v1/payment_intents/{bare}/confirm"), &[("payment_method", "pm_card_visa")]).await;
    assert_eq!(ok.s("/status"), "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_card_answers_402_and_fails_the_payment() {
    let s = Stripe::start().await;
    let id = s.create_pi(&[]).await.s("/id").to_owned();
    let r = s
        .post(&format!("/v1/payment_intents/{id}/confirm"), &[("payment_method", "pm_card_chargeDeclined")])
        .await;
    assert_eq!(r.status, 402, "{}", r.body);
    assert_eq!(r.s("/error/type"), "card_error");
    assert_eq!(r.s("/error/code"), "card_declined");
    assert_eq!(r.s("/error/decline_code"), "generic_decline");
    assert_eq!(r.s("/error/payment_intent/status"), "requires_payment_method");
    assert_eq!(r.s("/error/payment_intent/last_payment_error/code"), "card_declined");
    let pi = s.get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(pi.s("/status"), "requires_payment_method");
    assert_eq!(pi.s("/last_payment_error/code"), "card_declined");
    assert_eq!(pi.body["payment_method"], json!(null));
    let charge = s.get(&format!("/v1/charges/{}", pi.s("/latest_charge"))).await;
    assert_eq!(charge.s("/status"), "failed");
    assert_eq!(s.event_types(), ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"]);
    // The customer tries another card: the same PaymentIntent succeeds.
    let retry =
        s.post(&format!("/v1/payment_intents/{id}/confirm"), &[("payment_method", "pm_card_visa")]).await;
    assert_eq!(retry.s("/status"), "succeeded");
    assert_eq!(retry.body["last_payment_error"], json!(null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_d_secure_waits_for_the_customer() {
    let s = Stripe::start().await;
    for (outcome, status) in [("complete", "succeeded"), ("fail", "requires_payment_method")] {
        let id =
            s.create_pi(&[("payment_method", "pm_card_threeDSecure2Required"), ("confirm", "true")]).await;
        assert_eq!(id.s("/status"), "requires_action", "{}", id.body);
        assert_eq!(id.s("/next_action/type"), "use_stripe_sdk");
        let id = id.s("/id").to_owned();
        let still = s.get(&format!("/v1/payment_intents/{id}")).await;
        assert_eq!(still.s("/status"), "requires_action");
        let done = s
            .control(&format!("/_emulator/payment_intents/{id}/authenticate"), &json!({"outcome": outcome}))
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(done.s("/status"), status);
        assert_eq!(done.body["next_action"], json!(null));
        if outcome == "fail" {
            assert_eq!(done.s("/last_payment_error/code"), "payment_intent_authentication_failure");
        }
        let twice = s.control(&format!("/_emulator/payment_intents/{id}/authenticate"), &json!({})).await;
        assert_eq!(twice.status, 400, "only a requires_action PaymentIntent can be authenticated");
    }
    let types = s.event_types();
    assert_eq!(types.iter().filter(|t| *t == "payment_intent.requires_action").count(), 2);
    assert!(types.contains(&"payment_intent.succeeded".to_owned()));
    assert!(types.contains(&"payment_intent.payment_failed".to_owned()));
    // With a return_url, the next action is a redirect.
    let r = s
        .create_pi(&[
            ("payment_method", "pm_card_threeDSecure2Required"),
            ("confirm", "true"),
            ("return_url", "https://shop.test/return"),
        ])
        .await;
    assert_eq!(r.s("/next_action/type"), "redirect_to_url");
    assert_eq!(r.s("/next_action/redirect_to_url/return_url"), "https://shop.test/return");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_capture_holds_then_captures_part() {
    let s = Stripe::start().await;
    let pi = s
        .create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true"), ("capture_method", "manual")])
        .await;
    assert_eq!(pi.s("/status"), "requires_capture", "{}", pi.body);
    assert_eq!(pi.i("/amount_capturable"), 2000);
    assert_eq!(pi.i("/amount_received"), 0);
    let id = pi.s("/id").to_owned();
    let too_much =
        s.post(&format!("/v1/payment_intents/{id}/capture"), &[("amount_to_capture", "2001")]).await;
    assert_eq!(too_much.status, 400);
    assert_eq!(too_much.s("/error/code"), "amount_too_large");
    let captured =
        s.post(&format!("/v1/payment_intents/{id}/capture"), &[("amount_to_capture", "1500")]).await;
    assert_eq!(captured.s("/status"), "succeeded", "{}", captured.body);
    assert_eq!(captured.i("/amount_received"), 1500);
    assert_eq!(captured.i("/amount_capturable"), 0);
    let charge = s.get(&format!("/v1/charges/{}", captured.s("/latest_charge"))).await;
    assert_eq!(charge.i("/amount_captured"), 1500);
    assert_eq!(charge.body["captured"], json!(true));
    assert_eq!(
        s.event_types(),
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.amount_capturable_updated",
            "charge.captured",
            "payment_intent.succeeded"
        ]
    );
    let again = s.post(&format!("/v1/payment_intents/{id}/capture"), &[]).await;
    assert_eq!(again.s("/error/code"), "payment_intent_unexpected_state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_from_open_states_but_not_after_success() {
    let s = Stripe::start().await;
    let id = s.create_pi(&[]).await.s("/id").to_owned();
    let bad_reason =
        s.post(&format!("/v1/payment_intents/{id}/cancel"), &[("cancellation_reason", "bored")]).await;
    assert_eq!(bad_reason.status, 400);
    let c =
        s.post(&format!("/v1/payment_intents/{id}/cancel"), &[("cancellation_reason", "abandoned")]).await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.s("/status"), "canceled");
    assert_eq!(c.s("/cancellation_reason"), "abandoned");
    assert!(c.i("/canceled_at") > 0);
    let confirm =
        s.post(&format!("/v1/payment_intents/{id}/confirm"), &[("payment_method", "pm_card_visa")]).await;
    assert_eq!(confirm.s("/error/code"), "payment_intent_unexpected_state");

    let held = s
        .create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true"), ("capture_method", "manual")])
        .await;
    let held_id = held.s("/id");
    let released = s.post(&format!("/v1/payment_intents/{held_id}/cancel"), &[]).await;
    assert_eq!(released.s("/status"), "canceled");
    let charge = s.get(&format!("/v1/charges/{}", held.s("/latest_charge"))).await;
    assert_eq!(charge.body["refunded"], json!(true), "the authorisation is released");

    let paid =
        s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await.s("/id").to_owned();
    let refused = s.post(&format!("/v1/payment_intents/{paid}/cancel"), &[]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.s("/error/code"), "payment_intent_unexpected_state");
    assert!(refused.s("/error/message").contains("status of succeeded"));
    assert_eq!(s.event_types().iter().filter(|t| *t == "payment_intent.canceled").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_changes_amount_and_merges_metadata() {
    let s = Stripe::start().await;
    let id = s.create_pi(&[("metadata[keep]", "yes")]).await.s("/id").to_owned();
    let u = s
        .post(
            &format!("/v1/payment_intents/{id}"),
            &[
                ("amount", "3100"),
                ("metadata[order_id]", "43"),
                ("metadata[keep]", ""),
                ("payment_method", "pm_card_visa"),
            ],
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(u.i("/amount"), 3100);
    assert_eq!(u.body["metadata"], json!({"order_id": "43"}), "empty value unsets a key");
    assert_eq!(u.s("/status"), "requires_confirmation");
    let paid = s.post(&format!("/v1/payment_intents/{id}/confirm"), &[]).await;
    assert_eq!(paid.i("/amount_received"), 3100);
    let late = s.post(&format!("/v1/payment_intents/{id}"), &[("amount", "5000")]).await;
    assert_eq!(late.status, 400);
    assert_eq!(late.s("/error/code"), "payment_intent_unexpected_state");
    let meta = s.post(&format!("/v1/payment_intents/{id}"), &[("metadata[note]", "shipped")]).await;
    assert_eq!(meta.status, 200, "metadata may change after payment");
    assert_eq!(meta.s("/metadata/note"), "shipped");
    assert!(!s.event_types().iter().any(|t| t.ends_with(".updated")), "Stripe has no payment_intent.updated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispute_card_succeeds_then_is_disputed_and_closed() {
    let s = Stripe::start().await;
    let pi = s.create_pi(&[("payment_method", "pm_card_createDispute"), ("confirm", "true")]).await;
    assert_eq!(pi.s("/status"), "succeeded");
    let created =
        s.em.events().into_iter().find(|e| e.type_ == "charge.dispute.created").expect("dispute event");
    let dispute = created.data.object.clone();
    assert_eq!(dispute["charge"], json!(pi.s("/latest_charge")));
    assert_eq!(dispute["status"], "needs_response");
    assert_eq!(dispute["amount"], 2000);
    let charge = s.get(&format!("/v1/charges/{}", pi.s("/latest_charge"))).await;
    assert_eq!(charge.body["disputed"], json!(true));
    let dp = dispute["id"].as_str().unwrap();
    let refund = s.post("/v1/refunds", &[("payment_intent", pi.s("/id"))]).await;
    assert_eq!(refund.s("/error/code"), "charge_disputed");
    let closed = s.control(&format!("/_emulator/disputes/{dp}/close"), &json!({"outcome": "lost"})).await;
    assert_eq!(closed.s("/status"), "lost", "{}", closed.body);
    assert_eq!(s.get(&format!("/v1/disputes/{dp}")).await.s("/status"), "lost");
    assert_eq!(s.event_types().last().map(String::as_str), Some("charge.dispute.closed"));
    let twice = s.control(&format!("/_emulator/disputes/{dp}/close"), &json!({"outcome": "won"})).await;
    assert_eq!(twice.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_debit_is_processing_until_it_settles() {
    let s = Stripe::start().await;
    let pi = s.create_pi(&[("payment_method", "pm_usBankAccount_success"), ("confirm", "true")]).await;
    assert_eq!(pi.s("/status"), "processing", "{}", pi.body);
    let id = pi.s("/id");
    let settled = s.control(&format!("/_emulator/payment_intents/{id}/settle"), &json!({})).await;
    assert_eq!(settled.s("/status"), "succeeded", "{}", settled.body);
    let failing =
        s.create_pi(&[("payment_method", "pm_usBankAccount_insufficientFunds"), ("confirm", "true")]).await;
    let fid = failing.s("/id");
    let failed = s.control(&format!("/_emulator/payment_intents/{fid}/settle"), &json!({})).await;
    assert_eq!(failed.s("/status"), "requires_payment_method");
    assert_eq!(failed.s("/last_payment_error/code"), "insufficient_funds");
    let types = s.event_types();
    assert_eq!(types.iter().filter(|t| *t == "payment_intent.processing").count(), 2);
    assert!(types.contains(&"payment_intent.payment_failed".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_session_a_card_needing_authentication_is_declined() {
    let s = Stripe::start().await;
    for flag in ["off_session", "error_on_requires_action"] {
        let r = s
            .create_pi(&[
                ("payment_method", "pm_card_threeDSecure2Required"),
                ("confirm", "true"),
                (flag, "true"),
            ])
            .await;
        assert_eq!(r.status, 402, "{flag}: {}", r.body);
        assert_eq!(r.s("/error/code"), "authentication_required");
        assert_eq!(r.s("/error/payment_intent/status"), "requires_payment_method");
        assert_eq!(r.s("/error/payment_intent/last_payment_error/code"), "authentication_required");
    }
    assert!(!s.event_types().contains(&"payment_intent.requires_action".to_owned()));
}
