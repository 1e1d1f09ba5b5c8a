//! The platform's HTTP kit as the catalog serves it: request ids, JSON errors, health and metrics.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = common::spawn().await;
    let res = app.server.client.get(app.server.url("/api/v1/products")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(generated.len() >= 32, "{generated}");
    let res = app
        .server
        .client
        .get(app.server.url("/api/v1/products?per_page=0"))
        .header("x-request-id", "edge-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["x-request-id"], "edge-abc-123");
    let res = app
        .server
        .client
        .get(app.server.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_json_404s() {
    let app = common::spawn().await;
    let (status, body) = app.get("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let app = common::spawn().await;
    let (status, body) = app.get("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let _ = app.get("/api/v1/products").await;
    let _ = app.get("/api/v1/products?page=0").await;
    let text = app.server.client.get(app.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains(
            r#"catalog_http_requests_total{endpoint="/api/v1/products",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"status="422"} 1"#), "{text}");
    assert!(text.contains("catalog_http_requests_duration_seconds_bucket"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pools_waits_are_exported() {
    let app = common::spawn().await;
    // Uncached listings take pooled connections.
    for page in 1..=3 {
        let _ = app.get(&format!("/api/v1/products?page={page}&sort_by=name")).await;
    }
    let url = app.server.url("/metrics");
    let client = app.server.client.clone();
    // The pool gauges refresh every few seconds.
    let text = testkit::wait_until(std::time::Duration::from_secs(20), "pool statistics in /metrics", || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let text = client.get(url).send().await.ok()?.text().await.ok()?;
            let direct = text
                .lines()
                .find(|l| l.starts_with(r#"db_pool_gets_total{outcome="direct"}"#))?
                .rsplit(' ')
                .next()?
                .parse::<f64>()
                .ok()?;
            (direct > 0.0).then_some(text)
        }
    })
    .await;
    for name in ["db_pool_max_connections", "db_pool_get_wait_seconds_total", "db_pool_pending_gets"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing:\n{text}");
    }
    assert!(text.contains(r#"db_pool_gets_total{outcome="timed_out"} 0"#), "{text}");
}
