//! The SQL of customers' carts (`carts`, `cart_items`): PostgreSQL is their source of truth.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::{CartId, OrderId, ProductId, Sku};
use uuid::Uuid;

use super::model::{Cart, CheckoutLock, Line, Owner};
use crate::schema::{cart_items, carts};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = carts)]
struct CartRow {
    id: Uuid,
    customer_id: String,
    currency: String,
    locked_by: Option<String>,
    lock_expires_at: Option<DateTime<Utc>>,
    checkout_order_id: Option<i64>,
    version: i64,
    last_activity_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = cart_items)]
struct ItemRow {
    id: Uuid,
    cart_id: Uuid,
    product_id: i64,
    sku: String,
    quantity: i32,
    selected_attributes: serde_json::Value,
    reservation_id: Option<Uuid>,
    reserved_until: Option<DateTime<Utc>>,
    position: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("bad stored {what}").into())
}

fn into_cart(row: CartRow, items: Vec<ItemRow>) -> QueryResult<Cart> {
    let lock = match (row.locked_by, row.lock_expires_at) {
        (Some(holder), Some(expires_at)) => {
            Some(CheckoutLock { holder, expires_at, order_id: row.checkout_order_id.map(OrderId) })
        }
        _ => None,
    };
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        let serde_json::Value::Object(selected_attributes) = item.selected_attributes else {
            return Err(corrupt("selected_attributes"));
        };
        lines.push(Line {
            id: item.id,
            product_id: ProductId(item.product_id),
            sku: Sku::parse(&item.sku).map_err(|_| corrupt("sku"))?,
            quantity: item.quantity,
            selected_attributes,
            reservation_id: item.reservation_id,
            reserved_until: item.reserved_until,
            needs_sync: false,
            unavailable: None,
        });
    }
    Ok(Cart {
        id: CartId(row.id),
        owner: Owner::Customer(row.customer_id),
        currency: row.currency.trim().parse().map_err(|_| corrupt("currency"))?,
        lock,
        version: row.version,
        lines,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

async fn with_items(conn: &mut AsyncPgConnection, row: Option<CartRow>) -> QueryResult<Option<Cart>> {
    let Some(row) = row else { return Ok(None) };
    let items = cart_items::table
        .filter(cart_items::cart_id.eq(row.id))
        .order(cart_items::position.asc())
        .select(ItemRow::as_select())
        .load(conn)
        .await?;
    into_cart(row, items).map(Some)
}

/// A customer's cart by id.
pub async fn load(conn: &mut AsyncPgConnection, id: CartId) -> QueryResult<Option<Cart>> {
    let row = carts::table.find(id.0).select(CartRow::as_select()).first(conn).await.optional()?;
    with_items(conn, row).await
}

/// The cart of customer `sub`, if they have one.
pub async fn load_by_customer(conn: &mut AsyncPgConnection, sub: &str) -> QueryResult<Option<Cart>> {
    let row = carts::table
        .filter(carts::customer_id.eq(sub))
        .select(CartRow::as_select())
        .first(conn)
        .await
        .optional()?;
    with_items(conn, row).await
}

/// Writes a customer's cart and replaces its lines (inside the caller's transaction).
/// Guest carts are not written here.
pub async fn save(conn: &mut AsyncPgConnection, cart: &Cart) -> QueryResult<()> {
    let Owner::Customer(sub) = &cart.owner else { return Ok(()) };
    let row = CartRow {
        id: cart.id.0,
        customer_id: sub.clone(),
        currency: cart.currency.to_string(),
        locked_by: cart.lock.as_ref().map(|l| l.holder.clone()),
        lock_expires_at: cart.lock.as_ref().map(|l| l.expires_at),
        checkout_order_id: cart.lock.as_ref().and_then(|l| l.order_id).map(OrderId::get),
        version: cart.version,
        last_activity_at: cart.updated_at,
        created_at: cart.created_at,
        updated_at: cart.updated_at,
    };
    diesel::insert_into(carts::table)
        .values(&row)
        .on_conflict(carts::id)
        .do_update()
        .set(&row)
        .execute(conn)
        .await?;
    diesel::delete(cart_items::table.filter(cart_items::cart_id.eq(cart.id.0))).execute(conn).await?;
    if cart.lines.is_empty() {
        return Ok(());
    }
    let mut items = Vec::with_capacity(cart.lines.len());
    for (position, line) in cart.lines.iter().enumerate() {
        items.push(ItemRow {
            id: line.id,
            cart_id: cart.id.0,
            product_id: line.product_id.get(),
            sku: line.sku.as_ref().to_owned(),
            quantity: line.quantity,
            selected_attributes: serde_json::Value::Object(line.selected_attributes.clone()),
            reservation_id: line.reservation_id,
            reserved_until: line.reserved_until,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            created_at: cart.updated_at,
            updated_at: cart.updated_at,
        });
    }
    diesel::insert_into(cart_items::table).values(&items).execute(conn).await?;
    Ok(())
}

/// Deletes a cart and its lines; true when it existed.
pub async fn delete(conn: &mut AsyncPgConnection, id: CartId) -> QueryResult<bool> {
    Ok(diesel::delete(carts::table.find(id.0)).execute(conn).await? > 0)
}
