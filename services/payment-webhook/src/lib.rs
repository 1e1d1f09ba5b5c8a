//! payment-webhook: Stripe's webhook intake (ARCHITECTURE §2–§4). Verified events are stored
//! once by Stripe's event id and turned into `payment.*` events through the outbox.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod config;
pub mod schema;
pub mod state;
pub mod webhook;

use platform::service::ServiceInfo;

/// What `payment-webhook --help` says.
pub const ABOUT: &str = "Stripe webhook intake: verified Stripe events become payment events";
/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "payment-webhook";
/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "payments";
/// What the runner needs to know before reading the configuration.
pub const INFO: ServiceInfo = ServiceInfo::new(SERVICE, SCHEMA, "0.0.0.0:8084", MIGRATIONS)
    .without_redis()
    .without_auth()
    .with_generic_plans();

/// The service's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/payment-webhook");
