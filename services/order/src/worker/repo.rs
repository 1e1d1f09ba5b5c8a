//! The worker's SQL: the email queue (`email_notifications`).

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;

use super::email;

/// Queues an email once per `dedupe_key`; `true` when this call queued it.
pub async fn queue_email(
    conn: &mut AsyncPgConnection,
    dedupe_key: &str,
    order: OrderId,
    kind: &str,
    recipient: &str,
    mail: &email::Email,
) -> diesel::QueryResult<bool> {
    let n = diesel::sql_query(
        "INSERT INTO email_notifications (dedupe_key, order_id, kind, recipient, subject, body) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind::<Text, _>(dedupe_key)
    .bind::<BigInt, _>(order.get())
    .bind::<Text, _>(kind)
    .bind::<Text, _>(recipient)
    .bind::<Text, _>(&mail.subject)
    .bind::<Text, _>(&mail.body)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// A claimed email.
#[derive(Debug, QueryableByName)]
#[diesel(table_name = crate::schema::email_notifications, check_for_backend(diesel::pg::Pg))]
pub struct Due {
    /// Its id.
    pub id: i64,
    /// One per order and kind (the Message-ID comes from it).
    pub dedupe_key: String,
    /// To.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The status before this claim: `unknown` means an earlier copy may have arrived.
    #[diesel(sql_type = Text)]
    pub was: String,
}

/// Claims one due email (`pending` or `unknown` → `sending`).
pub async fn claim(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Option<Due>> {
    let rows: Vec<Due> = diesel::sql_query(
        "WITH due AS (SELECT id, status AS was FROM email_notifications \
           WHERE status IN ('pending', 'unknown') AND next_attempt_at <= now() \
           ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         UPDATE email_notifications e SET status = 'sending', sending_since = now(), attempts = attempts + 1 \
         FROM due WHERE e.id = due.id \
         RETURNING e.id, e.dedupe_key, e.recipient, e.subject, e.body, e.attempts, due.was",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// Records the outcome of a send of the claimed row `id`, with a back-off before the next try.
pub async fn finish(
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
    .bind::<Nullable<Double>, _>(backoff_secs)
    .execute(conn)
    .await
    .map(drop)
}

/// Rows left `sending` by a sender that died mid-send: their fate is unknown, so they are
/// resent (a possible duplicate, folded by its Message-ID).
pub async fn park_abandoned(conn: &mut AsyncPgConnection, lease: Duration) -> diesel::QueryResult<usize> {
    diesel::sql_query(
        "UPDATE email_notifications SET status = 'unknown', last_error = 'sender vanished while sending', \
         next_attempt_at = now() WHERE status = 'sending' AND sending_since < now() - make_interval(secs => $1)",
    )
    .bind::<Double, _>(lease.as_secs_f64())
    .execute(conn)
    .await
}
