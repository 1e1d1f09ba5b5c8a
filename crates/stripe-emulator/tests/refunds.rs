//! Refunds: full and partial, never more than captured, the charge's `amount_refunded`, and
//! the `refund.created` / `charge.refunded` events.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use common::Stripe;
use serde_json::json;

async fn paid(s: &Stripe) -> String {
    let pi = s.create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true")]).await;
    assert_eq!(pi.s("/status"), "succeeded");
    pi.s("/id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refund_marks_the_charge_refunded() {
    let s = Stripe::start().await;
    let pi = paid(&s).await;
    let r = s
        .post(
            "/v1/refunds",
            &[("payment_intent", &pi), ("reason", "requested_by_customer"), ("metadata[order_id]", "42")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.s("/id").starts_with("re_"));
    assert_eq!(r.s("/object"), "refund");
    assert_eq!(r.i("/amount"), 2000);
    assert_eq!(r.s("/status"), "succeeded");
    assert_eq!(r.s("/payment_intent"), pi);
    assert_eq!(r.s("/metadata/order_id"), "42");
    let charge = s.get(&format!("/v1/charges/{}", r.s("/charge"))).await;
    assert_eq!(charge.i("/amount_refunded"), 2000);
    assert_eq!(charge.body["refunded"], json!(true));
    let got = s.get(&format!("/v1/refunds/{}", r.s("/id"))).await;
    assert_eq!(got.body, r.body);
    let again = s.post("/v1/refunds", &[("payment_intent", &pi)]).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.s("/error/code"), "charge_already_refunded");
    let events = s.em.events();
    let refunded = events.iter().find(|e| e.type_ == "charge.refunded").expect("charge.refunded");
    assert_eq!(refunded.data.object["amount_refunded"], 2000);
    assert_eq!(refunded.data.object["payment_intent"], json!(pi));
    assert_eq!(refunded.data.previous_attributes, Some(json!({"amount_refunded": 0, "refunded": false})));
    assert!(events.iter().any(|e| e.type_ == "refund.created"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_refunds_add_up_and_over_refund_is_refused() {
    let s = Stripe::start().await;
    let pi = paid(&s).await;
    let first = s.post("/v1/refunds", &[("payment_intent", &pi), ("amount", "500")]).await;
    assert_eq!(first.i("/amount"), 500, "{}", first.body);
    let charge_id = first.s("/charge").to_owned();
    let second = s.post("/v1/refunds", &[("charge", &charge_id), ("amount", "700")]).await;
    assert_eq!(second.i("/amount"), 700, "{}", second.body);
    let charge = s.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge.i("/amount_refunded"), 1200);
    assert_eq!(charge.body["refunded"], json!(false));

    let over = s.post("/v1/refunds", &[("payment_intent", &pi), ("amount", "801")]).await;
    assert_eq!(over.status, 400);
    assert_eq!(over.s("/error/code"), "amount_too_large");
    assert_eq!(over.s("/error/param"), "amount");
    assert_eq!(
        over.s("/error/message"),
        "Refund amount ($8.01) is greater than unrefunded amount on charge ($8.00)"
    );
    for bad in ["0", "-1", "x"] {
        let r = s.post("/v1/refunds", &[("payment_intent", &pi), ("amount", bad)]).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let last = s.post("/v1/refunds", &[("payment_intent", &pi), ("amount", "800")]).await;
    assert_eq!(last.status, 200);
    let charge = s.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge.i("/amount_refunded"), 2000);
    assert_eq!(charge.body["refunded"], json!(true));
    let amounts: Vec<_> =
        s.em.events()
            .into_iter()
            .filter(|e| e.type_ == "charge.refunded")
            .map(|e| e.data.object["amount_refunded"].as_i64().unwrap())
            .collect();
    assert_eq!(amounts, [500, 1200, 2000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_captured_money_can_be_refunded() {
    let s = Stripe::start().await;
    let unpaid = s.create_pi(&[]).await.s("/id").to_owned();
    let r = s.post("/v1/refunds", &[("payment_intent", &unpaid)]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.s("/error/code"), "charge_not_refundable");
    let held = s
        .create_pi(&[("payment_method", "pm_card_visa"), ("confirm", "true"), ("capture_method", "manual")])
        .await;
    let r = s.post("/v1/refunds", &[("payment_intent", held.s("/id"))]).await;
    assert_eq!(r.status, 400, "an uncaptured charge is canceled, not refunded");
    // A partial capture releases the rest: only what was captured can be refunded.
    let id = held.s("/id");
    s.post(&format!("/v1/payment_intents/{id}/capture"), &[("amount_to_capture", "1200")]).await;
    let over = s.post("/v1/refunds", &[("payment_intent", id), ("amount", "1201")]).await;
    assert_eq!(over.s("/error/code"), "amount_too_large");
    let all = s.post("/v1/refunds", &[("payment_intent", id)]).await;
    assert_eq!(all.i("/amount"), 1200);

    let missing = s.post("/v1/refunds", &[]).await;
    assert_eq!(missing.s("/error/code"), "parameter_missing");
    let nope = s.post("/v1/refunds", &[("payment_intent", "pi_nope")]).await;
    assert_eq!(nope.s("/error/code"), "resource_missing");
    assert_eq!(s.get("/v1/refunds/re_nope").await.status, 404);
    let other = paid(&s).await;
    let wrong = s.post("/v1/refunds", &[("payment_intent", &other), ("charge", all.s("/charge"))]).await;
    assert_eq!(wrong.status, 400, "charge and payment_intent must match");
}
