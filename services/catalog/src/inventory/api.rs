//! `/internal/v1` inventory endpoints (service token): reserve, read, extend, release and commit
//! reservations; look up prices and availability. Shapes in `domain::inventory`.

use actix_web::{HttpResponse, ResponseError, web};
use diesel_async::AsyncConnection;
use domain::cart::Quantity;
use domain::ids::{CartId, OrderId};
use domain::inventory::{
    ExtendManyRequest, ExtendManyResponse, ExtendRequest, ReleaseByKeyRequest, ReservationStatus,
    ReserveRequest, ResizeRequest,
};
use platform::auth::InternalCaller;
use platform::http::{ApiError, Json, ValidationErrors};
use uuid::Uuid;

use super::repo::{self, Close, NewReservation, ReserveRefused, ResizeRefused};
use crate::state::AppState;

/// Longest lifetime a caller may ask for (a day).
const MAX_TTL_MINUTES: i64 = 24 * 60;

fn ttl(requested: Option<i64>, default: u64, errors: &mut ValidationErrors) -> i64 {
    match requested {
        None => i64::try_from(default).unwrap_or(MAX_TTL_MINUTES).clamp(1, MAX_TTL_MINUTES),
        Some(m) if (1..=MAX_TTL_MINUTES).contains(&m) => m,
        Some(_) => {
            errors.add("ttl_minutes", format!("The ttl minutes must be between 1 and {MAX_TTL_MINUTES}."));
            0
        }
    }
}

/// Orders are numbered from 1: 0 or a negative id names no order (and would never match the
/// `order.paid` / `order.canceled` events that close reservations).
fn check_order_id(order_id: Option<OrderId>, errors: &mut ValidationErrors) {
    if order_id.is_some_and(|o| o.get() <= 0) {
        errors.add("order_id", "The order id must be a positive integer.");
    }
}

/// The nil UUID is nobody's cart.
fn check_cart_id(cart_id: Option<CartId>, errors: &mut ValidationErrors) {
    if cart_id.is_some_and(|c| c.0.is_nil()) {
        errors.add("cart_id", "The cart id must not be the nil UUID.");
    }
}

fn conflict(available: i64, message: &str) -> HttpResponse {
    ApiError::insufficient_stock(available, message).error_response()
}

