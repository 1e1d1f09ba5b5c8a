//! SQL of the payment sync: its queue, the ledger, repairs, and the order's money columns.

use chrono::{DateTime, Utc};
use diesel::dsl::{case_when, now};
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz};
use diesel::upsert::excluded;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, IntoSql, NullableExpressionMethods, OptionalExtension,
    PgExpressionMethods, PgSortExpressionMethods, QueryDsl, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use domain::order::PaymentStatus;
use platform::sql::{PrepareOnce, clock_timestamp, coalesce, now_minus, now_plus, secs};

use crate::schema::{orders, payment_ledger, payment_repairs, payment_syncs, refunds};

/// The `NOTIFY` channel that wakes the syncer when a sync is requested (delivered at commit).
pub const CHANNEL: &str = "orders_payment_sync";

/// Asks for the order's payment to be read again from Stripe; a request already queued is kept
/// (and marked newer, so a sync running now is followed by one more).
pub async fn request(conn: &mut AsyncPgConnection, order: OrderId, reason: &str) -> diesel::QueryResult<()> {
    diesel::insert_into(payment_syncs::table)
        .values((payment_syncs::order_id.eq(order.get()), payment_syncs::reason.eq(reason)))
        .on_conflict(payment_syncs::order_id)
        .do_update()
        .set((
            payment_syncs::requested_at.eq(clock_timestamp()),
            payment_syncs::reason.eq(excluded(payment_syncs::reason)),
        ))
        .execute(&mut *conn)
        .await?;
    notify(conn).await
}

