//! payment-webhook: Stripe's webhook intake (ARCHITECTURE §2–§4). Verified events are stored
//! once by Stripe's event id and turned into `payment.*` events through the outbox.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod config;
pub mod metrics;
pub mod state;
pub mod webhook;

/// The service's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/payment-webhook");
