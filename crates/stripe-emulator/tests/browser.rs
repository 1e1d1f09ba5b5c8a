//! What a browser does with Stripe.js: a publishable key with the PaymentIntent's client
//! secret (retrieve and confirm only), card details as `payment_method_data`, CORS, and the
//! 3-D Secure challenge page the emulator serves for `next_action`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the failure report

mod common;

use common::{Answer, Stripe, answer};
use serde_json::json;

const PK: &str = "pk_test_browser";

/// A form POST as Stripe.js sends it: no Authorization header, `key` in the body.
async fn browser_post(s: &Stripe, path: &str, params: &[(&str, &str)]) -> Answer {
    let r = s
        .http
        .post(s.em.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://shop.test")
        .body(serde_urlencoded::to_string(params).unwrap())
        .send()
        .await
        .unwrap();
    answer(r).await
}

fn form(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).unwrap()
}

async fn browser_get(s: &Stripe, path: &str, params: &[(&str, &str)]) -> Answer {
    let query = serde_urlencoded::to_string(params).unwrap();
    answer(s.http.get(format!("{}?{query}", s.em.url(path))).send().await.unwrap()).await
}

/// Confirms with the publishable key, the client secret and a card number.
async fn confirm_card(s: &Stripe, id: &str, secret: &str, number: &str) -> Answer {
    let params = [
        ("key", PK),
        ("client_secret", secret),
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", number),
    ];
    browser_post(s, &format!("/v1/payment_intents/{id}/confirm"), &params).await
}

