//! The listing's SQL: one filtered count and one page, both on the partial "active" indexes.

use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::cursor::{Cursor, CursorKey};
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
    /// Creation time (the default sort, and keyset cursors).
    pub created_at: chrono::DateTime<chrono::Utc>,
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
    let mut query = filtered(q).select(ProductRow::as_select());
    if let Some(cursor) = &q.cursor {
        query = after_cursor(query, cursor, q.sort_order);
    }
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

/// Rows after `cursor` in the listing's order (`sort` in `order`, then `id` ascending), written
/// as `col <= v AND (col < v OR id > last)` for descending sorts (and the mirror for ascending):
/// the first conjunct is an index seek, whatever the tie-break's direction.
fn after_cursor(
    query: products::BoxedQuery<'static, Pg, PageColumns>,
    cursor: &Cursor,
    order: SortOrder,
) -> products::BoxedQuery<'static, Pg, PageColumns> {
    use products::dsl as p;
    let id = cursor.id;
    macro_rules! seek {
        ($col:expr, $v:expr) => {
            match order {
                SortOrder::Desc => query.filter($col.le($v)).filter($col.lt($v).or(p::id.gt(id))),
                SortOrder::Asc => query.filter($col.ge($v)).filter($col.gt($v).or(p::id.gt(id))),
            }
        };
    }
    match &cursor.key {
        CursorKey::CreatedAt(us) => match chrono::DateTime::from_timestamp_micros(*us) {
            Some(t) => seek!(p::created_at, t),
            // Unreachable for decoded cursors (they are range-checked); an empty page otherwise.
            None => query.filter(p::id.lt(0)),
        },
        CursorKey::PriceCents(cents) => seek!(p::price_cents, *cents),
        CursorKey::Name(name) => seek!(p::name, name.clone()),
    }
}

/// The cursor that continues after `rows` (the last row), when the page is full.
pub fn next_cursor(q: &ListingQuery, rows: &[ProductRow]) -> Option<Cursor> {
    let last = rows.last().filter(|_| i64::try_from(rows.len()).is_ok_and(|n| n == q.per_page))?;
    let key = match q.sort_by {
        SortBy::CreatedAt => CursorKey::CreatedAt(last.created_at.timestamp_micros()),
        SortBy::PriceCents => CursorKey::PriceCents(last.price_cents),
        SortBy::Name => CursorKey::Name(last.name.clone()),
    };
    Some(Cursor { key, id: last.id })
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
