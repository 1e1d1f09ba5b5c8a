//! The listing's SQL: one filtered count and one page, both on the partial "active" indexes.

use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::query::{ListingQuery, SortBy, SortOrder};
use crate::schema::products;

/// The columns a listing item needs.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub struct ProductRow {
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
    /// Attributes object.
    pub attributes: serde_json::Value,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units reserved.
    pub reserved_quantity: i32,
}

/// Escapes `%`, `_` and `\` so the search term matches literally (the seed did not).
pub fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn filtered(q: &ListingQuery) -> products::BoxedQuery<'static, Pg> {
    use products::dsl as p;
    let mut query = p::products.filter(p::status.eq("active")).filter(p::deleted_at.is_null()).into_boxed();
    if let Some(category) = &q.category {
        query = query.filter(sql::<Bool>("(attributes ->> 'category') = ").bind::<Text, _>(category.clone()));
    }
    if let Some(min) = q.min_price_cents {
        query = query.filter(p::price_cents.ge(min));
    }
    if let Some(max) = q.max_price_cents {
        query = query.filter(p::price_cents.le(max));
    }
    if q.in_stock {
        query = query.filter(p::stock_quantity.gt(p::reserved_quantity));
    }
    if let Some(term) = &q.search {
        let pattern = like_pattern(term);
        query = query.filter(p::name.ilike(pattern.clone()).or(p::description.ilike(pattern)));
    }
    query
}

/// The count query (also explained by `explain`).
pub fn count_query(q: &ListingQuery) -> impl CountQuery {
    filtered(q).count()
}

/// What [`count_query`] returns: a boxed `SELECT count(*)`.
pub trait CountQuery:
    diesel::query_builder::QueryFragment<Pg> + diesel::query_builder::QueryId + Send + 'static
{
}
impl<T: diesel::query_builder::QueryFragment<Pg> + diesel::query_builder::QueryId + Send + 'static> CountQuery
    for T
{
}

/// Number of products matching the filters.
pub async fn count(conn: &mut AsyncPgConnection, q: &ListingQuery) -> QueryResult<i64> {
    filtered(q).count().get_result(conn).await
}

/// The page query: filters, the sort with the id tie-break, limit and offset.
pub fn page_query(
    q: &ListingQuery,
    offset: i64,
) -> diesel::dsl::Offset<diesel::dsl::Limit<products::BoxedQuery<'static, Pg, PageColumns>>> {
    use products::dsl as p;
    let query = filtered(q).select(ProductRow::as_select());
    let query = match (q.sort_by, q.sort_order) {
        (SortBy::CreatedAt, SortOrder::Asc) => query.order(p::created_at.asc()),
        (SortBy::CreatedAt, SortOrder::Desc) => query.order(p::created_at.desc()),
        (SortBy::PriceCents, SortOrder::Asc) => query.order(p::price_cents.asc()),
        (SortBy::PriceCents, SortOrder::Desc) => query.order(p::price_cents.desc()),
        (SortBy::Name, SortOrder::Asc) => query.order(p::name.asc()),
        (SortBy::Name, SortOrder::Desc) => query.order(p::name.desc()),
    };
    query.then_order_by(p::id.asc()).limit(q.per_page).offset(offset)
}

/// The SQL type of a listing row.
pub type PageColumns = diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ProductRow, Pg>>;

/// One page of products; ties are broken by id so pages never overlap.
pub async fn page(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    offset: i64,
) -> QueryResult<Vec<ProductRow>> {
    page_query(q, offset).load(conn).await
}
