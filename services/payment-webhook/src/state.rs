//! What the webhook handler shares.

use std::sync::Arc;

use platform::config::SecretString;
use platform::db::PgPool;

use crate::webhook::batch::Batcher;
use crate::webhook::metrics::WebhookMetrics;
use crate::webhook::store::EventStore;

/// Pools and settings, in app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, schema `payments` (the dispute look-up; events are stored through `intake`).
    pub pool: PgPool,
    /// The group commit that stores events and their outbox rows, then wakes the relay.
    pub intake: Batcher<EventStore>,
    /// Every accepted endpoint secret (`STRIPE_WEBHOOK_SECRET`, comma-separated for rotation).
    pub secrets: Arc<[SecretString]>,
    /// Allowed clock difference between the signed time stamp and now, in seconds.
    pub tolerance_secs: i64,
    /// Largest body accepted, in bytes.
    pub body_limit: usize,
    /// The webhook counters.
    pub metrics: WebhookMetrics,
}
