//! The idempotent consumer: applies each event once, retries failures with back-off, parks
//! the hopeless ones in `<queue>.dlq`.
//!
//! Per delivery: decode the envelope, then in ONE transaction insert
//! `processed_events (consumer, event_id)` (a conflict means "already applied": skip) and run
//! the handler; commit, then ack. A handler failure rolls back and republishes the message to
//! `<queue>.retry` (it comes back after its back-off) or, after the last attempt, to
//! `<queue>.dlq` with the error; only then is the original acked.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use diesel::ExpressionMethods;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::events::Envelope;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use lapin::Channel;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use tracing::Instrument;

use super::backoff::{Backoff, exponential};
use super::message::{self, publish_confirmed, short};
use super::tables::schema::processed_events;
use super::topology::{self, QueueOptions, dlq_name, retry_name};
use super::{
    ATTEMPTS_HEADER, Broker, ERROR_HEADER, EventsError, FAILED_AT_HEADER, ORIGINAL_ROUTING_KEY_HEADER,
};
use crate::db::PgPool;
use crate::shutdown::Shutdown;
use crate::telemetry;

/// Applies events of one consumer.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies the event inside the consumer's open transaction.
    fn handle<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        event: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// Why a handler could not apply an event. Any error converts into a transient one with `?`.
#[derive(Debug)]
pub struct HandlerError {
    message: String,
    permanent: bool,
}

impl HandlerError {
    /// A failure worth retrying (the default).
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }

    /// A failure no retry can fix: the event goes straight to the dead-letter queue.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true }
    }

    /// True for [`HandlerError::permanent`] failures.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The error text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Self::transient(message)
    }
}

/// What a consumer consumes and how it retries.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// Name recorded in `processed_events.consumer`.
    pub consumer_name: String,
    /// The consumer's queue (`<service>.<purpose>`).
    pub queue: String,
    /// Routing keys (event types, `*`/`#` patterns allowed) bound to the queue.
    pub routing_keys: Vec<String>,
    /// Most unacknowledged deliveries held at once.
    pub prefetch: u16,
    /// Deliveries handled at once by this process (each in its own transaction, as replicas
    /// would; at most `prefetch`). 1 handles them one after the other.
    pub concurrency: usize,
    /// Handler attempts before a message is dead-lettered.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each attempt.
    pub base_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Queue arguments.
    pub queue_options: QueueOptions,
}

impl ConsumerOptions {
    /// Options with the defaults (prefetch 16, 10 attempts, back-off 1 s doubling up to 5 min:
    /// a failing event is retried for about 8.5 minutes before it is dead-lettered).
    pub fn new(consumer_name: impl Into<String>, queue: impl Into<String>, routing_keys: &[&str]) -> Self {
        Self {
            consumer_name: consumer_name.into(),
            queue: queue.into(),
            routing_keys: routing_keys.iter().map(|k| (*k).to_owned()).collect(),
            prefetch: 16,
            concurrency: 1,
            max_attempts: 10,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            queue_options: QueueOptions::default(),
        }
    }
}

/// A consumer of one queue.
pub struct Consumer {
    pool: PgPool,
    broker: Arc<Broker>,
    options: ConsumerOptions,
}

/// Why applying an event did not commit.
enum ApplyError {
    Handler(HandlerError),
    Infra(EventsError),
}

impl From<diesel::result::Error> for ApplyError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

impl Consumer {
    /// A consumer reading with `broker` and applying in `pool`.
    pub fn new(pool: PgPool, broker: Arc<Broker>, options: ConsumerOptions) -> Self {
        Self { pool, broker, options }
    }

