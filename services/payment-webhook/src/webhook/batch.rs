//! Group commit: concurrent callers share one flush (for the webhook, one database statement).
//!
//! A task owns the queue. It takes the first item, gathers more until the window has passed
//! since that item or the batch is full, and hands the batch to [`Flush::flush`] on a task of
//! its own, so several batches can be in flight (up to `in_flight`) and one slow commit does not
//! stop the next batch from forming. While every slot is busy the waiting batch keeps growing
//! (up to `max_items`): the slower the database, the bigger the batches. Each caller gets its
//! item's reply once the flush has returned; a caller whose flush panicked, or that submits after
//! the task ended, gets [`Closed`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;

/// When a batch is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// How long a batch gathers after its first item. Zero takes only what is already queued.
    /// Tokio's timer has a resolution of 1 ms, so any non-zero window lasts at least until the
    /// next millisecond tick.
    pub window: Duration,
    /// Most items per flush.
    pub max_items: usize,
    /// Most flushes running at once.
    pub in_flight: usize,
}

impl Default for BatchOptions {
    /// No wait: a batch is what queued while earlier batches were being written, which under load
    /// is 6 to 30 events; a 1 ms window doubled the batch but cost each request about 1 ms in
    /// `make bench-webhook` (docs/adr/0040, amendment of issue 12).
    fn default() -> Self {
        Self { window: Duration::ZERO, max_items: 64, in_flight: 8 }
    }
}

/// Writes one batch.
pub trait Flush: Send + Sync + 'static {
    /// What a caller submits.
    type Item: Send + 'static;
    /// What each caller is answered.
    type Reply: Send + 'static;
    /// Flushes `items`; returns one reply per item, in the same order.
    fn flush(&self, items: Vec<Self::Item>) -> impl Future<Output = Vec<Self::Reply>> + Send;
}

/// The batcher is gone (its task ended or a flush panicked): the item's fate is unknown to the
/// caller, who must not report success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the batcher is not running")]
pub struct Closed;

type Entry<F> = (<F as Flush>::Item, oneshot::Sender<<F as Flush>::Reply>);

/// A handle to a running batcher; cheap to clone. The task ends when every handle is dropped
/// (after flushing what was queued).
pub struct Batcher<F: Flush> {
    queue: mpsc::Sender<Entry<F>>,
}

impl<F: Flush> Clone for Batcher<F> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<F: Flush> Batcher<F> {
    /// Starts the batcher's task on the current runtime.
    pub fn spawn(flush: F, options: BatchOptions) -> Self {
        let options = BatchOptions {
            max_items: options.max_items.max(1),
            in_flight: options.in_flight.max(1),
            ..options
        };
        // Room for every slot's batch plus the one gathering: beyond that callers wait here.
        let (queue, rx) = mpsc::channel(options.max_items * (options.in_flight + 1));
        tokio::spawn(run(rx, Arc::new(flush), options));
        Self { queue }
    }

    /// Queues `item` and waits for its reply.
    pub async fn submit(&self, item: F::Item) -> Result<F::Reply, Closed> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((item, reply)).await.map_err(|_| Closed)?;
        answer.await.map_err(|_| Closed)
    }
}

