//! `cart`: serve (default) or migrate.

use cart::config::CartSettings;

fn main() -> std::process::ExitCode {
    platform::cli::main_with_standard_commands::<CartSettings>(
        "Carts: guest and customer carts with stock reserved through catalog",
        cart::app::describe,
    )
}
