//! The events plumbing against the real RabbitMQ and PostgreSQL: outbox → relay → consumer,
//! idempotence, retries and the dead-letter queue, and surviving dropped broker connections.
//!
//! Every test has its own database, exchange and queues (which expire when unused), so the
//! tests run in parallel; they wait for conditions with deadlines, never for fixed sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use domain::EventId;
use domain::events::Envelope;
use platform::db::PgPool;
use platform::events::{
    self, Broker, Consumer, ConsumerOptions, EventHandler, HandlerError, QueueOptions, Relay, RelayOptions,
};
use platform::shutdown::{self, Shutdown, ShutdownTrigger};
use testkit::events::{publish as publish_envelope, publish_raw};
use testkit::{TestDb, wait_until};
use tokio::task::JoinHandle;
use uuid::Uuid;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("tests/migrations");

const WAIT: Duration = Duration::from_secs(30);

/// The side effect handlers apply: one row per event, `n` counts applications.
const EFFECT_TABLE: &str = "CREATE TABLE applied (event_id uuid PRIMARY KEY, n integer NOT NULL DEFAULT 1, \
                            trace_id text)";

/// One test's world: database, broker names, a running consumer and relay.
struct World {
    db: TestDb,
    pool: PgPool,
    broker: Arc<Broker>,
    queue: String,
    trigger: ShutdownTrigger,
    shutdown: Shutdown,
    tasks: Vec<JoinHandle<()>>,
}

impl World {
    async fn new() -> Self {
        Self::with_url(testkit::amqp_url()).await
    }

    async fn with_url(amqp_url: String) -> Self {
        let db = TestDb::new("sample", MIGRATIONS).await;
        db.conn().await.batch_execute(EFFECT_TABLE).await.unwrap();
        let pool = db.pool().await;
        let names = testkit::broker_names();
        let broker = Arc::new(
            Broker::new(amqp_url, names.exchange)
                .with_connection_name("platform-events-test")
                .with_temporary_exchange(),
        );
        let (trigger, shutdown) = shutdown::channel();
        let queue = format!("{}catalog.test", names.prefix);
        World { db, pool, broker, queue, trigger, shutdown, tasks: Vec::new() }
    }

    fn consumer_options(&self) -> ConsumerOptions {
        let mut o = ConsumerOptions::new("catalog.test", &self.queue, &["product.*", "test.#"]);
        o.queue_options = QueueOptions { expires: Some(Duration::from_secs(120)) };
        o.base_backoff = Duration::from_millis(50);
        o.max_backoff = Duration::from_millis(400);
        o.max_attempts = 3;
        o
    }

    /// Starts a consumer and waits until it is attached to its queue.
    async fn start_consumer(&mut self, handler: Recorder) {
        let consumer = Consumer::new(self.pool.clone(), Arc::clone(&self.broker), self.consumer_options());
        self.tasks.push(tokio::spawn(consumer.run(handler, self.shutdown.clone())));
        let (broker, queue) = (Arc::clone(&self.broker), self.queue.clone());
        testkit::events::wait_for_consumer(&broker, &queue).await;
    }

    /// A relay over this world's outbox and broker.
    fn relay(&self, options: RelayOptions) -> Relay {
        Relay::new(
            self.pool.clone(),
            self.db.url().to_owned(),
            "sample".to_owned(),
            Arc::clone(&self.broker),
            options,
        )
    }

    /// A relay that effectively never polls: only a wake-up (NOTIFY or its waker) moves it.
    fn relay_without_polling(&self) -> Relay {
        self.relay(RelayOptions { poll_interval: Duration::from_secs(3600), ..RelayOptions::default() })
    }

    fn start_relay(&mut self) {
        let relay =
            self.relay(RelayOptions { poll_interval: Duration::from_secs(1), ..RelayOptions::default() });
        self.tasks.push(tokio::spawn(relay.run(self.shutdown.clone())));
    }

