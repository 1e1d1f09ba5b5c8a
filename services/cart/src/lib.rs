//! The cart service: guest and customer carts, stock reserved through catalog as lines are
//! added, Redis as the active store and PostgreSQL for customers' carts (docs/adr/0060).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod carts;
pub mod checkout;
pub mod config;
pub mod orders;
pub mod schema;
pub mod state;

use platform::service::ServiceInfo;

/// What `cart --help` says.
pub const ABOUT: &str = "Carts: guest and customer carts with stock reserved through catalog";
/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "cart";
/// The cart's PostgreSQL schema.
pub const SCHEMA: &str = "cart";
/// What the runner needs to know before reading the configuration.
pub const INFO: ServiceInfo =
    ServiceInfo::new(SERVICE, SCHEMA, "0.0.0.0:8082", MIGRATIONS).with_generic_plans();

/// The cart's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/cart");