async fn run<F: Flush>(mut rx: mpsc::Receiver<Entry<F>>, flush: Arc<F>, options: BatchOptions) {
    let slots = Arc::new(Semaphore::new(options.in_flight));
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(options.max_items);
        batch.push(first);
        let deadline = Instant::now() + options.window;
        // `timeout_at` polls the queue before the clock, so a zero window still takes what is queued.
        while batch.len() < options.max_items {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(entry)) => batch.push(entry),
                Ok(None) | Err(_) => break,
            }
        }
        // Every slot busy: keep gathering until one frees or the batch is full.
        let slot = loop {
            if batch.len() >= options.max_items {
                break Arc::clone(&slots).acquire_owned().await;
            }
            tokio::select! {
                biased;
                slot = Arc::clone(&slots).acquire_owned() => break slot,
                entry = rx.recv() => match entry {
                    Some(entry) => batch.push(entry),
                    None => break Arc::clone(&slots).acquire_owned().await,
                },
            }
        };
        // The semaphore is never closed, so a slot always comes; flush anyway if it did not.
        let slot = slot.ok();
        let flush = Arc::clone(&flush);
        tokio::spawn(async move {
            let _slot = slot;
            let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let answers = flush.flush(items).await;
            for (reply, answer) in replies.into_iter().zip(answers) {
                // The caller may have gone (client disconnected): nothing to tell.
                let _ = reply.send(answer);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Doubles every item and remembers the batch sizes; optionally waits for `gate` first.
    #[derive(Default)]
    struct Recorder {
        sizes: Mutex<Vec<usize>>,
        gate: Option<Arc<tokio::sync::Notify>>,
    }

    impl Flush for Recorder {
        type Item = u32;
        type Reply = u32;
        async fn flush(&self, items: Vec<u32>) -> Vec<u32> {
            self.sizes.lock().unwrap().push(items.len());
            if let Some(gate) = &self.gate {
                gate.notified().await;
            }
            items.into_iter().map(|i| i * 2).collect()
        }
    }

    fn options(window_ms: u64, max_items: usize, in_flight: usize) -> BatchOptions {
        BatchOptions { window: Duration::from_millis(window_ms), max_items, in_flight }
    }

    #[tokio::test]
    async fn concurrent_items_share_a_flush_and_each_gets_its_own_reply() {
        let recorder = Arc::new(Recorder::default());
        let batcher = Batcher::spawn(Arc::clone(&recorder), options(10_000, 5, 1));
        let replies = futures_util::future::join_all((0..5).map(|i| batcher.submit(i))).await;
        assert_eq!(replies, (0..5).map(|i| Ok(i * 2)).collect::<Vec<_>>());
        assert_eq!(*recorder.sizes.lock().unwrap(), vec![5], "a full batch goes before its window ends");
    }

    #[tokio::test]
    async fn a_lone_item_goes_when_its_window_ends() {
        let recorder = Arc::new(Recorder::default());
        let batcher = Batcher::spawn(Arc::clone(&recorder), options(5, 64, 1));
        assert_eq!(batcher.submit(21).await, Ok(42));
        assert_eq!(*recorder.sizes.lock().unwrap(), vec![1]);
    }

    #[tokio::test]
    async fn batches_grow_while_every_slot_is_busy() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let recorder = Arc::new(Recorder { gate: Some(Arc::clone(&gate)), ..Recorder::default() });
        let batcher = Batcher::spawn(Arc::clone(&recorder), options(0, 64, 1));
        let first = tokio::spawn({
            let b = batcher.clone();
            async move { b.submit(1).await }
        });
        testkit::wait_until(Duration::from_secs(5), "the first flush", || async {
            (recorder.sizes.lock().unwrap().len() == 1).then_some(())
        })
        .await;
        // The only slot is held by the first flush: these three are queued and wait together.
        let mut answers = Vec::new();
        for i in 2..5 {
            let (reply, answer) = oneshot::channel();
            batcher.queue.send((i, reply)).await.unwrap();
            answers.push(answer);
        }
        gate.notify_one();
        assert_eq!(first.await.unwrap(), Ok(2));
        testkit::wait_until(Duration::from_secs(5), "the second flush", || async {
            (recorder.sizes.lock().unwrap().len() == 2).then_some(())
        })
        .await;
        gate.notify_one();
        for (i, answer) in (2..5).zip(answers) {
            assert_eq!(answer.await.unwrap(), i * 2);
        }
        assert_eq!(*recorder.sizes.lock().unwrap(), vec![1, 3]);
    }

    impl<T: Flush> Flush for Arc<T> {
        type Item = T::Item;
        type Reply = T::Reply;
        fn flush(&self, items: Vec<T::Item>) -> impl Future<Output = Vec<T::Reply>> + Send {
            T::flush(self, items)
        }
    }
}
