//! The webhook's own Prometheus counters (the HTTP kit's per-route metrics are the runner's).

use prometheus::{IntCounterVec, Opts, Registry};

/// Counters of refused requests and of stored events, by why.
#[derive(Clone)]
pub struct WebhookMetrics {
    rejected: IntCounterVec,
    events: IntCounterVec,
}

impl WebhookMetrics {
    /// Creates the counters and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let rejected = IntCounterVec::new(
            Opts::new(
                "payment_webhook_rejected_total",
                "Webhook requests refused before anything was stored, by reason",
            ),
            &["reason"],
        )?;
        let events = IntCounterVec::new(
            Opts::new(
                "payment_webhook_events_total",
                "Verified Stripe events by outcome (published, duplicate, unhandled_type, invalid_object, error)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(rejected.clone()))?;
        registry.register(Box::new(events.clone()))?;
        Ok(Self { rejected, events })
    }

    /// Counts a refused request.
    pub fn rejected(&self, reason: &str) {
        self.rejected.with_label_values(&[reason]).inc();
    }

    /// Counts a verified event.
    pub fn event(&self, outcome: &str) {
        self.events.with_label_values(&[outcome]).inc();
    }
}
