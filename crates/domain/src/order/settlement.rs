//! An order's money as Stripe holds it: the PaymentIntent, its charge, refunds and disputes
//! reduced to a ledger, and what that ledger means for the order. Events are only hints that
//! something changed; this is computed from Stripe's objects, so deliveries in any order,
//! duplicated or missing, converge to the same result (ADR 0071).

use std::fmt;
use std::str::FromStr;

use crate::money::Money;

use super::PaymentStatus;

/// A PaymentIntent's `status`, as Stripe spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentStatus {
    /// No usable payment method yet, or the last attempt failed.
    RequiresPaymentMethod,
    /// Waits for confirmation.
    RequiresConfirmation,
    /// Waits for the customer (3-D Secure).
    RequiresAction,
    /// An asynchronous payment is in flight.
    Processing,
    /// Authorised, not captured (`capture_method=manual`).
    RequiresCapture,
    /// Canceled: can never be paid.
    Canceled,
    /// The money was captured.
    Succeeded,
}

impl FromStr for IntentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "requires_payment_method" => IntentStatus::RequiresPaymentMethod,
            "requires_confirmation" => IntentStatus::RequiresConfirmation,
            "requires_action" => IntentStatus::RequiresAction,
            "processing" => IntentStatus::Processing,
            "requires_capture" => IntentStatus::RequiresCapture,
            "canceled" => IntentStatus::Canceled,
            "succeeded" => IntentStatus::Succeeded,
            other => return Err(format!("unknown PaymentIntent status {other:?}")),
        })
    }
}

/// Where a dispute stands, for the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeOutcome {
    /// Open (needs a response, under review): the amount is withdrawn for now.
    Open,
    /// Closed in the merchant's favour: the money came back.
    Won,
    /// Closed in the customer's favour: the money is gone.
    Lost,
}

impl DisputeOutcome {
    /// From Stripe's dispute `status` (`won` and `warning_closed` keep the money).
    pub fn from_stripe(status: &str) -> Self {
        match status {
            "won" | "warning_closed" => DisputeOutcome::Won,
            "lost" => DisputeOutcome::Lost,
            _ => DisputeOutcome::Open,
        }
    }
}

/// A dispute on the order's charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeView {
    /// `du_...` / `dp_...`.
    pub id: String,
    /// The disputed amount, in the charge's minor units.
    pub amount_cents: i64,
    /// Stripe's status (kept as written, for the record).
    pub status: String,
}

impl DisputeView {
    /// What the status means for the money.
    pub fn outcome(&self) -> DisputeOutcome {
        DisputeOutcome::from_stripe(&self.status)
    }
}

/// What Stripe says now about one order's PaymentIntent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeView {
    /// `pi_...`.
    pub payment_intent_id: String,
    /// The PaymentIntent's status.
    pub status: IntentStatus,
    /// Whether the last attempt failed (`last_payment_error` is set).
    pub last_attempt_failed: bool,
    /// The PaymentIntent's currency, upper case as the shop writes it (`"USD"`).
    pub currency: String,
    /// The PaymentIntent's `amount`: what was asked, not what was taken.
    pub amount_cents: i64,
    /// `amount_received`: what was captured.
    pub captured_cents: i64,
    /// What was refunded of the captured money (the charge's `amount_refunded` less the
    /// uncaptured part Stripe reports as refunded after a partial capture).
    pub refunded_cents: i64,
    /// The latest charge (`ch_...`), once there is one.
    pub charge_id: Option<String>,
    /// Every dispute on the PaymentIntent.
    pub disputes: Vec<DisputeView>,
}

impl StripeView {
    /// The money refunded of a charge: Stripe counts the part a partial capture released as
    /// refunded, which never left the customer; only the rest is a refund.
    pub fn refunded_of_charge(amount: i64, captured: i64, amount_refunded: i64) -> i64 {
        (amount_refunded - (amount - captured).max(0)).clamp(0, captured.max(0))
    }
}

/// Why captured money does not pay for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Captured in another currency than the order's.
    Currency {
        /// The order's currency.
        expected: String,
        /// What Stripe captured in.
        captured: String,
    },
    /// Captured less or more than the order's total (a partial capture, an updated amount).
    Amount {
        /// The order's total.
        expected: i64,
        /// What Stripe captured.
        captured: i64,
    },
}

impl Mismatch {
    /// A short label for metrics (`currency`, `underpaid`, `overpaid`).
    pub fn label(&self) -> &'static str {
        match self {
            Mismatch::Currency { .. } => "currency",
            Mismatch::Amount { expected, captured } if captured < expected => "underpaid",
            Mismatch::Amount { .. } => "overpaid",
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Currency { expected, captured } => {
                write!(f, "payment captured in {captured}, the order is in {expected}")
            }
            Mismatch::Amount { expected, captured } => {
                write!(f, "payment captured {captured} cents of the order's {expected}")
            }
        }
    }
}

/// What the money means for the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing captured (yet).
    Unpaid,
    /// The total was captured in the order's currency and not all of it went back.
    Paid,
    /// Money was captured but does not pay for the order.
    Mismatch(Mismatch),
    /// Everything captured was refunded.
    RefundedInFull,
}

/// The ledger of an order's money and its payment status, derived from a [`StripeView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The `payment_status` this ledger means.
    pub status: PaymentStatus,
    /// Captured.
    pub captured_cents: i64,
    /// Refunded (of the captured).
    pub refunded_cents: i64,
    /// Withdrawn by disputes that are open or lost.
    pub disputed_cents: i64,
    /// Whether a dispute is open.
    pub dispute_open: bool,
    /// What it means for the order.
    pub verdict: Verdict,
}

