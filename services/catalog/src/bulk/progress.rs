//! Progress of a bulk load on stderr: a redrawn line with rate and ETA on a terminal, a plain
//! line every few seconds otherwise (logs, CI), so piping the output never fills it with `\r`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the terminal line is redrawn.
const TTY_EVERY: Duration = Duration::from_millis(200);
/// How often a plain line is written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Reports how far a bulk load has come.
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    started: Instant,
    last: Option<Instant>,
    tty: bool,
}

impl Progress {
    /// Progress of `label` (e.g. `"import"`), counting `unit`s (e.g. `"lines"`).
    pub fn new(label: &'static str, unit: &'static str) -> Self {
        Self { label, unit, started: Instant::now(), last: None, tty: std::io::stderr().is_terminal() }
    }

    /// Records that `done` units are finished, `fraction` (0..=1) of the whole when known.
    pub fn update(&mut self, done: u64, fraction: Option<f64>) {
        let now = Instant::now();
        let every = if self.tty { TTY_EVERY } else { PLAIN_EVERY };
        let due =
            self.last.map_or(now.duration_since(self.started) >= every, |l| now.duration_since(l) >= every);
        if !due {
            return;
        }
        self.last = Some(now);
        let line = self.line(done, fraction, now.duration_since(self.started));
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }

    /// Ends the redrawn line (a terminal keeps the last state on screen).
    pub fn finish(&mut self) {
        if self.tty && self.last.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }

    /// Time since the load started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn line(&self, done: u64, fraction: Option<f64>, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-3);
        #[allow(clippy::cast_precision_loss)] // a rate for people to read
        let rate = done as f64 / secs;
        let mut line = format!("{}: {done} {} ({rate:.0}/s", self.label, self.unit);
        if let Some(f) = fraction.filter(|f| *f > 0.0) {
            let eta = secs * (1.0 - f.min(1.0)) / f;
            let _ = write!(line, ", {:.1} %, ETA {}", f * 100.0, human(eta));
        }
        line.push(')');
        line
    }
}

/// `75` → `"1 min 15 s"`.
fn human(secs: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // finite, non-negative, small
    let s = secs.max(0.0).round() as u64;
    if s >= 60 { format!("{} min {} s", s / 60, s % 60) } else { format!("{s} s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_rate_and_eta() {
        let p = Progress { label: "import", unit: "lines", started: Instant::now(), last: None, tty: false };
        assert_eq!(
            p.line(50_000, Some(0.25), Duration::from_secs(2)),
            "import: 50000 lines (25000/s, 25.0 %, ETA 6 s)"
        );
        assert_eq!(p.line(10, None, Duration::from_secs(1)), "import: 10 lines (10/s)");
        assert_eq!(human(75.2), "1 min 15 s");
    }
}
