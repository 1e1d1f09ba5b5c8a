//! The admin's SQL: one statement per change, each run inside the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Integer, Jsonb, Nullable, Text};
use diesel::{OptionalExtension, QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::{Sku, Slug};
use domain::money::Currency;
use domain::product::ProductStatus;

use super::input::{NewProduct, ProductChanges, StockChange};
use crate::listing::repo::ProductRow;
use crate::schema::products;

/// A product as the admin sees it: the listing's columns plus the rest (all but `deleted_at`).
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub struct AdminRow {
    /// What the storefront shows.
    #[diesel(embed)]
    pub item: ProductRow,
    /// Description.
    pub description: Option<String>,
    /// draft / active / discontinued.
    pub status: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `RETURNING` list of an [`AdminRow`].
const ADMIN_ROW: &str = "RETURNING id, sku, name, slug, price_cents, currency, attributes, stock_quantity, \
     reserved_quantity, created_at, description, status, updated_at";

/// `INSERT INTO products` of `p`, every column a writer sets, followed by `tail` (`RETURNING
/// ...`, `ON CONFLICT ...`). The admin API and the demo seed both insert through it.
pub fn insert_statement<'a>(p: &'a NewProduct, tail: &str) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    sql_query(format!(
        "INSERT INTO products (sku, name, description, slug, price_cents, currency, attributes, \
             stock_quantity, reserved_quantity, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) {tail}"
    ))
    .into_boxed()
    .bind::<Text, _>(p.sku.as_str())
    .bind::<Text, _>(p.name.as_str())
    .bind::<Nullable<Text>, _>(p.description.as_deref())
    .bind::<Text, _>(p.slug.as_str())
    .bind::<BigInt, _>(p.price.cents())
    .bind::<Text, _>(p.price.currency().code())
    .bind::<Jsonb, _>(&p.attributes)
    .bind::<Integer, _>(p.stock_quantity)
    .bind::<Integer, _>(p.reserved_quantity)
    .bind::<Text, _>(p.status.as_str())
}

/// Inserts a product.
pub async fn insert(conn: &mut AsyncPgConnection, p: &NewProduct) -> QueryResult<AdminRow> {
    insert_statement(p, ADMIN_ROW).get_result(conn).await
}

/// Applies `c` to a product that is not deleted; `None` when there is none. An absent change
/// keeps the column (`COALESCE` with the stored value); the description is cleared only when
/// the change says so.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    c: &ProductChanges,
) -> QueryResult<Option<AdminRow>> {
    sql_query(format!(
        "UPDATE products SET sku = COALESCE($2, sku), name = COALESCE($3, name), \
             description = CASE WHEN $4 THEN $5 ELSE description END, slug = COALESCE($6, slug), \
             price_cents = COALESCE($7, price_cents), currency = COALESCE($8, currency), \
             attributes = COALESCE($9, attributes), status = COALESCE($10, status) \
         WHERE id = $1 AND deleted_at IS NULL {ADMIN_ROW}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Text>, _>(c.sku.as_ref().map(Sku::as_str))
    .bind::<Nullable<Text>, _>(c.name.as_deref())
    .bind::<Bool, _>(c.description.is_some())
    .bind::<Nullable<Text>, _>(c.description.clone().flatten())
    .bind::<Nullable<Text>, _>(c.slug.as_ref().map(Slug::as_str))
    .bind::<Nullable<BigInt>, _>(c.price_cents)
    .bind::<Nullable<Text>, _>(c.currency.map(Currency::code))
    .bind::<Nullable<Jsonb>, _>(c.attributes.as_ref())
    .bind::<Nullable<Text>, _>(c.status.map(ProductStatus::as_str))
    .get_result(conn)
    .await
    .optional()
}

#[derive(QueryableByName)]
#[diesel(table_name = products)]
struct Deleted {
    id: i64,
    sku: String,
}

/// Soft-deletes a product; its id and SKU when it existed and was not deleted yet.
pub async fn soft_delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(i64, String)>> {
    let deleted: Option<Deleted> = sql_query(
        "UPDATE products SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id, sku",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(deleted.map(|d| (d.id, d.sku)))
}

/// Changes stock in one conditional UPDATE: it never goes below what is reserved (so never
/// below 0) and never past `i32::MAX`. `None` when the condition fails or there is no product.
pub async fn change_stock(
    conn: &mut AsyncPgConnection,
    id: i64,
    change: StockChange,
) -> QueryResult<Option<AdminRow>> {
    let (set, condition, value) = match change {
        StockChange::Set(q) => ("$2", "reserved_quantity <= $2", q),
        // `2147483647 - $2`: the bound is checked before the addition can overflow.
        StockChange::Adjust(d) if d >= 0 => ("stock_quantity + $2", "stock_quantity <= 2147483647 - $2", d),
        StockChange::Adjust(d) => ("stock_quantity + $2", "stock_quantity + $2 >= reserved_quantity", d),
    };
    sql_query(format!(
        "UPDATE products SET stock_quantity = {set} \
         WHERE id = $1 AND deleted_at IS NULL AND {condition} {ADMIN_ROW}"
    ))
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(value)
    .get_result(conn)
    .await
    .optional()
}

/// A product that is not deleted, for error messages.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<AdminRow>> {
    sql_query(
        "SELECT id, sku, name, slug, price_cents, currency, attributes, stock_quantity, reserved_quantity, \
             created_at, description, status, updated_at \
         FROM products WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()
}
