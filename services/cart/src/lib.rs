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

/// The cart's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/cart");
