//! Stripe delivers at least once: a replayed event id is acknowledged and does nothing more,
//! sequentially and when 50 deliveries of one id race each other.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::fixtures::{event_id, payment_intent_event};
use common::{SECRET, sign};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_replays_publish_one_event() {
    let app = common::spawn().await;
    let id = event_id();
    let body = serde_json::to_vec(&payment_intent_event(&id, "succeeded", "pi_seq", Some("11"))).unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        // Each redelivery is signed afresh, as Stripe does.
        let (status, json) = app.post(body.clone(), Some(&sign(SECRET, &body))).await;
        assert_eq!(status, 200);
        outcomes.push(json["outcome"].as_str().unwrap().to_owned());
    }
    assert_eq!(outcomes, ["published", "duplicate", "duplicate", "duplicate", "duplicate"]);
    assert_eq!((app.stored().await, app.outbox().await), (1, 1));
    let published = app.published().await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].data["stripe_event_id"], id.as_str());
    assert_eq!(app.counter("payment_webhook_events_total", "duplicate").await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_replays_publish_one_event() {
    let app = common::spawn().await;
    let id = event_id();
    let body = serde_json::to_vec(&payment_intent_event(&id, "succeeded", "pi_conc", Some("12"))).unwrap();
    let signature = sign(SECRET, &body);
    let sends = (0..50).map(|_| app.post(body.clone(), Some(&signature)));
    let results = futures_util::future::join_all(sends).await;
    assert!(results.iter().all(|(status, _)| *status == 200), "{results:?}");
    let published_answers = results.iter().filter(|(_, json)| json["outcome"] == "published").count();
    assert_eq!(published_answers, 1, "exactly one delivery stores the event");
    assert_eq!((app.stored().await, app.outbox().await), (1, 1));
    let published = app.published().await;
    assert_eq!(published.len(), 1, "one message on the queue");
    assert_eq!(published[0].data["stripe_event_id"], id.as_str());
    assert_eq!(published[0].data["order_id"], 12);
}
