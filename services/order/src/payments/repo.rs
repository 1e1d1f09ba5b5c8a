//! SQL of payments: the status history, disputes, refund rows and the paid/refunded columns.

use diesel::{
    ExpressionMethods, NullableExpressionMethods, OptionalExtension, PgExpressionMethods, QueryDsl,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use uuid::Uuid;

use crate::schema::{order_items, orders, payment_status_history, payments, refunds};
use platform::sql::PrepareOnce;

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
    diesel::insert_into(payment_status_history::table)
        .values((
            payment_status_history::order_id.eq(h.order.get()),
            payment_status_history::payment_intent_id.eq(h.payment_intent_id),
            payment_status_history::event_type.eq(h.event_type),
            payment_status_history::stripe_event_id.eq(h.stripe_event_id),
            payment_status_history::from_status.eq(h.from),
            payment_status_history::to_status.eq(h.to),
            payment_status_history::note.eq(h.note),
        ))
        .execute(&mut *conn)
        .await?;
    diesel::update(payments::table.filter(payments::payment_intent_id.eq(h.payment_intent_id)))
        .set((
            payments::status.eq(h.event_type.rsplit('.').next().unwrap_or(h.event_type)),
            payments::updated_at.eq(diesel::dsl::now),
        ))
        .prepared()
        .execute(conn)
        .await
        .map(drop)
}

/// A PaymentIntent to attach to its order.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    /// The order.
    pub order: OrderId,
    /// The PaymentIntent.
    pub payment_intent: &'a str,
    /// Its amount, minor units.
    pub amount: i64,
    /// Its currency code.
    pub currency: &'a str,
    /// The payment row's first status.
    pub status: &'a str,
}

/// Attaches a PaymentIntent to its order (the first one wins) and records it in `payments`:
/// at checkout, or first learnt from an event (the checkout crashed before storing it).
pub async fn attach(conn: &mut AsyncPgConnection, i: &Intent<'_>) -> diesel::QueryResult<()> {
    diesel::update(orders::table.find(i.order.get()).filter(orders::payment_intent_id.is_null()))
        .set((orders::payment_intent_id.eq(i.payment_intent), orders::updated_at.eq(diesel::dsl::now)))
        .prepared()
        .execute(&mut *conn)
        .await?;
    diesel::insert_into(payments::table)
        .values((
            payments::order_id.eq(i.order.get()),
            payments::payment_intent_id.eq(i.payment_intent),
            payments::amount_cents.eq(i.amount),
            payments::currency.eq(i.currency),
            payments::status.eq(i.status),
        ))
        .on_conflict(payments::payment_intent_id)
        .do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// Points an order line at a new reservation (the first line of `product` holding `old`).
pub async fn set_reservation(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    old: Option<Uuid>,
    product: i64,
    new: Uuid,
) -> diesel::QueryResult<()> {
    // The sub-select reads the same table under another name (SQL needs none; diesel does).
    let lines = diesel::alias!(order_items as lines);
    let line = lines
        .filter(lines.field(order_items::order_id).eq(order.get()))
        .filter(lines.field(order_items::product_id).eq(product))
        .filter(lines.field(order_items::reservation_id).is_not_distinct_from(old))
        .order(lines.field(order_items::id))
        .select(lines.field(order_items::id))
        .limit(1)
        .single_value();
    diesel::update(order_items::table.filter(order_items::id.nullable().eq(line)))
        .set(order_items::reservation_id.eq(new))
        .prepared()
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
    diesel::insert_into(refunds::table)
        .values((
            refunds::order_id.eq(order.get()),
            refunds::amount_cents.eq(amount),
            refunds::reason.eq(reason),
            refunds::idempotency_key.eq(key),
            refunds::requested_by.eq(by),
        ))
        .on_conflict((refunds::order_id, refunds::idempotency_key))
        .do_nothing()
        .returning(refunds::id)
        .get_result(conn)
        .await
        .optional()
}

/// Stripe's answer to a refund (a refund id already known is kept when Stripe gives none).
pub async fn finish_refund(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    key: &str,
    status: &str,
    stripe_id: Option<&str>,
) -> diesel::QueryResult<()> {
    let target = diesel::update(
        refunds::table.filter(refunds::order_id.eq(order.get())).filter(refunds::idempotency_key.eq(key)),
    );
    let changed = match stripe_id {
        Some(id) => {
            target
                .set((
                    refunds::status.eq(status),
                    refunds::stripe_refund_id.eq(id),
                    refunds::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await
        }
        None => {
            target
                .set((refunds::status.eq(status), refunds::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await
        }
    };
    changed.map(drop)
}

/// Money refunded or being refunded (pending rows count: never more than paid, even mid-call).
pub async fn committed_refunds(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<i64> {
    // An order has a handful of refunds: summed here, as i64 (PostgreSQL's sum of bigint is numeric).
    let amounts: Vec<i64> = refunds::table
        .filter(refunds::order_id.eq(order.get()))
        .filter(refunds::status.ne("failed"))
        .select(refunds::amount_cents)
        .load(conn)
        .await?;
    Ok(amounts.into_iter().fold(0_i64, i64::saturating_add))
}
