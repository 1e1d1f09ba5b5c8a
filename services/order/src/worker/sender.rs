//! The SMTP sender: claim a due email (`pending` or `unknown` → `sending`, committed), send it,
//! mark it `sent`. Delivery is **at least once**: a shop loses more from a missing confirmation
//! than from a rare duplicate, and every copy carries the same `Message-ID` (derived from the
//! dedupe key, one per order and kind), so mail clients fold duplicates. A definite refusal (an
//! SMTP reply) or a failure before anything was sent returns the row to `pending` with back-off;
//! an error while the message may already have been accepted (a dropped connection, a time-out)
//! makes it `unknown`, which is resent after a back-off and counted as a possible duplicate; a
//! row left `sending` by a sender that died is made `unknown` after a short lease, and resent.
//! A send whose `sent` mark cannot be written (the database is down) is marked again until the
//! database is back, so the record converges to `sent`.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use platform::db::PgPool;
use platform::shutdown::Shutdown;

use super::metrics::EmailMetrics;
use super::repo::{Due, claim, finish, park_abandoned};

/// After this long in `sending` the sender that claimed a row is presumed gone (a send times
/// out after 10 s, so a live sender never holds a row this long).
const SENDING_LEASE: Duration = Duration::from_secs(60);
/// How long a sender keeps trying to record a send it made (the database may be restarting).
const RECORD_FOR: Duration = Duration::from_secs(60);
/// Attempts before a row that keeps being refused is given up (`failed`).
const MAX_ATTEMPTS: i32 = 10;

/// Sends queued emails.
#[derive(Clone)]
pub struct Sender {
    pool: PgPool,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    metrics: EmailMetrics,
}

/// What one attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Nothing was due.
    Idle,
    /// Sent.
    Sent,
    /// Refused or unreachable: back to `pending` with back-off (or `failed`).
    Retry,
    /// The outcome is unknown: parked as `unknown`.
    Unknown,
}

