//! The public cart API (`/api/v1/carts`, API.md "Cart"): create, read, add a line, change a
//! line's quantity, remove a line, delete the cart.

pub mod access;
pub mod errors;
pub mod input;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod prices;
pub mod repo;
pub mod reserve;
pub mod store;
pub mod token;
pub mod view;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use domain::ids::CartId;
use domain::product::ProductStatus;
use platform::http::RawBody;
use platform::http::{ApiError, Json};
use platform::openapi::Api;

use self::access::Requester;
use self::errors::CartError;
use self::input::{AddItem, ProductRef, UpdateItem};
use self::merge::Merged;
use self::model::{Cart, Line, Owner};
use crate::state::AppState;

/// Largest body a cart route reads (bigger is 413).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The public routes (method and path in each handler's `utoipa::path`); the service's
/// [`BodyLimit`] is [`BODY_LIMIT`] (`crate::app::routes`).
pub fn api() -> Api {
    Api::new(crate::SERVICE, "")
        .op(__path_create, create)
        .op(__path_show, show)
        .op(__path_destroy, destroy)
        .op(__path_add_item, add_item)
        .op(__path_update_item, update_item)
        .op(__path_remove_item, remove_item)
}

/// Merges a guest cart first when a signed-in request carries its token; returns where the
/// request for `id` goes.
async fn target(state: &AppState, who: &Requester, id: CartId) -> Result<CartId, CartError> {
    let merged = match (&who.principal, &who.token) {
        (Some(p), Some(t)) => merge::merge_guest(state, &p.subject, t).await?,
        _ => None,
    };
    Ok(Merged::redirect(merged, id))
}

/// The cart, if `who` owns it; 404 otherwise.
async fn load_owned(state: &AppState, who: &Requester, id: CartId) -> Result<Cart, CartError> {
    match state.store.load(id).await? {
        Some(cart) if who.owns(&cart) => Ok(cart),
        _ => Err(access::not_found().into()),
    }
}

/// The answer for `cart`: prices from the (cached) look-up. After a change that already
/// happened, a catalog that stops answering must not turn it into an error: lines then show
/// no price.
async fn answer(
    state: &AppState,
    cart: &Cart,
    status: StatusCode,
    strict: bool,
) -> Result<HttpResponse, CartError> {
    let ids: Vec<_> = cart.lines.iter().map(|l| l.product_id).collect();
    let prices = match state.prices.summaries(&ids).await {
        Ok(p) => p,
        Err(e) if strict => return Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "prices unavailable after a change");
            prices::Summaries::new()
        }
    };
    Ok(HttpResponse::build(status).json(view::render(cart, &prices, state.reserver.enabled())))
}

/// `POST /api/v1/carts` → 201 with a new cart (guests also get `token` and `X-Cart-Token`);
/// a customer who already has a cart gets it with 200.
#[utoipa::path(post, path = "/api/v1/carts", operation_id = "create_cart", tag = "carts", security((), ("bearer" = [])),
    request_body(content = Option<input::CreateCartDoc>, description = "No body, JSON null, or an empty JSON object"),
    responses((status = 201, description = "A new cart; a guest's carries its token, also in X-Cart-Token", body = crate::carts::view::CartView,
            headers(("X-Cart-Token" = String, description = "Guests: the token that opens the cart"))),
        (status = 200, description = "The signed-in customer's existing cart", body = crate::carts::view::CartView),
        (status = 422, description = "The body has fields", body = platform::openapi::ValidationErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Requester,
    req: actix_web::HttpRequest,
    RawBody(body): RawBody,
) -> Result<HttpResponse, CartError> {
    input::check_create_body(&req, &body)?;
    let Some(principal) = &who.principal else {
        let raw_token = platform::token::generate();
        let mut cart = Cart::new(Owner::Guest(platform::token::hash_hex(&raw_token)), state.currency);
        state.store.save(&mut cart, &[]).await?;
        state.metrics.carts_created.with_label_values(&["guest"]).inc();
        let view = view::render(&cart, &prices::Summaries::new(), state.reserver.enabled())
            .with_token(Some(raw_token.clone()));
        return Ok(HttpResponse::Created().insert_header((token::HEADER, raw_token)).json(view));
    };
    if let Some(t) = &who.token {
        merge::merge_guest(&state, &principal.subject, t).await?;
    }
    if let Some(cart) = state.store.load_by_customer(&principal.subject).await? {
        return answer(&state, &cart, StatusCode::OK, false).await;
    }
    let mut cart = Cart::new(Owner::Customer(principal.subject.clone()), state.currency);
    if let Err(e) = state.store.save(&mut cart, &[]).await {
        // Two first requests at once: the other one made the cart (customer_id is unique).
        return match state.store.load_by_customer(&principal.subject).await? {
            Some(existing) => answer(&state, &existing, StatusCode::OK, false).await,
            None => Err(e.into()),
        };
    }
    state.metrics.carts_created.with_label_values(&["customer"]).inc();
    answer(&state, &cart, StatusCode::CREATED, false).await
}

/// `GET /api/v1/carts/{id}`: lapsed reservations are re-reserved first (or lines flagged).
#[utoipa::path(get, path = "/api/v1/carts/{id}", operation_id = "show_cart", tag = "carts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The cart id (UUID)"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token (guests; customers send their JWT)")),
    responses((status = 200, description = "The cart", body = crate::carts::view::CartView),
        (status = 404, description = "No such cart, or not the requester's", body = platform::openapi::ErrorBody)))]
