//! `catalog`'s subcommands: serve (default), migrate, dlq, explain, seed, import.

use crate::SCHEMA;
use crate::config::CatalogConfig;
use clap::Subcommand;
use platform::cli::ServiceCommand;

/// The catalog's subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// `serve` and `migrate`.
    #[command(flatten)]
    Service(ServiceCommand),
    /// Inspect or redrive a consumer's dead-letter queue.
    Dlq {
        /// What to do.
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Print EXPLAIN of every listing query shape; fails if one scans products sequentially.
    Explain {
        /// Run the queries and show where the time goes (`EXPLAIN (ANALYZE, BUFFERS)`).
        #[arg(long)]
        analyze: bool,
        /// Query strings to explain (default: the built-in shapes).
        queries: Vec<String>,
    },
    /// Load sample data: the demo products and/or N generated ones.
    Seed {
        /// The seed's three demo products.
        #[arg(long)]
        demo: bool,
        /// Generate this many realistic products (upserted by SKU).
        #[arg(long)]
        count: Option<u64>,
        /// The generator's seed: the same seed gives the same products.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the generated products as JSON Lines (the import format) instead of loading them.
        #[arg(long, requires = "count")]
        jsonl: bool,
        /// Drop the GIN indexes during the load and build them after (initial loads only).
        #[arg(long, requires = "count")]
        defer_gin_indexes: bool,
    },
    /// Upsert products by SKU from a JSON Lines file (exit 3 when lines were rejected).
    Import {
        /// The `.jsonl` file (`-` for standard input).
        file: std::path::PathBuf,
        /// Stop at the first bad line and import nothing.
        #[arg(long)]
        strict: bool,
        /// Rows per insert statement.
        #[arg(long, default_value_t = crate::bulk::BATCH_SIZE)]
        batch_size: usize,
        /// Drop the GIN indexes during the load and build them after (initial loads only).
        #[arg(long)]
        defer_gin_indexes: bool,
    },
}

/// `catalog dlq ...`.
#[derive(Subcommand)]
pub enum DlqAction {
    /// How many messages wait in `<queue>.dlq`.
    Depth {
        /// The consumer queue, e.g. `catalog.orders`.
        queue: String,
    },
    /// Move messages from `<queue>.dlq` back to `<queue>`.
    Redrive {
        /// The consumer queue, e.g. `catalog.orders`.
        queue: String,
        /// Move at most this many.
        #[arg(long)]
        limit: Option<usize>,
    },
}

/// Exit code of an import that finished but rejected some lines (1 is a failure, 2 bad config).
const EXIT_REJECTED: u8 = 3;

/// How a subcommand that did not fail ended.
pub enum Outcome {
    /// Finished.
    Done,
    /// An import skipped bad lines.
    Rejected,
}

impl std::process::Termination for Outcome {
    fn report(self) -> std::process::ExitCode {
        match self {
            Self::Done => std::process::ExitCode::SUCCESS,
            Self::Rejected => std::process::ExitCode::from(EXIT_REJECTED),
        }
    }
}