impl Sender {
    /// A sender through `smtp_url`: `smtp://[user:password@]host[:port]` (plain SMTP, port 25
    /// by default; this build has no TLS, so use a local relay or sink).
    pub fn new(pool: PgPool, smtp_url: &str, from: &str, metrics: EmailMetrics) -> anyhow::Result<Self> {
        let (host, port, credentials) = parse_smtp_url(smtp_url)
            .ok_or_else(|| anyhow::anyhow!("SMTP_URL must look like smtp://[user:password@]host[:port]"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some((user, password)) = credentials {
            builder = builder
                .credentials(lettre::transport::smtp::authentication::Credentials::new(user, password));
        }
        let transport = builder.build();
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("MAIL_FROM is not an address: {e}"))?;
        Ok(Self { pool, transport, from, metrics })
    }

    /// Sends until shutdown: polls every `idle` when there is nothing to do.
    pub async fn run(self, idle: Duration, mut shutdown: Shutdown) {
        loop {
            let step = self.send_one().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "email sender step failed");
                Sent::Idle
            });
            if step == Sent::Sent {
                continue;
            }
            tokio::select! {
                () = shutdown.wait() => break,
                () = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Claims and sends one due email.
    pub async fn send_one(&self) -> anyhow::Result<Sent> {
        let mut conn = self.pool.get().await?;
        park_abandoned(&mut conn, SENDING_LEASE).await?;
        let Some(due) = claim(&mut conn).await? else { return Ok(Sent::Idle) };
        drop(conn);
        if due.was == "unknown" {
            // An earlier attempt may have been delivered: this copy may be a duplicate (same Message-ID).
            self.metrics.record("possible_duplicate");
        }
        // Nothing is sent if this fails: safe to retry.
        let reachable = self.transport.test_connection().await.unwrap_or(false);
        let outcome = if reachable {
            self.deliver(&due).await
        } else {
            Err(Failure::Before("SMTP server unreachable".into()))
        };
        if outcome.is_ok() {
            self.record_sent(due.id).await?;
            self.metrics.record("sent");
            return Ok(Sent::Sent);
        }
        let mut conn = self.pool.get().await?;
        let sent = match outcome {
            Ok(()) => Sent::Sent,
            Err(Failure::Before(error)) if due.attempts < MAX_ATTEMPTS => {
                let backoff = 2_f64.powi(due.attempts.clamp(0, 10)).min(600.0);
                finish(&mut conn, due.id, "pending", Some(&error), Some(backoff)).await?;
                Sent::Retry
            }
            Err(Failure::Before(error)) => {
                finish(&mut conn, due.id, "failed", Some(&error), None).await?;
                Sent::Retry
            }
            Err(Failure::Unknown(error)) if due.attempts < MAX_ATTEMPTS => {
                tracing::warn!(email = %due.dedupe_key, error = %error, "email may or may not have been sent: resent later");
                let backoff = 2_f64.powi(due.attempts.clamp(0, 10)).min(600.0);
                finish(&mut conn, due.id, "unknown", Some(&error), Some(backoff)).await?;
                Sent::Unknown
            }
            Err(Failure::Unknown(error)) => {
                tracing::error!(email = %due.dedupe_key, error = %error, "email not confirmed after every attempt: a person must check");
                finish(&mut conn, due.id, "failed", Some(&error), None).await?;
                Sent::Unknown
            }
        };
        self.metrics.record(match sent {
            Sent::Sent => "sent",
            Sent::Retry => "retry",
            Sent::Unknown => "unknown",
            Sent::Idle => "idle",
        });
        Ok(sent)
    }

    /// Marks a send `sent`, trying again while the database is unreachable (up to
    /// [`RECORD_FOR`]); past that the row's lease runs out and it is resent, a possible duplicate.
    async fn record_sent(&self, id: i64) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + RECORD_FOR;
        let mut wait = Duration::from_millis(100);
        loop {
            let done = async {
                let mut conn = self.pool.get().await?;
                finish(&mut conn, id, "sent", None, None).await?;
                anyhow::Ok(())
            }
            .await;
            match done {
                Ok(()) => return Ok(()),
                Err(e) if tokio::time::Instant::now() + wait < deadline => {
                    tracing::warn!(error = %e, "email sent but not yet recorded; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn deliver(&self, due: &Due) -> Result<(), Failure> {
        let to: Mailbox =
            due.recipient.parse().map_err(|e| Failure::Before(format!("bad recipient: {e}")))?;
        // The Message-ID is derived from the dedupe key, so a copy resent after an unknown
        // outcome is recognised by mail clients as the same message.
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(due.subject.clone())
            .message_id(Some(format!("<{}@order.shop>", due.dedupe_key.replace([':', ' '], "."))))
            .body(due.body.clone())
            .map_err(|e| Failure::Before(format!("bad message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A reply code means the server answered and refused: it did not take the message.
            Err(e) if e.is_transient() || e.is_permanent() => Err(Failure::Before(e.to_string())),
            Err(e) => Err(Failure::Unknown(e.to_string())),
        }
    }
}

/// A user name and password.
pub type Login = (String, String);

/// `smtp://[user:password@]host[:port]` → host, port, credentials.
pub fn parse_smtp_url(url: &str) -> Option<(String, u16, Option<Login>)> {
    let rest = url.trim().strip_prefix("smtp://")?.trim_end_matches('/');
    let (credentials, hostport) = match rest.rsplit_once('@') {
        Some((auth, hp)) => {
            let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
            (Some((user.to_owned(), password.to_owned())), hp)
        }
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 25),
    };
    (!host.is_empty()).then(|| (host.to_owned(), port, credentials))
}

enum Failure {
    Before(String),
    Unknown(String),
}

#[cfg(test)]
mod tests {
    use super::parse_smtp_url;

    #[test]
    fn smtp_urls() {
        assert_eq!(parse_smtp_url("smtp://127.0.0.1:1025"), Some(("127.0.0.1".into(), 1025, None)));
        assert_eq!(parse_smtp_url("smtp://mail"), Some(("mail".into(), 25, None)));
        assert_eq!(
            parse_smtp_url("smtp://u:p@mail:587/"),
            Some(("mail".into(), 587, Some(("u".into(), "p".into()))))
        );
        assert_eq!(parse_smtp_url("http://x"), None);
        assert_eq!(parse_smtp_url("smtp://:25"), None);
    }
}