pub async fn show(
    state: web::Data<AppState>,
    who: Requester,
    path: web::Path<String>,
) -> Result<HttpResponse, CartError> {
    let id = target(&state, &who, access::cart_id(&path)?).await?;
    let mut cart = load_owned(&state, &who, id).await?;
    if state.reserver.needs_refresh(&cart) {
        let mutex = state.store.lock(id).await?;
        let refreshed = refresh(&state, &who, id).await;
        mutex.release().await;
        cart = refreshed?;
    }
    answer(&state, &cart, StatusCode::OK, true).await
}

async fn refresh(state: &AppState, who: &Requester, id: CartId) -> Result<Cart, CartError> {
    let mut cart = load_owned(state, who, id).await?;
    if state.reserver.refresh(&mut cart).await {
        state.store.save(&mut cart, &[]).await?;
    }
    Ok(cart)
}

/// Runs `change` on the caller's cart under its mutex, refusing while a checkout holds it, and
/// saves the cart if it changed (also when `change` failed after marking a line `needs_sync`).
/// If saving fails, reservations made by `change` are released (or expire).
async fn change<F>(state: &AppState, who: &Requester, raw_id: &str, change: F) -> Result<Cart, CartError>
where
    F: AsyncFnOnce(&AppState, &mut Cart) -> Result<(), CartError>,
{
    let id = target(state, who, access::cart_id(raw_id)?).await?;
    let mutex = state.store.lock(id).await?;
    let result = async {
        let mut cart = load_owned(state, who, id).await?;
        if cart.locked_at(Utc::now()).is_some() {
            return Err(CartError::CheckoutInProgress);
        }
        let before = cart.clone();
        let outcome = change(state, &mut cart).await;
        if cart != before
            && let Err(e) = state.store.save(&mut cart, &[]).await
        {
            release_new(state, &before, &mut cart).await;
            return Err(e.into());
        }
        outcome.map(|()| cart)
    }
    .await;
    mutex.release().await;
    result
}

/// Releases the reservations `after` has and `before` had not (a change that was not saved).
async fn release_new(state: &AppState, before: &Cart, after: &mut Cart) {
    let old = before.reservation_ids();
    for line in &mut after.lines {
        if line.reservation_id.is_some_and(|r| !old.contains(&r))
            && let Err(e) = state.reserver.release(line).await
        {
            // It expires after INVENTORY_RESERVATION_TTL.
            tracing::warn!(error = %e, "could not release the reservation of an unsaved line");
        }
    }
}

