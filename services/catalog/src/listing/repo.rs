//! The listing's SQL: one filtered count and one page, both on the partial "active" indexes.
//!
//! Written as `sql_query` text with typed rows: the filters vary per request (a dynamic listing
//! statement, one of docs/adr/0005's "cannot say" cases), so the statement is assembled from
//! fixed fragments and numbered binds; no request value is ever spliced into the text.
//!
//! Search keeps the seed's meaning (a case-insensitive substring of name or description). Terms
//! of three or more words are first narrowed by their inner words on the full-text index
//! ([`inner_words`], and a prefix of the last word: [`last_word_prefix`]), which is cheaper than
//! a long pattern's many trigrams; shorter terms use the trigram indexes.

use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamptz};
use diesel::{QueryResult, Queryable, QueryableByName, Selectable};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::cursor::{Cursor, CursorKey};
use super::query::{ListingQuery, SortBy, SortOrder};
use super::search::{Counted, Matcher, escape_like};
use crate::schema::products;

/// The columns a listing item needs, typed by `schema.rs`.
#[derive(Debug, Clone, QueryableByName, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(Pg))]
pub struct ProductRow {
    /// Identity.
    pub id: i64,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Price in minor units.
    pub price_cents: i64,
    /// ISO code.
    pub currency: String,
    /// Attributes object.
    pub attributes: serde_json::Value,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units reserved.
    pub reserved_quantity: i32,
    /// Creation time (the default sort, and keyset cursors).
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The columns of [`ProductRow`], for `SELECT` and `RETURNING` lists.
pub const PRODUCT_ROW_COLUMNS: &str =
    "id, sku, name, slug, price_cents, currency, attributes, stock_quantity, reserved_quantity, created_at";

/// Escapes `%`, `_` and `\` so the search term matches literally (the seed did not).
pub fn like_pattern(term: &str) -> String {
    format!("%{}%", escape_like(term))
}

/// The words of a search term that any match contains as whole words: those with a space on
/// both sides in the term (the first and last may be parts of longer words in the product).
/// `None` when there are none, or none with a letter or digit (the full-text parser drops
/// punctuation). A substring match of the term has the same space-bounded run of characters,
/// so its text has these words: narrowing by them never loses a match.
pub fn inner_words(term: &str) -> Option<String> {
    let words: Vec<&str> = term.split(' ').collect();
    let inner = words.get(1..words.len().saturating_sub(1))?;
    let kept: Vec<&str> = inner.iter().copied().filter(|w| w.chars().any(char::is_alphanumeric)).collect();
    (!kept.is_empty()).then(|| kept.join(" "))
}

/// The last word of a term as a full-text prefix query (`word:*`), when it is ASCII letters and
/// digits only, at least three of them, after a space: any match then has a word *starting*
/// with it. Other characters could be tokenised differently cut short than whole (an e-mail
/// address, a URL), so those words are not used; short prefixes would match too many words.
pub fn last_word_prefix(term: &str) -> Option<String> {
    let (_, last) = term.rsplit_once(' ')?;
    (last.len() >= 3 && last.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| format!("{last}:*"))
}

/// A statement being assembled: its text and the number of the next `$n` placeholder.
pub type Statement = BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>;

/// A statement under construction (see [`filtered`]).
pub(crate) struct Builder {
    /// The statement so far.
    pub(crate) query: Statement,
    next: usize,
}

impl Builder {
    fn new(head: &str) -> Self {
        // sql_query: dynamic listing statement (fixed fragments, numbered binds).
        Builder { query: diesel::sql_query(head).into_boxed(), next: 1 }
    }

    fn sql(mut self, text: &str) -> Self {
        self.query = self.query.sql(text);
        self
    }

    /// The next placeholder, `$n`.
    fn placeholder(&mut self) -> String {
        let p = format!("${}", self.next);
        self.next += 1;
        p
    }

    fn words(mut self, before: &str, value: Vec<String>, after: &str) -> Self {
        let p = self.placeholder();
        self.query = self.query.sql(format!("{before}{p}{after}")).bind::<Array<Text>, _>(value);
        self
    }

    fn text(mut self, before: &str, value: String, after: &str) -> Self {
        let p = self.placeholder();
        self.query = self.query.sql(format!("{before}{p}{after}")).bind::<Text, _>(value);
        self
    }