    /// Writes `envelopes` to the outbox in one transaction, committed or rolled back.
    async fn write_outbox(&self, envelopes: &[Envelope], commit: bool) {
        let mut conn = self.pool.get().await.unwrap();
        let result = conn
            .transaction::<(), diesel::result::Error, _>(async |c| {
                for e in envelopes {
                    events::enqueue(c, e).await?;
                }
                if commit { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
            })
            .await;
        assert_eq!(result.is_ok(), commit);
    }

    /// `applied.n` per event id.
    async fn applied(&self) -> HashMap<Uuid, i32> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = SqlUuid)]
            event_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        let mut conn = self.pool.get().await.unwrap();
        let rows: Vec<Row> = sql_query("SELECT event_id, n FROM applied").load(&mut conn).await.unwrap();
        rows.into_iter().map(|r| (r.event_id, r.n)).collect()
    }

    async fn wait_applied(&self, ids: &[Uuid]) -> HashMap<Uuid, i32> {
        let what = format!("{} events to be applied", ids.len());
        wait_until(WAIT, &what, || async {
            let applied = self.applied().await;
            ids.iter().all(|id| applied.contains_key(id)).then_some(applied)
        })
        .await
    }

    async fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().await.unwrap();
        sql_query(sql).get_result::<Count>(&mut conn).await.unwrap().n
    }

    /// Stops the consumer and relay and checks they return promptly.
    async fn stop(self) {
        self.trigger.trigger();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("a background task did not stop on shutdown")
                .expect("a background task panicked");
        }
        self.broker.close().await;
    }
}

/// Records each event in `applied`; fails (or fails permanently) while told to.
#[derive(Clone, Default)]
struct Recorder {
    failing: Arc<AtomicBool>,
    /// Makes each application take a while, so deliveries are in flight when connections drop.
    slow: bool,
}

