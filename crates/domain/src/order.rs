//! Orders: the payment and fulfilment state machines, the order number and the totals.
//!
//! Both machines are explicit `(from, event, to)` tables ([`PAYMENT_TRANSITIONS`],
//! [`FULFILLMENT_TRANSITIONS`]); a pair that is not in its table is illegal. An illegal event
//! is a `409` for an API call and a no-op for a consumed event (ARCHITECTURE §3.5).

mod fulfillment;
mod number;
mod payment;
mod settlement;
mod totals;
mod transition;

use thiserror::Error;

pub use fulfillment::{
    FULFILLMENT_TRANSITIONS, FulfillmentError, FulfillmentEvent, FulfillmentStatus, apply_fulfillment,
    can_fulfil,
};
pub use number::OrderNumber;
pub use payment::{PAYMENT_TRANSITIONS, PaymentEvent, PaymentStatus};
pub use settlement::{
    DisputeOutcome, DisputeView, IntentStatus, Mismatch, Settlement, StripeView, Verdict, settle,
};
pub use totals::{OrderTotals, TotalsError};
pub use transition::IllegalTransition;

/// A status string that names no known state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownStatus {
    /// Which status was being parsed, e.g. `"payment status"`.
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

impl UnknownStatus {
    /// An error for `value`, which is not a valid `kind`.
    fn new(kind: &'static str, value: &str) -> Self {
        UnknownStatus { kind, value: value.to_owned() }
    }
}