/// `POST /internal/v1/reservations` → 201 with the reservation, 409 when stock is short.
#[utoipa::path(post, path = "/internal/v1/reservations", operation_id = "reserve", tag = "internal",
    security(("internal" = [])), request_body = domain::inventory::ReserveRequest,
    responses((status = 201, description = "The reservation", body = domain::inventory::Reservation),
        (status = 200, description = "The reservation made earlier with this idempotency key", body = domain::inventory::Reservation),
        (status = 409, description = "Not enough stock", body = platform::openapi::InsufficientStockBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn reserve(
    _: InternalCaller,
    state: web::Data<AppState>,
    Json(req): Json<ReserveRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let quantity = Quantity::try_from(req.quantity).map_or_else(
        |_| {
            errors.add(
                "quantity",
                format!("The quantity must be between {} and {}.", Quantity::MIN, Quantity::MAX),
            );
            0
        },
        Quantity::get,
    );
    if req.cart_id.is_none() && req.order_id.is_none() {
        errors.add("cart_id", "A cart_id or an order_id is required.");
    }
    if req.product_id.get() <= 0 {
        errors.add("product_id", "The product id must be a positive integer.");
    }
    check_cart_id(req.cart_id, &mut errors);
    check_order_id(req.order_id, &mut errors);
    check_key(req.idempotency_key.as_deref(), &mut errors);
    let ttl_minutes = ttl(req.ttl_minutes, state.reservation_ttl_minutes, &mut errors);
    errors.into_result()?;
    let new = NewReservation {
        product_id: req.product_id,
        quantity,
        cart_id: req.cart_id,
        order_id: req.order_id,
        ttl_minutes,
        idempotency_key: req.idempotency_key,
    };
    let mut conn = state.pool.get().await?;
    // Twice at most: two requests with one key racing, the loser finds the winner's reservation.
    let mut outcome = None;
    for _ in 0..2 {
        match conn.transaction::<_, diesel::result::Error, _>(async |c| keyed_reserve(c, &new).await).await {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) if new.idempotency_key.is_some() => {}
            other => {
                outcome = Some(other?);
                break;
            }
        }
    }
    state.wake_relay();
    let outcome = outcome.ok_or_else(|| ApiError::Unavailable("Retry the reservation".to_owned()))?;
    match outcome {
        Keyed::Existing(row, _) if !row.answers(&new) => Err(ApiError::Validation(ValidationErrors::single(
            "idempotency_key",
            "The key was used for another reservation.",
        ))),
        Keyed::Existing(row, available) => Ok(HttpResponse::Ok().json(row.into_reservation(available))),
        Keyed::New(Ok((row, counters))) => {
            Ok(HttpResponse::Created().json(row.into_reservation(counters.available())))
        }
        Keyed::New(Err(refused)) => refused_answer(refused),
    }
}

/// What a (possibly keyed) reserve found or did.
enum Keyed {
    /// The active reservation an earlier request with the key made (and its availability).
    Existing(repo::ReservationRow, i64),
    /// A new reservation, or why none was made.
    New(Result<(repo::ReservationRow, repo::Counters), ReserveRefused>),
}

async fn keyed_reserve(
    c: &mut diesel_async::AsyncPgConnection,
    new: &NewReservation,
) -> diesel::QueryResult<Keyed> {
    if let Some(key) = new.idempotency_key.as_deref()
        && let Some((row, available)) = repo::active_by_key(c, key).await?
    {
        return Ok(Keyed::Existing(row, available));
    }
    Ok(Keyed::New(repo::reserve(c, new.clone()).await?))
}

fn check_key(key: Option<&str>, errors: &mut ValidationErrors) {
    if let Some(k) = key
        && (k.is_empty() || k.len() > 200 || !k.bytes().all(|b| b.is_ascii_graphic()))
    {
        errors.add("idempotency_key", "The key must be 1 to 200 printable ASCII characters.");
    }
}

/// `POST /internal/v1/reservations/release-by-key` `{"idempotency_key"}` → 200
/// `{"released": true|false}`: gives back the active reservation made with the key, if any
/// (a caller that got no answer to its reserve and gave up).
#[utoipa::path(post, path = "/internal/v1/reservations/release-by-key", operation_id = "release_by_key", tag = "internal",
    security(("internal" = [])), request_body = domain::inventory::ReleaseByKeyRequest,
    responses((status = 200, description = "Whether an active reservation was released", body = Released),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn release_by_key(
    _: InternalCaller,
    state: web::Data<AppState>,
    Json(req): Json<ReleaseByKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    check_key(Some(&req.idempotency_key), &mut errors);
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    let released = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let Some((row, _)) = repo::active_by_key(c, &req.idempotency_key).await? else {
                return Ok(false);
            };
            Ok(!repo::close(c, &[row.id()], Close::Release).await?.is_empty())
        })
        .await?;
    state.wake_relay();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "released": released })))
}

fn refused_answer(refused: ReserveRefused) -> Result<HttpResponse, ApiError> {
    match refused {
        ReserveRefused::UnknownProduct => Err(ApiError::not_found("No product with this id")),
        ReserveRefused::NotForSale => Ok(conflict(0, "The product is not for sale")),
        ReserveRefused::Insufficient { available } => {
            Ok(conflict(available, &format!("Only {available} unit(s) available")))
        }
    }
}

fn reservation_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| no_reservation())
}

fn no_reservation() -> ApiError {
    ApiError::not_found("No reservation with this id")
}

/// The reservation as it stands now, with the product's availability (404 when unknown).
async fn current(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
) -> Result<(repo::ReservationRow, i64), ApiError> {
    repo::find(conn, id).await?.ok_or_else(no_reservation)
}

