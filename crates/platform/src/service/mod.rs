//! The service runner: one function takes a service's description (routes, consumers,
//! background tasks, readiness checks) and does what every service needs around it —
//! pools, broker, relay, consumers, the HTTP server with the standard middleware,
//! `/health` `/ready` `/metrics`, and the shutdown order.
//!
//! Shutdown order (tested once, in platform's tests): stop accepting and drain in-flight
//! requests → stop consumers and background tasks → flush the relay (what they wrote is
//! published) → close the broker → flush traces (the telemetry guard, in [`serve`]).

mod config;
mod spec;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diesel_migrations::EmbeddedMigrations;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use self::config::{BaseConfig, Config, DEV_INTERNAL_TOKEN, DEV_JWT_SECRET, JwtKey, ServiceVars};
pub use self::spec::ServiceSpec;
use crate::auth::Auth;
use crate::db::{self, PgPool, PoolOptions};
use crate::events::{Broker, Relay};
use crate::http::{HttpKit, Readiness};
use crate::redis::Redis;
use crate::shutdown::{self, ShutdownTrigger};

/// What the runner needs to know about a service before reading its configuration.
pub struct ServiceInfo {
    /// Name in logs, metrics, event envelopes and the default Redis prefix.
    pub name: &'static str,
    /// Its PostgreSQL schema.
    pub schema: &'static str,
    /// `HTTP_ADDR` when unset (ARCHITECTURE §6).
    pub default_http_addr: &'static str,
    /// Its migrations (`diesel_migrations::embed_migrations!`).
    pub migrations: EmbeddedMigrations,
    /// Whether it uses Redis (else `REDIS_URL` is not required in production).
    pub uses_redis: bool,
    /// Whether it verifies JWTs or the internal token (else they are not required in production).
    pub uses_auth: bool,
    /// Whether its pool plans prepared statements once ([`PoolOptions::generic_plans`]).
    pub generic_plans: bool,
}

impl ServiceInfo {
    /// A service that uses Redis and verifies tokens.
    pub const fn new(
        name: &'static str,
        schema: &'static str,
        default_http_addr: &'static str,
        migrations: EmbeddedMigrations,
    ) -> Self {
        Self {
            name,
            schema,
            default_http_addr,
            migrations,
            uses_redis: true,
            uses_auth: true,
            generic_plans: false,
        }
    }

    /// A service without Redis.
    #[must_use]
    pub const fn without_redis(mut self) -> Self {
        self.uses_redis = false;
        self
    }

    /// A service that verifies no JWT or internal token.
    #[must_use]
    pub const fn without_auth(mut self) -> Self {
        self.uses_auth = false;
        self
    }

    /// A service whose statements all plan well without their values (no statement whose plan
    /// depends on a bound value's frequency): its pool uses generic plans.
    #[must_use]
    pub const fn with_generic_plans(mut self) -> Self {
        self.generic_plans = true;
        self
    }
}

/// What the runner made from the configuration, handed to the service to describe itself.
pub struct Resources {
    /// The shared configuration.
    pub base: BaseConfig,
    /// PostgreSQL, in the service's schema.
    pub pool: PgPool,
    /// Redis under `REDIS_KEY_PREFIX` (lazy: nothing connects until used).
    pub redis: Redis,
    /// RabbitMQ (lazy, reconnecting).
    pub broker: Arc<Broker>,
    /// Served on `/metrics`: register the service's own metrics here.
    pub registry: prometheus::Registry,
    /// JWT and internal-token verification (also in app data as `web::Data<Auth>`).
    pub auth: Auth,
    /// Wakes the relay: call `notify_one()` after committing outbox rows written without NOTIFY.
    pub relay_wake: Arc<Notify>,
}

