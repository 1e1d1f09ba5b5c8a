//! The HTTP kit for actix-web services.

pub mod conn_guard;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod health;
pub mod idempotency;
pub mod listener;
pub mod metrics;
pub mod page;
pub mod request_guard;
pub mod request_id;
mod root_span;
pub mod server;
pub mod settings;

pub use error::{ApiError, ValidationErrors};
pub use extract::{Json, RawBody};
pub use health::{Readiness, ReadyCheck, Reported};
pub use idempotency::IdempotencyKey;
pub use server::{HttpKit, build_server, run_until_signal};
pub use settings::HttpSettings;
