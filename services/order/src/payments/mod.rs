//! The `order.payments` consumer: `payment.*` events move orders through the payment state
//! machine of `domain::order`. Repeated and out-of-order events are recorded and ignored,
//! never errors; an event whose order is not known yet (only its PaymentIntent) is retried.

pub mod apply;
pub mod repo;

use diesel_async::AsyncPgConnection;
use domain::events::{
    Envelope, EventPayload, PaymentCanceled, PaymentDisputeClosed, PaymentDisputed, PaymentFacts,
    PaymentFailed, PaymentProcessing, PaymentRefunded, PaymentRequiresAction, PaymentSucceeded, routing,
};
use platform::events::{ConsumerOptions, EventHandler, HandlerError};

use self::apply::Change;
use crate::orders::repo as orders;
use crate::state::AppState;

/// The consumer's queue (and its name in `processed_events`).
pub const QUEUE: &str = "order.payments";

/// Queue and bindings (the runner prefixes the queue in tests).
pub fn options() -> ConsumerOptions {
    ConsumerOptions::new(
        QUEUE,
        QUEUE,
        &[
            routing::PAYMENT_SUCCEEDED,
            routing::PAYMENT_FAILED,
            routing::PAYMENT_CANCELED,
            routing::PAYMENT_PROCESSING,
            routing::PAYMENT_REQUIRES_ACTION,
            routing::PAYMENT_REFUNDED,
            routing::PAYMENT_DISPUTED,
            routing::PAYMENT_DISPUTE_CLOSED,
        ],
    )
}

/// Applies payment events to orders.
pub struct PaymentEvents {
    /// Clients (Stripe for automatic refunds, catalog for stock) and the relay waker.
    pub state: AppState,
}

fn decode<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event.decode::<P>().map_err(|e| HandlerError::permanent(e.to_string()))
}

/// The event's facts and what it asks for.
fn read(event: &Envelope) -> Result<Option<(PaymentFacts, Change)>, HandlerError> {
    Ok(Some(match event.event_type.as_str() {
        routing::PAYMENT_SUCCEEDED => (decode::<PaymentSucceeded>(event)?.payment, Change::Succeeded),
        routing::PAYMENT_FAILED => {
            let f: PaymentFailed = decode(event)?;
            (f.payment, Change::Failed)
        }
        routing::PAYMENT_CANCELED => (decode::<PaymentCanceled>(event)?.payment, Change::Canceled),
        routing::PAYMENT_PROCESSING => (decode::<PaymentProcessing>(event)?.payment, Change::Processing),
        routing::PAYMENT_REQUIRES_ACTION => {
            (decode::<PaymentRequiresAction>(event)?.payment, Change::RequiresAction)
        }
        routing::PAYMENT_REFUNDED => {
            let r: PaymentRefunded = decode(event)?;
            (r.payment, Change::Refunded { cumulative: r.amount_refunded_cents })
        }
        routing::PAYMENT_DISPUTED => {
            let d: PaymentDisputed = decode(event)?;
            (d.payment, Change::Disputed { dispute_id: d.dispute_id, status: d.dispute_status })
        }
        routing::PAYMENT_DISPUTE_CLOSED => {
            let d: PaymentDisputeClosed = decode(event)?;
            (d.payment, Change::DisputeClosed { dispute_id: d.dispute_id, status: d.dispute_status })
        }
        _ => return Ok(None),
    }))
}

impl EventHandler for PaymentEvents {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let Some((facts, change)) = read(event)? else {
            tracing::debug!(event_type = %event.event_type, "not an event this consumer acts on");
            return Ok(());
        };
        // By order id when the event has one, else by the PaymentIntent (disputes, refunds).
        let order = match facts.order_id {
            Some(id) => orders::by_id_for_update(conn, id).await?,
            None => orders::by_payment_intent_for_update(conn, &facts.payment_intent_id).await?,
        };
        let Some(order) = order else {
            if facts.order_id.is_some() {
                // Not one of ours (or deleted): nothing will ever apply it.
                tracing::warn!(order_id = ?facts.order_id, payment_intent = %facts.payment_intent_id, "payment event for an unknown order");
                self.state.metrics.payment_event("unknown_order");
                return Ok(());
            }
            // The checkout may not have stored its PaymentIntent id yet: try again later.
            self.state.metrics.payment_event("order_not_yet_known");
            return Err(HandlerError::transient(format!(
                "no order knows PaymentIntent {} yet",
                facts.payment_intent_id
            )));
        };
        let stripe_event = Some(facts.stripe_event_id.as_str());
        let outcome =
            apply::apply(&self.state, conn, &order, &facts, change, event.event_type.as_str(), stripe_event)
                .await?;
        self.state.metrics.payment_event(outcome);
        Ok(())
    }
}
