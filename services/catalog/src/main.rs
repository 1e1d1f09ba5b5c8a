//! `catalog`: parses the command line and runs the subcommand (see `catalog::cli`).

fn main() -> std::process::ExitCode {
    platform::cli::main_with_commands(catalog::ABOUT, catalog::cli::run)
}
