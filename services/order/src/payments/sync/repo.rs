//! SQL of the payment sync: its queue, the ledger, repairs, and the order's money columns.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use domain::order::PaymentStatus;

/// The `NOTIFY` channel that wakes the syncer when a sync is requested (delivered at commit).
pub const CHANNEL: &str = "orders_payment_sync";

/// Asks for the order's payment to be read again from Stripe; a request already queued is kept
/// (and marked newer, so a sync running now is followed by one more).
pub async fn request(conn: &mut AsyncPgConnection, order: OrderId, reason: &str) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO payment_syncs (order_id, reason) VALUES ($1, $2) \
         ON CONFLICT (order_id) DO UPDATE SET requested_at = clock_timestamp(), reason = EXCLUDED.reason",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(reason)
    .execute(&mut *conn)
    .await?;
    diesel::sql_query(format!("SELECT pg_notify('{CHANNEL}', '')")).execute(conn).await.map(drop)
}

/// A sync taken by this syncer.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = crate::schema::payment_syncs, check_for_backend(diesel::pg::Pg))]
pub struct Claimed {
    /// The order.
    pub order_id: i64,
    /// The request this pass answers (a newer one keeps the row).
    pub requested_at: DateTime<Utc>,
    /// Passes so far, this one included.
    pub attempts: i32,
    /// Who asked last (an event type, `sweeper.*`, `refund.admin`).
    pub reason: String,
}

/// Takes up to `limit` due syncs for `lease` seconds (other syncers skip them meanwhile).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: f64,
) -> diesel::QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "UPDATE payment_syncs s SET due_at = now() + make_interval(secs => $2), attempts = s.attempts + 1 \
         FROM (SELECT order_id FROM payment_syncs WHERE due_at <= now() ORDER BY due_at LIMIT $1 \
               FOR UPDATE SKIP LOCKED) d \
         WHERE s.order_id = d.order_id RETURNING s.order_id, s.requested_at, s.attempts, s.reason",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Double, _>(lease)
    .load(conn)
    .await
}

/// The sync answered its request: the row goes, unless a newer request came meanwhile (then it
/// is due again at once).
pub async fn finish(conn: &mut AsyncPgConnection, c: &Claimed) -> diesel::QueryResult<()> {
    let n = diesel::sql_query("DELETE FROM payment_syncs WHERE order_id = $1 AND requested_at = $2")
        .bind::<BigInt, _>(c.order_id)
        .bind::<Timestamptz, _>(c.requested_at)
        .execute(&mut *conn)
        .await?;
    if n == 0 {
        diesel::sql_query("UPDATE payment_syncs SET due_at = now(), attempts = 0 WHERE order_id = $1")
            .bind::<BigInt, _>(c.order_id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The sync failed: try again after `delay` seconds.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    order: i64,
    delay: f64,
    error: &str,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE payment_syncs SET due_at = now() + make_interval(secs => $2), last_error = $3 WHERE order_id = $1",
    )
    .bind::<BigInt, _>(order)
    .bind::<Double, _>(delay)
    .bind::<Text, _>(error)
    .execute(conn)
    .await
    .map(drop)
}

/// Requests a sync for up to `limit` orders with a PaymentIntent created in the last `window`
/// seconds and not compared with Stripe for `age` seconds (the rolling reconciliation).
pub async fn request_stale(
    conn: &mut AsyncPgConnection,
    window: f64,
    age: f64,
    limit: i64,
    reason: &str,
) -> diesel::QueryResult<usize> {
    let n = diesel::sql_query(
        "INSERT INTO payment_syncs (order_id, reason) \
         SELECT id, $4 FROM orders WHERE payment_intent_id IS NOT NULL \
           AND created_at >= now() - make_interval(secs => $1) \
           AND (payment_synced_at IS NULL OR payment_synced_at <= now() - make_interval(secs => $2)) \
         ORDER BY payment_synced_at NULLS FIRST, id LIMIT $3 \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind::<Double, _>(window)
    .bind::<Double, _>(age)
    .bind::<BigInt, _>(limit)
    .bind::<Text, _>(reason)
    .execute(&mut *conn)
    .await?;
    if n > 0 {
        diesel::sql_query(format!("SELECT pg_notify('{CHANNEL}', '')")).execute(conn).await?;
    }
    Ok(n)
}

#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::orders, check_for_backend(diesel::pg::Pg))]
struct Id {
    id: i64,
}

/// Orders with a PaymentIntent created since `since` (for `order reconcile`), oldest first.
pub async fn orders_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    after: i64,
    limit: i64,
) -> diesel::QueryResult<Vec<i64>> {
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT id FROM orders WHERE payment_intent_id IS NOT NULL AND created_at >= $1 AND id > $2 \
         ORDER BY id LIMIT $3",
    )
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// One ledger line: the amount Stripe shows now for a kind of movement on one of its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine<'a> {
    /// `captured`, `refunded`, `disputed` or `reversed`.
    pub kind: &'static str,
    /// The charge or dispute id.
    pub object: &'a str,
    /// Amount in minor units.
    pub amount: i64,
    /// The dispute's status, for dispute lines.
    pub status: Option<&'a str>,
}

