//! `POST /api/v1/checkout`: cart → order → PaymentIntent, idempotent under the
//! `Idempotency-Key` header. The steps and what a crash between any two of them leaves are in
//! docs/adr/0070-checkout.md.

pub mod idempotency;
pub mod metrics;
pub mod pricing;
pub mod repo;

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel_async::AsyncConnection;
use domain::ids::{CartId, OrderId, ProductId};
use domain::money::Currency;
use domain::product::ProductStatus;
use platform::auth::MaybePrincipal;
use platform::http::{ApiError, Json, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use self::idempotency::Claim;
use self::pricing::PricingRules;
use self::repo::{NewItem, NewOrder};
use crate::clients::Unavailable;
use crate::clients::cart::{Cart, LockError};
use crate::clients::catalog::ReservationError;
use crate::clients::stripe::NewIntent;
use crate::orders::repo as orders;
use crate::orders::view;
use crate::state::AppState;

/// The idempotency header.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The guest cart token header (as the cart API uses it).
pub const CART_TOKEN_HEADER: &str = "x-cart-token";
/// How long a duplicate request waits for the first one before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

/// The checkout request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The cart to buy.
    pub cart_id: String,
    /// Where the confirmation goes.
    pub customer_email: String,
    /// The buyer's name.
    pub customer_name: String,
    /// A JSON object (line1, city, postal_code, country, ...).
    pub shipping_address: serde_json::Value,
    /// A JSON object.
    pub billing_address: serde_json::Value,
}

struct Valid {
    cart_id: CartId,
}

fn validate(req: &CheckoutRequest) -> Result<Valid, ApiError> {
    let mut errors = ValidationErrors::new();
    let cart_id = req.cart_id.parse::<CartId>().ok();
    if cart_id.is_none() {
        errors.add("cart_id", "The cart id must be a UUID.");
    }
    // lettre's parser (the one the worker sends with) follows RFC 5321/5322: one mailbox, so
    // `a@example.com,b@example.com` — which could never be delivered — is refused here.
    let email = req.customer_email.trim();
    if email.len() > 254 || email.parse::<lettre::Address>().is_err() {
        errors.add("customer_email", "The customer email must be a valid email address.");
    }
    let name = req.customer_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add("customer_name", "The customer name must be 1 to 200 characters.");
    }
    for (field, address) in
        [("shipping_address", &req.shipping_address), ("billing_address", &req.billing_address)]
    {
        let ok = address.as_object().is_some_and(|o| {
            ["line1", "city", "postal_code", "country"]
                .iter()
                .all(|k| o.get(*k).and_then(serde_json::Value::as_str).is_some_and(|s| !s.trim().is_empty()))
        }) && address.to_string().len() <= 2048;
        if !ok {
            errors.add(field, "The address must be an object with line1, city, postal_code and country.");
        }
    }
    errors.into_result()?;
    Ok(Valid { cart_id: cart_id.unwrap_or_default() })
}

/// Who is checking out and under which key.
struct Ctx {
    scope: String,
    key: String,
    holder: String,
    customer_id: Option<String>,
    cart_token: Option<String>,
    cart_id: CartId,
    req: CheckoutRequest,
    traceparent: Option<String>,
}

/// How a checkout attempt failed.
enum Failure {
    /// Nothing was made that names an order: forget the key, unlock the cart.
    Before(ApiError),
    /// The order exists; a retry with the same key will carry on.
    After(ApiError),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Before(e.into())
    }
}

