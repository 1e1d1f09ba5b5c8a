//! The sweeper's SQL: which orders are due to expire or stuck in `processing`.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;

#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::orders, check_for_backend(diesel::pg::Pg))]
struct Id {
    id: i64,
}

async fn ids(
    conn: &mut AsyncPgConnection,
    sql: &str,
    seconds: f64,
    limit: i64,
) -> diesel::QueryResult<Vec<i64>> {
    let rows: Vec<Id> =
        diesel::sql_query(sql).bind::<Double, _>(seconds).bind::<BigInt, _>(limit).load(conn).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

const DUE: &str = "SELECT id FROM orders WHERE status = 'pending_payment' \
    AND payment_status IN ('pending', 'failed') AND expires_at <= now() - make_interval(secs => $1) \
    ORDER BY expires_at LIMIT $2";

const STUCK: &str = "SELECT id FROM orders WHERE payment_status = 'processing' \
    AND coalesce(payment_synced_at, updated_at) <= now() - make_interval(secs => $1) \
    AND id NOT IN (SELECT order_id FROM payment_syncs) ORDER BY updated_at LIMIT $2";

/// Up to `limit` unpaid orders past their expiry, oldest expiry first.
pub async fn due(conn: &mut AsyncPgConnection, limit: i64) -> diesel::QueryResult<Vec<i64>> {
    ids(conn, DUE, 0.0, limit).await
}

/// Up to `limit` orders `processing` for `after_secs` without a sync queued.
pub async fn stuck(
    conn: &mut AsyncPgConnection,
    after_secs: f64,
    limit: i64,
) -> diesel::QueryResult<Vec<i64>> {
    ids(conn, STUCK, after_secs, limit).await
}

/// Looks at an unpaid order again in five minutes (its money moved: a sync is queued).
pub async fn postpone_expiry(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE orders SET expires_at = now() + interval '5 minutes' WHERE id = $1 AND status = 'pending_payment'",
    )
    .bind::<BigInt, _>(order.get())
    .execute(conn)
    .await
    .map(drop)
}
