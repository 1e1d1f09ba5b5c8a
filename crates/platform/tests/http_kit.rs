//! The HTTP kit end to end: bad input gets the documented status and shape, auth guards,
//! readiness against the real servers, draining.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use jsonwebtoken::{EncodingKey, Header};
use platform::auth::{Admin, Auth, InternalCaller, Principal};
use platform::config::SecretString;
use platform::events::Broker;
use platform::http::health::{PostgresCheck, RabbitMqCheck, RedisCheck};
use platform::http::{ApiError, HttpKit, Json, Readiness, ReadyCheck, Reported};
use platform::redis::Redis;
use serde::Deserialize;
use serde_json::{Value, json};
use testkit::{TestDb, TestServer, wait_until};

const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("tests/migrations");
const SECRET: &str = "kit-test-secret";
const INTERNAL: &str = "kit-internal-token";

#[derive(Deserialize)]
#[allow(dead_code)]
struct NewItem {
    name: String,
    quantity: u32,
    tags: Vec<String>,
}

async fn create(body: Json<NewItem>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(json!({"name": body.0.name, "quantity": body.0.quantity})))
}

async fn me(p: Principal) -> HttpResponse {
    HttpResponse::Ok().json(json!({"subject": p.subject, "admin": p.is_admin()}))
}

async fn admin(a: Admin) -> HttpResponse {
    HttpResponse::Ok().json(json!({"subject": a.0.subject}))
}

async fn internal(_: InternalCaller) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

fn spawn(checks: Vec<Box<dyn ReadyCheck>>) -> (TestServer, Readiness) {
    let readiness = Readiness::new(checks, Duration::from_secs(2));
    let metrics = platform::http::metrics::middleware("kit_test", prometheus::Registry::new()).unwrap();
    let kit = HttpKit { workers: 1, body_limit: 1024, ..HttpKit::new(metrics, readiness.clone()) };
    let auth = web::Data::new(Auth::with_secret(&SecretString::from(SECRET), SecretString::from(INTERNAL)));
    let server = testkit::spawn_server(move |l| {
        platform::http::build_server(l, kit, move |cfg| {
            cfg.app_data(auth.clone())
                .route("/items", web::post().to(create))
                .route("/me", web::get().to(me))
                .route("/admin", web::get().to(admin))
                .route("/internal", web::get().to(internal));
        })
    });
    (server, readiness)
}

