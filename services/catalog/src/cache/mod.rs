//! The listing cache: pages in Redis under a tag version, with a hard age bound, soft refresh
//! and thundering-herd protection (docs/adr/0011-listing-cache.md).
//!
//! Each entry is `"{version}:{built_at_ms}\n{payload}"`. One `MGET` reads the tag version and the
//! entry together; an entry whose version is not the current one is invalid, so `INCR` of the
//! version invalidates every page at once. An entry is served while younger than `max_age`
//! (Redis also expires it then); past `fresh` one request refreshes it in the background while
//! the others keep getting it. A missing or invalid entry is rebuilt by one request per process
//! (single-flight) and one process per key (a Redis `SET NX` lock); the others wait for it.
//! When Redis fails, the cache steps aside for a second and pages come from PostgreSQL, still
//! one build per key at a time; at most `build slots` builds run at once either way.
//!
//! Redis is reached through [`link`]: its I/O and time-outs run on a thread of their own, so a
//! busy worker loop does not look like a slow Redis; and a time-out steps the cache aside only
//! if a `PING` on a fresh connection fails too.
//!
//! Hot pages are also kept in process ([`local`]); they are used only with a version read
//! through the [`gate`], which shares one `GET` between concurrent requests yet never hands a
//! request a read that began before it arrived.

mod gate;
mod link;
mod local;
pub mod metrics;
mod rebuild;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use futures_util::future::{BoxFuture, Shared};
use platform::redis::Redis;
use tokio::sync::Semaphore;

use self::link::{Failure, RedisLink};
pub use self::metrics::{CacheMetrics, Event};

/// How old a cached page may be. See the module docs.
#[derive(Debug, Clone, Copy)]
pub struct CacheTiming {
    /// Younger than this: served as is.
    pub fresh: Duration,
    /// Never served at or past this age (also the Redis expiry).
    pub max_age: Duration,
    /// How long a rebuild lock lives if its holder dies.
    pub lock_ttl: Duration,
    /// How long a request waits for another process's rebuild before building itself.
    pub wait: Duration,
    /// Time-out of one Redis command, measured on the Redis I/O thread; past it (and a failed
    /// probe) the cache steps aside.
    pub redis_timeout: Duration,
}

/// Availability in a page lags stock by at most this much (the bound).
pub const AVAILABILITY_LAG: Duration = Duration::from_secs(5);

impl CacheTiming {
    /// `max_age` = min(`CATALOG_CACHE_TTL`, 5 s); refresh starts at 80 % of it.
    pub fn from_ttl(ttl: Duration) -> Self {
        let max_age = ttl.min(AVAILABILITY_LAG);
        Self {
            fresh: max_age.mul_f64(0.8),
            max_age,
            lock_ttl: Duration::from_secs(2),
            wait: Duration::from_millis(500),
            redis_timeout: Duration::from_millis(250),
        }
    }
}

/// PostgreSQL builds at a time unless [`PageCache::with_build_slots`] says otherwise (half
/// the default pool of 16).
pub const DEFAULT_BUILD_SLOTS: usize = 8;

type Build = Shared<BoxFuture<'static, Result<Bytes, Arc<anyhow::Error>>>>;

/// The tag-versioned page cache; share it as `Arc<PageCache>`.
pub struct PageCache {
    redis: Redis,
    link: RedisLink,
    timing: CacheTiming,
    enabled: bool,
    version_key: String,
    gate: Arc<gate::VersionGate>,
    local: local::LocalPages,
    down_until_ms: AtomicU64,
    /// Counts this process's writes ([`PageCache::bump`]); keys the builds made while the
    /// cache steps aside, when there is no Redis version to key them by.
    epoch: AtomicU64,
    inflight: Mutex<HashMap<String, Build>>,
    builds: Semaphore,
    rebuilds: AtomicU64,
    metrics: Option<CacheMetrics>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A decoded entry.
struct Entry {
    version: u64,
    built_at_ms: u64,
    payload: Bytes,
}

fn decode(raw: Vec<u8>) -> Option<Entry> {
    let raw = Bytes::from(raw);
    let nl = raw.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&raw[..nl]).ok()?;
    let (version, built) = header.split_once(':')?;
    Some(Entry {
        version: version.parse().ok()?,
        built_at_ms: built.parse().ok()?,
        payload: raw.slice(nl + 1..),
    })
}

fn encode(version: u64, built_at_ms: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{version}:{built_at_ms}\n").into_bytes();
    out.extend_from_slice(payload);
    out
}

impl PageCache {
    /// A cache on `redis` (keys under its prefix); `enabled = false` always builds.
    pub fn new(redis: Redis, timing: CacheTiming, enabled: bool) -> Self {
        // A zero age bound means nothing may be served from the cache.
        let enabled = enabled && !timing.max_age.is_zero();
        let version_key = redis.key("products:version");
        let link = RedisLink::new(redis.client().clone(), timing.redis_timeout);
        let gate = Arc::new(gate::VersionGate::new(link.clone(), version_key.clone()));
        Self {
            redis,
            link,
            timing,
            enabled,
            version_key,
            gate,
            local: local::LocalPages::default(),
            down_until_ms: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
            builds: Semaphore::new(DEFAULT_BUILD_SLOTS),
            rebuilds: AtomicU64::new(0),
            metrics: None,
        }
    }

    /// At most `slots` (at least one) PostgreSQL builds at a time, so a burst of distinct
    /// pages queues here instead of taking every pooled connection (and timing out on them).
    #[must_use]
    pub fn with_build_slots(mut self, slots: usize) -> Self {
        self.builds = Semaphore::new(slots.max(1));
        self
    }

