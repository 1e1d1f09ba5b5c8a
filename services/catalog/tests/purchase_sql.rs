//! The purchase path's SQL in catalog (docs/adr/0075-hot-stock-updates.md):
//! - stock and reservation updates are HOT updates: no index of `products` names
//!   `stock_quantity` or `reserved_quantity`, and pages keep room for new row versions, so a
//!   reserve, a release and a stock commit write no index entry (checked with the transaction's
//!   own counters, `pg_stat_get_xact_tuples_*`, which count this transaction only);
//! - on the catalog's pool (generic plans) its statements are prepared once per connection and
//!   planned once, and the key look-up's generic plan still uses its partial index.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use catalog::inventory::repo::{self, Close, NewReservation};
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use domain::ids::{OrderId, ProductId};
use platform::db::{self, PoolOptions};
use testkit::TestDb;

/// A searchable, categorised product, so every kind of index of products has an entry for it.
const PRODUCT: &str = "
    INSERT INTO products (id, sku, name, description, slug, price_cents, attributes, stock_quantity, status)
    VALUES (1, 'HOT-1', 'Trail Runner - Olive', 'A light shoe for long trails.', 'hot-1', 8900,
            '{\"category\": \"footwear\", \"color\": \"olive\"}', 50, 'active')";

#[derive(QueryableByName)]
struct Updates {
    #[diesel(sql_type = BigInt)]
    updated: i64,
    #[diesel(sql_type = BigInt)]
    hot: i64,
}

/// Row updates of products in this transaction, and how many of them were HOT.
async fn updates(conn: &mut AsyncPgConnection) -> (i64, i64) {
    let u: Updates = sql_query(
        "SELECT pg_stat_get_xact_tuples_updated('products'::regclass) AS updated,
                pg_stat_get_xact_tuples_hot_updated('products'::regclass) AS hot",
    )
    .get_result(conn)
    .await
    .unwrap();
    (u.updated, u.hot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserving_releasing_and_committing_stock_write_no_index_entry() {
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    let mut conn = db.conn().await;
    conn.batch_execute(&format!("{PRODUCT}; BEGIN")).await.unwrap();
    let new = |order: i64| NewReservation {
        product_id: ProductId(1),
        quantity: 2,
        cart_id: None,
        order_id: Some(OrderId(order)),
        ttl_minutes: 15,
        idempotency_key: None,
    };
    let (first, _) = repo::reserve(&mut conn, new(7)).await.unwrap().unwrap();
    let (second, _) = repo::reserve(&mut conn, new(8)).await.unwrap().unwrap();
    assert_eq!(updates(&mut conn).await, (2, 2), "two reservations, two HOT updates");
    repo::close(&mut conn, &[first.id()], Close::Release).await.unwrap();
    let committed = repo::commit_order(&mut conn, OrderId(8), &[second.id()]).await.unwrap();
    assert_eq!(committed.committed, vec![second.id()]);
    assert_eq!(updates(&mut conn).await, (4, 4), "a release and a commit, HOT as well");
    conn.batch_execute("COMMIT").await.unwrap();
    // The counters moved as they should.
    let stock: Vec<(i32, i32)> = {
        use catalog::schema::products::dsl::{products, reserved_quantity, stock_quantity};
        use diesel::QueryDsl;
        products.select((stock_quantity, reserved_quantity)).load(&mut conn).await.unwrap()
    };
    assert_eq!(stock, vec![(48, 0)]);
}

#[derive(QueryableByName)]
struct Statement {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text, column_name = statement)]
    text: String,
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
    #[diesel(sql_type = BigInt)]
    params: i64,
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_statements_are_planned_once_and_keep_their_indexes() {
    const { assert!(catalog::INFO.generic_plans, "the catalog's pool plans prepared statements once") };
    let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
    db.conn().await.batch_execute(PRODUCT).await.unwrap();
    let options = PoolOptions { generic_plans: catalog::INFO.generic_plans, ..PoolOptions::default() };
    let pool = db::pool(db.url(), "catalog", options).unwrap();
    let mut conn = pool.get().await.unwrap();
    // Sequential scans priced out: a plan that cannot use the partial index shows it.
    conn.batch_execute("SET enable_seqscan = off").await.unwrap();
    for round in 0..3_i64 {
        let key = format!("cart:c1:product:1:round:{round}");
        let new = NewReservation {
            product_id: ProductId(1),
            quantity: 1,
            cart_id: None,
            order_id: Some(OrderId(100 + round)),
            ttl_minutes: 15,
            idempotency_key: Some(key.clone()),
        };
        let (r, _) = repo::reserve(&mut conn, new).await.unwrap().unwrap();
        assert_eq!(repo::active_by_key(&mut conn, &key).await.unwrap().unwrap().0.id(), r.id());
        assert!(repo::extend(&mut conn, r.id(), 60, Some(OrderId(100 + round))).await.unwrap().is_some());
        let extended = repo::extend_many(&mut conn, &[r.id()], 60, Some(OrderId(100 + round))).await.unwrap();
        assert_eq!(extended.len(), 1);
        let committed = repo::commit_order(&mut conn, OrderId(100 + round), &[r.id()]).await.unwrap();
        assert_eq!(committed.committed, vec![r.id()]);
    }
    let prepared: Vec<Statement> = sql_query(
        "SELECT name, statement, generic_plans, custom_plans,
                coalesce(array_length(parameter_types, 1), 0)::int8 AS params
         FROM pg_prepared_statements",
    )
    .load(&mut *conn)
    .await
    .unwrap();
    let of = |needle: &str| {
        prepared
            .iter()
            .find(|s| s.text.contains(needle))
            .unwrap_or_else(|| panic!("no prepared statement with {needle:?}"))
    };
    for needle in [
        "WITH p AS (",                 // the reservation
        "\"idempotency_key\" = ",      // the key look-up
        "UPDATE \"reservations\" SET", // the extend
        "FROM target, products p",     // the checkout's extend of every line
        "WITH target AS (",            // the commit
        "UPDATE \"products\" SET",     // its stock update
    ] {
        let s = of(needle);
        assert_eq!((s.custom_plans, s.generic_plans > 0), (0, true), "{}", s.text);
    }
    // The key look-up names the status as a constant, so its one plan uses the partial index.
    let by_key = of("\"idempotency_key\" = ");
    assert!(by_key.text.contains("'active'"), "{}", by_key.text);
    let nulls = vec!["NULL"; usize::try_from(by_key.params).unwrap()].join(", ");
    let plan: Vec<PlanLine> =
        sql_query(format!("EXPLAIN EXECUTE {}({nulls})", by_key.name)).load(&mut *conn).await.unwrap();
    let plan = plan.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n");
    assert!(plan.contains("reservations_active_key_idx"), "{plan}");
}
