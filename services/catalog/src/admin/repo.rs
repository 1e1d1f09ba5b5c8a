//! The admin's SQL: one statement per change, each run inside the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::{Sku, Slug};
use domain::money::Currency;
use domain::product::ProductStatus;

use super::input::{NewProduct, ProductChanges, StockChange};
use crate::listing::repo::ProductRow;
use crate::schema::products;

/// A product as the admin sees it: the listing's columns plus the rest (all but `deleted_at`).
#[derive(Debug, Clone, Queryable, Selectable)]
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

#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewRow<'a> {
    sku: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    slug: &'a str,
    price_cents: i64,
    currency: &'a str,
    attributes: &'a serde_json::Value,
    stock_quantity: i32,
    status: &'a str,
}

// `Option<Option<_>>` is diesel's spelling of "absent" vs "set NULL" for a nullable column.
#[allow(clippy::option_option)]
#[derive(AsChangeset)]
#[diesel(table_name = products)]
struct Changes<'a> {
    sku: Option<&'a str>,
    name: Option<&'a str>,
    description: Option<Option<String>>,
    slug: Option<&'a str>,
    price_cents: Option<i64>,
    currency: Option<&'a str>,
    attributes: Option<&'a serde_json::Value>,
    status: Option<&'a str>,
}

/// Inserts a product.
pub async fn insert(conn: &mut AsyncPgConnection, p: &NewProduct) -> QueryResult<AdminRow> {
    diesel::insert_into(products::table)
        .values(NewRow {
            sku: p.sku.as_str(),
            name: &p.name,
            description: p.description.as_deref(),
            slug: p.slug.as_str(),
            price_cents: p.price.cents(),
            currency: p.price.currency().code(),
            attributes: &p.attributes,
            stock_quantity: p.stock_quantity,
            status: p.status.as_str(),
        })
        .returning(AdminRow::as_returning())
        .get_result(conn)
        .await
}

/// Applies `c` to a product that is not deleted; `None` when there is none.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    c: &ProductChanges,
) -> QueryResult<Option<AdminRow>> {
    use products::dsl as p;
    let changes = Changes {
        sku: c.sku.as_ref().map(Sku::as_str),
        name: c.name.as_deref(),
        description: c.description.clone(),
        slug: c.slug.as_ref().map(Slug::as_str),
        price_cents: c.price_cents,
        currency: c.currency.map(Currency::code),
        attributes: c.attributes.as_ref(),
        status: c.status.map(ProductStatus::as_str),
    };
    diesel::update(p::products.filter(p::id.eq(id)).filter(p::deleted_at.is_null()))
        .set(&changes)
        .returning(AdminRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Soft-deletes a product; its id and SKU when it existed and was not deleted yet.
pub async fn soft_delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(i64, String)>> {
    use products::dsl as p;
    diesel::update(p::products.filter(p::id.eq(id)).filter(p::deleted_at.is_null()))
        .set(p::deleted_at.eq(diesel::dsl::now))
        .returning((p::id, p::sku))
        .get_result(conn)
        .await
        .optional()
}

/// Changes stock in one conditional UPDATE: it never goes below what is reserved (so never
/// below 0) and never past `i32::MAX`. `None` when the condition fails or there is no product.
pub async fn change_stock(
    conn: &mut AsyncPgConnection,
    id: i64,
    change: StockChange,
) -> QueryResult<Option<AdminRow>> {
    use products::dsl as p;
    let target = p::products.filter(p::id.eq(id)).filter(p::deleted_at.is_null());
    match change {
        StockChange::Set(q) => {
            diesel::update(target.filter(p::reserved_quantity.le(q)))
                .set(p::stock_quantity.eq(q))
                .returning(AdminRow::as_returning())
                .get_result(conn)
                .await
        }
        StockChange::Adjust(d) if d >= 0 => {
            diesel::update(target.filter(p::stock_quantity.le(i32::MAX - d)))
                .set(p::stock_quantity.eq(p::stock_quantity + d))
                .returning(AdminRow::as_returning())
                .get_result(conn)
                .await
        }
        StockChange::Adjust(d) => {
            diesel::update(target.filter((p::stock_quantity + d).ge(p::reserved_quantity)))
                .set(p::stock_quantity.eq(p::stock_quantity + d))
                .returning(AdminRow::as_returning())
                .get_result(conn)
                .await
        }
    }
    .optional()
}

/// A product that is not deleted, for error messages.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<AdminRow>> {
    use products::dsl as p;
    p::products
        .filter(p::id.eq(id))
        .filter(p::deleted_at.is_null())
        .select(AdminRow::as_select())
        .first(conn)
        .await
        .optional()
}
