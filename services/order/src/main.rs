//! `order`: parses the command line and runs the subcommand (see `order::cli`).

fn main() -> std::process::ExitCode {
    platform::cli::main_with_commands(order::ABOUT, order::cli::run)
}
