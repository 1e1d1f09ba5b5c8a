//! Clients for our services' internal APIs, all on one [`internal::InternalClient`] (time-outs,
//! service token, trace context, request id, latency metric).

pub mod cart;
pub mod catalog;
pub mod internal;
