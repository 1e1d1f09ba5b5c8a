//! The listing cache's Prometheus counter: `catalog_cache_events_total{event}`.

use prometheus::{IntCounterVec, Opts, Registry};

/// What a cache lookup did (a Prometheus label and a test counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Served a fresh entry.
    Hit,
    /// Served an entry past `fresh` and refreshed it in the background.
    Stale,
    /// No usable entry.
    Miss,
    /// Ran the build function (a database query).
    Rebuild,
    /// Redis failed; served from PostgreSQL.
    Bypass,
    /// A Redis command got no answer in time but Redis answered a probe: the cache stayed on
    /// (only that request went without it).
    Timeout,
}

impl Event {
    /// The `event` label value.
    pub fn label(self) -> &'static str {
        match self {
            Event::Hit => "hit",
            Event::Stale => "stale",
            Event::Miss => "miss",
            Event::Rebuild => "rebuild",
            Event::Bypass => "bypass",
            Event::Timeout => "timeout",
        }
    }
}

/// Lookups by outcome.
#[derive(Clone)]
pub struct CacheMetrics {
    events: IntCounterVec,
}

impl CacheMetrics {
    /// Creates the counter and registers it in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let events = IntCounterVec::new(
            Opts::new("catalog_cache_events_total", "Listing cache lookups by outcome"),
            &["event"],
        )?;
        registry.register(Box::new(events.clone()))?;
        Ok(Self { events })
    }

    /// Counts one lookup outcome.
    pub fn record(&self, event: Event) {
        self.events.with_label_values(&[event.label()]).inc();
    }
}
