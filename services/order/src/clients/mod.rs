//! Thin HTTP clients for the sibling services this one calls (cart, catalog) and Stripe.
//!
//! The cart and catalog clients are deliberately small: `crates/platform/src/catalog_client.rs`
//! (being written alongside) will replace the catalog one when the branches meet.

pub mod cart;
pub mod catalog;
pub mod stripe;

use std::time::Duration;

/// Why a sibling service could not answer usefully (network, 5xx, or an unexpected body).
#[derive(Debug, thiserror::Error)]
#[error("{service} unavailable: {detail}")]
pub struct Unavailable {
    /// `cart`, `catalog` or `stripe`.
    pub service: &'static str,
    /// What went wrong (no secrets).
    pub detail: String,
}

impl Unavailable {
    pub(crate) fn new(service: &'static str, detail: impl std::fmt::Display) -> Self {
        Self { service, detail: detail.to_string() }
    }
}

/// The HTTP client the internal clients share: short time-outs, no proxies.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}
