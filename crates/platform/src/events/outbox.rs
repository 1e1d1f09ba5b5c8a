//! Writing events to the transactional outbox (the relay publishes them once committed).

use diesel::QueryResult;
use diesel::sql_types::{BigInt, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::events::Envelope;

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
    // The connection's search_path starts with the service's schema, so current_schema() is it.
    diesel::sql_query("SELECT pg_notify('outbox_' || current_schema(), '')").execute(conn).await?;
    Ok(())
}

/// [`enqueue`] without the `NOTIFY`, for high-rate writers: PostgreSQL serialises the commits of
/// notifying transactions (one lock per database), which caps them at one WAL flush each. The
/// writer wakes its in-process relay instead ([`super::Relay::waker`]); other relays find the
/// rows on their poll.
pub async fn enqueue_without_notify(conn: &mut AsyncPgConnection, envelope: &Envelope) -> QueryResult<()> {
    let row = OutboxRow::new(envelope)?;
    diesel::sql_query("INSERT INTO outbox (id, event_type, payload, headers) VALUES ($1, $2, $3, $4)")
        .bind::<SqlUuid, _>(row.id)
        .bind::<Text, _>(&row.event_type)
        .bind::<Jsonb, _>(&row.payload)
        .bind::<Jsonb, _>(&row.headers)
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

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many outbox rows wait to be published (for a metrics gauge).
pub async fn pending_count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let row: Count = diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
        .get_result(conn)
        .await?;
    Ok(row.n)
}
