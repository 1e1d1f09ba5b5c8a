//! Steps 2 to 7 of a checkout, once its key is claimed (docs/adr/0070-checkout.md): lock and
//! read the cart, price it, draw the order id, hold the stock, write the order, create the
//! PaymentIntent and store the answer. No row lock or pooled connection is held across a call
//! to cart, catalog or Stripe.

use chrono::Utc;
use diesel_async::AsyncConnection;
use domain::checkout_lock::CheckoutLockRequest;
use domain::ids::{CartId, OrderId};
use platform::clients::catalog::CatalogError;
use platform::http::ApiError;
use serde_json::json;
use uuid::Uuid;

use super::failure::{Failure, cart_failed, catalog_failed, out_of_stock, unavailable};
use super::idempotency;
use super::price::{PricedLine, price};
use super::pricing::PricingRules;
use super::repo::{self, NewItem, NewOrder};
use super::request::ValidCheckout;
use crate::clients::{self, stripe::NewIntent};
use crate::orders::repo as orders;
use crate::orders::view;
use crate::state::AppState;

/// Who is checking out, under which key.
pub struct Ctx {
    /// The key's scope (`customer:<sub>`, `guest:<token digest>`).
    pub scope: String,
    /// The Idempotency-Key.
    pub key: String,
    /// The cart lock's holder, derived from scope and key.
    pub holder: String,
    /// The signed-in customer.
    pub customer_id: Option<String>,
    /// The guest's cart token.
    pub cart_token: Option<String>,
    /// The checked request.
    pub req: ValidCheckout,
    /// The request's trace context, stored with the order for the payment's spans.
    pub traceparent: Option<String>,
}

impl Ctx {
    fn cart_id(&self) -> CartId {
        self.req.cart_id
    }
}

/// Gives the cart's checkout lock back (best effort: it lapses by itself after the session).
pub async fn unlock(state: &AppState, ctx: &Ctx) {
    if let Err(e) = state.cart.unlock(ctx.cart_id(), &ctx.holder).await {
        tracing::warn!(error = %e, "could not release the cart's checkout lock");
    }
}

/// Steps 2 to 7: the answer's body once the order and its PaymentIntent exist.
pub async fn run(
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
    let lock = CheckoutLockRequest {
        holder: ctx.holder.clone(),
        ttl_seconds: i64::try_from(settings.checkout_session_timeout.as_secs())
            .unwrap_or(3600)
            .clamp(60, 3600),
        customer_id: ctx.customer_id.clone(),
        cart_token: ctx.cart_token.clone(),
        order_id: None,
        order_number: None,
    };
    let cart = state.cart.lock(ctx.cart_id(), &lock).await.map_err(cart_failed)?;
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
        customer_email: &ctx.req.customer_email,
        customer_name: &ctx.req.customer_name,
        shipping_address: &ctx.req.shipping_address,
        billing_address: &ctx.req.billing_address,
        cart_id: ctx.cart_id(),
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
            if let Err(e) = clients::release(&state.catalog, id).await {
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
    // Every line's reservation extended and tied to the order in one call.
    let ids = lines.iter().filter_map(|l| l.reservation_id).collect();
    let extended = clients::extend_many(&state.catalog, ids, minutes, order).await.map_err(catalog_failed)?;
    for line in lines {
        let extended = match line.reservation_id.and_then(|id| extended.get(&id)) {
            Some(r) if r.quantity == line.quantity && r.product_id == line.product_id => Some(r.id),
            Some(r) => {
                // Out of step with its line, and now tagged with the order: give it back, or
                // catalog would commit it too on `order.paid`.
                clients::release(&state.catalog, r.id).await.map_err(|u| Failure::Before(unavailable(&u)))?;
                None
            }
            // Lapsed or closed: reserved afresh below.
            None => None,
        };
        let reservation = if let Some(id) = extended {
            id
        } else {
            let key = format!("order:{order}:checkout:{}", line.product_id);
            match clients::reserve(&state.catalog, line.product_id, line.quantity, order, minutes, key).await
            {
                Ok(r) => {
                    fresh.push(r.id);
                    r.id
                }
                Err(CatalogError::Insufficient { available }) => {
                    return Err(out_of_stock(line.sku.as_ref(), available));
                }
                Err(CatalogError::NotFound | CatalogError::NotActive) => {
                    return Err(out_of_stock(line.sku.as_ref(), 0));
                }
                Err(e) => return Err(catalog_failed(e)),
            }
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
