//! `GET /api/v1/products` query parameters: parsed and validated with the seed's rules and messages.

use domain::money::{ParseMoneyError, parse_decimal_cents};
use platform::http::ValidationErrors;

use super::cursor::Cursor;

/// Default and maximum page sizes (the seed's config).
pub const DEFAULT_PER_PAGE: i64 = 24;
/// Largest `per_page`.
pub const MAX_PER_PAGE: i64 = 100;

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortBy {
    /// Newest first by default.
    CreatedAt,
    /// Price in minor units.
    PriceCents,
    /// Name.
    Name,
    /// Best match first, only with `search` (docs/adr/0073-search-at-scale.md); `sort_order` is
    /// ignored.
    Relevance,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending (default).
    Desc,
}

/// A validated listing request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListingQuery {
    /// 1-based page.
    pub page: i64,
    /// Items per page, 1..=100.
    pub per_page: i64,
    /// `attributes.category` equals this.
    pub category: Option<String>,
    /// Lowest price in minor units, inclusive.
    pub min_price_cents: Option<i64>,
    /// Highest price in minor units, inclusive.
    pub max_price_cents: Option<i64>,
    /// Only products with stock beyond reservations.
    pub in_stock: bool,
    /// Case-insensitive substring of name or description.
    pub search: Option<String>,
    /// Sort column.
    pub sort_by: SortBy,
    /// Sort direction.
    pub sort_order: SortOrder,
    /// Keyset paging: the page starts after this row (then `page` only labels it).
    pub cursor: Option<Cursor>,
}

/// Decodes the raw query string into ordered pairs (later duplicates win, as in PHP).
pub fn pairs(query_string: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query_string).unwrap_or_default()
}

/// The parameters the listing reads.
pub const KEYS: [&str; 10] = [
    "page",
    "per_page",
    "category",
    "min_price",
    "max_price",
    "in_stock",
    "search",
    "sort_by",
    "sort_order",
    "cursor",
];

/// Decodes `+` and `%XX` to bytes; a `%` not followed by two hex digits stays literal (as in
/// `form_urlencoded`, which [`pairs`] uses).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

/// Parameters the listing reads whose value is not UTF-8 once decoded ([`pairs`] would have
/// replaced the bad bytes with U+FFFD and searched for that).
fn invalid_utf8(query_string: &str, errors: &mut ValidationErrors) {
    for segment in query_string.split('&') {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        let Ok(key) = String::from_utf8(percent_decode(key)) else { continue };
        if KEYS.contains(&key.as_str())
            && !errors.has(&key)
            && std::str::from_utf8(&percent_decode(value)).is_err()
        {
            errors.add(&key, format!("The {} field must be valid UTF-8.", label(&key)));
        }
    }
}

/// [`pairs`] and [`parse`] of a raw query string, refusing invalid UTF-8 in the parameters read.
pub fn parse_query_string(
    query_string: &str,
) -> (Vec<(String, String)>, Result<ListingQuery, ValidationErrors>) {
    let pairs = pairs(query_string);
    let mut errors = ValidationErrors::new();
    invalid_utf8(query_string, &mut errors);
    let parsed = parse_with(&pairs, errors);
    (pairs, parsed)
}

fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    // Empty values count as absent, like Laravel's ConvertEmptyStringsToNull.
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn label(field: &str) -> String {
    field.replace('_', " ")
}

fn integer(
    pairs: &[(String, String)],
    field: &str,
    min: i64,
    max: Option<i64>,
    errors: &mut ValidationErrors,
) -> Option<i64> {
    let raw = lookup(pairs, field)?;
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        errors.add(field, format!("The {} field must be an integer.", label(field)));
        return None;
    }
    let Ok(value) = raw.parse::<i64>() else {
        errors.add(field, format!("The {} field must be an integer.", label(field)));
        return None;
    };
    if value < min {
        errors.add(field, format!("The {} field must be at least {min}.", label(field)));
        return None;
    }
    if let Some(max) = max.filter(|m| value > *m) {
        errors.add(field, format!("The {} field must not be greater than {max}.", label(field)));
        return None;
    }
    Some(value)
}

