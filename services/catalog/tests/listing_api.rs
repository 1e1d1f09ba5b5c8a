//! `GET /api/v1/products` against a real PostgreSQL: the seed's examples give the seed's answers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_listing_is_the_seeds_answer() {
    let app = common::spawn().await;
    let (status, body) = app.get("/api/v1/products").await;
    assert_eq!(status, 200);
    assert_eq!(common::skus(&body), ["TSHIRT-BLK-M", "JEANS-DNM-32", "SNKR-RUN-10"]);
    let first = &body["data"][0];
    assert_eq!(first["sku"], "TSHIRT-BLK-M");
    assert_eq!(first["name"], "Premium Cotton T-Shirt - Black");
    assert_eq!(first["slug"], "premium-cotton-tshirt-black");
    assert_eq!(first["price"]["amount"], json!(29.99));
    assert_eq!(first["price"]["formatted"], "$29.99");
    assert_eq!(first["price"]["currency"], "USD");
    assert_eq!(
        first["attributes"],
        json!({"category": "clothing", "color": "black", "size": "M", "material": "cotton"})
    );
    assert_eq!(first["availability"], json!({"in_stock": true, "quantity": 145}));
    assert_eq!(body["data"][2]["availability"], json!({"in_stock": true, "quantity": 39}));
    assert_eq!(
        body["meta"],
        json!({"current_page": 1, "last_page": 1, "per_page": 24, "total": 3, "total_relation": "eq"})
    );
    let base = app.server.url("/api/v1/products");
    assert_eq!(
        body["links"],
        json!({"first": format!("{base}?page=1"), "last": format!("{base}?page=1"), "prev": null, "next": null})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_example_filters() {
    let app = common::spawn().await;
    let (_, body) = app.get("/api/v1/products?category=clothing&in_stock=true").await;
    assert_eq!(common::skus(&body), ["TSHIRT-BLK-M", "JEANS-DNM-32"]);
    let (_, body) = app.get("/api/v1/products?min_price=50&max_price=100").await;
    assert_eq!(common::skus(&body), ["JEANS-DNM-32"]);
    let (_, body) = app.get("/api/v1/products?search=running").await;
    assert_eq!(common::skus(&body), ["SNKR-RUN-10"]);
    let (_, body) = app.get("/api/v1/products?search=DENIM").await;
    assert_eq!(common::skus(&body), ["JEANS-DNM-32"], "case-insensitive, matches the description too");
    let (_, body) = app.get("/api/v1/products?search=%25").await;
    assert_eq!(body["meta"]["total"], 0, "% is matched literally, not as a wildcard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_meta_and_links() {
    let app = common::spawn().await;
    let base = app.server.url("/api/v1/products");
    let (_, body) = app.get("/api/v1/products?page=1&per_page=2").await;
    assert_eq!(common::skus(&body), ["TSHIRT-BLK-M", "JEANS-DNM-32"]);
    assert_eq!(
        body["meta"],
        json!({"current_page": 1, "last_page": 2, "per_page": 2, "total": 3, "total_relation": "eq"})
    );
    assert_eq!(
        body["links"],
        json!({
            "first": format!("{base}?page=1&per_page=2"),
            "last": format!("{base}?page=2&per_page=2"),
            "prev": null,
            "next": format!("{base}?page=2&per_page=2"),
        })
    );
    let (_, body) = app.get("/api/v1/products?per_page=2&category=clothing&page=2").await;
    assert_eq!(body["meta"]["total"], 2);
    assert_eq!(body["data"], json!([]));
    assert_eq!(body["links"]["prev"], format!("{base}?per_page=2&category=clothing&page=1"));
    let (_, body) = app.get("/api/v1/products?page=2&per_page=2").await;
    assert_eq!(common::skus(&body), ["SNKR-RUN-10"]);
    assert_eq!(body["links"]["next"], json!(null));
    let (status, body) = app.get("/api/v1/products?page=99").await;
    assert_eq!((status, body["data"].clone()), (200, json!([])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_respect_forwarded_headers() {
    let app = common::spawn().await;
    let res = app
        .server
        .client
        .get(app.server.url("/api/v1/products?per_page=1"))
        .header("X-Forwarded-Proto", "https")
        // The last value is the one the trusted peer (the ingress) wrote.
        .header("X-Forwarded-Host", "spoofed.example, shop.example.com")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["links"]["next"], "https://shop.example.com/api/v1/products?per_page=1&page=2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorting() {
    let app = common::spawn().await;
    let (_, body) = app.get("/api/v1/products?sort_by=price_cents&sort_order=desc").await;
    assert_eq!(common::skus(&body), ["SNKR-RUN-10", "JEANS-DNM-32", "TSHIRT-BLK-M"]);
    let (_, body) = app.get("/api/v1/products?sort_by=name&sort_order=asc").await;
    assert_eq!(common::skus(&body), ["JEANS-DNM-32", "SNKR-RUN-10", "TSHIRT-BLK-M"]);
    app.exec("UPDATE products SET created_at = now() + interval '1 minute' WHERE sku = 'JEANS-DNM-32'").await;
    let (_, body) = app.get("/api/v1/products").await;
    assert_eq!(common::skus(&body)[0], "JEANS-DNM-32", "newest first by default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_breach_is_a_422_in_the_seeds_shape() {
    let app = common::spawn().await;
    let cases = [
        ("per_page=101", "per_page", "The per page field must not be greater than 100."),
        ("per_page=0", "per_page", "The per page field must be at least 1."),
        (
            "min_price=100&max_price=50",
            "max_price",
            "The max price field must be greater than or equal to 100.",
        ),
        ("sort_by=id", "sort_by", "The selected sort by is invalid."),
        ("sort_order=sideways", "sort_order", "The selected sort order is invalid."),
        ("page=0", "page", "The page field must be at least 1."),
        ("page=two", "page", "The page field must be an integer."),
        ("in_stock=maybe", "in_stock", "The in stock field must be true or false."),
        ("min_price=abc", "min_price", "The min price field must be a number."),
        ("min_price=-5", "min_price", "The min price field must be at least 0."),
        ("max_price=1e3", "max_price", "The max price field must be a number."),
        ("min_price=1.999", "min_price", "The min price field must have at most 2 decimal places."),
    ];
    for (query, field, message) in cases {
        let (status, body) = app.get(&format!("/api/v1/products?{query}")).await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(body, json!({"error": "Validation failed", "messages": {field: [message]}}), "{query}");
    }
    let long = "a".repeat(201);
    let (status, body) =
        app.get(&format!("/api/v1/products?search={long}&category={}", "c".repeat(51))).await;
    assert_eq!(status, 422);
    assert_eq!(body["messages"]["search"][0], "The search field must not be greater than 200 characters.");
    assert_eq!(body["messages"]["category"][0], "The category field must not be greater than 50 characters.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_price_filters_are_exact() {
    let app = common::spawn_with(false).await;
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status) VALUES
         ('EXACT-1999', 'Exactly 19.99', 'exactly-1999', 1999, 'active'),
         ('EXACT-2000', 'Exactly 20.00', 'exactly-2000', 2000, 'active')",
    )
    .await;
    let (_, body) = app.get("/api/v1/products?min_price=19.99").await;
    assert_eq!(common::skus(&body).len(), 2, "19.99 includes a product priced 1999");
    let (_, body) = app.get("/api/v1/products?max_price=19.99").await;
    assert_eq!(common::skus(&body), ["EXACT-1999"]);
    let (_, body) = app.get("/api/v1/products?min_price=19.991").await;
    assert_eq!(body["messages"]["min_price"][0], "The min price field must have at most 2 decimal places.");
    let (_, body) = app.get("/api/v1/products?min_price=20.00&max_price=20").await;
    assert_eq!(common::skus(&body), ["EXACT-2000"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_active_undeleted_products_appear() {
    let app = common::spawn().await;
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status, stock_quantity) VALUES
         ('DRAFT-1', 'Draft running thing', 'draft-1', 1000, 'draft', 5),
         ('GONE-1', 'Discontinued running thing', 'gone-1', 1000, 'discontinued', 5);
         INSERT INTO products (sku, name, slug, price_cents, status, stock_quantity, deleted_at) VALUES
         ('DEL-1', 'Deleted running thing', 'del-1', 1000, 'active', 5, now());",
    )
    .await;
    for query in ["", "?search=running", "?in_stock=1", "?sort_by=name&sort_order=asc&per_page=100"] {
        let (_, body) = app.get(&format!("/api/v1/products{query}")).await;
        for sku in common::skus(&body) {
            assert!(!["DRAFT-1", "GONE-1", "DEL-1"].contains(&sku.as_str()), "{sku} leaked via {query:?}");
        }
    }
    let (_, body) = app.get("/api/v1/products").await;
    assert_eq!(body["meta"]["total"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_is_stock_minus_reserved_and_in_stock_filters_on_it() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET reserved_quantity = stock_quantity WHERE sku = 'JEANS-DNM-32'").await;
    let (_, body) = app.get("/api/v1/products?in_stock=true").await;
    assert_eq!(common::skus(&body), ["TSHIRT-BLK-M", "SNKR-RUN-10"]);
    let (_, body) = app.get("/api/v1/products?in_stock=false").await;
    assert_eq!(body["meta"]["total"], 3, "in_stock=false does not filter");
    let jeans = body["data"].as_array().unwrap().iter().find(|p| p["sku"] == "JEANS-DNM-32").unwrap().clone();
    assert_eq!(jeans["availability"], json!({"in_stock": false, "quantity": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_cursor_walks_every_sort_like_page_does() {
    let app = common::spawn_with(false).await;
    // Ties in every sort column, so the id tie-break matters.
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status, created_at)
         SELECT 'K-' || g, 'Item ' || (g % 4), 'k-' || g, 100 * (g % 5), 'active',
                timestamptz '2026-01-01' + make_interval(secs => g % 3)
         FROM generate_series(1, 23) AS g",
    )
    .await;
    for sort in [
        "",
        "&sort_order=asc",
        "&sort_by=price_cents",
        "&sort_by=price_cents&sort_order=asc",
        "&sort_by=name",
        "&sort_by=name&sort_order=asc",
    ] {
        let mut by_page = Vec::new();
        for page in 1..=5 {
            let (_, body) = app.get(&format!("/api/v1/products?per_page=5&page={page}{sort}")).await;
            by_page.extend(common::skus(&body));
        }
        let mut by_cursor = Vec::new();
        let mut url = format!("/api/v1/products?per_page=5{sort}");
        for _ in 0..10 {
            let (status, body) = app.get(&url).await;
            assert_eq!(status, 200, "{url}: {body}");
            assert_eq!(body["meta"]["total"], 23);
            by_cursor.extend(common::skus(&body));
            match body["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/products?per_page=5{sort}&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(by_page.len(), 23, "{sort}");
        assert_eq!(by_cursor, by_page, "cursor paging equals page paging for {sort:?}");
    }
    let (status, body) = app.get("/api/v1/products?cursor=garbage").await;
    assert_eq!((status, body["messages"]["cursor"][0].clone()), (422, json!("The cursor is invalid.")));
    let (status, body) = app.get("/api/v1/products?sort_by=name&cursor=p.100.3").await;
    assert_eq!(
        (status, body["messages"]["cursor"][0].clone()),
        (422, json!("The cursor does not match sort_by."))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_of_several_words_matches_exactly_the_substrings() {
    // Terms of 3+ words are narrowed on the full-text index first (listing::repo::inner_words);
    // the answer must still be exactly the case-insensitive substring matches.
    let app = common::spawn_with(false).await;
    app.exec(
        "INSERT INTO products (sku, name, description, slug, price_cents, status) VALUES
         ('W1', 'Premium Fleece Shorts - Grey', 'Soft shorts, made of fleece.', 'w1', 100, 'active'),
         ('W2', 'Premium Fleece Shortsleeve - Grey', NULL, 'w2', 100, 'active'),
         ('W3', 'Cotton T-Shirt Black L', 'A cotton t-shirt in black, size L. 100% cotton!', 'w3', 100, 'active'),
         ('W4', 'XPremium Fleece Shorts - Greyish', 'Café crème édition', 'w4', 100, 'active'),
         ('W5', 'Plain', 'the  double  spaced   words here', 'w5', 100, 'active'),
         ('W6', 'Straße Schuh Weiß', 'ÜBER GROSS Schuh', 'w6', 100, 'active'),
         ('W7', 'Kids Rain-Coat Yellow', 'rain-coat for kids: 10.5 cm pockets, e-mail me@x.io', 'w7', 100, 'active')",
    )
    .await;
    let terms = [
        "premium fleece shorts - grey",
        "mium fleece shorts - gr",
        "fleece shorts - grey",
        "Premium Fleece Shorts",
        "cotton t-shirt black",
        "otton t-shirt bla",
        "a cotton t-shirt in black, size",
        "size L. 100% cotton!",
        "100% cotton",
        "café crème édition",
        "CAFÉ CRÈME ÉDI",
        "double  spaced   words",
        "spaced words here",
        "straße schuh weiß",
        "über gross schuh",
        "rain-coat for kids:",
        "for kids: 10.5 cm pockets",
        "e-mail me@x.io",
        "10.5 cm pockets, e-mail",
        "shorts - greyish x",
        "fleece shorts - Grey",
        "fleece shorts - Greyi",
        "fleece shorts - Greyish",
        "made of fleece",
        "kids: 10.5 cm",
        "cm pockets, e-mail",
        "pockets, e-mail me",
        "t-shirt in blac",
        "Cotton T-Shirt Bla",
        "édition",
        "- - -",
    ];
    for term in terms {
        let query = serde_urlencoded::to_string([("per_page", "100"), ("sort_by", "name"), ("search", term)])
            .unwrap();
        let (status, body) = app.get(&format!("/api/v1/products?{query}&sort_order=asc")).await;
        assert_eq!(status, 200, "{term}: {body}");
        let pattern = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_").replace('\'', "''");
        let want = skus_matching(&app, &pattern).await;
        if body["meta"]["search_fallback"] == "similar" {
            // Only when the substring matches nothing (docs/adr/0073-search-at-scale.md).
            assert_eq!(want, Vec::<String>::new(), "search={term:?} fell back");
        } else {
            assert_eq!(common::skus(&body), want, "search={term:?}");
        }
    }
}

async fn skus_matching(app: &common::App, pattern: &str) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Sku {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sku: String,
    }
    let mut conn = app.db.conn().await;
    let rows: Vec<Sku> = diesel::sql_query(format!(
        "SELECT sku FROM products WHERE name ILIKE '%{pattern}%' OR description ILIKE '%{pattern}%' ORDER BY name, id"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.sku).collect()
}
