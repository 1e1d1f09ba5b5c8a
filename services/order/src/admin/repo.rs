//! SQL of the admin routes: search, fulfilment, refund rows.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use domain::order::FulfillmentStatus;

use crate::orders::repo::{ORDER_COLUMNS, OrderRow};

/// Orders matching an exact number and/or an email (case-insensitive), newest first.
pub async fn search(
    conn: &mut AsyncPgConnection,
    number: Option<&str>,
    email: Option<&str>,
    needs_attention: Option<bool>,
    before: i64,
    limit: i64,
) -> diesel::QueryResult<Vec<OrderRow>> {
    diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1::text IS NULL OR order_number = $1) \
         AND ($2::text IS NULL OR lower(customer_email) = lower($2)) \
         AND ($3::bool IS NULL OR needs_attention = $3) AND id < $4 ORDER BY id DESC LIMIT $5"
    ))
    .bind::<Nullable<Text>, _>(number)
    .bind::<Nullable<Text>, _>(email)
    .bind::<Nullable<Bool>, _>(needs_attention)
    .bind::<BigInt, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Moves fulfilment and records the shipment details that go with the new state.
pub async fn set_fulfillment(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    to: FulfillmentStatus,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> diesel::QueryResult<()> {
    diesel::sql_query("UPDATE orders SET fulfillment_status = $2, updated_at = now() WHERE id = $1")
        .bind::<BigInt, _>(order.get())
        .bind::<Text, _>(to.as_str())
        .execute(&mut *conn)
        .await?;
    let column = match to {
        FulfillmentStatus::Fulfilled => "fulfilled_at",
        FulfillmentStatus::Shipped => "shipped_at",
        FulfillmentStatus::Delivered => "delivered_at",
        FulfillmentStatus::Unfulfilled | FulfillmentStatus::PartiallyFulfilled => "updated_at",
    };
    diesel::sql_query(format!(
        "INSERT INTO shipments (order_id, carrier, tracking_number, {column}) VALUES ($1, $2, $3, now()) \
         ON CONFLICT (order_id) DO UPDATE SET carrier = coalesce($2, shipments.carrier), \
         tracking_number = coalesce($3, shipments.tracking_number), {column} = now(), updated_at = now()"
    ))
    .bind::<BigInt, _>(order.get())
    .bind::<Nullable<Text>, _>(carrier)
    .bind::<Nullable<Text>, _>(tracking)
    .execute(conn)
    .await
    .map(drop)
}

/// A refund row.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = crate::schema::refunds, check_for_backend(diesel::pg::Pg))]
pub struct RefundRow {
    /// Column `id`.
    pub id: i64,
    /// Column `amount_cents`.
    pub amount_cents: i64,
    /// Column `status`.
    pub status: String,
    /// Column `stripe_refund_id`.
    pub stripe_refund_id: Option<String>,
    /// Column `reason`.
    pub reason: Option<String>,
}

/// The refund of `order` under `key`.
pub async fn refund_by_key(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    key: &str,
) -> diesel::QueryResult<Option<RefundRow>> {
    let rows: Vec<RefundRow> = diesel::sql_query(
        "SELECT id, amount_cents, status, stripe_refund_id, reason FROM refunds WHERE order_id = $1 AND idempotency_key = $2",
    )
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(key)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// Every refund of an order.
pub async fn refunds(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<Vec<RefundRow>> {
    diesel::sql_query(
        "SELECT id, amount_cents, status, stripe_refund_id, reason FROM refunds WHERE order_id = $1 ORDER BY id",
    )
    .bind::<BigInt, _>(order.get())
    .load(conn)
    .await
}
