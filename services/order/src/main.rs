//! `order`: serve (default), migrate, worker, sweep — wired on the service runner once it lands.

fn main() {}
