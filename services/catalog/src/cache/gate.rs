//! The tag version without one Redis round trip per request: concurrent requests share one
//! `GET`, but a request only ever uses a read that *began after it arrived*. So a request that
//! follows an admin's write (whose `INCR` finished before the admin got the answer) always sees
//! the new version, on every replica.
//!
//! At most two reads exist: `current` (in flight; it may have begun before a newcomer arrived,
//! so newcomers never join it) and `next` (begins when `current` ends; newcomers join it).

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use super::link::{Failure, RedisLink};

type Read = Shared<BoxFuture<'static, Result<u64, Failure>>>;

#[derive(Default)]
struct Reads {
    current: Option<Read>,
    next: Option<Read>,
}

/// Shared, read-your-writes reads of one version key.
pub struct VersionGate {
    link: RedisLink,
    key: String,
    reads: Mutex<Reads>,
}

impl VersionGate {
    /// Reads `key` (full Redis key) through `link` (which bounds each read).
    pub fn new(link: RedisLink, key: String) -> Self {
        Self { link, key, reads: Mutex::new(Reads::default()) }
    }

    /// The version as of some moment after this call began (0 when the key is missing).
    pub async fn read(self: &Arc<Self>) -> Result<u64, Failure> {
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

    async fn get(&self) -> Result<u64, Failure> {
        let version: Option<u64> = self.link.query(redis::cmd("GET").arg(&self.key)).await?;
        Ok(version.unwrap_or_default())
    }
}
