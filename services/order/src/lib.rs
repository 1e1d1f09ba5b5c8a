//! order: checkout, orders, payments, refunds and disputes (ARCHITECTURE §2–§4), and the
//! `order worker` that emails customers. See the README, "Checkout and orders", and
//! docs/adr/0070-checkout.md.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod app;
pub mod checkout;
pub mod cli;
pub mod clients;
pub mod config;
pub mod metrics;
pub mod order;
pub mod orders;
pub mod payments;
pub mod schema;
pub mod state;
pub mod sweeper;
pub mod worker;

/// The service's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/order");