/// Runs `command` (`serve` when `None`).
pub async fn run(command: Option<Command>, config: CatalogConfig) -> anyhow::Result<Outcome> {
    let url = config.base.connections.database_url.expose().to_owned();
    match command.unwrap_or(Command::Service(ServiceCommand::Serve)) {
        Command::Seed { demo, count, seed, jsonl, defer_gin_indexes } => {
            seed_command(&config, demo, count, seed, jsonl, defer_gin_indexes).await?;
            Ok(Outcome::Done)
        }
        Command::Import { file, strict, batch_size, defer_gin_indexes } => {
            let deferred = defer(&config, defer_gin_indexes).await?;
            let outcome = import_command(&config, &file, strict, batch_size).await;
            // Rebuilt even when the import failed: the table must not stay without them.
            undefer(&config, deferred).await?;
            outcome
        }
        Command::Service(command) => {
            let base = config.base.clone();
            command.run(&crate::INFO, base, |res| crate::app::describe(&config, res)).await?;
            Ok(Outcome::Done)
        }
        Command::Dlq { action } => {
            let broker = platform::events::Broker::new(
                config.base.connections.amqp_url.expose(),
                config.base.amqp_exchange.clone(),
            )
            .with_connection_name("catalog-dlq");
            match action {
                DlqAction::Depth { queue } => {
                    let depth = platform::events::dlq_depth(&broker, &queue).await?;
                    println!("{queue}.dlq: {depth} message(s)");
                }
                DlqAction::Redrive { queue, limit } => {
                    let moved = platform::events::redrive(&broker, &queue, limit).await?;
                    println!("{queue}: {moved} message(s) redriven from {queue}.dlq");
                }
            }
            broker.close().await;
            Ok(Outcome::Done)
        }
        Command::Explain { analyze, queries } => {
            explain_command(&url, queries, analyze).await?;
            Ok(Outcome::Done)
        }
    }
}

async fn seed_command(
    config: &CatalogConfig,
    demo: bool,
    count: Option<u64>,
    seed: u64,
    jsonl: bool,
    defer_gin_indexes: bool,
) -> anyhow::Result<()> {
    use std::io::Write;

    if !demo && count.is_none() {
        anyhow::bail!("nothing to seed: pass --demo and/or --count N");
    }
    if let (Some(count), true) = (count, jsonl) {
        // For benchmarks and examples of the import format: write, don't load.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for i in 1..=count {
            writeln!(out, "{}", crate::bulk::generate::product(seed, i).to_json_line())?;
        }
        out.flush()?;
        return Ok(());
    }
    if demo {
        let mut conn = platform::db::connect(config.base.connections.database_url.expose(), SCHEMA).await?;
        let inserted = crate::seed::seed_demo(&mut conn).await?;
        println!("catalog: seeded {inserted} demo product(s)");
    }
    if let Some(count) = count {
        let started = std::time::Instant::now();
        let deferred = defer(config, defer_gin_indexes).await?;
        let seeded =
            crate::bulk::seed_generated(config.base.connections.database_url.expose(), SCHEMA, count, seed)
                .await;
        // Rebuilt even when the load failed: the table must not stay without them.
        undefer(config, deferred).await?;
        let c = seeded?;
        let secs = started.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)] // a rate for people to read
        let rate = count as f64 / secs.max(1e-3);
        println!(
            "catalog: seeded {count} generated product(s) with seed {seed}: {} inserted, {} updated, {} unchanged in {secs:.1} s ({rate:.0} products/s)",
            c.inserted, c.updated, c.unchanged
        );
        crate::bulk::settle_counts_after_bulk_load(config).await;
        crate::bulk::invalidate_listing_cache_after_bulk_load(config).await;
    }
    Ok(())
}

/// With `--defer-gin-indexes`: drops them (printing how to make them again) and returns them.
async fn defer(
    config: &CatalogConfig,
    wanted: bool,
) -> anyhow::Result<Vec<crate::bulk::indexes::DroppedIndex>> {
    if !wanted {
        return Ok(Vec::new());
    }
    let mut conn = platform::db::connect(config.base.connections.database_url.expose(), SCHEMA).await?;
    let mut report = |i: &crate::bulk::indexes::DroppedIndex| {
        eprintln!(
            "catalog: dropping {} for the load; if the load is interrupted, run: {};",
            i.name, i.definition
        );
    };
    Ok(crate::bulk::indexes::drop_gin_indexes(&mut conn, &mut report).await?)
}

