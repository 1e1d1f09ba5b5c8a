//! Admin routes (role `admin`): search, read, refunds (full or partial, through Stripe, never
//! more than paid) and fulfilment updates.

pub mod repo;

use actix_web::{HttpResponse, web};
use diesel_async::AsyncConnection;
use domain::order::{FulfillmentError, FulfillmentEvent, apply_fulfillment};
use platform::auth::Admin;
use platform::http::page::IdPage;
use platform::http::{ApiError, IdempotencyKey, Json, RawBody, ValidationErrors};
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

use crate::clients::stripe::RefundError;
use crate::orders::repo as orders;
use crate::orders::view;
use crate::payments::repo as payments;
use crate::payments::sync::{self, Origin};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::not_found("No order with this number")
}

/// Search filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Part of an order number, at most 320 characters, no control characters.
    #[param(max_length = 320, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    number: Option<String>,
    /// Part of an email address, at most 320 characters, no control characters.
    #[param(max_length = 320, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    email: Option<String>,
    needs_attention: Option<bool>,
    /// Orders per page, 1 to 200 (50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^(o[1-9][0-9]{0,17})?$")]
    cursor: Option<String>,
}

/// `GET /api/v1/admin/orders?number=&email=&needs_attention=&limit=&cursor=`: newest first,
/// keyset pages (`next_cursor`).
#[utoipa::path(get, path = "/api/v1/admin/orders", operation_id = "admin_search_orders", tag = "admin",
    security(("bearer" = [])), params(SearchQuery),
    responses((status = 200, description = "Matching orders, newest first", body = crate::orders::doc::AdminPageDoc),
        (status = 422, description = "A filter breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn search(
    _: Admin,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = IdPage::parse(q.limit, q.cursor.as_deref(), 50, 200)?;
    let number = filter("number", q.number.as_deref())?;
    let email = filter("email", q.email.as_deref())?;
    let mut conn = state.pool.get().await?;
    let rows = repo::search(&mut conn, number, email, q.needs_attention, page.before, page.fetch()).await?;
    let (rows, next) = page.split(rows, |o| o.id);
    let data: Vec<_> = rows
        .iter()
        .map(|o| {
            let mut v = view::summary_json(o);
            if let Some(m) = v.as_object_mut() {
                m.insert("customer_email".into(), json!(o.customer_email));
                m.insert("needs_attention".into(), json!(o.needs_attention));
                m.insert("disputed".into(), json!(o.disputed));
            }
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data, "next_cursor": next })))
}

/// A search filter, trimmed; empty means none. Control characters (a NUL cannot even reach
/// PostgreSQL) and values longer than any number or address are a 422, not a query.
fn filter<'a>(field: &'static str, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 320 || value.chars().any(char::is_control) {
        return Err(ApiError::Validation(ValidationErrors::single(
            field,
            "The filter must be at most 320 characters without control characters.",
        )));
    }
    Ok(Some(value))
}

/// `GET /api/v1/admin/orders/{order_number}`: the order with its refunds.
#[utoipa::path(get, path = "/api/v1/admin/orders/{order_number}", operation_id = "admin_show_order", tag = "admin",
    security(("bearer" = [])), params(("order_number" = String, Path, description = "The order number, ORD-...")),
    responses((status = 200, description = "The order with its payments and refunds", body = crate::orders::doc::AdminOrderWithRefundsDoc),
        (status = 404, description = "No such order", body = platform::openapi::ErrorBody)))]
pub async fn show(
    _: Admin,
    state: web::Data<AppState>,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let order = orders::by_number(&mut conn, &number).await?.ok_or_else(not_found)?;
    let items = orders::items(&mut conn, order.order_id()).await?;
    let refunds = repo::refunds(&mut conn, order.order_id()).await?;
    let mut body = view::admin_json(&order, &items);
    if let Some(m) = body.as_object_mut() {
        m.insert("refunds".into(), refunds.iter().map(refund_json).collect());
    }
    Ok(HttpResponse::Ok().json(body))
}

