//! The listing cache under a burst (issue 12, ADR 0011 amendment): a busy worker loop is not a
//! Redis outage, a hung Redis still is, single-flight holds while the cache steps aside, builds
//! are capped, and a burst of simultaneous requests on one page gets only 2xx answers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::Future;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use catalog::cache::{CacheTiming, PageCache};
use platform::redis::Redis;
use serde_json::json;
use testkit::PrivateRedis;

/// Long age bounds: these tests are about time-outs and flights, not expiry.
fn timing() -> CacheTiming {
    CacheTiming {
        fresh: Duration::from_secs(50),
        max_age: Duration::from_secs(60),
        ..CacheTiming::from_ttl(Duration::from_secs(60))
    }
}

fn cache_at(url: &str) -> Arc<PageCache> {
    Arc::new(PageCache::new(Redis::new(url, testkit::redis_prefix()).unwrap(), timing(), true))
}

fn page(v: &'static str) -> impl FnOnce() -> std::future::Ready<anyhow::Result<Bytes>> + Send + 'static {
    move || std::future::ready(Ok(Bytes::from(v)))
}

/// A closed local port: connections to it are refused (Redis is down).
fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("redis://127.0.0.1:{port}")
}

/// Redis at `url` stops answering every client (new connections included) for `ms`.
async fn pause(url: &str, ms: u64) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT").arg("PAUSE").arg(ms).arg("ALL").query_async(&mut conn).await.unwrap();
}

/// `n` concurrent `get_or_build` calls on `cache`, the i-th for `key(i)` with `build(i)`.
fn spawn_calls<B, Fut>(
    cache: &Arc<PageCache>,
    n: usize,
    key: impl Fn(usize) -> String,
    build: impl Fn(usize) -> B,
) -> Vec<tokio::task::JoinHandle<Bytes>>
where
    B: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<Bytes>> + Send + 'static,
{
    (0..n)
        .map(|i| {
            let (cache, key, build) = (cache.clone(), key(i), build(i));
            tokio::spawn(async move { cache.get_or_build(&key, build).await.unwrap() })
        })
        .collect()
}

