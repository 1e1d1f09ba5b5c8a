//! `catalog seed --count N --seed S`: products `1..=N` of [`generate::product`], upserted in
//! batches over a few connections at once (products are independent, so batches may commit in
//! any order), with progress on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::{BATCH_SIZE, NewProduct, Progress, UpsertCounts, generate, tune_for_bulk_load, upsert_batch};

/// Connections a bulk load writes through: PostgreSQL then works on several batches in parallel.
pub const BULK_CONNECTIONS: usize = 2;

/// Upserts products `1..=count` generated from `seed` into the catalog schema at `url`.
pub async fn seed_generated(url: &str, schema: &str, count: u64, seed: u64) -> anyhow::Result<UpsertCounts> {
    let next = Arc::new(AtomicU64::new(1));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..BULK_CONNECTIONS {
        let mut conn = platform::db::connect(url, schema).await?;
        tune_for_bulk_load(&mut conn).await?;
        let (next, done_tx) = (next.clone(), done_tx.clone());
        workers.spawn(async move {
            let mut counts = UpsertCounts::default();
            loop {
                // Each worker claims the next range; ranges never overlap.
                let start = next.fetch_add(BATCH_SIZE as u64, Ordering::Relaxed);
                if start > count {
                    return Ok::<_, diesel::result::Error>(counts);
                }
                let end = count.min(start + BATCH_SIZE as u64 - 1);
                let rows: Vec<NewProduct> = (start..=end).map(|i| generate::product(seed, i)).collect();
                counts.add(upsert_batch(&mut conn, &rows).await?);
                let _ = done_tx.send(end - start + 1);
            }
        });
    }
    drop(done_tx);
    let mut progress = Progress::new("seed", "products");
    let mut done = 0;
    while let Some(n) = done_rx.recv().await {
        done += n;
        #[allow(clippy::cast_precision_loss)] // a progress fraction
        progress.update(done, Some(done as f64 / count.max(1) as f64));
    }
    progress.finish();
    let mut total = UpsertCounts::default();
    while let Some(joined) = workers.join_next().await {
        total.add(joined??);
    }
    Ok(total)
}
