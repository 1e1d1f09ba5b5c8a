//! The worker's SQL: the email queue (`email_notifications`).

use std::time::Duration;

use diesel::dsl::now;
use diesel::{ExpressionMethods, NullableExpressionMethods, QueryDsl, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::ids::OrderId;
use platform::sql::{duration, now_minus, now_plus, secs};

use crate::schema::email_notifications as mail;

use super::email;

/// Queues an email once per `dedupe_key`; `true` when this call queued it.
pub async fn queue_email(
    conn: &mut AsyncPgConnection,
    dedupe_key: &str,
    order: OrderId,
    kind: &str,
    recipient: &str,
    email: &email::Email,
) -> diesel::QueryResult<bool> {
    let n = diesel::insert_into(mail::table)
        .values((
            mail::dedupe_key.eq(dedupe_key),
            mail::order_id.eq(order.get()),
            mail::kind.eq(kind),
            mail::recipient.eq(recipient),
            mail::subject.eq(&email.subject),
            mail::body.eq(&email.body),
        ))
        .on_conflict(mail::dedupe_key)
        .do_nothing()
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
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub was: String,
}

/// Claims one due email (`pending` or `unknown` → `sending`).
pub async fn claim(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Option<Due>> {
    // sql_query: FOR UPDATE SKIP LOCKED inside a CTE (senders never wait for each other).
    let rows: Vec<Due> = platform::sql::prepared(diesel::sql_query(
        "WITH due AS (SELECT id, status AS was FROM email_notifications \
           WHERE status IN ('pending', 'unknown') AND next_attempt_at <= now() \
           ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         UPDATE email_notifications e SET status = 'sending', sending_since = now(), attempts = attempts + 1 \
         FROM due WHERE e.id = due.id \
         RETURNING e.id, e.dedupe_key, e.recipient, e.subject, e.body, e.attempts, due.was",
    ))
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
    let claimed = diesel::update(mail::table.find(id).filter(mail::status.eq("sending")));
    let next = mail::next_attempt_at.eq(now_plus(secs(backoff_secs.unwrap_or(0.0))));
    let outcome = (mail::status.eq(status), mail::last_error.eq(error), next);
    if status == "sent" {
        claimed.set((outcome, mail::sent_at.eq(now))).execute(conn).await.map(drop)
    } else {
        claimed.set(outcome).execute(conn).await.map(drop)
    }
}

/// Rows left `sending` by a sender that died mid-send: their fate is unknown, so they are
/// resent (a possible duplicate, folded by its Message-ID).
pub async fn park_abandoned(conn: &mut AsyncPgConnection, lease: Duration) -> diesel::QueryResult<usize> {
    let abandoned = mail::table
        .filter(mail::status.eq("sending"))
        .filter(mail::sending_since.lt(now_minus(duration(lease)).nullable()));
    diesel::update(abandoned)
        .set((
            mail::status.eq("unknown"),
            mail::last_error.eq("sender vanished while sending"),
            mail::next_attempt_at.eq(now),
        ))
        .execute(conn)
        .await
}