fn string(
    pairs: &[(String, String)],
    field: &str,
    max_chars: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let raw = lookup(pairs, field)?;
    // PostgreSQL text cannot hold NUL, and no product name or category holds control characters.
    if raw.chars().any(char::is_control) {
        errors.add(field, format!("The {} field must not contain control characters.", label(field)));
        return None;
    }
    if raw.chars().count() > max_chars {
        errors.add(
            field,
            format!("The {} field must not be greater than {max_chars} characters.", label(field)),
        );
        return None;
    }
    Some(raw.to_owned())
}

fn price(pairs: &[(String, String)], field: &str, errors: &mut ValidationErrors) -> Option<i64> {
    let raw = lookup(pairs, field)?;
    match parse_decimal_cents(raw) {
        Ok(cents) => Some(cents),
        Err(ParseMoneyError::Negative) => {
            errors.add(field, format!("The {} field must be at least 0.", label(field)));
            None
        }
        Err(ParseMoneyError::TooPrecise) => {
            errors.add(field, format!("The {} field must have at most 2 decimal places.", label(field)));
            None
        }
        Err(ParseMoneyError::Overflow) => {
            errors.add(field, format!("The {} field is too large.", label(field)));
            None
        }
        Err(_) => {
            errors.add(field, format!("The {} field must be a number.", label(field)));
            None
        }
    }
}

fn boolean(pairs: &[(String, String)], field: &str, errors: &mut ValidationErrors) -> Option<bool> {
    match lookup(pairs, field)? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => {
            errors.add(field, format!("The {} field must be true or false.", label(field)));
            None
        }
    }
}

fn one_of<T: Copy>(
    pairs: &[(String, String)],
    field: &str,
    options: &[(&str, T)],
    errors: &mut ValidationErrors,
) -> Option<T> {
    let raw = lookup(pairs, field)?;
    let found = options.iter().find(|(name, _)| *name == raw).map(|(_, v)| *v);
    if found.is_none() {
        errors.add(field, format!("The selected {} is invalid.", label(field)));
    }
    found
}

/// Applies every rule of API.md; all failures are reported together.
pub fn parse(pairs: &[(String, String)]) -> Result<ListingQuery, ValidationErrors> {
    parse_with(pairs, ValidationErrors::new())
}

