//! `catalog import FILE.jsonl`: JSON Lines → validated products → batched upserts by SKU.
//!
//! A bad line is reported with its number and reason and skipped; with `strict` the first bad
//! line stops the import and nothing of it is kept (the whole import is one transaction).

use std::collections::HashSet;
use std::io::BufRead;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::ids::Sku;
use domain::money::Currency;

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
    /// The database failed for a reason that is not one line's fault.
    #[error("database error: {0}")]
    Database(#[from] DieselError),
}

/// Imports JSON lines from `input` (`size` bytes, when known, for the ETA), reporting each
/// rejected line to `on_reject` as it is found.
pub async fn import(
    conn: &mut AsyncPgConnection,
    input: impl BufRead + Send,
    size: Option<u64>,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut progress = Progress::new("import", "lines");
    let result = if options.strict {
        conn.transaction::<_, ImportError, _>(async |c| {
            run(c, input, size, options, on_reject, &mut progress).await
        })
        .await
    } else {
        run(conn, input, size, options, on_reject, &mut progress).await
    };
    progress.finish();
    result
}

/// The products of the batch being filled, with their line numbers.
struct Batch {
    rows: Vec<NewProduct>,
    lines: Vec<u64>,
    skus: HashSet<Sku>,
}

async fn run(
    conn: &mut AsyncPgConnection,
    input: impl BufRead,
    size: Option<u64>,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
    progress: &mut Progress,
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary::default();
    let mut batch = Batch { rows: Vec::new(), lines: Vec::new(), skus: HashSet::new() };
    let mut bytes_read: u64 = 0;
    for (number, line) in (1_u64..).zip(input.lines()) {
        let line = line?;
        bytes_read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        match ProductLine::parse(&line).and_then(|l| l.validate(options.currency)) {
            Ok(product) => {
                // One statement may not touch a row twice: a repeated SKU starts a new batch,
                // so the later line wins, as it would line by line.
                if batch.skus.contains(&product.sku) {
                    flush(conn, &mut batch, &mut summary, options, on_reject).await?;
                }
                batch.skus.insert(product.sku.clone());
                batch.rows.push(product);
                batch.lines.push(number);
                if batch.rows.len() >= options.batch_size.max(1) {
                    flush(conn, &mut batch, &mut summary, options, on_reject).await?;
                }
            }
            Err(reason) => reject(Rejection { line: number, reason }, &mut summary, options, on_reject)?,
        }
        #[allow(clippy::cast_precision_loss)] // a progress fraction
        progress.update(summary.lines, size.filter(|s| *s > 0).map(|s| bytes_read as f64 / s as f64));
    }
    flush(conn, &mut batch, &mut summary, options, on_reject).await?;
    Ok(summary)
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

/// Upserts the batch; if the database refuses it (a slug clash), retries row by row to name
/// the guilty lines. Each attempt runs in its own (sub)transaction, so a failure undoes only itself.
async fn flush(
    conn: &mut AsyncPgConnection,
    batch: &mut Batch,
    summary: &mut ImportSummary,
    options: ImportOptions,
    on_reject: &mut (dyn FnMut(&Rejection) + Send),
) -> Result<(), ImportError> {
    let rows = std::mem::take(&mut batch.rows);
    let lines = std::mem::take(&mut batch.lines);
    batch.skus.clear();
    let whole = conn.transaction::<_, DieselError, _>(async |c| upsert_batch(c, &rows).await).await;
    match whole {
        Ok(counts) => summary.counts.add(counts),
        Err(e) if row_fault(&e).is_none() => return Err(e.into()),
        Err(_) => {
            for (row, line) in rows.into_iter().zip(lines) {
                let one = std::slice::from_ref(&row);
                match conn.transaction::<_, DieselError, _>(async |c| upsert_batch(c, one).await).await {
                    Ok(counts) => summary.counts.add(counts),
                    Err(e) => match row_fault(&e) {
                        Some(reason) => reject(Rejection { line, reason }, summary, options, on_reject)?,
                        None => return Err(e.into()),
                    },
                }
            }
        }
    }
    Ok(())
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
