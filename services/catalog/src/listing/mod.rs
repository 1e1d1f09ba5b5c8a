//! `GET /api/v1/products`: validate, read through the page cache, shape.

pub mod compactor;
pub mod cursor;
pub mod explain;
pub mod query;
pub mod repo;
pub mod response;
pub mod search;
pub mod search_repo;
pub mod total;

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use platform::db::PgPool;
use platform::http::ApiError;

use crate::state::AppState;

/// `Cache-Control` of listing and product pages: anyone may cache them briefly. Admin writes
/// bump the server-side cache at once; browsers and CDNs may lag by up to this long.
pub const CACHE_CONTROL: &str = "public, max-age=30";

/// The handler. The cached part is `data` and `meta` (the same for every client); `links` are
/// built per request, so they keep this request's parameter order and client-facing origin
/// (`platform::http::forwarded`: forwarded headers only from trusted proxies).
#[utoipa::path(get, path = "/api/v1/products", operation_id = "list_products", tag = "products",
    params(query::ListingParams),
    responses((status = 200, description = "A page of active products", body = response::ListingBody),
        (status = 422, description = "A parameter breaks its rule", body = platform::openapi::ValidationErrorBody)))]
pub async fn list_products(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (pairs, parsed) = query::parse_query_string(req.query_string());
    let q = parsed.map_err(ApiError::Validation)?;
    let key = format!("products:list:{}", q.cache_key());
    let pool = state.read_pool.clone();
    let cached_q = q.clone();
    let cap = state.count_cap;
    let cached = state
        .cache
        .get_or_build(&key, move || build_page(pool, cached_q, cap))
        .await
        .map_err(from_build_error)?;
    let (last, fragment) = split_page(&cached).ok_or_else(|| ApiError::internal("malformed cached page"))?;
    let base = format!("{}{}", platform::http::forwarded::public_origin(&req), req.path());
    let links =
        serde_json::to_vec(&response::links(&base, &pairs, q.page, last)).map_err(ApiError::internal)?;
    let mut body = Vec::with_capacity(fragment.len() + links.len() + 12);
    body.push(b'{');
    body.extend_from_slice(fragment);
    body.extend_from_slice(b",\"links\":");
    body.extend_from_slice(&links);
    body.push(b'}');
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        // `links` carry the client-facing origin, taken from these headers.
        .insert_header((header::VARY, platform::http::forwarded::VARY))
        .body(body))
}

/// No database connection could be had while building a page (answered as 503, not 500).
#[derive(Debug)]
pub struct PoolUnavailable(pub platform::db::PoolError);

impl std::fmt::Display for PoolUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database pool unavailable: {}", self.0)
    }
}

impl std::error::Error for PoolUnavailable {}

/// Maps a failed page build back to the handler's error (pool exhaustion stays a 503).
#[allow(clippy::needless_pass_by_value)] // used as `map_err(from_build_error)`
pub fn from_build_error(e: std::sync::Arc<anyhow::Error>) -> ApiError {
    if let Some(pool) = e.downcast_ref::<PoolUnavailable>() {
        tracing::warn!(error = %pool, "database pool unavailable");
        return ApiError::Unavailable("The database is temporarily unavailable".to_owned());
    }
    if let Some(db) = e.downcast_ref::<diesel::result::Error>()
        && platform::db::is_transient(db)
    {
        tracing::warn!(error = %db, "database unavailable during a page build");
        return ApiError::Unavailable("The database is temporarily unavailable; retry shortly".to_owned());
    }
    ApiError::internal(format!("{e:#}"))
}

/// Run first in a page's transaction: the catalog's pool plans prepared statements once
/// (generic plans), but a listing's best plan depends on its values (a rare category, a common
/// word), so its statements are planned for the values bound, as PostgreSQL does by default.
pub const CUSTOM_PLANS: &str = "SET LOCAL plan_cache_mode = auto";

/// Run in a page's transaction before walking the sort index for a term with many matches
/// (`Matcher::Walk`): the walk is the plan, never a scan of the whole table and a sort.
pub const WALK_THE_INDEX: &str = "SET LOCAL enable_seqscan = off";

/// Runs the total and page queries; returns `"{last_page}\n"` + the `"data":…,"meta":…` fragment.
async fn build_page(pool: PgPool, q: query::ListingQuery, cap: i64) -> anyhow::Result<Bytes> {
    let mut conn = pool.get().await.map_err(PoolUnavailable)?;
    let found = conn
        .transaction::<_, diesel::result::Error, _>(async |c| {
            c.batch_execute(CUSTOM_PLANS).await?;
            find(c, &q, cap).await
        })
        .await?;
    drop(conn);
    let total = found.total;
    let last = response::last_page(total.value, q.per_page);
    let next_cursor = repo::next_cursor(&q, &found.rows).map(|c| c.encode());
    let body = response::Page {
        data: found.rows.into_iter().map(response::Item::from).collect(),
        meta: response::Meta {
            current_page: q.page,
            last_page: last,
            per_page: q.per_page,
            total: total.value,
            total_relation: total.relation,
            search_fallback: found.fallback.then_some(response::SIMILAR),
        },
        next_cursor,
    };
    let json = serde_json::to_vec(&body)?;
    // `{"data":…,"meta":…}` without its braces, so links can be appended per request.
    let inner = json.get(1..json.len().saturating_sub(1)).unwrap_or_default();
    let mut out = format!("{last}\n").into_bytes();
    out.extend_from_slice(inner);
    Ok(Bytes::from(out))
}