async fn open_intent(s: &Stripe) -> (String, String) {
    let pi = s.create_pi(&[]).await;
    assert_eq!(pi.status, 200, "{}", pi.body);
    (pi.s("/id").to_owned(), pi.s("/client_secret").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publishable_key_confirms_with_the_client_secret_and_card_details() {
    let s = Stripe::start().await;
    let (id, secret) = open_intent(&s).await;
    let confirm = format!("/v1/payment_intents/{id}/confirm");
    let card = [
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", "4242 4242 4242 4242"),
        ("payment_method_data[card][exp_month]", "12"),
        ("payment_method_data[card][exp_year]", "2034"),
        ("payment_method_data[card][cvc]", "123"),
    ];

    // Without the client secret, or with another intent's, nothing happens.
    let mut params = vec![("key", PK)];
    params.extend_from_slice(&card);
    let missing = browser_post(&s, &confirm, &params).await;
    assert_eq!((missing.status, missing.s("/error/code")), (400, "parameter_missing"), "{}", missing.body);
    let (_, other_secret) = open_intent(&s).await;
    let mut wrong = params.clone();
    wrong.push(("client_secret", &other_secret));
    let wrong = browser_post(&s, &confirm, &wrong).await;
    assert_eq!((wrong.status, wrong.s("/error/param")), (400, "client_secret"), "{}", wrong.body);

    // A publishable key may not create, update, refund or read other objects.
    for path in ["/v1/payment_intents", &format!("/v1/payment_intents/{id}"), "/v1/refunds"] {
        let refused =
            browser_post(&s, path, &[("key", PK), ("client_secret", &secret), ("amount", "100")]).await;
        assert_eq!(refused.status, 401, "{path}: {}", refused.body);
    }
    assert_eq!(s.get(&format!("/v1/payment_intents/{id}")).await.s("/status"), "requires_payment_method");

    // With its client secret: confirmed, and the answer shows what a publishable key may see.
    params.push(("client_secret", &secret));
    params.push(("use_stripe_sdk", "true"));
    let paid = browser_post(&s, &confirm, &params).await;
    assert_eq!((paid.status, paid.s("/status")), (200, "succeeded"), "{}", paid.body);
    assert_eq!(paid.s("/payment_method"), "pm_card_visa");
    assert_eq!(paid.body.get("metadata"), None, "metadata is for the secret key only");
    assert_eq!(paid.headers.get("access-control-allow-origin").unwrap(), "*");
    let read =
        browser_get(&s, &format!("/v1/payment_intents/{id}"), &[("key", PK), ("client_secret", &secret)])
            .await;
    assert_eq!((read.status, read.s("/status")), (200, "succeeded"), "{}", read.body);
    assert_eq!(read.body.get("latest_charge"), None);
    // The secret key still sees everything.
    assert_eq!(s.get(&format!("/v1/payment_intents/{id}")).await.s("/metadata/order_id"), "42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_numbers_are_stripes_test_cards() {
    let s = Stripe::start().await;
    for (number, status, code) in [
        ("4000000000000002", 402, "card_declined"),
        ("4000000000009995", 402, "card_declined"),
        ("4111111111111111", 402, "card_declined"), // a live-looking card in test mode
        ("4242", 402, "incorrect_number"),
    ] {
        let (id, secret) = open_intent(&s).await;
        let r = confirm_card(&s, &id, &secret, number).await;
        assert_eq!((r.status, r.s("/error/code")), (status, code), "{number}: {}", r.body);
    }
    // A CORS preflight is answered without a key.
    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, s.em.url("/v1/payment_intents/pi_x/confirm"))
        .header("origin", "http://shop.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_d_secure_is_completed_or_failed_on_the_emulators_challenge_page() {
    let s = Stripe::start().await;
    for (outcome, status, event) in [
        ("fail", "requires_payment_method", "payment_intent.payment_failed"),
        ("complete", "succeeded", "payment_intent.succeeded"),
    ] {
        let (id, secret) = open_intent(&s).await;
        let r = confirm_card(&s, &id, &secret, "4000002760003184").await;
        assert_eq!(r.s("/status"), "requires_action", "{}", r.body);
        assert_eq!(r.s("/next_action/type"), "use_stripe_sdk");
        let url = r.s("/next_action/use_stripe_sdk/stripe_js").to_owned();
        assert!(url.starts_with(&s.em.url("/3d_secure_2/hosted?")), "{url}");

        let page = s.http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Complete authentication") && html.contains("Fail authentication"), "{html}");
        // The page needs the intent's own secret.
        let bad = s.http.get(url.replace(&secret, "pi_x_secret_y")).send().await.unwrap();
        assert_eq!(bad.status(), 404);
        let forged = s
            .http
            .post(s.em.url("/3d_secure_2/authenticate"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("payment_intent", &id), ("client_secret", "nope"), ("outcome", "complete")]))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 404);

        let done = s
            .http
            .post(s.em.url("/3d_secure_2/authenticate"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("payment_intent", &id), ("client_secret", &secret), ("outcome", outcome)]))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        let html = done.text().await.unwrap();
        assert!(html.contains("stripe-3ds-result") && html.contains(status), "{html}");
        let after =
            browser_get(&s, &format!("/v1/payment_intents/{id}"), &[("key", PK), ("client_secret", &secret)])
                .await;
        assert_eq!(after.s("/status"), status, "{}", after.body);
        assert!(s.event_types().contains(&event.to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_return_url_the_challenge_redirects_back() {
    let s = Stripe::start().await;
    let pi = s
        .create_pi(&[
            ("payment_method", "pm_card_threeDSecure2Required"),
            ("confirm", "true"),
            ("return_url", "https://shop.test/return?step=3ds"),
        ])
        .await;
    let (id, secret) = (pi.s("/id").to_owned(), pi.s("/client_secret").to_owned());
    assert_eq!(pi.s("/next_action/type"), "redirect_to_url");
    assert!(pi.s("/next_action/redirect_to_url/url").contains("/3d_secure_2/hosted?"));
    let no_redirects =
        reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let done = no_redirects
        .post(s.em.url("/3d_secure_2/authenticate"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("payment_intent", &id), ("client_secret", &secret), ("outcome", "complete")]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let location = done.headers().get("location").unwrap().to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "https://shop.test/return?step=3ds&payment_intent={id}&payment_intent_client_secret={secret}&redirect_status=succeeded"
        )
    );
    assert_eq!(s.get(&format!("/v1/payment_intents/{id}")).await.s("/status"), "succeeded");
    assert_eq!(json!(s.event_types().last()), json!("payment_intent.succeeded"));
}