/// Derives the order's ledger and verdict: an order is paid only when the captured amount and
/// currency equal its `total`.
pub fn settle(total: Money, view: &StripeView) -> Settlement {
    let captured = view.captured_cents.max(0);
    let refunded = view.refunded_cents.clamp(0, captured);
    let status = if captured > 0 {
        if refunded == 0 {
            PaymentStatus::Completed
        } else if refunded < captured {
            PaymentStatus::PartiallyRefunded
        } else {
            PaymentStatus::Refunded
        }
    } else {
        match view.status {
            IntentStatus::Processing | IntentStatus::RequiresCapture => PaymentStatus::Processing,
            IntentStatus::Canceled => PaymentStatus::Failed,
            IntentStatus::RequiresPaymentMethod if view.last_attempt_failed => PaymentStatus::Failed,
            _ => PaymentStatus::Pending,
        }
    };
    let verdict = if captured == 0 {
        Verdict::Unpaid
    } else if view.currency != total.currency().code() {
        Verdict::Mismatch(Mismatch::Currency {
            expected: total.currency().code().to_owned(),
            captured: view.currency.clone(),
        })
    } else if captured != total.cents() {
        Verdict::Mismatch(Mismatch::Amount { expected: total.cents(), captured })
    } else if refunded >= captured {
        Verdict::RefundedInFull
    } else {
        Verdict::Paid
    };
    let withdrawn = |d: &&DisputeView| matches!(d.outcome(), DisputeOutcome::Open | DisputeOutcome::Lost);
    Settlement {
        status,
        captured_cents: captured,
        refunded_cents: refunded,
        disputed_cents: view.disputes.iter().filter(withdrawn).map(|d| d.amount_cents.max(0)).sum(),
        dispute_open: view.disputes.iter().any(|d| d.outcome() == DisputeOutcome::Open),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn view(status: IntentStatus, captured: i64, refunded: i64) -> StripeView {
        StripeView {
            payment_intent_id: "pi_1".into(),
            status,
            last_attempt_failed: false,
            currency: "USD".into(),
            amount_cents: 4000,
            captured_cents: captured,
            refunded_cents: refunded,
            charge_id: None,
            disputes: vec![],
        }
    }

    fn total() -> Money {
        Money::new(4000, Currency::Usd)
    }

    #[test]
    fn paid_only_when_amount_and_currency_match() {
        let s = settle(total(), &view(IntentStatus::Succeeded, 4000, 0));
        assert_eq!((s.status, s.verdict), (PaymentStatus::Completed, Verdict::Paid));
        let partial = settle(total(), &view(IntentStatus::Succeeded, 1000, 0));
        assert_eq!(partial.verdict, Verdict::Mismatch(Mismatch::Amount { expected: 4000, captured: 1000 }));
        assert_eq!(partial.captured_cents, 1000);
        let mut eur = view(IntentStatus::Succeeded, 4000, 0);
        eur.currency = "EUR".into();
        let s = settle(total(), &eur);
        assert_eq!(
            s.verdict.clone(),
            Verdict::Mismatch(Mismatch::Currency { expected: "USD".into(), captured: "EUR".into() })
        );
        assert_eq!(
            settle(total(), &view(IntentStatus::Succeeded, 5000, 0)).verdict.clone(),
            Verdict::Mismatch(Mismatch::Amount { expected: 4000, captured: 5000 })
        );
    }

    #[test]
    fn refunds_and_statuses() {
        let s = settle(total(), &view(IntentStatus::Succeeded, 4000, 1500));
        assert_eq!((s.status, s.verdict), (PaymentStatus::PartiallyRefunded, Verdict::Paid));
        let s = settle(total(), &view(IntentStatus::Succeeded, 4000, 4000));
        assert_eq!((s.status, s.verdict), (PaymentStatus::Refunded, Verdict::RefundedInFull));
        assert_eq!(settle(total(), &view(IntentStatus::Processing, 0, 0)).status, PaymentStatus::Processing);
        assert_eq!(
            settle(total(), &view(IntentStatus::RequiresCapture, 0, 0)).status,
            PaymentStatus::Processing
        );
        assert_eq!(settle(total(), &view(IntentStatus::Canceled, 0, 0)).status, PaymentStatus::Failed);
        assert_eq!(settle(total(), &view(IntentStatus::RequiresAction, 0, 0)).status, PaymentStatus::Pending);
        let mut failed = view(IntentStatus::RequiresPaymentMethod, 0, 0);
        failed.last_attempt_failed = true;
        assert_eq!(settle(total(), &failed).status, PaymentStatus::Failed);
    }

    #[test]
    fn partial_capture_refunds_exclude_the_released_rest() {
        assert_eq!(StripeView::refunded_of_charge(4000, 1000, 3000), 0);
        assert_eq!(StripeView::refunded_of_charge(4000, 1000, 3400), 400);
        assert_eq!(StripeView::refunded_of_charge(4000, 4000, 4000), 4000);
        assert_eq!(StripeView::refunded_of_charge(4000, 0, 4000), 0);
    }

    #[test]
    fn disputes_count_while_open_or_lost() {
        let mut v = view(IntentStatus::Succeeded, 4000, 0);
        v.disputes = vec![
            DisputeView { id: "du_1".into(), amount_cents: 4000, status: "needs_response".into() },
            DisputeView { id: "du_2".into(), amount_cents: 100, status: "won".into() },
        ];
        let s = settle(total(), &v);
        assert!(s.dispute_open);
        assert_eq!(s.disputed_cents, 4000);
        v.disputes[0].status = "lost".into();
        let s = settle(total(), &v);
        assert!(!s.dispute_open);
        assert_eq!(s.disputed_cents, 4000);
    }
}
