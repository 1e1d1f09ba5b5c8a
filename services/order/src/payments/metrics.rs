//! The payment counters: events, syncs from Stripe, orders flagged for their money (on the
//! runner's registry, served at `/metrics`).

use platform::http::metrics::labeled_counter;
use prometheus::{IntCounterVec, Registry};

/// `order_payment_events_total{outcome}`, `order_payment_syncs_total{outcome}`,
/// `order_payment_attention_total{reason}`.
#[derive(Clone)]
pub struct PaymentMetrics {
    events: IntCounterVec,
    syncs: IntCounterVec,
    attention: IntCounterVec,
}

impl PaymentMetrics {
    /// Creates and registers the counters.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            events: labeled_counter(
                registry,
                "order_payment_events_total",
                "Payment events by outcome.",
                "outcome",
            )?,
            syncs: labeled_counter(
                registry,
                "order_payment_syncs_total",
                "Payment syncs from Stripe by outcome.",
                "outcome",
            )?,
            attention: labeled_counter(
                registry,
                "order_payment_attention_total",
                "Orders flagged because captured money could not be kept (currency, underpaid, overpaid, stock_gone).",
                "reason",
            )?,
        })
    }

    /// Counts a payment event.
    pub fn event(&self, outcome: &str) {
        self.events.with_label_values(&[outcome]).inc();
    }
    /// Counts a payment sync.
    pub fn sync(&self, outcome: &str) {
        self.syncs.with_label_values(&[outcome]).inc();
    }
    /// Counts an order flagged for a person because of its money.
    pub fn attention(&self, reason: &str) {
        self.attention.with_label_values(&[reason]).inc();
    }
}