/// `POST /api/v1/carts/{id}/items` → 201 with the cart. The same product with the same options
/// grows its line; stock is reserved before the line is saved.
#[utoipa::path(post, path = "/api/v1/carts/{id}/items", operation_id = "add_cart_item", tag = "carts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The cart id (UUID)"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token (guests; customers send their JWT)")), request_body = input::AddItemDoc,
    responses((status = 201, description = "The cart with the line", body = crate::carts::view::CartView),
        (status = 404, description = "No such cart, or not the requester's", body = platform::openapi::ErrorBody),
        (status = 409, description = "Not enough stock, or the cart is being checked out", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule, or the product is not sold", body = platform::openapi::ValidationErrorBody)))]
pub async fn add_item(
    state: web::Data<AppState>,
    who: Requester,
    path: web::Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<HttpResponse, CartError> {
    let item = AddItem::parse(body)?;
    let cart = change(&state, &who, &path, async |state, cart| add(state, cart, &item).await).await?;
    answer(&state, &cart, StatusCode::CREATED, false).await
}

async fn add(state: &AppState, cart: &mut Cart, item: &AddItem) -> Result<(), CartError> {
    let (field, found) = match &item.product {
        ProductRef::Id(id) => ("product_id", state.prices.by_id(*id).await?),
        ProductRef::Sku(sku) => ("sku", state.prices.by_sku(sku).await?),
    };
    let product = found.ok_or_else(|| CartError::invalid(field, "No product matches."))?;
    if product.price.currency() != cart.currency {
        return Err(CartError::invalid(field, "The product is not sold in this cart's currency."));
    }
    if product.status != ProductStatus::Active {
        state.metrics.reservation_refusals.inc();
        return Err(CartError::Insufficient { available: 0 });
    }
    if let Err(e) = domain::cart::check_offered(&item.selected_attributes, &product.attributes) {
        return Err(CartError::invalid("selected_attributes", e.to_string()));
    }
    within_cap(state, cart, product.id, None, cart.units_of(product.id, None) + item.quantity)?;
    let outcome = if let Some(index) = cart.item_index(product.id, &item.selected_attributes) {
        let quantity = cart.lines[index].quantity + item.quantity;
        if quantity > domain::cart::MAX_LINE_QUANTITY {
            return Err(CartError::invalid(
                "quantity",
                format!(
                    "The line would hold {quantity} units; at most {} are allowed.",
                    domain::cart::MAX_LINE_QUANTITY
                ),
            ));
        }
        state.reserver.hold(cart.holder(), &mut cart.lines[index], quantity).await
    } else {
        if !cart.has_room() {
            return Err(CartError::invalid(
                "items",
                format!("A cart holds at most {} lines.", domain::cart::MAX_LINES),
            ));
        }
        let mut line = Line {
            id: new_line_id(cart, product.id, &item.selected_attributes, item.quantity),
            product_id: product.id,
            sku: product.sku.clone(),
            quantity: 0,
            selected_attributes: item.selected_attributes.clone(),
            reservation_id: None,
            reserved_until: None,
            needs_sync: false,
            unavailable: None,
        };
        let outcome = state.reserver.hold(cart.holder(), &mut line, item.quantity).await;
        if outcome.is_ok() {
            cart.lines.push(line);
        }
        outcome
    };
    match outcome {
        Ok(()) => {
            state.metrics.lines_added.inc();
            Ok(())
        }
        Err(e) => {
            if matches!(e, reserve::HoldError::Insufficient { .. }) {
                state.metrics.reservation_refusals.inc();
            }
            Err(e.into())
        }
    }
}

/// Refuses a change that would leave the cart holding more than `CART_MAX_UNITS_PER_PRODUCT`
/// units of `product` over all its lines: one cart must not be able to hold a product's whole
/// stock. Counted and logged, as a hoarding signal.
fn within_cap(
    state: &AppState,
    cart: &Cart,
    product: domain::ids::ProductId,
    line: Option<uuid::Uuid>,
    units: i32,
) -> Result<(), CartError> {
    let cap = state.max_units_per_product;
    if units <= cap {
        return Ok(());
    }
    let owner = match cart.owner {
        Owner::Guest(_) => "guest",
        Owner::Customer(_) => "customer",
    };
    state.metrics.cap_hits.with_label_values(&[owner]).inc();
    tracing::warn!(cart_id = %cart.id, product_id = %product, line_id = ?line, units, cap, owner, "cart unit cap reached");
    Err(CartError::invalid(
        "quantity",
        format!("A cart may hold at most {cap} units of one product; this change would make {units}."),
    ))
}

/// A new line's id, derived from the cart as it stands and what is added: a client retrying an
/// add that got no answer (nothing was saved, so the version is unchanged) makes the same line,
/// whose reservation key finds the reservation the first attempt made.
pub fn new_line_id(
    cart: &Cart,
    product: domain::ids::ProductId,
    attributes: &serde_json::Map<String, serde_json::Value>,
    quantity: i32,
) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(cart.id.0.as_bytes());
    h.update(cart.version.to_be_bytes());
    h.update(product.get().to_be_bytes());
    h.update(serde_json::Value::Object(attributes.clone()).to_string());
    h.update(quantity.to_be_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// `PATCH /api/v1/carts/{id}/items/{item_id}` `{"quantity": N}` → 200 with the cart.
#[utoipa::path(patch, path = "/api/v1/carts/{id}/items/{item_id}", operation_id = "update_cart_item", tag = "carts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The cart id (UUID)"), ("item_id" = String, Path, description = "The line id (UUID)"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token (guests; customers send their JWT)")),
    request_body = input::UpdateItemDoc,
    responses((status = 200, description = "The cart", body = crate::carts::view::CartView),
        (status = 404, description = "No such cart or line", body = platform::openapi::ErrorBody),
        (status = 409, description = "Not enough stock, or the cart is being checked out", body = platform::openapi::ErrorBody),
        (status = 422, description = "A field breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn update_item(
    state: web::Data<AppState>,
    who: Requester,
    path: web::Path<(String, String)>,
    Json(body): Json<serde_json::Value>,
) -> Result<HttpResponse, CartError> {
    let update = UpdateItem::parse(body)?;
    let (cart_id, item_id) = path.into_inner();
    let item_id = access::line_id(&item_id)?;
    let cart = change(&state, &who, &cart_id, async |state, cart| {
        let index = cart.line_index(item_id).ok_or_else(line_not_found)?;
        if cart.lines[index].quantity == update.quantity && cart.lines[index].is_reserved(Utc::now()) {
            return Ok(());
        }
        let line = &cart.lines[index];
        if update.quantity > line.quantity {
            let others = cart.units_of(line.product_id, Some(line.id));
            within_cap(state, cart, line.product_id, Some(line.id), others + update.quantity)?;
        }
        let outcome = state.reserver.hold(cart.holder(), &mut cart.lines[index], update.quantity).await;
        if let Err(reserve::HoldError::Insufficient { .. }) = &outcome {
            state.metrics.reservation_refusals.inc();
        }
        outcome.map_err(CartError::from)
    })
    .await?;
    answer(&state, &cart, StatusCode::OK, false).await
}

fn line_not_found() -> CartError {
    ApiError::not_found("No item with this id in the cart").into()
}

/// `DELETE /api/v1/carts/{id}/items/{item_id}` → 200 with the cart; its units are released first.
#[utoipa::path(delete, path = "/api/v1/carts/{id}/items/{item_id}", operation_id = "remove_cart_item", tag = "carts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The cart id (UUID)"), ("item_id" = String, Path, description = "The line id (UUID)"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token (guests; customers send their JWT)")),
    responses((status = 200, description = "The cart", body = crate::carts::view::CartView),
        (status = 404, description = "No such cart or line", body = platform::openapi::ErrorBody),
        (status = 409, description = "The cart is being checked out", body = platform::openapi::ErrorBody)))]
pub async fn remove_item(
    state: web::Data<AppState>,
    who: Requester,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, CartError> {
    let (cart_id, item_id) = path.into_inner();
    let item_id = access::line_id(&item_id)?;
    let cart = change(&state, &who, &cart_id, async |state, cart| {
        let index = cart.line_index(item_id).ok_or_else(line_not_found)?;
        state.reserver.release(&mut cart.lines[index]).await?;
        cart.lines.remove(index);
        Ok(())
    })
    .await?;
    answer(&state, &cart, StatusCode::OK, false).await
}

/// `DELETE /api/v1/carts/{id}` → 204: every reservation released, then the cart deleted. If
/// catalog stops answering halfway, the released lines are gone, the rest stay, and it is 503.
#[utoipa::path(delete, path = "/api/v1/carts/{id}", operation_id = "delete_cart", tag = "carts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The cart id (UUID)"), ("X-Cart-Token" = Option<String>, Header, description = "The guest cart's token (guests; customers send their JWT)")),
    responses((status = 204, description = "Deleted, every reservation released"),
        (status = 404, description = "No such cart, or not the requester's", body = platform::openapi::ErrorBody),
        (status = 409, description = "The cart is being checked out", body = platform::openapi::ErrorBody)))]
pub async fn destroy(
    state: web::Data<AppState>,
    who: Requester,
    path: web::Path<String>,
) -> Result<HttpResponse, CartError> {
    let id = target(&state, &who, access::cart_id(&path)?).await?;
    let mutex = state.store.lock(id).await?;
    let result = async {
        let mut cart = load_owned(&state, &who, id).await?;
        if cart.locked_at(Utc::now()).is_some() {
            return Err(CartError::CheckoutInProgress);
        }
        let mut failure = None;
        while let Some(line) = cart.lines.last_mut() {
            if let Err(e) = state.reserver.release(line).await {
                failure = Some(e);
                break;
            }
            cart.lines.pop();
        }
        if let Some(e) = failure {
            state.store.save(&mut cart, &[]).await?;
            return Err(e.into());
        }
        state.store.delete(&cart).await?;
        Ok(())
    }
    .await;
    mutex.release().await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}
