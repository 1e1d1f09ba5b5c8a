//! order: checkout, orders, payments, refunds and disputes (ARCHITECTURE §2–§4), and the
//! `order worker` that emails customers. See docs/orders.md and
//! docs/adr/0070-checkout.md.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod app;
pub mod checkout;
pub mod cli;
pub mod clients;
pub mod config;
pub mod order;
pub mod orders;
pub mod payments;
pub mod schema;
pub mod state;
pub mod sweeper;
pub mod worker;

use platform::service::ServiceInfo;

/// What `order --help` says.
pub const ABOUT: &str = "Checkout, orders and payments; `order worker` sends the customer emails";
/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "order";
/// The service's PostgreSQL schema.
pub const SCHEMA: &str = "orders";
/// What the runner needs to know before reading the configuration.
pub const INFO: ServiceInfo =
    ServiceInfo::new(SERVICE, SCHEMA, "0.0.0.0:8083", MIGRATIONS).without_redis().with_generic_plans();

/// The service's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/order");