/// `GET /internal/v1/reservations/{id}`.
#[utoipa::path(get, path = "/internal/v1/reservations/{id}", operation_id = "show_reservation", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The reservation id (UUID)")),
    responses((status = 200, description = "The reservation", body = domain::inventory::Reservation),
        (status = 404, description = "No such reservation", body = platform::openapi::ErrorBody)))]
pub async fn show(
    _: InternalCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = reservation_id(&id)?;
    let mut conn = state.pool.get().await?;
    let (row, available) = current(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(row.into_reservation(available)))
}

/// `POST /internal/v1/reservations/{id}/extend` (body optional) → 200; 409 once it is no longer
/// active or past its expiry.
#[utoipa::path(post, path = "/internal/v1/reservations/{id}/extend", operation_id = "extend_reservation", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The reservation id (UUID)")), request_body(content = Option<domain::inventory::ExtendRequest>, description = "Optional: an empty body extends by the default TTL"),
    responses((status = 200, description = "The reservation", body = domain::inventory::Reservation),
        (status = 404, description = "No such reservation", body = platform::openapi::ErrorBody),
        (status = 409, description = "No longer active", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn extend(
    _: InternalCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = reservation_id(&id)?;
    // The body is optional: an empty one extends by the default TTL.
    let req: ExtendRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ExtendRequest::default()
    } else {
        platform::http::extract::decode_json(&body)?
    };
    let mut errors = ValidationErrors::new();
    let ttl_minutes = ttl(req.ttl_minutes, state.reservation_ttl_minutes, &mut errors);
    check_order_id(req.order_id, &mut errors);
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    if repo::extend(&mut conn, id, ttl_minutes, req.order_id).await?.is_none() {
        return Err(match repo::find(&mut conn, id).await? {
            None => no_reservation(),
            Some((row, _)) => ApiError::conflict(format!(
                "The reservation is {} and cannot be extended",
                row.status()
                    .filter(|s| *s != ReservationStatus::Active)
                    .map_or("past its expiry", |s| s.as_str())
            )),
        });
    }
    let (row, available) = current(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(row.into_reservation(available)))
}

/// `POST /internal/v1/reservations/extend` → 200 with the reservations extended, in one
/// statement; the others (unknown, closed, lapsed) are left out of the answer.
#[utoipa::path(post, path = "/internal/v1/reservations/extend", operation_id = "extend_reservations", tag = "internal",
    security(("internal" = [])), request_body = domain::inventory::ExtendManyRequest,
    responses((status = 200, description = "The reservations extended", body = domain::inventory::ExtendManyResponse),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn extend_many(
    _: InternalCaller,
    state: web::Data<AppState>,
    Json(req): Json<ExtendManyRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    if req.reservation_ids.is_empty() || req.reservation_ids.len() > MAX_EXTEND {
        errors.add("reservation_ids", format!("Between 1 and {MAX_EXTEND} reservation ids."));
    }
    let ttl_minutes = ttl(req.ttl_minutes, state.reservation_ttl_minutes, &mut errors);
    check_order_id(req.order_id, &mut errors);
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    let rows = repo::extend_many(&mut conn, &req.reservation_ids, ttl_minutes, req.order_id).await?;
    let data = rows.into_iter().map(|(row, available)| row.into_reservation(available)).collect();
    Ok(HttpResponse::Ok().json(ExtendManyResponse { data }))
}

/// Most reservations one extend call names (a cart's lines are far fewer).
pub const MAX_EXTEND: usize = 100;

/// `POST /internal/v1/reservations/{id}/resize` → 200 with the reservation; 409 `Insufficient
/// stock` when growing needs more than is available (nothing changes), 409 `Conflict` once it
/// is no longer active or past its expiry (the caller reserves afresh), 404 when unknown.
#[utoipa::path(post, path = "/internal/v1/reservations/{id}/resize", operation_id = "resize_reservation", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The reservation id (UUID)")), request_body = domain::inventory::ResizeRequest,
    responses((status = 200, description = "The reservation", body = domain::inventory::Reservation),
        (status = 404, description = "No such reservation", body = platform::openapi::ErrorBody),
        (status = 409, description = "Not enough stock, or no longer active", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn resize(
    _: InternalCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(req): Json<ResizeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = reservation_id(&id)?;
    let mut errors = ValidationErrors::new();
    let quantity = Quantity::try_from(req.quantity).map_or_else(
        |_| {
            errors.add(
                "quantity",
                format!("The quantity must be between {} and {}.", Quantity::MIN, Quantity::MAX),
            );
            0
        },
        Quantity::get,
    );
    let ttl_minutes = ttl(req.ttl_minutes, state.reservation_ttl_minutes, &mut errors);
    errors.into_result()?;
    let mut conn = state.pool.get().await?;
    let outcome = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            repo::resize(c, id, quantity, ttl_minutes).await
        })
        .await?;
    state.wake_relay();
    match outcome {
        Ok(_) => {}
        Err(ResizeRefused::Insufficient { available }) => {
            return Ok(conflict(available, &format!("Only {available} more unit(s) available")));
        }
        Err(ResizeRefused::NotActive) => {
            return Err(match repo::find(&mut conn, id).await? {
                None => no_reservation(),
                Some(_) => ApiError::conflict("The reservation is no longer active"),
            });
        }
    }
    let (row, available) = current(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(row.into_reservation(available)))
}

/// `POST /internal/v1/reservations/{id}/release`.
#[utoipa::path(post, path = "/internal/v1/reservations/{id}/release", operation_id = "release_reservation", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The reservation id (UUID)")),
    responses((status = 200, description = "The reservation", body = domain::inventory::Reservation),
        (status = 404, description = "No such reservation", body = platform::openapi::ErrorBody),
        (status = 409, description = "Already committed", body = platform::openapi::ErrorBody)))]