/// Builds the indexes [`defer`] dropped.
async fn undefer(
    config: &CatalogConfig,
    dropped: Vec<crate::bulk::indexes::DroppedIndex>,
) -> anyhow::Result<()> {
    if dropped.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut conn = platform::db::connect(config.base.connections.database_url.expose(), SCHEMA).await?;
    crate::bulk::indexes::rebuild(&mut conn, &dropped).await?;
    eprintln!("catalog: rebuilt {} GIN index(es) in {:.1} s", dropped.len(), started.elapsed().as_secs_f64());
    Ok(())
}

async fn import_command(
    config: &CatalogConfig,
    file: &std::path::Path,
    strict: bool,
    batch_size: usize,
) -> anyhow::Result<Outcome> {
    use std::io::BufReader;

    let (input, size): (Box<dyn std::io::BufRead + Send>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let f =
            std::fs::File::open(file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, f)), size)
    };
    // A strict import is one transaction, so one connection; otherwise batches go in parallel.
    let mut connections = Vec::new();
    for _ in 0..if strict { 1 } else { crate::bulk::BULK_CONNECTIONS } {
        let mut conn = platform::db::connect(config.base.connections.database_url.expose(), SCHEMA).await?;
        crate::bulk::tune_for_bulk_load(&mut conn).await?;
        connections.push(conn);
    }
    let options = crate::bulk::import::ImportOptions { strict, batch_size, currency: config.base.currency };
    let started = std::time::Instant::now();
    let mut report = |r: &crate::bulk::import::Rejection| eprintln!("{r}");
    let summary = crate::bulk::import::import(connections, input, size, options, &mut report).await?;
    let secs = started.elapsed().as_secs_f64();
    let c = summary.counts;
    #[allow(clippy::cast_precision_loss)] // a rate for people to read
    let rate = summary.lines as f64 / secs.max(1e-3);
    println!(
        "catalog: imported {} line(s) in {secs:.1} s ({rate:.0} lines/s): {} inserted, {} updated, {} unchanged, {} rejected",
        summary.lines, c.inserted, c.updated, c.unchanged, summary.rejected
    );
    if c.inserted + c.updated > 0 {
        crate::bulk::settle_counts_after_bulk_load(config).await;
        crate::bulk::invalidate_listing_cache_after_bulk_load(config).await;
    }
    Ok(if summary.rejected > 0 { Outcome::Rejected } else { Outcome::Done })
}

/// `catalog explain [--analyze] [QUERY...]`: the plan of each listing query shape; fails on a Seq
/// Scan of products.
async fn explain_command(url: &str, queries: Vec<String>, analyze: bool) -> anyhow::Result<()> {
    use crate::listing::explain;
    let mut conn = platform::db::connect(url, SCHEMA).await?;
    let shapes: Vec<String> =
        if queries.is_empty() { explain::SHAPES.iter().map(|s| (*s).to_owned()).collect() } else { queries };
    let mut sequential = Vec::new();
    for shape in &shapes {
        let q = explain::shape_query(shape).ok_or_else(|| anyhow::anyhow!("invalid shape {shape:?}"))?;
        let (count, page) = explain::plans_of(&mut conn, &q, analyze).await?;
        println!("== ?{shape}\n-- count\n{count}\n-- page\n{page}\n");
        let searches = explain::search_plans(&mut conn, &q, analyze).await?;
        for (label, plan) in &searches {
            println!("-- {label}\n{plan}\n");
        }
        if searches.iter().any(|(_, plan)| explain::scans_products_sequentially(plan)) {
            sequential.push(shape.clone());
        }
        // A price range's bounded count may read the table from the start: the planner does so
        // only when many rows match (histograms), so it stops after CATALOG_COUNT_CAP of them.
        let count_ok = q.search.is_none() || !explain::scans_products_sequentially(&count);
        if !count_ok || explain::scans_products_sequentially(&page) {
            sequential.push(shape.clone());
        }
    }
    if !sequential.is_empty() {
        anyhow::bail!("sequential scan of products for: {sequential:?}");
    }
    println!("no query shape scans products sequentially");
    Ok(())
}
