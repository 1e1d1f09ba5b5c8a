//! `payment-webhook`: parses the command line and runs `serve` (the default) or `migrate`.

fn main() -> std::process::ExitCode {
    platform::cli::main_with_standard_commands(payment_webhook::ABOUT, payment_webhook::app::describe)
}