fn refund_json(r: &repo::RefundRow) -> serde_json::Value {
    json!({"id": r.id, "amount": r.amount_cents, "status": r.status, "stripe_refund_id": r.stripe_refund_id, "reason": r.reason})
}

/// Refund request: all that is left when `amount_cents` is absent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    amount_cents: Option<i64>,
    reason: Option<String>,
}

/// `POST /api/v1/admin/orders/{order_number}/refund` (required `Idempotency-Key`: a retry with
/// the same key never refunds twice; without one, 400 — money never moves under a made-up key).
#[utoipa::path(post, path = "/api/v1/admin/orders/{order_number}/refund", operation_id = "admin_refund_order", tag = "admin",
    security(("bearer" = [])), params(("order_number" = String, Path, description = "The order number, ORD-..."), ("Idempotency-Key" = String, Header, description = "Required: the same key and body replay the first answer")),
    request_body(content = Option<RefundRequest>, description = "Optional: no body refunds all that is left"),
    responses((status = 201, description = "The refund", body = crate::orders::doc::RefundAnswerDoc),
        (status = 400, description = "No Idempotency-Key", body = platform::openapi::ErrorBody),
        (status = 404, description = "No such order", body = platform::openapi::ErrorBody),
        (status = 409, description = "Nothing (or not that much) to refund", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn refund(
    admin: Admin,
    IdempotencyKey(key): IdempotencyKey,
    state: web::Data<AppState>,
    number: web::Path<String>,
    RawBody(body): RawBody,
) -> Result<HttpResponse, ApiError> {
    let body: RefundRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RefundRequest::default()
    } else {
        platform::http::extract::decode_json(&body)?
    };
    if body.reason.as_deref().is_some_and(|r| r.len() > 500) {
        return Err(ApiError::Validation(ValidationErrors::single(
            "reason",
            "The reason must be at most 500 characters.",
        )));
    }
    let mut conn = state.pool.get().await?;
    // 1. Under the order's row lock: check what is left and write the refund row (pending), so
    //    concurrent refunds can never add up to more than was paid.
    let planned = conn
        .transaction::<_, ApiError, _>(async |c| {
            let order = orders::by_number_for_update(c, &number).await?.ok_or_else(not_found)?;
            let id = order.order_id();
            if let Some(existing) = repo::refund_by_key(c, id, &key).await? {
                return Ok((order, existing.amount_cents, existing.status));
            }
            let payment = order.payment().map_err(ApiError::internal)?;
            if !payment.is_paid() {
                return Err(ApiError::conflict(format!(
                    "The order's payment is {payment}: nothing to refund"
                )));
            }
            let left = order.amount_paid_cents - payments::committed_refunds(c, id).await?;
            let amount = body.amount_cents.unwrap_or(left);
            if amount <= 0 || amount > left {
                return Err(ApiError::Validation(ValidationErrors::single(
                    "amount_cents",
                    format!("The amount must be between 1 and {left} (what is left to refund)."),
                )));
            }
            payments::insert_refund(c, id, amount, body.reason.as_deref(), &key, &admin.0.subject).await?;
            Ok((order, amount, "pending".to_owned()))
        })
        .await?;
    let (order, amount, status) = planned;
    // No connection is held while Stripe is asked.
    drop(conn);
    let id = order.order_id();
    let pi = order.payment_intent_id.clone().ok_or_else(|| ApiError::conflict("The order has no payment"))?;
    if status == "pending" {
        // 2. Stripe, under a key derived from ours: a retry replays instead of refunding again.
        let stripe_key = stripe_refund_key(id, &key);
        let outcome = state.stripe.refund(&pi, amount, &stripe_key).await;
        let mut conn = state.pool.get().await?;
        match outcome {
            Ok((refund_id, _)) => {
                payments::finish_refund(&mut conn, id, &key, "succeeded", Some(&refund_id)).await?;
            }
            Err(RefundError::Refused(m)) => {
                payments::finish_refund(&mut conn, id, &key, "failed", None).await?;
                return Err(ApiError::conflict(format!("Stripe refused the refund: {m}")));
            }
            Err(RefundError::Unavailable(u)) => {
                tracing::warn!(error = %u, "refund not confirmed; a retry with the same Idempotency-Key resumes it");
                return Err(ApiError::Unavailable(
                    "Stripe is unavailable; retry with the same Idempotency-Key".into(),
                ));
            }
        }
        // 3. The order's money from Stripe's objects (the refund is in them now); if Stripe cannot
        //    be read this moment, the syncer settles it shortly.
        if let Err(e) = sync::sync(&state, id, Origin::Admin).await {
            tracing::warn!(error = %e, order_id = %id, "refund made; the order is settled by the syncer");
            sync::repo::request(&mut conn, id, "refund.admin").await?;
        }
    }
    let mut conn = state.pool.get().await?;
    let order = orders::by_id(&mut conn, id).await?.ok_or_else(not_found)?;
    let refund = repo::refund_by_key(&mut conn, id, &key).await?.ok_or_else(not_found)?;
    let items = orders::items(&mut conn, id).await?;
    Ok(HttpResponse::Created()
        .json(json!({"refund": refund_json(&refund), "order": view::admin_json(&order, &items)})))
}

/// Fulfilment update: `{"status": "fulfilled" | "partially_fulfilled" | "shipped" | "delivered",
/// "carrier", "tracking_number"}` (both required for `shipped`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfillmentRequest {
    status: FulfillmentEvent,
    carrier: Option<String>,
    tracking_number: Option<String>,
}

