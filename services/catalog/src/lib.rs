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

use platform::service::ServiceInfo;

/// What `catalog --help` says.
pub const ABOUT: &str = "Catalog service: products, inventory and reservations";
/// Service name in logs, metrics and event envelopes.
pub const SERVICE: &str = "catalog";
/// The catalog's PostgreSQL schema.
pub const SCHEMA: &str = "catalog";
/// What the runner needs to know before reading the configuration. The pool plans prepared
/// statements once (reservations, look-ups, commits); a listing page opts back into plans made
/// for its values ([`listing::CUSTOM_PLANS`], docs/adr/0005).
pub const INFO: ServiceInfo =
    ServiceInfo::new(SERVICE, SCHEMA, "0.0.0.0:8081", MIGRATIONS).with_generic_plans();

/// The catalog's SQL migrations, embedded in the binary.
pub const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../../migrations/catalog");
