//! Webhook delivery as Stripe does it: each event POSTed as JSON to every endpoint with a
//! `Stripe-Signature` header (signed by `domain::stripe_signature`); a non-2xx answer or a
//! connection error is retried with exponential back-off, up to a bound.
//!
//! Each endpoint has its own worker: first attempts go out one at a time in the order events
//! were queued (so a test sees the order it asked for, e.g. out-of-order delivery), and a slow
//! endpoint does not hold up the others; retries run on their own timers and do not hold up
//! later events, as with Stripe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::objects::Event;
use crate::store::Endpoint;

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Longest delay between two attempts.
    pub max_delay: Duration,
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Time-out of one attempt.
    pub timeout: Duration,
    /// First attempts in flight at once per endpoint. Stripe delivers concurrently and promises
    /// no order; 1 (the library default, for tests that look at order) sends them one by one in
    /// the order the events happened. `stripe-emulator serve` uses 32.
    pub concurrency: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            concurrency: 1,
        }
    }
}

impl RetryPolicy {
    /// Wait before attempt `attempt` (2 = the first retry).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(20);
        self.base_delay.saturating_mul(1 << doublings).min(self.max_delay)
    }
}

/// One delivery attempt, for `GET /_emulator/deliveries` and tests.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The event delivered.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// The endpoint (`we_...`).
    pub endpoint_id: String,
    /// The endpoint's URL.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The HTTP status the endpoint answered, if it answered.
    pub status: Option<u16>,
    /// Connection or time-out error, if it did not.
    pub error: Option<String>,
    /// Whether the endpoint answered 2xx.
    pub succeeded: bool,
    /// The `Stripe-Signature` header sent.
    pub signature: String,
    /// Emulator time of the attempt (Unix seconds).
    pub at: i64,
}

struct Job {
    event_id: String,
    event_type: String,
    body: Arc<String>,
    endpoint: Endpoint,
}

/// Queues events for delivery and keeps the log of attempts.
pub struct Dispatcher {
    tx: mpsc::UnboundedSender<Job>,
    log: Arc<Mutex<Vec<DeliveryAttempt>>>,
}

#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    policy: RetryPolicy,
    clock: Arc<Clock>,
    log: Arc<Mutex<Vec<DeliveryAttempt>>>,
}

impl Dispatcher {
    /// Starts the delivery worker on the current Tokio runtime.
    pub fn start(policy: RetryPolicy, clock: Arc<Clock>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let log = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(policy.timeout)
            .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .build()
            .unwrap_or_default();
        let sender = Sender { client, policy, clock, log: Arc::clone(&log) };
        // The router runs on the runtime that created the emulator (not on an HTTP worker's),
        // and spawns one worker per endpoint there.
        tokio::spawn(async move {
            let mut workers: HashMap<String, mpsc::UnboundedSender<Job>> = HashMap::new();
            while let Some(job) = rx.recv().await {
                let worker = workers
                    .entry(job.endpoint.id.clone())
                    .or_insert_with(|| sender.clone().spawn_endpoint_worker());
                // A worker only stops when the runtime does.
                let _ = worker.send(job);
            }
        });
        Self { tx, log }
    }

    /// Queues `event` for every endpoint subscribed to its type.
    pub fn enqueue(&self, event: &Event, endpoints: &[Endpoint]) {
        let body = Arc::new(serde_json::to_string_pretty(event).unwrap_or_default());
        for endpoint in endpoints.iter().filter(|e| e.wants(&event.type_)) {
            // Sending fails only when the worker is gone, i.e. the runtime is shutting down.
            let _ = self.tx.send(Job {
                event_id: event.id.clone(),
                event_type: event.type_.clone(),
                body: Arc::clone(&body),
                endpoint: endpoint.clone(),
            });
        }
    }

    /// Every attempt so far, oldest first.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Sender {
    /// Delivers one endpoint's jobs, up to `policy.concurrency` first attempts at once (in
    /// order when 1); failures are handed to their own retry task.
    fn spawn_endpoint_worker(self) -> mpsc::UnboundedSender<Job> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let slots = Arc::new(tokio::sync::Semaphore::new(self.policy.concurrency.max(1)));
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
                let sender = self.clone();
                tokio::spawn(async move {
                    let job = Arc::new(job);
                    let delivered = sender.attempt(&job, 1).await;
                    drop(slot);
                    if !delivered && sender.policy.max_attempts > 1 {
                        sender.retry(job).await;
                    }
                });
            }
        });
        tx
    }

    /// Retries a failed delivery with back-off until it succeeds or attempts run out.
    async fn retry(self, job: Arc<Job>) {
        for attempt in 2..=self.policy.max_attempts {
            tokio::time::sleep(self.policy.delay_before(attempt)).await;
            if self.attempt(&job, attempt).await {
                return;
            }
        }
        tracing::warn!(event = %job.event_id, url = %job.endpoint.url, "webhook delivery gave up");
    }

    /// One POST; true when the endpoint answered 2xx.
    async fn attempt(&self, job: &Job, attempt: u32) -> bool {
        let at = self.clock.now();
        let signature = domain::stripe_signature::header_value(&job.endpoint.secret, at, job.body.as_bytes());
        let result = self
            .client
            .post(&job.endpoint.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("stripe-signature", &signature)
            .body(job.body.as_bytes().to_vec())
            .send()
            .await;
        let (status, error) = match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let succeeded = status.is_some_and(|s| (200..300).contains(&s));
        tracing::debug!(event = %job.event_id, url = %job.endpoint.url, attempt, ?status, "webhook attempt");
        self.log.lock().unwrap_or_else(PoisonError::into_inner).push(DeliveryAttempt {
            event_id: job.event_id.clone(),
            event_type: job.event_type.clone(),
            endpoint_id: job.endpoint.id.clone(),
            url: job.endpoint.url.clone(),
            attempt,
            status,
            error,
            succeeded,
            signature,
            at,
        });
        succeeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_bounded() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_attempts: 10,
            timeout: Duration::from_secs(1),
            concurrency: 1,
        };
        let delays: Vec<_> = (2..=6).map(|a| p.delay_before(a).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500]);
    }
}
