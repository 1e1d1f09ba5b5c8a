//! `POST /api/v1/checkout`: cart → order → PaymentIntent, idempotent under the
//! `Idempotency-Key` header. The steps and what a crash between any two of them leaves are in
//! docs/adr/0070-checkout.md. By concern: [`handler`] (HTTP, keys, outcomes), [`request`] (the
//! body, parsed), [`flow`] (the saga), [`price`] (the cart priced from catalog), [`idempotency`]
//! (claims and replays), [`repo`] (SQL).

pub mod failure;
pub mod flow;
pub mod handler;
pub mod idempotency;
pub mod metrics;
pub mod price;
pub mod pricing;
pub mod repo;
pub mod request;

pub use handler::checkout;
