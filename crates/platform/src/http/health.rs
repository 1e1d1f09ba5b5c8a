//! `/health` (liveness: the process answers) and `/ready` (dependencies answer; 503 while draining).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

/// A dependency `/ready` checks.
pub trait ReadyCheck: Send + Sync {
    /// Name shown in the `/ready` body (`postgres`, `redis`, `rabbitmq`).
    fn name(&self) -> &'static str;
    /// Succeeds when the dependency answers.
    fn check(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Shared readiness state.
#[derive(Clone)]
pub struct Readiness {
    checks: Arc<Vec<Box<dyn ReadyCheck>>>,
    draining: Arc<AtomicBool>,
    timeout: Duration,
}

impl Readiness {
    /// Checks run concurrently, each bounded by `timeout`.
    pub fn new(checks: Vec<Box<dyn ReadyCheck>>, timeout: Duration) -> Self {
        Self { checks: Arc::new(checks), draining: Arc::new(AtomicBool::new(false)), timeout }
    }
    /// From now on `/ready` answers 503 (SIGTERM received).
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
    /// True once draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
    /// Runs every check; returns (all ok, per-check status).
    pub async fn evaluate(&self) -> (bool, serde_json::Map<String, serde_json::Value>) {
        let results = futures_util::future::join_all(self.checks.iter().map(|c| async move {
            let outcome = tokio::time::timeout(self.timeout, c.check()).await;
            let status = match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(format!("no answer within {:?}", self.timeout)),
            };
            (c.name(), status)
        }))
        .await;
        let mut all_ok = true;
        let mut map = serde_json::Map::new();
        for (name, status) in results {
            match status {
                Ok(()) => map.insert(name.to_owned(), json!("ok")),
                Err(e) => {
                    all_ok = false;
                    tracing::warn!(dependency = name, error = %e, "readiness check failed");
                    map.insert(name.to_owned(), json!("unavailable"))
                }
            };
        }
        (all_ok, map)
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
    let (ok, checks) = readiness.evaluate().await;
    let body = json!({"status": if ok { "ready" } else { "not_ready" }, "checks": checks});
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
            use diesel_async::RunQueryDsl;
            let mut conn = self.0.get().await.map_err(|e| e.to_string())?;
            diesel::sql_query("SELECT 1").execute(&mut *conn).await.map(|_| ()).map_err(|e| e.to_string())
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
