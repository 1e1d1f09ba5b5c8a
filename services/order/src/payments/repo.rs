//! SQL of payments: the status history, disputes, refund rows and the paid/refunded columns.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use uuid::Uuid;

/// One line of the payment history of an order.
#[derive(Debug, Clone)]
pub struct History<'a> {
    /// The order.
    pub order: OrderId,
    /// The PaymentIntent the event was about.
    pub payment_intent_id: &'a str,
    /// e.g. `payment.succeeded`, `reconcile.succeeded`.
    pub event_type: &'a str,
    /// The Stripe event, when there was one.
    pub stripe_event_id: Option<&'a str>,
    /// Payment status before.
    pub from: &'a str,
    /// Payment status after (the same when ignored).
    pub to: &'a str,
    /// Why it was ignored, or anything else worth keeping.
    pub note: Option<&'a str>,
}

/// Appends to the history and records the latest Stripe-side status on the payment row.
pub async fn record(conn: &mut AsyncPgConnection, h: &History<'_>) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO payment_status_history (order_id, payment_intent_id, event_type, stripe_event_id, \
         from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<BigInt, _>(h.order.get())
    .bind::<Text, _>(h.payment_intent_id)
    .bind::<Text, _>(h.event_type)
    .bind::<Nullable<Text>, _>(h.stripe_event_id)
    .bind::<Text, _>(h.from)
    .bind::<Text, _>(h.to)
    .bind::<Nullable<Text>, _>(h.note)
    .execute(&mut *conn)
    .await?;
    diesel::sql_query("UPDATE payments SET status = $2, updated_at = now() WHERE payment_intent_id = $1")
        .bind::<Text, _>(h.payment_intent_id)
        .bind::<Text, _>(h.event_type.rsplit('.').next().unwrap_or(h.event_type))
        .execute(conn)
        .await
        .map(drop)
}

/// Attaches a PaymentIntent first learnt from an event (the checkout crashed before storing it).
pub async fn attach(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    payment_intent: &str,
    amount: i64,
    currency: &str,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE orders SET payment_intent_id = $2, updated_at = now() WHERE id = $1 AND payment_intent_id IS NULL",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(payment_intent)
    .execute(&mut *conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO payments (order_id, payment_intent_id, amount_cents, currency, status) \
         VALUES ($1, $2, $3, $4, 'created') ON CONFLICT (payment_intent_id) DO NOTHING",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(payment_intent)
    .bind::<BigInt, _>(amount)
    .bind::<Text, _>(currency)
    .execute(conn)
    .await
    .map(drop)
}

/// Points an order line at a new reservation.
pub async fn set_reservation(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    old: Option<Uuid>,
    product: i64,
    new: Uuid,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE order_items SET reservation_id = $4 WHERE id = (SELECT id FROM order_items WHERE order_id = $1 \
         AND product_id = $3 AND reservation_id IS NOT DISTINCT FROM $2 ORDER BY id LIMIT 1)",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Nullable<SqlUuid>, _>(old)
    .bind::<BigInt, _>(product)
    .bind::<SqlUuid, _>(new)
    .execute(conn)
    .await
    .map(drop)
}

/// A refund row (admin or automatic), before Stripe is asked; `None` when the key exists.
pub async fn insert_refund(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    amount: i64,
    reason: Option<&str>,
    key: &str,
    by: &str,
) -> diesel::QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    #[diesel(table_name = crate::schema::refunds, check_for_backend(diesel::pg::Pg))]
    struct Id {
        id: i64,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "INSERT INTO refunds (order_id, amount_cents, reason, idempotency_key, requested_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<BigInt, _>(amount)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Text, _>(key)
    .bind::<Text, _>(by)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|r| r.id))
}

/// Stripe's answer to a refund.
pub async fn finish_refund(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    key: &str,
    status: &str,
    stripe_id: Option<&str>,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE refunds SET status = $3, stripe_refund_id = coalesce($4, stripe_refund_id), updated_at = now() \
         WHERE order_id = $1 AND idempotency_key = $2",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(key)
    .bind::<Text, _>(status)
    .bind::<Nullable<Text>, _>(stripe_id)
    .execute(conn)
    .await
    .map(drop)
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Money refunded or being refunded (pending rows count: never more than paid, even mid-call).
pub async fn committed_refunds(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<i64> {
    let s: Sum = diesel::sql_query(
        "SELECT coalesce(sum(amount_cents), 0)::bigint AS total FROM refunds WHERE order_id = $1 AND status <> 'failed'",
    )
    .bind::<BigInt, _>(order.get())
    .get_result(conn)
    .await?;
    Ok(s.total)
}
