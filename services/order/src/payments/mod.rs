//! The `order.payments` consumer. A `payment.*` event is a hint that an order's payment changed
//! at Stripe: the consumer finds the order, attaches a PaymentIntent it learns of first from an
//! event, records the hint and asks for a sync (`sync`), which reads Stripe's objects and brings
//! the order in line with them (ADR 0071). Repeated, reordered or missing events therefore all
//! end in the same state; an event whose order is not known yet (only its PaymentIntent) is
//! retried.

pub mod metrics;
pub mod reconcile;
pub mod repo;
pub mod sync;

use diesel_async::AsyncPgConnection;
use domain::events::{
    Envelope, EventPayload, PaymentCanceled, PaymentDisputeClosed, PaymentDisputed, PaymentFacts,
    PaymentFailed, PaymentProcessing, PaymentRefunded, PaymentRequiresAction, PaymentSucceeded, routing,
};
use platform::events::{ConsumerOptions, EventHandler, HandlerError};

use self::repo::History;
use crate::orders::repo as orders;
use crate::state::AppState;

/// The consumer's queue (and its name in `processed_events`).
pub const QUEUE: &str = "order.payments";

/// Payment events handled at once by one replica.
const CONCURRENCY: usize = 8;

/// Queue and bindings (the runner prefixes the queue in tests).
pub fn options() -> ConsumerOptions {
    let mut options = ConsumerOptions::new(
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
    );
    // Each event only queues a sync (one small transaction), but three arrive per payment:
    // handled one at a time they capped paid orders at ~50/s (make bench-checkout, issue 21).
    // Replicas already apply events of one order concurrently; the order row lock orders them.
    options.concurrency = CONCURRENCY;
    options
}

fn decode<P: EventPayload>(event: &Envelope) -> Result<P, HandlerError> {
    event.decode::<P>().map_err(|e| HandlerError::permanent(e.to_string()))
}

/// The facts every `payment.*` event carries (which order, which PaymentIntent).
fn facts(event: &Envelope) -> Result<Option<PaymentFacts>, HandlerError> {
    Ok(Some(match event.event_type.as_str() {
        routing::PAYMENT_SUCCEEDED => decode::<PaymentSucceeded>(event)?.payment,
        routing::PAYMENT_FAILED => decode::<PaymentFailed>(event)?.payment,
        routing::PAYMENT_CANCELED => decode::<PaymentCanceled>(event)?.payment,
        routing::PAYMENT_PROCESSING => decode::<PaymentProcessing>(event)?.payment,
        routing::PAYMENT_REQUIRES_ACTION => decode::<PaymentRequiresAction>(event)?.payment,
        routing::PAYMENT_REFUNDED => decode::<PaymentRefunded>(event)?.payment,
        routing::PAYMENT_DISPUTED => decode::<PaymentDisputed>(event)?.payment,
        routing::PAYMENT_DISPUTE_CLOSED => decode::<PaymentDisputeClosed>(event)?.payment,
        _ => return Ok(None),
    }))
}

/// Turns payment events into sync requests.
pub struct PaymentEvents {
    /// Metrics.
    pub state: AppState,
}

impl EventHandler for PaymentEvents {
    async fn handle(&self, conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let Some(facts) = facts(event)? else {
            tracing::debug!(event_type = %event.event_type, "not an event this consumer acts on");
            return Ok(());
        };
        // By order id when the event has one, else by the PaymentIntent (disputes, refunds).
        let order = match facts.order_id {
            Some(id) => orders::by_id(conn, id).await?,
            None => orders::by_payment_intent(conn, &facts.payment_intent_id).await?,
        };
        let Some(order) = order else {
            if facts.order_id.is_some() {
                // Not one of ours (or deleted): nothing will ever apply it.
                tracing::warn!(order_id = ?facts.order_id, payment_intent = %facts.payment_intent_id, "payment event for an unknown order");
                self.state.metrics.payments.event("unknown_order");
                return Ok(());
            }
            // The checkout may not have stored its PaymentIntent id yet: try again later.
            self.state.metrics.payments.event("order_not_yet_known");
            return Err(HandlerError::transient(format!(
                "no order knows PaymentIntent {} yet",
                facts.payment_intent_id
            )));
        };
        let id = order.order_id();
        let pi = facts.payment_intent_id.as_str();
        let foreign = match order.payment_intent_id.as_deref() {
            None => {
                // The checkout crashed before storing its intent; the event names it (metadata).
                let intent = repo::Intent {
                    order: id,
                    payment_intent: pi,
                    amount: facts.amount_cents,
                    currency: facts.currency.code(),
                    status: "created",
                };
                repo::attach(conn, &intent).await?;
                None
            }
            Some(known) if known != pi => Some(format!("ignored: the order's PaymentIntent is {known}")),
            Some(_) => None,
        };
        let note = foreign.as_deref().unwrap_or("hint: payment read again from Stripe");
        let h = History {
            order: id,
            payment_intent_id: pi,
            event_type: event.event_type.as_str(),
            stripe_event_id: Some(facts.stripe_event_id.as_str()),
            from: &order.payment_status,
            to: &order.payment_status,
            note: Some(note),
        };
        repo::record(conn, &h).await?;
        if foreign.is_some() {
            self.state.metrics.payments.event("foreign_intent");
            return Ok(());
        }
        sync::repo::request(conn, id, event.event_type.as_str()).await?;
        self.state.metrics.payments.event("sync_requested");
        Ok(())
    }
}
