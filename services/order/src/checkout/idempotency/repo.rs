//! The SQL of checkout idempotency keys (`idempotency_keys`).

use std::time::Duration;

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::sql::{PrepareOnce, duration, now_minus, now_plus};

use crate::schema::idempotency_keys as keys;

/// A key this request holds.
#[derive(Queryable, Selectable)]
#[diesel(table_name = crate::schema::idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct Acquired {
    /// The order id allocated by an earlier holder, if it got that far.
    pub order_id: Option<i64>,
    /// The order access token that goes with the key.
    pub access_token: String,
}

/// A key held or finished by another request.
#[derive(Queryable, Selectable)]
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

/// The key of `scope` and `key`.
macro_rules! the_key {
    ($scope:expr, $key:expr) => {
        keys::table.filter(keys::scope.eq($scope)).filter(keys::key.eq($key))
    };
}

/// Creates the key, held for `lease` (on the database's clock); `None` when it exists.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    new_token: &str,
    lease: Duration,
) -> diesel::QueryResult<Option<Acquired>> {
    diesel::insert_into(keys::table)
        .values((
            keys::scope.eq(scope),
            keys::key.eq(key),
            keys::request_hash.eq(hash),
            keys::access_token.eq(new_token),
            keys::locked_until.eq(now_plus(duration(lease))),
        ))
        .on_conflict((keys::scope, keys::key))
        .do_nothing()
        .returning(Acquired::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Takes over the key of the same request (same `hash`) whose lease lapsed; `None` otherwise.
pub async fn take_over(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    lease: Duration,
) -> diesel::QueryResult<Option<Acquired>> {
    diesel::update(
        the_key!(scope, key)
            .filter(keys::request_hash.eq(hash))
            .filter(keys::status.eq("in_progress"))
            .filter(keys::locked_until.lt(diesel::dsl::now)),
    )
    .set((keys::locked_until.eq(now_plus(duration(lease))), keys::updated_at.eq(diesel::dsl::now)))
    .returning(Acquired::as_returning())
    .prepared()
    .get_result(conn)
    .await
    .optional()
}

/// The key as it stands.
pub async fn find(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
) -> diesel::QueryResult<Option<Existing>> {
    the_key!(scope, key).select(Existing::as_select()).first(conn).await.optional()
}

/// Records the order id allocated for the key (before anything names it).
pub async fn set_order(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    order: i64,
) -> diesel::QueryResult<()> {
    diesel::update(the_key!(scope, key))
        .set((keys::order_id.eq(order), keys::updated_at.eq(diesel::dsl::now)))
        .prepared()
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
    diesel::update(the_key!(scope, key))
        .set((
            keys::status.eq("completed"),
            keys::response_status.eq(i32::from(status)),
            keys::response_body.eq(body),
            keys::updated_at.eq(diesel::dsl::now),
        ))
        .prepared()
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets a key whose checkout failed before it made an order: the client may retry it.
pub async fn release(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> diesel::QueryResult<()> {
    diesel::delete(the_key!(scope, key).filter(keys::status.eq("in_progress"))).execute(conn).await.map(drop)
}

/// Ends the lease of a checkout that failed after making its order, so a retry resumes at once.
pub async fn abandon(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> diesel::QueryResult<()> {
    diesel::update(the_key!(scope, key).filter(keys::status.eq("in_progress")))
        .set((
            keys::locked_until.eq(now_minus(duration(Duration::from_secs(1)))),
            keys::updated_at.eq(diesel::dsl::now),
        ))
        .prepared()
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes keys older than a day (Stripe keeps its keys 24 h too); returns how many.
pub async fn purge(conn: &mut AsyncPgConnection) -> diesel::QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::created_at.lt(now_minus(duration(Duration::from_secs(86_400))))))
        .execute(conn)
        .await
}
