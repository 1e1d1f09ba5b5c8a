//! `GET /api/v1/products/{slug}`: one active product, the listing's item shape plus `description`.

pub mod repo;

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use domain::ids::Slug;
use platform::db::PgPool;
use platform::http::ApiError;
use serde::Serialize;

use crate::listing::response::Item;
use crate::listing::{PoolUnavailable, from_build_error};
use crate::state::AppState;

/// The body: `{"data": {…item…, "description": …}}`.
#[derive(Serialize, utoipa::ToSchema)]
struct ProductPage {
    data: PageItem,
}

#[derive(Serialize, utoipa::ToSchema)]
struct PageItem {
    #[serde(flatten)]
    item: Item,
    description: Option<String>,
}

/// No active product has this slug (cached as a miss marker is not worth it: it is one index probe).
#[derive(Debug)]
struct NoSuchProduct;

impl std::fmt::Display for NoSuchProduct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no active product with this slug")
    }
}

impl std::error::Error for NoSuchProduct {}

fn not_found() -> ApiError {
    ApiError::not_found("No active product has this slug")
}

/// The handler; pages are cached like listings (same tag version, same age bound).
#[utoipa::path(get, path = "/api/v1/products/{slug}", operation_id = "show_product", tag = "products",
    params(("slug" = String, Path, description = "The product's slug")),
    responses((status = 200, description = "One active product", body = ProductPage),
        (status = 404, description = "No active product has this slug", body = platform::openapi::ErrorBody)))]
pub async fn show_product(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Ok(slug) = Slug::parse(&path.into_inner()) else {
        return Err(not_found());
    };
    let key = format!("products:slug:{slug}");
    let pool = state.read_pool.clone();
    let body = state.cache.get_or_build(&key, move || build(pool, slug)).await.map_err(|e| {
        if e.downcast_ref::<NoSuchProduct>().is_some() { not_found() } else { from_build_error(e) }
    })?;
    // No `Vary`: unlike the listing's links, nothing in this body depends on request headers.
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((header::CACHE_CONTROL, crate::listing::CACHE_CONTROL))
        .body(body))
}

async fn build(pool: PgPool, slug: Slug) -> anyhow::Result<Bytes> {
    let mut conn = pool.get().await.map_err(PoolUnavailable)?;
    let found = repo::active_by_slug(&mut conn, &slug).await?;
    let repo::PageRow { item, description } = found.ok_or(NoSuchProduct)?;
    let page = ProductPage { data: PageItem { item: Item::from(item), description } };
    Ok(Bytes::from(serde_json::to_vec(&page)?))
}
