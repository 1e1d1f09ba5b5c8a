//! `cart`: serve (default), migrate.

fn main() {
    // Wired onto platform::service once the runner lands.
}
