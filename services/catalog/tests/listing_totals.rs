//! `meta.total` (docs/adr/0013-listing-totals.md): exact below the cap for every listing shape,
//! a marked lower bound above it, maintained counts that follow every kind of write, and totals
//! that are fresh after an admin write and within the cache's age bound after stock changes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{App, Options};
use reqwest::Method;
use serde_json::json;

/// Cap used by these tests: small, so both sides of it are cheap to reach.
const CAP: i64 = 40;

/// 300 products over three categories (and none), prices 1.00–30.00, some sold out, some
/// drafts, some deleted; "Shirt" in a third of the names, "Zebra" in five descriptions.
const PRODUCTS: &str = "
    INSERT INTO products (sku, name, description, slug, price_cents, attributes, stock_quantity,
                          reserved_quantity, status, deleted_at, created_at)
    SELECT 'T-' || g,
           CASE WHEN g % 3 = 0 THEN 'Cotton Shirt ' ELSE 'Wool Jumper ' END || g,
           CASE WHEN g % 60 = 1 THEN 'A zebra print.' ELSE 'Plain.' END,
           't-' || g, 100 * (1 + g % 30),
           CASE WHEN g % 10 = 0 THEN '{}'::jsonb
                ELSE jsonb_build_object('category', (ARRAY['cat-a', 'cat-b', 'cat-c'])[1 + g % 3]) END,
           g % 7, CASE WHEN g % 5 = 0 THEN g % 7 ELSE 0 END,
           CASE WHEN g % 17 = 0 THEN 'draft' ELSE 'active' END,
           CASE WHEN g % 23 = 0 THEN now() END,
           timestamptz '2026-01-01' + make_interval(secs => g)
    FROM generate_series(1, 300) AS g";

/// Every listing shape with the `WHERE` that counts it in SQL.
const SHAPES: &[(&str, &str)] = &[
    ("", "true"),
    ("category=cat-a", "attributes->>'category' = 'cat-a'"),
    (
        "category=cat-b&in_stock=1&sort_by=price_cents",
        "attributes->>'category' = 'cat-b' AND stock_quantity > reserved_quantity",
    ),
    ("in_stock=true", "stock_quantity > reserved_quantity"),
    ("category=nope", "attributes->>'category' = 'nope'"),
    ("min_price=10&max_price=12", "price_cents BETWEEN 1000 AND 1200"),
    ("min_price=1", "price_cents >= 100"),
    ("search=shirt", "name ILIKE '%shirt%' OR description ILIKE '%shirt%'"),
    ("search=zebra", "name ILIKE '%zebra%' OR description ILIKE '%zebra%'"),
    (
        "search=shirt&category=cat-a&in_stock=1",
        "(name ILIKE '%shirt%' OR description ILIKE '%shirt%') AND attributes->>'category' = 'cat-a' AND stock_quantity > reserved_quantity",
    ),
    ("search=jumper&page=5&per_page=10", "name ILIKE '%jumper%' OR description ILIKE '%jumper%'"),
    ("search=jumper&page=9&per_page=10", "name ILIKE '%jumper%' OR description ILIKE '%jumper%'"),
    ("page=20&per_page=10", "true"),
    ("sort_by=name&sort_order=asc&per_page=100&page=3", "true"),
];

async fn app_with(cache: bool) -> App {
    let mut opts = Options { seed: false, count_cap: CAP, ..Options::default() };
    if !cache {
        opts.cache = None;
    }
    let app = common::spawn_opts(opts).await.0;
    app.exec(PRODUCTS).await;
    app
}

async fn expected(app: &App, filter: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM products WHERE status = 'active' AND deleted_at IS NULL AND ({filter})"
    ))
    .await
}

fn maintained(shape: &str) -> bool {
    !shape.contains("search=") && !shape.contains("_price=")
}

