//! The read behind every outgoing product event: the product as it is in the writer's
//! transaction.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::products;

/// The columns an event body needs, typed by `schema.rs`.
#[derive(QueryableByName)]
#[diesel(table_name = products)]
pub struct Row {
    /// Identity.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Price in minor units.
    pub price_cents: i64,
    /// ISO code.
    pub currency: String,
    /// draft / active / discontinued.
    pub status: String,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units held.
    pub reserved_quantity: i32,
}

/// Product `id`, deleted or not (a `product.deleted` event still names it).
pub async fn product(conn: &mut AsyncPgConnection, id: i64) -> diesel::QueryResult<Row> {
    diesel::sql_query(
        "SELECT id, sku, name, slug, price_cents, currency, status, stock_quantity, reserved_quantity \
         FROM products WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
}
