//! `catalog import FILE.jsonl`: JSON Lines → validated products → batched upserts by SKU.
//!
//! A bad line is reported with its number and reason and skipped; with `strict` the first bad
//! line stops the import and nothing of it is kept (the whole import is one transaction, on one
//! connection). Otherwise batches are written over several connections at once.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::ids::Sku;
use domain::money::Currency;
use tokio::sync::mpsc;

use super::{BATCH_SIZE, NewProduct, ProductLine, Progress, UpsertCounts, upsert_batch};

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Stop at the first bad line and keep nothing.
    pub strict: bool,
    /// Rows per upsert statement.
    pub batch_size: usize,
    /// Currency of lines that name none (`ECOMMERCE_CURRENCY`).
    pub currency: Currency,
}

impl ImportOptions {
    /// Lenient import in `currency` with the default batch size.
    pub fn new(currency: Currency) -> Self {
        Self { strict: false, batch_size: BATCH_SIZE, currency }
    }
}

/// A line that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line number in the file.
    pub line: u64,
    /// Every rule it broke.
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Inserted, updated and unchanged products.
    pub counts: UpsertCounts,
    /// Lines not imported.
    pub rejected: u64,
    /// Non-blank lines read.
    pub lines: u64,
}

/// Why an import stopped before the end of the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `strict` and a bad line: nothing was kept.
    #[error("{0} (--strict: nothing imported)")]
    Strict(Rejection),
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    /// [`import`] was given no connection.
    #[error("no database connection to import with")]
    NoConnection,
    /// The database failed for a reason that is not one line's fault.
    #[error("database error: {0}")]
    Database(#[from] DieselError),
}

/// Imports JSON lines from `input` (`size` bytes, when known, for the ETA), reporting each
/// rejected line to `on_reject` as it is found.
///
/// With several `connections` (and not `strict`), batches are written in parallel: rows are
/// partitioned by SKU, so all lines of one SKU go through one connection, in file order.
pub async fn import(
    mut connections: Vec<AsyncPgConnection>,
    input: impl BufRead + Send,
    size: Option<u64>,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut progress = Progress::new("import", "lines");
    let Some(mut first) = connections.pop() else {
        return Err(ImportError::NoConnection);
    };
    let result = if options.strict {
        first
            .transaction::<_, ImportError, _>(async |c| {
                run(Sink::Inline(c), input, size, options, on_reject, &mut progress).await
            })
            .await
    } else if connections.is_empty() {
        run(Sink::Inline(&mut first), input, size, options, on_reject, &mut progress).await
    } else {
        connections.push(first);
        run(Sink::parallel(connections), input, size, options, on_reject, &mut progress).await
    };
    progress.finish();
    result
}

/// The products of a batch being filled, with their line numbers.
#[derive(Default)]
struct Batch {
    rows: Vec<NewProduct>,
    lines: Vec<u64>,
    skus: HashSet<Sku>,
}

impl Batch {
    fn take(&mut self) -> Batch {
        std::mem::take(self)
    }
}

/// What writing one batch did.
#[derive(Default)]
struct Written {
    counts: UpsertCounts,
    rejected: Vec<Rejection>,
}

/// Where full batches go.
enum Sink<'c> {
    /// Written by the reading task on one connection (strict imports: in one transaction).
    Inline(&'c mut AsyncPgConnection),
    /// Sent to one writer task per connection; batch `i` of partition `p` goes to writer `p`.
    Parallel {
        senders: Vec<mpsc::Sender<Batch>>,
        results: mpsc::UnboundedReceiver<Result<Written, DieselError>>,
        writers: tokio::task::JoinSet<()>,
    },
}

impl Sink<'_> {
    fn parallel(connections: Vec<AsyncPgConnection>) -> Sink<'static> {
        let (results_tx, results) = mpsc::unbounded_channel();
        let mut writers = tokio::task::JoinSet::new();
        let mut senders = Vec::new();
        for mut conn in connections {
            // Two batches in flight per writer: the reader parses the next while one is written.
            let (tx, mut rx) = mpsc::channel::<Batch>(2);
            senders.push(tx);
            let results_tx = results_tx.clone();
            writers.spawn(async move {
                while let Some(batch) = rx.recv().await {
                    let written = write(&mut conn, batch).await;
                    let failed = written.is_err();
                    if results_tx.send(written).is_err() || failed {
                        return;
                    }
                }
            });
        }
        Sink::Parallel { senders, results, writers }
    }

    fn partitions(&self) -> usize {
        match self {
            Sink::Inline(_) => 1,
            Sink::Parallel { senders, .. } => senders.len(),
        }
    }

    /// Writes (or hands over) a batch; returns what is known to be written so far.
    async fn put(&mut self, partition: usize, batch: Batch) -> Result<Vec<Written>, ImportError> {
        match self {
            Sink::Inline(conn) => Ok(vec![write(conn, batch).await?]),
            Sink::Parallel { senders, results, .. } => {
                if let Some(tx) = senders.get(partition) {
                    // A writer that stopped has reported why; that is picked up below.
                    let _ = tx.send(batch).await;
                }
                let mut done = Vec::new();
                while let Ok(r) = results.try_recv() {
                    done.push(r?);
                }
                Ok(done)
            }
        }
    }

    /// Waits for every batch handed over.
    async fn finish(self) -> Result<Vec<Written>, ImportError> {
        let Sink::Parallel { senders, mut results, mut writers } = self else { return Ok(Vec::new()) };
        drop(senders);
        let mut done = Vec::new();
        while let Some(r) = results.recv().await {
            done.push(r?);
        }
        while writers.join_next().await.is_some() {}
        Ok(done)
    }
}

