//! Group commit of verified events: the [`Flush`] behind the webhook's batcher. One batch is one
//! statement ([`repo::insert_batch`]), one transaction, one round trip; each request is answered
//! after that commit (docs/adr/0040, amendment of issue 12).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use platform::db::PgPool;
use tokio::sync::Notify;

use super::batch::Flush;
use super::metrics::WebhookMetrics;
use super::repo::{self, NewEvent};

/// A batch that failed sooner than this on a connection that still works is retried one event
/// at a time, so one event PostgreSQL refuses (a `\u0000` in its JSON, a `created` beyond the
/// timestamp range) fails alone. A later failure (a lock wait, the statement time-out) is the
/// database's trouble, not an event's: the whole batch is refused and Stripe retries.
const ISOLATE_WITHIN: Duration = Duration::from_secs(1);

/// What became of one submitted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// This request stored it (and its outbox row).
    New,
    /// Already stored: by an earlier delivery, a concurrent one, or a copy earlier in this batch.
    Duplicate,
}

/// Why an event was not stored: nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No connection, or the connection broke during the batch (a 503: Stripe retries).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// PostgreSQL refused this event's statement (a 500, as before batching).
    #[error("statement failed: {0}")]
    Failed(String),
}

/// The answer to one submitted event.
pub type Reply = Result<Stored, StoreError>;

/// Stores batches of events and wakes the in-process relay after a commit that wrote outbox rows.
pub struct EventStore {
    /// PostgreSQL, schema `payments`.
    pub pool: PgPool,
    /// The relay's waker.
    pub relay_wake: Arc<Notify>,
    /// Where the batch sizes are observed.
    pub metrics: WebhookMetrics,
}

impl Flush for EventStore {
    type Item = NewEvent;
    type Reply = Reply;

    async fn flush(&self, events: Vec<NewEvent>) -> Vec<Reply> {
        // One row per id, the first copy's; sorted, so that concurrent batches lock rows in one order.
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by(|&a, &b| events[a].id.cmp(&events[b].id).then(a.cmp(&b)));
        order.dedup_by(|later, first| events[*later].id == events[*first].id);
        let unique: Vec<&NewEvent> = order.iter().map(|&i| &events[i]).collect();
        let started = Instant::now();
        let results = self.store(&unique).await;
        self.metrics.batch(events.len(), started.elapsed());
        let woke = unique.iter().any(|e| e.outbox.is_some() && results.get(e.id.as_str()) == Some(&Ok(true)));
        if woke {
            // The rows are committed: the relay of this process publishes them now.
            self.relay_wake.notify_one();
        }
        events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let first = order.binary_search_by(|&j| events[j].id.cmp(&event.id)).ok().map(|k| order[k]);
                match results.get(event.id.as_str()) {
                    Some(Ok(true)) if first == Some(i) => Ok(Stored::New),
                    Some(Ok(_)) => Ok(Stored::Duplicate),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(StoreError::Unavailable("no result for the event".to_owned())),
                }
            })
            .collect()
    }
}

impl EventStore {
    /// Per distinct id: `Ok(true)` stored now, `Ok(false)` already there, or why it failed.
    async fn store<'e>(&self, events: &[&'e NewEvent]) -> HashMap<&'e str, Result<bool, StoreError>> {
        let all = |r: Result<bool, StoreError>| events.iter().map(|e| (e.id.as_str(), r.clone())).collect();
        let mut conn = match self.pool.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, events = events.len(), "webhook batch: no database connection");
                return all(Err(StoreError::Unavailable(e.to_string())));
            }
        };
        let started = Instant::now();
        let error = match repo::insert_batch(&mut conn, events).await {
            Ok(ids) => {
                let ids: std::collections::HashSet<String> = ids.into_iter().collect();
                return events.iter().map(|e| (e.id.as_str(), Ok(ids.contains(&e.id)))).collect();
            }
            Err(e) => e,
        };
        let quick = started.elapsed() < ISOLATE_WITHIN;
        if events.len() > 1 && quick && repo::alive(&mut conn).await {
            tracing::warn!(error = %error, events = events.len(), "webhook batch refused; storing its events one by one");
            let mut results = HashMap::with_capacity(events.len());
            for event in events {
                let result = match repo::insert_batch(&mut conn, &[event]).await {
                    Ok(ids) => Ok(!ids.is_empty()),
                    Err(e) if repo::alive(&mut conn).await => {
                        tracing::warn!(error = %e, stripe_event_id = event.id, "stripe event refused by the database");
                        Err(StoreError::Failed(e.to_string()))
                    }
                    Err(e) => Err(StoreError::Unavailable(e.to_string())),
                };
                results.insert(event.id.as_str(), result);
            }
            return results;
        }
        tracing::warn!(error = %error, events = events.len(), "webhook batch failed; nothing of it stored");
        if events.len() == 1 && repo::alive(&mut conn).await {
            return all(Err(StoreError::Failed(error.to_string())));
        }
        all(Err(StoreError::Unavailable(error.to_string())))
    }
}
