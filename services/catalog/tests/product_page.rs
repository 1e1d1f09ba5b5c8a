//! `GET /api/v1/products/{slug}`: one active product with its description; 404 JSON otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_product_by_slug() {
    let app = common::spawn().await;
    let (status, body) = app.get("/api/v1/products/classic-denim-jeans").await;
    assert_eq!(status, 200);
    let p = &body["data"];
    assert_eq!(p["sku"], "JEANS-DNM-32");
    assert_eq!(p["description"], "Timeless denim jeans with a comfortable fit.");
    assert_eq!(
        p["price"],
        json!({"amount": 79.99, "formatted": "$79.99", "currency": "USD", "amount_cents": 7999})
    );
    assert_eq!(p["availability"], json!({"in_stock": true, "quantity": 85}));
    assert_eq!(p["attributes"]["material"], "denim");
    let (_, listing) = app.get("/api/v1/products?search=denim").await;
    let mut from_listing = listing["data"][0].clone();
    from_listing["description"] = p["description"].clone();
    assert_eq!(&from_listing, p, "the listing's item shape plus description");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_but_an_active_product_is_a_json_404() {
    let app = common::spawn().await;
    app.exec(
        "INSERT INTO products (sku, name, slug, price_cents, status) VALUES ('D-1', 'Draft', 'draft-one', 100, 'draft');
         INSERT INTO products (sku, name, slug, price_cents, status, deleted_at)
             VALUES ('X-1', 'Deleted', 'deleted-one', 100, 'active', now());",
    )
    .await;
    for slug in ["no-such-product", "draft-one", "deleted-one", "Not_A_Slug", "a--b"] {
        let (status, body) = app.get(&format!("/api/v1/products/{slug}")).await;
        assert_eq!(status, 404, "{slug}");
        assert_eq!(body["error"], "Not found", "{slug}");
    }
}
