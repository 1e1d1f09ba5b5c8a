//! A typed client for catalog's internal API (`/internal/v1`): reservations and the batch
//! price-and-availability look-up, on [`InternalClient`]. Cart and order call it; every call has a time-out, and a
//! catalog that does not answer in time, cannot be reached or answers 5xx is
//! [`CatalogError::Unavailable`] (callers answer 503 and leave nothing half-done).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use domain::inventory::{
    ExtendManyRequest, ExtendManyResponse, InsufficientStock, LookupRequest, LookupResponse, Reservation,
    ReserveRequest, ResizeRequest,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::internal::{Answer, InternalClient, Unreachable};
use crate::config::SecretString;
use crate::http::ReadyCheck;

pub use super::internal::DEFAULT_TIMEOUT;

/// What a catalog call can end in, besides success.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Not reachable, too slow, or a 5xx: the caller should answer 503.
    #[error("catalog unavailable: {0}")]
    Unavailable(String),
    /// 409 `Insufficient stock`: fewer units than asked are available.
    #[error("insufficient stock ({available} available)")]
    Insufficient {
        /// Units available now.
        available: i64,
    },
    /// 409 on a reservation that is no longer active (released, committed, expired).
    #[error("the reservation is no longer active")]
    NotActive,
    /// 404: unknown product or reservation.
    #[error("not found")]
    NotFound,
    /// Any other answer (a 4xx that means a bug on our side, or a body we cannot read).
    #[error("catalog answered {status}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The body (trimmed).
        message: String,
    },
}

impl CatalogError {
    /// True for [`CatalogError::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CatalogError::Unavailable(_))
    }
}

/// The client: cheap to clone (one shared connection pool).
#[derive(Clone, Debug)]
pub struct CatalogClient {
    inner: InternalClient,
}

impl CatalogClient {
    /// A client for `base_url` (e.g. `http://catalog:8081`) sending `token` as the service
    /// token; each call gives up after `timeout` (connecting included).
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self { inner: InternalClient::new("catalog", base_url, token, timeout)? })
    }

    /// Records each call's duration in `histogram` (labels: `operation`, `outcome`).
    #[must_use]
    pub fn with_latency(self, histogram: prometheus::HistogramVec) -> Self {
        Self { inner: self.inner.with_latency(histogram) }
    }

    /// The histogram [`CatalogClient::with_latency`] expects, registered on `registry`.
    pub fn latency_histogram(
        registry: &prometheus::Registry,
        name: &str,
    ) -> prometheus::Result<prometheus::HistogramVec> {
        InternalClient::latency_histogram(registry, name, "catalog")
    }

    /// `POST /internal/v1/products/lookup`.
    pub async fn lookup(&self, req: &LookupRequest) -> Result<LookupResponse, CatalogError> {
        self.post("lookup", "/internal/v1/products/lookup", Some(req)).await
    }

    /// `POST /internal/v1/reservations`: 201 → the reservation; 409 → `Insufficient`.
    pub async fn reserve(&self, req: &ReserveRequest) -> Result<Reservation, CatalogError> {
        self.post("reserve", "/internal/v1/reservations", Some(req)).await
    }

    /// `POST /internal/v1/reservations/{id}/resize`: set the units held (only the difference
    /// comes from stock).
    pub async fn resize(&self, id: Uuid, req: &ResizeRequest) -> Result<Reservation, CatalogError> {
        self.post("resize", &format!("/internal/v1/reservations/{id}/resize"), Some(req)).await
    }

    /// `POST /internal/v1/reservations/extend`: several at once; the ones not extended
    /// (unknown, closed, lapsed) are missing from the answer.
    pub async fn extend_many(&self, req: &ExtendManyRequest) -> Result<Vec<Reservation>, CatalogError> {
        let r: ExtendManyResponse =
            self.post("extend_many", "/internal/v1/reservations/extend", Some(req)).await?;
        Ok(r.data)
    }

    /// `POST /internal/v1/reservations/{id}/release` (idempotent; an expired one counts as released).
    pub async fn release(&self, id: Uuid) -> Result<Reservation, CatalogError> {
        self.post::<(), _>("release", &format!("/internal/v1/reservations/{id}/release"), None).await
    }

    /// `POST /internal/v1/reservations/release-by-key`: gives back the active reservation a keyed
    /// reserve made, if any (`true` when one was released).
    pub async fn release_by_key(&self, key: &str) -> Result<bool, CatalogError> {
        #[derive(serde::Deserialize)]
        struct Released {
            released: bool,
        }
        let body = domain::inventory::ReleaseByKeyRequest { idempotency_key: key.to_owned() };
        let r: Released =
            self.post("release_by_key", "/internal/v1/reservations/release-by-key", Some(&body)).await?;
        Ok(r.released)
    }

    /// `POST /internal/v1/reservations/{id}/commit`.
    pub async fn commit(&self, id: Uuid) -> Result<Reservation, CatalogError> {
        self.post::<(), _>("commit", &format!("/internal/v1/reservations/{id}/commit"), None).await
    }

    /// `GET /internal/v1/reservations/{id}`.
    pub async fn reservation(&self, id: Uuid) -> Result<Reservation, CatalogError> {
        let req = self.inner.request(Method::GET, &format!("/internal/v1/reservations/{id}"));
        read(self.inner.call("show", req).await)
    }

    /// `GET /health`: whether catalog answers at all (for `/ready`).
    pub async fn ping(&self) -> Result<(), String> {
        self.inner.ping().await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, CatalogError> {
        read(self.inner.post(operation, path, body).await)
    }
}

/// Maps catalog's answer: 2xx → `T`; 409 → `Insufficient` or `NotActive`; 404; 5xx → unavailable.
fn read<T: DeserializeOwned>(answer: Result<Answer, Unreachable>) -> Result<T, CatalogError> {
    let answer = answer.map_err(|e| CatalogError::Unavailable(e.detail))?;
    let status = answer.status;
    if status.is_success() {
        return answer.json().map_err(|message| CatalogError::Rejected { status: status.as_u16(), message });
    }
    Err(match status {
        StatusCode::CONFLICT => match answer.json::<InsufficientStock>() {
            Ok(body) if body.error == "Insufficient stock" => {
                CatalogError::Insufficient { available: body.available }
            }
            _ => CatalogError::NotActive,
        },
        StatusCode::NOT_FOUND => CatalogError::NotFound,
        s if s.is_server_error() => CatalogError::Unavailable(format!("catalog answered {s}")),
        s => CatalogError::Rejected { status: s.as_u16(), message: answer.excerpt() },
    })
}

/// `/ready` check: catalog answers its `/health`.
pub struct CatalogCheck(pub CatalogClient);

impl ReadyCheck for CatalogCheck {
    fn name(&self) -> &'static str {
        "catalog"
    }

    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(self.0.ping())
    }
}
