//! The internal API order uses at checkout (`/internal/v1/carts`, service token; never routed
//! by the gateway): read a cart with its reservations, take and give back the checkout lock.
//! The shapes and statuses are the contract in `domain::checkout_lock`.

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use domain::checkout_lock::{
    CartSnapshot, CartSnapshotItem, CheckoutLockRequest, LOCK_TTL_RANGE, MAX_HOLDER_LEN, UnlockQuery,
};
use domain::events::{CartCheckedOut, Envelope};
use domain::ids::CartId;
use platform::auth::InternalCaller;
use platform::http::{ApiError, Json, ValidationErrors};

use crate::carts::access;
use crate::carts::errors::CartError;
use crate::carts::model::{Cart, CheckoutLock, Owner};
use crate::state::AppState;

/// Source of the events this service publishes.
pub const SOURCE: &str = "cart";
/// The internal routes (method and path in each handler's `utoipa::path`).
pub fn api() -> platform::openapi::Api {
    platform::openapi::Api::new(crate::SERVICE, "")
        .op(__path_show, show)
        .op(__path_lock, lock)
        .op(__path_unlock, unlock)
}

fn view(cart: &Cart) -> CartSnapshot {
    let now = Utc::now();
    let lock = cart.locked_at(now);
    CartSnapshot {
        id: cart.id,
        customer_id: cart.customer_id().map(str::to_owned),
        currency: cart.currency.code().to_owned(),
        locked_by: lock.map(|l| l.holder.clone()),
        lock_expires_at: lock.map(|l| l.expires_at),
        items: cart
            .lines
            .iter()
            .map(|l| CartSnapshotItem {
                id: l.id,
                product_id: l.product_id,
                sku: l.sku.as_ref().to_owned(),
                quantity: l.quantity,
                selected_attributes: l.selected_attributes.clone(),
                reservation_id: l.reservation_id.filter(|_| l.is_reserved(now)),
                reservation_expires_at: l.reserved_until.filter(|_| l.is_reserved(now)),
            })
            .collect(),
    }
}

fn not_found() -> CartError {
    ApiError::not_found("No cart with this id").into()
}

/// `GET /internal/v1/carts/{id}`: lapsed reservations are re-reserved first, best effort.
#[utoipa::path(get, path = "/internal/v1/carts/{id}", operation_id = "internal_show_cart", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The cart id (UUID)")),
    responses((status = 200, description = "The cart as order reads it", body = CartSnapshot),
        (status = 404, description = "No such cart", body = platform::openapi::ErrorBody)))]
pub async fn show(
    _: InternalCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, CartError> {
    let id = access::cart_id(&path)?;
    let mut cart = state.store.load(id).await?.ok_or_else(not_found)?;
    if state.reserver.needs_refresh(&cart) {
        let mutex = state.store.lock(id).await?;
        let refreshed = async {
            let mut fresh = state.store.load(id).await?.ok_or_else(not_found)?;
            if state.reserver.refresh(&mut fresh).await {
                state.store.save(&mut fresh, &[]).await?;
            }
            Ok::<_, CartError>(fresh)
        }
        .await;
        mutex.release().await;
        cart = refreshed?;
    }
    Ok(HttpResponse::Ok().json(view(&cart)))
}

/// The lock request's rules (the shape is `domain::checkout_lock`).
fn check(req: &CheckoutLockRequest) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    if req.holder.trim().is_empty() || req.holder.chars().count() > MAX_HOLDER_LEN {
        errors.add("holder", format!("The holder must be 1 to {MAX_HOLDER_LEN} characters."));
    }
    if !LOCK_TTL_RANGE.contains(&req.ttl_seconds) {
        errors.add(
            "ttl_seconds",
            format!(
                "The ttl must be between {} and {} seconds.",
                LOCK_TTL_RANGE.start(),
                LOCK_TTL_RANGE.end()
            ),
        );
    }
    if req.order_id.is_some() != req.order_number.is_some() {
        errors.add("order_id", "Give order_id and order_number together.");
    }
    errors.into_result()
}

