//! The sweeper's SQL: which orders are due to expire or stuck in `processing`.

use diesel::{BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use platform::sql::{coalesce, now_minus, now_plus, secs, text_const};

use crate::orders::repo::status;
use crate::schema::{orders, payment_syncs};

/// Up to `limit` unpaid orders past their expiry, oldest expiry first.
pub async fn due(conn: &mut AsyncPgConnection, limit: i64) -> diesel::QueryResult<Vec<i64>> {
    orders::table
        // Constants in the text: the generic plan then matches orders_unpaid_expiry_idx.
        .filter(orders::status.eq(text_const(status::PENDING_PAYMENT)))
        .filter(
            orders::payment_status
                .eq(text_const("pending"))
                .or(orders::payment_status.eq(text_const("failed"))),
        )
        .filter(orders::expires_at.le(diesel::dsl::now))
        .order(orders::expires_at)
        .limit(limit)
        .select(orders::id)
        .load(conn)
        .await
}

/// Up to `limit` orders `processing` for `after_secs` without a sync queued.
pub async fn stuck(
    conn: &mut AsyncPgConnection,
    after_secs: f64,
    limit: i64,
) -> diesel::QueryResult<Vec<i64>> {
    let queued = payment_syncs::table.select(payment_syncs::order_id);
    orders::table
        .filter(orders::payment_status.eq(text_const("processing")))
        .filter(
            coalesce(orders::payment_synced_at, orders::updated_at.nullable())
                .le(now_minus(secs(after_secs)).nullable()),
        )
        .filter(orders::id.ne_all(queued))
        .order(orders::updated_at)
        .limit(limit)
        .select(orders::id)
        .load(conn)
        .await
}

/// Looks at an unpaid order again in five minutes (its money moved: a sync is queued).
pub async fn postpone_expiry(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<()> {
    diesel::update(orders::table.find(order.get()).filter(orders::status.eq(status::PENDING_PAYMENT)))
        .set(orders::expires_at.eq(now_plus(secs(300.0))))
        .execute(conn)
        .await
        .map(drop)
}