    /// Appends `before $n after`, binding `value` as `$n`.
    pub(crate) fn int8(mut self, before: &str, value: i64, after: &str) -> Self {
        let p = self.placeholder();
        self.query = self.query.sql(format!("{before}{p}{after}")).bind::<BigInt, _>(value);
        self
    }
}

/// `WHERE` of every listing statement: what the storefront may show, then the filters. The
/// literals match the partial indexes' predicates. `search` is matched as `matcher` says
/// ([`Matcher::Substring`] when none is given).
pub(crate) fn filtered(head: &str, q: &ListingQuery, matcher: Option<&Matcher>) -> Builder {
    let mut b = Builder::new(head).sql(" FROM products WHERE status = 'active' AND deleted_at IS NULL");
    if let Some(category) = &q.category {
        b = b.text(" AND (attributes ->> 'category') = ", category.clone(), "");
    }
    if let Some(min) = q.min_price_cents {
        b = b.int8(" AND price_cents >= ", min, "");
    }
    if let Some(max) = q.max_price_cents {
        b = b.int8(" AND price_cents <= ", max, "");
    }
    if q.in_stock {
        b = b.sql(" AND stock_quantity > reserved_quantity");
    }
    if let Some(term) = &q.search {
        b = match matcher {
            Some(Matcher::Tokens { sets, recheck, .. }) => by_tokens(b, term, sets, *recheck),
            Some(Matcher::Walk) => recheck(b.sql(" AND "), term),
            _ => by_substring(b, term),
        };
    }
    b
}

/// `ILIKE` on name or description, written so the planner cannot pick the trigram indexes (it
/// only re-tests rows another condition found).
fn recheck(b: Builder, term: &str) -> Builder {
    let mut b = b;
    let p = b.placeholder();
    b.query = b
        .query
        .sql(format!("((name || '') ILIKE {p} OR (description || '') ILIKE {p})"))
        .bind::<Text, _>(like_pattern(term));
    b
}

/// The stored runs narrow (docs/adr/0073-search-at-scale.md): each set of vocabulary words must
/// meet `search_tokens`. Products with a run too long to store (`chr(1)` in their runs) are
/// always candidates and always re-tested.
fn by_tokens(b: Builder, term: &str, sets: &[Vec<String>], needs_recheck: bool) -> Builder {
    let mut b = b.sql(" AND ((");
    for (i, set) in sets.iter().enumerate() {
        b = b.words(if i == 0 { "search_tokens && " } else { " AND search_tokens && " }, set.clone(), "");
    }
    if needs_recheck {
        b = b.sql(") OR search_tokens && ARRAY[chr(1)]) AND ");
        recheck(b, term)
    } else {
        b = b.sql(") OR (search_tokens && ARRAY[chr(1)] AND ");
        recheck(b, term).sql("))")
    }
}

/// The substring test on the trigram indexes, for terms the vocabulary cannot narrow. Terms of
/// three or more words are narrowed by their inner words on the full-text index first
/// (docs/adr/0013-listing-totals.md).
fn by_substring(b: Builder, term: &str) -> Builder {
    let mut b = b;
    let substring = if let Some(words) = inner_words(term) {
        // Only narrows: every match of the substring test below contains these whole words
        // (and a word starting with the last one).
        b = b.text(
            " AND to_tsvector('simple', name || ' ' || coalesce(description, '')) @@ (plainto_tsquery('simple', ",
            words,
            ")",
        );
        b = match last_word_prefix(term) {
            Some(prefix) => b.text(" && to_tsquery('simple', ", prefix, "))"),
            None => b.sql(")"),
        };
        // `|| ''` changes nothing but keeps the planner off the trigram indexes, whose
        // estimate for a long pattern is far too kind (docs/adr/0013-listing-totals.md).
        " AND ((name || '') ILIKE {p} OR (description || '') ILIKE {p})"
    } else {
        " AND (name ILIKE {p} OR description ILIKE {p})"
    };
    let p = b.placeholder();
    b.query = b.query.sql(substring.replace("{p}", &p)).bind::<Text, _>(like_pattern(term));
    b
}

/// `ORDER BY` of a listing: the sort with the id tie-break; relevance ranks exact names, then
/// names starting with the term, then names holding it as whole words, then names holding it,
/// then the rest (description matches), newest first within a rank.
fn order_by(b: Builder, q: &ListingQuery) -> Builder {
    if let (SortBy::Relevance, Some(term)) = (q.sort_by, &q.search) {
        let escaped = escape_like(term);
        return b
            .text(" ORDER BY CASE WHEN lower(name) = lower(", term.clone(), ") THEN 0")
            .text(" WHEN lower(name) LIKE lower(", format!("{escaped}%"), ") THEN 1")
            .text(" WHEN lower(' ' || name || ' ') LIKE lower(", format!("% {escaped} %"), ") THEN 2")
            .text(" WHEN name ILIKE ", like_pattern(term), " THEN 3 ELSE 4 END, created_at DESC, id ASC");
    }
    let column = sort_column(q.sort_by);
    let direction = match q.sort_order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    b.sql(&format!(" ORDER BY {column} {direction}, id ASC"))
}

/// The page query: filters, the sort with the id tie-break, limit and offset.
pub fn page_query(q: &ListingQuery, offset: i64, matcher: Option<&Matcher>) -> Statement {
    let mut b = filtered(&format!("SELECT {PRODUCT_ROW_COLUMNS}"), q, matcher);
    if let Some(cursor) = &q.cursor {
        b = after_cursor(b, cursor, q.sort_order);
    }
    b = order_by(b, q);
    b = b.int8(" LIMIT ", q.per_page, "");
    b.int8(" OFFSET ", offset, "").query
}

/// Count and page in one scan: at most `bound` matches are read once, counted, and the page is
/// sorted out of them. Only right when fewer than `bound` match (then they are all there); the
/// caller checks `total`.
pub fn collect_query(q: &ListingQuery, bound: i64, offset: i64, matcher: Option<&Matcher>) -> Statement {
    let head = format!("WITH m AS MATERIALIZED (SELECT {PRODUCT_ROW_COLUMNS}");
    let b = filtered(&head, q, matcher).int8(" LIMIT ", bound, ")");
    let b = b.sql(&format!(" SELECT {PRODUCT_ROW_COLUMNS}, (SELECT count(*) FROM m) AS total FROM m"));
    let b = order_by(b, q).int8(" LIMIT ", q.per_page, "");
    b.int8(" OFFSET ", offset, "").query
}

/// Runs [`collect_query`].
pub async fn collect(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    bound: i64,
    offset: i64,
    matcher: Option<&Matcher>,
) -> QueryResult<Vec<Counted>> {
    collect_query(q, bound, offset, matcher).load(conn).await
}

fn sort_column(sort: SortBy) -> &'static str {
    match sort {
        SortBy::CreatedAt | SortBy::Relevance => "created_at",
        SortBy::PriceCents => "price_cents",
        SortBy::Name => "name",
    }
}

