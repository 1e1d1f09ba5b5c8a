//! The webhook's own Prometheus counters (the HTTP kit's per-route metrics are the runner's).

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

/// Counters of refused requests and of stored events, by why, and the size of each batch.
#[derive(Clone)]
pub struct WebhookMetrics {
    rejected: IntCounterVec,
    events: IntCounterVec,
    batch: Histogram,
    batch_seconds: Histogram,
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
        let batch = Histogram::with_opts(
            HistogramOpts::new(
                "payment_webhook_batch_events",
                "Events per group-commit statement (one transaction, one round trip)",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "payment_webhook_batch_seconds",
                "Time to store one batch: connection check-out, the statement and its commit",
            )
            .buckets(vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0]),
        )?;
        registry.register(Box::new(rejected.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(batch.clone()))?;
        registry.register(Box::new(batch_seconds.clone()))?;
        Ok(Self { rejected, events, batch, batch_seconds })
    }

    /// Counts a refused request.
    pub fn rejected(&self, reason: &str) {
        self.rejected.with_label_values(&[reason]).inc();
    }

    /// Counts a verified event.
    pub fn event(&self, outcome: &str) {
        self.events.with_label_values(&[outcome]).inc();
    }

    /// Observes the size of one batch and how long storing it took.
    #[allow(clippy::cast_precision_loss)] // batch sizes are tiny
    pub fn batch(&self, events: usize, took: std::time::Duration) {
        self.batch.observe(events as f64);
        self.batch_seconds.observe(took.as_secs_f64());
    }
}
