//! The listing cache: pages in Redis under a tag version, with a hard age bound, soft refresh
//! and thundering-herd protection (docs/adr/0011-listing-cache.md).
//!
//! Each entry is `"{version}:{built_at_ms}\n{payload}"`. One `MGET` reads the tag version and the
//! entry together; an entry whose version is not the current one is invalid, so `INCR` of the
//! version invalidates every page at once. An entry is served while younger than `max_age`
//! (Redis also expires it then); past `fresh` one request refreshes it in the background while
//! the others keep getting it. A missing or invalid entry is rebuilt by one request per process
//! (single-flight) and one process per key (a Redis `SET NX` lock); the others wait for it.
//! When Redis fails, the cache steps aside for a second and pages come from PostgreSQL.
//!
//! Hot pages are also kept in process ([`local`]); they are used only with a version read
//! through the [`gate`], which shares one `GET` between concurrent requests yet never hands a
//! request a read that began before it arrived.

mod gate;
mod local;
pub mod metrics;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use platform::redis::Redis;

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
    /// Time-out of one Redis command; past it the cache steps aside.
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

type Build = Shared<BoxFuture<'static, Result<Bytes, Arc<anyhow::Error>>>>;

/// The tag-versioned page cache; share it as `Arc<PageCache>`.
pub struct PageCache {
    redis: Redis,
    timing: CacheTiming,
    enabled: bool,
    version_key: String,
    gate: Arc<gate::VersionGate>,
    local: local::LocalPages,
    down_until_ms: AtomicU64,
    inflight: Mutex<HashMap<String, Build>>,
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

/// Compare-and-delete, so a rebuild never drops a lock another process took after ours expired.
const UNLOCK: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl PageCache {
    /// A cache on `redis` (keys under its prefix); `enabled = false` always builds.
    pub fn new(redis: Redis, timing: CacheTiming, enabled: bool) -> Self {
        // A zero age bound means nothing may be served from the cache.
        let enabled = enabled && !timing.max_age.is_zero();
        let version_key = redis.key("products:version");
        let gate = Arc::new(gate::VersionGate::new(redis.clone(), version_key.clone(), timing.redis_timeout));
        Self {
            redis,
            timing,
            enabled,
            version_key,
            gate,
            local: local::LocalPages::default(),
            down_until_ms: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
            rebuilds: AtomicU64::new(0),
            metrics: None,
        }
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

    fn redis_down(&self) -> bool {
        now_ms() < self.down_until_ms.load(Ordering::Relaxed)
    }

    fn mark_down(&self, error: &str) {
        if !self.redis_down() {
            tracing::warn!(error, "redis unavailable: listing cache bypassed for 1 s");
        }
        self.down_until_ms.store(now_ms() + 1000, Ordering::Relaxed);
    }

    async fn command<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, String> {
        let run = async {
            let mut conn = self.redis.pool.get().await.map_err(|e| e.to_string())?;
            cmd.query_async::<T>(&mut *conn).await.map_err(|e| e.to_string())
        };
        let result = match tokio::time::timeout(self.timing.redis_timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {:?}", self.timing.redis_timeout)),
        };
        if let Err(e) = &result {
            self.mark_down(e);
        }
        result
    }

    /// (current version, entry under `key`).
    async fn read(&self, key: &str) -> Result<(u64, Option<Entry>), String> {
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
        // Not skipped while marked down: a write must try to invalidate.
        if let Err(e) = self.command::<u64>(redis::cmd("INCR").arg(&self.version_key)).await {
            tracing::warn!(error = %e, "cache version not bumped; cached pages expire on their own");
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
        if !self.enabled || self.redis_down() {
            if self.enabled {
                self.record(Event::Bypass);
            }
            self.record(Event::Rebuild);
            return build().await.map_err(Arc::new);
        }
        let key = self.redis.key(key);
        let gated = match self.gate.read().await {
            Ok(v) => v,
            Err(e) => {
                self.mark_down(&e);
                self.record(Event::Bypass);
                self.record(Event::Rebuild);
                return build().await.map_err(Arc::new);
            }
        };
        let now = now_ms();
        let fresh_since = now.saturating_sub(millis(self.timing.fresh));
        if let Some(payload) = self.local.get(&key, gated, fresh_since) {
            self.record(Event::Hit);
            return Ok(payload);
        }
        let Ok((stored_version, entry)) = self.read(&key).await else {
            self.record(Event::Bypass);
            self.record(Event::Rebuild);
            return build().await.map_err(Arc::new);
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

    /// One rebuild of `key` in this process at a time; concurrent callers share its result.
    fn single_flight<F, Fut>(self: &Arc<Self>, key: String, version: u64, build: F) -> Build
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Bytes>> + Send + 'static,
    {
        // Keyed by version too: a request that arrives after a write never joins a rebuild
        // that started before it (it could carry the old data).
        let flight = format!("{version}:{key}");
        let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = inflight.get(&flight) {
            return running.clone();
        }
        let this = Arc::clone(self);
        let f = flight.clone();
        let fut: BoxFuture<'static, Result<Bytes, Arc<anyhow::Error>>> = async move {
            let result = this.rebuild(&key, version, build).await.map_err(Arc::new);
            this.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&f);
            result
        }
        .boxed();
        let shared = fut.shared();
        inflight.insert(flight, shared.clone());
        shared
    }

    /// Takes the key's Redis lock and builds, or waits for the process holding it.
    async fn rebuild<F, Fut>(&self, key: &str, version: u64, build: F) -> anyhow::Result<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Bytes>>,
    {
        let lock_key = format!("{key}:lock");
        let token = uuid::Uuid::new_v4().simple().to_string();
        let locked: Result<Option<String>, String> = self
            .command(
                redis::cmd("SET")
                    .arg(&lock_key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(self.timing.lock_ttl)),
            )
            .await;
        if matches!(locked, Ok(None)) {
            // Another process is building this page: wait for it, briefly.
            if let Some(payload) = self.wait_for(key, version).await {
                return Ok(payload);
            }
        }
        // Stamp before reading the database, so the age bound covers the query too.
        let built_at = now_ms();
        self.record(Event::Rebuild);
        let outcome = build().await;
        if let Ok(payload) = &outcome
            && locked.is_ok()
        {
            self.local.put(key, version, built_at, payload.clone());
            let entry = encode(version, built_at, payload);
            let _: Result<(), String> = self
                .command(redis::cmd("SET").arg(key).arg(entry).arg("PX").arg(millis(self.timing.max_age)))
                .await;
        }
        if matches!(locked, Ok(Some(_))) {
            let _: Result<i64, String> =
                self.command(redis::cmd("EVAL").arg(UNLOCK).arg(1).arg(&lock_key).arg(&token)).await;
        }
        outcome
    }

    /// Polls for an entry of `version` built by another process, up to `wait`.
    async fn wait_for(&self, key: &str, version: u64) -> Option<Bytes> {
        let deadline = tokio::time::Instant::now() + self.timing.wait;
        while tokio::time::Instant::now() < deadline {
            // A poll interval against another process, not a test synchronisation.
            tokio::time::sleep(Duration::from_millis(10)).await;
            let (current, entry) = self.read(key).await.ok()?;
            if current != version {
                return None;
            }
            if let Some(e) = entry.filter(|e| e.version == version) {
                self.record(Event::Hit);
                self.local.put(key, e.version, e.built_at_ms, e.payload.clone());
                return Some(e.payload);
            }
        }
        None
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
