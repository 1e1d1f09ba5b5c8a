//! `GET /api/v1/products`: validate, query, shape.

pub mod query;
pub mod repo;
pub mod response;

use actix_web::{HttpRequest, HttpResponse, web};
use platform::http::ApiError;

use crate::state::AppState;

/// The handler.
pub async fn list_products(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let pairs = query::pairs(req.query_string());
    let q = query::parse(&pairs).map_err(ApiError::Validation)?;
    let mut conn = state.read_pool.get().await?;
    let total = repo::count(&mut conn, &q).await?;
    let rows = match q.offset() {
        Some(offset) if offset < total => repo::page(&mut conn, &q, offset).await?,
        _ => Vec::new(),
    };
    drop(conn);
    let last = response::last_page(total, q.per_page);
    let base = response::base_url(&req);
    let body = response::Listing {
        data: rows.into_iter().map(response::Item::from).collect(),
        meta: response::Meta { current_page: q.page, last_page: last, per_page: q.per_page, total },
        links: response::links(&base, &pairs, q.page, last),
    };
    Ok(HttpResponse::Ok().json(body))
}