/// `POST /api/v1/admin/orders/{order_number}/fulfillment`: 409 for an illegal step.
#[utoipa::path(post, path = "/api/v1/admin/orders/{order_number}/fulfillment", operation_id = "admin_fulfill_order", tag = "admin",
    security(("bearer" = [])), params(("order_number" = String, Path, description = "The order number, ORD-...")), request_body = FulfillmentRequest,
    responses((status = 200, description = "The order", body = crate::orders::doc::AdminOrderDoc),
        (status = 404, description = "No such order", body = platform::openapi::ErrorBody),
        (status = 409, description = "An illegal step", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn fulfillment(
    _: Admin,
    state: web::Data<AppState>,
    number: web::Path<String>,
    Json(body): Json<FulfillmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let clean = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (carrier, tracking) = (clean(&body.carrier), clean(&body.tracking_number));
    let mut errors = ValidationErrors::new();
    if body.status == FulfillmentEvent::Shipped {
        if carrier.is_none() {
            errors.add("carrier", "A carrier is required when shipping.");
        }
        if tracking.is_none() {
            errors.add("tracking_number", "A tracking number is required when shipping.");
        }
    }
    for (field, v) in [("carrier", &carrier), ("tracking_number", &tracking)] {
        if v.as_deref().is_some_and(|s| s.len() > 100) {
            errors.add(field, "At most 100 characters.");
        }
    }
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    let id = conn
        .transaction::<_, ApiError, _>(async |c| {
            let order = orders::by_number_for_update(c, &number).await?.ok_or_else(not_found)?;
            let payment = order.payment().map_err(ApiError::internal)?;
            let current = order.fulfillment().map_err(ApiError::internal)?;
            let to = apply_fulfillment(payment, current, body.status).map_err(|e| match e {
                FulfillmentError::NotPaid(_) | FulfillmentError::Illegal(_) => {
                    ApiError::conflict(e.to_string())
                }
            })?;
            repo::set_fulfillment(c, order.order_id(), to, carrier.as_deref(), tracking.as_deref()).await?;
            Ok(order.order_id())
        })
        .await?;
    let order = orders::by_id(&mut conn, id).await?.ok_or_else(not_found)?;
    let items = orders::items(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(view::admin_json(&order, &items)))
}

/// Stripe's key for our refund key: ours inside it while it fits Stripe's 255 characters, its
/// digest when longer.
fn stripe_refund_key(order: domain::ids::OrderId, key: &str) -> String {
    if key.len() <= 200 {
        format!("order-{order}-refund-{key}")
    } else {
        let digest = domain::hex::encode(&sha2::Sha256::digest(key.as_bytes()));
        format!("order-{order}-refund-sha256-{digest}")
    }
}
