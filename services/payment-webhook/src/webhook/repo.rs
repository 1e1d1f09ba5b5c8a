//! The webhook's SQL (diesel's DSL, and `sql_query` for the intake's CTE; docs/adr/0005):
//! `payments.stripe_events`, the log of verified Stripe events, which is also their dedupe key,
//! and the outbox row written with it.

use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::events::OutboxRow;

use crate::schema::stripe_events;

/// Flag: a type this service does not handle.
pub const FLAG_UNHANDLED_TYPE: &str = "unhandled_type";
/// Flag: a handled event published without `order_id` (none in its metadata nor in an earlier
/// event of its PaymentIntent): order resolves it by `payment_intent_id`.
pub const FLAG_MISSING_ORDER_ID: &str = "missing_order_id";
/// Flag: a handled type whose object lacks a field the payment event needs.
pub const FLAG_INVALID_OBJECT: &str = "invalid_object";

/// One verified event as it is stored, with its outbox row when it is published.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Stripe's `evt_...` id: the primary key, so the dedupe.
    pub id: String,
    /// Stripe's type, e.g. `payment_intent.succeeded`.
    pub event_type: String,
    /// Stripe's `created`, Unix seconds.
    pub created: i64,
    /// The API version the object is rendered in.
    pub api_version: Option<String>,
    /// Live or test mode.
    pub livemode: bool,
    /// The event's JSON text as received (stored as `jsonb`).
    pub payload: String,
    /// The resolved order.
    pub order_id: Option<i64>,
    /// The PaymentIntent the object names.
    pub payment_intent_id: Option<String>,
    /// The `payment.*` type written to the outbox with it.
    pub published_type: Option<&'static str>,
    /// Why it was not published (the `FLAG_*` constants, which contain no comma).
    pub flags: Vec<&'static str>,
    /// Written to the outbox only if this statement stored the event.
    pub outbox: Option<OutboxRow>,
}

/// Typed by `schema.rs`.
#[derive(QueryableByName)]
#[diesel(table_name = stripe_events, check_for_backend(diesel::pg::Pg))]
struct InsertedId {
    id: String,
}

/// Stores every event of `events` whose id is not stored yet and, for exactly those, writes
/// their outbox rows: one statement, so one transaction and one round trip for the batch.
/// Returns the ids it stored.
///
/// `events` must have distinct ids. They are inserted in the order given, so callers that
/// sort them (by id) make concurrent statements take their row locks in one order: two batches
/// sharing ids then wait for each other instead of deadlocking. A concurrent insert of a stored
/// id waits for the other statement and then does nothing, so of any number of simultaneous
/// deliveries of one id exactly one statement stores it and writes its outbox row.
pub async fn insert_batch(
    conn: &mut AsyncPgConnection,
    events: &[&NewEvent],
) -> diesel::QueryResult<Vec<String>> {
    // A data-modifying CTE always runs to completion; `ob` inserts only the rows `ev` stored.
    const SQL: &str = "WITH input AS (\
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::bool[], $6::text[], \
         $7::int8[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS i(id, type, created, \
         api_version, livemode, payload, order_id, payment_intent_id, published_type, flags, n)), \
         ev AS (INSERT INTO stripe_events (id, type, created, api_version, livemode, payload, \
         order_id, payment_intent_id, published_type, flags) \
         SELECT id, type, to_timestamp(created), api_version, livemode, payload::jsonb, order_id, \
         payment_intent_id, published_type, string_to_array(flags, ',') FROM input ORDER BY n \
         ON CONFLICT (id) DO NOTHING RETURNING id), \
         ob AS (INSERT INTO outbox (id, event_type, payload, headers) \
         SELECT o.id, o.event_type, o.payload, o.headers \
         FROM unnest($11::text[], $12::uuid[], $13::text[], $14::jsonb[], $15::jsonb[]) \
         AS o(event_id, id, event_type, payload, headers) JOIN ev ON ev.id = o.event_id) \
         SELECT id FROM ev";
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let created: Vec<i64> = events.iter().map(|e| e.created).collect();
    let api_versions: Vec<Option<&str>> = events.iter().map(|e| e.api_version.as_deref()).collect();
    let livemodes: Vec<bool> = events.iter().map(|e| e.livemode).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    let orders: Vec<Option<i64>> = events.iter().map(|e| e.order_id).collect();
    let intents: Vec<Option<&str>> = events.iter().map(|e| e.payment_intent_id.as_deref()).collect();
    let published: Vec<Option<&str>> = events.iter().map(|e| e.published_type).collect();
    let flags: Vec<String> = events.iter().map(|e| e.flags.join(",")).collect();
    let outbox: Vec<(&str, &OutboxRow)> =
        events.iter().filter_map(|e| Some((e.id.as_str(), e.outbox.as_ref()?))).collect();
    // sql_query: data-modifying CTE over unnest (the event and its outbox row, stored together).
    let rows: Vec<InsertedId> = platform::sql::prepared(
        diesel::sql_query(SQL)
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<Text>, _>(types)
            .bind::<Array<BigInt>, _>(created)
            .bind::<Array<Nullable<Text>>, _>(api_versions)
            .bind::<Array<Bool>, _>(livemodes)
            .bind::<Array<Text>, _>(payloads)
            .bind::<Array<Nullable<BigInt>>, _>(orders)
            .bind::<Array<Nullable<Text>>, _>(intents)
            .bind::<Array<Nullable<Text>>, _>(published)
            .bind::<Array<Text>, _>(flags)
            .bind::<Array<Text>, _>(outbox.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind::<Array<SqlUuid>, _>(outbox.iter().map(|(_, r)| r.id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(outbox.iter().map(|(_, r)| r.event_type.as_str()).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(outbox.iter().map(|(_, r)| &r.payload).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(outbox.iter().map(|(_, r)| &r.headers).collect::<Vec<_>>()),
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The order of the latest stored event of `payment_intent_id` that had one: how a dispute
/// (whose object Stripe does not give the PaymentIntent's metadata) finds its order.
pub async fn order_for_payment_intent(
    conn: &mut AsyncPgConnection,
    payment_intent_id: &str,
) -> diesel::QueryResult<Option<i64>> {
    let order: Option<Option<i64>> = stripe_events::table
        .filter(stripe_events::payment_intent_id.eq(payment_intent_id))
        .filter(stripe_events::order_id.is_not_null())
        .order(stripe_events::created.desc())
        .select(stripe_events::order_id)
        .first(conn)
        .await
        .optional()?;
    Ok(order.flatten())
}

/// Whether `conn` still answers (a failed statement leaves it usable; a dropped backend does not).
pub async fn alive(conn: &mut AsyncPgConnection) -> bool {
    platform::sql::ping(conn).await.is_ok()
}