impl Resources {
    fn new(info: &ServiceInfo, base: BaseConfig) -> anyhow::Result<Self> {
        let options = PoolOptions {
            max_size: base.db_pool_size,
            statement_timeout: base.db_statement_timeout,
            generic_plans: info.generic_plans,
            ..PoolOptions::default()
        };
        let pool = db::pool(base.connections.database_url.expose(), info.schema, options)?;
        let redis = Redis::new(base.connections.redis_url.expose(), base.redis_key_prefix.clone())
            .context("REDIS_URL")?;
        let mut broker = Broker::new(base.connections.amqp_url.expose(), base.amqp_exchange.clone())
            .with_connection_name(info.name);
        if base.amqp_temporary_exchange {
            broker = broker.with_temporary_exchange();
        }
        let auth = match &base.jwt {
            JwtKey::Secret(s) => Auth::with_secret(s, base.internal_token.clone()),
            JwtKey::PublicKeyPem(pem) => {
                use secrecy::ExposeSecret;
                Auth::with_public_key_pem(pem.expose_secret(), base.internal_token.clone())?
            }
            JwtKey::JwksUrl(url) => Auth::with_jwks_url(url, base.internal_token.clone())?,
        }
        .with_issuer(base.jwt_issuer.as_deref())
        .with_audience(base.jwt_audience.as_deref());
        Ok(Self {
            base,
            pool,
            redis,
            broker: Arc::new(broker),
            registry: prometheus::Registry::new(),
            auth,
            relay_wake: Arc::default(),
        })
    }
}

/// A named background future, started with its stop signal.
type TaskFn = Box<dyn FnOnce(shutdown::Shutdown) -> BoxFuture<'static, ()> + Send>;

/// A running service (see [`start`]).
pub struct Running {
    resources: Resources,
    server: actix_web::dev::ServerHandle,
    server_task: JoinHandle<std::io::Result<()>>,
    readiness: Readiness,
    workers_stop: ShutdownTrigger,
    workers: Vec<(&'static str, JoinHandle<()>)>,
    relay_stop: ShutdownTrigger,
    relay: Option<JoinHandle<()>>,
    drain_delay: Duration,
    /// Steps of the shutdown as they happen (for the order test and the log).
    pub steps: Arc<std::sync::Mutex<Vec<&'static str>>>,
}

/// How long consumers and tasks may take to finish what they hold.
const WORKER_GRACE: Duration = Duration::from_secs(10);
/// How long the relay may take to publish what is left.
const RELAY_GRACE: Duration = Duration::from_secs(10);
/// A broker that throttles or ignores us must not hold the exit up.
const BROKER_CLOSE_GRACE: Duration = Duration::from_secs(5);

impl Running {
    /// What the runner made.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// Readiness state (`/ready`).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Shuts down in order: readiness 503, drain delay, stop accepting and finish in-flight
    /// requests, stop consumers and tasks, flush the relay, close the broker.
    pub async fn shutdown(self) {
        self.readiness.set_draining();
        if !self.drain_delay.is_zero() {
            tokio::time::sleep(self.drain_delay).await;
        }
        self.server.stop(true).await;
        let _ = self.server_task.await;
        let step = |name: &'static str| {
            tracing::info!(step = name, "shutdown");
            if let Ok(mut steps) = self.steps.lock() {
                steps.push(name);
            }
        };
        step("http drained");
        self.workers_stop.trigger();
        for (name, task) in self.workers {
            if tokio::time::timeout(WORKER_GRACE, task).await.is_err() {
                tracing::warn!(task = name, "did not stop within the grace period");
            }
        }
        step("workers stopped");
        self.relay_stop.trigger();
        if let Some(relay) = self.relay {
            let _ = tokio::time::timeout(RELAY_GRACE, relay).await;
        }
        step("relay flushed");
        let _ = tokio::time::timeout(BROKER_CLOSE_GRACE, self.resources.broker.close()).await;
        step("broker closed");
    }
}

