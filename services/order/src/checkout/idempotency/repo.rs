//! The SQL of checkout idempotency keys (`idempotency_keys`).

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bytea, Double, Integer, Jsonb, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A key this request holds.
#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct Acquired {
    /// The order id allocated by an earlier holder, if it got that far.
    pub order_id: Option<i64>,
    /// The order access token that goes with the key.
    pub access_token: String,
}

/// A key held or finished by another request.
#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct Existing {
    /// The fingerprint of the request that made it.
    pub request_hash: Vec<u8>,
    /// `in_progress` or `completed`.
    pub status: String,
    /// The stored answer's status, once completed.
    pub response_status: Option<i32>,
    /// The stored answer's body, once completed.
    pub response_body: Option<serde_json::Value>,
}

/// Creates the key, held for `lease`; `None` when it exists.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    new_token: &str,
    lease: Duration,
) -> diesel::QueryResult<Option<Acquired>> {
    let lease = lease.as_secs_f64();
    let fresh: Vec<Acquired> = diesel::sql_query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, access_token, locked_until) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) \
         ON CONFLICT (scope, key) DO NOTHING RETURNING order_id, access_token",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .bind::<Bytea, _>(hash)
    .bind::<Text, _>(new_token)
    .bind::<Double, _>(lease)
    .load(conn)
    .await?;
    Ok(fresh.into_iter().next())
}

/// Takes over the key of the same request (same `hash`) whose lease lapsed; `None` otherwise.
pub async fn take_over(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    lease: Duration,
) -> diesel::QueryResult<Option<Acquired>> {
    let lease = lease.as_secs_f64();
    let taken: Vec<Acquired> = diesel::sql_query(
        "UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4), updated_at = now() \
         WHERE scope = $1 AND key = $2 AND request_hash = $3 AND status = 'in_progress' AND locked_until < now() \
         RETURNING order_id, access_token",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .bind::<Bytea, _>(hash)
    .bind::<Double, _>(lease)
    .load(conn)
    .await?;
    Ok(taken.into_iter().next())
}

/// The key as it stands.
pub async fn find(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
) -> diesel::QueryResult<Option<Existing>> {
    let rows: Vec<Existing> = diesel::sql_query(
        "SELECT request_hash, status, response_status, response_body FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// Records the order id allocated for the key (before anything names it).
pub async fn set_order(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    order: i64,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE idempotency_keys SET order_id = $3, updated_at = now() WHERE scope = $1 AND key = $2",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(order)
    .execute(conn)
    .await
    .map(drop)
}

/// Stores the final answer; later requests with the key replay it.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4, \
         updated_at = now() WHERE scope = $1 AND key = $2",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .bind::<Integer, _>(i32::from(status))
    .bind::<Jsonb, _>(body)
    .execute(conn)
    .await
    .map(drop)
}

/// Forgets a key whose checkout failed before it made an order: the client may retry it.
pub async fn release(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> diesel::QueryResult<()> {
    diesel::sql_query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'")
        .bind::<Text, _>(scope)
        .bind::<Text, _>(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Ends the lease of a checkout that failed after making its order, so a retry resumes at once.
pub async fn abandon(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE idempotency_keys SET locked_until = now() - interval '1 second', updated_at = now() \
         WHERE scope = $1 AND key = $2 AND status = 'in_progress'",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes keys older than a day (Stripe keeps its keys 24 h too); returns how many.
pub async fn purge(conn: &mut AsyncPgConnection) -> diesel::QueryResult<usize> {
    diesel::sql_query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
        .execute(conn)
        .await
}
