//! The catalog service: products, inventory and reservations (ARCHITECTURE §2).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod app;
pub mod bulk;
pub mod cache;
pub mod cli;
pub mod config;
pub mod events;
pub mod inventory;
pub mod listing;
pub mod product_page;
pub mod schema;
pub mod seed;
pub mod state;

/// The catalog's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/catalog");
