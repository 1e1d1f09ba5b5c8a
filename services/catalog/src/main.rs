//! `catalog`: serve (default), migrate, seed.

use catalog::config::{CatalogConfig, SCHEMA};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "catalog",
    about = "Catalog service: products, inventory and reservations"
)]
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
    /// Load sample data.
    Seed {
        /// The seed's three demo products.
        #[arg(long)]
        demo: bool,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
