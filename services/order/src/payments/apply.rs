//! One payment change applied to one locked order: the state machine decides, the history
//! records, events follow. Shared by the event consumer and the sweeper's reconciliation.

use diesel_async::AsyncPgConnection;
use domain::events::{OrderCanceled, OrderClosed, OrderDisputed, OrderPaid, OrderRefunded, PaymentFacts};
use domain::order::{PaymentEvent, PaymentStatus};
use platform::events::HandlerError;

use super::repo::{self, History};
use crate::clients::catalog::ReservationError;
use crate::clients::stripe::RefundError;
use crate::orders::repo::{self as orders, OrderRow, status};
use crate::state::AppState;

/// Minutes a paid order's reservations are held for catalog to commit them.
const PAID_HOLD_MINUTES: i64 = 60;

/// What a payment event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The money was taken.
    Succeeded,
    /// An attempt failed.
    Failed,
    /// The PaymentIntent was canceled.
    Canceled,
    /// Stripe is processing.
    Processing,
    /// The customer must act (3-D Secure): history only.
    RequiresAction,
    /// Refunds now total `cumulative`.
    Refunded {
        /// Cumulative refunded amount on the charge.
        cumulative: i64,
    },
    /// A dispute was opened.
    Disputed {
        /// `du_...`.
        dispute_id: String,
        /// Stripe's status.
        status: String,
    },
    /// A dispute was closed.
    DisputeClosed {
        /// `du_...`.
        dispute_id: String,
        /// `won` / `lost` / ...
        status: String,
    },
}

fn corrupt(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::permanent(e.to_string())
}

/// Applies `change` to `order` (locked by the caller's transaction); returns a metrics label.
pub async fn apply(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    facts: &PaymentFacts,
    change: Change,
    event_type: &str,
    stripe_event: Option<&str>,
) -> Result<&'static str, HandlerError> {
    let id = order.order_id();
    let pi = facts.payment_intent_id.as_str();
    match order.payment_intent_id.as_deref() {
        None => repo::attach(conn, id, pi, facts.amount_cents, facts.currency.code()).await?,
        Some(known) if known != pi => {
            // Only the order's own PaymentIntent can move it.
            let from = order.payment_status.as_str();
            let note = format!("ignored: the order's PaymentIntent is {known}");
            let h = History {
                order: id,
                payment_intent_id: pi,
                event_type,
                stripe_event_id: stripe_event,
                from,
                to: from,
                note: Some(&note),
            };
            repo::record(conn, &h).await?;
            return Ok("foreign_intent");
        }
        Some(_) => {}
    }
    let from = order.payment().map_err(corrupt)?;
    let event = match &change {
        Change::Succeeded => PaymentEvent::Succeeded,
        Change::Failed => PaymentEvent::Failed,
        Change::Canceled => PaymentEvent::Canceled,
        Change::Processing => PaymentEvent::Processing,
        Change::RequiresAction => {
            record(conn, order, pi, event_type, stripe_event, from, from, Some("customer action required"))
                .await?;
            return Ok("requires_action");
        }
        Change::Refunded { cumulative } => {
            return refunded(state, conn, order, pi, *cumulative, event_type, stripe_event).await;
        }
        Change::Disputed { dispute_id, status } => {
            let opened = repo::open_dispute(
                conn,
                id,
                dispute_id,
                pi,
                facts.amount_cents,
                facts.currency.code(),
                status,
            )
            .await?;
            if opened {
                orders::emit_notify(
                    conn,
                    &OrderDisputed {
                        order_id: id,
                        order_number: order.number().map_err(corrupt)?,
                        dispute_id: dispute_id.clone(),
                        amount_cents: facts.amount_cents,
                        currency: facts.currency,
                    },
                )
                .await?;
            }
            record(conn, order, pi, event_type, stripe_event, from, from, Some(dispute_id)).await?;
            return Ok(if opened { "disputed" } else { "duplicate" });
        }
        Change::DisputeClosed { dispute_id, status } => {
            repo::close_dispute(conn, id, dispute_id, pi, facts.amount_cents, facts.currency.code(), status)
                .await?;
            record(conn, order, pi, event_type, stripe_event, from, from, Some(status)).await?;
            return Ok("dispute_closed");
        }
    };
    let to = match from.apply(event) {
        Ok(to) => to,
        Err(illegal) => {
            // Repeated or out of order: a no-op, kept in the history.
            let note = illegal.to_string();
            record(conn, order, pi, event_type, stripe_event, from, from, Some(&note)).await?;
            return Ok(if illegal.is_duplicate() { "duplicate" } else { "ignored" });
        }
    };
    if change == Change::Succeeded {
        return succeeded(state, conn, order, facts, event_type, stripe_event).await;
    }
    orders::set_payment_status(conn, id, to).await?;
    record(conn, order, pi, event_type, stripe_event, from, to, None).await?;
    Ok("applied")
}

#[allow(clippy::too_many_arguments)]
async fn record(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    pi: &str,
    event_type: &str,
    stripe_event: Option<&str>,
    from: PaymentStatus,
    to: PaymentStatus,
    note: Option<&str>,
) -> Result<(), HandlerError> {
    let h = History {
        order: order.order_id(),
        payment_intent_id: pi,
        event_type,
        stripe_event_id: stripe_event,
        from: from.as_str(),
        to: to.as_str(),
        note,
    };
    Ok(repo::record(conn, &h).await?)
}