fn unavailable(e: &Unavailable) -> ApiError {
    tracing::warn!(error = %e, "checkout dependency failed");
    ApiError::Unavailable(format!(
        "The {} service is unavailable; retry with the same Idempotency-Key",
        e.service
    ))
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The handler.
pub async fn checkout(
    http: HttpRequest,
    principal: MaybePrincipal,
    state: web::Data<AppState>,
    Json(req): Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(key) = header(&http, IDEMPOTENCY_HEADER) else {
        state.metrics.checkout.record("no_key");
        return Err(ApiError::BadRequest("The Idempotency-Key header is required".to_owned()));
    };
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(
            "The Idempotency-Key must be 1 to 255 visible ASCII characters".to_owned(),
        ));
    }
    let valid = validate(&req)?;
    let customer_id = principal.0.map(|p| p.subject);
    let cart_token = header(&http, CART_TOKEN_HEADER);
    // Keys are scoped to who may use them: a customer, or a guest's cart token (hashed, never
    // stored in clear), so one guest's key never collides with another's.
    let scope = match (&customer_id, &cart_token) {
        (Some(s), _) => format!("customer:{s}"),
        (None, Some(t)) => format!("guest:{}", &platform::token::hash_hex(t)[..32]),
        (None, None) => "guest".to_owned(),
    };
    // The fingerprint covers the body and the cart token, so a replay needs both.
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(&req).map_err(ApiError::internal)?);
    h.update([0]);
    h.update(cart_token.as_deref().unwrap_or("").as_bytes());
    let hash = h.finalize().to_vec();
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
        cart_id: valid.cart_id,
        req,
        traceparent: platform::telemetry::current_trace_headers().remove("traceparent"),
    };

    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let (order_id, access_token) = loop {
        let claim = {
            let mut conn = state.pool.get().await?;
            idempotency::claim(&mut conn, &ctx.scope, &ctx.key, &hash, &platform::token::generate()).await?
        };
        match claim {
            Claim::Acquired { order_id, access_token } => break (order_id, access_token),
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
            Claim::Busy if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Claim::Busy => {
                state.metrics.checkout.record("busy");
                return Err(ApiError::conflict("A checkout with this Idempotency-Key is still in progress"));
            }
        }
    };

    match run(&state, &ctx, order_id.map(OrderId), &access_token).await {
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
                    unlock(&state, &ctx).await;
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

async fn unlock(state: &AppState, ctx: &Ctx) {
    if let Err(e) = state.cart.unlock(ctx.cart_id, &ctx.holder).await {
        // The lock lapses by itself after the checkout session.
        tracing::warn!(error = %e, "could not release the cart's checkout lock");
    }
}

/// Steps 2 to 7 (step 1, claiming the key, is done): see docs/adr/0070-checkout.md.
async fn run(
    state: &AppState,
    ctx: &Ctx,
    allocated: Option<OrderId>,
    access_token: &str,
) -> Result<serde_json::Value, Failure> {
    // If an earlier holder already wrote the order, only the payment part is left.
    let existing = if let Some(id) = allocated {
        let mut conn = state.pool.get().await.map_err(|e| Failure::Before(e.into()))?;
        orders::by_id(&mut conn, id).await?
    } else {
        None
    };
    let order =
        if let Some(order) = existing { order } else { place(state, ctx, allocated, access_token).await? };
    // 6. The PaymentIntent (Stripe replays it for the same order-derived key).
    let totals = order.totals().map_err(|e| Failure::After(ApiError::internal(e)))?;
    let number = order.order_number.clone();
    let intent = state
        .stripe
        .create_intent(&NewIntent {
            order_id: order.order_id(),
            order_number: &number,
            amount: totals.total(),
            traceparent: order.traceparent.as_deref(),
        })
        .await
        .map_err(|e| Failure::After(unavailable(&e)))?;
    // 7. Attach it and store the answer, one transaction.
    let body = json!({
        "order_number": number,
        "status": order.status,
        "payment_status": order.payment_status,
        "totals": view::totals_json(&totals),
        "payment": {
            "provider": "stripe",
            "payment_intent_id": intent.id,
            "client_secret": intent.client_secret,
            "status": intent.status,
        },
        "access_token": access_token,
        "expires_at": order.expires_at,
    });
    let mut conn = state.pool.get().await.map_err(|e| Failure::After(e.into()))?;
    let stored = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            repo::attach_intent(c, &order, &intent.id, &intent.status).await?;
            idempotency::repo::complete(c, &ctx.scope, &ctx.key, 201, &body).await
        })
        .await;
    stored.map_err(|e| Failure::After(e.into()))?;
    Ok(body)
}

