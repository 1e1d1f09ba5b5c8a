//! The fulfilment state machine of an order: forward only, and only once paid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::UnknownStatus;
use super::payment::PaymentStatus;
use super::transition::{self, IllegalTransition};

/// How far an order has got towards the customer (the `fulfillment_status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    /// Nothing packed yet.
    Unfulfilled,
    /// Some lines packed.
    PartiallyFulfilled,
    /// Everything packed.
    Fulfilled,
    /// Handed to the carrier.
    Shipped,
    /// Arrived. Terminal.
    Delivered,
}

/// An admin's fulfilment update; the JSON spelling matches the status it moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentEvent {
    /// Some lines were packed.
    PartiallyFulfilled,
    /// All lines were packed.
    Fulfilled,
    /// The parcel left with the carrier.
    Shipped,
    /// The parcel arrived.
    Delivered,
}

/// Every legal fulfilment transition as `(from, event, to)`; anything not listed is illegal,
/// which makes the machine forward-only.
pub const FULFILLMENT_TRANSITIONS: &[(FulfillmentStatus, FulfillmentEvent, FulfillmentStatus)] = {
    use FulfillmentEvent as E;
    use FulfillmentStatus as S;
    &[
        (S::Unfulfilled, E::PartiallyFulfilled, S::PartiallyFulfilled),
        (S::Unfulfilled, E::Fulfilled, S::Fulfilled),
        (S::PartiallyFulfilled, E::Fulfilled, S::Fulfilled),
        (S::Fulfilled, E::Shipped, S::Shipped),
        (S::Shipped, E::Delivered, S::Delivered),
    ]
};

impl FulfillmentStatus {
    /// Every status, in order of progress (the derived `Ord` follows it).
    pub const ALL: [FulfillmentStatus; 5] = [
        FulfillmentStatus::Unfulfilled,
        FulfillmentStatus::PartiallyFulfilled,
        FulfillmentStatus::Fulfilled,
        FulfillmentStatus::Shipped,
        FulfillmentStatus::Delivered,
    ];

    /// The stored and JSON spelling, e.g. `"partially_fulfilled"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FulfillmentStatus::Unfulfilled => "unfulfilled",
            FulfillmentStatus::PartiallyFulfilled => "partially_fulfilled",
            FulfillmentStatus::Fulfilled => "fulfilled",
            FulfillmentStatus::Shipped => "shipped",
            FulfillmentStatus::Delivered => "delivered",
        }
    }

    /// The state after `event`, or why it does not apply (see [`FULFILLMENT_TRANSITIONS`]).
    ///
    /// This checks only the fulfilment table; use [`apply_fulfillment`] to also require payment.
    pub fn apply(
        self,
        event: FulfillmentEvent,
    ) -> Result<FulfillmentStatus, IllegalTransition<FulfillmentStatus, FulfillmentEvent>> {
        transition::step(FULFILLMENT_TRANSITIONS, self, event)
    }

    /// Whether no event can leave this state (only `Delivered`).
    pub fn is_terminal(self) -> bool {
        transition::is_terminal(FULFILLMENT_TRANSITIONS, self)
    }
}

impl fmt::Display for FulfillmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FulfillmentStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FulfillmentStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus::new("fulfillment status", s))
    }
}

impl fmt::Display for FulfillmentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FulfillmentEvent::PartiallyFulfilled => "partial fulfilment",
            FulfillmentEvent::Fulfilled => "fulfilment",
            FulfillmentEvent::Shipped => "shipment",
            FulfillmentEvent::Delivered => "delivery",
        })
    }
}

/// Whether an order whose payment is in `payment` may be fulfilled: the money must be taken.
///
/// `PartiallyRefunded` still counts: a partial refund (say, one damaged item) leaves the rest
/// of the order paid for and due to the customer.
pub const fn can_fulfil(payment: PaymentStatus) -> bool {
    payment.is_paid()
}

/// Why a fulfilment update was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FulfillmentError {
    /// The order is not paid for.
    #[error("the order cannot be fulfilled while its payment is {0}")]
    NotPaid(PaymentStatus),
    /// The fulfilment table does not allow the update.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition<FulfillmentStatus, FulfillmentEvent>),
}

/// Applies a fulfilment update to an order, checking payment first (see [`can_fulfil`]).
pub fn apply_fulfillment(
    payment: PaymentStatus,
    current: FulfillmentStatus,
    event: FulfillmentEvent,
) -> Result<FulfillmentStatus, FulfillmentError> {
    if !can_fulfil(payment) {
        return Err(FulfillmentError::NotPaid(payment));
    }
    Ok(current.apply(event)?)
}

#[cfg(test)]
mod tests {
    use super::FulfillmentEvent as E;
    use super::FulfillmentStatus as S;
    use super::*;

    const EVENTS: [E; 4] = [E::PartiallyFulfilled, E::Fulfilled, E::Shipped, E::Delivered];

    #[test]
    fn the_table_is_forward_only() {
        for s in S::ALL {
            for e in EVENTS {
                if let Ok(to) = s.apply(e) {
                    assert!(to > s, "{s} + {e} went to {to}");
                }
            }
        }
        assert_eq!(S::Unfulfilled.apply(E::Fulfilled), Ok(S::Fulfilled));
        assert_eq!(S::PartiallyFulfilled.apply(E::Fulfilled), Ok(S::Fulfilled));
        assert_eq!(S::Fulfilled.apply(E::Shipped), Ok(S::Shipped));
        assert_eq!(S::Shipped.apply(E::Delivered), Ok(S::Delivered));
        assert!(S::Unfulfilled.apply(E::Shipped).is_err());
        assert!(S::Delivered.is_terminal());
        assert!(!S::Shipped.is_terminal());
    }

    #[test]
    fn repeats_are_duplicates() {
        assert!(S::Shipped.apply(E::Shipped).unwrap_err().is_duplicate());
        assert!(S::PartiallyFulfilled.apply(E::PartiallyFulfilled).unwrap_err().is_duplicate());
        assert!(!S::Delivered.apply(E::Shipped).unwrap_err().is_duplicate());
    }

    #[test]
    fn fulfilment_needs_payment() {
        assert!(can_fulfil(PaymentStatus::Completed));
        assert!(can_fulfil(PaymentStatus::PartiallyRefunded));
        for p in [
            PaymentStatus::Pending,
            PaymentStatus::Processing,
            PaymentStatus::Failed,
            PaymentStatus::Refunded,
        ] {
            assert!(!can_fulfil(p));
            assert_eq!(apply_fulfillment(p, S::Unfulfilled, E::Fulfilled), Err(FulfillmentError::NotPaid(p)));
        }
        assert_eq!(
            apply_fulfillment(PaymentStatus::Completed, S::Unfulfilled, E::Fulfilled),
            Ok(S::Fulfilled)
        );
        let err = apply_fulfillment(PaymentStatus::Completed, S::Unfulfilled, E::Delivered).unwrap_err();
        assert_eq!(err.to_string(), "delivery is not allowed in state unfulfilled");
        assert_eq!(
            FulfillmentError::NotPaid(PaymentStatus::Pending).to_string(),
            "the order cannot be fulfilled while its payment is pending"
        );
    }

    #[test]
    fn spellings() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(serde_json::from_str::<E>("\"shipped\"").unwrap(), E::Shipped);
        assert_eq!(serde_json::from_str::<E>("\"partially_fulfilled\"").unwrap(), E::PartiallyFulfilled);
    }
}