/// Rows after `cursor` in the listing's order (`sort` in `order`, then `id` ascending), written
/// as `col <= v AND (col < v OR id > last)` for descending sorts (and the mirror for ascending):
/// the first conjunct is an index seek, whatever the tie-break's direction.
fn after_cursor(mut b: Builder, cursor: &Cursor, order: SortOrder) -> Builder {
    let (seek, strict) = match order {
        SortOrder::Desc => ("<=", "<"),
        SortOrder::Asc => (">=", ">"),
    };
    let (column, v) = match &cursor.key {
        CursorKey::CreatedAt(us) => match chrono::DateTime::from_timestamp_micros(*us) {
            Some(t) => {
                let p = b.placeholder();
                b.query = b.query.bind::<Timestamptz, _>(t);
                ("created_at", p)
            }
            // Unreachable for decoded cursors (they are range-checked); an empty page otherwise.
            None => return b.sql(" AND id < 0"),
        },
        CursorKey::PriceCents(cents) => {
            let p = b.placeholder();
            b.query = b.query.bind::<BigInt, _>(*cents);
            ("price_cents", p)
        }
        CursorKey::Name(name) => {
            let p = b.placeholder();
            b.query = b.query.bind::<Text, _>(name.clone());
            ("name", p)
        }
    };
    let id = b.placeholder();
    b.query = b.query.bind::<BigInt, _>(cursor.id);
    b.sql(&format!(" AND {column} {seek} {v} AND ({column} {strict} {v} OR id > {id})"))
}

/// The cursor that continues after `rows` (the last row), when the page is full.
pub fn next_cursor(q: &ListingQuery, rows: &[ProductRow]) -> Option<Cursor> {
    let last = rows.last().filter(|_| i64::try_from(rows.len()).is_ok_and(|n| n == q.per_page))?;
    let key = match q.sort_by {
        SortBy::CreatedAt => CursorKey::CreatedAt(last.created_at.timestamp_micros()),
        SortBy::PriceCents => CursorKey::PriceCents(last.price_cents),
        SortBy::Name => CursorKey::Name(last.name.clone()),
        // A rank is not a column an index can seek to: relevance pages by `page` only.
        SortBy::Relevance => return None,
    };
    Some(Cursor { key, id: last.id })
}

