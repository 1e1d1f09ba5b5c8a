//! The HTTP side of `POST /api/v1/checkout`: the Idempotency-Key and who may use it, replays
//! and waits, and the outcome as a status and a metric. The saga itself is [`super::flow`].

use actix_web::{HttpRequest, HttpResponse, web};
use domain::ids::OrderId;
use platform::auth::MaybePrincipal;
use platform::http::{ApiError, IdempotencyKey, Json, ValidationErrors};
use sha2::{Digest, Sha256};

use super::failure::Failure;
use super::flow::{self, Ctx};
use super::idempotency::{self, Claim};
use super::request::CheckoutRequest;
use crate::state::AppState;

/// The guest cart token header (as the cart API uses it).
pub const CART_TOKEN_HEADER: &str = "x-cart-token";

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Keys are scoped to who may use them: a customer, or a guest's cart token (hashed, never
/// stored in clear), so one guest's key never collides with another's.
fn scope(customer_id: Option<&str>, cart_token: Option<&str>) -> String {
    match (customer_id, cart_token) {
        (Some(s), _) => format!("customer:{s}"),
        (None, Some(t)) => format!("guest:{}", &platform::token::hash_hex(t)[..32]),
        (None, None) => "guest".to_owned(),
    }
}

/// `POST /api/v1/checkout`.
#[utoipa::path(post, path = "/api/v1/checkout", operation_id = "checkout", tag = "checkout",
    security((), ("bearer" = [])), params(("Idempotency-Key" = String, Header, description = "Required: the same key and body replay the first answer"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token")),
    request_body = super::request::CheckoutRequest,
    responses((status = 201, description = "The order and its PaymentIntent", body = crate::orders::doc::CheckoutDoc),
        (status = 200, description = "A replay of the first answer to this key and body", body = crate::orders::doc::CheckoutDoc),
        (status = 400, description = "No Idempotency-Key", body = platform::openapi::ErrorBody),
        (status = 409, description = "Stock gone, or the cart is being checked out", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule, an empty or unknown cart, or the key was used with another body", body = platform::openapi::ValidationErrorBody)))]
pub async fn checkout(
    http: HttpRequest,
    key: Result<IdempotencyKey, ApiError>,
    principal: MaybePrincipal,
    state: web::Data<AppState>,
    Json(req): Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let IdempotencyKey(key) = key.inspect_err(|_| state.metrics.checkout.record("no_key"))?;
    let valid = req.parse()?;
    let customer_id = principal.0.map(|p| p.subject);
    let cart_token = header(&http, CART_TOKEN_HEADER);
    let hash = req.fingerprint(cart_token.as_deref())?;
    let scope = scope(customer_id.as_deref(), cart_token.as_deref());
    let holder = format!(
        "checkout:{}",
        &domain::hex::encode(&Sha256::digest(format!("{scope}\n{key}").as_bytes()))[..40]
    );
    let ctx = Ctx {
        scope,
        key,
        holder,
        customer_id,
        cart_token,
        req: valid,
        traceparent: platform::telemetry::current_trace_headers().remove("traceparent"),
    };

    let claim = idempotency::claim_waiting(&state.pool, &ctx.scope, &ctx.key, &hash).await?;
    let (order_id, access_token) = match claim {
        Claim::Acquired { order_id, access_token } => (order_id, access_token),
        Claim::Replay { status, body } => {
            state.metrics.checkout.record("replayed");
            let status = actix_web::http::StatusCode::from_u16(status).map_err(ApiError::internal)?;
            return Ok(HttpResponse::build(status).json(body));
        }
        Claim::Mismatch => {
            state.metrics.checkout.record("key_mismatch");
            return Err(ApiError::Validation(ValidationErrors::single(
                "idempotency_key",
                "This Idempotency-Key was used with a different request.",
            )));
        }
        Claim::Busy => {
            state.metrics.checkout.record("busy");
            return Err(ApiError::conflict("A checkout with this Idempotency-Key is still in progress"));
        }
    };

    match flow::run(&state, &ctx, order_id.map(OrderId), &access_token).await {
        Ok(body) => {
            state.metrics.checkout.record("created");
            Ok(HttpResponse::Created().json(body))
        }
        Err(failure) => {
            let mut conn = state.pool.get().await?;
            match failure {
                Failure::Before(e) => {
                    let outcome = if matches!(e, ApiError::InsufficientStock { .. }) {
                        "out_of_stock"
                    } else {
                        "refused"
                    };
                    state.metrics.checkout.record(outcome);
                    idempotency::repo::release(&mut conn, &ctx.scope, &ctx.key).await?;
                    flow::unlock(&state, &ctx).await;
                    Err(e)
                }
                Failure::After(e) => {
                    state.metrics.checkout.record("interrupted");
                    idempotency::repo::abandon(&mut conn, &ctx.scope, &ctx.key).await?;
                    Err(e)
                }
            }
        }
    }
}
