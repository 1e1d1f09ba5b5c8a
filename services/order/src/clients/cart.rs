//! The cart's internal API (`/internal/v1/carts`), per notes/CART_ORDER_CONTRACT.md.

use chrono::{DateTime, Utc};
use domain::ids::{CartId, ProductId};
use platform::config::{ExposeSecret, SecretString};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Unavailable;

/// A cart as the internal API answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Cart {
    /// The cart.
    pub id: CartId,
    /// Its owner (JWT subject) or `None` for a guest cart.
    pub customer_id: Option<String>,
    /// Its currency, e.g. `USD`.
    pub currency: String,
    /// The lines.
    pub items: Vec<CartItem>,
}

/// A cart line.
#[derive(Debug, Clone, Deserialize)]
pub struct CartItem {
    /// The line id.
    pub id: Uuid,
    /// The product.
    pub product_id: ProductId,
    /// Its SKU.
    pub sku: String,
    /// Units.
    pub quantity: i64,
    /// The chosen options.
    #[serde(default)]
    pub selected_attributes: serde_json::Value,
    /// The catalog reservation backing the line, if any.
    pub reservation_id: Option<Uuid>,
    /// When that reservation lapses.
    pub reservation_expires_at: Option<DateTime<Utc>>,
}

/// What the lock call can answer besides a cart.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Unknown cart, or not the caller's.
    #[error("cart not found")]
    NotFound,
    /// Another checkout holds the lock.
    #[error("checkout in progress")]
    Locked,
    /// The cart service failed.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

#[derive(Serialize)]
struct LockBody<'a> {
    holder: &'a str,
    ttl_seconds: u64,
    customer_id: Option<&'a str>,
    cart_token: Option<&'a str>,
}

/// A client for cart's internal routes.
#[derive(Clone)]
pub struct CartClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl CartClient {
    /// A client for the cart at `base` (no trailing `/`), authenticating with `token`.
    pub fn new(http: reqwest::Client, base: impl Into<String>, token: SecretString) -> Self {
        Self { http, base: base.into(), token }
    }

    /// Takes (or renews) the checkout lock for `holder` and returns the cart.
    pub async fn lock(
        &self,
        cart: CartId,
        holder: &str,
        ttl_seconds: u64,
        customer_id: Option<&str>,
        cart_token: Option<&str>,
    ) -> Result<Cart, LockError> {
        let url = format!("{}/internal/v1/carts/{cart}/checkout-lock", self.base);
        let body = LockBody { holder, ttl_seconds: ttl_seconds.clamp(60, 3600), customer_id, cart_token };
        let res = self
            .http
            .post(url)
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| Unavailable::new("cart", e))?;
        match res.status() {
            StatusCode::OK => res.json::<Cart>().await.map_err(|e| Unavailable::new("cart", e).into()),
            StatusCode::NOT_FOUND => Err(LockError::NotFound),
            StatusCode::CONFLICT => Err(LockError::Locked),
            other => Err(Unavailable::new("cart", format!("checkout-lock answered {other}")).into()),
        }
    }

    /// Releases `holder`'s lock (a lock held by someone else stays).
    pub async fn unlock(&self, cart: CartId, holder: &str) -> Result<(), Unavailable> {
        // The holder is ours: a hex digest after `checkout:`, nothing to escape.
        let url = format!("{}/internal/v1/carts/{cart}/checkout-lock?holder={holder}", self.base);
        let res = self
            .http
            .delete(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(|e| Unavailable::new("cart", e))?;
        if res.status().is_success() || res.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(Unavailable::new("cart", format!("unlock answered {}", res.status())))
        }
    }
}
