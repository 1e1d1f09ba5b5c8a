//! Checkout idempotency keys: the first request with a key runs the checkout under a lease;
//! later ones with the same key replay its answer, wait for it, or take over a lapsed lease.

pub mod repo;

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use platform::db::PgPool;
use platform::http::ApiError;

/// How long a checkout holds its key before another request may take over (a crashed holder).
pub const LEASE: Duration = Duration::from_secs(30);

/// How long a duplicate request waits for the first one before answering 409.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);
/// How often it looks again meanwhile.
const WAIT_STEP: Duration = Duration::from_millis(25);

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

/// Claims `(scope, key)` for a request whose fingerprint is `hash`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    new_token: &str,
) -> diesel::QueryResult<Claim> {
    if let Some(a) = repo::insert(conn, scope, key, hash, new_token, LEASE).await? {
        return Ok(Claim::Acquired { order_id: a.order_id, access_token: a.access_token });
    }
    // A holder whose lease ran out crashed or stalled: the same request may carry on from
    // wherever it got (every step after this is idempotent).
    if let Some(a) = repo::take_over(conn, scope, key, hash, LEASE).await? {
        return Ok(Claim::Acquired { order_id: a.order_id, access_token: a.access_token });
    }
    let Some(row) = repo::find(conn, scope, key).await? else {
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

/// [`claim`], waiting up to [`WAIT_FOR_FIRST`] while another request with the key runs (a
/// client's quick retry gets the first one's answer instead of a 409); a new access token is
/// drawn for the case the claim is new.
pub async fn claim_waiting(pool: &PgPool, scope: &str, key: &str, hash: &[u8]) -> Result<Claim, ApiError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        let claim = {
            let mut conn = pool.get().await?;
            claim(&mut conn, scope, key, hash, &platform::token::generate()).await?
        };
        if claim != Claim::Busy || tokio::time::Instant::now() >= deadline {
            return Ok(claim);
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}
