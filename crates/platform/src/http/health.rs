//! `/health` (liveness: the process answers) and `/ready` ("send me traffic": the dependencies a
//! request cannot be served without answer; 503 while draining). A dependency the service can
//! do without for a while (the broker, while the outbox holds events; a cache) is [`Reported`]:
//! shown in the `/ready` body (`"status": "degraded"`) and in `dependency_up`, but it never takes
//! the replica out of its Service — one broker restart must not become a full outage.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use prometheus::{IntGaugeVec, Opts};
use serde_json::json;

/// A dependency `/ready` checks.
pub trait ReadyCheck: Send + Sync {
    /// Name shown in the `/ready` body (`postgres`, `redis`, `rabbitmq`).
    fn name(&self) -> &'static str;
    /// Succeeds when the dependency answers.
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
    /// Whether a failure makes the replica unready (true unless wrapped in [`Reported`]).
    fn gates(&self) -> bool {
        true
    }
}

/// A dependency that is checked and reported but does not gate readiness.
pub struct Reported<C>(pub C);

impl<C: ReadyCheck> ReadyCheck for Reported<C> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        self.0.check()
    }
    fn gates(&self) -> bool {
        false
    }
}

/// Shared readiness state.
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<Vec<Box<dyn ReadyCheck>>>,
    draining: Arc<AtomicBool>,
    timeout: Duration,
    up: Option<IntGaugeVec>,
}

impl Readiness {
    /// Checks run concurrently, each bounded by `timeout`.
    pub fn new(checks: Vec<Box<dyn ReadyCheck>>, timeout: Duration) -> Self {
        Self { checks: Arc::new(checks), draining: Arc::new(AtomicBool::new(false)), timeout, up: None }
    }
    /// Also sets `dependency_up{dependency, gates}` (1 or 0) on every evaluation.
    pub fn with_registry(mut self, registry: &prometheus::Registry) -> prometheus::Result<Self> {
        let gauge = IntGaugeVec::new(
            Opts::new(
                "dependency_up",
                "Whether a dependency answered the last readiness check (gates: it decides /ready).",
            ),
            &["dependency", "gates"],
        )?;
        registry.register(Box::new(gauge.clone()))?;
        self.up = Some(gauge);
        Ok(self)
    }
    /// From now on `/ready` answers 503 (SIGTERM received).
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
    /// True once draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
    /// Runs every check; returns (every gating check ok, every check ok, per-check status).
    pub async fn evaluate(&self) -> (bool, bool, serde_json::Map<String, serde_json::Value>) {
        let results = futures_util::future::join_all(self.checks.iter().map(|c| async move {
            let outcome = tokio::time::timeout(self.timeout, c.check()).await;
            let status = match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(format!("no answer within {:?}", self.timeout)),
            };
            (c.name(), c.gates(), status)
        }))
        .await;
        let (mut gating_ok, mut all_ok) = (true, true);
        let mut map = serde_json::Map::new();
        for (name, gates, status) in results {
            if let Some(up) = &self.up {
                up.with_label_values(&[name, if gates { "true" } else { "false" }])
                    .set(i64::from(status.is_ok()));
            }
            match status {
                Ok(()) => map.insert(name.to_owned(), json!("ok")),
                Err(e) => {
                    all_ok = false;
                    gating_ok &= !gates;
                    tracing::warn!(dependency = name, gates, error = %e, "readiness check failed");
                    map.insert(name.to_owned(), json!("unavailable"))
                }
            };
        }
        (gating_ok, all_ok, map)
    }
}

/// `GET /health`.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /ready`.
pub async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    if readiness.is_draining() {
        return HttpResponse::ServiceUnavailable().json(json!({"status": "draining"}));
    }
    let (ok, all, checks) = readiness.evaluate().await;
    let status = match (ok, all) {
        (true, true) => "ready",
        (true, false) => "degraded",
        _ => "not_ready",
    };
    let body = json!({"status": status, "checks": checks});
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// PostgreSQL: check out a connection and run `SELECT 1`.
pub struct PostgresCheck(pub crate::db::PgPool);

impl ReadyCheck for PostgresCheck {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let mut conn = self.0.get().await.map_err(|e| e.to_string())?;
            crate::sql::ping(&mut conn).await.map_err(|e| e.to_string())
        })
    }
}

/// Redis: PING.
pub struct RedisCheck(pub crate::redis::Redis);

impl ReadyCheck for RedisCheck {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(self.0.ping())
    }
}

/// RabbitMQ: the broker connection answers (connecting if needed).
pub struct RabbitMqCheck(pub std::sync::Arc<crate::events::Broker>);

impl ReadyCheck for RabbitMqCheck {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move { self.0.ping(Duration::from_secs(2)).await.map_err(|e| e.to_string()) })
    }
}