/// Whether the lock request names the cart's owner: its customer, or its guest token.
fn owns(req: &CheckoutLockRequest, cart: &Cart) -> bool {
    match &cart.owner {
        Owner::Customer(sub) => req.customer_id.as_deref() == Some(sub.as_str()),
        Owner::Guest(hash) => req.cart_token.as_deref().is_some_and(|t| platform::token::verify_hex(t, hash)),
    }
}

/// `POST /internal/v1/carts/{id}/checkout-lock` → 200 with the cart (lock held), 409 when
/// another holder has it, 404 when the cart is unknown or not the caller's customer's.
#[utoipa::path(post, path = "/internal/v1/carts/{id}/checkout-lock", operation_id = "lock_cart", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The cart id (UUID)")), request_body = CheckoutLockRequest,
    responses((status = 200, description = "The cart, lock held", body = CartSnapshot),
        (status = 404, description = "No such cart, or not the caller's customer's", body = platform::openapi::ErrorBody),
        (status = 409, description = "Another holder has the lock", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn lock(
    _: InternalCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    Json(req): Json<CheckoutLockRequest>,
) -> Result<HttpResponse, CartError> {
    check(&req)?;
    let id = access::cart_id(&path)?;
    let mutex = state.store.lock(id).await?;
    let result = take(&state, id, &req).await;
    mutex.release().await;
    Ok(HttpResponse::Ok().json(view(&result?)))
}

async fn take(state: &AppState, id: CartId, req: &CheckoutLockRequest) -> Result<Cart, CartError> {
    let mut cart = state.store.load(id).await?.filter(|c| owns(req, c)).ok_or_else(not_found)?;
    let now = Utc::now();
    let previous = cart.locked_at(now).cloned();
    if previous.as_ref().is_some_and(|l| l.holder != req.holder) {
        return Err(CartError::CheckoutInProgress);
    }
    let known_order = previous.as_ref().and_then(|l| l.order_id);
    let order_id = req.order_id.or(known_order);
    cart.lock = Some(CheckoutLock {
        holder: req.holder.clone(),
        expires_at: now + Duration::seconds(req.ttl_seconds),
        order_id,
    });
    let mut events = Vec::new();
    if let (Some(order_id), Some(order_number)) = (req.order_id, &req.order_number)
        && known_order != Some(order_id)
    {
        let body = CartCheckedOut { cart_id: cart.id, order_id, order_number: order_number.clone() };
        events.push(Envelope::new(SOURCE, &body, None).map_err(ApiError::internal)?);
    }
    state.store.save(&mut cart, &events).await?;
    Ok(cart)
}

/// `DELETE /internal/v1/carts/{id}/checkout-lock?holder=...` → 204 (also when not held).
#[utoipa::path(delete, path = "/internal/v1/carts/{id}/checkout-lock", operation_id = "unlock_cart", tag = "internal",
    security(("internal" = [])), params(("id" = String, Path, description = "The cart id (UUID)"), ("holder" = String, Query, description = "The holder giving the lock back")),
    responses((status = 204, description = "Not held any more (also when it was not)")))]
pub async fn unlock(
    _: InternalCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<UnlockQuery>,
) -> Result<HttpResponse, CartError> {
    let Ok(id) = access::cart_id(&path) else { return Ok(HttpResponse::NoContent().finish()) };
    let mutex = state.store.lock(id).await?;
    let result = async {
        if let Some(mut cart) = state.store.load(id).await?
            && cart.lock.as_ref().is_some_and(|l| l.holder == query.holder)
        {
            cart.lock = None;
            state.store.save(&mut cart, &[]).await?;
        }
        Ok::<_, CartError>(())
    }
    .await;
    mutex.release().await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}
