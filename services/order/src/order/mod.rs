//! The order as an aggregate: its lifecycle status and the decisions that move it. Every
//! change of an order's life goes through here — payment (from Stripe's objects, ADR 0071),
//! and one [`CloseReason`] for every way an unpaid order ends (customer cancel, expiry, stock
//! gone after payment, a payment that does not match). Pure: the SQL that carries a decision
//! out is `close.rs` and `payments::sync`.

pub mod close;

use std::fmt;
use std::str::FromStr;

use domain::order::{PaymentStatus, Settlement, Verdict};
use uuid::Uuid;

/// The order's life, apart from its payment (the `status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Placed, waiting for the money.
    PendingPayment,
    /// Paid: the stock is committed, the order can be fulfilled.
    Paid,
    /// Closed before payment (or its payment could not be kept).
    Canceled,
    /// Not paid before the checkout session ran out.
    Expired,
}

impl Lifecycle {
    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lifecycle::PendingPayment => "pending_payment",
            Lifecycle::Paid => "paid",
            Lifecycle::Canceled => "canceled",
            Lifecycle::Expired => "expired",
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lifecycle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Lifecycle::PendingPayment, Lifecycle::Paid, Lifecycle::Canceled, Lifecycle::Expired]
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown order status {s:?}"))
    }
}

/// Why an unpaid order closes; each maps to the status it closes to and the event's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The customer canceled before paying.
    CustomerCanceled,
    /// The checkout session ran out.
    CheckoutTimeout,
    /// Paid after the stock went to someone else: refunded automatically.
    StockGoneAfterPayment,
    /// The captured money does not match the order: refunded automatically.
    PaymentMismatch,
    /// Everything captured was refunded before the order learnt it was paid.
    RefundedBeforePaid,
}

impl CloseReason {
    /// The lifecycle status the order closes to.
    pub const fn closes_to(self) -> Lifecycle {
        match self {
            CloseReason::CheckoutTimeout => Lifecycle::Expired,
            _ => Lifecycle::Canceled,
        }
    }

    /// The `reason` of the `order.canceled` / `order.expired` event.
    pub const fn as_str(self) -> &'static str {
        match self {
            CloseReason::CustomerCanceled => "customer_canceled",
            CloseReason::CheckoutTimeout => "checkout_session_timeout",
            CloseReason::StockGoneAfterPayment => "stock_gone_after_payment",
            CloseReason::PaymentMismatch => "payment_mismatch",
            CloseReason::RefundedBeforePaid => "refunded_before_paid",
        }
    }
}

/// What the aggregate knows of itself when money news arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The lifecycle status.
    pub lifecycle: Lifecycle,
    /// The stored payment status.
    pub payment: PaymentStatus,
    /// Stored captured amount.
    pub amount_paid_cents: i64,
    /// Stored refunded amount.
    pub amount_refunded_cents: i64,
    /// An automatic refund was already decided: the order must not be revived.
    pub auto_refund_requested: bool,
}

/// What the catalog said when asked to keep the order's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stock {
    /// Not asked (nothing needed it when the sync started).
    NotAsked,
    /// Every line is held by these reservations.
    Held(Vec<Uuid>),
    /// This SKU is gone; whatever was re-held has been released.
    Short(String),
}

/// What to do with the order, decided from Stripe's ledger ([`decide`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Mark paid and commit these reservations (`order.paid`).
    pub pay: Option<Vec<Uuid>>,
    /// Close the order (only from `pending_payment`).
    pub close: Option<CloseReason>,
    /// Flag for a person, with the reason.
    pub attention: Option<String>,
    /// Ask Stripe to give back this much (the captured money the order cannot keep).
    pub auto_refund_cents: Option<i64>,
    /// The order needs its stock held first: sync again, asking catalog.
    pub needs_stock: bool,
}

/// Whether keeping the money needs the stock held (the catalog is asked before the
/// transaction, never under the order's row lock).
pub fn needs_stock(current: &Current, settlement: &Settlement) -> bool {
    settlement.verdict == Verdict::Paid
        && current.lifecycle != Lifecycle::Paid
        && !current.auto_refund_requested
}

/// Whether `settlement` is older than what the order already recorded (Stripe's captured and
/// refunded amounts never go down, so a smaller figure is a stale read).
pub fn is_stale(current: &Current, settlement: &Settlement) -> bool {
    settlement.captured_cents < current.amount_paid_cents
        || settlement.refunded_cents < current.amount_refunded_cents
}