/// Keeps the current thread busy for `d`, as a worker parsing thousands of requests is.
fn hold_the_loop(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_worker_loop_does_not_make_the_cache_step_aside() {
    let cache = cache_at(&testkit::redis_url());
    assert_eq!(cache.get_or_build("k", page("v1")).await.unwrap(), "v1");
    // The request sends its version `GET`; then its loop is held past the 250 ms time-out
    // before the answer can be read.
    let mut attempts = 0;
    let request = loop {
        let mut request = Box::pin(cache.get_or_build("k", page("rebuilt")));
        match futures_util::poll!(&mut request) {
            std::task::Poll::Pending => break request,
            // This thread lost the core long enough for Redis to answer already: again.
            std::task::Poll::Ready(page) => assert_eq!(page.unwrap(), "v1"),
        }
        attempts += 1;
        assert!(attempts < 100, "never caught the request waiting for Redis");
    };
    hold_the_loop(timing().redis_timeout * 3);
    assert_eq!(request.await.unwrap(), "v1", "served from the cache");
    assert!(!cache.stepped_aside(), "a busy loop is not a Redis outage");
    assert_eq!(cache.rebuilds(), 1);
    assert_eq!(cache.get_or_build("k", page("rebuilt")).await.unwrap(), "v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_makes_the_cache_step_aside_and_it_comes_back() {
    let redis = PrivateRedis::start().await;
    let cache = cache_at(&redis.url());
    assert_eq!(cache.get_or_build("k", page("v1")).await.unwrap(), "v1");
    pause(&redis.url(), 1500).await;
    let started = Instant::now();
    assert_eq!(cache.get_or_build("k", page("from postgres")).await.unwrap(), "from postgres");
    let took = started.elapsed();
    assert!(cache.stepped_aside(), "no answer and no answer to a fresh PING: Redis is down");
    // One time-out, then one probe of the same length: the price of an outage, once a second.
    assert!(took < timing().redis_timeout * 3, "{took:?}");
    let started = Instant::now();
    assert_eq!(cache.get_or_build("k", page("from postgres")).await.unwrap(), "from postgres");
    assert!(started.elapsed() < timing().redis_timeout, "stepped aside: Redis is not asked");
    assert_eq!(cache.rebuilds(), 3);
    testkit::wait_until(Duration::from_secs(10), "the cache in use again", || {
        let cache = cache.clone();
        async move {
            let page = cache.get_or_build("k", page("from postgres")).await.ok()?;
            (page == "v1" && !cache.stepped_aside()).then_some(())
        }
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn while_stepped_aside_concurrent_requests_for_one_page_share_one_build() {
    let cache = cache_at(&closed_port_url());
    assert_eq!(cache.get_or_build("other", page("x")).await.unwrap(), "x");
    assert!(cache.stepped_aside(), "Redis refused the connection");
    let before = cache.rebuilds();
    let builds = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    // One thread: each task joins (or starts) the flight in its first poll, before any yields.
    let calls = spawn_calls(
        &cache,
        64,
        |_| "hot".to_owned(),
        |_| {
            let (builds, release) = (builds.clone(), release.clone());
            move || async move {
                let n = builds.fetch_add(1, Ordering::SeqCst) + 1;
                let _permit = release.acquire().await;
                Ok(Bytes::from(format!("build {n}")))
            }
        },
    );
    testkit::wait_until(Duration::from_secs(5), "the build running", || {
        let builds = builds.clone();
        async move { (builds.load(Ordering::SeqCst) == 1).then_some(()) }
    })
    .await;
    assert!(cache.stepped_aside(), "still inside the step-aside second");
    release.add_permits(64);
    for page in futures_util::future::join_all(calls).await {
        assert_eq!(page.unwrap(), "build 1");
    }
    assert_eq!(cache.rebuilds() - before, 1, "64 concurrent requests, one build");
}

#[tokio::test(flavor = "current_thread")]
async fn while_stepped_aside_a_request_after_a_write_never_joins_an_older_build() {
    let cache = cache_at(&closed_port_url());
    assert_eq!(cache.get_or_build("other", page("x")).await.unwrap(), "x");
    assert!(cache.stepped_aside());
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let early = spawn_calls(
        &cache,
        1,
        |_| "hot".to_owned(),
        |_| {
            let release = release.clone();
            move || async move {
                let _permit = release.acquire().await;
                Ok(Bytes::from("before the write"))
            }
        },
    );
    testkit::wait_until(Duration::from_secs(5), "the early build running", || {
        let cache = cache.clone();
        async move { (cache.rebuilds() == 2).then_some(()) }
    })
    .await;
    // An admin write through this process (its `INCR` fails: Redis is down).
    cache.bump().await;
    let late = cache.get_or_build("hot", page("after the write")).await.unwrap();
    assert_eq!(late, "after the write", "a build of its own, not the one that began before the write");
    release.add_permits(1);
    for page in futures_util::future::join_all(early).await {
        assert_eq!(page.unwrap(), "before the write");
    }
    assert_eq!(cache.rebuilds(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_the_build_slots_run_at_once() {
    let cache = Arc::new(
        PageCache::new(Redis::new(&testkit::redis_url(), testkit::redis_prefix()).unwrap(), timing(), true)
            .with_build_slots(2),
    );
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let calls = spawn_calls(
        &cache,
        6,
        |i| format!("page-{i}"),
        |i| {
            let (running, most, release) = (running.clone(), most.clone(), release.clone());
            move || async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let _permit = release.acquire().await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Bytes::from(format!("page {i}")))
            }
        },
    );
    testkit::wait_until(Duration::from_secs(5), "two builds running", || {
        let running = running.clone();
        async move { (running.load(Ordering::SeqCst) == 2).then_some(()) }
    })
    .await;
    release.add_permits(6);
    for (i, page) in futures_util::future::join_all(calls).await.into_iter().enumerate() {
        assert_eq!(page.unwrap(), format!("page {i}"));
    }
    assert_eq!(most.load(Ordering::SeqCst), 2, "six pages to build, two slots");
    assert_eq!(cache.rebuilds(), 6);
}

async fn bump_version(redis: &Redis) {
    let mut conn = redis.pool.get().await.unwrap();
    let _: u64 = redis::cmd("INCR").arg(redis.key("products:version")).query_async(&mut *conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_one_page_gets_only_2xx_answers_and_one_rebuild() {
    platform::http::listener::raise_open_files_limit();
    let (app, _) =
        common::spawn_opts(common::Options { cache: Some(timing()), ..common::Options::default() }).await;
    let (status, body) = app.get("/api/v1/products").await;
    assert_eq!((status, body["meta"]["total"].clone()), (200, json!(3)));
    let addr = app.server.base_url.trim_start_matches("http://").parse().unwrap();
    let hot = testkit::burst::burst(addr, "/api/v1/products", 1000, Duration::from_secs(60)).await;
    assert_eq!(hot.failed(), 0, "hot page: {hot}");
    bump_version(&app.state.redis).await;
    let before = app.state.cache.rebuilds();
    let cold = testkit::burst::burst(addr, "/api/v1/products", 1000, Duration::from_secs(60)).await;
    assert_eq!(cold.failed(), 0, "just invalidated: {cold}");
    assert_eq!(app.state.cache.rebuilds() - before, 1, "1000 simultaneous misses, one rebuild");
    assert!(!app.state.cache.stepped_aside());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_while_redis_is_down_gets_only_2xx_answers() {
    platform::http::listener::raise_open_files_limit();
    let (app, _) = common::spawn_opts(common::Options {
        redis_url: closed_port_url(),
        cache: Some(timing()),
        ..common::Options::default()
    })
    .await;
    let addr = app.server.base_url.trim_start_matches("http://").parse().unwrap();
    let report = testkit::burst::burst(addr, "/api/v1/products", 1000, Duration::from_secs(60)).await;
    assert_eq!(report.failed(), 0, "{report}");
    assert!(app.state.cache.rebuilds() < 1000, "builds shared: {}", app.state.cache.rebuilds());
}
