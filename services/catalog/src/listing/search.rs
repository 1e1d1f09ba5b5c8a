//! How `search` is matched at a million products (docs/adr/0073-search-at-scale.md).
//!
//! The meaning stays the seed's: a case-insensitive substring of name or description. The text's
//! space-separated runs are stored per product (`products.search_tokens`, GIN-indexed) and every
//! run any product has is in the vocabulary (`search_words`, trigram-indexed). A term is cut at
//! its spaces; each run of it must be part of a run of the text: anywhere in it (a term without
//! spaces), at its end (the first run of a longer term), all of it (inner runs) or at its start
//! (the last run). The vocabulary turns each run of the term into the words that qualify, and
//! the products with one of those words are the candidates. For a term without spaces that is
//! the answer itself (no row is re-read). The stored runs also hold every pair and triple of
//! consecutive runs, so a term of two or three runs is looked up whole among them and is just as
//! exact; longer terms are cut into windows of three runs and re-test the candidates with `ILIKE`.
//!
//! When the exact search finds nothing, words of five letters or more may be misspelt: the
//! fallback matches vocabulary words by trigram similarity instead (`meta.search_fallback`).

use diesel::QueryableByName;
use diesel::sql_types::BigInt;

/// The count cap of searches: "1,000+ results" is what shops show, and a bounded count's cost
/// grows with its bound. `CATALOG_COUNT_CAP` still applies when it is lower.
pub const SEARCH_COUNT_CAP: i64 = 1_000;

/// Most matches a search's one scan reads to sort its page out of them when no count of its
/// words is known. Beyond it the matches are dense enough (1 % of a million products) for a
/// walk of the sort index to fill a page of 24 within a few thousand rows; below it, the walk
/// would test up to 24 rows per match density's inverse, more than sorting the matches.
pub const SEARCH_COLLECT: i64 = 10_000;

/// Most vocabulary words one run of a term may stand for; a run with more does not narrow (the
/// products having one of that many words are most of the catalog anyway).
pub const MAX_WORDS: usize = 256;

/// Shortest run (in characters) used to narrow: shorter ones (`-`, `xl`) are in too many words.
pub const MIN_RUN: usize = 3;

/// Most runs one vocabulary entry spans: words, pairs and triples of consecutive runs are
/// stored (the migration's `search_tokens`).
pub const MAX_ARITY: usize = 3;

/// Shortest word (letters and digits) the typo fallback treats as possibly misspelt.
pub const FALLBACK_MIN_LETTERS: usize = 5;

/// How a search term is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Candidates have, for each set, one of its words in `search_tokens` (or a run too long to
    /// store); with `recheck`, they are then tested with `ILIKE`.
    Tokens {
        /// One set of vocabulary words per run of the term that narrows.
        sets: Vec<Vec<String>>,
        /// Whether the candidates still need the substring test.
        recheck: bool,
        /// At least this many storefront products match (a word of a one-run term that many
        /// products have, from `search_words.n`); 0 when unknown.
        known: i64,
    },
    /// The plain substring test on the trigram indexes (no run of the term narrows).
    Substring,
    /// The substring test alone, on no index: for the page of a term with spaces that at least the
    /// bound of products match, so the listing's sort index is walked until the page is full
    /// (the planner, multiplying the words' frequencies, would rather sort every candidate).
    Walk,
}

/// Where a run sits in the term, which says what a matching text's run looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The term has no space: the run is anywhere inside a text run.
    Inside,
    /// First of several: a text run ends with it.
    End,
    /// Between two spaces: a text run is exactly it.
    Whole,
    /// Last of several: a text run starts with it.
    Start,
}

