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
    let key_len = envelope.event_type.len();
    if key_len == 0 || key_len > 255 {
        return Err(diesel::result::Error::SerializationError(
            format!("event type must be 1 to 255 bytes, got {key_len}").into(),
        ));
    }
    let payload =
        serde_json::to_value(envelope).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let headers = serde_json::to_value(telemetry::current_trace_headers())
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::sql_query("INSERT INTO outbox (id, event_type, payload, headers) VALUES ($1, $2, $3, $4)")
        .bind::<SqlUuid, _>(envelope.id.0)
        .bind::<Text, _>(&envelope.event_type)
        .bind::<Jsonb, _>(payload)
        .bind::<Jsonb, _>(headers)
        .execute(conn)
        .await?;
    Ok(())
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