/// Runs the service on `listener` without telemetry set-up or signal handling (tests, and
/// [`serve`] underneath); stop it with [`Running::shutdown`].
#[allow(clippy::unused_async)] // it spawns onto the current runtime: async says where it must run
pub async fn start(
    info: &ServiceInfo,
    base: BaseConfig,
    listener: TcpListener,
    describe: impl FnOnce(&Resources) -> anyhow::Result<ServiceSpec>,
) -> anyhow::Result<Running> {
    let drain_delay = Duration::from_secs(base.shutdown_drain_seconds);
    let resources = Resources::new(info, base)?;
    let spec = describe(&resources)?;
    let parts = spec.into_parts(&resources, info.uses_redis);

    let readiness =
        Readiness::new(parts.checks, Duration::from_secs(2)).with_registry(&resources.registry)?;
    let metrics = crate::http::metrics::middleware(info.name, resources.registry.clone())
        .map_err(anyhow::Error::msg)?;
    let (workers_stop, workers_signal) = shutdown::channel();
    let (relay_stop, relay_signal) = shutdown::channel();
    crate::http::metrics::spawn_db_gauges(
        &resources.registry,
        resources.pool.clone(),
        resources.base.db_pool_size,
        parts.relay.is_some(),
        relay_signal.clone(),
    )?;
    crate::events::depth::spawn_queue_gauges(
        &resources.registry,
        resources.broker.clone(),
        parts.queues,
        relay_signal.clone(),
    )?;

    let relay = parts.relay.map(|options| {
        let relay = Relay::new(
            resources.pool.clone(),
            resources.base.connections.database_url.expose().to_owned(),
            info.schema.to_owned(),
            resources.broker.clone(),
            options,
        )
        .with_waker(resources.relay_wake.clone());
        tokio::spawn(relay.run(relay_signal))
    });
    let workers = parts
        .tasks
        .into_iter()
        .map(|(name, task)| (name, tokio::spawn(task(workers_signal.clone()))))
        .collect();

    let mut kit = HttpKit::new(metrics, readiness.clone());
    kit.workers = resources.base.http_workers;
    kit.settings = resources.base.http.clone();
    let routes = parts.routes;
    let auth = actix_web::web::Data::new(resources.auth.clone());
    let server = crate::http::build_server(listener, kit, move |cfg| {
        cfg.app_data(auth.clone());
        routes(cfg);
    })?;
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    Ok(Running {
        resources,
        server: handle,
        server_task,
        readiness,
        workers_stop,
        workers,
        relay_stop,
        relay,
        drain_delay,
        steps: Arc::default(),
    })
}

/// `serve`: telemetry, bind `HTTP_ADDR`, run until SIGTERM or SIGINT, then shut down in order
/// and flush traces.
pub async fn serve(
    info: &ServiceInfo,
    base: BaseConfig,
    describe: impl FnOnce(&Resources) -> anyhow::Result<ServiceSpec>,
) -> anyhow::Result<()> {
    let telemetry = crate::telemetry::init(info.name, base.log_format);
    if let Some(limit) = crate::http::listener::raise_open_files_limit() {
        tracing::info!(limit, "open-file limit raised to the hard limit");
    }
    let addr = base.http_addr;
    let listener = crate::http::listener::listen(addr, base.http.listen_backlog)
        .with_context(|| format!("cannot listen on {addr}"))?;
    let database = base.connections.database_url.redacted();
    let running = start(info, base, listener, describe).await?;
    tracing::info!(%addr, %database, service = info.name, "listening");
    crate::http::server::wait_for_signal().await;
    tracing::info!("shutdown signal received: draining");
    running.shutdown().await;
    tracing::info!(service = info.name, "stopped");
    drop(telemetry);
    Ok(())
}

/// Lends a service's embedded migrations (they are not `Copy`) to the migration harness.
struct Migrations(&'static EmbeddedMigrations);

impl diesel::migration::MigrationSource<diesel::pg::Pg> for Migrations {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>>> {
        self.0.migrations()
    }
}

/// `migrate`: applies the service's pending migrations in its schema.
pub async fn migrate(info: &'static ServiceInfo, base: &BaseConfig) -> anyhow::Result<()> {
    let applied =
        db::migrate(base.connections.database_url.expose(), info.schema, Migrations(&info.migrations))
            .await?;
    println!("{}: {applied} migration(s) applied", info.name);
    Ok(())
}
