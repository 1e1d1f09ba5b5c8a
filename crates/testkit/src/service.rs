//! Runs a service on the platform runner inside a test: its own database, Redis prefix,
//! exchange and queue names, on a random port.

use platform::config::{AppEnv, Connections, DsnUrl, SecretString};
use platform::http::HttpSettings;
use platform::service::{BaseConfig, JwtKey, Resources, Running, ServiceInfo, ServiceSpec};
use platform::telemetry::LogFormat;

use crate::TestDb;

/// JWT secret that services started with [`base_config`] verify with.
pub const JWT_SECRET: &str = "test-jwt-secret";
/// Internal token that services started with [`base_config`] accept.
pub const INTERNAL_TOKEN: &str = "test-internal-token";

/// The shared configuration of a test service: `db`, a unique Redis prefix, a temporary
/// exchange and queue prefix of its own, the test JWT secret and internal token, one worker.
pub fn base_config(info: &ServiceInfo, db: &TestDb) -> BaseConfig {
    let names = crate::broker_names();
    BaseConfig {
        app_env: AppEnv::Test,
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        connections: Connections {
            database_url: DsnUrl::new(db.url()),
            redis_url: DsnUrl::new(crate::redis_url()),
            amqp_url: DsnUrl::new(crate::amqp_url()),
        },
        internal_token: SecretString::from(INTERNAL_TOKEN),
        jwt: JwtKey::Secret(SecretString::from(JWT_SECRET)),
        jwt_issuer: None,
        jwt_audience: None,
        log_format: LogFormat::default(),
        db_pool_size: 8,
        db_statement_timeout: std::time::Duration::from_secs(30),
        http_workers: 1,
        shutdown_drain_seconds: 0,
        amqp_exchange: names.exchange,
        amqp_queue_prefix: names.prefix,
        amqp_temporary_exchange: true,
        amqp_queue_expires: Some(std::time::Duration::from_secs(120)),
        redis_key_prefix: format!("{}{}:", crate::redis_prefix(), info.name),
        currency: domain::money::Currency::Usd,
        http: HttpSettings::default(),
    }
}

/// A service running in the test.
pub struct TestService {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client with no proxy and a 10 s time-out.
    pub client: reqwest::Client,
    /// The runner's handle (resources, shutdown).
    pub running: Running,
}

impl TestService {
    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
    /// What the runner made (pool, redis, broker...).
    pub fn resources(&self) -> &Resources {
        self.running.resources()
    }
    /// The full-queue name of `queue` as this service consumes it.
    pub fn queue(&self, queue: &str) -> String {
        format!("{}{queue}", self.resources().base.amqp_queue_prefix)
    }
    /// Shuts the service down in the runner's order.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// Starts the service described by `describe` with `base` on a random local port.
pub async fn spawn_service(
    info: &ServiceInfo,
    base: BaseConfig,
    describe: impl FnOnce(&Resources) -> anyhow::Result<ServiceSpec>,
) -> TestService {
    let listener =
        platform::http::listener::listen(local_port(), base.http.listen_backlog).expect("bind a random port");
    let addr = listener.local_addr().expect("local addr");
    let running = platform::service::start(info, base, listener, describe).await.expect("start service");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client");
    TestService { base_url: format!("http://{addr}"), client, running }
}

fn local_port() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A bearer token for `sub` with `roles`, valid for ten minutes, signed with [`JWT_SECRET`].
pub fn jwt(sub: &str, roles: &[&str]) -> String {
    let exp = chrono::Utc::now().timestamp() + 600;
    let claims = serde_json::json!({"sub": sub, "roles": roles, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign a test token")
}
