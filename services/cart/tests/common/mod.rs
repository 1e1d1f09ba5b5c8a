//! Shared set-up for the cart's tests: a REAL catalog app (its own database, seeded with the
//! demo products) behind a TCP proxy the test can cut, and the cart app on a random port with
//! its own database, Redis prefix and broker names, its consumer attached.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod harness;

use std::time::Duration;

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::events::Envelope;
use serde_json::Value;

#[allow(unused_imports)]
pub use harness::{Options, World};

pub const WAIT: Duration = Duration::from_secs(30);
/// Product ids of the seed: 1 TSHIRT-BLK-M ($29.99), 2 JEANS-DNM-32 ($79.99), 3 SNKR-RUN-10 ($129.99).
pub const TSHIRT: i64 = 1;
pub const JEANS: i64 = 2;
pub const SHOES: i64 = 3;

/// Who calls.
#[derive(Debug, Clone)]
pub enum Who {
    Nobody,
    Guest(String),
    Customer(String),
    /// A signed-in customer still sending a guest token (the merge trigger).
    Both(String, String),
}

/// A bearer token for `sub`.
pub fn jwt(sub: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 600;
    let claims = serde_json::json!({"sub": sub, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(testkit::JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

impl World {
    fn with_who(mut req: reqwest::RequestBuilder, who: &Who) -> reqwest::RequestBuilder {
        match who {
            Who::Nobody => {}
            Who::Guest(t) => req = req.header("x-cart-token", t),
            Who::Customer(s) => req = req.bearer_auth(jwt(s)),
            Who::Both(s, t) => req = req.bearer_auth(jwt(s)).header("x-cart-token", t),
        }
        req
    }

    /// A cart request; `body` is sent as JSON.
    pub async fn call(&self, method: &str, path: &str, who: &Who, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("{}{path}", self.cart_url));
        req = Self::with_who(req, who);
        if let Some(body) = body {
            req = req.json(&body);
        }
        testkit::http::send(req).await
    }

    /// A raw request (for 400/413/415 paths).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        who: &Who,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), format!("{}{path}", self.cart_url));
        req = Self::with_who(req, who);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        testkit::http::send(req.body(body)).await
    }

    /// A new guest cart: (id, token).
    pub async fn guest_cart(&self) -> (String, String) {
        let res = self.client.post(format!("{}/api/v1/carts", self.cart_url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let header = res.headers().get("x-cart-token").unwrap().to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token"], header.as_str());
        (body["id"].as_str().unwrap().to_owned(), header)
    }

    /// The customer's cart (made on first call).
    pub async fn customer_cart(&self, sub: &str) -> String {
        let (status, body) = self.call("POST", "/api/v1/carts", &Who::Customer(sub.to_owned()), None).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Adds `quantity` of `product` to the cart.
    pub async fn add(&self, cart: &str, who: &Who, product: i64, quantity: i64) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/v1/carts/{cart}/items"),
            who,
            Some(serde_json::json!({"product_id": product, "quantity": quantity})),
        )
        .await
    }

    /// An internal call with the service token.
    pub async fn internal(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.cart_url))
            .bearer_auth(testkit::INTERNAL_TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        testkit::http::send(req).await
    }

    /// `(stock_quantity, reserved_quantity)` of a catalog product.
    pub async fn counters(&self, id: i64) -> (i32, i32) {
        testkit::stock::counters(&self.catalog_db, id).await
    }

    /// SQL on catalog's database.
    pub async fn catalog_sql(&self, sql: &str) {
        self.catalog_db.conn().await.batch_execute(sql).await.unwrap();
    }

    /// One number from catalog's database (`SELECT ... AS n`).
    pub async fn catalog_count(&self, sql: &str) -> i64 {
        count(&mut self.catalog_db.conn().await, sql).await
    }

    /// SQL on cart's database.
    pub async fn cart_sql(&self, sql: &str) {
        self.cart_db.conn().await.batch_execute(sql).await.unwrap();
    }

    /// One number from cart's database (`SELECT ... AS n`).
    pub async fn cart_count(&self, sql: &str) -> i64 {
        count(&mut self.cart_db.conn().await, sql).await
    }

    /// Deletes every Redis key of this test's prefix (never FLUSHALL: other tests share Redis).
    pub async fn flush_redis(&self) {
        let client = redis::Client::open(testkit::redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}*", self.redis_prefix)).query_async(&mut conn).await.unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL").arg(keys).query_async(&mut conn).await.unwrap();
        }
    }

    /// Publishes an event to the test's exchange (as order's relay would).
    pub async fn publish(&self, envelope: &Envelope) {
        testkit::events::publish(&self.broker, envelope).await;
    }

    /// As if `INVENTORY_RESERVATION_TTL` had passed: catalog's reservations expire (sweeper) and
    /// the cart's lines see their expiry behind them.
    pub async fn lapse(&self, cart_id: &str) {
        self.expire_reservations().await;
        let id: domain::ids::CartId = cart_id.parse().unwrap();
        let mut cart =
            cart::carts::store::CartStore::load(&self.state.store, id).await.unwrap().expect("cart");
        for line in &mut cart.lines {
            if line.reserved_until.is_some() {
                line.reserved_until = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
            }
        }
        self.state.store.save(&mut cart, &[]).await.unwrap();
    }

    /// Expires catalog's reservations now and runs its sweeper (as if their TTL had passed).
    pub async fn expire_reservations(&self) {
        self.catalog_sql(
            "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE status = 'active'",
        )
        .await;
        catalog::inventory::sweeper::Sweeper::new(self.catalog_db.pool().await, Duration::from_secs(1))
            .sweep()
            .await
            .unwrap();
    }
}

async fn count(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).await.unwrap().n
}
