//! Shared set-up for the catalog's HTTP tests: a fresh database with the demo products and the app on a random port.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use catalog::INFO;
use catalog::cache::{CacheTiming, PageCache};
use catalog::state::AppState;
use domain::money::Currency;
use platform::config::DsnUrl;
use platform::events::RelayOptions;
use platform::http::ReadyCheck;
use platform::http::health::{PostgresCheck, RedisCheck};
use platform::service::ServiceSpec;
pub use testkit::{INTERNAL_TOKEN, JWT_SECRET};
use testkit::{TestDb, TestService};

pub struct App {
    pub db: TestDb,
    pub server: TestService,
    pub state: AppState,
}

/// How to build the test app.
pub struct Options {
    /// Load the seed's three products.
    pub seed: bool,
    /// Redis URL (a closed port for outage tests).
    pub redis_url: String,
    /// Redis key prefix (two apps sharing one act as two replicas).
    pub redis_prefix: String,
    /// Cache timing; `None` disables the cache.
    pub cache: Option<CacheTiming>,
    /// A separate database for reads (`DATABASE_READ_URL`).
    pub read_db: Option<TestDb>,
    /// `CATALOG_COUNT_CAP`.
    pub count_cap: i64,
    /// Run the outbox relay with these options (none by default).
    pub relay: Option<RelayOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: true,
            redis_url: testkit::redis_url(),
            redis_prefix: testkit::redis_prefix(),
            cache: Some(CacheTiming::from_ttl(Duration::from_secs(3600))),
            read_db: None,
            count_cap: catalog::listing::total::DEFAULT_CAP,
            relay: None,
        }
    }
}

pub async fn spawn() -> App {
    spawn_with(true).await
}

pub async fn spawn_with(seed: bool) -> App {
    spawn_opts(Options { seed, ..Options::default() }).await.0
}

/// The app, and the read database when one was given. It runs on the platform runner with
/// the catalog's routes (the consumer and sweeper are started by the tests that need them).
pub async fn spawn_opts(opts: Options) -> (App, Option<TestDb>) {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    if opts.seed {
        let mut conn = db.conn().await;
        catalog::seed::seed_demo(&mut conn).await.expect("seed demo");
    }
    let read_pool = match &opts.read_db {
        Some(read) => Some(read.pool().await),
        None => None,
    };
    let mut base = testkit::base_config(&INFO, &db);
    base.connections.redis_url = DsnUrl::new(opts.redis_url.clone());
    base.redis_key_prefix = opts.redis_prefix.clone();
    // The tests play the ingress from 127.0.0.1: its forwarded headers are believed.
    base.http.trusted_proxies = "127.0.0.1/32".parse().expect("cidr");
    let mut made = None;
    let server = testkit::spawn_service(&INFO, base, |res| {
        let enabled = opts.cache.is_some();
        let timing = opts.cache.unwrap_or_else(|| CacheTiming::from_ttl(Duration::ZERO));
        let state = AppState {
            pool: res.pool.clone(),
            read_pool: read_pool.unwrap_or_else(|| res.pool.clone()),
            redis: res.redis.clone(),
            currency: Currency::Usd,
            cache: Arc::new(PageCache::new(res.redis.clone(), timing, enabled)),
            reservation_ttl_minutes: 15,
            count_cap: opts.count_cap,
            relay_wake: res.relay_wake.clone(),
        };
        made = Some(state.clone());
        let checks: Vec<Box<dyn ReadyCheck>> =
            vec![Box::new(PostgresCheck(res.pool.clone())), Box::new(RedisCheck(res.redis.clone()))];
        let spec = ServiceSpec::new(&INFO).routes(catalog::app::routes(state)).readiness_only(checks);
        Ok(match opts.relay {
            Some(options) => spec.relay_options(options),
            None => spec.without_relay(),
        })
    })
    .await;
    let state = made.expect("state");
    (App { db, server, state }, opts.read_db)
}

/// A JWT signed with `secret`, for `sub`, with `roles`, expiring `exp_offset` seconds from now.
pub fn token_with(secret: &str, roles: &[&str], exp_offset: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_offset;
    let claims = serde_json::json!({"sub": "admin-1", "roles": roles, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A valid admin token.
pub fn admin_token() -> String {
    token_with(JWT_SECRET, &["admin"], 600)
}

impl App {
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        testkit::http::send(self.server.client.get(self.server.url(path))).await
    }

    /// An admin request with a JSON body (`None`: no body) and the admin token.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self.server.client.request(method, self.server.url(path)).bearer_auth(admin_token());
        if let Some(body) = body {
            req = req.json(&body);
        }
        testkit::http::send(req).await
    }

    pub async fn exec(&self, sql: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.db.conn().await;
        conn.batch_execute(sql).await.expect("sql");
    }

    /// Outbox rows of `event_type` as (payload `data`).
    pub async fn outbox(&self, event_type: &str) -> Vec<serde_json::Value> {
        use diesel::sql_types::{Jsonb, Text};
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Jsonb)]
            data: serde_json::Value,
        }
        let mut conn = self.db.conn().await;
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT payload -> 'data' AS data FROM outbox WHERE event_type = $1 ORDER BY created_at, id",
        )
        .bind::<Text, _>(event_type)
        .load(&mut conn)
        .await
        .expect("outbox");
        rows.into_iter().map(|r| r.data).collect()
    }
}

pub fn skus(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|p| p["sku"].as_str().expect("sku").to_owned())
        .collect()
}

impl App {
    /// POST `body` as JSON with the internal service token.
    pub async fn internal_post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        testkit::http::send(
            self.server.client.post(self.server.url(path)).bearer_auth(INTERNAL_TOKEN).json(body),
        )
        .await
    }

    /// GET with the internal service token.
    pub async fn internal_get(&self, path: &str) -> (u16, serde_json::Value) {
        testkit::http::send(self.server.client.get(self.server.url(path)).bearer_auth(INTERNAL_TOKEN)).await
    }

    /// `(stock_quantity, reserved_quantity)` of product `id`.
    pub async fn counters(&self, id: i64) -> (i32, i32) {
        testkit::stock::counters(&self.db, id).await
    }

    /// One number from a `SELECT ... AS n` query.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.conn().await;
        diesel::sql_query(sql).get_result::<N>(&mut conn).await.expect("count").n
    }
}
