//! `DATABASE_READ_URL`: listings and product pages read from the replica; writes go to the primary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use diesel_async::SimpleAsyncConnection;
use reqwest::Method;
use serde_json::json;
use testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_read_database_and_writes_to_the_primary() {
    // A separate database stands in for the replica; it holds one product the primary lacks.
    let replica = TestDb::new("catalog", catalog::MIGRATIONS).await;
    replica
        .conn()
        .await
        .batch_execute(
            "INSERT INTO products (sku, name, slug, price_cents, status, stock_quantity)
             VALUES ('REPLICA-1', 'Only on the replica', 'only-on-the-replica', 500, 'active', 3)",
        )
        .await
        .unwrap();
    let (app, replica) = common::spawn_opts(common::Options {
        cache: None,
        read_db: Some(replica),
        ..common::Options::default()
    })
    .await;
    let replica = replica.unwrap();

    let (_, body) = app.get("/api/v1/products").await;
    assert_eq!(common::skus(&body), ["REPLICA-1"], "the listing reads the replica");
    let (status, _) = app.get("/api/v1/products/only-on-the-replica").await;
    assert_eq!(status, 200, "the product page reads the replica");
    let (status, _) = app.get("/api/v1/products/classic-denim-jeans").await;
    assert_eq!(status, 404, "the primary's products are not read");

    let (status, created) = app
        .admin(
            Method::POST,
            "/api/v1/admin/products",
            Some(json!({"sku": "NEW-1", "name": "New thing", "price_cents": 100, "status": "active"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let primary_has = count(&app.db, "NEW-1").await;
    let replica_has = count(&replica, "NEW-1").await;
    assert_eq!((primary_has, replica_has), (1, 0), "the write went to the primary only");
}

async fn count(db: &TestDb, sku: &str) -> i64 {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    diesel::sql_query("SELECT count(*) AS n FROM products WHERE sku = $1")
        .bind::<Text, _>(sku)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}