fn param(shape: &str, key: &str, default: i64) -> i64 {
    shape
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .map_or(default, |v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_are_exact_below_the_cap_and_marked_above_it() {
    let app = app_with(false).await;
    let mut seen = (0, 0);
    for (shape, filter) in SHAPES {
        let exact = expected(&app, filter).await;
        let (status, body) = app.get(&format!("/api/v1/products?{shape}")).await;
        assert_eq!(status, 200, "{shape}: {body}");
        let meta = &body["meta"];
        let (page, per_page) = (param(shape, "page", 1), param(shape, "per_page", 24));
        let bound = CAP.max(page * per_page + 1);
        let total = meta["total"].as_i64().unwrap();
        if maintained(shape) || exact < bound {
            assert_eq!((total, &meta["total_relation"]), (exact, &json!("eq")), "{shape}");
            seen.0 += 1;
        } else {
            assert_eq!((total, &meta["total_relation"]), (bound, &json!("gte")), "{shape}: exact {exact}");
            assert!(total <= exact, "{shape}: a lower bound");
            seen.1 += 1;
            assert!(body["links"]["next"].is_string(), "{shape}: more pages follow a lower bound");
        }
        let last = meta["last_page"].as_i64().unwrap();
        assert_eq!(last, ((total + per_page - 1) / per_page).max(1), "{shape}");
        assert!(body["links"]["last"].as_str().unwrap().contains(&format!("page={last}")), "{shape}");
        // The page itself is the same whatever the count: its rows are the SQL's rows.
        let rows = i64::try_from(body["data"].as_array().unwrap().len()).unwrap();
        assert_eq!(rows, (exact - (page - 1) * per_page).clamp(0, per_page), "{shape}");
    }
    assert!(seen.0 >= 8 && seen.1 >= 3, "both sides of the cap were exercised: {seen:?}");
}

/// The maintained counts (folded plus pending deltas), next to what a `GROUP BY` of the
/// products says.
async fn counts_agree(app: &App, when: &str) {
    let drift = app
        .count(
            "WITH kept AS (
               SELECT category, in_stock, sum(n) AS n
               FROM (SELECT category, in_stock, n FROM listing_counts
                     UNION ALL SELECT category, in_stock, n FROM listing_count_deltas) AS all_rows
               GROUP BY 1, 2 HAVING sum(n) <> 0),
             real AS (
               SELECT coalesce(attributes->>'category', '') AS category,
                      stock_quantity > reserved_quantity AS in_stock, count(*) AS n
               FROM products WHERE status = 'active' AND deleted_at IS NULL GROUP BY 1, 2)
             SELECT count(*) AS n FROM ((TABLE kept EXCEPT TABLE real) UNION ALL (TABLE real EXCEPT TABLE kept)) AS d",
        )
        .await;
    assert_eq!(drift, 0, "listing_counts drifted after: {when}");
}

/// Folds the deltas, as the compactor task does.
async fn compact(app: &App) {
    app.exec("SELECT listing_counts_compact()").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM listing_count_deltas").await, 0, "all folded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintained_counts_follow_every_kind_of_write() {
    let app = app_with(false).await;
    counts_agree(&app, "the insert of 300").await;
    let steps = [
        ("a category change", "UPDATE products SET attributes = attributes || '{\"category\": \"cat-z\"}' WHERE id % 4 = 0"),
        ("a category removed", "UPDATE products SET attributes = attributes - 'category' WHERE id % 9 = 0"),
        ("drafts published", "UPDATE products SET status = 'active' WHERE status = 'draft'"),
        ("discontinued", "UPDATE products SET status = 'discontinued' WHERE id % 11 = 0"),
        ("soft deletes", "UPDATE products SET deleted_at = now() WHERE id % 13 = 0 AND deleted_at IS NULL"),
        ("restores", "UPDATE products SET deleted_at = NULL WHERE id % 23 = 0"),
        ("sold out by reservation", "UPDATE products SET reserved_quantity = stock_quantity WHERE id % 3 = 1"),
        ("restocked", "UPDATE products SET stock_quantity = stock_quantity + 5 WHERE id % 6 = 1"),
        ("reservations that do not flip", "UPDATE products SET reserved_quantity = reserved_quantity + 1 WHERE stock_quantity > reserved_quantity + 3"),
        ("an upsert", "INSERT INTO products (sku, name, slug, price_cents, status, stock_quantity, attributes)
             SELECT 'T-' || g, 'Upserted ' || g, 'u-' || g, 500, 'active', 2, '{\"category\": \"cat-u\"}'
             FROM generate_series(290, 320) AS g
             ON CONFLICT (sku) DO UPDATE SET attributes = EXCLUDED.attributes, status = 'active', deleted_at = NULL"),
        ("hard deletes", "DELETE FROM products WHERE id % 29 = 0"),
        ("several statements in one transaction, rolled back", "BEGIN; UPDATE products SET status = 'draft'; DELETE FROM products; ROLLBACK"),
    ];
    for (i, (what, sql)) in steps.into_iter().enumerate() {
        app.exec(sql).await;
        counts_agree(&app, what).await;
        if i % 2 == 1 {
            compact(&app).await;
            counts_agree(&app, &format!("{what}, folded")).await;
        }
    }
    app.exec("TRUNCATE products CASCADE").await;
    counts_agree(&app, "truncate").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM listing_counts WHERE n <> 0").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_keep_the_counts_exact() {
    let app = app_with(false).await;
    let mut tasks = Vec::new();
    for w in 0..16_i64 {
        let conn = app.db.conn().await;
        tasks.push(tokio::spawn(async move {
            use diesel_async::SimpleAsyncConnection;
            let mut conn = conn;
            for i in 0..25_i64 {
                let id = 1 + (w * 37 + i * 11) % 300;
                let sql = match i % 4 {
                    0 => format!("UPDATE products SET reserved_quantity = stock_quantity WHERE id = {id}"),
                    1 => format!("UPDATE products SET reserved_quantity = 0, stock_quantity = stock_quantity + 1 WHERE id = {id}"),
                    2 => format!("UPDATE products SET attributes = '{{\"category\": \"cat-{}\"}}' WHERE id = {id}", i % 3),
                    _ => format!("UPDATE products SET status = CASE status WHEN 'active' THEN 'draft' ELSE 'active' END WHERE id = {id}"),
                };
                conn.batch_execute(&sql).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    counts_agree(&app, "16 concurrent writers").await;
    // The compactor task's own function, while writers keep appending deltas.
    let pool = app.db.pool().await;
    let writer = app.db.conn().await;
    let writing = tokio::spawn(async move {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = writer;
        for i in 0..50 {
            conn.batch_execute(&format!(
                "UPDATE products SET reserved_quantity = stock_quantity * ({i} % 2) WHERE id % 7 = 3"
            ))
            .await
            .unwrap();
        }
    });
    let mut folded = 0;
    while !writing.is_finished() {
        folded += catalog::listing::compactor::compact(&pool).await.unwrap();
    }
    writing.await.unwrap();
    assert!(folded > 0, "the compactor folded deltas");
    counts_agree(&app, "compaction during writes").await;
    compact(&app).await;
    counts_agree(&app, "16 concurrent writers, folded").await;
}

/// Waits (with a deadline) until `path` answers with `meta.total` equal to `want`.
async fn total_becomes(app: &App, path: &str, want: i64, within: Duration) {
    testkit::wait_until(within, &format!("{path} to answer total {want}"), || async {
        let (_, body) = app.get(path).await;
        (body["meta"]["total"] == want).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_totals_are_fresh_after_admin_writes_and_within_the_age_bound_after_stock_changes() {
    let app = app_with(true).await;
    let category = "/api/v1/products?category=cat-a";
    let (_, before) = app.get(category).await;
    let n = before["meta"]["total"].as_i64().unwrap();
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/admin/products",
            Some(json!({"sku": "NEW-1", "name": "New Shirt", "price_cents": 1200, "currency": "USD",
                        "attributes": {"category": "cat-a"}, "stock_quantity": 1, "status": "active"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, after) = app.get(category).await;
    assert_eq!(after["meta"]["total"], n + 1, "an admin write is visible to the next read");
    let (_, search) = app.get("/api/v1/products?search=new+shirt").await;
    assert_eq!(search["meta"]["total"], 1);

    // A reservation takes the last unit: the in-stock total drops within the 5 s age bound
    // (stock changes do not bump the cache version; docs/adr/0011).
    let in_stock = "/api/v1/products?category=cat-a&in_stock=1";
    let (_, body) = app.get(in_stock).await;
    let n = body["meta"]["total"].as_i64().unwrap();
    let id = body_product_id(&app, "NEW-1").await;
    let (status, r) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": id, "quantity": 1, "order_id": 9}))
        .await;
    assert_eq!(status, 201, "{r}");
    // 5 s of age bound, plus slack for the refresh that runs behind the last served copy.
    total_becomes(&app, in_stock, n - 1, Duration::from_millis(6_500)).await;
}

async fn body_product_id(app: &App, sku: &str) -> i64 {
    app.count(&format!("SELECT id AS n FROM products WHERE sku = '{sku}'")).await
}
