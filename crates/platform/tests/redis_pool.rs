//! The Redis pool against a private `redis-server`: a command is one round trip (no `PING` per
//! checkout), and after the server restarts the pool drops the dead connection it hands out
//! and the next command connects afresh.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use platform::redis::Redis;
use testkit::PrivateRedis;

/// `GET key` through the pool.
async fn get(redis: &Redis, key: &str) -> Result<Option<String>, String> {
    let mut conn = redis.pool.get().await.map_err(|e| e.to_string())?;
    redis::cmd("GET").arg(key).query_async(&mut *conn).await.map_err(|e| e.to_string())
}

/// `f` until it answers, for at most 10 s; how many failed first.
async fn until_ok<T, F: AsyncFnMut() -> Result<T, String>>(mut f: F) -> (T, usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failed = 0;
    loop {
        match f().await {
            Ok(v) => return (v, failed),
            Err(_) if Instant::now() < deadline => {
                failed += 1;
                // Polled every 10 ms while the server starts (the deadline bounds the wait).
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => panic!("no answer in 10 s: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_one_round_trip_and_a_restart_costs_one_failed_command() {
    let server = PrivateRedis::start().await;
    let port = server.port();
    let redis = Redis::new(&server.url(), "t:").unwrap();
    until_ok(async || get(&redis, "k").await).await;
    let mut conn = redis.pool.get().await.unwrap();
    let () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(&mut *conn).await.unwrap();
    drop(conn);
    for _ in 0..20 {
        assert_eq!(get(&redis, "k").await.unwrap(), None);
    }
    let mut conn = redis.pool.get().await.unwrap();
    let stats: String = redis::cmd("INFO").arg("commandstats").query_async(&mut *conn).await.unwrap();
    drop(conn);
    assert!(stats.contains("cmdstat_get:calls=20,"), "{stats}");
    assert!(!stats.contains("cmdstat_ping"), "no PING per checkout: {stats}");

    // The server goes away and comes back on the same port: the pooled connection is dead.
    server.stop();
    let server = PrivateRedis::start_on(port).await;
    let ((), failed) = until_ok(async || {
        let mut conn = redis.pool.get().await.map_err(|e| e.to_string())?;
        redis::cmd("SET").arg("k").arg("v").query_async(&mut *conn).await.map_err(|e| e.to_string())
    })
    .await;
    assert!(failed >= 1, "the dead connection fails once");
    // Every later command works on a fresh connection.
    for _ in 0..5 {
        assert_eq!(get(&redis, "k").await.unwrap().as_deref(), Some("v"));
    }
    drop(server);
}