    /// Consumes until `shutdown`, reconnecting (with back-off) whenever the broker or the
    /// database fails; returns after the delivery in hand is finished.
    pub async fn run<H: EventHandler>(self, handler: H, mut shutdown: Shutdown) {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(15));
        while !shutdown.is_triggered() {
            // Subscribing while the database is down would only bounce deliveries back to the
            // queue, and every return counts towards the quorum queue's delivery limit.
            if !self.wait_for_database(&mut shutdown).await {
                break;
            }
            match self.session(&handler, &mut shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(queue = %self.options.queue, error = %e, retry_in = ?delay, "consumer interrupted");
                    tokio::select! {
                        () = shutdown.wait() => {}
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        tracing::info!(queue = %self.options.queue, "consumer stopped");
    }

    /// True when a pooled connection answers `SELECT 1` within a few seconds.
    async fn database_ok(&self) -> bool {
        let probe = async {
            let mut conn = self.pool.get().await.ok()?;
            crate::sql::ping(&mut conn).await.ok()
        };
        matches!(tokio::time::timeout(Duration::from_secs(5), probe).await, Ok(Some(())))
    }

    /// Waits until the database answers; `false` if shutdown came first.
    async fn wait_for_database(&self, shutdown: &mut Shutdown) -> bool {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            if shutdown.is_triggered() {
                return false;
            }
            if self.database_ok().await {
                return true;
            }
            let delay = backoff.next_delay();
            tracing::warn!(queue = %self.options.queue, retry_in = ?delay, "database unavailable: not consuming");
            tokio::select! {
                () = shutdown.wait() => return false,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One channel's worth of consuming; `Ok` means shutdown was asked for.
    async fn session<H: EventHandler>(
        &self,
        handler: &H,
        shutdown: &mut Shutdown,
        backoff: &mut Backoff,
    ) -> Result<(), EventsError> {
        let o = &self.options;
        let channel = self.broker.channel().await?;
        topology::declare_exchange(&channel, &self.broker).await?;
        let keys: Vec<&str> = o.routing_keys.iter().map(String::as_str).collect();
        topology::declare_consumer_queue(&channel, self.broker.exchange(), &o.queue, &keys, &o.queue_options)
            .await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        channel.basic_qos(o.prefetch, lapin::options::BasicQosOptions::default()).await?;
        let tag = format!("{}.{}", o.consumer_name, uuid::Uuid::new_v4().simple());
        let mut deliveries = channel
            .basic_consume(
                short(&o.queue)?,
                short(&tag)?,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tracing::info!(queue = %o.queue, "consuming");
        let mut health = tokio::time::interval(Duration::from_millis(500));
        let limit = o.concurrency.clamp(1, usize::from(o.prefetch.max(1)));
        let mut in_flight = FuturesUnordered::new();
        loop {
            tokio::select! {
                biased;
                () = shutdown.wait() => {
                    let _ = channel.basic_cancel(short(&tag)?, BasicCancelOptions::default()).await;
                    // What is being handled finishes (and is acked); prefetched, unacknowledged
                    // deliveries return to the queue with the channel.
                    while let Some(done) = in_flight.next().await {
                        if let Err(e) = done {
                            tracing::warn!(queue = %o.queue, error = %e, "a delivery ended unacked at shutdown");
                        }
                    }
                    let _ = channel.close(200, "consumer stopped".into()).await;
                    return Ok(());
                }
                Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                    done?;
                    backoff.reset();
                }
                _ = health.tick() => {
                    if !channel.status().connected() {
                        return Err(EventsError::Disconnected);
                    }
                }
                next = deliveries.next(), if in_flight.len() < limit => match next {
                    Some(Ok(delivery)) => in_flight.push(self.process(&channel, handler, delivery)),
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(EventsError::Disconnected),
                },
            }
        }
    }

    /// Handles one delivery to the end (applied, retried or dead-lettered) and acks it.
    async fn process<H: EventHandler>(
        &self,
        channel: &Channel,
        handler: &H,
        delivery: Delivery,
    ) -> Result<(), EventsError> {
        // A delivery buffered before the channel died can no longer be acked: it will be
        // redelivered, so doing the work now would only be thrown away.
        if !delivery.acker.usable() || !channel.status().connected() {
            return Err(EventsError::Disconnected);
        }
        let attempts = message::header_int(&delivery.properties, ATTEMPTS_HEADER)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let envelope: Envelope = match serde_json::from_slice(&delivery.data) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(queue = %self.options.queue, error = %e, "undecodable message: dead-lettering");
                self.dead_letter(
                    channel,
                    &delivery,
                    &format!("undecodable envelope: {e}"),
                    attempts.saturating_add(1),
                )
                .await?;
                return ack(&delivery).await;
            }
        };
        let span = tracing::info_span!(
            "event.consume",
            otel.kind = "consumer",
            queue = %self.options.queue,
            event_id = %envelope.id.0,
            event_type = %envelope.event_type,
            attempt = attempts.saturating_add(1),
        );
        telemetry::set_parent_from_headers(&span, &message::trace_headers(&delivery.properties));
        async {
            match self.apply(handler, &envelope).await {
                Ok(applied) => {
                    tracing::debug!(duplicate = !applied, "event handled");
                }
                Err(ApplyError::Handler(e)) if !self.database_ok().await => {
                    // The handler most likely failed because the database went away: not the
                    // event's fault, so no attempt is spent on it.
                    tracing::warn!(error = %e, "handler failed while the database is down: requeueing");
                    let _ = delivery.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await;
                    return Err(EventsError::DatabaseUnavailable(e.message().to_owned()));
                }
                Err(ApplyError::Handler(e)) => {
                    let failed = attempts.saturating_add(1);
                    if e.is_permanent() || failed >= self.options.max_attempts {
                        tracing::warn!(error = %e, attempts = failed, "event failed for good: dead-lettering");
                        self.dead_letter(channel, &delivery, e.message(), failed).await?;
                    } else {
                        let delay = exponential(self.options.base_backoff, self.options.max_backoff, attempts);
                        tracing::info!(error = %e, attempts = failed, retry_in = ?delay, "event failed: will retry");
                        self.retry_later(channel, &delivery, failed, delay).await?;
                    }
                }
                Err(ApplyError::Infra(e)) => {
                    // Not the event's fault: put it back and let the session back off.
                    let _ = delivery.nack(BasicNackOptions { requeue: true, ..BasicNackOptions::default() }).await;
                    return Err(e);
                }
            }
            ack(&delivery).await
        }
        .instrument(span)
        .await
    }

    /// Runs the handler and records the event in one transaction; `Ok(false)` = already applied.
    /// A panicking handler counts as a failed attempt instead of ending the consumer.
    async fn apply<H: EventHandler>(&self, handler: &H, envelope: &Envelope) -> Result<bool, ApplyError> {
        let mut conn = self.pool.get().await.map_err(|e| ApplyError::Infra(e.into()))?;
        let consumer = self.options.consumer_name.as_str();
        let work = conn.transaction::<_, ApplyError, _>(async |c| {
            let inserted = diesel::insert_into(processed_events::table)
                .values((
                    processed_events::consumer.eq(consumer),
                    processed_events::event_id.eq(envelope.id.0),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if inserted == 0 {
                return Ok(false);
            }
            handler.handle(c, envelope).await.map_err(ApplyError::Handler)?;
            Ok(true)
        });
        // After a panic the connection still holds the open transaction, so the pool discards it.
        match AssertUnwindSafe(work).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(ApplyError::Handler(HandlerError::transient(format!("handler panicked: {what}"))))
            }
        }
    }

    /// Sends a copy to `<queue>.retry`, which returns it to the queue after `delay`.
    async fn retry_later(
        &self,
        channel: &Channel,
        delivery: &Delivery,
        failed: u32,
        delay: Duration,
    ) -> Result<(), EventsError> {
        let mut headers = message::without(delivery.properties.headers().as_ref(), &[]);
        message::set_int(&mut headers, ATTEMPTS_HEADER, failed.into());
        message::set_str(&mut headers, ORIGINAL_ROUTING_KEY_HEADER, &original_routing_key(delivery));
        let expiration = delay.as_millis().max(1).to_string();
        let props = delivery.properties.clone().with_headers(headers).with_expiration(expiration.into());
        publish_confirmed(channel, "", &retry_name(&self.options.queue), &delivery.data, props).await
    }

    /// Parks a copy in `<queue>.dlq` with the error.
    async fn dead_letter(
        &self,
        channel: &Channel,
        delivery: &Delivery,
        error: &str,
        attempts: u32,
    ) -> Result<(), EventsError> {
        let mut headers = message::without(delivery.properties.headers().as_ref(), &[]);
        message::set_str(&mut headers, ERROR_HEADER, &message::truncate(error, 2000));
        message::set_int(&mut headers, ATTEMPTS_HEADER, attempts.into());
        message::set_str(&mut headers, ORIGINAL_ROUTING_KEY_HEADER, &original_routing_key(delivery));
        message::set_str(
            &mut headers,
            FAILED_AT_HEADER,
            &Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        );
        message::set_str(&mut headers, "x-consumer", &self.options.consumer_name);
        let props = message::without_expiration(&delivery.properties).with_headers(headers);
        publish_confirmed(channel, "", &dlq_name(&self.options.queue), &delivery.data, props).await
    }
}

/// Acks `delivery`; an ack that cannot be sent (channel gone) ends the session.
async fn ack(delivery: &Delivery) -> Result<(), EventsError> {
    if delivery.ack(BasicAckOptions::default()).await? { Ok(()) } else { Err(EventsError::Disconnected) }
}

/// The routing key the message was first published with (retries arrive via the default exchange).
fn original_routing_key(delivery: &Delivery) -> String {
    message::header_str(&delivery.properties, ORIGINAL_ROUTING_KEY_HEADER)
        .unwrap_or_else(|| delivery.routing_key.as_str().to_owned())
}
