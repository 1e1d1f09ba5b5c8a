//! Catalog's stock counters read straight from its database (catalog's, cart's and order's tests).

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::RunQueryDsl;

use crate::TestDb;

#[derive(QueryableByName)]
struct Counters {
    #[diesel(sql_type = Integer)]
    stock_quantity: i32,
    #[diesel(sql_type = Integer)]
    reserved_quantity: i32,
}

/// `(stock_quantity, reserved_quantity)` of product `id` in catalog's database `db`.
pub async fn counters(db: &TestDb, id: i64) -> (i32, i32) {
    let mut conn = db.conn().await;
    let c: Counters =
        diesel::sql_query("SELECT stock_quantity, reserved_quantity FROM products WHERE id = $1")
            .bind::<BigInt, _>(id)
            .get_result(&mut conn)
            .await
            .expect("read the product's stock counters");
    (c.stock_quantity, c.reserved_quantity)
}
