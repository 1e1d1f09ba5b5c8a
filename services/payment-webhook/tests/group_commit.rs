//! Group commit (docs/adr/0040, amendment of issue 12): concurrent deliveries share one
//! statement, and nothing changes for Stripe. Hundreds of concurrent events, distinct or copies,
//! are stored and published exactly once each; a batch whose connection dies mid-statement is
//! refused as a whole and stored by Stripe's retry; an event PostgreSQL refuses fails alone.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::fixtures::{event_id, payment_intent_event};
use common::{App, Options, WAIT};
use diesel::QueryableByName;
use diesel::sql_types::Integer;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::join_all;
use payment_webhook::webhook::batch::BatchOptions;
use serde_json::Value;
use testkit::wait_until;

/// `n` fresh `payment_intent.succeeded` events of order `order`, each of its own PaymentIntent.
fn succeeded_events(n: usize, tag: &str, order: &str) -> Vec<Value> {
    (0..n)
        .map(|i| payment_intent_event(&event_id(), "succeeded", &format!("pi_{tag}_{i}"), Some(order)))
        .collect()
}

/// Delivers every event at once; the answers in the same order.
async fn deliver_all(app: &App, events: &[Value]) -> Vec<(u16, Value)> {
    join_all(events.iter().map(|e| app.deliver(e))).await
}

/// Every accepted id was published exactly once, and nothing else was.
async fn assert_published_once(app: &App, ids: &HashSet<String>) {
    let published = app.published().await;
    let got: Vec<String> =
        published.iter().map(|e| e.data["stripe_event_id"].as_str().unwrap().to_owned()).collect();
    let distinct: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), distinct.len(), "a payment event was published twice");
    assert_eq!(&distinct, ids, "published = stored");
}

/// Every delivery of `events` (distinct) was answered 200 `published`, and each is stored and
/// published exactly once.
async fn assert_all_stored_and_published_once(app: &App, events: &[Value], answers: &[(u16, Value)]) {
    for (status, json) in answers {
        assert_eq!((*status, json["outcome"].as_str()), (200, Some("published")), "{json}");
    }
    let n = i64::try_from(events.len()).unwrap();
    assert_eq!((app.stored().await, app.outbox().await), (n, n));
    let ids: HashSet<String> = events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_published_once(app, &ids).await;
}

/// A histogram's `_count` or `_sum` in `/metrics`.
async fn metric(app: &App, name: &str) -> f64 {
    let text = app.server.client.get(app.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_distinct_events_are_stored_and_published_once() {
    let app = common::spawn().await;
    let events: Vec<Value> = succeeded_events(500, "many", "7");
    let answers = deliver_all(&app, &events).await;
    assert_all_stored_and_published_once(&app, &events, &answers).await;
    // The point of it: fewer statements than events.
    let (statements, batched) = (
        metric(&app, "payment_webhook_batch_events_count").await,
        metric(&app, "payment_webhook_batch_events_sum").await,
    );
    assert!((batched - 500.0).abs() < f64::EPSILON, "every event went through the batcher: {batched}");
    assert!(statements < 500.0, "500 concurrent events took {statements} statements");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_copies_of_fifty_events_store_and_publish_each_once() {
    let app = common::spawn().await;
    let originals: Vec<Value> = succeeded_events(50, "copies", "8");
    // Ten rounds of the fifty, so copies of one id land in one batch and in different batches.
    let deliveries: Vec<Value> = (0..10).flat_map(|_| originals.iter().cloned()).collect();
    let answers = deliver_all(&app, &deliveries).await;
    let mut published_answers: HashMap<&str, usize> = HashMap::new();
    for (event, (status, json)) in deliveries.iter().zip(&answers) {
        assert_eq!(*status, 200, "{json}");
        match json["outcome"].as_str() {
            Some("published") => *published_answers.entry(event["id"].as_str().unwrap()).or_default() += 1,
            Some("duplicate") => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(published_answers.len(), 50, "every event was stored by one delivery");
    assert!(
        published_answers.values().all(|n| *n == 1),
        "one delivery per id stores it: {published_answers:?}"
    );
    assert_eq!((app.stored().await, app.outbox().await), (50, 50));
    let ids: HashSet<String> = originals.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_published_once(&app, &ids).await;
    assert_eq!(app.counter("payment_webhook_events_total", "duplicate").await, 450);
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_connection_dies_mid_statement_is_refused_whole_and_stored_on_retry() {
    // A batch of exactly eight, formed however slowly the requests arrive.
    let batch = BatchOptions { window: Duration::from_secs(60), max_items: 8, in_flight: 1 };
    let app = common::spawn_with(Options { batch, ..Options::default() }).await;
    let events: Vec<Value> = succeeded_events(8, "cut", "9");

    // Hold the batch's statement: writers wait for this lock. The shared server is never stopped;
    // the batch's own backend is terminated, which is what a crash looks like to the service.
    let mut locker = app.db.conn().await;
    locker.batch_execute("BEGIN; LOCK TABLE stripe_events IN SHARE MODE").await.unwrap();
    let mut admin = app.db.conn().await;
    let cut = async {
        let pid = wait_until(WAIT, "the batch to wait for the lock", || async {
            let mut conn = app.state.pool.get().await.ok()?;
            let rows: Vec<Pid> = diesel::sql_query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query LIKE 'WITH input AS%'",
            )
            .load(&mut *conn)
            .await
            .ok()?;
            rows.into_iter().next().map(|r| r.pid)
        })
        .await;
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")).execute(&mut admin).await.unwrap();
        locker.batch_execute("ROLLBACK").await.unwrap();
    };
    let (answers, ()) = tokio::join!(deliver_all(&app, &events), cut);
    for (status, json) in &answers {
        assert_eq!(*status, 503, "every request of the batch is refused, so Stripe retries: {json}");
    }
    assert_eq!((app.stored().await, app.outbox().await), (0, 0), "nothing of the batch is stored");
    assert_eq!(app.counter("payment_webhook_events_total", "error").await, 8);

    // Stripe's retry stores them, once.
    let answers = deliver_all(&app, &events).await;
    assert_all_stored_and_published_once(&app, &events, &answers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_postgres_refuses_fails_alone_and_the_rest_of_its_batch_is_stored() {
    let batch = BatchOptions { window: Duration::from_secs(60), max_items: 4, in_flight: 1 };
    let app = common::spawn_with(Options { batch, ..Options::default() }).await;
    let mut events: Vec<Value> = succeeded_events(3, "poison", "10");
    // Signed and well formed, but beyond PostgreSQL's timestamp range: its insert fails.
    let mut poison = payment_intent_event(&event_id(), "succeeded", "pi_poison_x", Some("10"));
    poison["created"] = Value::from(1_000_000_000_000_000_i64);
    events.insert(1, poison);
    let answers = deliver_all(&app, &events).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [200, 500, 200, 200], "{answers:?}");
    assert_eq!((app.stored().await, app.outbox().await), (3, 3));
    let ids: HashSet<String> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, e)| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_published_once(&app, &ids).await;
}
