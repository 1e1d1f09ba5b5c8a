//! The rebuild side of [`PageCache`]: single-flight per key and version (or, while the cache
//! steps aside, per key and write epoch), the Redis lock between processes, build slots.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::link::Failure;
use super::{Build, Entry, Event, PageCache, encode, millis, now_ms};

/// Compare-and-delete, so a rebuild never drops a lock another process took after ours expired.
const UNLOCK: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl PageCache {
    /// One rebuild of `key` in this process at a time; concurrent callers share its result.
    pub(super) fn single_flight<F, Fut>(self: &Arc<Self>, key: String, version: u64, build: F) -> Build
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Bytes>> + Send + 'static,
    {
        // Keyed by version too: a request that arrives after a write never joins a rebuild
        // that started before it (it could carry the old data).
        let flight = format!("{version}:{key}");
        // A flight for this version that ended just before this request got here put its page
        // in the local copy before it left the map: that page, not another build.
        let fresh_since = now_ms().saturating_sub(millis(self.timing.fresh));
        let this = Arc::clone(self);
        let local_key = key.clone();
        let work = async move { this.rebuild(&key, version, build).await }.boxed();
        self.join_or_start(flight, || self.local.get(&local_key, version, fresh_since), work)
    }

    /// Without Redis (stepped aside, or this request's command failed): the page comes from
    /// PostgreSQL, but still one build per key at a time in this process. The flight is keyed
    /// by this process's write epoch instead of the (unknown) Redis version, so a request that
    /// follows a write made here never joins a build that began before it. Nothing is stored.
    pub(super) async fn bypass<F, Fut>(
        self: &Arc<Self>,
        key: String,
        build: F,
    ) -> Result<Bytes, Arc<anyhow::Error>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Bytes>> + Send + 'static,
    {
        self.record(Event::Bypass);
        let flight = format!("bypass:{}:{key}", self.epoch.load(Ordering::SeqCst));
        let this = Arc::clone(self);
        let work = async move { this.build_limited(build).await.1 }.boxed();
        self.join_or_start(flight, || None, work).await
    }

    /// The flight named `flight` if one is running; else what `built` finds (asked under the
    /// same lock, so a flight cannot end unseen in between); else `work`, started as that flight.
    fn join_or_start(
        self: &Arc<Self>,
        flight: String,
        built: impl FnOnce() -> Option<Bytes>,
        work: BoxFuture<'static, anyhow::Result<Bytes>>,
    ) -> Build {
        let mut inflight = self.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(running) = inflight.get(&flight) {
            return running.clone();
        }
        if let Some(page) = built() {
            return std::future::ready(Ok(page)).boxed().shared();
        }
        let this = Arc::clone(self);
        let f = flight.clone();
        let fut: BoxFuture<'static, Result<Bytes, Arc<anyhow::Error>>> = async move {
            let result = work.await.map_err(Arc::new);
            this.inflight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&f);
            result
        }
        .boxed();
        let shared = fut.shared();
        inflight.insert(flight, shared.clone());
        shared
    }

    /// Runs `build` in a build slot; returns the time stamp taken before its queries ran (the
    /// wait for the slot does not count against the page's age) and its result.
    async fn build_limited<F, Fut>(&self, build: F) -> (u64, anyhow::Result<Bytes>)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Bytes>>,
    {
        // The semaphore is never closed; without a permit the build still runs.
        let _slot = self.builds.acquire().await.ok();
        let built_at = now_ms();
        self.record(Event::Rebuild);
        (built_at, build().await)
    }

    /// Takes the key's Redis lock and builds, or waits for the process holding it.
    async fn rebuild<F, Fut>(&self, key: &str, version: u64, build: F) -> anyhow::Result<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Bytes>>,
    {
        let lock_key = format!("{key}:lock");
        let token = uuid::Uuid::new_v4().simple().to_string();
        let locked: Result<Option<String>, Failure> = self
            .command(
                redis::cmd("SET")
                    .arg(&lock_key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(self.timing.lock_ttl)),
            )
            .await;
        match locked {
            Ok(None) => {
                // Another process is building this page: wait for it, briefly.
                if let Some(payload) = self.wait_for(key, version).await {
                    return Ok(payload);
                }
            }
            Ok(Some(_)) => {
                // A rebuild that ended after this request read the entry (on another replica,
                // or here just before this flight began) has stored it: no second build.
                if let Some(payload) = self.stored_fresh(key, version).await {
                    let _: Result<i64, Failure> =
                        self.command(redis::cmd("EVAL").arg(UNLOCK).arg(1).arg(&lock_key).arg(&token)).await;
                    return Ok(payload);
                }
            }
            Err(_) => {}
        }
        // Stamped before reading the database, so the age bound covers the query too.
        let (built_at, outcome) = self.build_limited(build).await;
        if let Ok(payload) = &outcome
            && locked.is_ok()
        {
            self.local.put(key, version, built_at, payload.clone());
            let entry = encode(version, built_at, payload);
            let _: Result<(), Failure> = self
                .command(redis::cmd("SET").arg(key).arg(entry).arg("PX").arg(millis(self.timing.max_age)))
                .await;
        }
        if matches!(locked, Ok(Some(_))) {
            let _: Result<i64, Failure> =
                self.command(redis::cmd("EVAL").arg(UNLOCK).arg(1).arg(&lock_key).arg(&token)).await;
        }
        outcome
    }

    /// The entry of `version` under `key` if Redis holds one younger than `fresh`.
    async fn stored_fresh(&self, key: &str, version: u64) -> Option<Bytes> {
        let (current, entry) = self.read(key).await.ok()?;
        let fresh = |e: &Entry| now_ms().saturating_sub(e.built_at_ms) < millis(self.timing.fresh);
        let e = entry.filter(|e| current == version && e.version == version && fresh(e))?;
        self.local.put(key, e.version, e.built_at_ms, e.payload.clone());
        Some(e.payload)
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
