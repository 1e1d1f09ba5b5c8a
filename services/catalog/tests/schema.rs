//! The products table enforces what the seed's model promised, whoever writes to it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use diesel::QueryableByName;
use diesel::sql_types::Bool;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use testkit::TestDb;

const INSERT: &str =
    "INSERT INTO products (sku, name, slug, price_cents, currency, attributes, status) VALUES ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraints_reject_what_the_model_forbids() {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    conn.batch_execute(&format!("{INSERT} ('OK-1', 'Fine', 'fine', 100, 'EUR', '{{}}', 'active')"))
        .await
        .unwrap();
    let rejected = [
        ("duplicate sku", "('OK-1', 'Other', 'other', 100, 'USD', '{}', 'active')"),
        ("duplicate slug", "('OK-2', 'Other', 'fine', 100, 'USD', '{}', 'active')"),
        ("negative price", "('NEG-1', 'Neg', 'neg', -1, 'USD', '{}', 'active')"),
        ("unsupported currency", "('CUR-1', 'Cur', 'cur', 100, 'JPY', '{}', 'active')"),
        ("attributes not an object", "('ATT-1', 'Att', 'att', 100, 'USD', '[1,2]', 'active')"),
        ("unknown status", "('STA-1', 'Sta', 'sta', 100, 'USD', '{}', 'archived')"),
    ];
    for (what, values) in rejected {
        let result = conn.batch_execute(&format!("{INSERT} {values}")).await;
        assert!(result.is_err(), "{what} was accepted");
    }
    let result = conn.batch_execute("UPDATE products SET reserved_quantity = -1 WHERE sku = 'OK-1'").await;
    assert!(result.is_err(), "negative reservations were accepted");
}

#[derive(QueryableByName)]
struct Moved {
    #[diesel(sql_type = Bool)]
    moved: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_at_follows_every_change() {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    conn.batch_execute(&format!(
        "{INSERT} ('UPD-1', 'Upd', 'upd', 100, 'USD', '{{}}', 'active'); \
         UPDATE products SET updated_at = now() - interval '1 day', created_at = now() - interval '1 day'"
    ))
    .await
    .unwrap();
    conn.batch_execute("UPDATE products SET stock_quantity = 5 WHERE sku = 'UPD-1'").await.unwrap();
    let row: Moved = diesel::sql_query(
        "SELECT updated_at > now() - interval '1 minute' AND created_at < now() - interval '1 hour' AS moved \
         FROM products WHERE sku = 'UPD-1'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(row.moved, "updated_at moves on change, created_at stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_rs_declares_exactly_what_the_migrations_create() {
    use catalog::schema::{
        listing_count_deltas, listing_counts, outbox, processed_events, products, reservations,
        search_word_deltas, search_words,
    };
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    testkit::SchemaCheck::new()
        .table::<products::table>("products")
        .table::<reservations::table>("reservations")
        .table::<outbox::table>("outbox")
        .table::<processed_events::table>("processed_events")
        .table::<listing_counts::table>("listing_counts")
        .table::<listing_count_deltas::table>("listing_count_deltas")
        .table::<search_words::table>("search_words")
        .table::<search_word_deltas::table>("search_word_deltas")
        .assert_matches(&db)
        .await;
}
