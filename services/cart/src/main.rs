//! `cart`: parses the command line and runs `serve` (the default) or `migrate`.

fn main() -> std::process::ExitCode {
    platform::cli::main_with_standard_commands(cart::ABOUT, cart::app::describe)
}
