//! A typed client for cart's internal API (the shapes are `domain::checkout_lock`): read a cart,
//! take and give back its checkout lock. Order's checkout calls it, on [`InternalClient`].

use std::time::Duration;

use domain::checkout_lock::{CartSnapshot, CheckoutLockRequest};
use domain::ids::CartId;
use reqwest::{Method, StatusCode};

use super::internal::{InternalClient, Unreachable, query_value};
use crate::config::SecretString;

/// What a cart call can end in, besides success.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// Unknown cart, or not the caller's.
    #[error("cart not found")]
    NotFound,
    /// Another checkout holds the lock.
    #[error("checkout in progress")]
    Locked,
    /// Not reachable, too slow, a 5xx or an answer we cannot read: the caller answers 503.
    #[error(transparent)]
    Unavailable(#[from] Unreachable),
}

/// The client: cheap to clone (one shared connection pool).
#[derive(Clone, Debug)]
pub struct CartClient {
    inner: InternalClient,
}

impl CartClient {
    /// A client for the cart at `base_url`, authenticating with `token`; each call gives up
    /// after `timeout`.
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self { inner: InternalClient::new("cart", base_url, token, timeout)? })
    }

    /// Records each call's duration in `histogram` (labels: `operation`, `outcome`).
    #[must_use]
    pub fn with_latency(self, histogram: prometheus::HistogramVec) -> Self {
        Self { inner: self.inner.with_latency(histogram) }
    }

    /// Takes (or renews) the checkout lock for `req.holder` and returns the cart.
    pub async fn lock(&self, cart: CartId, req: &CheckoutLockRequest) -> Result<CartSnapshot, CartError> {
        let path = format!("/internal/v1/carts/{cart}/checkout-lock");
        let answer = self.inner.post("checkout_lock", &path, Some(req)).await?;
        match answer.status {
            StatusCode::OK => answer.json().map_err(|detail| self.unavailable(detail)),
            StatusCode::NOT_FOUND => Err(CartError::NotFound),
            StatusCode::CONFLICT => Err(CartError::Locked),
            other => Err(self.unavailable(format!("checkout-lock answered {other}: {}", answer.excerpt()))),
        }
    }

    /// Releases `holder`'s lock (a lock held by someone else stays).
    pub async fn unlock(&self, cart: CartId, holder: &str) -> Result<(), CartError> {
        let path = format!("/internal/v1/carts/{cart}/checkout-lock?holder={}", query_value(holder));
        let req = self.inner.request(Method::DELETE, &path);
        let answer = self.inner.call("checkout_unlock", req).await?;
        if answer.status.is_success() || answer.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(self.unavailable(format!("unlock answered {}", answer.status)))
        }
    }

    fn unavailable(&self, detail: String) -> CartError {
        CartError::Unavailable(Unreachable { service: self.inner.service(), detail })
    }
}