impl EventHandler for Recorder {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        if event.event_type == "test.poison" {
            return Err(HandlerError::permanent("poison: cannot ever apply this"));
        }
        assert!(event.event_type != "test.panic", "the handler has a bug");
        if AtomicBool::load(&self.failing, Ordering::SeqCst) {
            return Err(HandlerError::transient("boom: the handler is failing"));
        }
        if self.slow {
            sql_query("SELECT pg_sleep(0.02)").execute(conn).await?;
        }
        sql_query(
            "INSERT INTO applied (event_id, trace_id) VALUES ($1, $2) \
             ON CONFLICT (event_id) DO UPDATE SET n = applied.n + 1",
        )
        .bind::<SqlUuid, _>(event.id.0)
        .bind::<diesel::sql_types::Nullable<Text>, _>(platform::telemetry::current_trace_id())
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// The trace id a handler saw.
#[derive(QueryableByName)]
struct Trace {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    trace_id: Option<String>,
}

fn envelope(event_type: &str) -> Envelope {
    Envelope {
        id: EventId::new(),
        event_type: event_type.to_owned(),
        version: 1,
        occurred_at: Utc::now(),
        source: "catalog".to_owned(),
        correlation_id: Some("corr-1".to_owned()),
        data: serde_json::json!({ "product_id": 42 }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_outbox_rows_reach_the_consumer_and_rolled_back_ones_never_do() {
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;
    w.start_relay();

    let committed = envelope("product.created");
    let rolled_back = envelope("product.updated");
    let marker = envelope("product.deleted");
    w.write_outbox(std::slice::from_ref(&committed), true).await;
    w.write_outbox(std::slice::from_ref(&rolled_back), false).await;
    // Written after the rolled-back one: once it has arrived, the other had every chance to.
    w.write_outbox(std::slice::from_ref(&marker), true).await;

    let applied = w.wait_applied(&[committed.id.0, marker.id.0]).await;
    assert!(!applied.contains_key(&rolled_back.id.0), "a rolled-back event was delivered");
    assert!(applied.values().all(|n| *n == 1), "applied more than once: {applied:?}");
    assert_eq!(w.count("SELECT count(*) AS n FROM processed_events").await, 2);
    // The relay marks what it published; the rolled-back row never existed.
    let published = wait_until(WAIT, "outbox rows marked published", || async {
        let n = w.count("SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL").await;
        (n == 2).then_some(n)
    })
    .await;
    assert_eq!(published, w.count("SELECT count(*) AS n FROM outbox").await);
    let mut conn = w.pool.get().await.unwrap();
    assert_eq!(events::pending_count(&mut conn).await.unwrap(), 0);
    drop(conn);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_is_applied_once() {
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;

    let event = envelope("product.updated");
    publish_envelope(&w.broker, &event).await;
    publish_envelope(&w.broker, &event).await;
    let marker = envelope("product.updated");
    publish_envelope(&w.broker, &marker).await;

    // The consumer handles its queue in order, so the marker comes after both copies.
    let applied = w.wait_applied(&[event.id.0, marker.id.0]).await;
    assert_eq!(applied.get(&event.id.0), Some(&1));
    let dup_sql = format!("SELECT count(*) AS n FROM processed_events WHERE event_id = '{}'", event.id.0);
    assert_eq!(w.count(&dup_sql).await, 1);
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_ends_in_the_dlq_and_redrive_brings_it_back() {
    let mut w = World::new().await;
    let handler = Recorder::default();
    handler.failing.store(true, Ordering::SeqCst);
    let failing = Arc::clone(&handler.failing);
    w.start_consumer(handler).await;

    let event = envelope("product.created");
    publish_envelope(&w.broker, &event).await;

    let (broker, queue) = (Arc::clone(&w.broker), w.queue.clone());
    wait_until(WAIT, "the event to be dead-lettered", || async {
        (events::dlq_depth(&broker, &queue).await.ok()? >= 1).then_some(())
    })
    .await;
    let parked = wait_until(WAIT, "a look into the DLQ", || async {
        events::peek_dlq(&broker, &queue, 10).await.ok().filter(|p| !p.is_empty())
    })
    .await;
    // A dropped connection elsewhere may duplicate a copy; every copy is this event.
    for dead in &parked {
        assert_eq!(dead.message_id.as_deref(), Some(event.id.to_string().as_str()));
        assert_eq!(dead.routing_key.as_deref(), Some("product.created"));
        assert_eq!(dead.attempts, Some(3));
        assert!(dead.error.as_deref().unwrap_or_default().contains("boom"), "{dead:?}");
        assert!(dead.failed_at.is_some());
        let body: Envelope = serde_json::from_slice(&dead.body).unwrap();
        assert_eq!(body, event);
    }
    assert!(w.applied().await.is_empty());
    assert_eq!(w.count("SELECT count(*) AS n FROM processed_events").await, 0);

    // Fixed: redrive, and the consumer now applies it.
    failing.store(false, Ordering::SeqCst);
    // peek_dlq handed the messages back asynchronously; a dropped connection may fail a try.
    wait_until(WAIT, "the dead-lettered event to be redriven", || async {
        events::redrive(&broker, &queue, None).await.ok().filter(|moved| *moved >= 1)
    })
    .await;
    let applied = w.wait_applied(&[event.id.0]).await;
    assert_eq!(applied.get(&event.id.0), Some(&1));
    wait_until(WAIT, "the DLQ to be empty", || async {
        (events::dlq_depth(&broker, &queue).await.ok()? == 0).then_some(())
    })
    .await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_permanent_failures_and_panics_end_in_the_dlq() {
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;

    let poison = envelope("test.poison");
    publish_envelope(&w.broker, &poison).await;
    publish_raw(&w.broker, "test.garbage", b"{not json", "garbage-1").await;
    let panics = envelope("test.panic");
    publish_envelope(&w.broker, &panics).await;
    let marker = envelope("product.created");
    publish_envelope(&w.broker, &marker).await;
    w.wait_applied(&[marker.id.0]).await;

    let (broker, queue) = (Arc::clone(&w.broker), w.queue.clone());
    let parked = wait_until(WAIT, "three messages in the DLQ", || async {
        events::peek_dlq(&broker, &queue, 10).await.ok().filter(|p| p.len() >= 3)
    })
    .await;
    let by_id: HashMap<_, _> = parked.iter().map(|d| (d.message_id.clone().unwrap_or_default(), d)).collect();
    let p = by_id[&poison.id.to_string()];
    assert_eq!(p.attempts, Some(1), "a permanent failure is not retried");
    assert!(p.error.as_deref().unwrap_or_default().contains("poison"));
    let g = by_id["garbage-1"];
    assert!(g.error.as_deref().unwrap_or_default().contains("undecodable"), "{g:?}");
    assert_eq!(g.routing_key.as_deref(), Some("test.garbage"));
    assert_eq!(g.body, b"{not json");
    // A panicking handler is retried like any failure, and the consumer lives on.
    let k = by_id[&panics.id.to_string()];
    assert_eq!(k.attempts, Some(3));
    assert!(
        k.error.as_deref().unwrap_or_default().contains("handler panicked: the handler has a bug"),
        "{k:?}"
    );
    let after = envelope("product.updated");
    publish_envelope(&w.broker, &after).await;
    w.wait_applied(&[after.id.0]).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_when_the_broker_drops_every_connection() {
    // scripts/ensure-services.sh installs RabbitMQ with its CLI; without it this test cannot run.
    let rabbitmqctl = which("rabbitmqctl").expect("rabbitmqctl is needed to drop broker connections");
    if std::env::var_os("EVENTS_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("platform=debug").try_init();
    }
    // A broker user of its own, so dropping "every connection" of it leaves the tests running
    // in parallel alone (they connect as guest).
    let user = format!("tk_{}", Uuid::new_v4().simple());
    let ctl = |args: Vec<String>| {
        let rabbitmqctl = rabbitmqctl.clone();
        async move {
            let shown = args.join(" ");
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(rabbitmqctl).args(&args).output()
            })
            .await
            .unwrap()
            .expect("run rabbitmqctl");
            assert!(
                out.status.success(),
                "rabbitmqctl {shown} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    ctl(vec!["add_user".into(), user.clone(), "tk-pass".into()]).await;
    ctl(vec![
        "set_permissions".into(),
        "-p".into(),
        "/".into(),
        user.clone(),
        ".*".into(),
        ".*".into(),
        ".*".into(),
    ])
    .await;
    let mut w = World::with_url(format!("amqp://{user}:tk-pass@127.0.0.1:5672/%2f")).await;
    w.start_consumer(Recorder { slow: true, ..Recorder::default() }).await;
    w.start_relay();

    let before: Vec<Envelope> = (0..30).map(|_| envelope("product.updated")).collect();
    for chunk in before.chunks(5) {
        w.write_outbox(chunk, true).await;
    }
    // Some of these are in flight (published, unacked, half-applied) when the connections go.
    w.wait_applied(&[before[0].id.0]).await;
    let broker = Arc::clone(&w.broker);
    let probe = wait_until(WAIT, "a channel", || async { broker.channel().await.ok() }).await;
    ctl(vec!["close_all_user_connections".into(), user.clone(), "test: dropping every connection".into()])
        .await;
    wait_until(WAIT, "our connection to be dropped", || async {
        (!probe.status().connected()).then_some(())
    })
    .await;

    let after: Vec<Envelope> = (0..30).map(|_| envelope("product.created")).collect();
    for chunk in after.chunks(5) {
        w.write_outbox(chunk, true).await;
    }
    let ids: Vec<Uuid> = before.iter().chain(&after).map(|e| e.id.0).collect();
    let applied = w.wait_applied(&ids).await;
    assert_eq!(applied.len(), ids.len());
    let twice: Vec<_> = applied.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "applied more than once: {twice:?}");
    assert_eq!(w.count("SELECT count(*) AS n FROM processed_events").await, 60);
    wait_until(WAIT, "the broker connection to be back", || async { broker.is_connected().then_some(()) })
        .await;
    w.stop().await;
    ctl(vec!["delete_user".into(), user]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_in_batches_with_the_agreed_properties_and_prunes_old_rows() {
    let mut w = World::new().await;
    // A queue without a consumer, to look at the messages as published. Every broker step
    // retries: a parallel test may drop all connections at any moment.
    let broker = Arc::clone(&w.broker);
    let queue = w.queue.clone();
    wait_until(WAIT, "the test queue", || async {
        let channel = broker.channel().await.ok()?;
        events::declare_exchange(&channel, &broker).await.ok()?;
        let options = QueueOptions { expires: Some(Duration::from_secs(120)) };
        events::declare_consumer_queue(&channel, broker.exchange(), &queue, &["product.*"], &options)
            .await
            .ok()
    })
    .await;
    let sent: Vec<Envelope> = (0..3).map(|_| envelope("product.created")).collect();
    w.write_outbox(&sent, true).await;

    let relay = w.relay(RelayOptions { batch_size: 2, ..RelayOptions::default() });
    // A failed round rolls back completely, so the first successful one tells the batch size.
    let round = || async { relay.publish_pending_once().await.ok() };
    assert_eq!(wait_until(WAIT, "a relay round", round).await, 2);
    assert_eq!(wait_until(WAIT, "a relay round", round).await, 1);
    assert_eq!(wait_until(WAIT, "a relay round", round).await, 0);
    let mut conn = w.pool.get().await.unwrap();
    assert_eq!(events::pending_count(&mut conn).await.unwrap(), 0);
    drop(conn);

    let got = wait_until(WAIT, "a published message", || async {
        let channel = broker.channel().await.ok()?;
        channel.basic_get(queue.as_str().into(), lapin::options::BasicGetOptions::default()).await.ok()?
    })
    .await;
    assert!(got.message_count >= 2);
    let body: Envelope = serde_json::from_slice(&got.delivery.data).unwrap();
    let original = sent.iter().find(|e| e.id == body.id).expect("one of the events sent");
    assert_eq!(&body, original, "the whole envelope is the body");
    let props = &got.delivery.properties;
    let text = |v: &Option<lapin::types::ShortString>| v.as_ref().map(|s| s.as_str().to_owned());
    assert_eq!(text(props.message_id()), Some(body.id.to_string()));
    assert_eq!(text(props.kind()).as_deref(), Some("product.created"));
    assert_eq!(text(props.content_type()).as_deref(), Some("application/json"));
    assert_eq!(*props.delivery_mode(), Some(2));
    assert_eq!(*props.timestamp(), u64::try_from(body.occurred_at.timestamp()).ok());
    assert_eq!(text(props.correlation_id()).as_deref(), Some("corr-1"));
    assert_eq!(got.delivery.routing_key.as_str(), "product.created");

    // Published rows older than the retention are deleted by the running relay.
    let options = RelayOptions {
        retention: Duration::ZERO,
        cleanup_interval: Duration::from_millis(50),
        poll_interval: Duration::from_millis(50),
        ..RelayOptions::default()
    };
    w.tasks.push(tokio::spawn(w.relay(options).run(w.shutdown.clone())));
    wait_until(WAIT, "published rows to be pruned", || async {
        (w.count("SELECT count(*) AS n FROM outbox").await == 0).then_some(())
    })
    .await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_wakes_on_notify_and_relistens_after_losing_its_connection() {
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;
    // No polling to speak of: only NOTIFY can wake the relay within the test's deadline.
    let relay = w.relay_without_polling();
    w.tasks.push(tokio::spawn(relay.run(w.shutdown.clone())));

    let listener_pid = || async {
        #[derive(QueryableByName)]
        struct Pid {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            pid: i32,
        }
        let mut conn = w.pool.get().await.ok()?;
        sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND query = 'LISTEN outbox_sample' AND state = 'idle'",
        )
        .get_result::<Pid>(&mut conn)
        .await
        .ok()
        .map(|p| p.pid)
    };
    let first = wait_until(WAIT, "the relay to LISTEN", listener_pid).await;
    let e1 = envelope("product.created");
    w.write_outbox(std::slice::from_ref(&e1), true).await;
    w.wait_applied(&[e1.id.0]).await;

    // Kill the LISTEN connection; the relay must notice and listen again.
    let mut conn = w.pool.get().await.unwrap();
    sql_query("SELECT pg_terminate_backend($1)")
        .bind::<diesel::sql_types::Integer, _>(first)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    wait_until(WAIT, "the relay to LISTEN again", || async {
        listener_pid().await.filter(|pid| *pid != first)
    })
    .await;
    let e2 = envelope("product.updated");
    w.write_outbox(std::slice::from_ref(&e2), true).await;
    w.wait_applied(&[e2.id.0]).await;
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_runs_from_the_outbox_write_to_the_handler() {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let _guard = platform::telemetry::init_with_exporter("events-test", exporter);
    let span = tracing::info_span!("request");
    let trace_id = {
        let _entered = span.enter();
        platform::telemetry::current_trace_id()
    };
    // Under `cargo test` another test may have installed the subscriber first: same effect.
    let Some(trace_id) = trace_id else {
        eprintln!("SKIPPED: no OpenTelemetry layer active in this process");
        return;
    };
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;
    w.start_relay();
    let event = envelope("product.created");
    {
        use tracing::Instrument;
        w.write_outbox(std::slice::from_ref(&event), true).instrument(span).await;
    }
    w.wait_applied(&[event.id.0]).await;
    let mut conn = w.pool.get().await.unwrap();
    let row: Trace = sql_query("SELECT trace_id FROM applied").get_result(&mut conn).await.unwrap();
    assert_eq!(row.trace_id.as_deref(), Some(trace_id.as_str()), "the handler ran in another trace");
    drop(conn);
    w.stop().await;
}

fn which(cmd: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(cmd))
        .find(|p| p.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_without_notify_are_published_when_the_waker_is_notified() {
    let mut w = World::new().await;
    w.start_consumer(Recorder::default()).await;
    // No polling to speak of, and no NOTIFY: only the in-process waker can wake the relay.
    let relay = w.relay_without_polling();
    let waker = relay.waker();
    w.tasks.push(tokio::spawn(relay.run(w.shutdown.clone())));

    let e = envelope("product.created");
    let mut conn = w.pool.get().await.unwrap();
    conn.transaction::<(), diesel::result::Error, _>(async |c| events::enqueue_without_notify(c, &e).await)
        .await
        .unwrap();
    drop(conn);
    waker.notify_one();
    w.wait_applied(&[e.id.0]).await;
    // The consumer may apply the message before the relay's "published" update commits.
    wait_until(WAIT, "the outbox row marked published", || async {
        (w.count("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL").await == 0).then_some(())
    })
    .await;
    w.stop().await;
}

/// Handles an event only once another is being handled at the same time (a two-party barrier):
/// a consumer that takes deliveries one after the other can never get past it.
struct Meeting(Arc<tokio::sync::Barrier>);

impl EventHandler for Meeting {
    async fn handle(&self, _: &mut AsyncPgConnection, _: &Envelope) -> Result<(), HandlerError> {
        match tokio::time::timeout(Duration::from_secs(10), self.0.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => Err(HandlerError::permanent("no other event was handled meanwhile".to_owned())),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_with_concurrency_handles_deliveries_side_by_side() {
    let mut w = World::new().await;
    let mut options = w.consumer_options();
    options.concurrency = 2;
    let consumer = Consumer::new(w.pool.clone(), Arc::clone(&w.broker), options);
    let meeting = Meeting(Arc::new(tokio::sync::Barrier::new(2)));
    w.tasks.push(tokio::spawn(consumer.run(meeting, w.shutdown.clone())));
    testkit::events::wait_for_consumer(&w.broker, &w.queue).await;

    let (a, b) = (envelope("product.updated"), envelope("product.updated"));
    publish_envelope(&w.broker, &a).await;
    publish_envelope(&w.broker, &b).await;
    let sql =
        format!("SELECT count(*) AS n FROM processed_events WHERE event_id IN ('{}', '{}')", a.id.0, b.id.0);
    wait_until(Duration::from_secs(30), "both events handled together", || async {
        (w.count(&sql).await == 2).then_some(())
    })
    .await;
    w.stop().await;
}
