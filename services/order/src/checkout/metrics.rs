//! The checkout's counter (on the runner's registry, served at `/metrics`).

use platform::http::metrics::labeled_counter;
use prometheus::{IntCounterVec, Registry};

/// `order_checkouts_total{outcome}`.
#[derive(Clone)]
pub struct CheckoutMetrics(IntCounterVec);

impl CheckoutMetrics {
    /// Creates and registers the counter.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        Ok(Self(labeled_counter(
            registry,
            "order_checkouts_total",
            "Checkout requests by outcome.",
            "outcome",
        )?))
    }

    /// Counts a checkout answer.
    pub fn record(&self, outcome: &str) {
        self.0.with_label_values(&[outcome]).inc();
    }
}
