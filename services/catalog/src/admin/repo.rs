//! The admin's SQL: one statement per change, each run inside the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::{
    AsChangeset, ExpressionMethods, Insertable, OptionalExtension, QueryDsl, QueryResult, Queryable,
    Selectable, SelectableHelper,
};
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

/// Every column a writer sets of a new product: the admin API and the demo seed insert it.
#[derive(Insertable)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub struct ProductInsert<'a> {
    sku: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    slug: &'a str,
    price_cents: i64,
    currency: &'a str,
    attributes: &'a serde_json::Value,
    stock_quantity: i32,
    reserved_quantity: i32,
    status: &'a str,
}

impl<'a> From<&'a NewProduct> for ProductInsert<'a> {
    fn from(p: &'a NewProduct) -> Self {
        ProductInsert {
            sku: p.sku.as_str(),
            name: p.name.as_str(),
            description: p.description.as_deref(),
            slug: p.slug.as_str(),
            price_cents: p.price.cents(),
            currency: p.price.currency().code(),
            attributes: &p.attributes,
            stock_quantity: p.stock_quantity,
            reserved_quantity: p.reserved_quantity,
            status: p.status.as_str(),
        }
    }
}

/// Inserts a product.
pub async fn insert(conn: &mut AsyncPgConnection, p: &NewProduct) -> QueryResult<AdminRow> {
    diesel::insert_into(products::table)
        .values(ProductInsert::from(p))
        .returning(AdminRow::as_returning())
        .get_result(conn)
        .await
}

/// The columns a change sets: an absent one is left out of the `SET` (the stored value stays);
/// `Some(None)` clears the description.
// `Option<Option<_>>` is how AsChangeset tells "leave it" (None) from "clear it" (Some(None)).
#[allow(clippy::option_option)]
#[derive(AsChangeset)]
#[diesel(table_name = products, check_for_backend(Pg))]
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

/// Applies `c` to a product that is not deleted; `None` when there is none.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    c: &ProductChanges,
) -> QueryResult<Option<AdminRow>> {
    if *c == ProductChanges::default() {
        // Nothing to set (validation refuses an empty patch): the product as it is.
        return find(conn, id).await;
    }
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
    diesel::update(products::table.find(id).filter(products::deleted_at.is_null()))
        .set(changes)
        .returning(AdminRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Soft-deletes a product; its id and SKU when it existed and was not deleted yet.
pub async fn soft_delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(i64, String)>> {
    diesel::update(products::table.find(id).filter(products::deleted_at.is_null()))
        .set(products::deleted_at.eq(now))
        .returning((products::id, products::sku))
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
    use products::{reserved_quantity as reserved, stock_quantity as stock};
    let live = products::table.find(id).filter(products::deleted_at.is_null());
    let row = AdminRow::as_returning();
    let changed = match change {
        StockChange::Set(q) => {
            diesel::update(live.filter(reserved.le(q))).set(stock.eq(q)).returning(row).get_result(conn).await
        }
        // `i32::MAX - d`: the bound is checked before the addition can overflow.
        StockChange::Adjust(d) if d >= 0 => {
            let room = live.filter(stock.le(i32::MAX - d));
            diesel::update(room).set(stock.eq(stock + d)).returning(row).get_result(conn).await
        }
        StockChange::Adjust(d) => {
            let enough = live.filter((stock + d).ge(reserved));
            diesel::update(enough).set(stock.eq(stock + d)).returning(row).get_result(conn).await
        }
    };
    changed.optional()
}

/// A product that is not deleted, for error messages.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<AdminRow>> {
    products::table
        .find(id)
        .filter(products::deleted_at.is_null())
        .select(AdminRow::as_select())
        .first(conn)
        .await
        .optional()
}