/// A page of a listing, its total, and whether the typo fallback found it.
struct Found {
    total: total::Total,
    rows: Vec<repo::ProductRow>,
    fallback: bool,
}

/// The page and total of `q`. A search is matched exactly first (docs/adr/0073-search-at-scale.md);
/// when nothing matches, its long words may be misspelt and the similar-words fallback runs.
async fn find(conn: &mut AsyncPgConnection, q: &query::ListingQuery, cap: i64) -> diesel::QueryResult<Found> {
    let Some(term) = &q.search else {
        let (total, rows) = count_and_page(conn, q, cap, None).await?;
        return Ok(Found { total, rows, fallback: false });
    };
    let exact = search_repo::matcher(conn, term).await?;
    let (total, rows) = count_and_page(conn, q, cap, Some(&exact)).await?;
    if total.value == 0 {
        for how in [search::Fallback::EveryWord, search::Fallback::Similar] {
            if let Some(lenient) = search_repo::fallback(conn, term, how).await? {
                let (total, rows) = count_and_page(conn, q, cap, Some(&lenient)).await?;
                if total.value > 0 {
                    return Ok(Found { total, rows, fallback: true });
                }
            }
        }
    }
    Ok(Found { total, rows, fallback: false })
}

/// `meta.total` and the page. A search whose page lies within its bound reads the matches once
/// (`repo::collect`): when fewer than the bound match, that one scan is the count and the page.
async fn count_and_page(
    conn: &mut AsyncPgConnection,
    q: &query::ListingQuery,
    cap: i64,
    matcher: Option<&search::Matcher>,
) -> diesel::QueryResult<(total::Total, Vec<repo::ProductRow>)> {
    let bound = total::bound(q, cap);
    let offset = q.offset();
    let known = search::known(matcher);
    // A word that at least `bound` products have: the total is known without reading them.
    if search::known_to_reach(matcher, q, bound) {
        let rows = match offset {
            Some(offset) => repo::page(conn, q, offset, matcher).await?,
            None => Vec::new(),
        };
        return Ok((total::of_count(q, cap, bound), rows));
    }
    if q.search.is_some()
        && q.cursor.is_none()
        && let Some(offset) = offset.filter(|o| *o < bound)
    {
        // One scan reads up to `reach` matches: below it they are all there, so it is the count
        // and the page is sorted out of them. When no word's count is known (the typo fallback's
        // several sets, terms of four runs or more) it reads past the bound: sorting a few
        // thousand matches beats walking the sort index and testing every row on the way
        // (docs/adr/0073-search-at-scale.md, decision 9).
        let reach = if known > 0 { bound } else { bound.max(search::SEARCH_COLLECT) };
        let rows = repo::collect(conn, q, reach, offset, matcher).await?;
        match rows.first().map(|r| r.total) {
            Some(n) if n < reach => {
                let rows = rows.into_iter().map(|r| r.product).collect();
                return Ok((total::of_count(q, cap, n.min(bound)), rows));
            }
            // At `reach` the rows read are any of the matches, not the first in the sort; a
            // term with spaces then walks the sort index (its matches are known to be many).
            Some(n) => {
                let walk = matches!(matcher, Some(search::Matcher::Tokens { recheck: true, .. }));
                if walk {
                    // The planner expects few `ILIKE` matches and may read the whole table to
                    // sort them; here they are known to be many, so the walk stops early.
                    conn.batch_execute(WALK_THE_INDEX).await?;
                }
                let page_matcher = if walk { Some(&search::Matcher::Walk) } else { matcher };
                return Ok((
                    total::of_count(q, cap, n.min(bound)),
                    repo::page(conn, q, offset, page_matcher).await?,
                ));
            }
            None if offset == 0 => return Ok((total::of_count(q, cap, 0), Vec::new())),
            // The page lies beyond the matches: count them below.
            None => {}
        }
    }
    let total = total::total(conn, q, cap, matcher).await?;
    let rows = match offset {
        Some(offset) if offset < total.value => repo::page(conn, q, offset, matcher).await?,
        _ => Vec::new(),
    };
    Ok((total, rows))
}

fn split_page(cached: &[u8]) -> Option<(i64, &[u8])> {
    let nl = cached.iter().position(|b| *b == b'\n')?;
    let last = std::str::from_utf8(&cached[..nl]).ok()?.parse().ok()?;
    Some((last, &cached[nl + 1..]))
}
