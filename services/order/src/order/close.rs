//! The one way an unpaid order closes: customer cancel, expiry, and the payment sync (stock gone
//! after payment, a mismatched payment, a refund before payment) all end here, so the order's
//! `order.canceled` / `order.expired` — which release the stock and unlock the cart — is written
//! in one place.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::events::{OrderCanceled, OrderClosed, OrderExpired};
use domain::order::PaymentStatus;

use super::{CloseReason, Lifecycle};
use crate::clients::stripe::CancelError;
use crate::orders::repo::{self, OrderRow};
use crate::state::AppState;

/// Why an unpaid order could not be closed.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    /// It is paid, being paid, or already closed.
    #[error("{0}")]
    Conflict(String),
    /// Stripe or the database failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<CloseError> for platform::http::ApiError {
    fn from(e: CloseError) -> Self {
        match e {
            CloseError::Conflict(message) => platform::http::ApiError::conflict(message),
            CloseError::Unavailable(m) => platform::http::ApiError::Unavailable(m),
        }
    }
}

/// Closes `locked` (row-locked by the caller's transaction) for `reason` and writes its event;
/// `false` when it was not `pending_payment` (nothing written).
pub async fn close_locked(
    conn: &mut AsyncPgConnection,
    locked: &OrderRow,
    reason: CloseReason,
) -> diesel::QueryResult<bool> {
    let id = locked.order_id();
    if !repo::close(conn, id, reason.closes_to().as_str()).await? {
        return Ok(false);
    }
    let items = repo::items(conn, id).await?;
    let body = OrderClosed {
        order_id: id,
        order_number: locked.number().map_err(|e| diesel::result::Error::SerializationError(e.into()))?,
        reason: reason.as_str().to_owned(),
        reservation_ids: repo::reservation_ids(&items),
        cart_id: locked.cart(),
    };
    if reason.closes_to() == Lifecycle::Expired {
        repo::emit_notify(conn, &OrderExpired(body)).await?;
    } else {
        repo::emit_notify(conn, &OrderCanceled(body)).await?;
    }
    Ok(true)
}

/// Closes an unpaid order: cancels its PaymentIntent first (once canceled it cannot succeed,
/// so closing cannot race a payment; no connection is held during the call), then closes the
/// row. Used by the customer's cancel and by expiry.
pub async fn close_unpaid(
    state: &AppState,
    order: OrderRow,
    reason: CloseReason,
) -> Result<OrderRow, CloseError> {
    let unavailable = |e: &dyn std::fmt::Display| CloseError::Unavailable(e.to_string());
    if order.status != Lifecycle::PendingPayment.as_str() {
        return Err(CloseError::Conflict(format!("The order is {}", order.status)));
    }
    let payment = order.payment().map_err(|e| unavailable(&e))?;
    if !matches!(payment, PaymentStatus::Pending | PaymentStatus::Failed) {
        return Err(CloseError::Conflict(format!("The order's payment is {payment}")));
    }
    if let Some(pi) = order.payment_intent_id.as_deref() {
        match state.stripe.cancel(pi).await {
            Ok(()) => {}
            Err(CancelError::TooLate(s)) => {
                return Err(CloseError::Conflict(format!("The payment is already {s}")));
            }
            Err(CancelError::Unavailable(u)) => return Err(unavailable(&u)),
        }
    }
    let mut conn = state.pool.get().await.map_err(|e| unavailable(&e))?;
    let id = order.order_id();
    let closed = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            let Some(locked) = repo::by_id_for_update(c, id).await? else { return Ok(None) };
            let moved = close_locked(c, &locked, reason).await?;
            Ok(Some((locked, moved)))
        })
        .await
        .map_err(|e| unavailable(&e))?;
    match closed {
        Some((_, true)) => {
            state.wake_relay();
            repo::by_id(&mut conn, id)
                .await
                .map_err(|e| unavailable(&e))?
                .ok_or_else(|| CloseError::Unavailable("order vanished".to_owned()))
        }
        Some((now, false)) => Err(CloseError::Conflict(format!("The order is {}", now.status))),
        None => Err(CloseError::Unavailable("order vanished".to_owned())),
    }
}
