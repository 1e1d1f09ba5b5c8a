//! The listing's JSON: `data` / `meta` / `links`, exactly the seed's shape (plus `amount_cents`).

use domain::money::{Currency, Money};
use domain::product::Availability;
use serde::Serialize;

use super::repo::ProductRow;

/// `price`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Price {
    /// Currency units as a JSON number (29.99).
    pub amount: f64,
    /// `$29.99`, `€…`, `£…`, `CAD 12.34`.
    pub formatted: String,
    /// ISO code.
    pub currency: String,
    /// Exact minor units (extra field).
    pub amount_cents: i64,
}

/// One product in a listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// Identity.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Price.
    pub price: Price,
    /// Attributes object.
    pub attributes: serde_json::Value,
    /// Stock beyond reservations.
    pub availability: Availability,
}

/// Builds the `price` object; an unknown stored currency still formats as `CODE 12.34`.
pub fn price(cents: i64, currency: &str) -> Price {
    // The table's CHECK allows only supported currencies; USD stands in for the arithmetic otherwise.
    let known = currency.parse::<Currency>().ok();
    let money = Money::new(cents, known.unwrap_or(Currency::Usd));
    let formatted = match known {
        Some(_) => money.formatted(),
        None => format!("{currency} {}", money.decimal_string()),
    };
    Price { amount: money.amount_f64(), formatted, currency: currency.to_owned(), amount_cents: cents }
}

impl From<ProductRow> for Item {
    fn from(r: ProductRow) -> Self {
        Item {
            price: price(r.price_cents, &r.currency),
            availability: Availability::from_stock(
                i64::from(r.stock_quantity),
                i64::from(r.reserved_quantity),
            ),
            id: r.id,
            sku: r.sku,
            name: r.name,
            slug: r.slug,
            attributes: r.attributes,
        }
    }
}

/// `meta`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Meta {
    /// Requested page.
    pub current_page: i64,
    /// Last page (at least 1).
    pub last_page: i64,
    /// Page size.
    pub per_page: i64,
    /// Matching products (a lower bound when `total_relation` is `gte`).
    pub total: i64,
    /// `eq`: `total` is exact; `gte`: at least `total` match (docs/adr/0013-listing-totals.md).
    pub total_relation: super::total::Relation,
    /// `"similar"` when the exact search found nothing and these are products with words like the
    /// term's (typo tolerance, docs/adr/0073-search-at-scale.md); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_fallback: Option<&'static str>,
}

/// `meta.search_fallback` of a page the typo fallback found.
pub const SIMILAR: &str = "similar";

/// `links`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Links {
    /// Page 1.
    pub first: String,
    /// Last page.
    pub last: String,
    /// Previous page, if any.
    pub prev: Option<String>,
    /// Next page, if any.
    pub next: Option<String>,
}

/// The cacheable part of the response body (`links` are added per request).
#[derive(Debug, Serialize)]
pub struct Page {
    /// Items.
    pub data: Vec<Item>,
    /// Paging facts.
    pub meta: Meta,
    /// Keyset cursor for the next page when this one is full (extra field; `page` still works).
    pub next_cursor: Option<String>,
}

/// Last page number for `total` items.
pub fn last_page(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page).max(1)
}

/// The URL of `page`, keeping every other query parameter in its place.
pub fn page_url(base: &str, pairs: &[(String, String)], page: i64) -> String {
    let mut out: Vec<(&str, String)> = Vec::with_capacity(pairs.len() + 1);
    let mut replaced = false;
    for (k, v) in pairs {
        if k == "page" {
            if !replaced {
                out.push(("page", page.to_string()));
                replaced = true;
            }
        } else {
            out.push((k.as_str(), v.clone()));
        }
    }
    if !replaced {
        out.push(("page", page.to_string()));
    }
    let qs = serde_urlencoded::to_string(&out).unwrap_or_else(|_| format!("page={page}"));
    format!("{base}?{qs}")
}

/// `links` for a page.
pub fn links(base: &str, pairs: &[(String, String)], current: i64, last: i64) -> Links {
    Links {
        first: page_url(base, pairs, 1),
        last: page_url(base, pairs, last),
        prev: (current > 1).then(|| page_url(base, pairs, current - 1)),
        next: (current < last).then(|| page_url(base, pairs, current + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_other_parameters_in_place() {
        let pairs = vec![
            ("category".to_owned(), "clothing".to_owned()),
            ("page".to_owned(), "2".to_owned()),
            ("per_page".to_owned(), "1".to_owned()),
        ];
        assert_eq!(page_url("http://h/p", &pairs, 3), "http://h/p?category=clothing&page=3&per_page=1");
        assert_eq!(page_url("http://h/p", &[], 1), "http://h/p?page=1");
    }

    #[test]
    fn last_page_is_at_least_one() {
        assert_eq!(last_page(0, 24), 1);
        assert_eq!(last_page(3, 2), 2);
        assert_eq!(last_page(4, 2), 2);
    }

    #[test]
    fn prices_serialise_exactly() {
        let p = price(2999, "USD");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"amount":29.99,"formatted":"$29.99","currency":"USD","amount_cents":2999}"#
        );
        assert_eq!(price(1234, "CAD").formatted, "CAD 12.34");
    }
}

/// The whole listing body as documented (a schema only: the handler splices `links` into the
/// cached [`Page`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ListingBody {
    data: Vec<Item>,
    meta: Meta,
    links: Links,
    next_cursor: Option<String>,
}
