//! `EXPLAIN` of the listing's real queries (same SQL, same binds), for the index test and
//! `catalog explain`: every query shape must be served by an index, never a sequential scan.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::query::{ListingQuery, pairs, parse};
use super::{repo, search, search_repo};

/// `EXPLAIN <query>`, or `EXPLAIN (ANALYZE, BUFFERS) <query>` when the flag is set (runs it);
/// one text row per plan line.
#[derive(Debug, Clone, Copy)]
pub struct Explain<Q>(pub Q, pub bool);

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(if self.1 { "EXPLAIN (ANALYZE, BUFFERS) " } else { "EXPLAIN " });
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

/// The query shapes the storefront sends, as query strings (the benchmark's cases and the sorts).
pub const SHAPES: &[&str] = &[
    "",
    "category=clothing&in_stock=true&sort_by=price_cents",
    "category=clothing",
    "category=clothing&sort_by=name&sort_order=asc",
    "in_stock=true",
    "min_price=50&max_price=100",
    "search=runner",
    "search=runner&category=clothing",
    "search=premium+fleece+shorts+-+grey",
    "search=shirt&sort_by=relevance",
    "search=hodie",
    "sort_by=price_cents&sort_order=asc",
    "sort_by=name&sort_order=asc",
    "page=200",
    "cursor=c.1764000000000000.5",
    "sort_by=price_cents&cursor=p.2000.5",
];

/// Plans of one shape: (count plan, page plan).
pub async fn plans(conn: &mut AsyncPgConnection, q: &ListingQuery) -> QueryResult<(String, String)> {
    plans_of(conn, q, false).await
}

/// Plans of one shape, executed (`EXPLAIN (ANALYZE, BUFFERS)`) when `analyze`: where the time goes.
/// A search is planned with its vocabulary look-up's words, as the handler runs it.
pub async fn plans_of(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    analyze: bool,
) -> QueryResult<(String, String)> {
    let matcher = match &q.search {
        Some(term) => Some(search_repo::matcher(conn, term).await?),
        None => None,
    };
    let total = Explain(super::total::query(q, super::total::DEFAULT_CAP, matcher.as_ref()), analyze);
    let count: Vec<String> = RunQueryDsl::load(total, conn).await?;
    let offset = q.offset().unwrap_or(0);
    let page = Explain(repo::page_query(q, offset, matcher.as_ref()), analyze);
    let page: Vec<String> = RunQueryDsl::load(page, conn).await?;
    Ok((count.join("\n"), page.join("\n")))
}

/// The search statements of one shape besides count and page, labelled: the one-scan count and
/// page (`collect`), and the typo fallback's (`fallback`) when a word of the term is long enough.
pub async fn search_plans(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    analyze: bool,
) -> QueryResult<Vec<(&'static str, String)>> {
    let Some(term) = &q.search else { return Ok(Vec::new()) };
    let cap = super::total::DEFAULT_CAP;
    let bound = super::total::bound(q, cap);
    let offset = q.offset().unwrap_or(0);
    let mut out = Vec::new();
    let exact = search_repo::matcher(conn, term).await?;
    out.push(("matcher", format!("{exact:?}")));
    out.push(("collect", collect_plan(conn, q, bound, offset, &exact, analyze).await?));
    if matches!(exact, search::Matcher::Tokens { recheck: true, .. }) {
        // The page when the one scan reaches the bound: the sort index walked, `ILIKE` per row
        // (the handler sets `WALK_THE_INDEX` in its transaction; here for this statement only).
        let walk = Explain(repo::page_query(q, offset, Some(&search::Matcher::Walk)), analyze);
        conn.batch_execute("SET enable_seqscan = off").await?;
        let plan = RunQueryDsl::load::<String>(walk, conn).await;
        conn.batch_execute("RESET enable_seqscan").await?;
        out.push(("page at the bound", plan?.join("\n")));
    }
    if let Some(every) = search_repo::fallback(conn, term, search::Fallback::EveryWord).await? {
        out.push(("every-word fallback matcher", format!("{every:?}")));
        out.push(("every-word fallback", collect_plan(conn, q, bound, offset, &every, analyze).await?));
    }
    if let Some(similar) = search_repo::fallback(conn, term, search::Fallback::Similar).await? {
        out.push(("fallback matcher", format!("{similar:?}")));
        out.push(("fallback", collect_plan(conn, q, bound, offset, &similar, analyze).await?));
    }
    Ok(out)
}

/// The one-scan statement's plan, or why the handler does not run it (the total is known, and
/// the page plan above is all that runs).
async fn collect_plan(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    bound: i64,
    offset: i64,
    matcher: &search::Matcher,
    analyze: bool,
) -> QueryResult<String> {
    if search::known_to_reach(Some(matcher), q, bound) {
        return Ok(format!(
            "not run: a word of the term is in at least {bound} products (total {bound}, gte)"
        ));
    }
    let collect = Explain(repo::collect_query(q, bound, offset, Some(matcher)), analyze);
    Ok(RunQueryDsl::load::<String>(collect, conn).await?.join("\n"))
}

/// Whether a plan reads the products table sequentially.
pub fn scans_products_sequentially(plan: &str) -> bool {
    plan.lines().any(|l| l.contains("Seq Scan on products"))
}

/// Parses a shape's query string (the shapes above are all valid).
pub fn shape_query(shape: &str) -> Option<ListingQuery> {
    parse(&pairs(shape)).ok()
}
