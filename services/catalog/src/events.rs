//! The catalog's outgoing events, written to its outbox in the caller's transaction.

use diesel_async::AsyncPgConnection;
use domain::events::{
    Envelope, InventoryChanged, ProductChanged, ProductCreated, ProductDeleted, ProductUpdated,
};
use domain::ids::{ProductId, Sku, Slug};

use crate::admin::repo::AdminRow;
use crate::listing::repo::ProductRow;

/// `source` of the catalog's envelopes.
pub const SOURCE: &str = "catalog";

/// Reads the product as it is now in this transaction, as an event body (the admin's read:
/// every product event is about a product that is not deleted).
pub async fn product_changed(conn: &mut AsyncPgConnection, id: i64) -> anyhow::Result<ProductChanged> {
    let row = crate::admin::repo::find(conn, id).await?.ok_or_else(|| anyhow::anyhow!("no product {id}"))?;
    let AdminRow { item, status, .. } = row;
    let ProductRow { id, sku, name, slug, price_cents, currency, stock_quantity, reserved_quantity, .. } =
        item;
    Ok(ProductChanged {
        product_id: ProductId(id),
        sku: Sku::parse(&sku)?,
        name,
        slug: Slug::parse(&slug)?,
        price_cents,
        currency: currency.parse()?,
        status: status.parse()?,
        stock_quantity: i64::from(stock_quantity),
        reserved_quantity: i64::from(reserved_quantity),
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
