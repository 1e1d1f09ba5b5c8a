//! The tag version without one Redis round trip per request: concurrent requests share one
//! `GET`, but a request only ever uses a read that *began after it arrived*. So a request that
//! follows an admin's write (whose `INCR` finished before the admin got the answer) always sees
//! the new version, on every replica.
//!
//! At most two reads exist: `current` (in flight; it may have begun before a newcomer arrived,
//! so newcomers never join it) and `next` (begins when `current` ends; newcomers join it).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use platform::redis::Redis;

type Read = Shared<BoxFuture<'static, Result<u64, String>>>;

#[derive(Default)]
struct Reads {
    current: Option<Read>,
    next: Option<Read>,
}

/// Shared, read-your-writes reads of one version key.
pub struct VersionGate {
    redis: Redis,
    key: String,
    timeout: Duration,
    reads: Mutex<Reads>,
}

impl VersionGate {
    /// Reads `key` (full Redis key) through `redis`, each read bounded by `timeout`.
    pub fn new(redis: Redis, key: String, timeout: Duration) -> Self {
        Self { redis, key, timeout, reads: Mutex::new(Reads::default()) }
    }

    /// The version as of some moment after this call began (0 when the key is missing).
    pub async fn read(self: &Arc<Self>) -> Result<u64, String> {
        let read = {
            let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
            match (&reads.current, &reads.next) {
                (None, _) => {
                    let r = self.start(None);
                    reads.current = Some(r.clone());
                    r
                }
                (Some(_), Some(next)) => next.clone(),
                (Some(current), None) => {
                    let r = self.start(Some(current.clone()));
                    reads.next = Some(r.clone());
                    r
                }
            }
        };
        read.await
    }

    fn start(self: &Arc<Self>, after: Option<Read>) -> Read {
        let this = Arc::clone(self);
        async move {
            if let Some(previous) = after {
                // `previous` promoted this read to `current` as it finished.
                let _ = previous.await;
            }
            let result = this.get().await;
            let mut reads = this.reads.lock().unwrap_or_else(PoisonError::into_inner);
            reads.current = reads.next.take();
            result
        }
        .boxed()
        .shared()
    }

    async fn get(&self) -> Result<u64, String> {
        let run = async {
            let mut conn = self.redis.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("GET")
                .arg(&self.key)
                .query_async::<Option<u64>>(&mut *conn)
                .await
                .map(Option::unwrap_or_default)
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout(self.timeout, run)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.timeout)))
    }
}
