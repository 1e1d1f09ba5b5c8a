//! What the webhook handler shares.

use std::sync::Arc;

use platform::config::SecretString;
use platform::db::PgPool;
use tokio::sync::Notify;

use crate::metrics::WebhookMetrics;

/// Pools and settings, in app data as `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, schema `payments`.
    pub pool: PgPool,
    /// Every accepted endpoint secret (`STRIPE_WEBHOOK_SECRET`, comma-separated for rotation).
    pub secrets: Arc<[SecretString]>,
    /// Allowed clock difference between the signed time stamp and now, in seconds.
    pub tolerance_secs: i64,
    /// Largest body accepted, in bytes.
    pub body_limit: usize,
    /// The webhook counters.
    pub metrics: WebhookMetrics,
    /// Wakes the in-process outbox relay after a commit (the outbox is written without NOTIFY).
    pub relay_wake: Arc<Notify>,
}
