//! Shared set-up for the catalog's HTTP tests: a fresh database with the demo products and the app on a random port.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use catalog::state::AppState;
use domain::money::Currency;
use platform::auth::Auth;
use platform::config::Secret;
use platform::http::{HttpKit, Readiness};
use platform::redis::Redis;
use testkit::{TestDb, TestServer};

/// JWT secret the test app verifies with.
pub const JWT_SECRET: &str = "test-jwt-secret";
/// Internal token the test app accepts.
pub const INTERNAL_TOKEN: &str = "test-internal-token";

pub struct App {
    pub db: TestDb,
    pub server: TestServer,
    pub state: AppState,
}

pub async fn spawn() -> App {
    spawn_with(true).await
}

pub async fn spawn_with(seed: bool) -> App {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    if seed {
        let mut conn = db.conn().await;
        catalog::seed::seed_demo(&mut conn).await.expect("seed demo");
    }
    let pool = db.pool().await;
    let state = AppState {
        pool: pool.clone(),
        read_pool: pool,
        redis: Redis::new(&testkit::redis_url(), testkit::redis_prefix()).expect("redis"),
        currency: Currency::Usd,
        reservation_ttl_minutes: 15,
    };
    let readiness = Readiness::new(vec![], Duration::from_secs(1));
    let metrics =
        platform::http::metrics::middleware("catalog", prometheus::Registry::new()).expect("metrics");
    let auth = Auth::with_secret(&Secret::new(JWT_SECRET), Secret::new(INTERNAL_TOKEN));
    let kit = HttpKit { workers: 1, ..HttpKit::new(metrics, readiness) };
    let st = state.clone();
    let server = testkit::spawn_server(move |l| catalog::app::http_server(l, kit, st, auth));
    App { db, server, state }
}

impl App {
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.server.client.get(self.server.url(path)).send().await.expect("request");
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    pub async fn exec(&self, sql: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.db.conn().await;
        conn.batch_execute(sql).await.expect("sql");
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
        let res = self
            .server
            .client
            .post(self.server.url(path))
            .bearer_auth(INTERNAL_TOKEN)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET with the internal service token.
    pub async fn internal_get(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .server
            .client
            .get(self.server.url(path))
            .bearer_auth(INTERNAL_TOKEN)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `(stock_quantity, reserved_quantity)` of product `id`.
    pub async fn counters(&self, id: i64) -> (i32, i32) {
        #[derive(diesel::QueryableByName)]
        struct C {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            stock_quantity: i32,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            reserved_quantity: i32,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.conn().await;
        let c: C = diesel::sql_query("SELECT stock_quantity, reserved_quantity FROM products WHERE id = $1")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .get_result(&mut conn)
            .await
            .expect("counters");
        (c.stock_quantity, c.reserved_quantity)
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
