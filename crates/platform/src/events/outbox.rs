//! Writing events to the transactional outbox (the relay publishes them once committed).

use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::events::Envelope;

use super::tables::schema::outbox;
use crate::telemetry;

/// The `NOTIFY` channel the relay of `schema` listens on (one per schema: services may share
/// a database, and only the owner of an outbox needs waking).
pub(crate) fn notify_channel(schema: &str) -> String {
    format!("outbox_{schema}")
}

/// Adds `envelope` to the outbox inside the caller's open transaction, with the current trace
/// context, and wakes the relay when that transaction commits (`NOTIFY` waits for the commit).
///
/// Fails (without writing) when the event type cannot be an AMQP routing key (1 to 255 bytes):
/// such a row could never be published.
pub async fn enqueue(conn: &mut AsyncPgConnection, envelope: &Envelope) -> QueryResult<()> {
    enqueue_without_notify(conn, envelope).await?;
    notify(conn).await
}

/// Wakes the schema's relays when the caller's transaction commits (`NOTIFY`): for a writer that
/// used [`enqueue_without_notify`] and cannot wake its relay after the commit itself (a
/// consumer, whose transaction the consumer loop commits).
pub async fn notify(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    // The connection's search_path starts with the service's schema, so current_schema() is it.
    // sql_query: pg_notify returns `void`, which no diesel type reads.
    crate::sql::prepared(diesel::sql_query("SELECT pg_notify('outbox_' || current_schema(), '')"))
        .execute(conn)
        .await?;
    Ok(())
}

/// [`enqueue`] without the `NOTIFY`, for high-rate writers: PostgreSQL serialises the commits of
/// notifying transactions (one lock per database), which caps them at one WAL flush each. The
/// writer wakes its in-process relay instead ([`super::Relay::waker`]); other relays find the
/// rows on their poll.
pub async fn enqueue_without_notify(conn: &mut AsyncPgConnection, envelope: &Envelope) -> QueryResult<()> {
    let row = OutboxRow::new(envelope)?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(row.id),
            outbox::event_type.eq(&row.event_type),
            outbox::payload.eq(&row.payload),
            outbox::headers.eq(&row.headers),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The column values of one outbox row, for a writer that inserts it inside its own statement
/// (e.g. a data-modifying CTE that writes its state change and the event in one round trip).
/// Insert them as `INSERT INTO outbox (id, event_type, payload, headers)`.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The envelope id.
    pub id: uuid::Uuid,
    /// The routing key.
    pub event_type: String,
    /// The whole envelope.
    pub payload: serde_json::Value,
    /// The current trace context (`traceparent` / `tracestate`).
    pub headers: serde_json::Value,
}

impl OutboxRow {
    /// The row for `envelope` with the current trace context. Fails when the event type cannot
    /// be an AMQP routing key (1 to 255 bytes): such a row could never be published.
    pub fn new(envelope: &Envelope) -> QueryResult<Self> {
        let key_len = envelope.event_type.len();
        if key_len == 0 || key_len > 255 {
            return Err(diesel::result::Error::SerializationError(
                format!("event type must be 1 to 255 bytes, got {key_len}").into(),
            ));
        }
        let payload = serde_json::to_value(envelope)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let headers = serde_json::to_value(telemetry::current_trace_headers())
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Ok(Self { id: envelope.id.0, event_type: envelope.event_type.clone(), payload, headers })
    }
}

/// How many outbox rows wait to be published (for a metrics gauge).
pub async fn pending_count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    outbox::table.filter(outbox::published_at.is_null()).count().get_result(conn).await
}
