//! The payment state machine of an order, driven by normalized `payment.*` events.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::UnknownStatus;
use super::transition::{self, IllegalTransition};

/// Where an order's payment stands (the `payment_status` column and API field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Order placed, nothing heard from the payment provider yet.
    Pending,
    /// The provider is processing the payment (or the customer is retrying).
    Processing,
    /// The money was taken.
    Completed,
    /// The attempt failed or was canceled; the customer may retry.
    Failed,
    /// Everything taken was given back. Terminal.
    Refunded,
    /// Part of the money was given back.
    PartiallyRefunded,
}

/// Something that happened to the payment, as reported by the provider or an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentEvent {
    /// The provider started processing.
    Processing,
    /// The payment succeeded.
    Succeeded,
    /// The payment attempt failed.
    Failed,
    /// The payment intent was canceled.
    Canceled,
    /// Money was refunded; `fully` when the refunds now cover the whole amount.
    Refunded {
        /// Whether the order is now refunded in full.
        fully: bool,
    },
}

/// Every legal payment transition as `(from, event, to)`. Anything not listed is illegal.
///
/// `Failed` is not final: Stripe lets a customer retry a failed `PaymentIntent` with another
/// card, so a later `Processing` or `Succeeded` moves it on. A second partial refund is a
/// real change (more money back), hence the `PartiallyRefunded` self-row.
pub const PAYMENT_TRANSITIONS: &[(PaymentStatus, PaymentEvent, PaymentStatus)] = {
    use PaymentEvent as E;
    use PaymentStatus as S;
    &[
        (S::Pending, E::Processing, S::Processing),
        (S::Pending, E::Succeeded, S::Completed),
        (S::Pending, E::Failed, S::Failed),
        (S::Pending, E::Canceled, S::Failed),
        (S::Processing, E::Succeeded, S::Completed),
        (S::Processing, E::Failed, S::Failed),
        (S::Processing, E::Canceled, S::Failed),
        (S::Failed, E::Processing, S::Processing),
        (S::Failed, E::Succeeded, S::Completed),
        (S::Completed, E::Refunded { fully: false }, S::PartiallyRefunded),
        (S::Completed, E::Refunded { fully: true }, S::Refunded),
        (S::PartiallyRefunded, E::Refunded { fully: false }, S::PartiallyRefunded),
        (S::PartiallyRefunded, E::Refunded { fully: true }, S::Refunded),
    ]
};

impl PaymentStatus {
    /// Every status.
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Pending,
        PaymentStatus::Processing,
        PaymentStatus::Completed,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
        PaymentStatus::PartiallyRefunded,
    ];

    /// The stored and JSON spelling, e.g. `"partially_refunded"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Completed => "completed",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    /// The state after `event`, or why the event does not apply (see [`PAYMENT_TRANSITIONS`]).
    pub fn apply(
        self,
        event: PaymentEvent,
    ) -> Result<PaymentStatus, IllegalTransition<PaymentStatus, PaymentEvent>> {
        transition::step(PAYMENT_TRANSITIONS, self, event)
    }

    /// Whether no event can leave this state (only `Refunded`).
    pub fn is_terminal(self) -> bool {
        transition::is_terminal(PAYMENT_TRANSITIONS, self)
    }

    /// Whether the order's money was taken (and not all given back).
    pub const fn is_paid(self) -> bool {
        matches!(self, PaymentStatus::Completed | PaymentStatus::PartiallyRefunded)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PaymentStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus::new("payment status", s))
    }
}

impl fmt::Display for PaymentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaymentEvent::Processing => "payment processing",
            PaymentEvent::Succeeded => "payment succeeded",
            PaymentEvent::Failed => "payment failed",
            PaymentEvent::Canceled => "payment canceled",
            PaymentEvent::Refunded { fully: true } => "full refund",
            PaymentEvent::Refunded { fully: false } => "partial refund",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentEvent as E;
    use super::PaymentStatus as S;

    const EVENTS: [E; 6] = [
        E::Processing,
        E::Succeeded,
        E::Failed,
        E::Canceled,
        E::Refunded { fully: false },
        E::Refunded { fully: true },
    ];

    #[test]
    fn legal_transitions() {
        for (from, event, to) in [
            (S::Pending, E::Processing, S::Processing),
            (S::Pending, E::Succeeded, S::Completed),
            (S::Processing, E::Succeeded, S::Completed),
            (S::Pending, E::Failed, S::Failed),
            (S::Processing, E::Canceled, S::Failed),
            (S::Failed, E::Processing, S::Processing),
            (S::Failed, E::Succeeded, S::Completed),
            (S::Completed, E::Refunded { fully: false }, S::PartiallyRefunded),
            (S::PartiallyRefunded, E::Refunded { fully: false }, S::PartiallyRefunded),
            (S::PartiallyRefunded, E::Refunded { fully: true }, S::Refunded),
            (S::Completed, E::Refunded { fully: true }, S::Refunded),
        ] {
            assert_eq!(from.apply(event), Ok(to), "{from} + {event}");
        }
    }

    #[test]
    fn illegal_and_duplicate_transitions() {
        let dup = S::Completed.apply(E::Succeeded).unwrap_err();
        assert!(dup.is_duplicate());
        assert_eq!((dup.from, dup.event), (S::Completed, E::Succeeded));
        assert_eq!(dup.to_string(), "payment succeeded was already applied: the state is completed");
        assert!(S::Failed.apply(E::Canceled).unwrap_err().is_duplicate());
        assert!(S::Processing.apply(E::Processing).unwrap_err().is_duplicate());
        assert!(S::Refunded.apply(E::Refunded { fully: true }).unwrap_err().is_duplicate());

        for (from, event) in [
            (S::Completed, E::Failed),
            (S::Completed, E::Processing),
            (S::Pending, E::Refunded { fully: false }),
            (S::Failed, E::Refunded { fully: true }),
            (S::Refunded, E::Refunded { fully: false }),
            (S::Refunded, E::Succeeded),
        ] {
            let err = from.apply(event).unwrap_err();
            assert!(!err.is_duplicate(), "{from} + {event}");
            assert_eq!(err.to_string(), format!("{event} is not allowed in state {from}"));
        }
    }

    #[test]
    fn only_refunded_is_terminal_and_no_event_leaves_it() {
        for s in S::ALL {
            assert_eq!(s.is_terminal(), s == S::Refunded, "{s}");
        }
        for e in EVENTS {
            assert!(S::Refunded.apply(e).is_err());
        }
    }

    #[test]
    fn spellings() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(serde_json::to_string(&S::PartiallyRefunded).unwrap(), "\"partially_refunded\"");
        assert_eq!("paid".parse::<S>().unwrap_err().to_string(), "unknown payment status \"paid\"");
        assert!(S::Completed.is_paid() && S::PartiallyRefunded.is_paid() && !S::Refunded.is_paid());
    }
}