/// Steps 2 to 5: lock and read the cart, price it, draw the order id, hold the stock, write
/// the order.
async fn place(
    state: &AppState,
    ctx: &Ctx,
    allocated: Option<OrderId>,
    access_token: &str,
) -> Result<orders::OrderRow, Failure> {
    let settings = &state.settings;
    // 2. Lock the cart (ownership is checked by cart) and read it.
    let cart = state
        .cart
        .lock(
            ctx.cart_id,
            &ctx.holder,
            settings.checkout_session_timeout.as_secs(),
            ctx.customer_id.as_deref(),
            ctx.cart_token.as_deref(),
        )
        .await
        .map_err(|e| match e {
            LockError::NotFound => Failure::Before(ApiError::not_found("No cart with this id")),
            LockError::Locked => Failure::Before(ApiError::conflict("Checkout in progress")),
            LockError::Unavailable(u) => Failure::Before(unavailable(&u)),
        })?;
    let priced = price(state, &cart).await?;
    // 3. The order id, drawn once per key, before anything names it.
    let id = if let Some(id) = allocated {
        id
    } else {
        let mut conn = state.pool.get().await.map_err(|e| Failure::Before(e.into()))?;
        let id = repo::allocate_id(&mut conn).await?;
        idempotency::repo::set_order(&mut conn, &ctx.scope, &ctx.key, id.get()).await?;
        id
    };
    // 4. Hold the stock for the checkout session, tied to the order.
    let items = hold_stock(state, id, priced.lines).await?;
    // 5. Order + lines + order.created, one transaction.
    let mut conn = state.pool.get().await.map_err(|e| Failure::Before(e.into()))?;
    let hash = platform::token::hash(access_token);
    let new = NewOrder {
        id,
        access_token_hash: &hash,
        customer_id: ctx.customer_id.as_deref(),
        customer_email: ctx.req.customer_email.trim(),
        customer_name: ctx.req.customer_name.trim(),
        shipping_address: &ctx.req.shipping_address,
        billing_address: &ctx.req.billing_address,
        cart_id: ctx.cart_id,
        totals: priced.totals,
        items: &items,
        traceparent: ctx.traceparent.as_deref(),
        expires_at: Utc::now()
            + chrono::Duration::from_std(settings.checkout_session_timeout).unwrap_or_default(),
    };
    if repo::insert_order(&mut conn, &new).await? {
        state.wake_relay();
    }
    orders::by_id(&mut conn, id)
        .await?
        .ok_or_else(|| Failure::After(ApiError::internal("the order vanished after its insert")))
}

/// A cart line with its authoritative price.
struct PricedLine {
    product_id: ProductId,
    sku: domain::ids::Sku,
    name: String,
    quantity: i64,
    unit_price_cents: i64,
    selected_attributes: serde_json::Value,
    reservation_id: Option<Uuid>,
}

struct Priced {
    lines: Vec<PricedLine>,
    totals: domain::order::OrderTotals,
}

fn out_of_stock(sku: &str, available: i64) -> Failure {
    Failure::Before(ApiError::insufficient_stock(
        available,
        format!("{sku}: only {available} unit(s) available"),
    ))
}

