//! The service runner's shutdown order, once for every service: stop accepting and finish
//! in-flight requests → stop consumers and tasks → flush the relay (what they wrote is
//! published) → close the broker.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use domain::EventId;
use domain::events::Envelope;
use platform::service::{ServiceInfo, ServiceSpec};
use testkit::{TestDb, wait_until};
use tokio::sync::Notify;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("tests/migrations");

const INFO: ServiceInfo = ServiceInfo {
    name: "runner-test",
    schema: "sample",
    default_http_addr: "127.0.0.1:0",
    migrations: MIGRATIONS,
    uses_redis: false,
    uses_auth: false,
    generic_plans: false,
};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

type Log = Arc<Mutex<Vec<&'static str>>>;

fn push(log: &Log, step: &'static str) {
    log.lock().unwrap().push(step);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_requests_then_stops_workers_then_flushes_the_relay_then_closes_the_broker() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    let base = testkit::base_config(&INFO, &db);
    let log: Log = Arc::default();
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());

    let (route_log, route_gate, route_entered) = (log.clone(), gate.clone(), entered.clone());
    let task_log = log.clone();
    let service = testkit::spawn_service(&INFO, base, move |res| {
        let pool = res.pool.clone();
        Ok(ServiceSpec::new(&INFO)
            .routes(move |cfg| {
                let (log, gate, entered) = (route_log.clone(), route_gate.clone(), route_entered.clone());
                cfg.route(
                    "/slow",
                    web::get().to(move || {
                        let (log, gate, entered) = (log.clone(), gate.clone(), entered.clone());
                        async move {
                            entered.notify_one();
                            gate.notified().await;
                            push(&log, "request finished");
                            HttpResponse::Ok().body("done")
                        }
                    }),
                );
            })
            // A worker that writes an outbox row as it stops: the relay must still publish it.
            .task("writer", move |mut stop| async move {
                stop.wait().await;
                push(&task_log, "task stopping");
                let envelope = Envelope {
                    id: EventId::new(),
                    event_type: "product.updated".to_owned(),
                    version: 1,
                    occurred_at: Utc::now(),
                    source: "runner-test".to_owned(),
                    correlation_id: None,
                    data: serde_json::json!({ "product_id": 1 }),
                };
                let mut conn = pool.get().await.unwrap();
                platform::events::outbox::enqueue(&mut conn, &envelope).await.unwrap();
                push(&task_log, "task stopped");
            }))
    })
    .await;

    let health = service.client.get(service.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // An in-flight request when the shutdown starts.
    let client = service.client.clone();
    let url = service.url("/slow");
    let request = tokio::spawn(async move { client.get(url).send().await });
    entered.notified().await;

    let base_url = service.base_url.clone();
    let pool = service.resources().pool.clone();
    let broker = service.resources().broker.clone();
    let steps = service.running.steps.clone();
    let shutdown = tokio::spawn(service.shutdown());

    // While the request is held, the workers must not have been stopped.
    wait_until(Duration::from_secs(5), "the listener to close", || async {
        reqwest::Client::new().get(format!("{base_url}/health")).send().await.is_err().then_some(())
    })
    .await;
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
    gate.notify_one();
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 200, "an in-flight request finishes");
    tokio::time::timeout(Duration::from_secs(30), shutdown).await.unwrap().unwrap();

    assert_eq!(*log.lock().unwrap(), vec!["request finished", "task stopping", "task stopped"]);
    assert_eq!(
        *steps.lock().unwrap(),
        vec!["http drained", "workers stopped", "relay flushed", "broker closed"]
    );
    let mut conn = pool.get().await.unwrap();
    let pending = sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        .get_result::<Count>(&mut *conn)
        .await
        .unwrap();
    assert_eq!(pending.n, 0, "the row written while stopping was published by the flush");
    assert!(!broker.is_connected(), "the broker connection is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_draining_every_answer_closes_its_kept_alive_connection() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    let mut base = testkit::base_config(&INFO, &db);
    base.shutdown_drain_seconds = 3;
    let service = testkit::spawn_service(&INFO, base, |_| Ok(ServiceSpec::new(&INFO).without_relay())).await;
    let client = reqwest::Client::new();
    let health = format!("{}/health", service.base_url);
    let before = client.get(&health).send().await.unwrap();
    assert!(before.headers().get("connection").is_none_or(|v| v != "close"), "kept alive while serving");
    let ready = format!("{}/ready", service.base_url);
    let shutdown = tokio::spawn(service.shutdown());
    wait_until(Duration::from_secs(5), "readiness to turn 503", || async {
        let r = client.get(&ready).send().await.ok()?;
        (r.status() == 503).then_some(())
    })
    .await;
    // Still served during the drain, but the client is told not to reuse the connection.
    let during = client.get(&health).send().await.unwrap();
    assert_eq!(during.status(), 200);
    assert_eq!(during.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"));
    tokio::time::timeout(Duration::from_secs(30), shutdown).await.unwrap().unwrap();
}