pub async fn release(
    caller: InternalCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    close(caller, &state, &id, Close::Release).await
}

/// `POST /internal/v1/reservations/{id}/commit`.
#[utoipa::path(post, path = "/internal/v1/reservations/{id}/commit", operation_id = "commit_reservation", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The reservation id (UUID)")),
    responses((status = 200, description = "The reservation", body = domain::inventory::Reservation),
        (status = 404, description = "No such reservation", body = platform::openapi::ErrorBody),
        (status = 409, description = "Already released or expired", body = platform::openapi::ErrorBody)))]
pub async fn commit(
    caller: InternalCaller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    close(caller, &state, &id, Close::Commit).await
}

/// Release or commit: 200 with the reservation when it ends up in the asked state (again: both
/// are idempotent), 409 when it had already ended the other way, 404 when unknown.
async fn close(
    _: InternalCaller,
    state: &AppState,
    raw_id: &str,
    how: Close,
) -> Result<HttpResponse, ApiError> {
    let id = reservation_id(raw_id)?;
    let mut conn = state.pool.get().await?;
    conn.transaction::<_, diesel::result::Error, _>(async |c| repo::close(c, &[id], how).await.map(drop))
        .await?;
    state.wake_relay();
    let (row, available) = current(&mut conn, id).await?;
    let wanted = match how {
        Close::Commit => ReservationStatus::Committed,
        Close::Release | Close::Expire => ReservationStatus::Released,
    };
    match row.status() {
        Some(s) if s == wanted => Ok(HttpResponse::Ok().json(row.into_reservation(available))),
        // Releasing an expired reservation: the units are back already, which is what was asked.
        Some(ReservationStatus::Expired) if how == Close::Release => {
            Ok(HttpResponse::Ok().json(row.into_reservation(available)))
        }
        other => Err(ApiError::conflict(format!(
            "The reservation is already {}",
            other.map_or("closed", ReservationStatus::as_str)
        ))),
    }
}

/// `{"released": bool}` of release-by-key (a schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Released {
    /// Whether an active reservation made with the key was released.
    released: bool,
}
