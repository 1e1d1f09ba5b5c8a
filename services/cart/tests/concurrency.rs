//! Never oversold: 100 concurrent adds over 100 carts against stock 30, with catalog up and
//! with catalog killed halfway.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use common::{SHOES, Who, World};
use diesel::sql_types::{Integer, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

async fn customer_carts(w: &World, n: usize) -> Vec<(String, Who)> {
    let mut carts = Vec::with_capacity(n);
    for i in 0..n {
        let sub = format!("buyer-{i}");
        carts.push((w.customer_cart(&sub).await, Who::Customer(sub)));
    }
    carts
}

/// reservation id → quantity, of the cart lines saved in PostgreSQL.
async fn line_reservations(w: &World) -> (usize, BTreeMap<uuid::Uuid, i32>) {
    #[derive(diesel::QueryableByName)]
    struct L {
        #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
        reservation_id: Option<uuid::Uuid>,
        #[diesel(sql_type = Integer)]
        quantity: i32,
    }
    let mut conn = w.cart_db.conn().await;
    let lines: Vec<L> =
        diesel::sql_query("SELECT reservation_id, quantity FROM cart_items").load(&mut conn).await.unwrap();
    let n = lines.len();
    (n, lines.into_iter().filter_map(|l| l.reservation_id.map(|r| (r, l.quantity))).collect())
}

/// reservation id → quantity, of catalog's active reservations.
async fn active_reservations(w: &World) -> BTreeMap<uuid::Uuid, i32> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = SqlUuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = Integer)]
        quantity: i32,
    }
    let mut conn = w.catalog_db.conn().await;
    let rows: Vec<R> = diesel::sql_query("SELECT id, quantity FROM reservations WHERE status = 'active'")
        .load(&mut conn)
        .await
        .unwrap();
    rows.into_iter().map(|r| (r.id, r.quantity)).collect()
}

async fn add_everywhere(w: &World, carts: &[(String, Who)]) -> Vec<u16> {
    let adds = carts.iter().map(|(id, who)| async move { w.add(id, who, SHOES, 1).await.0 });
    futures_util::future::join_all(adds).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_adds_against_stock_thirty_sell_exactly_thirty() {
    let w =
        World::with(common::Options { catalog_timeout: Duration::from_secs(20), ..Default::default() }).await;
    w.catalog_sql("UPDATE products SET stock_quantity = 30, reserved_quantity = 0 WHERE id = 3").await;
    let carts = customer_carts(&w, 100).await;
    let statuses = add_everywhere(&w, &carts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (30, 70), "{statuses:?}");
    assert_eq!(w.counters(SHOES).await, (30, 30));
    let (lines, reserved) = line_reservations(&w).await;
    assert_eq!(lines, 30);
    assert_eq!(reserved, active_reservations(&w).await, "every line holds its own reservation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_killed_halfway_leaves_no_line_without_a_reservation() {
    let w =
        World::with(common::Options { catalog_timeout: Duration::from_secs(2), ..Default::default() }).await;
    w.catalog_sql("UPDATE products SET stock_quantity = 30, reserved_quantity = 0 WHERE id = 3").await;
    let carts = customer_carts(&w, 100).await;
    let killer = async {
        testkit::wait_until(common::WAIT, "some reservations", || async {
            (w.counters(SHOES).await.1 >= 8).then_some(())
        })
        .await;
        w.catalog_proxy.set_down();
    };
    let (statuses, ()) = tokio::join!(add_everywhere(&w, &carts), killer);
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert!(statuses.iter().all(|s| [201, 409, 503].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&503), "some adds met the dead catalog: {statuses:?}");
    assert!(created <= 30);

    // No line without its reservation: every saved line's reservation is active in catalog
    // with the line's quantity.
    let (lines, line_res) = line_reservations(&w).await;
    assert_eq!(lines, created, "a line exists exactly for each 201");
    assert_eq!(line_res.len(), lines, "every line has a reservation");
    let active = active_reservations(&w).await;
    for (id, qty) in &line_res {
        assert_eq!(active.get(id), Some(qty), "line reservation {id} is active in catalog");
    }
    // Reservations catalog made for adds whose answer was cut have no line: they only expire.
    let orphans: BTreeSet<_> = active.keys().filter(|id| !line_res.contains_key(id)).collect();
    println!("{lines} lines, {} reservations without a line until they expire", orphans.len());
    // Catalog may still be finishing requests whose connection was cut: wait until it is quiet.
    let (last, steady) = (AtomicI32::new(-1), AtomicI32::new(0));
    testkit::wait_until(common::WAIT, "catalog to settle", || async {
        let now = w.counters(SHOES).await.1;
        let same = last.swap(now, Ordering::SeqCst) == now;
        let n = if same {
            steady.fetch_add(1, Ordering::SeqCst) + 1
        } else {
            steady.store(0, Ordering::SeqCst);
            0
        };
        (n >= 5).then_some(())
    })
    .await;

    // Catalog comes back and the reservation TTL passes: orphans are gone, and the lines'
    // next read re-reserves them, so catalog holds exactly what the lines hold.
    w.catalog_proxy.set_up();
    w.expire_reservations().await;
    w.cart_sql("UPDATE cart_items SET reserved_until = now() - interval '1 second'").await;
    w.flush_redis().await;
    for (id, who) in &carts {
        let (status, _) = w.call("GET", &format!("/api/v1/carts/{id}"), who, None).await;
        assert_eq!(status, 200);
    }
    let (lines_after, line_res) = line_reservations(&w).await;
    assert_eq!(lines_after, lines);
    assert_eq!(line_res, active_reservations(&w).await, "no reservation without its line");
    assert_eq!(w.counters(SHOES).await, (30, i32::try_from(lines).unwrap()));
}
