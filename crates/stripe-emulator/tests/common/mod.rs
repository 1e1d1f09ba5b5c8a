//! Shared test helpers: an emulator on a random port, a form-encoding HTTP client for it,
//! and a webhook receiver that can fail its first N requests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::header::HeaderMap;
use serde_json::Value;
use stripe_emulator::{EmulatorConfig, RetryPolicy, RunningEmulator};
use testkit::{TestServer, spawn_server};

/// The test-mode key every test uses.
pub const KEY: &str = "sk_test_emulator_tests";
/// Deadline for anything asynchronous (webhook deliveries).
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Retries fast enough for tests.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        max_attempts,
        timeout: Duration::from_secs(5),
        concurrency: 1,
    }
}

/// A running emulator and an HTTP client that speaks Stripe's form encoding to it.
pub struct Stripe {
    pub em: RunningEmulator,
    pub http: reqwest::Client,
}

/// An answer: status, JSON body, headers.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    /// `body[pointer]` as a string ("" if absent).
    pub fn s(&self, pointer: &str) -> &str {
        self.body.pointer(pointer).and_then(Value::as_str).unwrap_or("")
    }
    /// `body[pointer]` as an integer.
    pub fn i(&self, pointer: &str) -> i64 {
        self.body.pointer(pointer).and_then(Value::as_i64).unwrap_or(i64::MIN)
    }
}

impl Stripe {
    /// An emulator with fast retries and no endpoint.
    pub async fn start() -> Self {
        Self::start_with(EmulatorConfig { retry: fast_retry(5), ..EmulatorConfig::default() }).await
    }

    /// An emulator delivering to `url` (signed with `secret`), up to `attempts` tries.
    pub async fn with_endpoint(url: String, secret: &str, attempts: u32) -> Self {
        Self::start_with(EmulatorConfig {
            webhook_endpoints: vec![(url, secret.to_owned())],
            retry: fast_retry(attempts),
        })
        .await
    }

    pub async fn start_with(config: EmulatorConfig) -> Self {
        let em = RunningEmulator::start(config).await.expect("start emulator");
        let http = reqwest::Client::builder().no_proxy().timeout(DEADLINE).build().unwrap();
        Self { em, http }
    }

    /// POST form `params` with an optional idempotency key.
    pub async fn post_idem(&self, path: &str, params: &[(&str, &str)], key: Option<&str>) -> Answer {
        let mut req = self
            .http
            .post(self.em.url(path))
            .bearer_auth(KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(params).unwrap());
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        answer(req.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, params: &[(&str, &str)]) -> Answer {
        self.post_idem(path, params, None).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        answer(self.http.get(self.em.url(path)).bearer_auth(KEY).send().await.unwrap()).await
    }

    /// POST JSON to the control API.
    pub async fn control(&self, path: &str, body: &Value) -> Answer {
        answer(self.http.post(self.em.url(path)).json(body).send().await.unwrap()).await
    }

    /// Creates a PaymentIntent of 2000 usd with `extra` params and returns its id.
    pub async fn create_pi(&self, extra: &[(&str, &str)]) -> Answer {
        let mut params = vec![("amount", "2000"), ("currency", "usd"), ("metadata[order_id]", "42")];
        params.extend_from_slice(extra);
        self.post("/v1/payment_intents", &params).await
    }

    /// Event types so far, oldest first.
    pub fn event_types(&self) -> Vec<String> {
        self.em.events().into_iter().map(|e| e.type_).collect()
    }
}

/// Status, headers and JSON body (`Null` when not JSON) of `r`.
pub async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    Answer { status, body, headers }
}

/// One request a webhook receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub signature: String,
    pub body: Vec<u8>,
    pub event: Value,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn id(&self) -> &str {
        self.event["id"].as_str().unwrap_or("")
    }
    pub fn type_(&self) -> &str {
        self.event["type"].as_str().unwrap_or("")
    }
}

struct ReceiverState {
    received: Mutex<Vec<Received>>,
    fail_remaining: AtomicUsize,
}

/// A webhook endpoint in the test: records every request; answers 500 to the first
/// `fail_first` requests and 200 afterwards.
pub struct Receiver {
    pub server: TestServer,
    state: Arc<ReceiverState>,
}

impl Receiver {
    pub fn start(fail_first: usize) -> Self {
        let state = Arc::new(ReceiverState {
            received: Mutex::new(Vec::new()),
            fail_remaining: AtomicUsize::new(fail_first),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = spawn_server(move |listener| {
            Ok(HttpServer::new(move || {
                App::new().app_data(data.clone()).route("/hook", web::post().to(hook))
            })
            .workers(1)
            .listen(listener)?
            .run())
        });
        Self { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url("/hook")
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests answered 2xx have arrived and returns all requests.
    pub async fn wait_for_ok(&self, n: usize) -> Vec<Received> {
        testkit::wait_until(DEADLINE, &format!("{n} accepted webhook deliveries"), || async {
            let all = self.received();
            (all.iter().filter(|r| r.answered == 200).count() >= n).then_some(all)
        })
        .await
    }
}

async fn hook(req: HttpRequest, body: web::Bytes, state: web::Data<ReceiverState>) -> HttpResponse {
    let fail =
        state.fail_remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let answered = if fail { 500 } else { 200 };
    let signature =
        req.headers().get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let event = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(Received { signature, body: body.to_vec(), event, answered });
    if fail { HttpResponse::InternalServerError().finish() } else { HttpResponse::Ok().finish() }
}
