//! Checkout idempotency keys: the first request with a key runs the checkout under a lease;
//! later ones with the same key replay its answer, wait for it, or take over a lapsed lease.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bytea, Double, Integer, Jsonb, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// How long a checkout holds its key before another request may take over (a crashed holder).
pub const LEASE: Duration = Duration::from_secs(30);

/// What a request gets for its key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This request runs the checkout (new key, or a lapsed lease taken over).
    Acquired {
        /// The order id allocated by an earlier holder, if it got that far.
        order_id: Option<i64>,
        /// The order access token that goes with the key.
        access_token: String,
    },
    /// Finished before: the stored answer.
    Replay {
        /// HTTP status.
        status: u16,
        /// JSON body.
        body: serde_json::Value,
    },
    /// Another request with this key is running now.
    Busy,
    /// The key was used with another request body.
    Mismatch,
}

#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::idempotency_keys, check_for_backend(diesel::pg::Pg))]
struct Acquired {
    order_id: Option<i64>,
    access_token: String,
}

#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::idempotency_keys, check_for_backend(diesel::pg::Pg))]
struct Existing {
    request_hash: Vec<u8>,
    status: String,
    response_status: Option<i32>,
    response_body: Option<serde_json::Value>,
}

/// Claims `(scope, key)` for a request whose fingerprint is `hash`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    new_token: &str,
) -> diesel::QueryResult<Claim> {
    let lease = LEASE.as_secs_f64();
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
    if let Some(a) = fresh.into_iter().next() {
        return Ok(Claim::Acquired { order_id: a.order_id, access_token: a.access_token });
    }
    // A holder whose lease ran out crashed or stalled: the same request may carry on from
    // wherever it got (every step after this is idempotent).
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
    if let Some(a) = taken.into_iter().next() {
        return Ok(Claim::Acquired { order_id: a.order_id, access_token: a.access_token });
    }
    let rows: Vec<Existing> = diesel::sql_query(
        "SELECT request_hash, status, response_status, response_body FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
    )
    .bind::<Text, _>(scope)
    .bind::<Text, _>(key)
    .load(conn)
    .await?;
    let Some(row) = rows.into_iter().next() else {
        // Deleted between the statements (its holder failed before making anything): try again.
        return Ok(Claim::Busy);
    };
    if row.request_hash != hash {
        return Ok(Claim::Mismatch);
    }
    match (row.status.as_str(), row.response_status, row.response_body) {
        ("completed", Some(status), Some(body)) => {
            Ok(Claim::Replay { status: u16::try_from(status).unwrap_or(500), body })
        }
        _ => Ok(Claim::Busy),
    }
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
