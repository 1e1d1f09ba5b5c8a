//! The listing cache: normalised keys, invalidation on admin writes, herd protection, soft expiry,
//! Redis outages, and per-request links.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::web::Bytes;
use catalog::cache::{CacheTiming, PageCache};
use platform::redis::Redis;
use reqwest::Method;
use serde_json::json;

async fn bump_version(redis: &Redis) {
    let mut conn = redis.pool.get().await.unwrap();
    let _: u64 = redis::cmd("INCR").arg(redis.key("products:version")).query_async(&mut *conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equivalent_queries_share_one_cached_page() {
    let app = common::spawn().await;
    let (_, first) = app.get("/api/v1/products?category=clothing&in_stock=true").await;
    assert_eq!(app.state.cache.rebuilds(), 1);
    for same in [
        "/api/v1/products?in_stock=1&category=clothing",
        "/api/v1/products?category=clothing&in_stock=true&page=1&per_page=24&sort_by=created_at&sort_order=desc",
        "/api/v1/products?category=clothing&in_stock=true&search=",
    ] {
        let (_, body) = app.get(same).await;
        assert_eq!(body["data"], first["data"], "{same}");
        assert_eq!(body["meta"], first["meta"], "{same}");
    }
    assert_eq!(app.state.cache.rebuilds(), 1, "parameter order and explicit defaults make no new key");
    app.get("/api/v1/products?category=clothing").await;
    assert_eq!(app.state.cache.rebuilds(), 2, "a different query is a different page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_write_is_visible_in_the_very_next_read() {
    let app = common::spawn().await;
    let (_, before) = app.get("/api/v1/products").await;
    assert_eq!(before["data"][0]["name"], "Premium Cotton T-Shirt - Black");
    app.get("/api/v1/products/premium-cotton-tshirt-black").await;
    let cached = app.state.cache.rebuilds();
    app.get("/api/v1/products").await;
    assert_eq!(app.state.cache.rebuilds(), cached, "served from the cache");

    let (status, _) =
        app.admin(Method::PATCH, "/api/v1/admin/products/1", Some(json!({"name": "Renamed Tee"}))).await;
    assert_eq!(status, 200);
    let (_, after) = app.get("/api/v1/products").await;
    assert_eq!(after["data"][0]["name"], "Renamed Tee");
    let (_, page) = app.get("/api/v1/products/premium-cotton-tshirt-black").await;
    assert_eq!(page["data"]["name"], "Renamed Tee", "product pages share the tag version");

    let (status, _) =
        app.admin(Method::POST, "/api/v1/admin/products/3/stock", Some(json!({"quantity": 3}))).await;
    assert_eq!(status, 200);
    let (_, after) = app.get("/api/v1/products?in_stock=true").await;
    assert_eq!(common::skus(&after), ["TSHIRT-BLK-M", "JEANS-DNM-32"], "3 in stock, 3 reserved: sold out");

    let (status, _) = app.admin(Method::DELETE, "/api/v1/admin/products/2", None).await;
    assert_eq!(status, 204);
    let (_, after) = app.get("/api/v1/products").await;
    assert_eq!(after["meta"]["total"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_page_invalidated_under_load_is_rebuilt_once() {
    let app = Arc::new(common::spawn().await);
    app.get("/api/v1/products").await;
    for round in 0..3 {
        bump_version(&app.state.redis).await;
        let before = app.state.cache.rebuilds();
        let requests = (0..48).map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.get("/api/v1/products").await })
        });
        for r in futures_util::future::join_all(requests).await {
            let (status, body) = r.unwrap();
            assert_eq!((status, body["meta"]["total"].clone()), (200, json!(3)));
        }
        assert_eq!(
            app.state.cache.rebuilds() - before,
            1,
            "round {round}: 48 concurrent requests, one rebuild"
        );
    }
}

fn cache_on(prefix: &str, timing: CacheTiming) -> Arc<PageCache> {
    Arc::new(PageCache::new(Redis::new(&testkit::redis_url(), prefix).unwrap(), timing, true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_rebuild_a_missing_page_once_between_them() {
    let prefix = testkit::redis_prefix();
    let timing = CacheTiming::from_ttl(Duration::from_secs(60));
    let (a, b) = (cache_on(&prefix, timing), cache_on(&prefix, timing));
    let builds = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicU64::new(0));
    // The build is held open until every caller has started, so the others arrive while it runs.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let cache = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (builds, started, gate) = (builds.clone(), started.clone(), gate.clone());
            tokio::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                cache
                    .get_or_build("products:list:hot", move || async move {
                        let n = builds.fetch_add(1, Ordering::SeqCst) + 1;
                        let _permit = gate.acquire().await;
                        Ok(Bytes::from(format!("page {n}")))
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    testkit::wait_until(Duration::from_secs(10), "every caller started", || {
        let started = started.clone();
        async move { (started.load(Ordering::SeqCst) == 64).then_some(()) }
    })
    .await;
    gate.add_permits(64);
    let pages = futures_util::future::join_all(calls).await;
    assert_eq!(builds.load(Ordering::SeqCst), 1, "one build across both replicas");
    assert_eq!(a.rebuilds() + b.rebuilds(), 1);
    for p in pages {
        assert_eq!(p.unwrap(), Bytes::from("page 1"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_soft_expiry_everyone_gets_the_previous_page_while_one_refreshes() {
    let timing = CacheTiming { fresh: Duration::ZERO, ..CacheTiming::from_ttl(Duration::from_secs(60)) };
    let cache = cache_on(&testkit::redis_prefix(), timing);
    let first = cache.get_or_build("k", || async { Ok(Bytes::from("v1")) }).await.unwrap();
    assert_eq!(first, Bytes::from("v1"));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let calls = (0..32).map(|_| {
        let (cache, release) = (cache.clone(), release.clone());
        tokio::spawn(async move {
            cache
                .get_or_build("k", move || async move {
                    // Held open until every caller has its answer.
                    let _permit = release.acquire().await;
                    Ok(Bytes::from("v2"))
                })
                .await
                .unwrap()
        })
    });
    for page in futures_util::future::join_all(calls).await {
        assert_eq!(page.unwrap(), Bytes::from("v1"), "nobody waits for the refresh");
    }
    release.add_permits(64);
    testkit::wait_until(Duration::from_secs(5), "the refreshed page", || {
        let cache = cache.clone();
        async move {
            let page = cache.get_or_build("k", || async { Ok(Bytes::from("v3")) }).await.ok()?;
            (page == "v2").then_some(())
        }
    })
    .await;
    assert_eq!(cache.rebuilds(), 2, "the first build and exactly one refresh for 32 stale reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_older_than_max_age_are_never_served() {
    let prefix = testkit::redis_prefix();
    let redis = Redis::new(&testkit::redis_url(), prefix.clone()).unwrap();
    // An entry of the current version (0) built long ago, still in Redis (no expiry).
    let mut conn = redis.pool.get().await.unwrap();
    let _: () =
        redis::cmd("SET").arg(redis.key("k")).arg("0:1000\nancient").query_async(&mut *conn).await.unwrap();
    drop(conn);
    let cache = cache_on(&prefix, CacheTiming::from_ttl(Duration::from_secs(3600)));
    let page = cache.get_or_build("k", || async { Ok(Bytes::from("new")) }).await.unwrap();
    assert_eq!(page, Bytes::from("new"));
    assert_eq!(cache.rebuilds(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_unreachable_listings_come_from_postgres_and_ready_says_so() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, _) = common::spawn_opts(common::Options {
        redis_url: format!("redis://127.0.0.1:{closed}"),
        ..common::Options::default()
    })
    .await;
    let (status, body) = app.get("/api/v1/products").await;
    assert_eq!((status, body["meta"]["total"].clone()), (200, json!(3)));
    let (status, _) = app.get("/api/v1/products/classic-denim-jeans").await;
    assert_eq!(status, 200);
    let (status, body) =
        app.admin(Method::PATCH, "/api/v1/admin/products/2", Some(json!({"name": "Still Writable"}))).await;
    assert_eq!(status, 200, "writes do not need Redis: {body}");
    let (_, body) = app.get("/api/v1/products?search=writable").await;
    assert_eq!(common::skus(&body), ["JEANS-DNM-32"]);
    let (status, ready) = app.get("/ready").await;
    assert_eq!(status, 503);
    assert_eq!(ready["checks"], json!({"postgres": "ok", "redis": "unavailable"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_pages_get_each_requests_links() {
    let app = common::spawn().await;
    let get = |query: &'static str, host: &'static str| {
        let app = &app;
        async move {
            let res = app
                .server
                .client
                .get(app.server.url(&format!("/api/v1/products?{query}")))
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Host", host)
                .send()
                .await
                .unwrap();
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let a = get("per_page=1&category=clothing", "a.example").await;
    let b = get("category=clothing&per_page=1", "b.example").await;
    assert_eq!(app.state.cache.rebuilds(), 1, "one page for both");
    assert_eq!(a["links"]["next"], "https://a.example/api/v1/products?per_page=1&category=clothing&page=2");
    assert_eq!(b["links"]["next"], "https://b.example/api/v1/products?category=clothing&per_page=1&page=2");
    assert_eq!(a["data"], b["data"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cache_disabled_every_request_reads_postgres() {
    let (app, _) = common::spawn_opts(common::Options { cache: None, ..common::Options::default() }).await;
    app.get("/api/v1/products").await;
    app.exec("UPDATE products SET name = 'Direct Edit' WHERE id = 1").await;
    let (_, body) = app.get("/api/v1/products").await;
    assert_eq!(body["data"][0]["name"], "Direct Edit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_is_seen_at_once_by_another_replicas_hot_copy() {
    let prefix = testkit::redis_prefix();
    let timing = CacheTiming::from_ttl(Duration::from_secs(60));
    let (reader, writer) = (cache_on(&prefix, timing), cache_on(&prefix, timing));
    let page = |v: &'static str| move || async move { Ok(Bytes::from(v)) };
    assert_eq!(reader.get_or_build("k", page("before")).await.unwrap(), "before");
    // Hot: served from the reader's own copy, under load.
    let reads = (0..32).map(|_| {
        let reader = reader.clone();
        tokio::spawn(async move { reader.get_or_build("k", page("unexpected")).await.unwrap() })
    });
    for p in futures_util::future::join_all(reads).await {
        assert_eq!(p.unwrap(), "before");
    }
    assert_eq!(reader.rebuilds(), 1);
    writer.bump().await;
    assert_eq!(reader.get_or_build("k", page("after")).await.unwrap(), "after", "the very next read");
    assert_eq!(reader.rebuilds(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_invalidates_cached_pages_when_it_ends() {
    let prefix = testkit::redis_prefix();
    let (app, _) =
        common::spawn_opts(common::Options { redis_prefix: prefix.clone(), ..common::Options::default() })
            .await;
    let (_, before) = app.get("/api/v1/products?per_page=1").await;
    assert_eq!(before["meta"]["total"], 3);
    catalog::bulk::seed_generated(app.db.url(), catalog::SCHEMA, 20, 1).await.unwrap();
    let config = catalog::config::CatalogConfig::from_vars([
        ("REDIS_URL".to_owned(), testkit::redis_url()),
        ("REDIS_KEY_PREFIX".to_owned(), prefix),
    ])
    .unwrap();
    catalog::bulk::invalidate_listing_cache_after_bulk_load(&config).await;
    let (_, after) = app.get("/api/v1/products?per_page=1").await;
    assert!(after["meta"]["total"].as_i64().unwrap() > 3, "{}", after["meta"]);
}
