//! Every listing query shape can be served by an index: with sequential scans priced out
//! (`enable_seqscan = off`), no count or page plan reads products sequentially, and search goes
//! through the trigram indexes. Which index the planner prefers depends on the data's size and
//! statistics, so this test does not pin it (category / in-stock totals read the maintained
//! counts, never products); `catalog explain` checks the planner's own choices
//! at benchmark scale (100k / 1M products).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use catalog::listing::explain::{SHAPES, plans, scans_products_sequentially, shape_query};
use diesel_async::SimpleAsyncConnection;
use testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_shape_can_use_an_index() {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    conn.batch_execute(
        "INSERT INTO products (sku, name, description, slug, price_cents, attributes, stock_quantity,
                               reserved_quantity, status, created_at)
         SELECT 'G-' || g, CASE WHEN g % 40 = 0 THEN 'Blue runner ' ELSE 'Red shirt ' END || g,
                'Generated product number ' || g, 'g-' || g, 500 + (g * 7919) % 50000,
                jsonb_build_object('category', (ARRAY['clothing','footwear','outdoor','home','toys','books'])[1 + g % 6]),
                g % 50, g % 7, CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'active' END,
                now() - make_interval(secs => g)
         FROM generate_series(1, 30000) AS g;
         ANALYZE products;
         SET enable_seqscan = off;",
    )
    .await
    .unwrap();
    for shape in SHAPES {
        let q = shape_query(shape).unwrap();
        let (count, page) = plans(&mut conn, &q).await.unwrap();
        assert!(!scans_products_sequentially(&page), "page of ?{shape} scans sequentially:\n{page}");
        assert!(page.contains("Index"), "page of ?{shape} uses no index:\n{page}");
        if catalog::listing::total::is_maintained(&q) {
            // The total of category / in-stock listings reads the maintained counts only.
            assert!(!count.contains("on products"), "count of ?{shape} reads products:\n{count}");
            assert!(count.contains("listing_counts"), "count of ?{shape}:\n{count}");
        } else {
            assert!(!scans_products_sequentially(&count), "count of ?{shape} scans sequentially:\n{count}");
            assert!(count.contains("Index"), "count of ?{shape} uses no index:\n{count}");
            assert!(count.contains("Limit"), "count of ?{shape} is bounded:\n{count}");
        }
    }
    // On a table this small the planner may prefer walking an active-products b-tree for search;
    // without those, the trigram indexes alone must serve it (DDL is transactional: rolled back).
    conn.batch_execute(
        "BEGIN; DROP INDEX products_active_idx, products_active_price_idx,
             products_active_name_idx, products_category_idx, products_category_price_idx,
             products_category_name_idx",
    )
    .await
    .unwrap();
    // A word goes through the stored runs (docs/adr/0073-search-at-scale.md).
    let (tokens_count, tokens_page) = plans(&mut conn, &shape_query("search=runner").unwrap()).await.unwrap();
    // Runs too short to narrow take the substring test (on an index, never sequentially).
    let (count, page) = plans(&mut conn, &shape_query("search=ru").unwrap()).await.unwrap();
    // And without those, a term of three short words narrows on the full-text index.
    conn.batch_execute("DROP INDEX products_name_trgm_idx, products_description_trgm_idx").await.unwrap();
    let (words_count, words_page) =
        plans(&mut conn, &shape_query("search=bl+ru+nu+1").unwrap()).await.unwrap();
    conn.batch_execute("ROLLBACK").await.unwrap();
    for plan in [&tokens_count, &tokens_page] {
        assert!(plan.contains("products_search_tokens_idx"), "a word narrows on the stored runs:\n{plan}");
        assert!(!scans_products_sequentially(plan), "{plan}");
    }
    for plan in [&words_count, &words_page] {
        assert!(plan.contains("products_words_idx"), "inner words narrow on the full-text index:\n{plan}");
    }
    for plan in [&count, &page] {
        assert!(!scans_products_sequentially(plan), "{plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequential_scan_is_detected() {
    // Three rows and the planner's defaults: a sequential scan is the cheapest plan.
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    catalog::seed::seed_demo(&mut conn).await.unwrap();
    conn.batch_execute("ANALYZE products").await.unwrap();
    let (count, _) = plans(&mut conn, &shape_query("search=runner").unwrap()).await.unwrap();
    assert!(scans_products_sequentially(&count), "{count}");
}