/// Prices the cart from catalog (never from the client) and computes the totals.
async fn price(state: &AppState, cart: &Cart) -> Result<Priced, Failure> {
    if cart.items.is_empty() {
        return Err(Failure::Before(ApiError::Validation(ValidationErrors::single(
            "cart_id",
            "The cart is empty.",
        ))));
    }
    let currency: Currency = cart.currency.parse().map_err(|_| {
        Failure::Before(ApiError::Validation(ValidationErrors::single(
            "cart_id",
            "The cart's currency is not supported.",
        )))
    })?;
    let mut ids: Vec<ProductId> = cart.items.iter().map(|i| i.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 100 {
        return Err(Failure::Before(ApiError::Validation(ValidationErrors::single(
            "cart_id",
            "A cart may hold at most 100 products.",
        ))));
    }
    let found = state.catalog.lookup(ids).await.map_err(|e| Failure::Before(unavailable(&e)))?;
    let by_id: HashMap<ProductId, _> = found.data.into_iter().map(|p| (p.id, p)).collect();
    let mut lines = Vec::with_capacity(cart.items.len());
    for item in &cart.items {
        let Some(product) = by_id.get(&item.product_id).filter(|p| p.status == ProductStatus::Active) else {
            return Err(out_of_stock(&item.sku, 0));
        };
        if product.price.currency() != currency {
            return Err(Failure::Before(ApiError::conflict(format!(
                "{} is not sold in {currency}",
                product.sku
            ))));
        }
        if !(1..=999).contains(&item.quantity) {
            return Err(Failure::Before(ApiError::Validation(ValidationErrors::single(
                "cart_id",
                "A cart line has an invalid quantity.",
            ))));
        }
        lines.push(PricedLine {
            product_id: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            quantity: item.quantity,
            unit_price_cents: product.price.cents(),
            selected_attributes: item.selected_attributes.clone(),
            reservation_id: item.reservation_id,
        });
    }
    let parts: Vec<(i64, i64)> = lines.iter().map(|l| (l.unit_price_cents, l.quantity)).collect();
    let totals = state.settings.pricing.totals(currency, &parts).map_err(|e| {
        Failure::Before(ApiError::Validation(ValidationErrors::single("cart_id", e.to_string())))
    })?;
    // Refused before anything is reserved: Stripe would refuse the PaymentIntent forever.
    let (min, max) = currency.charge_limits();
    if !(min..=max).contains(&totals.total().cents()) {
        return Err(Failure::Before(ApiError::Validation(ValidationErrors::single(
            "cart_id",
            format!(
                "The order total must be between {} and {} {currency}.",
                domain::money::Money::new(min, currency).decimal_string(),
                domain::money::Money::new(max, currency).decimal_string()
            ),
        ))));
    }
    Ok(Priced { lines, totals })
}

/// Extends each line's reservation to the checkout session and ties it to the order; a line
/// without one (or whose one lapsed) is reserved afresh. Stock gone → 409, and what this
/// attempt reserved for the other lines is given back at once (the cart's own reservations
/// stay the cart's).
async fn hold_stock(
    state: &AppState,
    order: OrderId,
    lines: Vec<PricedLine>,
) -> Result<Vec<NewItem>, Failure> {
    let mut fresh = Vec::new();
    let held = hold_lines(state, order, lines, &mut fresh).await;
    if let Err(Failure::Before(_)) = &held {
        for id in fresh {
            if let Err(e) = state.catalog.release(id).await {
                tracing::warn!(error = %e, reservation = %id, "could not give back a refused checkout's reservation; it lapses with the session");
            }
        }
    }
    held
}

async fn hold_lines(
    state: &AppState,
    order: OrderId,
    lines: Vec<PricedLine>,
    fresh: &mut Vec<Uuid>,
) -> Result<Vec<NewItem>, Failure> {
    let minutes = state.settings.session_minutes();
    let mut items = Vec::with_capacity(lines.len());
    for line in lines {
        let extended = match line.reservation_id {
            Some(id) => match state.catalog.extend(id, minutes, order).await {
                Ok(r) if r.quantity == line.quantity && r.product_id == line.product_id => Some(r.id),
                Ok(_) => {
                    // Out of step with its line, and now tagged with the order: give it back, or
                    // catalog would commit it too on `order.paid`.
                    state.catalog.release(id).await.map_err(|u| Failure::Before(unavailable(&u)))?;
                    None
                }
                Err(ReservationError::Gone | ReservationError::NotFound) => None,
                Err(ReservationError::Unavailable(u)) => return Err(Failure::Before(unavailable(&u))),
                Err(ReservationError::Insufficient { available }) => {
                    return Err(out_of_stock(line.sku.as_ref(), available));
                }
            },
            None => None,
        };
        let reservation = match extended {
            Some(id) => id,
            None => match state
                .catalog
                .reserve(
                    line.product_id,
                    line.quantity,
                    order,
                    minutes,
                    &format!("order:{order}:checkout:{}", line.product_id),
                )
                .await
            {
                Ok(r) => {
                    fresh.push(r.id);
                    r.id
                }
                Err(ReservationError::Insufficient { available }) => {
                    return Err(out_of_stock(line.sku.as_ref(), available));
                }
                Err(ReservationError::NotFound | ReservationError::Gone) => {
                    return Err(out_of_stock(line.sku.as_ref(), 0));
                }
                Err(ReservationError::Unavailable(u)) => return Err(Failure::Before(unavailable(&u))),
            },
        };
        let quantity =
            i32::try_from(line.quantity).map_err(|_| Failure::Before(ApiError::internal("quantity")))?;
        let line_total_cents = PricingRules::line_total(line.unit_price_cents, line.quantity)
            .map_err(|e| Failure::Before(ApiError::internal(e)))?;
        items.push(NewItem {
            product_id: line.product_id,
            sku: line.sku,
            name: line.name,
            quantity,
            unit_price_cents: line.unit_price_cents,
            line_total_cents,
            selected_attributes: line.selected_attributes,
            reservation_id: Some(reservation),
        });
    }
    Ok(items)
}