/// `\`, `%` and `_` escaped for LIKE.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The runs of `term` that narrow, each with the LIKE pattern a vocabulary word must match
/// (lower-cased in SQL, as ILIKE does).
pub fn run_patterns(term: &str) -> Vec<String> {
    let pieces: Vec<&str> = term.split(' ').collect();
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .filter(|(_, run)| run.chars().count() >= MIN_RUN)
        .map(|(i, run)| {
            let place = match (i, last) {
                (_, 0) => Place::Inside,
                (0, _) => Place::End,
                (i, l) if i == l => Place::Start,
                _ => Place::Whole,
            };
            let run = escape_like(run);
            match place {
                Place::Inside => format!("%{run}%"),
                Place::End => format!("%{run}"),
                Place::Whole => run,
                Place::Start => format!("{run}%"),
            }
        })
        .collect()
}

/// What a term is looked up as in the vocabulary ([`patterns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    /// Runs per vocabulary entry looked up: 1 (words), 2 (pairs) or 3 (triples).
    pub arity: usize,
    /// One LIKE pattern per run or window that narrows (lower-cased in SQL, as ILIKE does).
    pub like: Vec<String>,
    /// Having an entry of the one set *is* the substring test: no re-test, and an entry's count
    /// of products is a lower bound of the matches.
    pub exact: bool,
}

/// How `term` is looked up. A term of up to three runs is one pattern over the entries of its
/// arity: the text holds the term exactly when one of its entries (a run, or a pair or triple
/// of consecutive runs) holds it, the term's spaces on the entry's. A longer term is cut into
/// windows of three runs (each a triple of the text, at the term's ends a part of one), and the
/// candidates are re-tested. A term with an empty run (two spaces in a row, or one at an end)
/// is looked up by its runs ([`run_patterns`]).
pub fn patterns(term: &str) -> Patterns {
    let runs: Vec<&str> = term.split(' ').collect();
    if runs.len() == 1 || runs.iter().any(|r| r.is_empty()) {
        let like = run_patterns(term);
        return Patterns { arity: 1, exact: runs.len() == 1 && !like.is_empty(), like };
    }
    let arity = runs.len().min(MAX_ARITY);
    let last = runs.len() - arity;
    let like: Vec<String> = (0..=last)
        // A window of short runs only (`- xl`) has no trigram to narrow with.
        .filter(|&i| runs[i..i + arity].iter().any(|r| r.chars().count() >= MIN_RUN))
        .map(|i| {
            let head = if i == 0 { "%" } else { "" };
            let tail = if i == last { "%" } else { "" };
            format!("{head}{}{tail}", escape_like(&runs[i..i + arity].join(" ")))
        })
        .collect();
    Patterns { arity, exact: last == 0 && like.len() == 1, like }
}

/// The two fallbacks, tried in this order when the exact search finds nothing (ADR 0073,
/// decision 10); either answer is marked `meta.search_fallback: "similar"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Every word of the term, each part of a word of the product, in any order and place: a
    /// shopper's "trail runners olive" for "Trail Runners - Olive". Terms of two words or more.
    EveryWord,
    /// Words of five letters or more matched by trigram similarity (typos), shorter ones as
    /// parts of words.
    Similar,
}

/// The words of `term` a fallback looks up: `(word, similar)`, where `similar` says the word is
/// matched by similarity (else it must be part of a word, as usual). `EveryWord` skips words
/// without a letter or digit (a shopper's ` - `).
pub fn words_of(term: &str, how: Fallback) -> Vec<(String, bool)> {
    match how {
        Fallback::Similar => fallback_words(term),
        Fallback::EveryWord => term
            .split(' ')
            .filter(|w| w.chars().count() >= MIN_RUN && w.chars().any(char::is_alphanumeric))
            .map(|w| (w.to_owned(), false))
            .collect(),
    }
}

/// The words of `term` the typo fallback looks up: `(word, similar)`, where `similar` says the
/// word is long enough to be matched by similarity (else it must be part of a word, as usual).
pub fn fallback_words(term: &str) -> Vec<(String, bool)> {
    term.split(' ')
        .filter(|w| w.chars().count() >= MIN_RUN)
        .map(|w| {
            let letters = w.chars().filter(|c| c.is_alphanumeric()).count();
            (w.to_owned(), letters >= FALLBACK_MIN_LETTERS)
        })
        .collect()
}

