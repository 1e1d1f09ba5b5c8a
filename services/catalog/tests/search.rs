//! Search at scale (docs/adr/0073-search-at-scale.md) against a fixed catalog: the stored runs and
//! the vocabulary give exactly the seed's substring matches, `sort_by=relevance` ranks them, and
//! the typo fallback answers only when nothing matches, marked in `meta`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use serde_json::json;

/// Sixteen products; `created_at` decreases with the number, so newest-first ties are fixed.
const CATALOG: &str = "INSERT INTO products (sku, name, description, slug, price_cents, status, created_at)
SELECT sku, name, description, lower(sku), 1000, 'active', now() - make_interval(mins => n)
FROM (VALUES
 (1,  'R01', 'Wool', 'A warm hat.'),
 (2,  'R02', 'Wool Scarf - Navy', 'Soft scarf made of wool.'),
 (3,  'R03', 'Classic Wool Scarf - Red', 'Scarf in wool.'),
 (4,  'R04', 'Woolly Hat - Grey', 'A hat.'),
 (5,  'R05', 'Merino Woolen Socks', 'Socks.'),
 (6,  'R06', 'Cotton Tee - White', 'Feels like wool, weighs less.'),
 (7,  'R07', 'Steel Wool Pads', 'Kitchen pads.'),
 (8,  'R08', 'Linen Shirt - Blue', 'A linen shirt.'),
 (9,  'R09', 'T-Shirt - Black', 'Cotton t-shirt.'),
 (10, 'R10', 'Shirt', 'The plain shirt.'),
 (11, 'R11', 'Shirtdress - Olive', 'A dress shaped like a shirt.'),
 (12, 'R12', 'Hiking Boots - Brown', 'Waterproof leather hiking boots.'),
 (13, 'R13', 'Trail Runners - Navy', 'Lightweight trail running shoes.'),
 (14, 'R14', 'Running Shorts', 'For the track.'),
 (15, 'R15', 'Canvas Tote Bag', 'Bag.'),
 (16, 'R16', 'Tote Bag', 'Plain tote bag.'),
 (17, 'R17', 'Fleece Hoodie - Grey', 'Warm fleece.')
) AS p(n, sku, name, description)";

/// The app without products or page cache (these tests write with SQL, which bumps no version).
async fn uncached() -> common::App {
    let opts = common::Options { seed: false, cache: None, ..common::Options::default() };
    common::spawn_opts(opts).await.0
}

async fn app() -> common::App {
    let app = uncached().await;
    app.exec(CATALOG).await;
    app
}

