//! The catalog's outgoing events, written to its outbox in the caller's transaction.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::events::{
    Envelope, InventoryChanged, ProductChanged, ProductCreated, ProductDeleted, ProductUpdated,
};
use domain::ids::{ProductId, Sku, Slug};

use crate::schema::products;

/// `source` of the catalog's envelopes.
pub const SOURCE: &str = "catalog";

/// The columns an event body needs, typed by `schema.rs`.
#[derive(QueryableByName)]
#[diesel(table_name = products)]
struct Row {
    id: i64,
    sku: String,
    name: String,
    slug: String,
    price_cents: i64,
    currency: String,
    status: String,
    stock_quantity: i32,
    reserved_quantity: i32,
}

/// Reads the product as it is now in this transaction, as an event body.
pub async fn product_changed(conn: &mut AsyncPgConnection, id: i64) -> anyhow::Result<ProductChanged> {
    let Row {
        id,
        sku,
        name,
        slug,
        price_cents,
        currency,
        status,
        stock_quantity: stock,
        reserved_quantity: reserved,
    } = diesel::sql_query(
        "SELECT id, sku, name, slug, price_cents, currency, status, stock_quantity, reserved_quantity \
             FROM products WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await?;
    Ok(ProductChanged {
        product_id: ProductId(id),
        sku: Sku::parse(&sku)?,
        name,
        slug: Slug::parse(&slug)?,
        price_cents,
        currency: currency.parse()?,
        status: status.parse()?,
        stock_quantity: i64::from(stock),
        reserved_quantity: i64::from(reserved),
    })
}

/// Writes `product.created` for product `id` to the outbox.
pub async fn product_created(conn: &mut AsyncPgConnection, id: i64) -> anyhow::Result<()> {
    let body = ProductCreated(product_changed(conn, id).await?);
    enqueue(conn, &body).await
}

async fn enqueue<P: domain::events::EventPayload>(
    conn: &mut AsyncPgConnection,
    body: &P,
) -> anyhow::Result<()> {
    let envelope = Envelope::new(SOURCE, body, None)?;
    platform::events::enqueue(conn, &envelope).await?;
    Ok(())
}

/// Writes `product.updated` for product `id` to the outbox.
pub async fn product_updated(conn: &mut AsyncPgConnection, id: i64) -> anyhow::Result<()> {
    let body = ProductUpdated(product_changed(conn, id).await?);
    enqueue(conn, &body).await
}

/// Writes `product.deleted` to the outbox.
pub async fn product_deleted(conn: &mut AsyncPgConnection, id: i64, sku: &str) -> anyhow::Result<()> {
    enqueue(conn, &ProductDeleted { product_id: ProductId(id), sku: Sku::parse(sku)? }).await
}

/// Writes `inventory.changed` for product `id` (its counters as they are in this transaction).
pub async fn inventory_changed(conn: &mut AsyncPgConnection, id: i64) -> anyhow::Result<()> {
    let p = product_changed(conn, id).await?;
    let body = InventoryChanged::new(p.product_id, p.sku, p.stock_quantity, p.reserved_quantity);
    enqueue(conn, &body).await
}
