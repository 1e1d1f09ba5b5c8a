//! Integration events over AMQP (ARCHITECTURE §4): the transactional outbox and its relay, the
//! idempotent consumer with retries and a dead-letter queue, and the broker connection.
//!
//! Producing: [`enqueue`] writes an event in the caller's transaction; [`Relay`] publishes
//! committed rows with publisher confirms. Consuming: [`Consumer`] applies each event through
//! an [`EventHandler`] in one transaction together with its `processed_events` row.

mod backoff;
mod broker;
mod consumer;
pub mod depth;
pub mod dlq;
pub mod listen;
mod message;
pub mod outbox;
mod relay;
pub mod tables;
pub mod topology;

pub use broker::Broker;
pub use consumer::{Consumer, ConsumerOptions, EventHandler, HandlerError};
pub use dlq::{DeadLetter, dlq_depth, peek_dlq, queue_depth, redrive};
pub use listen::listen;
pub use outbox::{OutboxRow, enqueue, enqueue_without_notify, notify, pending_count};
pub use relay::{Relay, RelayOptions};
pub use topology::{QueueOptions, declare_consumer_queue, declare_exchange, dlq_name, retry_name};

/// Header counting how many times a message has failed in a consumer.
pub const ATTEMPTS_HEADER: &str = "x-attempts";
/// Header carrying the last handler error of a dead-lettered message.
pub const ERROR_HEADER: &str = "x-error";
/// Header carrying the routing key (event type) a retried or dead-lettered message was first sent with.
pub const ORIGINAL_ROUTING_KEY_HEADER: &str = "x-original-routing-key";
/// Header carrying when (RFC 3339) a message was dead-lettered.
pub const FAILED_AT_HEADER: &str = "x-failed-at";

/// Errors of the events plumbing.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// The AMQP URL could not be parsed (the message never contains the password).
    #[error("invalid AMQP URL: {0}")]
    InvalidUrl(String),
    /// A broker operation failed (connection lost, channel closed, refused declaration ...).
    #[error("broker error: {0}")]
    Broker(#[from] lapin::Error),
    /// The broker negatively acknowledged a publish.
    #[error("the broker did not accept a publish (nack)")]
    Nacked,
    /// An operation did not finish in time.
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// The broker connection is gone.
    #[error("broker connection lost")]
    Disconnected,
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// No database connection could be had.
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// A name (queue, routing key, header) is not valid for AMQP.
    #[error("invalid AMQP name: {0}")]
    InvalidName(String),
}

impl From<crate::db::PoolError> for EventsError {
    fn from(e: crate::db::PoolError) -> Self {
        Self::DatabaseUnavailable(e.to_string())
    }
}

impl From<crate::db::DbError> for EventsError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(q) => Self::Database(q),
            other => Self::DatabaseUnavailable(other.to_string()),
        }
    }
}
