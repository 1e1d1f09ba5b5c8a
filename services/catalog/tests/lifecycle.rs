//! The real binary: migrate, seed, serve, and a graceful SIGTERM (ready turns 503, then exit 0).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::TestDb;

fn catalog(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog"));
    cmd.env_clear()
        .env("DATABASE_URL", db.url())
        .env("REDIS_URL", testkit::redis_url())
        .env("AMQP_URL", testkit::amqp_url())
        .env("REDIS_KEY_PREFIX", testkit::redis_prefix())
        .env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Killed(Child);

/// A `catalog serve` on a free port, once its `/ready` answers 200.
struct Serving {
    child: Killed,
    base: String,
    client: reqwest::Client,
}

async fn serve(mut cmd: Command) -> Serving {
    let port = free_port();
    let child =
        Killed(cmd.env("HTTP_ADDR", format!("127.0.0.1:{port}")).stderr(Stdio::null()).spawn().unwrap());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    testkit::wait_until(Duration::from_secs(30), "the catalog to be ready", || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let res = client.get(format!("{base}/ready")).send().await.ok()?;
            (res.status() == 200).then_some(())
        }
    })
    .await;
    Serving { child, base, client }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_seed_serve_and_drain_on_sigterm() {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    // The template is already migrated, so `migrate` finds nothing to do; `seed` is idempotent.
    let out = catalog(&db).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "catalog: 0 migration(s) applied");
    for expected in ["seeded 3 demo product(s)", "seeded 0 demo product(s)"] {
        let out = catalog(&db).args(["seed", "--demo"]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains(expected));
    }

    let mut cmd = catalog(&db);
    cmd.env("SHUTDOWN_DRAIN_SECONDS", "3").stdout(Stdio::null());
    let Serving { mut child, base, client } = serve(cmd).await;
    let body: serde_json::Value =
        client.get(format!("{base}/api/v1/products")).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["meta"]["total"], 3);

    let status = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    // During the drain pause the process still answers, but says it is not ready.
    testkit::wait_until(Duration::from_secs(10), "/ready to turn 503", || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let res = client.get(format!("{base}/ready")).send().await.ok()?;
            (res.status() == 503).then_some(())
        }
    })
    .await;
    let exit = testkit::wait_until(Duration::from_secs(30), "the process to exit", || {
        let exited = child.0.try_wait().unwrap();
        async move { exited }
    })
    .await;
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_spans_over_otlp_and_logs_json_with_trace_ids() {
    use std::sync::{Arc, Mutex};

    use actix_web::{HttpResponse, web};

    // A stand-in OpenTelemetry collector: records the paths it receives.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let collector = testkit::spawn_server(move |l| {
        let seen = seen.clone();
        Ok(actix_web::HttpServer::new(move || {
            let seen = seen.clone();
            actix_web::App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(req.path().to_owned());
                    HttpResponse::Ok().finish()
                }
            }))
        })
        .workers(1)
        .listen(l)?
        .run())
    });

    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut cmd = catalog(&db);
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.base_url)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped());
    let Serving { mut child, base, client } = serve(cmd).await;
    let res = client
        .get(format!("{base}/api/v1/products?per_page=0"))
        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .header("x-request-id", "lifecycle-req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    testkit::wait_until(Duration::from_secs(20), "spans at the collector", || {
        let got = received.lock().unwrap().iter().any(|p| p == "/v1/traces");
        async move { got.then_some(()) }
    })
    .await;

    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    let out = child.0.stdout.take().unwrap();
    let logs = tokio::task::spawn_blocking(move || std::io::read_to_string(out).unwrap()).await.unwrap();
    let warn = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "WARN" && v["span"]["x_request_id"] == "lifecycle-req-1")
        .unwrap_or_else(|| panic!("no JSON warning for the request in:\n{logs}"));
    assert_eq!(warn["span"]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    collector.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_reservation_sweeper() {
    use diesel_async::SimpleAsyncConnection;

    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let out = catalog(&db).args(["seed", "--demo"]).output().unwrap();
    assert!(out.status.success());
    // A reservation of 4 shoes that lapsed a minute ago (3 were reserved by the seed already).
    db.conn()
        .await
        .batch_execute(
            "UPDATE products SET reserved_quantity = reserved_quantity + 4 WHERE sku = 'SNKR-RUN-10';
             INSERT INTO reservations (id, product_id, quantity, cart_id, expires_at)
             SELECT gen_random_uuid(), id, 4, gen_random_uuid(), now() - interval '1 minute'
             FROM products WHERE sku = 'SNKR-RUN-10'",
        )
        .await
        .unwrap();
    let mut cmd = catalog(&db);
    cmd.stdout(Stdio::null());
    let Serving { child: _child, base, client } = serve(cmd).await;
    // The sweeper's first pass runs at start-up; the shoes are back to the seed's 39 available.
    testkit::wait_until(Duration::from_secs(20), "the sweeper to release the lapsed reservation", || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let body: serde_json::Value = client
                .get(format!("{base}/api/v1/products?search=running"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (body["data"][0]["availability"]["quantity"] == 39).then_some(())
        }
    })
    .await;
}
