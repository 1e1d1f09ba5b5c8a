//! The `catalog.orders` consumer: `order.paid` commits an order's reservations;
//! `order.canceled`, `order.expired` and `payment.failed` release them.
//!
//! An order's reservations are the ids the event lists plus the active ones whose owner is the
//! order (set on reserve or extend); a payment never commits an unlisted one that has lapsed
//! (see [`repo::commit_order`]). Only active reservations change, so duplicates, events
//! out of order and unknown ids are harmless no-ops: they are acknowledged, never retried.

use diesel_async::AsyncPgConnection;
use domain::events::{
    Envelope, EventPayload, OrderCanceled, OrderExpired, OrderPaid, PaymentFailed, routing,
};
use domain::ids::OrderId;
use platform::events::{ConsumerOptions, EventHandler, HandlerError};
use uuid::Uuid;

use super::repo::{self, Close};

/// The consumer's queue (and its name in `processed_events`).
pub const QUEUE: &str = "catalog.orders";

/// Queue and bindings; `prefix` isolates tests (empty in production).
pub fn options(prefix: &str) -> ConsumerOptions {
    ConsumerOptions::new(
        QUEUE,
        format!("{prefix}{QUEUE}"),
        &[routing::ORDER_PAID, routing::ORDER_CANCELED, routing::ORDER_EXPIRED, routing::PAYMENT_FAILED],
    )
}

/// Applies order and payment events to reservations.
pub struct ReservationEvents;

fn decode<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    // A body that does not match its type will not match on a retry either.
    event.decode::<P>().map_err(|e| HandlerError::permanent(e.to_string()))
}

async fn apply(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    listed: &[Uuid],
    how: Close,
) -> Result<(), HandlerError> {
    let mut ids = repo::active_of_order(conn, order_id).await?;
    ids.extend_from_slice(listed);
    ids.sort_unstable();
    ids.dedup();
    let closed = repo::close(conn, &ids, how).await?;
    if closed.len() < listed.len() {
        // Already closed (a duplicate or an earlier event) or unknown: nothing to do.
        tracing::info!(order_id = %order_id, listed = listed.len(), closed = closed.len(), ?how, "some reservations were not active");
    }
    Ok(())
}

impl EventHandler for ReservationEvents {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        apply_event(conn, event).await?;
        // The consumer loop commits: the relay learns of the rows from PostgreSQL (one event per
        // order, so the NOTIFY lock is no bottleneck here).
        platform::events::notify(conn).await?;
        Ok(())
    }
}

/// What `event` changes in the reservations (nothing for the kinds this consumer ignores).
async fn apply_event(conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
    match event.event_type.as_str() {
        routing::ORDER_PAID => {
            let paid: OrderPaid = decode(event)?;
            let done = repo::commit_order(conn, paid.order_id, &paid.reservation_ids).await?;
            if !done.expired.is_empty() {
                tracing::info!(order_id = %paid.order_id, expired = done.expired.len(), "lapsed reservations the payment replaced were expired, not committed");
            }
            Ok(())
        }
        routing::ORDER_CANCELED => {
            let OrderCanceled(closed) = decode(event)?;
            apply(conn, closed.order_id, &closed.reservation_ids, Close::Release).await
        }
        routing::ORDER_EXPIRED => {
            let OrderExpired(closed) = decode(event)?;
            apply(conn, closed.order_id, &closed.reservation_ids, Close::Release).await
        }
        routing::PAYMENT_FAILED => {
            let failed: PaymentFailed = decode(event)?;
            // Without an order id (not seen for PaymentIntent events) there is nothing to find.
            match failed.payment.order_id {
                Some(order) => apply(conn, order, &[], Close::Release).await,
                None => Ok(()),
            }
        }
        other => {
            tracing::debug!(event_type = other, "not an event this consumer acts on");
            Ok(())
        }
    }
}
