//! `payment-webhook`: serve (default) or migrate.

use payment_webhook::config::WebhookVars;

fn main() -> std::process::ExitCode {
    platform::cli::main_with_standard_commands::<WebhookVars>(
        "Stripe webhook intake: verified Stripe events become payment events",
        payment_webhook::app::describe,
    )
}
