//! `order reconcile`: every order with a PaymentIntent created since a time is compared with
//! Stripe through the payment sync; what drifted is repaired (an audit row in
//! `payment_repairs` per field) and reported, and orders that need a person are listed.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use domain::ids::OrderId;

use super::sync::{self, Origin, repo};
use crate::orders::repo as orders;
use crate::state::AppState;

/// Orders read per page.
const PAGE: i64 = 200;

/// What a reconciliation found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Orders compared with Stripe.
    pub checked: usize,
    /// (order number, repairs) for every order that drifted.
    pub repaired: Vec<(String, Vec<String>)>,
    /// (order number, reason) for every order flagged for a person.
    pub attention: Vec<(String, String)>,
    /// (order id, error) for orders Stripe or the database could not settle now.
    pub failed: Vec<(i64, String)>,
}

/// Parses `--since`: `90m`, `24h`, `7d`, or an RFC 3339 time.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .map_err(|_| anyhow::anyhow!("--since: expected 90m, 24h, 7d or an RFC 3339 time, got {s:?}"))?;
    let span = match unit {
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    };
    let span = span
        .filter(|d| *d >= Duration::zero())
        .ok_or_else(|| anyhow::anyhow!("--since: {s:?} is not a usable span"))?;
    Ok(now - span)
}

/// Syncs every order with a PaymentIntent created since `since`.
pub async fn run(state: &AppState, since: DateTime<Utc>) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let mut after = 0;
    loop {
        let ids = {
            let mut conn = state.pool.get().await?;
            repo::orders_since(&mut conn, since, after, PAGE).await?
        };
        let Some(last) = ids.last() else { break };
        after = *last;
        for id in ids {
            report.checked += 1;
            let outcome = sync::sync(state, OrderId(id), Origin::Reconcile).await;
            let number = {
                let mut conn = state.pool.get().await?;
                orders::by_id(&mut conn, OrderId(id)).await?.map(|o| o.order_number).unwrap_or_default()
            };
            match outcome {
                Ok(s) => {
                    if !s.repairs.is_empty() {
                        report.repaired.push((number.clone(), s.repairs));
                    }
                    if let Some(reason) = s.attention {
                        report.attention.push((number, reason));
                    }
                }
                Err(e) => report.failed.push((id, e.to_string())),
            }
        }
    }
    Ok(report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "order reconcile: {} checked, {} repaired, {} need a person, {} not settled now",
            self.checked,
            self.repaired.len(),
            self.attention.len(),
            self.failed.len()
        )?;
        for (number, repairs) in &self.repaired {
            writeln!(f, "  repaired {number}: {}", repairs.join("; "))?;
        }
        for (number, reason) in &self.attention {
            writeln!(f, "  needs a person {number}: {reason}")?;
        }
        for (id, error) in &self.failed {
            writeln!(f, "  not settled (order id {id}): {error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_spans_and_times() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_since("24h", now).unwrap(), now - Duration::hours(24));
        assert_eq!(parse_since("7d", now).unwrap(), now - Duration::days(7));
        assert_eq!(parse_since("90m", now).unwrap(), now - Duration::minutes(90));
        assert_eq!(
            parse_since("2026-12-01T00:00:00Z", now).unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        for bad in ["", "h", "-1h", "5y", "tomorrow"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
