//! The email worker's counter (on the runner's registry, served at `/metrics`).

use platform::http::metrics::labeled_counter;
use prometheus::{IntCounterVec, Registry};

/// `order_emails_total{outcome}`.
#[derive(Clone)]
pub struct EmailMetrics(IntCounterVec);

impl EmailMetrics {
    /// Creates and registers the counter.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        Ok(Self(labeled_counter(registry, "order_emails_total", "Customer emails by outcome.", "outcome")?))
    }

    /// Counts an email outcome.
    pub fn record(&self, outcome: &str) {
        self.0.with_label_values(&[outcome]).inc();
    }
}
