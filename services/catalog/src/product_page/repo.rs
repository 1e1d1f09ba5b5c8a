//! The product page's SQL: one active product by slug.

use diesel::pg::Pg;
use diesel::sql_types::Text;
use diesel::{OptionalExtension, QueryResult, QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::Slug;

use crate::listing::repo::{PRODUCT_ROW_COLUMNS, ProductRow};
use crate::schema::products;

/// The listing's columns plus the description.
#[derive(Debug, Clone, QueryableByName)]
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
    sql_query(format!(
        "SELECT {PRODUCT_ROW_COLUMNS}, description FROM products \
         WHERE slug = $1 AND status = 'active' AND deleted_at IS NULL LIMIT 1"
    ))
    .bind::<Text, _>(slug.as_str())
    .get_result(conn)
    .await
    .optional()
}