fn url(params: &[(&str, &str)]) -> String {
    format!("/api/v1/products?{}", serde_urlencoded::to_string(params).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relevance_ranks_exact_names_then_prefixes_then_name_words_then_descriptions() {
    let app = app().await;
    let cases: [(&str, &[&str]); 10] = [
        // exact name; name prefixes (newest first); whole words in names; inside a name word; description
        ("wool", &["R01", "R02", "R04", "R03", "R07", "R05", "R06"]),
        ("shirt", &["R10", "R11", "R08", "R09"]),
        ("wool scarf", &["R02", "R03"]),
        ("scarf", &["R02", "R03"]),
        ("running", &["R14", "R13"]),
        ("BOOTS", &["R12"]),
        ("navy", &["R02", "R13"]),
        ("t-shirt", &["R09"]),
        ("tote bag", &["R16", "R15"]),
        ("hat", &["R04", "R01"]),
    ];
    for (term, want) in cases {
        let (status, body) = app.get(&url(&[("search", term), ("sort_by", "relevance")])).await;
        assert_eq!(status, 200, "{term}: {body}");
        assert_eq!(common::skus(&body), want, "search={term:?}&sort_by=relevance");
        assert_eq!(body["meta"]["total"], want.len(), "{term}");
        assert_eq!(body["next_cursor"], json!(null), "relevance pages by page only");
    }
    // Pages of a ranked list continue it.
    let (_, page2) = app
        .get(&url(&[("search", "wool"), ("sort_by", "relevance"), ("per_page", "3"), ("page", "2")]))
        .await;
    assert_eq!(common::skus(&page2), ["R03", "R07", "R05"]);
    // Without sort_by the seed's order stays: newest first.
    let (_, body) = app.get(&url(&[("search", "wool")])).await;
    assert_eq!(common::skus(&body), ["R01", "R02", "R03", "R04", "R05", "R06", "R07"]);
    let (status, body) = app.get("/api/v1/products?sort_by=relevance").await;
    assert_eq!(status, 422);
    assert_eq!(body["messages"]["sort_by"][0], "The sort by relevance requires a search.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misspelt_words_fall_back_to_similar_words_only_when_nothing_matches() {
    let app = app().await;
    let fallback = |body: &serde_json::Value| body["meta"].get("search_fallback").cloned();
    let (_, body) = app.get(&url(&[("search", "hodie")])).await;
    assert_eq!(common::skus(&body), ["R17"]);
    assert_eq!(fallback(&body), Some(json!("similar")));
    assert_eq!(body["meta"]["total"], 1);
    // A short word must still be part of a word; the long one may be misspelt.
    let (_, body) = app.get(&url(&[("search", "scarff navy")])).await;
    assert_eq!((common::skus(&body), fallback(&body)), (vec!["R02".to_owned()], Some(json!("similar"))));
    // Exact matches never fall back, even when a similar word would find more.
    let (_, body) = app.get(&url(&[("search", "hoodie")])).await;
    assert_eq!((common::skus(&body), fallback(&body)), (vec!["R17".to_owned()], None));
    // Words under five letters are not corrected; nothing similar is nothing.
    for term in ["hta", "zebra", "woool socks - blue"] {
        let (_, body) = app.get(&url(&[("search", term)])).await;
        assert_eq!((body["meta"]["total"].clone(), fallback(&body)), (json!(0), None), "{term}");
    }
    // Every word of a term, in any order and across a name's " - ", before any typo is assumed.
    for (term, want) in [
        ("trail runners navy", vec!["R13".to_owned()]),
        ("navy runners", vec!["R13".to_owned()]),
        ("scarf navy", vec!["R02".to_owned()]),
        ("Socks woolen", vec!["R05".to_owned()]),
        ("blue - shirt", vec!["R08".to_owned()]),
    ] {
        let (_, body) = app.get(&url(&[("search", term)])).await;
        assert_eq!((common::skus(&body), fallback(&body)), (want, Some(json!("similar"))), "{term}");
    }
    // A word no product has leaves it to the typo fallback ("scarff" above), or to nothing.
    let (_, body) = app.get(&url(&[("search", "navy zebra")])).await;
    assert_eq!((body["meta"]["total"].clone(), fallback(&body)), (json!(0), None));
    // The fallback ranks like any search.
    let (_, body) = app.get(&url(&[("search", "scarv"), ("sort_by", "relevance")])).await;
    assert_eq!(common::skus(&body), ["R02", "R03"]);
    assert_eq!(fallback(&body), Some(json!("similar")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_words_match_exactly_the_substrings_through_the_stored_runs() {
    let app = app().await;
    let long = format!("{}needle{}", "x".repeat(40), "y".repeat(40));
    app.exec(&format!(
        "INSERT INTO products (sku, name, description, slug, price_cents, status) VALUES
         ('L1', 'Odd Thing', 'see {long} here', 'l1', 100, 'active'),
         ('L2', 'Percent 100%_off', 'Back\\slash', 'l2', 100, 'active'),
         ('D1', 'Draft Wool', 'hidden', 'd1', 100, 'draft')"
    ))
    .await;
    let terms = [
        "wool", "WOOL", "ool", "oolly", "shirt", "-shirt", "t-", "irt.", "navy", "needle", "xneedley",
        "y here", "100%", "%_o", "\\sl", "e - n", "wool.", "zzz", "draft",
    ];
    for term in terms {
        let (status, body) = app.get(&url(&[("search", term), ("per_page", "100")])).await;
        assert_eq!(status, 200, "{term}: {body}");
        let mut got = common::skus(&body);
        got.sort();
        assert_eq!(got, skus_matching(&app, term).await, "search={term:?}");
    }
    // A renamed product is found by its new words at once (the vocabulary follows in the same
    // transaction), and no longer by the old ones.
    app.exec("UPDATE products SET name = 'Alpaca Throw' WHERE sku = 'R01'").await;
    let (_, body) = app.get(&url(&[("search", "alpaca")])).await;
    assert_eq!(common::skus(&body), ["R01"]);
    let (_, body) = app.get(&url(&[("search", "wool"), ("sort_by", "relevance")])).await;
    assert_eq!(common::skus(&body), ["R02", "R04", "R03", "R07", "R05", "R06"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terms_with_spaces_match_exactly_the_substrings_through_pairs_and_triples() {
    let app = app().await;
    app.exec(
        "INSERT INTO products (sku, name, description, slug, price_cents, status) VALUES
         ('P1', 'Tote  Bag - Sand', 'two  spaces', 'p1', 100, 'active'),
         ('D2', 'Wool Scarf - Draft', 'hidden', 'd2', 100, 'draft')",
    )
    .await;
    let terms = [
        // two runs: whole words, parts at the ends, punctuation, across name and description
        "wool scarf",
        "ool sca",
        "scarf - ",
        "WOOL SCARF",
        "tote bag",
        "tote bag.",
        "bag plain",
        "a hat",
        "hat.",
        "s made",
        "t-shirt - black",
        "like a",
        "wool, weighs",
        // three runs, and more (windows of three, re-tested)
        "scarf - navy",
        "made of wool",
        "e of wool.",
        "trail runners - navy",
        "classic wool scarf - red",
        "like wool, weighs less",
        "feels like wool, weighs less.",
        "wool scarf - red",
        // double spaces and spaces at the ends: looked up by runs
        "tote  bag",
        "two  spaces",
        " scarf",
        "scarf ",
        "a  hat",
        // nothing
        "scarf wool",
        "navy scarf",
        "wool scarf - draft",
    ];
    for term in terms {
        let (status, body) = app.get(&url(&[("search", term), ("per_page", "100")])).await;
        assert_eq!(status, 200, "{term}: {body}");
        let want = skus_matching(&app, term).await;
        if body["meta"].get("search_fallback").is_some() {
            // Nothing matches exactly, and a long word may be misspelt: the marked fallback.
            assert!(want.is_empty(), "search={term:?} fell back although {want:?} match");
            continue;
        }
        let mut got = common::skus(&body);
        got.sort();
        assert_eq!(got, want, "search={term:?}");
    }
    // A renamed product's new pairs are found at once; its old ones no longer find it.
    app.exec("UPDATE products SET name = 'Alpaca Throw Blanket' WHERE sku = 'R02'").await;
    let (_, body) = app.get(&url(&[("search", "throw blank")])).await;
    assert_eq!(common::skus(&body), ["R02"]);
    let (_, body) = app.get(&url(&[("search", "wool scarf")])).await;
    assert_eq!(common::skus(&body), ["R03"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_count_to_their_own_cap_in_one_scan() {
    let app = uncached().await;
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status, created_at)
         SELECT 'S' || g, 'Striped Sock ' || g, 's' || g, 100, 'active', now() - make_interval(secs => g)
         FROM generate_series(1, 1005) AS g",
    )
    .await;
    let (_, body) = app.get(&url(&[("search", "sock")])).await;
    assert_eq!(
        (
            body["meta"]["total"].clone(),
            body["meta"]["total_relation"].clone(),
            body["meta"]["last_page"].clone()
        ),
        (json!(1000), json!("gte"), json!(42))
    );
    assert_eq!(common::skus(&body)[..2], ["S1", "S2"], "the page is the newest, not any 24");
    let (_, body) = app.get(&url(&[("search", "sock 100")])).await;
    assert_eq!(
        (body["meta"]["total"].clone(), body["meta"]["total_relation"].clone()),
        (json!(7), json!("eq"))
    );
    assert_eq!(common::skus(&body), ["S100", "S1000", "S1001", "S1002", "S1003", "S1004", "S1005"]);
    let (_, body) = app.get(&url(&[("search", "sock 100"), ("per_page", "5"), ("page", "2")])).await;
    assert_eq!(common::skus(&body), ["S1004", "S1005"]);
    let (_, body) = app.get(&url(&[("search", "sock 100"), ("per_page", "5"), ("page", "3")])).await;
    assert_eq!((common::skus(&body).len(), body["meta"]["total"].clone()), (0, json!(7)));
    let (_, body) = app.get(&url(&[("search", "sock"), ("page", "50")])).await;
    assert_eq!(
        (body["meta"]["total"].clone(), body["meta"]["total_relation"].clone()),
        (json!(1005), json!("eq"))
    );
    // A term with spaces that reaches the cap: the page walks the sort index.
    let (_, body) = app.get(&url(&[("search", "striped sock"), ("page", "2")])).await;
    assert_eq!(
        (body["meta"]["total"].clone(), body["meta"]["total_relation"].clone()),
        (json!(1000), json!("gte"))
    );
    assert_eq!(common::skus(&body)[0], "S25");
    // A misspelt common word: its one similar word is known to reach the cap too.
    let (_, body) = app.get(&url(&[("search", "sockk")])).await;
    let meta = &body["meta"];
    assert_eq!(
        (meta["total"].clone(), meta["total_relation"].clone(), meta["search_fallback"].clone()),
        (json!(1000), json!("gte"), json!("similar"))
    );
    assert_eq!(common::skus(&body)[0], "S1");
    // The per-word counts follow every write (deltas until the compactor folds them): below the
    // cap the total is counted again, exactly.
    app.exec("UPDATE products SET status = 'draft' WHERE sku IN ('S1', 'S2', 'S3', 'S4', 'S5', 'S6')").await;
    app.exec("DELETE FROM products WHERE sku = 'S7'").await;
    for round in ["deltas", "folded"] {
        let (_, body) = app.get(&url(&[("search", "sock")])).await;
        let meta = &body["meta"];
        assert_eq!(
            (meta["total"].clone(), meta["total_relation"].clone()),
            (json!(998), json!("eq")),
            "{round}"
        );
        assert_eq!(common::skus(&body)[0], "S8", "{round}");
        catalog::listing::compactor::compact(&app.state.pool).await.unwrap();
    }
}

async fn skus_matching(app: &common::App, term: &str) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Sku {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sku: String,
    }
    let pattern = catalog::listing::repo::like_pattern(term);
    let mut conn = app.db.conn().await;
    let rows: Vec<Sku> = diesel::sql_query(
        "SELECT sku FROM products WHERE status = 'active' AND deleted_at IS NULL
         AND (name ILIKE $1 OR description ILIKE $1) ORDER BY sku",
    )
    .bind::<diesel::sql_types::Text, _>(pattern)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.sku).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_term_with_more_matches_than_the_collect_walks_the_sort_index() {
    let app = uncached().await;
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status, created_at)
         SELECT 'B' || g, 'Big Striped Wool Sock ' || g, 'b' || g, 100, 'active', now() - make_interval(secs => g)
         FROM generate_series(1, 10005) AS g;
         ANALYZE products",
    )
    .await;
    // Four runs: windows of three, re-tested with ILIKE; 10,005 matches pass the collect's
    // 10,000, so the page walks the sort index (ADR 0073, decision 9).
    let (status, body) = app.get(&url(&[("search", "big striped wool sock"), ("page", "2")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["meta"]["total"].clone(), body["meta"]["total_relation"].clone()),
        (json!(1000), json!("gte"))
    );
    assert_eq!(common::skus(&body)[..2], ["B25", "B26"], "newest first, page 2");
}
