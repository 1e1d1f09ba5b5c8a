//! `meta.total` without counting what does not need counting (docs/adr/0013-listing-totals.md).
//!
//! - Listings filtered only by `category` and/or `in_stock` (the default listing included) read
//!   the maintained `listing_counts` (kept exact by triggers in the writing transaction): no
//!   product row is read, whatever the size of the result.
//! - Any other filter (`search`, a price range) counts matching rows, but stops at a bound: at
//!   least `cap`, and always beyond the requested page. Below the bound the total is exact
//!   (`"eq"`); at the bound it is a lower bound (`"gte"`), as search engines report large hit
//!   counts, and `last_page` is then the last page known to exist (always after this one).

use diesel_async::AsyncPgConnection;
use serde::Serialize;

use super::query::ListingQuery;
use super::repo::{self, Statement};
use super::search::{Matcher, SEARCH_COUNT_CAP};

/// Default of `CATALOG_COUNT_CAP`: counts up to this many rows stay exact.
pub const DEFAULT_CAP: i64 = 10_000;

/// Whether `total` is the number of matches or a lower bound of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Exactly `total` products match.
    Eq,
    /// At least `total` products match.
    Gte,
}

/// `meta.total` and its relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The count (or its lower bound).
    pub value: i64,
    /// How `value` relates to the number of matches.
    pub relation: Relation,
}

/// Whether the filters are only the maintained dimensions (category, in stock).
pub fn is_maintained(q: &ListingQuery) -> bool {
    q.search.is_none() && q.min_price_cents.is_none() && q.max_price_cents.is_none()
}

/// The cap that applies to `q`: `cap`, and at most [`SEARCH_COUNT_CAP`] for a search
/// (docs/adr/0073-search-at-scale.md).
pub fn cap_for(q: &ListingQuery, cap: i64) -> i64 {
    if q.search.is_some() { cap.min(SEARCH_COUNT_CAP) } else { cap }
}

/// How many rows a bounded count reads at most for `q`: its cap ([`cap_for`]), or more when
/// the requested page lies beyond it, so `last_page` is always after the current page while
/// more rows exist.
pub fn bound(q: &ListingQuery, cap: i64) -> i64 {
    cap_for(q, cap).max(q.page.saturating_mul(q.per_page).saturating_add(1))
}

/// The query `total` runs for `q` (also explained by `catalog explain`).
pub fn query(q: &ListingQuery, cap: i64, matcher: Option<&Matcher>) -> Statement {
    if is_maintained(q) { repo::maintained_count(q) } else { repo::bounded_count(q, bound(q, cap), matcher) }
}

/// `meta.total` of `q`, counting at most [`bound`] rows.
pub async fn total(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    cap: i64,
    matcher: Option<&Matcher>,
) -> diesel::QueryResult<Total> {
    let n = repo::count(conn, query(q, cap, matcher)).await?;
    Ok(of_count(q, cap, n))
}

/// The total for `n` matches read with [`bound`].
pub fn of_count(q: &ListingQuery, cap: i64, n: i64) -> Total {
    let relation = if !is_maintained(q) && n >= bound(q, cap) { Relation::Gte } else { Relation::Eq };
    Total { value: n, relation }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::query::{pairs, parse};

    fn q(s: &str) -> ListingQuery {
        parse(&pairs(s)).unwrap()
    }

    #[test]
    fn maintained_only_for_category_and_stock() {
        assert!(is_maintained(&q("")));
        assert!(is_maintained(&q("category=a&in_stock=1&sort_by=name&page=9")));
        assert!(!is_maintained(&q("search=abc")));
        assert!(!is_maintained(&q("min_price=1")));
        assert!(!is_maintained(&q("max_price=1")));
    }

    #[test]
    fn the_bound_passes_the_requested_page() {
        assert_eq!(bound(&q(""), 10_000), 10_000);
        assert_eq!(bound(&q("page=500&per_page=100"), 10_000), 50_001);
        assert_eq!(bound(&q("page=9223372036854775807&per_page=100"), 10), i64::MAX);
        assert_eq!(bound(&q("search=shirt"), 10_000), 1_000, "searches have their own cap");
        assert_eq!(bound(&q("search=shirt"), 50), 50, "unless CATALOG_COUNT_CAP is lower");
    }
}
