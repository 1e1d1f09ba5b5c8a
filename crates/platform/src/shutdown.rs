//! A shutdown signal shared by the HTTP server and background tasks (relay, consumers).

use tokio::sync::watch;

/// Triggers shutdown for every [`Shutdown`] made from it.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Observes the shutdown signal; cheap to clone into each task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Creates a connected trigger and signal.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Signals every observer; idempotent.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
    /// A new observer.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// True once shutdown has been signalled.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }
    /// Resolves when shutdown is signalled (at once if it already was, or if the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|v| *v).await;
    }
    /// Runs `round` now and then every `interval` until shutdown (a round is never cut short;
    /// a late round delays the next instead of bunching them up). Background tasks' loop.
    pub async fn every<F, Fut>(mut self, interval: std::time::Duration, mut round: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = self.wait() => break,
                _ = tick.tick() => round().await,
            }
        }
    }
    /// A signal that never fires, for one-off tools and tests.
    pub fn never() -> Self {
        // One sender kept for the life of the process: receivers of a dropped sender would fire.
        static NEVER: std::sync::OnceLock<watch::Sender<bool>> = std::sync::OnceLock::new();
        Self(NEVER.get_or_init(|| watch::channel(false).0).subscribe())
    }
}
