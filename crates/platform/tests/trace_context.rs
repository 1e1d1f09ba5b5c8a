//! One purchase is one trace: the W3C trace context of an HTTP request survives
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! HTTP → outbox row → AMQP message → consumer, checked with an in-memory span exporter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::events::Envelope;
use domain::ids::EventId;
use opentelemetry_sdk::trace::InMemorySpanExporter;
use platform::db::PgPool;
use platform::events::{
    Broker, Consumer, ConsumerOptions, EventHandler, HandlerError, QueueOptions, Relay, RelayOptions,
    declare_consumer_queue, declare_exchange,
};
use platform::http::{ApiError, HttpKit, Readiness};
use platform::{shutdown, telemetry};
use testkit::TestDb;

const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("tests/migrations");
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const EVENT_TYPE: &str = "test.traced";

type Seen = Arc<Mutex<Vec<(EventId, Option<String>)>>>;

struct Recorder(Seen);

impl EventHandler for Recorder {
    async fn handle(&self, _conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let trace_id = telemetry::current_trace_id();
        self.0.lock().unwrap().push((event.id, trace_id));
        Ok(())
    }
}

async fn emit(pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let envelope = Envelope {
        id: EventId::new(),
        event_type: EVENT_TYPE.to_owned(),
        version: 1,
        occurred_at: chrono::Utc::now(),
        source: "trace-test".to_owned(),
        correlation_id: None,
        data: serde_json::json!({"hello": "world"}),
    };
    let mut conn = pool.get().await?;
    let env = envelope.clone();
    conn.transaction::<_, diesel::result::Error, _>(async |c| platform::events::enqueue(c, &env).await)
        .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"event_id": envelope.id})))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_id_survives_http_outbox_amqp_and_consumer() {
    let exporter = InMemorySpanExporter::default();
    let guard = telemetry::init_with_exporter("trace-test", exporter.clone());
    let db = TestDb::new("sample", MIGRATIONS).await;
    let pool = db.pool().await;
    let names = testkit::broker_names();
    let broker = Arc::new(Broker::new(testkit::amqp_url(), names.exchange.clone()).with_temporary_exchange());
    let queue = format!("{}trace", names.prefix);
    let queue_options = QueueOptions { expires: Some(Duration::from_secs(60)) };

    // Bind the queue before anything is published, so the message has somewhere to go.
    // Retried: another test may be dropping broker connections at this moment.
    testkit::wait_until(Duration::from_secs(20), "the test topology", || async {
        let channel = broker.channel().await.ok()?;
        declare_exchange(&channel, &broker).await.ok()?;
        let keys = [EVENT_TYPE];
        declare_consumer_queue(&channel, broker.exchange(), &queue, &keys, &queue_options).await.ok()
    })
    .await;

    let (trigger, stop) = shutdown::channel();
    let seen: Seen = Arc::default();
    let mut options = ConsumerOptions::new("trace-test", queue.clone(), &[EVENT_TYPE]);
    options.queue_options = queue_options;
    tokio::spawn(
        Consumer::new(pool.clone(), broker.clone(), options).run(Recorder(seen.clone()), stop.clone()),
    );
    let relay = Relay::new(
        pool.clone(),
        db.url().to_owned(),
        "sample".to_owned(),
        broker.clone(),
        RelayOptions::default(),
    );
    tokio::spawn(relay.run(stop.clone()));

    let metrics = platform::http::metrics::middleware("trace_test", prometheus::Registry::new()).unwrap();
    let kit = HttpKit { workers: 1, ..HttpKit::new(metrics, Readiness::new(vec![], Duration::from_secs(1))) };
    let data = web::Data::new(pool.clone());
    let server = testkit::spawn_server(move |l| {
        platform::http::build_server(l, kit, move |cfg| {
            cfg.app_data(data.clone()).route("/emit", web::post().to(emit));
        })
    });

    let res = server
        .client
        .post(server.url("/emit"))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let body: serde_json::Value = res.json().await.unwrap();
    let event_id: EventId = serde_json::from_value(body["event_id"].clone()).unwrap();

    let consumer_trace =
        testkit::wait_until(Duration::from_secs(20), "the consumer to receive the event", || {
            let seen = seen.clone();
            async move {
                let seen = seen.lock().unwrap();
                seen.iter().find(|(id, _)| *id == event_id).map(|(_, t)| t.clone())
            }
        })
        .await;
    assert_eq!(
        consumer_trace.as_deref(),
        Some(TRACE_ID),
        "the consumer's span continues the HTTP request's trace"
    );

    // The consumer's span ends after its commit and ack, a moment after the handler ran.
    let names = testkit::wait_until(Duration::from_secs(10), "HTTP, publish and consume spans", || {
        let _ = guard.provider().force_flush();
        let spans = exporter.get_finished_spans().unwrap();
        let names: Vec<String> = spans
            .iter()
            .filter(|s| s.span_context.trace_id().to_string() == TRACE_ID)
            .map(|s| s.name.to_string())
            .collect();
        async move { names.iter().any(|n| n == "event.consume").then_some(names) }
    })
    .await;
    assert!(names.iter().any(|n| n == "POST /emit"), "{names:?}");
    assert!(names.iter().any(|n| n == "event.publish"), "{names:?}");
    assert!(names.iter().any(|n| n == "event.consume"), "{names:?}");
    trigger.trigger();
    server.stop().await;
}
