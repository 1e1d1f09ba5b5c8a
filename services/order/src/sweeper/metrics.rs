//! The sweeper's counter (on the runner's registry, served at `/metrics`).

use platform::http::metrics::labeled_counter;
use prometheus::{IntCounterVec, Registry};

/// `order_sweeps_total{action}`.
#[derive(Clone)]
pub struct SweepMetrics(IntCounterVec);

impl SweepMetrics {
    /// Creates and registers the counter.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        Ok(Self(labeled_counter(
            registry,
            "order_sweeps_total",
            "Orders expired or reconciled by the sweeper.",
            "action",
        )?))
    }

    /// Counts a sweeper action.
    pub fn record(&self, action: &str) {
        self.0.with_label_values(&[action]).inc();
    }
}
