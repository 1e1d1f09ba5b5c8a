//! The product page's SQL: one active product by slug.

use diesel::pg::Pg;
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::Slug;
use domain::product::ProductStatus;

use crate::listing::repo::ProductRow;
use crate::schema::products;

/// The listing's columns plus the description.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub struct PageRow {
    /// What the listing shows.
    #[diesel(embed)]
    pub item: ProductRow,
    /// Long description.
    pub description: Option<String>,
}

/// The active, not deleted product with this slug (the unique slug index finds it).
pub async fn active_by_slug(conn: &mut AsyncPgConnection, slug: &Slug) -> QueryResult<Option<PageRow>> {
    products::table
        .filter(products::slug.eq(slug.as_str()))
        .filter(products::status.eq(ProductStatus::Active.as_str()))
        .filter(products::deleted_at.is_null())
        .select(PageRow::as_select())
        .first(conn)
        .await
        .optional()
}
