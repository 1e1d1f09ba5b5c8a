//! Events payment-webhook publishes: Stripe events, normalized.

use serde::{Deserialize, Serialize};

use crate::events::routing;
use crate::ids::OrderId;
use crate::money::{Currency, Money};
use crate::order::PaymentEvent;

/// The fields every `payment.*` event carries (flattened into each payload's JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFacts {
    /// The order, from the `PaymentIntent`'s `metadata.order_id`, when known. Real Stripe
    /// dispute and charge events carry no order metadata: consumers then find the order by
    /// `payment_intent_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The Stripe `PaymentIntent` id.
    pub payment_intent_id: String,
    /// The `PaymentIntent` amount, in minor units.
    pub amount_cents: i64,
    /// The currency.
    pub currency: Currency,
    /// The Stripe event id this was normalized from.
    pub stripe_event_id: String,
    /// When Stripe created that event (Unix seconds).
    pub stripe_created: i64,
}

impl PaymentFacts {
    /// The `PaymentIntent` amount.
    pub const fn amount(&self) -> Money {
        Money::new(self.amount_cents, self.currency)
    }
}

/// `payment.succeeded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
}

/// `payment.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
    /// Stripe's failure code, e.g. `"card_declined"`.
    pub failure_code: Option<String>,
    /// Stripe's human-readable failure message.
    pub failure_message: Option<String>,
}

/// `payment.canceled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCanceled {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
}

/// `payment.processing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentProcessing {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
}

/// `payment.requires_action`: the customer must act (3-D Secure); no state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequiresAction {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
}

/// `payment.refunded`, from Stripe's `charge.refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
    /// The total refunded so far on the charge (cumulative, like Stripe's `amount_refunded`).
    pub amount_refunded_cents: i64,
}

/// `payment.disputed`, from `charge.dispute.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDisputed {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
    /// The Stripe dispute id.
    pub dispute_id: String,
    /// Stripe's dispute status, e.g. `"needs_response"`.
    pub dispute_status: String,
}

/// `payment.dispute_closed`, from `charge.dispute.closed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDisputeClosed {
    /// The common fields.
    #[serde(flatten)]
    pub payment: PaymentFacts,
    /// The Stripe dispute id.
    pub dispute_id: String,
    /// Stripe's final dispute status, e.g. `"won"` or `"lost"`.
    pub dispute_status: String,
}

impl PaymentSucceeded {
    /// The payment state-machine event this causes.
    pub const fn payment_event(&self) -> PaymentEvent {
        PaymentEvent::Succeeded
    }
}

impl PaymentFailed {
    /// The payment state-machine event this causes.
    pub const fn payment_event(&self) -> PaymentEvent {
        PaymentEvent::Failed
    }
}

impl PaymentCanceled {
    /// The payment state-machine event this causes.
    pub const fn payment_event(&self) -> PaymentEvent {
        PaymentEvent::Canceled
    }
}

impl PaymentProcessing {
    /// The payment state-machine event this causes.
    pub const fn payment_event(&self) -> PaymentEvent {
        PaymentEvent::Processing
    }
}

impl PaymentRefunded {
    /// The payment state-machine event this causes: a full refund once the cumulative
    /// refunded amount reaches the payment amount.
    pub const fn payment_event(&self) -> PaymentEvent {
        PaymentEvent::Refunded { fully: self.amount_refunded_cents >= self.payment.amount_cents }
    }
}

event_payload!(PaymentSucceeded, routing::PAYMENT_SUCCEEDED);
event_payload!(PaymentFailed, routing::PAYMENT_FAILED);
event_payload!(PaymentCanceled, routing::PAYMENT_CANCELED);
event_payload!(PaymentProcessing, routing::PAYMENT_PROCESSING);
event_payload!(PaymentRequiresAction, routing::PAYMENT_REQUIRES_ACTION);
event_payload!(PaymentRefunded, routing::PAYMENT_REFUNDED);
event_payload!(PaymentDisputed, routing::PAYMENT_DISPUTED);
event_payload!(PaymentDisputeClosed, routing::PAYMENT_DISPUTE_CLOSED);
