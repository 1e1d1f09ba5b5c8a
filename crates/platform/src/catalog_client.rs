//! A typed client for catalog's internal API (`/internal/v1`): reservations and the batch
//! price-and-availability look-up. Cart and order call it; every call has a time-out, and a
//! catalog that does not answer in time, cannot be reached or answers 5xx is
//! [`CatalogError::Unavailable`] (callers answer 503 and leave nothing half-done).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use domain::inventory::{
    ExtendRequest, InsufficientStock, LookupRequest, LookupResponse, Reservation, ReserveRequest,
    ResizeRequest,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::config::{ExposeSecret, SecretString};
use crate::http::ReadyCheck;
use crate::telemetry;

/// Default time-out of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

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
#[derive(Clone)]
pub struct CatalogClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
    latency: Option<prometheus::HistogramVec>,
}

impl std::fmt::Debug for CatalogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl CatalogClient {
    /// A client for `base_url` (e.g. `http://catalog:8081`) sending `token` as the service
    /// token; each call gives up after `timeout` (connecting included).
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { http, base: base_url.trim_end_matches('/').to_owned(), token, latency: None })
    }

    /// Records each call's duration in `histogram` (labels: `operation`, `outcome`).
    #[must_use]
    pub fn with_latency(mut self, histogram: prometheus::HistogramVec) -> Self {
        self.latency = Some(histogram);
        self
    }

    /// The histogram [`CatalogClient::with_latency`] expects, registered on `registry`.
    pub fn latency_histogram(
        registry: &prometheus::Registry,
        name: &str,
    ) -> prometheus::Result<prometheus::HistogramVec> {
        let histogram = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(name, "Duration of calls to catalog's internal API, in seconds")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["operation", "outcome"],
        )?;
        registry.register(Box::new(histogram.clone()))?;
        Ok(histogram)
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

    /// `POST /internal/v1/reservations/{id}/extend`.
    pub async fn extend(&self, id: Uuid, req: &ExtendRequest) -> Result<Reservation, CatalogError> {
        self.post("extend", &format!("/internal/v1/reservations/{id}/extend"), Some(req)).await
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
        let started = Instant::now();
        let req = self.http.get(format!("{}/internal/v1/reservations/{id}", self.base));
        let result = self.send(req).await;
        self.observe("show", started, &result);
        result
    }

    /// `GET /health`: whether catalog answers at all (for `/ready`).
    pub async fn ping(&self) -> Result<(), String> {
        let res = self.http.get(format!("{}/health", self.base)).send().await.map_err(|e| describe(&e))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("catalog /health answered {}", res.status()))
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, CatalogError> {
        let started = Instant::now();
        let mut req = self.http.post(format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(body);
        }
        let result = self.send(req).await;
        self.observe(operation, started, &result);
        result
    }

    async fn send<T: DeserializeOwned>(&self, mut req: reqwest::RequestBuilder) -> Result<T, CatalogError> {
        req = req.bearer_auth(self.token.expose_secret());
        for (name, value) in telemetry::current_trace_headers() {
            req = req.header(name, value);
        }
        let res = req.send().await.map_err(|e| CatalogError::Unavailable(describe(&e)))?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| CatalogError::Unavailable(describe(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| CatalogError::Rejected {
                status: status.as_u16(),
                message: format!("unreadable body: {e}"),
            });
        }
        Err(match status {
            StatusCode::CONFLICT => match serde_json::from_slice::<InsufficientStock>(&bytes) {
                Ok(body) if body.error == "Insufficient stock" => {
                    CatalogError::Insufficient { available: body.available }
                }
                _ => CatalogError::NotActive,
            },
            StatusCode::NOT_FOUND => CatalogError::NotFound,
            s if s.is_server_error() => CatalogError::Unavailable(format!("catalog answered {s}")),
            s => CatalogError::Rejected {
                status: s.as_u16(),
                message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            },
        })
    }

    fn observe<T>(&self, operation: &str, started: Instant, result: &Result<T, CatalogError>) {
        if let Some(h) = &self.latency {
            let outcome = match result {
                Ok(_) => "ok",
                Err(CatalogError::Unavailable(_)) => "unavailable",
                Err(_) => "refused",
            };
            h.with_label_values(&[operation, outcome]).observe(started.elapsed().as_secs_f64());
        }
    }
}

/// A reqwest error in words, never with the URL's credentials (there are none, but the
/// message stays short).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".to_owned()
    } else if e.is_connect() {
        "connection refused or failed".to_owned()
    } else {
        e.to_string()
    }
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
