//! The SQL of search matching (docs/adr/0073-search-at-scale.md): one vocabulary look-up turns
//! a term's runs into the words that hold them ([`matcher`]), or into similar words for the typo
//! fallback ([`fallback`]). The matching rules themselves are in [`super::search`].

use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::search::{Fallback, MAX_ARITY, MAX_WORDS, Matcher, Patterns, escape_like, patterns, words_of};

/// A row of expressions: a pattern's words and the count of the commonest.
#[derive(QueryableByName)]
struct Words {
    #[diesel(sql_type = Nullable<Array<Text>>)]
    words: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    most: Option<i64>,
}

/// The words (at most [`MAX_WORDS`] + 1) each pattern matches among the entries of one arity
/// (its own partial trigram index), in pattern order, and how many storefront products have the
/// most common of them (counts plus unfolded deltas, one snapshot).
macro_rules! run_words {
    ($arity:literal) => {
        concat!(
            "SELECT w.words, w.most FROM unnest($1::text[]) WITH ORDINALITY AS r(p, i), \
             LATERAL (SELECT array_agg(x.word) AS words, max(x.n + coalesce((SELECT sum(d.n) FROM search_word_deltas AS d \
             WHERE d.word = x.word), 0))::int8 AS most \
             FROM (SELECT word, n FROM search_words WHERE arity = ",
            $arity,
            " AND word LIKE lower(r.p) LIMIT 257) AS x) AS w ORDER BY r.i"
        )
    };
}

/// [`run_words`] for words, pairs and triples.
const RUN_WORDS: [&str; MAX_ARITY] = [run_words!(1), run_words!(2), run_words!(3)];

// `%` is pg_trgm's similarity operator (threshold `pg_trgm.similarity_threshold`, 0.3), served
// by the vocabulary's trigram index; the best 256 stand in for the word.
const SIMILAR_WORDS: &str = "SELECT w.words, w.most \
     FROM unnest($1::text[], $2::bool[]) WITH ORDINALITY AS r(p, fuzzy, i), \
     LATERAL (SELECT array_agg(x.word) AS words, max(x.n + coalesce((SELECT sum(d.n) FROM search_word_deltas AS d \
     WHERE d.word = x.word), 0))::int8 AS most FROM ( \
       (SELECT word, n FROM search_words WHERE r.fuzzy AND arity = 1 AND word % lower(r.p) \
        ORDER BY similarity(word, lower(r.p)) DESC, word LIMIT 256) \
       UNION ALL (SELECT word, n FROM search_words WHERE NOT r.fuzzy AND arity = 1 AND word LIKE lower(r.p) LIMIT 256)) AS x) AS w \
     ORDER BY r.i";

/// How the exact search of `term` is matched: one vocabulary look-up.
pub async fn matcher(conn: &mut AsyncPgConnection, term: &str) -> QueryResult<Matcher> {
    let Patterns { arity, like, exact } = patterns(term);
    if like.is_empty() {
        return Ok(Matcher::Substring);
    }
    // `patterns` gives arities 1 to MAX_ARITY; anything else would be a bug, matched the old way.
    let Some(sql) = RUN_WORDS.get(arity.saturating_sub(1)) else {
        return Ok(Matcher::Substring);
    };
    // sql_query: unnest WITH ORDINALITY and a LATERAL sub-select per pattern.
    let rows: Vec<Words> = diesel::sql_query(*sql).bind::<Array<Text>, _>(like).load(conn).await?;
    let recheck = !exact;
    // Every product with an entry of an exact term's set matches it (the entry holds the term).
    let known = if exact { rows.iter().filter_map(|r| r.most).max().unwrap_or(0) } else { 0 };
    let sets: Vec<Vec<String>> =
        rows.into_iter().map(|r| r.words.unwrap_or_default()).filter(|s| s.len() <= MAX_WORDS).collect();
    if sets.is_empty() {
        return Ok(Matcher::Substring);
    }
    Ok(Matcher::Tokens { sets, recheck, known })
}

/// A fallback's matcher for `term`, or `None` when it does not apply: `Similar` when no word may
/// be misspelt, `EveryWord` for a term of one word (the exact search was that) or with a word
/// no product has.
pub async fn fallback(
    conn: &mut AsyncPgConnection,
    term: &str,
    how: Fallback,
) -> QueryResult<Option<Matcher>> {
    let words = words_of(term, how);
    let applies = match how {
        Fallback::Similar => words.iter().any(|(_, similar)| *similar),
        Fallback::EveryWord => words.len() >= 2,
    };
    if !applies {
        return Ok(None);
    }
    let patterns: Vec<String> = words
        .iter()
        .map(|(w, similar)| if *similar { w.clone() } else { format!("%{}%", escape_like(w)) })
        .collect();
    let similar: Vec<bool> = words.iter().map(|(_, s)| *s).collect();
    // sql_query: unnest WITH ORDINALITY, LATERAL, and pg_trgm's `%` operator.
    let rows: Vec<Words> = diesel::sql_query(SIMILAR_WORDS)
        .bind::<Array<Text>, _>(patterns)
        .bind::<Array<diesel::sql_types::Bool>, _>(similar)
        .load(conn)
        .await?;
    // With one set, every product having one of its words matches the fallback.
    let known = match rows.as_slice() {
        [one] => one.most.unwrap_or(0),
        _ => 0,
    };
    let sets: Vec<Vec<String>> = rows.into_iter().map(|r| r.words.unwrap_or_default()).collect();
    if how == Fallback::EveryWord && sets.iter().any(Vec::is_empty) {
        return Ok(None);
    }
    Ok(Some(Matcher::Tokens { sets, recheck: false, known }))
}
