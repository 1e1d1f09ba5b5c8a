//! The outbox relay: publishes committed outbox rows with publisher confirms, then marks them.
//!
//! Each round locks a batch of unpublished rows (`FOR UPDATE SKIP LOCKED`, so replicas share
//! the work), publishes them all (pipelined: every message is sent before the first confirm is
//! awaited), waits for every confirm and marks them published, all in one transaction. A broker failure rolls the round back: the rows stay for the next round. The
//! relay wakes on `NOTIFY` from [`super::enqueue`], with a poll interval as a safety net.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods, NullableExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation};
use tokio::sync::{Mutex, Notify};
use tracing::Instrument;
use uuid::Uuid;

use super::backoff::Backoff;
use super::message::{self, CONFIRM_TIMEOUT, short};
use super::tables::schema::outbox as outbox_table;
use super::{Broker, EventsError, outbox, topology};
use crate::db::PgPool;
use crate::shutdown::Shutdown;
use crate::sql::PrepareOnce;
use crate::telemetry;

/// Most batches published after the stop signal.
const FLUSH_ROUNDS: usize = 100;

/// Tuning of the relay.
#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    /// Most rows published per transaction.
    pub batch_size: u32,
    /// Safety-net poll when no `NOTIFY` arrives.
    pub poll_interval: Duration,
    /// How long published rows are kept before being deleted.
    pub retention: Duration,
    /// How often old published rows are deleted.
    pub cleanup_interval: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval: Duration::from_secs(1),
            retention: Duration::from_secs(7 * 24 * 3600),
            cleanup_interval: Duration::from_secs(600),
        }
    }
}

/// Publishes the outbox of one schema.
pub struct Relay {
    pool: PgPool,
    database_url: String,
    schema: String,
    broker: Arc<Broker>,
    options: RelayOptions,
    channel: Mutex<Option<Channel>>,
    wake: Arc<Notify>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox_table, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: Uuid,
    event_type: String,
    payload: serde_json::Value,
    headers: serde_json::Value,
}

impl Relay {
    /// A relay for the outbox in `schema`; `database_url` is used for its `LISTEN` connection.
    pub fn new(
        pool: PgPool,
        database_url: String,
        schema: String,
        broker: Arc<Broker>,
        options: RelayOptions,
    ) -> Self {
        // A zero batch would never make progress.
        let options = RelayOptions { batch_size: options.batch_size.max(1), ..options };
        Self { pool, database_url, schema, broker, options, channel: Mutex::new(None), wake: Arc::default() }
    }

    /// Uses `wake` as this relay's waker (made before the relay, e.g. by the service runner).
    #[must_use]
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Wakes this relay when notified: for rows written with [`super::outbox::enqueue_without_notify`]
    /// in this process, call `notify_one()` after the transaction commits.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Runs until `shutdown`: publishes whenever woken or every poll interval.
    pub async fn run(self, mut shutdown: Shutdown) {
        let wake = Arc::clone(&self.wake);
        let listener = tokio::spawn(super::listen::listen(
            self.database_url.clone(),
            self.schema.clone(),
            outbox::notify_channel(&self.schema),
            Arc::clone(&wake),
            shutdown.clone(),
        ));
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(15));
        let mut next_cleanup = tokio::time::Instant::now();
        while !shutdown.is_triggered() {
            if tokio::time::Instant::now() >= next_cleanup {
                match self.delete_published().await {
                    Ok(n) if n > 0 => tracing::debug!(deleted = n, "old outbox rows deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox cleanup failed"),
                }
                next_cleanup = tokio::time::Instant::now() + self.options.cleanup_interval;
            }
            let pause = match self.publish_pending_once().await {
                Ok(n) if n >= self.options.batch_size as usize => {
                    backoff.reset();
                    continue; // more may be waiting
                }
                Ok(_) => {
                    backoff.reset();
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay round failed; will retry");
                    Some(backoff.next_delay())
                }
            };
            match pause {
                // After a failure wait out the back-off, whatever wakes us.
                Some(delay) => {
                    tokio::select! {
                        () = shutdown.wait() => {}
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                None => {
                    tokio::select! {
                        () = shutdown.wait() => {}
                        () = wake.notified() => {}
                        () = tokio::time::sleep(self.options.poll_interval) => {}
                    }
                }
            }
        }
        listener.abort();
        // Flush: what requests and consumers wrote before the stop is published now rather
        // than left to another replica (bounded; the runner also bounds it in time).
        for _ in 0..FLUSH_ROUNDS {
            match self.publish_pending_once().await {
                Ok(n) if n >= self.options.batch_size as usize => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox flush at shutdown failed; rows stay for the next relay");
                    break;
                }
            }
        }
        if let Some(channel) = self.channel.lock().await.take() {
            let _ = channel.close(200, "relay stopped".into()).await;
        }
    }

    /// Publishes one batch of pending rows; returns how many were published.
    pub async fn publish_pending_once(&self) -> Result<usize, EventsError> {
        let channel = self.channel().await?;
        let mut conn = self.pool.get().await?;
        let limit = i64::from(self.options.batch_size);
        let mut locked = Vec::new();
        let result = conn
            .transaction::<_, EventsError, _>(async |c| {
                publish_batch(c, &channel, self.broker.exchange(), limit, &mut locked).await
            })
            .await;
        if let Err(e) = &result {
            record_failure(&mut conn, &locked, e).await;
            // Start the next round on a fresh channel (dropping this one closes it).
            self.channel.lock().await.take();
        }
        result
    }