/// Whether `matcher` already shows at least `bound` products match `q`: a word of a one-run
/// term (or of a one-word fallback) that many storefront products have, and no other filter
/// (the word counts are of every storefront product). Then no row needs counting.
pub fn known_to_reach(matcher: Option<&Matcher>, q: &super::query::ListingQuery, bound: i64) -> bool {
    let only_search =
        q.category.is_none() && q.min_price_cents.is_none() && q.max_price_cents.is_none() && !q.in_stock;
    matches!(matcher, Some(Matcher::Tokens { known, .. }) if *known >= bound) && only_search
}

/// How many storefront products are known to match (see [`Matcher::Tokens`]); 0 when unknown.
pub fn known(matcher: Option<&Matcher>) -> i64 {
    match matcher {
        Some(Matcher::Tokens { known, .. }) => *known,
        _ => 0,
    }
}

/// A row of expressions: a listing row with the number of matches the same scan found (see
/// `repo::collect`).
#[derive(Debug, QueryableByName)]
pub struct Counted {
    /// The product.
    #[diesel(embed)]
    pub product: super::repo::ProductRow,
    /// Matches read, at most the bound.
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_says_where_it_sits() {
        assert_eq!(run_patterns("shirt"), ["%shirt%"]);
        assert_eq!(
            run_patterns("Lightweight Canvas Wallet - Olive"),
            ["%Lightweight", "Canvas", "Wallet", "Olive%"]
        );
        assert_eq!(run_patterns("shorts - gr"), ["%shorts"], "short runs do not narrow");
        assert_eq!(run_patterns("50%_off"), ["%50\\%\\_off%"]);
        assert_eq!(run_patterns(" wool"), ["wool%"], "a space before it: a run starts with it");
        assert_eq!(run_patterns("ab"), Vec::<String>::new());
    }

    #[test]
    fn terms_of_up_to_three_runs_are_looked_up_whole() {
        let p = patterns("shirt");
        assert_eq!((p.arity, p.like, p.exact), (1, vec!["%shirt%".to_owned()], true));
        let p = patterns("Cork Water");
        assert_eq!((p.arity, p.like, p.exact), (2, vec!["%Cork Water%".to_owned()], true));
        let p = patterns("bottle - navy");
        assert_eq!((p.arity, p.like, p.exact), (3, vec!["%bottle - navy%".to_owned()], true));
        let p = patterns("Vintage Cork Water Bottle - Navy");
        assert_eq!(p.arity, 3);
        assert_eq!(
            p.like,
            ["%Vintage Cork Water", "Cork Water Bottle", "Water Bottle -", "Bottle - Navy%"],
            "windows of three; only the term's ends are open"
        );
        assert!(!p.exact, "four runs or more are re-tested");
        assert_eq!(patterns("xl - s").like, Vec::<String>::new(), "no run long enough to narrow");
        let p = patterns("navy  wool");
        assert_eq!((p.arity, p.exact), (1, false), "an empty run: looked up by runs and re-tested");
        assert_eq!(patterns("50% off").like, ["%50\\% off%"]);
    }

    #[test]
    fn every_word_takes_the_words_and_skips_punctuation() {
        assert_eq!(
            words_of("trail  runners - olive", Fallback::EveryWord),
            [("trail".to_owned(), false), ("runners".to_owned(), false), ("olive".to_owned(), false)]
        );
        assert_eq!(words_of("navy hodie", Fallback::Similar), fallback_words("navy hodie"));
    }

    #[test]
    fn fallback_words_are_long_enough_to_be_misspelt() {
        assert_eq!(fallback_words("navy hodie"), [("navy".to_owned(), false), ("hodie".to_owned(), true)]);
        assert!(fallback_words("red cap").iter().all(|(_, s)| !s));
    }
}
