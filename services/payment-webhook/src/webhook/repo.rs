//! The webhook's SQL (`sql_query` with typed rows, docs/adr/0005-one-sql-style.md):
//! `payments.stripe_events`, the log of verified Stripe events, which is also their dedupe key,
//! and the outbox row written with it.

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::events::OutboxRow;
use serde_json::Value;

use super::normalize::StripeEvent;
use crate::schema::stripe_events;

/// Flag: a type this service does not handle.
pub const FLAG_UNHANDLED_TYPE: &str = "unhandled_type";
/// Flag: a handled event published without `order_id` (none in its metadata nor in an earlier
/// event of its PaymentIntent): order resolves it by `payment_intent_id`.
pub const FLAG_MISSING_ORDER_ID: &str = "missing_order_id";
/// Flag: a handled type whose object lacks a field the payment event needs.
pub const FLAG_INVALID_OBJECT: &str = "invalid_object";

/// What is stored besides the event itself.
#[derive(Debug, Clone, Default)]
pub struct Annotations<'a> {
    /// The resolved order.
    pub order_id: Option<i64>,
    /// The PaymentIntent the object names.
    pub payment_intent_id: Option<&'a str>,
    /// The `payment.*` type written to the outbox with it.
    pub published_type: Option<&'static str>,
    /// Why it was not published.
    pub flags: Vec<&'static str>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = Bool)]
    #[allow(dead_code)] // selected only to learn whether a row came back
    inserted: bool,
}

/// Stores `event` unless its id is already stored and, only when this call stored it, writes
/// `outbox` too: one statement, so one transaction and one round trip. `true` when stored.
///
/// A concurrent insert of the same id waits for the other statement and then does nothing,
/// so of any number of simultaneous deliveries exactly one returns `true` and writes the outbox.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    event: &StripeEvent<'_>,
    payload: &Value,
    notes: &Annotations<'_>,
    outbox: Option<&OutboxRow>,
) -> diesel::QueryResult<bool> {
    const EVENT: &str = "INSERT INTO stripe_events (id, type, created, api_version, livemode, payload, \
         order_id, payment_intent_id, published_type, flags) \
         VALUES ($1, $2, to_timestamp($3), $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) DO NOTHING RETURNING true AS inserted";
    let sql = if outbox.is_some() {
        // A data-modifying CTE always runs to completion; it inserts only if the event row did.
        format!(
            "WITH ev AS ({EVENT}), ob AS (INSERT INTO outbox (id, event_type, payload, headers) \
             SELECT $11, $12, $13, $14 FROM ev) SELECT inserted FROM ev"
        )
    } else {
        EVENT.to_owned()
    };
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(event.id)
        .bind::<Text, _>(event.event_type)
        .bind::<BigInt, _>(event.created)
        .bind::<Nullable<Text>, _>(event.api_version)
        .bind::<Bool, _>(event.livemode)
        .bind::<Jsonb, _>(payload)
        .bind::<Nullable<BigInt>, _>(notes.order_id)
        .bind::<Nullable<Text>, _>(notes.payment_intent_id)
        .bind::<Nullable<Text>, _>(notes.published_type)
        .bind::<Array<Text>, _>(&notes.flags);
    let rows: Vec<Inserted> = match outbox {
        Some(row) => {
            query
                .bind::<SqlUuid, _>(row.id)
                .bind::<Text, _>(&row.event_type)
                .bind::<Jsonb, _>(&row.payload)
                .bind::<Jsonb, _>(&row.headers)
                .load(conn)
                .await?
        }
        None => query.load(conn).await?,
    };
    Ok(!rows.is_empty())
}

/// Typed by `schema.rs`: `order_id` is nullable there (the query only returns non-null ones).
#[derive(QueryableByName)]
#[diesel(table_name = stripe_events)]
struct OrderRow {
    order_id: Option<i64>,
}

/// The order of the latest stored event of `payment_intent_id` that had one: how a dispute
/// (whose object Stripe does not give the PaymentIntent's metadata) finds its order.
pub async fn order_for_payment_intent(
    conn: &mut AsyncPgConnection,
    payment_intent_id: &str,
) -> diesel::QueryResult<Option<i64>> {
    let rows: Vec<OrderRow> = diesel::sql_query(
        "SELECT order_id FROM stripe_events WHERE payment_intent_id = $1 AND order_id IS NOT NULL \
         ORDER BY created DESC LIMIT 1",
    )
    .bind::<Text, _>(payment_intent_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().and_then(|r| r.order_id))
}