fn token(sub: &str, roles: &[&str], secret: &str, exp_offset: i64) -> String {
    let exp = chrono::Utc::now().timestamp() + exp_offset;
    jsonwebtoken::encode(
        &Header::default(),
        &json!({"sub": sub, "roles": roles, "exp": exp}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn post(server: &TestServer, content_type: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    testkit::http::send(
        server.client.post(server.url("/items")).header("content-type", content_type).body(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_clear_errors() {
    let (server, _) = spawn(vec![]);
    let (status, body) = post(&server, "application/json", r#"{"name":"a","quantity":2,"tags":[]}"#).await;
    assert_eq!((status, body), (201, json!({"name": "a", "quantity": 2})));

    let (status, body) = post(&server, "application/json", r#"{"name":"a","#).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "Bad request");
    assert!(body["message"].as_str().unwrap().starts_with("Malformed JSON"), "{body}");

    let (status, body) =
        post(&server, "application/json", r#"{"name":"a","quantity":"two","tags":[]}"#).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "Validation failed");
    assert!(body["messages"]["quantity"][0].as_str().unwrap().contains("invalid type"), "{body}");

    let (status, body) = post(&server, "application/json", r#"{"name":"a","quantity":1,"tags":[1]}"#).await;
    assert_eq!(status, 422);
    assert!(body["messages"]["tags[0]"].is_array(), "the path names the element: {body}");

    let (status, body) = post(&server, "application/json", r#"{"name":"a","tags":[]}"#).await;
    assert_eq!(status, 422);
    assert!(body["messages"]["body"][0].as_str().unwrap().contains("quantity"), "{body}");

    let (status, body) = post(&server, "text/plain", r#"{"name":"a","quantity":1,"tags":[]}"#).await;
    assert_eq!((status, body["error"].as_str()), (415, Some("Unsupported media type")));

    let big = format!(r#"{{"name":"{}","quantity":1,"tags":[]}}"#, "x".repeat(4096));
    let (status, body) = post(&server, "application/json", big).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("Payload too large")));

    let (status, _) = post(&server, "application/json", r#"{"name":"a","quantity":1,"tags":[]} x"#).await;
    assert_eq!(status, 400, "trailing garbage is malformed JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_and_service_token_guards() {
    let (server, _) = spawn(vec![]);
    let get = |path: &'static str, auth: Option<String>| {
        let mut req = server.client.get(server.url(path));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let customer = token("cust-1", &[], SECRET, 300);
    let root = token("admin-1", &["admin"], SECRET, 300);
    assert_eq!(get("/me", None).await.0, 401);
    assert_eq!(
        get("/me", Some(format!("Bearer {customer}"))).await,
        (200, json!({"subject": "cust-1", "admin": false}))
    );
    assert_eq!(get("/me", Some(format!("Bearer {}", token("x", &[], "wrong-secret", 300)))).await.0, 401);
    assert_eq!(
        get("/me", Some(format!("Bearer {}", token("x", &[], SECRET, -3600)))).await.0,
        401,
        "expired"
    );
    assert_eq!(get("/me", Some("Basic abc".to_owned())).await.0, 401);
    assert_eq!(get("/admin", None).await.0, 401);
    let (status, body) = get("/admin", Some(format!("Bearer {customer}"))).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("Forbidden")));
    assert_eq!(get("/admin", Some(format!("Bearer {root}"))).await.0, 200);
    assert_eq!(get("/internal", None).await.0, 401);
    assert_eq!(get("/internal", Some("Bearer nope".to_owned())).await.0, 403);
    assert_eq!(
        get("/internal", Some(format!("Bearer {root}"))).await.0,
        403,
        "a user JWT is not a service token"
    );
    assert_eq!(get("/internal", Some(format!("Bearer {INTERNAL}"))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_checks_the_real_servers_and_turns_503_when_draining() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    let redis = Redis::new(&testkit::redis_url(), testkit::redis_prefix()).unwrap();
    let names = testkit::broker_names();
    let broker = Arc::new(Broker::new(testkit::amqp_url(), names.exchange).with_temporary_exchange());
    let checks: Vec<Box<dyn ReadyCheck>> = vec![
        Box::new(PostgresCheck(db.pool().await)),
        Box::new(RedisCheck(redis)),
        Box::new(RabbitMqCheck(broker)),
    ];
    let (server, readiness) = spawn(checks);
    let res = server.client.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"], json!({"postgres": "ok", "redis": "ok", "rabbitmq": "ok"}));

    readiness.set_draining();
    let res = server.client.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        server.client.get(server.url("/health")).send().await.unwrap().status(),
        200,
        "liveness stays up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_reports_an_unreachable_dependency() {
    let redis = Redis::new("redis://127.0.0.1:1", "x:").unwrap();
    let (server, _) = spawn(vec![Box::new(RedisCheck(redis))]);
    let res = server.client.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"], "unavailable");
    assert!(!body.to_string().contains("127.0.0.1"), "no internal detail in the answer: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_dependency_that_is_down_leaves_the_replica_ready_and_says_so() {
    // The broker or a cache away: the service still serves (the outbox holds events), so the
    // probe must not take the replica out of its Service.
    let db = TestDb::new("sample", MIGRATIONS).await;
    let redis = Redis::new("redis://127.0.0.1:1", "x:").unwrap();
    let broker = Arc::new(Broker::new("amqp://guest:guest@127.0.0.1:1/%2f", "nowhere"));
    let checks: Vec<Box<dyn ReadyCheck>> = vec![
        Box::new(PostgresCheck(db.pool().await)),
        Box::new(Reported(RedisCheck(redis))),
        Box::new(Reported(RabbitMqCheck(broker))),
    ];
    let registry = prometheus::Registry::new();
    let readiness = Readiness::new(checks, Duration::from_secs(2)).with_registry(&registry).unwrap();
    let (ok, all, map) = readiness.evaluate().await;
    assert!(ok && !all, "{map:?}");
    assert_eq!(
        Value::Object(map),
        json!({"postgres": "ok", "redis": "unavailable", "rabbitmq": "unavailable"})
    );
    let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather()).unwrap();
    assert!(text.contains("dependency_up{dependency=\"rabbitmq\",gates=\"false\"} 0"), "{text}");
    assert!(text.contains("dependency_up{dependency=\"postgres\",gates=\"true\"} 1"), "{text}");
    let (server, _) =
        spawn(vec![Box::new(Reported(RedisCheck(Redis::new("redis://127.0.0.1:1", "x:").unwrap())))]);
    let res = server.client.get(server.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "degraded", "checks": {"redis": "unavailable"}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_pool_uses_the_key_prefix() {
    let prefix = testkit::redis_prefix();
    let redis = Redis::new(&testkit::redis_url(), prefix.clone()).unwrap();
    redis.ping().await.unwrap();
    let key = redis.key("greeting");
    assert_eq!(key, format!("{prefix}greeting"));
    let mut conn = redis.pool.get().await.unwrap();
    let () = redis::cmd("SET").arg(&key).arg("hi").arg("EX").arg(60).query_async(&mut *conn).await.unwrap();
    let v: String = redis::cmd("GET").arg(&key).query_async(&mut *conn).await.unwrap();
    assert_eq!(v, "hi");
}

/// A query on the request's path, for the lost-connection test.
async fn slow_query(pool: web::Data<platform::db::PgPool>) -> Result<HttpResponse, ApiError> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT pg_sleep(30) /* lost-connection-test */").execute(&mut *conn).await?;
    Ok(HttpResponse::Ok().finish())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_mid_request_is_a_503_with_retry_advice_not_a_500() {
    let db = TestDb::new("sample", MIGRATIONS).await;
    let pool = web::Data::new(db.pool().await);
    let readiness = Readiness::new(vec![], Duration::from_secs(2));
    let metrics = platform::http::metrics::middleware("kit_test", prometheus::Registry::new()).unwrap();
    let kit = HttpKit { workers: 1, ..HttpKit::new(metrics, readiness) };
    let server = testkit::spawn_server(move |l| {
        platform::http::build_server(l, kit, move |cfg| {
            cfg.app_data(pool.clone()).route("/slow", web::get().to(slow_query));
        })
    });
    let request = tokio::spawn({
        let (client, url) = (server.client.clone(), server.url("/slow"));
        async move { client.get(url).send().await.unwrap() }
    });
    // PostgreSQL drops the backend under the request (as a crash or restart does).
    let name = db.name().to_owned();
    wait_until(Duration::from_secs(10), "the query's backend to be terminated", || async {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Killed {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            killed: bool,
        }
        let mut conn = db.conn().await;
        let rows: Vec<Killed> = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
             WHERE datname = $1 AND query LIKE '%lost-connection-test%' AND query NOT LIKE '%pg_stat_activity%'",
        )
        .bind::<diesel::sql_types::Text, _>(&name)
        .load(&mut conn)
        .await
        .ok()?;
        rows.iter().any(|r| r.killed).then_some(())
    })
    .await;
    let res = request.await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "Service unavailable");
    assert!(body["message"].as_str().unwrap().contains("retry"), "{body}");
}
