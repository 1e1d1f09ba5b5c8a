//! Test-only helpers: every test gets its own database, Redis key prefix and broker names,
//! and can run a service's app on a random port. Panicking is fine here: this is test code.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod burst;
mod db;
pub mod events;
pub mod hostile;
pub mod http;
pub mod openapi;
mod proxy;
mod redis_server;
pub mod schema;
mod server;
mod service;
pub mod stock;
mod wait;

pub use db::TestDb;
pub use proxy::TcpProxy;
pub use redis_server::PrivateRedis;
pub use schema::SchemaCheck;
pub use server::{TestServer, spawn_server};
pub use service::{INTERNAL_TOKEN, JWT_SECRET, TestService, base_config, jwt, spawn_service};
pub use wait::wait_until;

/// Local RabbitMQ (overridable with `TEST_AMQP_URL`).
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Local Redis (overridable with `TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A Redis key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("tk:{}:", uuid::Uuid::new_v4().simple())
}

/// Broker names no other test uses.
#[derive(Debug, Clone)]
pub struct BrokerNames {
    /// The topic exchange standing in for `commerce.events`.
    pub exchange: String,
    /// Prefix for queue names (`{prefix}catalog.orders`).
    pub prefix: String,
}

/// Fresh, unique exchange and queue-name prefix.
pub fn broker_names() -> BrokerNames {
    let id = uuid::Uuid::new_v4().simple().to_string();
    BrokerNames { exchange: format!("tk.{id}.commerce.events"), prefix: format!("tk.{id}.") }
}
