//! The order service's counters (registered on the runner's registry, served at `/metrics`).

use prometheus::{IntCounterVec, Opts, Registry};

/// Counters of checkouts, payment events, sweeps and emails.
#[derive(Clone)]
pub struct OrderMetrics {
    checkouts: IntCounterVec,
    payment_events: IntCounterVec,
    sweeps: IntCounterVec,
    emails: IntCounterVec,
    syncs: IntCounterVec,
    attention: IntCounterVec,
}

impl OrderMetrics {
    /// Creates and registers the counters.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str, label: &str| -> prometheus::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), &[label])?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        Ok(Self {
            checkouts: counter("order_checkouts_total", "Checkout requests by outcome.", "outcome")?,
            payment_events: counter("order_payment_events_total", "Payment events by outcome.", "outcome")?,
            sweeps: counter("order_sweeps_total", "Orders expired or reconciled by the sweeper.", "action")?,
            emails: counter("order_emails_total", "Customer emails by outcome.", "outcome")?,
            syncs: counter("order_payment_syncs_total", "Payment syncs from Stripe by outcome.", "outcome")?,
            attention: counter(
                "order_payment_attention_total",
                "Orders flagged because captured money could not be kept (currency, underpaid, overpaid, stock_gone).",
                "reason",
            )?,
        })
    }

    /// Unregistered counters (tests, or a second registration).
    pub fn unregistered() -> Self {
        Self::register(&Registry::new()).unwrap_or_else(|_| unreachable!("a fresh registry has no clashes"))
    }

    /// Counts a checkout answer.
    pub fn checkout(&self, outcome: &str) {
        self.checkouts.with_label_values(&[outcome]).inc();
    }
    /// Counts a payment event.
    pub fn payment_event(&self, outcome: &str) {
        self.payment_events.with_label_values(&[outcome]).inc();
    }
    /// Counts a sweeper action.
    pub fn sweep(&self, action: &str) {
        self.sweeps.with_label_values(&[action]).inc();
    }
    /// Counts an email outcome.
    pub fn email(&self, outcome: &str) {
        self.emails.with_label_values(&[outcome]).inc();
    }
    /// Counts a payment sync.
    pub fn payment_sync(&self, outcome: &str) {
        self.syncs.with_label_values(&[outcome]).inc();
    }
    /// Counts an order flagged for a person because of its money.
    pub fn payment_attention(&self, reason: &str) {
        self.attention.with_label_values(&[reason]).inc();
    }
}