/// Wakes the syncers when the transaction commits.
async fn notify(conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
    // sql_query: pg_notify returns `void`, which no diesel type reads.
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
    // sql_query: FOR UPDATE SKIP LOCKED inside the UPDATE's sub-select (syncers never wait).
    platform::sql::prepared(diesel::sql_query(
        "UPDATE payment_syncs s SET due_at = now() + make_interval(secs => $2), attempts = s.attempts + 1 \
         FROM (SELECT order_id FROM payment_syncs WHERE due_at <= now() ORDER BY due_at LIMIT $1 \
               FOR UPDATE SKIP LOCKED) d \
         WHERE s.order_id = d.order_id RETURNING s.order_id, s.requested_at, s.attempts, s.reason",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Double, _>(lease))
    .load(conn)
    .await
}

/// The sync answered its request: the row goes, unless a newer request came meanwhile (then it
/// is due again at once).
pub async fn finish(conn: &mut AsyncPgConnection, c: &Claimed) -> diesel::QueryResult<()> {
    let answered = payment_syncs::table
        .filter(payment_syncs::order_id.eq(c.order_id))
        .filter(payment_syncs::requested_at.eq(c.requested_at));
    let n = diesel::delete(answered).execute(&mut *conn).await?;
    if n == 0 {
        diesel::update(payment_syncs::table.find(c.order_id))
            .set((payment_syncs::due_at.eq(now), payment_syncs::attempts.eq(0)))
            .prepared()
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
    diesel::update(payment_syncs::table.find(order))
        .set((payment_syncs::due_at.eq(now_plus(secs(delay))), payment_syncs::last_error.eq(error)))
        .prepared()
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
    let synced_before = now_minus(secs(age)).nullable();
    let stale = orders::table
        .filter(orders::payment_intent_id.is_not_null())
        .filter(orders::created_at.ge(now_minus(secs(window))))
        .filter(orders::payment_synced_at.is_null().or(orders::payment_synced_at.le(synced_before)))
        .order((orders::payment_synced_at.asc().nulls_first(), orders::id))
        .limit(limit)
        .select((orders::id, reason.into_sql::<Text>()));
    let n = diesel::insert_into(payment_syncs::table)
        .values(stale)
        .into_columns((payment_syncs::order_id, payment_syncs::reason))
        .on_conflict_do_nothing()
        .execute(&mut *conn)
        .await?;
    if n > 0 {
        notify(conn).await?;
    }
    Ok(n)
}

/// Orders with a PaymentIntent created since `since` (for `order reconcile`), oldest first.
pub async fn orders_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
    after: i64,
    limit: i64,
) -> diesel::QueryResult<Vec<i64>> {
    orders::table
        .filter(orders::payment_intent_id.is_not_null())
        .filter(orders::created_at.ge(since))
        .filter(orders::id.gt(after))
        .order(orders::id)
        .limit(limit)
        .select(orders::id)
        .load(conn)
        .await
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
    use diesel::query_dsl::methods::FilterDsl;
    use payment_ledger as l;
    let upsert = diesel::insert_into(l::table)
        .values((
            l::order_id.eq(order.get()),
            l::kind.eq(line.kind),
            l::stripe_object_id.eq(line.object),
            l::payment_intent_id.eq(payment_intent),
            l::amount_cents.eq(line.amount),
            l::currency.eq(currency),
            l::status.eq(line.status),
        ))
        .on_conflict((l::order_id, l::kind, l::stripe_object_id))
        .do_update()
        .set((
            l::amount_cents.eq(excluded(l::amount_cents)),
            l::status.eq(excluded(l::status)),
            l::updated_at.eq(now),
        ));
    // Only a changed figure rewrites the row (`DO UPDATE ... WHERE`).
    let changed = l::amount_cents
        .is_distinct_from(excluded(l::amount_cents))
        .or(l::status.is_distinct_from(excluded(l::status)));
    FilterDsl::filter(upsert, changed).execute(conn).await.map(drop)
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
    diesel::insert_into(payment_repairs::table)
        .values((
            payment_repairs::order_id.eq(order.get()),
            payment_repairs::origin.eq(origin),
            payment_repairs::field.eq(field),
            payment_repairs::before_value.eq(before),
            payment_repairs::after_value.eq(after),
        ))
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
    // `updated_at` moves only when a figure changed (the comparisons see the row before the update).
    let unchanged = orders::payment_status
        .eq(status.as_str())
        .and(orders::amount_paid_cents.eq(paid))
        .and(orders::amount_refunded_cents.eq(refunded))
        .and(orders::disputed.eq(disputed));
    diesel::update(orders::table.find(order.get()))
        .set((
            orders::payment_status.eq(status.as_str()),
            orders::amount_paid_cents.eq(paid),
            orders::amount_refunded_cents.eq(refunded),
            orders::disputed.eq(disputed),
            orders::payment_synced_at.eq(now),
            orders::updated_at.eq(case_when(unchanged, orders::updated_at).otherwise(now)),
        ))
        .prepared()
        .execute(conn)
        .await
        .map(drop)
}

/// Moves a locked order to `paid` (from any unpaid status: a late payment revives it).
pub async fn set_paid(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<()> {
    diesel::update(orders::table.find(order.get()))
        .set((
            orders::status.eq(crate::orders::repo::status::PAID),
            orders::paid_at.eq(coalesce(orders::paid_at, now.into_sql::<Nullable<Timestamptz>>())),
            orders::closed_at.eq(None::<chrono::DateTime<Utc>>),
            orders::updated_at.eq(now),
        ))
        .prepared()
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
    /// A row of expressions: whether the upsert inserted (`xmax = 0`).
    #[derive(QueryableByName)]
    struct Fresh {
        #[diesel(sql_type = Bool)]
        fresh: bool,
    }
    let open = dispute.outcome() == domain::order::DisputeOutcome::Open;
    // sql_query: RETURNING (xmax = 0), a system column the DSL has no name for (was it new?).
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
    refunds::table
        .filter(refunds::order_id.eq(order.get()))
        .filter(refunds::idempotency_key.eq(auto_refund_key(order)))
        .select((refunds::amount_cents, refunds::status))
        .first(conn)
        .await
        .optional()
}

/// The idempotency key (ours and Stripe's) of an order's one automatic refund.
pub fn auto_refund_key(order: OrderId) -> String {
    format!("order-{order}-auto-refund")
}
