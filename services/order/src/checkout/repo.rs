//! Checkout's writes: allocate the order id, insert order + lines + `order.created` in one
//! transaction, attach the PaymentIntent.

use chrono::{DateTime, Utc};
use diesel::ExpressionMethods;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::events::{OrderCreated, OrderItemRef};
use domain::ids::{CartId, OrderId, ProductId, Sku};
use domain::order::{OrderNumber, OrderTotals};
use uuid::Uuid;

use crate::orders::repo;
use crate::payments::repo as payments;
use crate::schema::orders;

/// Draws the next order id (before the order exists, so reservations can name it).
pub async fn allocate_id(conn: &mut AsyncPgConnection) -> diesel::QueryResult<OrderId> {
    diesel::select(platform::sql::nextval("orders_id_seq")).get_result(conn).await.map(OrderId)
}

/// A line to write.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// The product.
    pub product_id: ProductId,
    /// Its SKU (from catalog).
    pub sku: Sku,
    /// Its name at the time of the order.
    pub name: String,
    /// Units.
    pub quantity: i32,
    /// Authoritative unit price.
    pub unit_price_cents: i64,
    /// `unit × quantity`.
    pub line_total_cents: i64,
    /// The chosen options.
    pub selected_attributes: serde_json::Value,
    /// The reservation now tied to the order.
    pub reservation_id: Option<Uuid>,
}

/// An order to write.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    /// The pre-allocated id.
    pub id: OrderId,
    /// The sha256 of its access token.
    pub access_token_hash: &'a [u8],
    /// JWT subject, or `None` for a guest.
    pub customer_id: Option<&'a str>,
    /// Contact.
    pub customer_email: &'a str,
    /// Contact.
    pub customer_name: &'a str,
    /// Snapshot.
    pub shipping_address: &'a serde_json::Value,
    /// Snapshot.
    pub billing_address: &'a serde_json::Value,
    /// The cart.
    pub cart_id: CartId,
    /// Totals.
    pub totals: OrderTotals,
    /// Lines.
    pub items: &'a [NewItem],
    /// The checkout's traceparent.
    pub traceparent: Option<&'a str>,
    /// End of the checkout session.
    pub expires_at: DateTime<Utc>,
}

/// Inserts the order, its lines and `order.created` in one transaction; `false` when an earlier
/// try already did (the row with this id exists). A clash of the random order number is retried.
pub async fn insert_order(conn: &mut AsyncPgConnection, new: &NewOrder<'_>) -> diesel::QueryResult<bool> {
    let mut attempt = 0;
    loop {
        let number = OrderNumber::from_random_bytes(random8());
        match conn
            .transaction::<_, diesel::result::Error, _>(async |c| insert_once(c, new, &number).await)
            .await
        {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) if attempt < 5 && info.constraint_name() == Some("orders_order_number_key") => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn random8() -> [u8; 8] {
    let b = *Uuid::new_v4().as_bytes();
    [b[0], b[1], b[2], b[3], b[4], b[5], b[9], b[10]]
}

async fn insert_once(
    c: &mut AsyncPgConnection,
    new: &NewOrder<'_>,
    number: &OrderNumber,
) -> diesel::QueryResult<bool> {
    let t = &new.totals;
    let inserted = diesel::insert_into(orders::table)
        .values((
            orders::id.eq(new.id.get()),
            orders::order_number.eq(number.as_str()),
            orders::access_token_hash.eq(new.access_token_hash),
            orders::customer_id.eq(new.customer_id),
            orders::customer_email.eq(new.customer_email),
            orders::customer_name.eq(new.customer_name),
            orders::shipping_address.eq(new.shipping_address),
            orders::billing_address.eq(new.billing_address),
            orders::cart_id.eq(new.cart_id.as_uuid()),
            orders::currency.eq(t.currency().code()),
            orders::subtotal_cents.eq(t.subtotal().cents()),
            orders::tax_cents.eq(t.tax().cents()),
            orders::shipping_cents.eq(t.shipping().cents()),
            orders::discount_cents.eq(t.discount().cents()),
            orders::total_cents.eq(t.total().cents()),
            orders::traceparent.eq(new.traceparent),
            orders::expires_at.eq(new.expires_at),
        ))
        .on_conflict(orders::id)
        .do_nothing()
        .execute(c)
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let items = new.items;
    // sql_query: unnest bulk insert (all lines in one statement whatever their number).
    platform::sql::prepared(diesel::sql_query(
        "INSERT INTO order_items (order_id, product_id, sku, name, quantity, unit_price_cents, line_total_cents, \
         selected_attributes, reservation_id) \
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], \
         $8::jsonb[], $9::uuid[])",
    )
    .bind::<BigInt, _>(new.id.get())
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.product_id.get()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items.iter().map(|i| i.sku.to_string()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(items.iter().map(|i| i.name.clone()).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(items.iter().map(|i| i.quantity).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.unit_price_cents).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(items.iter().map(|i| i.line_total_cents).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(items.iter().map(|i| i.selected_attributes.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(items.iter().map(|i| i.reservation_id).collect::<Vec<_>>()))
    .execute(c)
    .await?;
    let event = OrderCreated {
        order_id: new.id,
        order_number: number.clone(),
        customer_email: new.customer_email.to_owned(),
        items: items
            .iter()
            .map(|i| OrderItemRef {
                product_id: i.product_id,
                sku: i.sku.clone(),
                quantity: i.quantity,
                unit_price_cents: i.unit_price_cents,
                reservation_id: i.reservation_id,
            })
            .collect(),
        total_cents: t.total().cents(),
        currency: t.currency(),
        cart_id: Some(new.cart_id),
    };
    repo::emit(c, &event).await?;
    Ok(true)
}

/// Attaches the PaymentIntent to the order (first one wins) and records it in `payments`.
pub async fn attach_intent(
    conn: &mut AsyncPgConnection,
    order: &repo::OrderRow,
    payment_intent: &str,
    stripe_status: &str,
) -> diesel::QueryResult<()> {
    let intent = payments::Intent {
        order: order.order_id(),
        payment_intent,
        amount: order.total_cents,
        currency: &order.currency,
        status: stripe_status,
    };
    payments::attach(conn, &intent).await
}
