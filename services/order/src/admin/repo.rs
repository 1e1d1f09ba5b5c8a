//! SQL of the admin routes: search, fulfilment, refund rows.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use domain::order::FulfillmentStatus;
use platform::sql::{coalesce, lower};

use crate::orders::repo::OrderRow;
use crate::schema::{orders, refunds, shipments};

/// Orders matching an exact number and/or an email (case-insensitive), newest first.
pub async fn search(
    conn: &mut AsyncPgConnection,
    number: Option<&str>,
    email: Option<&str>,
    needs_attention: Option<bool>,
    before: i64,
    limit: i64,
) -> diesel::QueryResult<Vec<OrderRow>> {
    // One prepared statement per combination of filters (eight at most).
    let mut query = orders::table.filter(orders::id.lt(before)).into_boxed();
    if let Some(number) = number {
        query = query.filter(orders::order_number.eq(number));
    }
    if let Some(email) = email {
        query = query.filter(lower(orders::customer_email).eq(lower(email)));
    }
    if let Some(flag) = needs_attention {
        query = query.filter(orders::needs_attention.eq(flag));
    }
    query.order(orders::id.desc()).limit(limit).select(OrderRow::as_select()).load(conn).await
}

/// Moves fulfilment and records the shipment details that go with the new state.
pub async fn set_fulfillment(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    to: FulfillmentStatus,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> diesel::QueryResult<()> {
    use diesel::dsl::now;
    use diesel::upsert::excluded;
    diesel::update(orders::table.find(order.get()))
        .set((orders::fulfillment_status.eq(to.as_str()), orders::updated_at.eq(now)))
        .execute(&mut *conn)
        .await?;
    // The shipment row, with the time of the state reached (if it has a column of its own).
    let details = (
        shipments::order_id.eq(order.get()),
        shipments::carrier.eq(carrier),
        shipments::tracking_number.eq(tracking),
    );
    let known = (
        shipments::carrier.eq(coalesce(excluded(shipments::carrier), shipments::carrier)),
        shipments::tracking_number
            .eq(coalesce(excluded(shipments::tracking_number), shipments::tracking_number)),
        shipments::updated_at.eq(now),
    );
    let upsert = diesel::insert_into(shipments::table);
    let on = shipments::order_id;
    match to {
        FulfillmentStatus::Fulfilled => {
            let at = shipments::fulfilled_at.eq(now);
            upsert.values((details, at)).on_conflict(on).do_update().set((known, at)).execute(conn).await
        }
        FulfillmentStatus::Shipped => {
            let at = shipments::shipped_at.eq(now);
            upsert.values((details, at)).on_conflict(on).do_update().set((known, at)).execute(conn).await
        }
        FulfillmentStatus::Delivered => {
            let at = shipments::delivered_at.eq(now);
            upsert.values((details, at)).on_conflict(on).do_update().set((known, at)).execute(conn).await
        }
        FulfillmentStatus::Unfulfilled | FulfillmentStatus::PartiallyFulfilled => {
            upsert.values(details).on_conflict(on).do_update().set(known).execute(conn).await
        }
    }
    .map(drop)
}

/// A refund row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refunds, check_for_backend(diesel::pg::Pg))]
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
    refunds::table
        .filter(refunds::order_id.eq(order.get()))
        .filter(refunds::idempotency_key.eq(key))
        .select(RefundRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every refund of an order.
pub async fn refunds(conn: &mut AsyncPgConnection, order: OrderId) -> diesel::QueryResult<Vec<RefundRow>> {
    refunds::table
        .filter(refunds::order_id.eq(order.get()))
        .order(refunds::id)
        .select(RefundRow::as_select())
        .load(conn)
        .await
}