    /// Counts lookups in `catalog_cache_events_total{event}` on `registry` (see [`metrics`]).
    pub fn with_metrics(mut self, registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        self.metrics = Some(CacheMetrics::register(registry)?);
        Ok(self)
    }

    /// Whether pages are cached at all (`CATALOG_CACHE_TTL` > 0).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// How many times a build function ran (database rebuilds), for tests and metrics.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::Relaxed)
    }

    fn record(&self, event: Event) {
        if event == Event::Rebuild {
            self.rebuilds.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(metrics) = &self.metrics {
            metrics.record(event);
        }
    }

    /// Whether the cache is stepping aside now (Redis failed within the last second).
    pub fn stepped_aside(&self) -> bool {
        self.redis_down()
    }

    fn redis_down(&self) -> bool {
        now_ms() < self.down_until_ms.load(Ordering::Relaxed)
    }

    fn mark_down(&self, error: &str) {
        if !self.redis_down() {
            tracing::warn!(error, "redis unavailable: listing cache bypassed for 1 s");
        }
        self.down_until_ms.store(now_ms() + 1000, Ordering::Relaxed);
    }

    /// What a failed command means. A failed connection (or an error answer) steps the cache
    /// aside at once. A time-out does only if Redis also fails a `PING` on a fresh connection:
    /// otherwise Redis answers and this one command was slow, and only its request goes
    /// without the cache.
    async fn failed(&self, failure: &Failure) {
        match failure {
            Failure::Down(e) => self.mark_down(e),
            Failure::Slow(e) => {
                if self.link.probe().await {
                    self.record(Event::Timeout);
                    tracing::debug!(error = %e, "a redis command timed out but redis answers: cache kept");
                } else {
                    self.mark_down(e);
                }
            }
        }
    }

    async fn command<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Failure> {
        let result = self.link.query(cmd).await;
        if let Err(failure) = &result {
            self.failed(failure).await;
        }
        result
    }

    /// (current version, entry under `key`).
    async fn read(&self, key: &str) -> Result<(u64, Option<Entry>), Failure> {
        let (version, raw): (Option<u64>, Option<Vec<u8>>) =
            self.command(redis::cmd("MGET").arg(&self.version_key).arg(key)).await?;
        Ok((version.unwrap_or(0), raw.and_then(decode)))
    }

    /// Invalidates every cached page with one `INCR`. Callers run it after their commit and
    /// before they answer. If Redis is unreachable the pages there age out within `max_age`.
    pub async fn bump(&self) {
        if !self.enabled {
            return;
        }
        // Before the `INCR`: a request that arrives after this write's answer never joins a
        // build that began before it, even while the cache steps aside.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        // Not skipped while marked down: a write must try to invalidate.
        if let Err(e) = self.command::<u64>(redis::cmd("INCR").arg(&self.version_key)).await {
            tracing::warn!(error = e.message(), "cache version not bumped; cached pages expire on their own");
        }
    }

    /// The page under `key` (a suffix under the service prefix), or `build`'s result, cached.
    pub async fn get_or_build<F, Fut>(
        self: &Arc<Self>,
        key: &str,
        build: F,
    ) -> Result<Bytes, Arc<anyhow::Error>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Bytes>> + Send + 'static,
    {
        if !self.enabled {
            self.record(Event::Rebuild);
            return build().await.map_err(Arc::new);
        }
        let key = self.redis.key(key);
        if self.redis_down() {
            return self.bypass(key, build).await;
        }
        let gated = match self.gate.read().await {
            Ok(v) => v,
            Err(failure) => {
                self.failed(&failure).await;
                return self.bypass(key, build).await;
            }
        };
        let now = now_ms();
        let fresh_since = now.saturating_sub(millis(self.timing.fresh));
        if let Some(payload) = self.local.get(&key, gated, fresh_since) {
            self.record(Event::Hit);
            return Ok(payload);
        }
        let Ok((stored_version, entry)) = self.read(&key).await else {
            return self.bypass(key, build).await;
        };
        // A write may have landed since the gate's read: the newer version wins.
        let version = gated.max(stored_version);
        if let Some(entry) = entry.filter(|e| e.version == version) {
            let age = now.saturating_sub(entry.built_at_ms);
            if age < millis(self.timing.fresh) {
                self.record(Event::Hit);
                self.local.put(&key, entry.version, entry.built_at_ms, entry.payload.clone());
                return Ok(entry.payload);
            }
            if age < millis(self.timing.max_age) {
                // Soft expiry: this request gets the entry; one refresh runs behind it.
                self.record(Event::Stale);
                let refresh = self.single_flight(key, version, build);
                tokio::spawn(async move {
                    let _ = refresh.await;
                });
                return Ok(entry.payload);
            }
        }
        self.record(Event::Miss);
        self.single_flight(key, version, build).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let e = decode(encode(7, 1234, b"{\"a\":1}\nx")).unwrap();
        assert_eq!((e.version, e.built_at_ms, &e.payload[..]), (7, 1234, &b"{\"a\":1}\nx"[..]));
        assert!(decode(b"garbage".to_vec()).is_none());
        assert!(decode(b"x:1\n{}".to_vec()).is_none());
    }

    #[test]
    fn timing_keeps_the_availability_bound() {
        let t = CacheTiming::from_ttl(Duration::from_secs(3600));
        assert_eq!(t.max_age, Duration::from_secs(5));
        assert_eq!(t.fresh, Duration::from_secs(4));
        let t = CacheTiming::from_ttl(Duration::from_secs(1));
        assert_eq!((t.fresh, t.max_age), (Duration::from_millis(800), Duration::from_secs(1)));
    }
}
