//! Customers' order routes: read (owner or access token), list (signed in), cancel before payment.

pub mod doc;
pub mod repo;
pub mod view;

use actix_web::{HttpRequest, HttpResponse, web};
use platform::auth::{MaybePrincipal, Principal};
use platform::http::ApiError;
use platform::http::page::IdPage;
use serde::Deserialize;

use self::repo::OrderRow;
use crate::order::CloseReason;
use crate::order::close::close_unpaid;
use crate::state::AppState;

/// The guest's order access header.
pub const ORDER_TOKEN_HEADER: &str = "x-order-token";

fn not_found() -> ApiError {
    ApiError::not_found("No order with this number")
}

/// Whether the caller owns the order: its JWT subject, or the order's access token.
pub fn may_read(order: &OrderRow, principal: Option<&Principal>, req: &HttpRequest) -> bool {
    if let (Some(p), Some(owner)) = (principal, order.customer_id.as_deref())
        && p.subject == owner
    {
        return true;
    }
    req.headers()
        .get(ORDER_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| platform::token::verify(t.trim(), &order.access_token_hash))
}

/// The order `number` if the caller may read it; 404 otherwise (never telling which).
async fn readable(
    conn: &mut diesel_async::AsyncPgConnection,
    number: &str,
    principal: Option<&Principal>,
    req: &HttpRequest,
) -> Result<OrderRow, ApiError> {
    let order = repo::by_number(conn, number).await?.ok_or_else(not_found)?;
    if may_read(&order, principal, req) { Ok(order) } else { Err(not_found()) }
}

/// `GET /api/v1/orders/{order_number}`: 404 for anyone but the owner.
#[utoipa::path(get, path = "/api/v1/orders/{order_number}", operation_id = "show_order", tag = "orders",
    security((), ("bearer" = [])), params(("order_number" = String, Path, description = "The order number, ORD-..."), ("X-Order-Token" = Option<String>, Header, description = "The access_token of the checkout answer (guests)")),
    responses((status = 200, description = "The order", body = doc::OrderDoc),
        (status = 404, description = "No such order, or not the requester's", body = platform::openapi::ErrorBody)))]
pub async fn show(
    req: HttpRequest,
    principal: MaybePrincipal,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let order = readable(&mut conn, &number, principal.0.as_ref(), &req).await?;
    let items = repo::items(&mut conn, order.order_id()).await?;
    Ok(HttpResponse::Ok().json(view::order_json(&order, &items)))
}

/// List query: `limit` (1 to 100, default 20), `cursor` (from `next_cursor`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Orders per page, 1 to 100 (20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^(o[1-9][0-9]{0,17})?$")]
    cursor: Option<String>,
}

/// `GET /api/v1/orders`: the signed-in customer's orders, newest first, cursor-paginated.
#[utoipa::path(get, path = "/api/v1/orders", operation_id = "list_orders", tag = "orders",
    security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "The signed-in customer's orders, newest first", body = doc::OrderPageDoc),
        (status = 401, description = "Not signed in", body = platform::openapi::ErrorBody),
        (status = 422, description = "A bad limit or cursor", body = platform::openapi::ValidationErrorBody)))]
pub async fn list(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = IdPage::parse(query.limit, query.cursor.as_deref(), 20, 100)?;
    let mut conn = state.pool.get().await?;
    let rows = repo::of_customer(&mut conn, &principal.subject, page.before, page.fetch()).await?;
    let (page, next) = page.split(rows, |o: &OrderRow| o.id);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "data": page.iter().map(view::summary_json).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

/// `POST /api/v1/orders/{order_number}/cancel`: before payment only (409 after).
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/cancel", operation_id = "cancel_order", tag = "orders",
    security((), ("bearer" = [])), params(("order_number" = String, Path, description = "The order number, ORD-..."), ("X-Order-Token" = Option<String>, Header, description = "The access_token of the checkout answer (guests)")),
    responses((status = 200, description = "The canceled order", body = doc::OrderDoc),
        (status = 404, description = "No such order, or not the requester's", body = platform::openapi::ErrorBody),
        (status = 409, description = "Paid already: cancel is before payment only", body = platform::openapi::ErrorBody)))]
pub async fn cancel(
    req: HttpRequest,
    principal: MaybePrincipal,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let order = readable(&mut conn, &number, principal.0.as_ref(), &req).await?;
    drop(conn);
    let order = close_unpaid(&state, order, CloseReason::CustomerCanceled).await?;
    let mut conn = state.pool.get().await?;
    let items = repo::items(&mut conn, order.order_id()).await?;
    Ok(HttpResponse::Ok().json(view::order_json(&order, &items)))
}