fn hash64(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys: the same text always lands in the same partition.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

async fn run(
    mut sink: Sink<'_>,
    input: impl BufRead,
    size: Option<u64>,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
    progress: &mut Progress,
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary::default();
    let partitions = sink.partitions();
    let mut batches: Vec<Batch> = (0..partitions).map(|_| Batch::default()).collect();
    // slug → (SKU, line) of the line that used it first: a clash inside the file is found
    // here, deterministically, whichever writer would have reached the database first.
    let mut slugs: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut bytes_read: u64 = 0;
    for (number, line) in (1_u64..).zip(input.lines()) {
        let line = line?;
        bytes_read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let product = ProductLine::parse(&line).and_then(|l| l.validate(options.currency)).and_then(|p| {
            let sku = hash64(p.sku.as_str());
            match slugs.entry(hash64(p.slug.as_str())) {
                Entry::Occupied(first) if first.get().0 != sku => {
                    Err(format!("slug: already used by line {} (another SKU)", first.get().1))
                }
                Entry::Occupied(_) => Ok((p, sku)),
                Entry::Vacant(v) => {
                    v.insert((sku, number));
                    Ok((p, sku))
                }
            }
        });
        match product {
            Ok((product, sku_hash)) => {
                let p = usize::try_from(sku_hash % partitions as u64).unwrap_or(0);
                let batch = &mut batches[p];
                // One statement may not touch a row twice: a repeated SKU starts a new batch,
                // so the later line wins, as it would line by line.
                if batch.skus.contains(&product.sku) {
                    let full = batch.take();
                    absorb(sink.put(p, full).await?, &mut summary, options, on_reject)?;
                }
                let batch = &mut batches[p];
                batch.skus.insert(product.sku.clone());
                batch.rows.push(product);
                batch.lines.push(number);
                if batch.rows.len() >= options.batch_size.max(1) {
                    let full = batch.take();
                    absorb(sink.put(p, full).await?, &mut summary, options, on_reject)?;
                }
            }
            Err(reason) => reject(Rejection { line: number, reason }, &mut summary, options, on_reject)?,
        }
        #[allow(clippy::cast_precision_loss)] // a progress fraction
        progress.update(summary.lines, size.filter(|s| *s > 0).map(|s| bytes_read as f64 / s as f64));
    }
    for (p, batch) in batches.iter_mut().enumerate() {
        if !batch.rows.is_empty() {
            let last = batch.take();
            absorb(sink.put(p, last).await?, &mut summary, options, on_reject)?;
        }
    }
    absorb(sink.finish().await?, &mut summary, options, on_reject)?;
    Ok(summary)
}

fn absorb(
    written: Vec<Written>,
    summary: &mut ImportSummary,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
) -> Result<(), ImportError> {
    for w in written {
        summary.counts.add(w.counts);
        for r in w.rejected {
            reject(r, summary, options, on_reject)?;
        }
    }
    Ok(())
}

fn reject(
    rejection: Rejection,
    summary: &mut ImportSummary,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
) -> Result<(), ImportError> {
    if options.strict {
        return Err(ImportError::Strict(rejection));
    }
    summary.rejected += 1;
    on_reject(&rejection);
    Ok(())
}

/// Upserts a batch; if the database refuses it (a slug held by another product, or a deadlock
/// with a parallel writer over such a slug), retries row by row to name the guilty lines. Each
/// attempt runs in its own (sub)transaction, so a failure undoes only itself.
async fn write(conn: &mut AsyncPgConnection, batch: Batch) -> Result<Written, DieselError> {
    let Batch { rows, lines, .. } = batch;
    let whole = conn.transaction::<_, DieselError, _>(async |c| upsert_batch(c, &rows).await).await;
    let mut written = Written::default();
    match whole {
        Ok(counts) => written.counts = counts,
        Err(e) if row_fault(&e).is_none() && !is_deadlock(&e) => return Err(e),
        Err(_) => {
            for (row, line) in rows.into_iter().zip(lines) {
                let one = std::slice::from_ref(&row);
                match conn.transaction::<_, DieselError, _>(async |c| upsert_batch(c, one).await).await {
                    Ok(counts) => written.counts.add(counts),
                    Err(e) => match row_fault(&e) {
                        Some(reason) => written.rejected.push(Rejection { line, reason }),
                        None => return Err(e),
                    },
                }
            }
        }
    }
    Ok(written)
}

/// PostgreSQL broke a deadlock by aborting this statement (diesel has no kind for 40P01).
fn is_deadlock(e: &DieselError) -> bool {
    matches!(e, DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected"))
}

/// The reason to give for a row the database refused, or `None` when the failure is not the
/// row's fault (connection lost, time-out ...).
fn row_fault(e: &DieselError) -> Option<String> {
    let DieselError::DatabaseError(kind, info) = e else { return None };
    match kind {
        DatabaseErrorKind::UniqueViolation if info.constraint_name() == Some("products_slug_key") => {
            Some("slug: already used by another product".to_owned())
        }
        DatabaseErrorKind::UniqueViolation
        | DatabaseErrorKind::CheckViolation
        | DatabaseErrorKind::NotNullViolation => Some(format!("refused by the database: {}", info.message())),
        _ => None,
    }
}
