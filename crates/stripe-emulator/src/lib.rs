//! A Stripe-compatible emulator for development and tests: the part of Stripe's API the
//! platform uses (PaymentIntents, refunds, test payment methods, idempotency), signed webhook
//! delivery with retries, and a control API to play the customer, the bank and the Stripe CLI.
//!
//! In a test: `let stripe = RunningEmulator::start(EmulatorConfig::default()).await?;` then
//! point the client at `stripe.base_url` and register an endpoint with
//! `stripe.add_webhook_endpoint(url, Some(secret))`.

// Unit tests may unwrap: a panic is the failure report. Only under cfg(test).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod cards;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod disputes;
pub mod emulator;
pub mod error;
pub mod form;
pub mod hosted;
pub mod ids;
pub mod objects;
pub mod params;
pub mod payment_intents;
pub mod refunds;
pub mod store;
pub mod trigger;
pub mod webhook_endpoints;
pub mod webhooks;

pub use emulator::{Emulator, EmulatorConfig, RunningEmulator};
pub use error::ApiError;
pub use store::Endpoint;
pub use trigger::TriggerRequest;
pub use webhooks::{DeliveryAttempt, RetryPolicy};

/// Service name in logs and traces.
pub const SERVICE: &str = "stripe-emulator";
