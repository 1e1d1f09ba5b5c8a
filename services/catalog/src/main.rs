//! `catalog`: serve (default), migrate, seed.

use catalog::config::{CatalogConfig, SCHEMA};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "catalog", about = "Catalog service: products, inventory and reservations")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and publish outbox events (default).
    Serve,
    /// Apply pending database migrations in the `catalog` schema.
    Migrate,
    /// Inspect or redrive a consumer's dead-letter queue.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Print EXPLAIN of every listing query shape; fails if one scans products sequentially.
    Explain {
        /// Query strings to explain (default: the built-in shapes).
        queries: Vec<String>,
    },
    /// Load sample data.
    Seed {
        /// The seed's three demo products.
        #[arg(long)]
        demo: bool,
    },
}

#[derive(Subcommand)]
enum DlqAction {
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match CatalogConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catalog: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: CatalogConfig) -> anyhow::Result<()> {
    let url = config.connections.database_url.expose().to_owned();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = platform::telemetry::init(catalog::app::SERVICE, config.log_format);
            catalog::app::serve(config).await
        }
        Command::Migrate => {
            let applied = platform::db::migrate(&url, SCHEMA, catalog::MIGRATIONS).await?;
            println!("catalog: {applied} migration(s) applied");
            Ok(())
        }
        Command::Dlq { action } => {
            let broker = platform::events::Broker::new(
                config.connections.amqp_url.expose(),
                config.amqp_exchange.clone(),
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
            Ok(())
        }
        Command::Explain { queries } => {
            let mut conn = platform::db::connect(&url, SCHEMA).await?;
            let mut sequential = Vec::new();
            let shapes: Vec<String> = if queries.is_empty() {
                catalog::listing::explain::SHAPES.iter().map(|s| (*s).to_owned()).collect()
            } else {
                queries
            };
            for shape in &shapes {
                let q = catalog::listing::explain::shape_query(shape)
                    .ok_or_else(|| anyhow::anyhow!("invalid shape {shape:?}"))?;
                let (count, page) = catalog::listing::explain::plans(&mut conn, &q).await?;
                println!("== ?{shape}\n-- count\n{count}\n-- page\n{page}\n");
                if catalog::listing::explain::scans_products_sequentially(&count)
                    || catalog::listing::explain::scans_products_sequentially(&page)
                {
                    sequential.push(shape.clone());
                }
            }
            if !sequential.is_empty() {
                anyhow::bail!("sequential scan of products for: {sequential:?}");
            }
            println!("no query shape scans products sequentially");
            Ok(())
        }
        Command::Seed { demo } => {
            if !demo {
                anyhow::bail!("nothing to seed: pass --demo");
            }
            let mut conn = platform::db::connect(&url, SCHEMA).await?;
            let inserted = catalog::seed::seed_demo(&mut conn).await?;
            println!("catalog: seeded {inserted} demo product(s)");
            Ok(())
        }
    }
}
