//! PostgreSQL unreachable: a verified event cannot be recorded, so the answer is a 503 in the
//! JSON error shape (Stripe delivers it again later), counted, never a 200.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::fixtures::{event_id, payment_intent_event};
use common::{SECRET, sign};
use payment_webhook::INFO;
use payment_webhook::config::{WebhookConfig, WebhookSettings};
use payment_webhook::webhook::batch::BatchOptions;
use platform::config::{DsnUrl, SecretString};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_event_is_refused_with_503_while_the_database_is_away() {
    // Nothing listens on port 1.
    let db = testkit::TestDb::new("payments", payment_webhook::MIGRATIONS).await;
    let mut base = testkit::base_config(&INFO, &db);
    base.connections.database_url = DsnUrl::new("postgres://postgres@127.0.0.1:1/none");
    let config = WebhookConfig {
        base: base.clone(),
        service: WebhookSettings {
            webhook_secrets: vec![SecretString::from(SECRET)],
            tolerance_secs: 300,
            relay_batch: 200,
            batch: BatchOptions::default(),
        },
    };
    let server =
        testkit::spawn_service(&INFO, base, |res| payment_webhook::app::describe(&config, res)).await;

    let body =
        serde_json::to_vec(&payment_intent_event(&event_id(), "succeeded", "pi_db", Some("1"))).unwrap();
    let res = server
        .client
        .post(server.url("/webhooks/stripe"))
        .header("stripe-signature", sign(SECRET, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["error"], "Service unavailable", "{json}");
    let ready = server.client.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "readiness follows PostgreSQL");
    let text = server.client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"payment_webhook_events_total{outcome="error"} 1"#), "{text}");
    server.shutdown().await;
}