/// Writes a ledger line (insert, or update when Stripe's figure changed).
pub async fn upsert_ledger(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    payment_intent: &str,
    currency: &str,
    line: &LedgerLine<'_>,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO payment_ledger (order_id, kind, stripe_object_id, payment_intent_id, amount_cents, currency, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, kind, stripe_object_id) DO UPDATE \
         SET amount_cents = EXCLUDED.amount_cents, status = EXCLUDED.status, updated_at = now() \
         WHERE payment_ledger.amount_cents IS DISTINCT FROM EXCLUDED.amount_cents \
            OR payment_ledger.status IS DISTINCT FROM EXCLUDED.status",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(line.kind)
    .bind::<Text, _>(line.object)
    .bind::<Text, _>(payment_intent)
    .bind::<BigInt, _>(line.amount)
    .bind::<Text, _>(currency)
    .bind::<Nullable<Text>, _>(line.status)
    .execute(conn)
    .await
    .map(drop)
}

/// An audit line for a field the sync changed.
pub async fn repair(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    origin: &str,
    field: &str,
    before: &str,
    after: &str,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO payment_repairs (order_id, origin, field, before_value, after_value) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(origin)
    .bind::<Text, _>(field)
    .bind::<Text, _>(before)
    .bind::<Text, _>(after)
    .execute(conn)
    .await
    .map(drop)
}

/// The order's money columns, as the ledger says.
pub async fn set_money(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    status: PaymentStatus,
    paid: i64,
    refunded: i64,
    disputed: bool,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE orders SET payment_status = $2, amount_paid_cents = $3, amount_refunded_cents = $4, disputed = $5, \
         payment_synced_at = now(), updated_at = CASE WHEN payment_status = $2 AND amount_paid_cents = $3 \
           AND amount_refunded_cents = $4 AND disputed = $5 THEN updated_at ELSE now() END \
         WHERE id = $1",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(status.as_str())
    .bind::<BigInt, _>(paid)
    .bind::<BigInt, _>(refunded)
    .bind::<Bool, _>(disputed)
    .execute(conn)
    .await
    .map(drop)
}

/// Moves a locked order to `paid` (from any unpaid status: a late payment revives it).
pub async fn set_paid(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE orders SET status = 'paid', paid_at = coalesce(paid_at, now()), closed_at = NULL, \
         updated_at = now() WHERE id = $1",
    )
    .bind::<BigInt, _>(order.get())
    .execute(conn)
    .await
    .map(drop)
}

/// Records a dispute as Stripe shows it; `true` when it was not known before.
pub async fn upsert_dispute(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    payment_intent: &str,
    currency: &str,
    dispute: &domain::order::DisputeView,
) -> diesel::QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Fresh {
        #[diesel(sql_type = Bool)]
        fresh: bool,
    }
    let open = dispute.outcome() == domain::order::DisputeOutcome::Open;
    let rows: Vec<Fresh> = diesel::sql_query(
        "INSERT INTO disputes (order_id, dispute_id, payment_intent_id, amount_cents, currency, status, opened_at, closed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now(), CASE WHEN $7 THEN NULL ELSE now() END) \
         ON CONFLICT (dispute_id) DO UPDATE SET status = EXCLUDED.status, amount_cents = EXCLUDED.amount_cents, \
           closed_at = CASE WHEN $7 THEN NULL ELSE coalesce(disputes.closed_at, now()) END, updated_at = now() \
         RETURNING (xmax = 0) AS fresh",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(&dispute.id)
    .bind::<Text, _>(payment_intent)
    .bind::<BigInt, _>(dispute.amount_cents)
    .bind::<Text, _>(currency)
    .bind::<Text, _>(&dispute.status)
    .bind::<Bool, _>(open)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().is_some_and(|r| r.fresh))
}

/// The automatic refund of an order, if one was decided: (idempotency key, amount, status).
pub async fn auto_refund(
    conn: &mut AsyncPgConnection,
    order: OrderId,
) -> diesel::QueryResult<Option<(i64, String)>> {
    #[derive(QueryableByName)]
    #[diesel(table_name = crate::schema::refunds, check_for_backend(diesel::pg::Pg))]
    struct Row {
        amount_cents: i64,
        status: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT amount_cents, status FROM refunds WHERE order_id = $1 AND idempotency_key = $2",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(auto_refund_key(order))
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|r| (r.amount_cents, r.status)))
}

/// The idempotency key (ours and Stripe's) of an order's one automatic refund.
pub fn auto_refund_key(order: OrderId) -> String {
    format!("order-{order}-auto-refund")
}