/// The money arrived: keep the stock (extend, or re-reserve what lapsed) and emit `order.paid`;
/// if the stock is gone, flag the order and give the money back. Never oversell.
async fn succeeded(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    facts: &PaymentFacts,
    event_type: &str,
    stripe_event: Option<&str>,
) -> Result<&'static str, HandlerError> {
    let id = order.order_id();
    let items = orders::items(conn, id).await?;
    let mut held = Vec::with_capacity(items.len());
    let mut short = None;
    for item in &items {
        let kept = match item.reservation_id {
            Some(r) => match state.catalog.extend(r, PAID_HOLD_MINUTES, id).await {
                Ok(_) => Some(r),
                Err(ReservationError::Gone | ReservationError::NotFound) => None,
                Err(e) => return Err(HandlerError::transient(e.to_string())),
            },
            None => None,
        };
        let r = match kept {
            Some(r) => r,
            None => match state
                .catalog
                .reserve(
                    domain::ids::ProductId(item.product_id),
                    i64::from(item.quantity),
                    id,
                    PAID_HOLD_MINUTES,
                )
                .await
            {
                Ok(new) => {
                    repo::set_reservation(conn, id, item.reservation_id, item.product_id, new.id).await?;
                    new.id
                }
                Err(
                    ReservationError::Insufficient { .. }
                    | ReservationError::NotFound
                    | ReservationError::Gone,
                ) => {
                    short = Some(item.sku.clone());
                    break;
                }
                Err(e) => return Err(HandlerError::transient(e.to_string())),
            },
        };
        held.push(r);
    }
    let pi = facts.payment_intent_id.as_str();
    let from = order.payment().map_err(corrupt)?;
    let number = order.number().map_err(corrupt)?;
    if let Some(sku) = short {
        // Paid, but the stock went to someone else meanwhile: give back what was re-held, refund.
        for r in &held {
            if let Err(e) = state.catalog.release(*r).await {
                tracing::warn!(error = %e, "could not release a reservation; it expires by itself");
            }
        }
        let reason = format!("paid after its stock was gone ({sku}): refunded automatically");
        repo::mark_paid_without_stock(conn, id, facts.amount_cents, &reason).await?;
        record(conn, order, pi, event_type, stripe_event, from, PaymentStatus::Completed, Some(&reason))
            .await?;
        let key = format!("order-{id}-auto-refund");
        repo::insert_refund(conn, id, facts.amount_cents, Some("out_of_stock"), &key, "system").await?;
        match state.stripe.refund(pi, facts.amount_cents, &key).await {
            Ok((refund_id, _)) => {
                repo::finish_refund(conn, id, &key, "succeeded", Some(&refund_id)).await?;
                let now = reload(conn, id).await?;
                refunded(state, conn, &now, pi, facts.amount_cents, "refund.automatic", None).await?;
            }
            // Rolled back with the rest of this event; the retry asks again under the same key.
            Err(RefundError::Unavailable(u)) => return Err(HandlerError::transient(u.to_string())),
            Err(RefundError::Refused(m)) => {
                repo::finish_refund(conn, id, &key, "failed", None).await?;
                tracing::error!(order_id = %id, message = %m, "automatic refund refused: the order needs a person");
            }
        }
        if order.status == status::PENDING_PAYMENT && orders::close(conn, id, status::CANCELED).await? {
            let body = OrderClosed {
                order_id: id,
                order_number: number,
                reason: "stock_gone_after_payment".to_owned(),
                reservation_ids: orders::reservation_ids(&items),
                cart_id: order.cart(),
            };
            orders::emit_notify(conn, &OrderCanceled(body)).await?;
        }
        return Ok("refunded_out_of_stock");
    }
    repo::mark_paid(conn, id, facts.amount_cents).await?;
    record(conn, order, pi, event_type, stripe_event, from, PaymentStatus::Completed, None).await?;
    orders::emit_notify(
        conn,
        &OrderPaid {
            order_id: id,
            order_number: number,
            payment_intent_id: pi.to_owned(),
            amount_cents: facts.amount_cents,
            currency: facts.currency,
            reservation_ids: held,
            cart_id: order.cart(),
        },
    )
    .await?;
    Ok("paid")
}

async fn reload(conn: &mut AsyncPgConnection, id: domain::ids::OrderId) -> Result<OrderRow, HandlerError> {
    orders::by_id(conn, id).await?.ok_or_else(|| HandlerError::transient("order vanished"))
}

/// Refunds now total `cumulative`: raise the stored amount (never lower it: events come out of
/// order), move the state machine, emit `order.refunded` with this refund's amount.
pub async fn refunded(
    _state: &AppState,
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    pi: &str,
    cumulative: i64,
    event_type: &str,
    stripe_event: Option<&str>,
) -> Result<&'static str, HandlerError> {
    let id = order.order_id();
    let from = order.payment().map_err(corrupt)?;
    if cumulative <= order.amount_refunded_cents {
        record(conn, order, pi, event_type, stripe_event, from, from, Some("refund already counted")).await?;
        return Ok("duplicate");
    }
    let paid = order.amount_paid_cents.max(order.total_cents);
    let fully = cumulative >= paid;
    let to = match from.apply(PaymentEvent::Refunded { fully }) {
        Ok(to) => to,
        Err(illegal) => {
            let note = illegal.to_string();
            record(conn, order, pi, event_type, stripe_event, from, from, Some(&note)).await?;
            return Ok("ignored");
        }
    };
    repo::raise_refunded(conn, id, cumulative).await?;
    orders::set_payment_status(conn, id, to).await?;
    record(conn, order, pi, event_type, stripe_event, from, to, None).await?;
    orders::emit_notify(
        conn,
        &OrderRefunded {
            order_id: id,
            order_number: order.number().map_err(corrupt)?,
            amount_cents: cumulative - order.amount_refunded_cents,
            currency: order.currency().map_err(corrupt)?,
            fully,
        },
    )
    .await?;
    Ok("refunded")
}
