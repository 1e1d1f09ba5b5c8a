//! PostgreSQL unreachable: a verified event cannot be recorded, so the answer is a 503 in the
//! JSON error shape (Stripe delivers it again later), counted, never a 200.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::fixtures::{event_id, payment_intent_event};
use common::{SECRET, sign};
use payment_webhook::metrics::WebhookMetrics;
use payment_webhook::state::AppState;
use platform::config::Secret;
use platform::db::{self, PoolOptions};
use platform::http::HttpKit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_event_is_refused_with_503_while_the_database_is_away() {
    // Nothing listens on port 1.
    let options = PoolOptions { connect_timeout: Duration::from_millis(300), ..PoolOptions::default() };
    let pool = db::pool("postgres://postgres@127.0.0.1:1/none", "payments", options).unwrap();
    let registry = prometheus::Registry::new();
    let state = AppState {
        pool,
        secrets: vec![Secret::new(SECRET)].into(),
        tolerance_secs: 300,
        body_limit: payment_webhook::webhook::BODY_LIMIT,
        metrics: WebhookMetrics::register(&registry).unwrap(),
        relay_wake: std::sync::Arc::default(),
    };
    let readiness = payment_webhook::app::readiness(&state);
    let metrics = platform::http::metrics::middleware("payment-webhook", registry).unwrap();
    let kit = HttpKit { workers: 1, ..HttpKit::new(metrics, readiness) };
    let st = state.clone();
    let server = testkit::spawn_server(move |l| payment_webhook::app::http_server(l, kit, st));

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
    server.stop().await;
}