/// The statement counting, for `meta.total`, the maintained count of `q`'s (category, in stock) pair(s): the folded counts plus the
/// deltas not folded yet, in one statement so both are read in one snapshot.
pub fn maintained_count(q: &ListingQuery) -> Statement {
    let filter = if q.category.is_some() { "($1 OR in_stock) AND category = $2" } else { "($1 OR in_stock)" };
    let sql = format!(
        "SELECT ((SELECT coalesce(sum(n), 0) FROM listing_counts WHERE {filter}) \
         + (SELECT coalesce(sum(n), 0) FROM listing_count_deltas WHERE {filter}))::bigint AS count"
    );
    // sql_query: dynamic listing statement (the category filter comes and goes).
    let query = diesel::sql_query(sql).into_boxed().bind::<Bool, _>(!q.in_stock);
    match &q.category {
        Some(c) => query.bind::<Text, _>(c.clone()),
        None => query,
    }
}

/// The statement counting the matching rows, reading at most `limit` of them. (Ordering by price to steer
/// price ranges onto an index made the planner sort every match instead: 2.6 s at 1M.)
pub fn bounded_count(q: &ListingQuery, limit: i64, matcher: Option<&Matcher>) -> Statement {
    filtered("SELECT count(*) AS count FROM (SELECT 1", q, matcher)
        .int8(" LIMIT ", limit, ") AS matching")
        .query
}

/// A row of expressions: a count.
#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Runs a count statement ([`maintained_count`] or [`bounded_count`]).
pub async fn count(conn: &mut AsyncPgConnection, statement: Statement) -> QueryResult<i64> {
    Ok(statement.get_result::<Count>(conn).await?.count)
}

diesel::define_sql_function! {
    /// The migrations' `listing_counts_compact()`: folds the count deltas, returns how many.
    fn listing_counts_compact() -> BigInt;
}

diesel::define_sql_function! {
    /// The migrations' `search_words_compact()`: folds the vocabulary deltas, returns how many.
    fn search_words_compact() -> BigInt;
}

/// Folds every committed `listing_count_deltas` row into `listing_counts` and every
/// `search_word_deltas` row into `search_words` (the migrations' `listing_counts_compact()` and
/// `search_words_compact()`); returns how many delta rows were folded.
pub async fn fold_count_deltas(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let (counts, words): (i64, i64) =
        diesel::select((listing_counts_compact(), search_words_compact())).get_result(conn).await?;
    Ok(counts.saturating_add(words))
}

/// Vacuums the count and vocabulary tables a fold rewrote: folding deletes every delta row it
/// read, and each search's vocabulary look-up probes `search_word_deltas` by word, so after a
/// bulk load's millions of deltas it read as many dead index entries until autovacuum came
/// (7.3 ms per look-up at a million products, 0.1 ms once vacuumed). Not in a transaction.
pub async fn vacuum_count_tables(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    conn.batch_execute(
        "VACUUM (ANALYZE) listing_count_deltas, listing_counts, search_word_deltas, search_words",
    )
    .await
}

/// One page of products; ties are broken by id so pages never overlap.
pub async fn page(
    conn: &mut AsyncPgConnection,
    q: &ListingQuery,
    offset: i64,
    matcher: Option<&Matcher>,
) -> QueryResult<Vec<ProductRow>> {
    page_query(q, offset, matcher).load(conn).await
}

#[cfg(test)]
mod tests {
    use super::inner_words;

    #[test]
    fn inner_words_are_the_space_bounded_ones() {
        assert_eq!(inner_words("shirt"), None);
        assert_eq!(inner_words("cotton shirt"), None);
        assert_eq!(inner_words("premium fleece shorts - grey").as_deref(), Some("fleece shorts"));
        assert_eq!(inner_words("a - b"), None, "punctuation only");
        assert_eq!(inner_words("x  y z").as_deref(), Some("y"), "empty runs between double spaces");
        assert_eq!(inner_words(" shirt ").as_deref(), Some("shirt"), "spaces at the ends bound it");
    }

    #[test]
    fn the_last_word_is_a_prefix_only_when_plain() {
        use super::last_word_prefix;
        assert_eq!(last_word_prefix("shorts - Grey").as_deref(), Some("Grey:*"));
        assert_eq!(last_word_prefix("shirt"), None, "no space before it: it may end another word");
        assert_eq!(last_word_prefix("shorts - gr"), None, "too short");
        assert_eq!(last_word_prefix("mail me@x.io"), None);
        assert_eq!(last_word_prefix("size 10.5"), None);
        assert_eq!(last_word_prefix("café crème"), None, "ASCII only");
        assert_eq!(last_word_prefix("a b "), None, "ends with a space");
    }
}
