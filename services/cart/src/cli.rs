//! Subcommands.

use clap::{Parser, Subcommand};

/// `cart [serve|migrate]`.
#[derive(Parser)]
#[command(name = "cart", about = "Carts: guest and customer carts with stock reserved through catalog")]
pub struct Cli {
    /// What to do (`serve` when none is given).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Subcommand, Clone, Copy)]
pub enum Command {
    /// Serve the cart API, its internal API and the order-event consumer (default).
    Serve,
    /// Apply pending database migrations in the `cart` schema.
    Migrate,
}