    /// The relay's confirm-mode channel, opened (with the exchange declared) when needed.
    async fn channel(&self) -> Result<Channel, EventsError> {
        let mut guard = self.channel.lock().await;
        if let Some(channel) = guard.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        let channel = self.broker.channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        topology::declare_exchange(&channel, &self.broker).await?;
        *guard = Some(channel.clone());
        Ok(channel)
    }

    async fn delete_published(&self) -> Result<usize, EventsError> {
        let mut conn = self.pool.get().await?;
        // The sub-select reads the same table under another name (SQL needs none; diesel does).
        let old = diesel::alias!(outbox_table as published);
        let cutoff = crate::sql::now_minus(crate::sql::duration(self.options.retention)).nullable();
        let published = old
            .filter(old.field(outbox_table::published_at).is_not_null())
            .filter(old.field(outbox_table::published_at).lt(cutoff))
            .select(old.field(outbox_table::id))
            .limit(10_000);
        let n = diesel::delete(outbox_table::table.filter(outbox_table::id.eq_any(published)))
            .execute(&mut conn)
            .await?;
        Ok(n)
    }
}

/// Locks, publishes, confirms and marks one batch (runs inside the transaction); the locked
/// ids are left in `locked` so a failure can be recorded on them.
async fn publish_batch(
    conn: &mut AsyncPgConnection,
    channel: &Channel,
    exchange: &str,
    limit: i64,
    locked: &mut Vec<Uuid>,
) -> Result<usize, EventsError> {
    let rows: Vec<Row> = outbox_table::table
        .filter(outbox_table::published_at.is_null())
        .order(outbox_table::created_at)
        .limit(limit)
        .select(Row::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    locked.extend(rows.iter().map(|r| r.id));
    // Every publish of the batch is handed to the connection's I/O loop before any is awaited, so
    // the loop writes them together: awaiting each in turn cost two thread wake-ups and a socket
    // write per message. Each publish takes its delivery tag and queues its frames in one step,
    // so tags match messages whatever order the futures finish in.
    let publishes = rows.iter().map(|row| {
        let span = tracing::info_span!("event.publish", otel.kind = "producer", event_id = %row.id, event_type = %row.event_type);
        let stored: HashMap<String, String> = serde_json::from_value(row.headers.clone()).unwrap_or_default();
        telemetry::set_parent_from_headers(&span, &stored);
        async move { publish_row(channel, exchange, row, &stored).await }.instrument(span)
    });
    let confirms = futures_util::future::try_join_all(publishes).await?;
    for confirm in confirms {
        match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
            Err(_) => return Err(EventsError::Timeout("publisher confirm")),
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(Confirmation::Nack(_))) => return Err(EventsError::Nacked),
            Ok(Ok(_)) => {}
        }
    }
    diesel::update(outbox_table::table.filter(outbox_table::id.eq_any(&*locked)))
        .set((
            outbox_table::published_at.eq(diesel::dsl::now),
            outbox_table::attempts.eq(outbox_table::attempts + 1),
        ))
        .prepared()
        .execute(conn)
        .await?;
    tracing::debug!(count = locked.len(), "outbox rows published");
    Ok(locked.len())
}

/// Publishes one row (in the current span, whose context goes into the message headers).
async fn publish_row(
    channel: &Channel,
    exchange: &str,
    row: &Row,
    stored: &HashMap<String, String>,
) -> Result<lapin::PublisherConfirm, EventsError> {
    let mut trace = telemetry::current_trace_headers();
    if trace.is_empty() {
        // No tracing layer in this process: pass the producer's context through unchanged.
        trace.clone_from(stored);
    }
    let mut headers = FieldTable::default();
    message::set_trace(&mut headers, &trace);
    let occurred_at = row
        .payload
        .get("occurred_at")
        .and_then(|v| v.as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let mut props = BasicProperties::default()
        .with_message_id(short(&row.id.to_string())?)
        .with_type(short(&row.event_type)?)
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_timestamp(u64::try_from(occurred_at.timestamp()).unwrap_or(0))
        .with_headers(headers);
    // Optional properties: left out rather than failing the batch when too long for AMQP.
    let optional = |key: &str| {
        let value = row.payload.get(key)?.as_str()?;
        lapin::types::ShortString::try_new(value).ok()
    };
    if let Some(correlation) = optional("correlation_id") {
        props = props.with_correlation_id(correlation);
    }
    if let Some(source) = optional("source") {
        props = props.with_app_id(source);
    }
    // A JSON value's Display is its compact JSON text.
    let body = row.payload.to_string().into_bytes();
    let confirm = channel
        .basic_publish(
            short(exchange)?,
            short(&row.event_type)?,
            BasicPublishOptions::default(),
            &body,
            props,
        )
        .await?;
    Ok(confirm)
}

/// Counts a failed round on its rows (best effort, outside the rolled-back transaction).
async fn record_failure(conn: &mut AsyncPgConnection, ids: &[Uuid], error: &EventsError) {
    if ids.is_empty() {
        return;
    }
    let _ = diesel::update(outbox_table::table.filter(outbox_table::id.eq_any(ids)))
        .set((
            outbox_table::attempts.eq(outbox_table::attempts + 1),
            outbox_table::last_error.eq(message::truncate(&error.to_string(), 1000)),
        ))
        .prepared()
        .execute(conn)
        .await;
}