/// The order's answer to what Stripe holds: paid only when the whole total was captured in the
/// order's currency and its stock is held; anything else captured goes back, flagged.
pub fn decide(current: &Current, settlement: &Settlement, stock: &Stock) -> Decision {
    let mut d = Decision::default();
    let pending = current.lifecycle == Lifecycle::PendingPayment;
    let keep = settlement.captured_cents - settlement.refunded_cents;
    match &settlement.verdict {
        Verdict::Unpaid => {}
        Verdict::Paid if current.lifecycle == Lifecycle::Paid || current.auto_refund_requested => {}
        Verdict::Paid => match stock {
            Stock::Held(ids) => d.pay = Some(ids.clone()),
            Stock::NotAsked => d.needs_stock = true,
            Stock::Short(sku) => {
                d.close = pending.then_some(CloseReason::StockGoneAfterPayment);
                d.attention = Some(format!("paid after its stock was gone ({sku}): refunded automatically"));
                d.auto_refund_cents = Some(keep);
            }
        },
        Verdict::Mismatch(m) => {
            // Never on a paid order: it was paid only after a matching capture, which cannot change.
            if current.lifecycle != Lifecycle::Paid {
                d.close = pending.then_some(CloseReason::PaymentMismatch);
                d.attention = Some(format!("{m}: refunded automatically"));
                if !current.auto_refund_requested && keep > 0 {
                    d.auto_refund_cents = Some(keep);
                }
            }
        }
        Verdict::RefundedInFull => d.close = pending.then_some(CloseReason::RefundedBeforePaid),
    }
    if current.auto_refund_requested {
        d.auto_refund_cents = None;
    }
    d
}

#[cfg(test)]
mod tests {
    use domain::money::{Currency, Money};
    use domain::order::{IntentStatus, StripeView, settle};

    use super::*;

    fn current(lifecycle: Lifecycle) -> Current {
        Current {
            lifecycle,
            payment: PaymentStatus::Pending,
            amount_paid_cents: 0,
            amount_refunded_cents: 0,
            auto_refund_requested: false,
        }
    }

    fn settled(captured: i64, refunded: i64) -> Settlement {
        let view = StripeView {
            payment_intent_id: "pi_1".into(),
            status: if captured > 0 { IntentStatus::Succeeded } else { IntentStatus::RequiresPaymentMethod },
            last_attempt_failed: false,
            currency: "USD".into(),
            amount_cents: 4000,
            captured_cents: captured,
            refunded_cents: refunded,
            charge_id: None,
            disputes: vec![],
        };
        settle(Money::new(4000, Currency::Usd), &view)
    }

    #[test]
    fn a_matching_capture_pays_once_the_stock_is_held() {
        let c = current(Lifecycle::PendingPayment);
        let s = settled(4000, 0);
        assert!(needs_stock(&c, &s));
        assert!(decide(&c, &s, &Stock::NotAsked).needs_stock);
        let ids = vec![Uuid::nil()];
        assert_eq!(decide(&c, &s, &Stock::Held(ids.clone())).pay, Some(ids));
        let short = decide(&c, &s, &Stock::Short("SKU".into()));
        assert_eq!(short.close, Some(CloseReason::StockGoneAfterPayment));
        assert_eq!(short.auto_refund_cents, Some(4000));
        // An expired order is revived by a late payment; a paid one is left alone.
        assert!(decide(&current(Lifecycle::Expired), &s, &Stock::Held(vec![])).pay.is_some());
        assert_eq!(decide(&current(Lifecycle::Paid), &s, &Stock::NotAsked), Decision::default());
    }

    #[test]
    fn a_partial_capture_is_refunded_and_flagged_never_paid() {
        let d = decide(&current(Lifecycle::PendingPayment), &settled(1000, 0), &Stock::NotAsked);
        assert_eq!(d.pay, None);
        assert_eq!(d.close, Some(CloseReason::PaymentMismatch));
        assert_eq!(d.auto_refund_cents, Some(1000));
        assert!(d.attention.as_deref().is_some_and(|a| a.contains("1000 cents of the order's 4000")));
        let mut asked = current(Lifecycle::Canceled);
        asked.auto_refund_requested = true;
        assert_eq!(decide(&asked, &settled(1000, 0), &Stock::NotAsked).auto_refund_cents, None);
    }

    #[test]
    fn a_refund_before_the_payment_closes_the_order_unpaid() {
        let d = decide(&current(Lifecycle::PendingPayment), &settled(4000, 4000), &Stock::NotAsked);
        assert_eq!((d.pay, d.close), (None, Some(CloseReason::RefundedBeforePaid)));
    }

    #[test]
    fn stale_reads_are_recognised() {
        let mut c = current(Lifecycle::Paid);
        c.amount_paid_cents = 4000;
        c.amount_refunded_cents = 1000;
        assert!(is_stale(&c, &settled(4000, 0)));
        assert!(is_stale(&c, &settled(0, 0)));
        assert!(!is_stale(&c, &settled(4000, 1000)));
    }
}