fn parse_with(
    pairs: &[(String, String)],
    mut errors: ValidationErrors,
) -> Result<ListingQuery, ValidationErrors> {
    let page = integer(pairs, "page", 1, None, &mut errors);
    let per_page = integer(pairs, "per_page", 1, Some(MAX_PER_PAGE), &mut errors);
    let category = string(pairs, "category", 50, &mut errors);
    let min_price_cents = price(pairs, "min_price", &mut errors);
    let max_price_cents = price(pairs, "max_price", &mut errors);
    if let (Some(min), Some(max)) = (min_price_cents, max_price_cents)
        && max < min
    {
        {
            let shown = lookup(pairs, "min_price").unwrap_or_default();
            errors.add("max_price", format!("The max price field must be greater than or equal to {shown}."));
        }
    }
    let in_stock = boolean(pairs, "in_stock", &mut errors);
    let search = string(pairs, "search", 200, &mut errors);
    let sort_by = one_of(
        pairs,
        "sort_by",
        &[
            ("created_at", SortBy::CreatedAt),
            ("price_cents", SortBy::PriceCents),
            ("name", SortBy::Name),
            ("relevance", SortBy::Relevance),
        ],
        &mut errors,
    );
    if sort_by == Some(SortBy::Relevance) && search.is_none() {
        errors.add("sort_by", "The sort by relevance requires a search.");
    }
    let sort_order =
        one_of(pairs, "sort_order", &[("asc", SortOrder::Asc), ("desc", SortOrder::Desc)], &mut errors);
    let cursor = lookup(pairs, "cursor").and_then(|raw| match Cursor::decode(raw) {
        Some(c) if c.key.sort_by() == sort_by.unwrap_or(SortBy::CreatedAt) => Some(c),
        Some(_) => {
            errors.add("cursor", "The cursor does not match sort_by.");
            None
        }
        None => {
            errors.add("cursor", "The cursor is invalid.");
            None
        }
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ListingQuery {
        page: page.unwrap_or(1),
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        category,
        min_price_cents,
        max_price_cents,
        in_stock: in_stock.unwrap_or(false),
        search,
        sort_by: sort_by.unwrap_or(SortBy::CreatedAt),
        sort_order: sort_order.unwrap_or(SortOrder::Desc),
        cursor,
    })
}

impl ListingQuery {
    /// Every parameter in a fixed order with defaults spelled out: requests that mean the same
    /// listing (any parameter order, explicit defaults, duplicates) share one cache key.
    pub fn cache_key(&self) -> String {
        let opt = |v: Option<i64>| v.map(|c| c.to_string()).unwrap_or_default();
        let sort_by = match self.sort_by {
            SortBy::CreatedAt => "created_at",
            SortBy::PriceCents => "price_cents",
            SortBy::Name => "name",
            SortBy::Relevance => "relevance",
        };
        let sort_order = match self.sort_order {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        };
        let fields = [
            ("page", self.page.to_string()),
            ("per_page", self.per_page.to_string()),
            ("category", self.category.clone().unwrap_or_default()),
            ("min", opt(self.min_price_cents)),
            ("max", opt(self.max_price_cents)),
            ("in_stock", u8::from(self.in_stock).to_string()),
            ("search", self.search.clone().unwrap_or_default()),
            ("sort_by", sort_by.to_owned()),
            ("sort_order", sort_order.to_owned()),
            ("cursor", self.cursor.as_ref().map(Cursor::encode).unwrap_or_default()),
        ];
        serde_urlencoded::to_string(fields).unwrap_or_default()
    }

    /// Rows to skip, or `None` when the page lies beyond any possible result. With a cursor the
    /// page starts right after it.
    pub fn offset(&self) -> Option<i64> {
        if self.cursor.is_some() {
            return Some(0);
        }
        (self.page - 1).checked_mul(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<ListingQuery, ValidationErrors> {
        parse(&pairs(s))
    }

    fn messages(s: &str) -> String {
        serde_json::to_string(&q(s).unwrap_err()).unwrap()
    }

    #[test]
    fn defaults() {
        let l = q("").unwrap();
        assert_eq!(
            (l.page, l.per_page, l.sort_by, l.sort_order, l.in_stock),
            (1, 24, SortBy::CreatedAt, SortOrder::Desc, false)
        );
    }

    #[test]
    fn prices_are_exact() {
        let l = q("min_price=19.99&max_price=100").unwrap();
        assert_eq!((l.min_price_cents, l.max_price_cents), (Some(1999), Some(10000)));
        assert!(messages("min_price=1.999").contains("at most 2 decimal places"));
        assert!(messages("min_price=1e3").contains("must be a number"));
        assert!(messages("min_price=-1").contains("at least 0"));
    }

    #[test]
    fn each_rule_has_the_seeds_message() {
        assert_eq!(
            messages("per_page=101"),
            r#"{"per_page":["The per page field must not be greater than 100."]}"#
        );
        assert_eq!(messages("page=0"), r#"{"page":["The page field must be at least 1."]}"#);
        assert_eq!(messages("page=abc"), r#"{"page":["The page field must be an integer."]}"#);
        assert_eq!(messages("sort_by=id"), r#"{"sort_by":["The selected sort by is invalid."]}"#);
        assert_eq!(
            messages("sort_by=relevance"),
            r#"{"sort_by":["The sort by relevance requires a search."]}"#
        );
        assert_eq!(q("sort_by=relevance&search=wool").unwrap().sort_by, SortBy::Relevance);
        assert!(messages("sort_by=relevance&search=wool&cursor=c.1.1").contains("does not match sort_by"));
        assert_eq!(messages("sort_order=up"), r#"{"sort_order":["The selected sort order is invalid."]}"#);
        assert_eq!(
            messages("in_stock=maybe"),
            r#"{"in_stock":["The in stock field must be true or false."]}"#
        );
        assert_eq!(
            messages("min_price=100&max_price=50"),
            r#"{"max_price":["The max price field must be greater than or equal to 100."]}"#
        );
        let long = "x".repeat(51);
        assert!(messages(&format!("category={long}")).contains("not be greater than 50 characters"));
        assert!(q(&format!("category={}", "é".repeat(50))).is_ok(), "limits count characters, not bytes");
    }

    #[test]
    fn several_failures_are_reported_together_in_rule_order() {
        let m = messages("sort_by=id&page=0&per_page=500");
        assert!(m.find("page").unwrap() < m.find("sort_by").unwrap());
        assert!(m.contains("per_page"));
    }

    #[test]
    fn empty_values_are_absent_and_last_duplicate_wins() {
        let l = q("page=&category=&per_page=5&per_page=7").unwrap();
        assert_eq!((l.page, l.per_page, l.category), (1, 7, None));
    }

    #[test]
    fn booleans() {
        for (s, v) in [("true", true), ("1", true), ("false", false), ("0", false)] {
            assert_eq!(q(&format!("in_stock={s}")).unwrap().in_stock, v);
        }
    }

    #[test]
    fn cache_keys_are_normalised() {
        let key = |s: &str| q(s).unwrap().cache_key();
        assert_eq!(key(""), key("page=1&per_page=24&sort_by=created_at&sort_order=desc&in_stock=0"));
        assert_eq!(key("category=a&in_stock=true"), key("in_stock=1&category=a&search="));
        assert_eq!(key("min_price=19.99"), key("min_price=19.990"));
        assert_ne!(key("category=a"), key("category=b"));
        assert_ne!(key("search=a&category=b"), key("search=a%26category%3Db"));
        assert_ne!(key("sort_order=asc"), key(""));
    }

    #[test]
    fn control_characters_are_refused_in_text_filters() {
        assert_eq!(
            messages("category=a%00b"),
            r#"{"category":["The category field must not contain control characters."]}"#
        );
        assert!(messages("search=x%0Ay").contains("control characters"));
        assert!(q("search=caf%C3%A9").is_ok());
    }

    #[test]
    fn invalid_utf8_is_refused_in_the_parameters_read() {
        let bad = |qs: &str| parse_query_string(qs).1.unwrap_err();
        assert_eq!(
            serde_json::to_string(&bad("search=%FF")).unwrap(),
            r#"{"search":["The search field must be valid UTF-8."]}"#
        );
        assert!(bad("page=1&category=a%C3%28").has("category"));
        assert!(bad("cursor=%ED%A0%80").has("cursor"));
        assert!(parse_query_string("other=%FF&search=caf%C3%A9+x").1.is_ok(), "unknown keys are ignored");
        assert!(parse_query_string("search=100%").1.is_ok(), "a lone % is literal");
    }

    #[test]
    fn huge_pages_do_not_overflow() {
        let l = q("page=9223372036854775807&per_page=100").unwrap();
        assert_eq!(l.offset(), None);
    }
}

fn page_schema() -> utoipa::openapi::Schema {
    platform::openapi::params::integer_or_empty(1, None)
}

fn per_page_schema() -> utoipa::openapi::Schema {
    platform::openapi::params::integer_or_empty(1, Some(MAX_PER_PAGE))
}

/// The query parameters as documented (a schema only: [`parse_query_string`] reads them, with
/// the seed's messages; anything else is ignored).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListingParams {
    /// Page number, from 1.
    #[param(schema_with = page_schema)]
    page: Option<i64>,
    /// Page size, 1 to 100 (24).
    #[param(schema_with = per_page_schema)]
    per_page: Option<i64>,
    /// `attributes.category`, at most 50 characters, no control characters.
    #[param(max_length = 50, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    category: Option<String>,
    /// Lowest price in currency units, at most 2 decimals (19.99).
    #[param(pattern = "^([0-9]{1,13}(\\.[0-9]{1,2})?)?$")]
    min_price: Option<String>,
    /// Highest price in currency units, not below `min_price`.
    #[param(pattern = "^([0-9]{1,13}(\\.[0-9]{1,2})?)?$")]
    max_price: Option<String>,
    /// Only products with unreserved stock.
    #[param(schema_with = platform::openapi::params::boolean_or_empty)]
    in_stock: Option<bool>,
    /// Case-insensitive substring of name or description, at most 200 characters.
    #[param(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    search: Option<String>,
    /// `created_at` (default, also when empty), `price_cents`, `name`, or `relevance` (with
    /// `search` only).
    #[param(pattern = "^(created_at|price_cents|name|relevance)?$")]
    sort_by: Option<String>,
    /// `asc` or `desc` (default, also when empty).
    #[param(pattern = "^(asc|desc)?$")]
    sort_order: Option<String>,
    /// The keyset cursor of the previous page's `next_cursor`.
    cursor: Option<String>,
}
