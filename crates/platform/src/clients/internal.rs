//! The one HTTP client for calls between our services: time-outs, the service token, the
//! caller's trace context (`traceparent`) and request id (`x-request-id`) on every request,
//! and a latency histogram by operation and outcome. The typed clients (catalog, cart) sit on
//! it and only map statuses and bodies.

use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ExposeSecret, SecretString};
use crate::http::request_id;
use crate::telemetry;

/// Default time-out of one call (connecting included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A call that got no usable HTTP answer: refused, timed out, or the body was cut.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} unavailable: {detail}")]
pub struct Unreachable {
    /// The service called (`catalog`, `cart`).
    pub service: &'static str,
    /// What went wrong, in words (never a URL with credentials or a token).
    pub detail: String,
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as `T`, or the reason it is not one.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("unreadable {} body: {e}", self.status))
    }

    /// The body, trimmed to 300 characters (for error messages).
    pub fn excerpt(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
}

/// The client: cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct InternalClient {
    http: reqwest::Client,
    service: &'static str,
    base: String,
    token: SecretString,
    latency: Option<prometheus::HistogramVec>,
}

impl std::fmt::Debug for InternalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalClient")
            .field("service", &self.service)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl InternalClient {
    /// A client for `service` at `base_url` (e.g. `http://catalog:8081`), sending `token` as
    /// the service token; each call gives up after `timeout`.
    pub fn new(
        service: &'static str,
        base_url: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        let base = base_url.trim_end_matches('/').to_owned();
        Ok(Self { http, service, base, token, latency: None })
    }

    /// Records each call's duration in `histogram` (labels: `operation`, `outcome`).
    #[must_use]
    pub fn with_latency(mut self, histogram: prometheus::HistogramVec) -> Self {
        self.latency = Some(histogram);
        self
    }

    /// A latency histogram for calls to `service`, registered on `registry` as `name`.
    pub fn latency_histogram(
        registry: &prometheus::Registry,
        name: &str,
        service: &str,
    ) -> prometheus::Result<prometheus::HistogramVec> {
        let help = format!("Duration of calls to {service}'s internal API, in seconds");
        let histogram = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(name, help)
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["operation", "outcome"],
        )?;
        registry.register(Box::new(histogram.clone()))?;
        Ok(histogram)
    }

    /// The service this client calls.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// A request to `path` with the token, the trace context and the request id set.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(self.token.expose_secret());
        for (name, value) in telemetry::current_trace_headers() {
            req = req.header(name, value);
        }
        if let Some(id) = request_id::current() {
            req = req.header("x-request-id", id);
        }
        req
    }

    /// `POST path` with `body` as JSON (none when `None`), read whole.
    pub async fn post<B: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &str,
        body: Option<&B>,
    ) -> Result<Answer, Unreachable> {
        let mut req = self.request(Method::POST, path);
        if let Some(body) = body {
            req = req.json(body);
        }
        self.call(operation, req).await
    }

    /// Sends `req` (made by [`InternalClient::request`]) and reads the whole answer; records
    /// its latency as `ok` (2xx), `refused` (4xx) or `unavailable` (5xx or no answer).
    pub async fn call(&self, operation: &'static str, req: RequestBuilder) -> Result<Answer, Unreachable> {
        let started = Instant::now();
        let result = self.send(req).await;
        if let Some(h) = &self.latency {
            let outcome = match &result {
                Ok(a) if a.status.is_success() => "ok",
                Ok(a) if a.status.is_client_error() => "refused",
                _ => "unavailable",
            };
            h.with_label_values(&[operation, outcome]).observe(started.elapsed().as_secs_f64());
        }
        result
    }

    async fn send(&self, req: RequestBuilder) -> Result<Answer, Unreachable> {
        let res = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| self.unreachable(&e))?.to_vec();
        Ok(Answer { status, body })
    }

    fn unreachable(&self, e: &reqwest::Error) -> Unreachable {
        let detail = if e.is_timeout() {
            "no answer in time".to_owned()
        } else if e.is_connect() {
            "connection refused or failed".to_owned()
        } else {
            e.to_string()
        };
        Unreachable { service: self.service, detail }
    }

    /// `GET /health`: whether the service answers at all (for `/ready`).
    pub async fn ping(&self) -> Result<(), String> {
        let answer = self.call("health", self.request(Method::GET, "/health")).await.map_err(|e| e.detail)?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(format!("{} /health answered {}", self.service, answer.status))
        }
    }
}

/// `value` percent-encoded for a query string (RFC 3986 unreserved characters stay).
pub fn query_value(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::query_value("checkout:ab12"), "checkout%3Aab12");
        assert_eq!(super::query_value("a b&c=é"), "a%20b%26c%3D%C3%A9");
    }
}
