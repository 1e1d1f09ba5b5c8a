//! Shared set-up for the webhook's tests: a fresh database, the app on a random port, the
//! outbox relay publishing to the test's own exchange, and a queue bound to `payment.#` on it.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod fixtures;

use std::sync::Arc;
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use domain::events::Envelope;
use domain::stripe_signature;
use payment_webhook::INFO;
use payment_webhook::config::{WebhookConfig, WebhookSettings};
use payment_webhook::state::AppState;
use payment_webhook::webhook::batch::BatchOptions;
use platform::config::{DsnUrl, SecretString};
use platform::events::{self, Broker, QueueOptions, RelayOptions};
use serde_json::Value;
use testkit::{TestDb, TestService, wait_until};

/// The endpoint secret Stripe signs with now.
pub const SECRET: &str = "whsec_test_current";
/// The previous secret, still accepted during a rotation.
pub const OLD_SECRET: &str = "whsec_test_previous";
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Options {
    /// Where the relay's broker connection goes (a proxy in the outage test).
    pub relay_amqp_url: String,
    pub tolerance_secs: i64,
    pub workers: usize,
    /// The group commit (the defaults of `payment-webhook serve` unless a test pins a batch).
    pub batch: BatchOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            relay_amqp_url: testkit::amqp_url(),
            tolerance_secs: 300,
            workers: 2,
            batch: BatchOptions::default(),
        }
    }
}

pub struct App {
    pub db: TestDb,
    pub server: TestService,
    pub state: AppState,
    /// The test's own exchange, reached directly (not through any proxy).
    pub broker: Arc<Broker>,
    /// A queue bound to `payment.#` on that exchange.
    pub queue: String,
}

pub async fn spawn() -> App {
    spawn_with(Options::default()).await
}

/// The service on the runner, as `payment-webhook serve` runs it, with the test's secrets.
pub async fn spawn_with(options: Options) -> App {
    let db = TestDb::new("payments", payment_webhook::MIGRATIONS).await;
    let mut base = testkit::base_config(&INFO, &db);
    base.http_workers = options.workers;
    let names_exchange = base.amqp_exchange.clone();
    let queue = format!("{}payments.observer", base.amqp_queue_prefix);
    // The relay's broker connection may go through a proxy (the outage test).
    base.connections.amqp_url = DsnUrl::new(options.relay_amqp_url);
    let broker = Arc::new(
        Broker::new(testkit::amqp_url(), names_exchange)
            .with_connection_name("payment-webhook-test")
            .with_temporary_exchange(),
    );
    observe_payments(&broker, &queue).await;

    let config = WebhookConfig {
        base: base.clone(),
        service: WebhookSettings {
            webhook_secrets: vec![SecretString::from(SECRET), SecretString::from(OLD_SECRET)],
            tolerance_secs: options.tolerance_secs,
            relay_batch: 200,
            batch: options.batch,
        },
    };
    let mut made = None;
    let server = testkit::spawn_service(&INFO, base, |res| {
        let state = payment_webhook::app::state(&config, res)?;
        made = Some(state.clone());
        // A long poll: events reach the broker because the handler wakes the relay.
        Ok(payment_webhook::app::spec(state, config.relay_batch).relay_options(RelayOptions {
            poll_interval: Duration::from_secs(10),
            ..RelayOptions::default()
        }))
    })
    .await;
    let state = made.expect("state");
    App { db, server, state, broker, queue }
}

/// Declares the exchange and `queue` bound to `payment.#` on it (expiring when unused), before
/// anything is published, so no payment event is unroutable.
pub async fn observe_payments(broker: &Broker, queue: &str) {
    wait_until(WAIT, "the observer queue", || async {
        let channel = broker.channel().await.ok()?;
        events::declare_exchange(&channel, broker).await.ok()?;
        let q = QueueOptions { expires: Some(Duration::from_secs(120)) };
        events::declare_consumer_queue(&channel, broker.exchange(), queue, &["payment.#"], &q).await.ok()
    })
    .await;
}

/// `t=<now>,v1=<hmac>` for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    stripe_signature::header_value(secret, chrono::Utc::now().timestamp(), body)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl App {
    /// POSTs `body` with the given `Stripe-Signature` (none when `None`).
    pub async fn post(&self, body: impl Into<Vec<u8>>, signature: Option<&str>) -> (u16, Value) {
        let mut req = self
            .server
            .client
            .post(self.server.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .body(body.into());
        if let Some(s) = signature {
            req = req.header("stripe-signature", s);
        }
        testkit::http::send(req).await
    }

    /// POSTs `event` signed with [`SECRET`] now.
    pub async fn deliver(&self, event: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(event).unwrap();
        let signature = sign(SECRET, &body);
        self.post(body, Some(&signature)).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.state.pool.get().await.unwrap();
        diesel::sql_query(sql).get_result::<Count>(&mut *conn).await.unwrap().n
    }

    /// Rows in `stripe_events`.
    pub async fn stored(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM stripe_events").await
    }

    /// Rows ever written to the outbox.
    pub async fn outbox(&self) -> i64 {
        self.count("SELECT count(*) AS n FROM outbox").await
    }

    /// Waits until the relay has published every outbox row (so every message is in the
    /// observer queue), then takes every message from the queue.
    pub async fn published(&self) -> Vec<Envelope> {
        testkit::events::published(&self.broker, &self.queue, &self.state.pool).await
    }

    /// The value of a counter in `/metrics`, e.g. `("payment_webhook_rejected_total", "signature_mismatch")`.
    pub async fn counter(&self, name: &str, label: &str) -> u64 {
        let text =
            self.server.client.get(self.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&format!("=\"{label}\"}}")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}
