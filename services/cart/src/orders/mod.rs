//! The `cart.orders` consumer: `order.paid` deletes the cart the order came from;
//! `order.canceled` and `order.expired` give the checkout lock back.
//!
//! Idempotent and order-tolerant: an unknown (or already deleted) cart is a no-op, and a paid
//! order deletes its cart whatever changed on it since (the order took the cart). Reservations
//! are catalog's business on these events (it commits or releases the order's); lines added
//! after the order keep theirs until they lapse.

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use domain::events::{Envelope, EventPayload, OrderCanceled, OrderClosed, OrderExpired, OrderPaid, routing};
use domain::ids::CartId;
use platform::events::{ConsumerOptions, EventHandler, HandlerError};

use crate::carts::store::CartStore;

/// The consumer's queue (and its name in `processed_events`).
pub const QUEUE: &str = "cart.orders";

/// Queue and bindings; `prefix` isolates tests (empty in production).
pub fn options(prefix: &str) -> ConsumerOptions {
    ConsumerOptions::new(
        QUEUE,
        format!("{prefix}{QUEUE}"),
        &[routing::ORDER_PAID, routing::ORDER_CANCELED, routing::ORDER_EXPIRED],
    )
}

/// Applies order events to carts.
pub struct OrderEvents {
    store: CartStore,
}

impl OrderEvents {
    /// A handler over `store`.
    pub fn new(store: CartStore) -> Self {
        Self { store }
    }

    async fn paid(&self, conn: &mut AsyncPgConnection, cart_id: CartId) -> Result<(), HandlerError> {
        let mutex = self.store.lock(cart_id).await?;
        let result = async {
            if let Some(cart) = self.store.load(cart_id).await? {
                self.store.delete_in(conn, &cart).await?;
                tracing::info!(cart_id = %cart_id, "cart deleted: its order was paid");
            }
            Ok::<_, HandlerError>(())
        }
        .await;
        mutex.release().await;
        result
    }

    async fn closed(&self, conn: &mut AsyncPgConnection, closed: &OrderClosed) -> Result<(), HandlerError> {
        let Some(cart_id) = closed.cart_id else { return Ok(()) };
        let mutex = self.store.lock(cart_id).await?;
        let result = async {
            let Some(mut cart) = self.store.load(cart_id).await? else { return Ok(()) };
            let before = cart.clone();
            // A lock taken for another order (a later checkout) stays.
            if cart.lock.as_ref().is_some_and(|l| l.order_id.is_none_or(|o| o == closed.order_id)) {
                cart.lock = None;
            }
            // Catalog releases the order's reservations: the next read re-reserves those lines.
            for line in &mut cart.lines {
                if line.reservation_id.is_some_and(|r| closed.reservation_ids.contains(&r)) {
                    line.clear_reservation();
                }
            }
            if cart != before {
                self.store.save_in(conn, &mut cart).await?;
                tracing::info!(cart_id = %cart_id, reason = %closed.reason, at = %Utc::now(), "cart unlocked: its order closed");
            }
            Ok::<_, HandlerError>(())
        }
        .await;
        mutex.release().await;
        result
    }
}

fn decode<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    // A body that does not match its type will not match on a retry either.
    event.decode::<P>().map_err(|e| HandlerError::permanent(e.to_string()))
}

impl EventHandler for OrderEvents {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            routing::ORDER_PAID => {
                let paid: OrderPaid = decode(event)?;
                match paid.cart_id {
                    Some(cart_id) => self.paid(conn, cart_id).await,
                    None => Ok(()),
                }
            }
            routing::ORDER_CANCELED => {
                let OrderCanceled(closed) = decode(event)?;
                self.closed(conn, &closed).await
            }
            routing::ORDER_EXPIRED => {
                let OrderExpired(closed) = decode(event)?;
                self.closed(conn, &closed).await
            }
            other => {
                tracing::debug!(event_type = other, "not an event this consumer acts on");
                Ok(())
            }
        }
    }
}
