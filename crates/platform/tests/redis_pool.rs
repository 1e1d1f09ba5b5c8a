//! The Redis pool against a private `redis-server`: a command is one round trip (no `PING` per
//! checkout), and after the server restarts the pool drops the dead connection it hands out
//! and the next command connects afresh.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use platform::redis::Redis;
use testkit::PrivateRedis;

/// `GET key` through the pool.
async fn get(redis: &Redis, key: &str) -> Result<Option<String>, String> {
    let mut conn = redis.pool.get().await.map_err(|e| e.to_string())?;
    redis::cmd("GET").arg(key).query_async(&mut *conn).await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_one_round_trip_and_a_restart_costs_one_failed_command() {
    let server = PrivateRedis::start().await;
    let port = server.port();
    let redis = Redis::new(&server.url(), "t:").unwrap();
    // `start` returned once the server accepts connections.
    assert_eq!(get(&redis, "k").await.unwrap(), None);
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
    // The server accepts again: each dead pooled connection fails one command and is dropped
    // (the pool holds at most 16), then a fresh one answers.
    let mut failed = 0;
    loop {
        let mut conn = redis.pool.get().await.unwrap();
        let set: Result<(), _> = redis::cmd("SET").arg("k").arg("v").query_async(&mut *conn).await;
        if set.is_ok() {
            break;
        }
        failed += 1;
        assert!(failed <= 16, "still failing after every pooled connection was tried: {set:?}");
    }
    assert!(failed >= 1, "the dead connection fails once");
    // Every later command works on a fresh connection.
    for _ in 0..5 {
        assert_eq!(get(&redis, "k").await.unwrap().as_deref(), Some("v"));
    }
    drop(server);
}
