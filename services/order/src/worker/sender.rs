//! The SMTP sender: claim a due email (`pending` → `sending`, committed), send it, mark it
//! `sent`. Only a definite refusal (an SMTP 4xx) or a failure before anything was sent (the
//! connection test) returns it to `pending` with back-off; an error while the message may
//! already have been accepted leaves it `unknown`, never resent automatically.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use platform::db::PgPool;
use platform::shutdown::Shutdown;

use crate::metrics::OrderMetrics;

/// After this long in `sending` the sender that claimed a row is presumed gone.
const SENDING_LEASE: Duration = Duration::from_secs(300);
/// Attempts before a row that keeps being refused is given up (`failed`).
const MAX_ATTEMPTS: i32 = 10;

/// Sends queued emails.
#[derive(Clone)]
pub struct Sender {
    pool: PgPool,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    metrics: OrderMetrics,
}

#[derive(Debug, QueryableByName)]
struct Due {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    dedupe_key: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
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
    pub fn new(pool: PgPool, smtp_url: &str, from: &str, metrics: OrderMetrics) -> anyhow::Result<Self> {
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
        park_abandoned(&mut conn).await?;
        let Some(due) = claim(&mut conn).await? else { return Ok(Sent::Idle) };
        drop(conn);
        // Nothing is sent if this fails: safe to retry.
        let reachable = self.transport.test_connection().await.unwrap_or(false);
        let outcome = if reachable {
            self.deliver(&due).await
        } else {
            Err(Failure::Before("SMTP server unreachable".into()))
        };
        let mut conn = self.pool.get().await?;
        let sent = match outcome {
            Ok(()) => {
                finish(&mut conn, due.id, "sent", None, None).await?;
                Sent::Sent
            }
            Err(Failure::Before(error)) if due.attempts < MAX_ATTEMPTS => {
                let backoff = 2_f64.powi(due.attempts.clamp(0, 10)).min(600.0);
                finish(&mut conn, due.id, "pending", Some(&error), Some(backoff)).await?;
                Sent::Retry
            }
            Err(Failure::Before(error)) => {
                finish(&mut conn, due.id, "failed", Some(&error), None).await?;
                Sent::Retry
            }
            Err(Failure::Unknown(error)) => {
                tracing::error!(email = %due.dedupe_key, error = %error, "email may or may not have been sent: not retried");
                finish(&mut conn, due.id, "unknown", Some(&error), None).await?;
                Sent::Unknown
            }
        };
        self.metrics.email(match sent {
            Sent::Sent => "sent",
            Sent::Retry => "retry",
            Sent::Unknown => "unknown",
            Sent::Idle => "idle",
        });
        Ok(sent)
    }

    async fn deliver(&self, due: &Due) -> Result<(), Failure> {
        let to: Mailbox =
            due.recipient.parse().map_err(|e| Failure::Before(format!("bad recipient: {e}")))?;
        // The Message-ID is derived from the dedupe key, so should a copy ever go twice (a
        // person resending an `unknown` one), mail clients thread or drop it as the same message.
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

async fn claim(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Option<Due>> {
    let rows: Vec<Due> = diesel::sql_query(
        "UPDATE email_notifications SET status = 'sending', sending_since = now(), attempts = attempts + 1 \
         WHERE id = (SELECT id FROM email_notifications WHERE status = 'pending' AND next_attempt_at <= now() \
         ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, dedupe_key, recipient, subject, body, attempts",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

async fn finish(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    error: Option<&str>,
    backoff_secs: Option<f64>,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE email_notifications SET status = $2, last_error = $3, \
         sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END, \
         next_attempt_at = now() + make_interval(secs => coalesce($4, 0)) WHERE id = $1 AND status = 'sending'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Text>, _>(error)
    .bind::<Nullable<diesel::sql_types::Double>, _>(backoff_secs)
    .execute(conn)
    .await
    .map(drop)
}

/// Rows left `sending` by a sender that died mid-send: their fate is unknown, so they are
/// parked for a person instead of being sent again.
async fn park_abandoned(conn: &mut AsyncPgConnection) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "UPDATE email_notifications SET status = 'unknown', last_error = 'sender vanished while sending' \
         WHERE status = 'sending' AND sending_since < now() - make_interval(secs => $1)",
    )
    .bind::<diesel::sql_types::Double, _>(SENDING_LEASE.as_secs_f64())
    .execute(conn)
    .await
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
