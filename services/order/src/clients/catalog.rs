//! Catalog's internal inventory API: price look-up and reservations.

use domain::ids::{OrderId, ProductId};
use domain::inventory::{ExtendRequest, LookupRequest, LookupResponse, Reservation, ReserveRequest};
use platform::config::{ExposeSecret, SecretString};
use reqwest::StatusCode;
use uuid::Uuid;

use super::Unavailable;

/// Why a reservation could not be extended or made.
#[derive(Debug, thiserror::Error)]
pub enum ReservationError {
    /// It is no longer active (released, expired, committed) or past its expiry.
    #[error("reservation no longer active")]
    Gone,
    /// No such reservation or product.
    #[error("not found")]
    NotFound,
    /// Not enough stock to reserve.
    #[error("insufficient stock ({available} available)")]
    Insufficient {
        /// Units that could be reserved.
        available: i64,
    },
    /// Catalog failed.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A client for catalog's internal routes.
#[derive(Clone)]
pub struct CatalogClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

#[derive(serde::Deserialize)]
struct Conflict {
    #[serde(default)]
    available: i64,
}

impl CatalogClient {
    /// A client for the catalog at `base` (no trailing `/`).
    pub fn new(http: reqwest::Client, base: impl Into<String>, token: SecretString) -> Self {
        Self { http, base: base.into(), token }
    }

    /// Current price, status and availability of `ids` (at most 100).
    pub async fn lookup(&self, ids: Vec<ProductId>) -> Result<LookupResponse, Unavailable> {
        let res = self
            .http
            .post(format!("{}/internal/v1/products/lookup", self.base))
            .bearer_auth(self.token.expose_secret())
            .json(&LookupRequest { product_ids: ids, skus: Vec::new() })
            .send()
            .await
            .map_err(|e| Unavailable::new("catalog", e))?;
        if res.status() != StatusCode::OK {
            return Err(Unavailable::new("catalog", format!("lookup answered {}", res.status())));
        }
        res.json().await.map_err(|e| Unavailable::new("catalog", e))
    }

    /// Pushes a reservation's expiry to `ttl_minutes` from now and ties it to `order`.
    pub async fn extend(
        &self,
        id: Uuid,
        ttl_minutes: i64,
        order: OrderId,
    ) -> Result<Reservation, ReservationError> {
        let body = ExtendRequest { ttl_minutes: Some(ttl_minutes), order_id: Some(order) };
        let res = self
            .http
            .post(format!("{}/internal/v1/reservations/{id}/extend", self.base))
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| Unavailable::new("catalog", e))?;
        match res.status() {
            StatusCode::OK => res.json().await.map_err(|e| Unavailable::new("catalog", e).into()),
            StatusCode::CONFLICT => Err(ReservationError::Gone),
            StatusCode::NOT_FOUND => Err(ReservationError::NotFound),
            other => Err(Unavailable::new("catalog", format!("extend answered {other}")).into()),
        }
    }

    /// Reserves `quantity` units of `product` for `order` under `key` (a retry with the same key
    /// finds the reservation while it is active instead of holding the stock twice).
    pub async fn reserve(
        &self,
        product: ProductId,
        quantity: i64,
        order: OrderId,
        ttl_minutes: i64,
        key: &str,
    ) -> Result<Reservation, ReservationError> {
        let body = ReserveRequest {
            product_id: product,
            quantity,
            cart_id: None,
            order_id: Some(order),
            ttl_minutes: Some(ttl_minutes),
            idempotency_key: Some(key.to_owned()),
        };
        let res = self
            .http
            .post(format!("{}/internal/v1/reservations", self.base))
            .bearer_auth(self.token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| Unavailable::new("catalog", e))?;
        match res.status() {
            StatusCode::CREATED | StatusCode::OK => {
                res.json().await.map_err(|e| Unavailable::new("catalog", e).into())
            }
            StatusCode::CONFLICT => {
                let available = res.json::<Conflict>().await.map_or(0, |c| c.available);
                Err(ReservationError::Insufficient { available })
            }
            StatusCode::NOT_FOUND => Err(ReservationError::NotFound),
            other => Err(Unavailable::new("catalog", format!("reserve answered {other}")).into()),
        }
    }

    /// Gives a reservation back (idempotent; a closed one is fine).
    pub async fn release(&self, id: Uuid) -> Result<(), Unavailable> {
        let res = self
            .http
            .post(format!("{}/internal/v1/reservations/{id}/release", self.base))
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(|e| Unavailable::new("catalog", e))?;
        match res.status() {
            StatusCode::OK | StatusCode::CONFLICT | StatusCode::NOT_FOUND => Ok(()),
            other => Err(Unavailable::new("catalog", format!("release answered {other}"))),
        }
    }
}
