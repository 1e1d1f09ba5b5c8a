//! Capped exponential back-off with a little jitter, for reconnect loops and retries.

use std::time::Duration;

/// Back-off state of one reconnect loop: `base`, `2·base`, `4·base` ... up to `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A back-off starting at `base` and never exceeding `max`.
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self { base, max, failures: 0 }
    }

    /// The pause before the next attempt (grows with each call, plus up to 20 % jitter).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = exponential(self.base, self.max, self.failures);
        self.failures = self.failures.saturating_add(1);
        with_jitter(delay).min(self.max)
    }

    /// Call after a success: the next failure waits `base` again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `base · 2^attempt`, capped at `max` (no jitter: used for per-message retry delays).
pub(crate) fn exponential(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// Adds up to 20 % random jitter so replicas do not reconnect in lock-step.
fn with_jitter(delay: Duration) -> Duration {
    let span = delay.as_millis() / 5;
    if span == 0 {
        return delay;
    }
    // Random bits without a dedicated RNG dependency.
    let extra = uuid::Uuid::new_v4().as_u128() % span;
    delay + Duration::from_millis(u64::try_from(extra).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let ms = Duration::from_millis;
        assert_eq!(exponential(ms(50), ms(1000), 0), ms(50));
        assert_eq!(exponential(ms(50), ms(1000), 2), ms(200));
        assert_eq!(exponential(ms(50), ms(1000), 10), ms(1000));
        assert_eq!(exponential(ms(50), ms(1000), 200), ms(1000));
        let mut b = Backoff::new(ms(100), ms(300));
        assert!(b.next_delay() < ms(121));
        assert!(b.next_delay() >= ms(200));
        assert_eq!(b.next_delay(), ms(300));
        b.reset();
        assert!(b.next_delay() < ms(121));
    }
}
