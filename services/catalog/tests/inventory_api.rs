//! The internal inventory API against a real PostgreSQL: the atomic reserve under concurrency,
//! the reservation life cycle, the look-up, validation, auth, and the expiry sweeper.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use catalog::inventory::sweeper::Sweeper;
use serde_json::json;

const CART: &str = "0b7d6b2e-7a1e-4d3c-9a51-2f1f0f6c9a10";
// Demo products: 1 = T-shirt (150 in stock, 5 reserved), 2 = jeans (85, 0), 3 = shoes (42, 3).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_reserves_for_fifty_units_never_oversell() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET stock_quantity = 50, reserved_quantity = 0 WHERE id = 2").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (client, url) = (app.server.client.clone(), app.server.url("/internal/v1/reservations"));
        tasks.spawn(testkit::http::send(
            client
                .post(url)
                .bearer_auth(common::INTERNAL_TOKEN)
                .json(&json!({"product_id": 2, "quantity": 1, "cart_id": CART})),
        ));
    }
    let (mut created, mut refused) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(
                    (body["error"].as_str(), body["available"].as_i64()),
                    (Some("Insufficient stock"), Some(0))
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, refused), (50, 150));
    assert_eq!(app.counters(2).await, (50, 50));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM reservations WHERE product_id = 2 AND status = 'active'").await,
        50
    );
    assert_eq!(
        app.count("SELECT coalesce(sum(quantity), 0)::int8 AS n FROM reservations WHERE product_id = 2")
            .await,
        50
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'inventory.changed'").await,
        50,
        "one inventory.changed per successful reserve, none for refusals"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_extend_commit_and_release() {
    let app = common::spawn().await;
    let (status, r) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": 3, "quantity": 2, "cart_id": CART}))
        .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["quantity"].as_i64(), r["available"].as_i64()),
        (Some("active"), Some(2), Some(37))
    );
    assert_eq!((r["cart_id"].as_str(), r["order_id"].as_i64()), (Some(CART), None));
    assert_eq!(app.counters(3).await, (42, 5));
    let id = r["id"].as_str().unwrap().to_owned();
    let first_expiry = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap()).unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap()).unwrap();
    assert_eq!((first_expiry - created).num_minutes(), 15, "INVENTORY_RESERVATION_TTL");

    // Checkout: the order takes the reservation over for longer.
    let (status, e) = app
        .internal_post(
            &format!("/internal/v1/reservations/{id}/extend"),
            &json!({"ttl_minutes": 60, "order_id": 501}),
        )
        .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!((e["order_id"].as_i64(), e["cart_id"].as_str()), (Some(501), Some(CART)));
    let extended = chrono::DateTime::parse_from_rfc3339(e["expires_at"].as_str().unwrap()).unwrap();
    assert!(extended - first_expiry >= chrono::Duration::minutes(44), "{first_expiry} → {extended}");

    // No body: the default TTL from now (less than the 60 minutes asked before).
    let res = app
        .server
        .client
        .post(app.server.url(&format!("/internal/v1/reservations/{id}/extend")))
        .bearer_auth(common::INTERNAL_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let e: serde_json::Value = res.json().await.unwrap();
    let shorter = chrono::DateTime::parse_from_rfc3339(e["expires_at"].as_str().unwrap()).unwrap();
    assert!(shorter < extended && e["order_id"] == 501, "{e}");
    let (status, bad) =
        app.internal_post(&format!("/internal/v1/reservations/{id}/extend"), &json!({"ttl": 5})).await;
    assert_eq!((status, bad["error"].as_str()), (422, Some("Validation failed")));

    let (status, c) = app.internal_post(&format!("/internal/v1/reservations/{id}/commit"), &json!({})).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("committed")));
    assert_eq!(app.counters(3).await, (40, 3), "stock and reserved both go down");
    let (status, again) =
        app.internal_post(&format!("/internal/v1/reservations/{id}/commit"), &json!({})).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("committed")), "commit is idempotent");
    assert_eq!(app.counters(3).await, (40, 3));
    let (status, _) = app.internal_post(&format!("/internal/v1/reservations/{id}/release"), &json!({})).await;
    assert_eq!(status, 409, "a committed reservation cannot be released");
    let (status, _) = app.internal_post(&format!("/internal/v1/reservations/{id}/extend"), &json!({})).await;
    assert_eq!(status, 409);

    let (_, r2) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": 3, "quantity": 4, "order_id": 502}))
        .await;
    let id2 = r2["id"].as_str().unwrap().to_owned();
    assert_eq!(app.counters(3).await, (40, 7));
    for _ in 0..2 {
        let (status, rel) =
            app.internal_post(&format!("/internal/v1/reservations/{id2}/release"), &json!({})).await;
        assert_eq!(
            (status, rel["status"].as_str(), rel["available"].as_i64()),
            (200, Some("released"), Some(37))
        );
    }
    assert_eq!(app.counters(3).await, (40, 3), "released once, however often asked");
    let (status, _) = app.internal_post(&format!("/internal/v1/reservations/{id2}/commit"), &json!({})).await;
    assert_eq!(status, 409);
    let (status, shown) = app.internal_get(&format!("/internal/v1/reservations/{id2}")).await;
    assert_eq!(
        (status, shown["status"].as_str(), shown["order_id"].as_i64()),
        (200, Some("released"), Some(502))
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE event_type = 'inventory.changed'").await,
        4,
        "reserve, commit, reserve, release"
    );
    let last: serde_json::Value = {
        #[derive(diesel::QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::Jsonb)]
            payload: serde_json::Value,
        }
        use diesel_async::RunQueryDsl;
        let mut conn = app.db.conn().await;
        diesel::sql_query(
            "SELECT payload FROM outbox WHERE event_type = 'inventory.changed' ORDER BY id DESC LIMIT 1",
        )
        .get_result::<P>(&mut conn)
        .await
        .unwrap()
        .payload
    };
    assert_eq!(
        last["data"],
        json!({"product_id": 3, "sku": "SNKR-RUN-10", "stock_quantity": 40, "reserved_quantity": 3, "available": 37})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extending_several_reservations_at_once_takes_only_the_live_ones() {
    let app = common::spawn().await;
    let mut ids = Vec::new();
    for product in [1, 2, 3] {
        let (status, r) = app
            .internal_post(
                "/internal/v1/reservations",
                &json!({"product_id": product, "quantity": 1, "cart_id": CART}),
            )
            .await;
        assert_eq!(status, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    // The third is given back: no longer active. An unknown id is named too.
    let (status, _) =
        app.internal_post(&format!("/internal/v1/reservations/{}/release", ids[2]), &json!({})).await;
    assert_eq!(status, 200);
    let unknown = uuid::Uuid::now_v7().to_string();
    let asked =
        json!({"reservation_ids": [ids[0], ids[1], ids[2], unknown], "ttl_minutes": 60, "order_id": 900});
    let (status, body) = app.internal_post("/internal/v1/reservations/extend", &asked).await;
    assert_eq!(status, 200, "{body}");
    let mut got: Vec<(String, i64, i64)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["order_id"].as_i64().unwrap(),
                r["available"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    // Demo stock: 1 = 150 with 5 reserved, 2 = 85 with 0; one more unit each now.
    assert_eq!(got, vec![(ids[0].clone(), 900, 144), (ids[1].clone(), 900, 84)]);
    for r in body["data"].as_array().unwrap() {
        let expires = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap()).unwrap();
        let created = chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap()).unwrap();
        assert!((expires - created).num_minutes() >= 59, "{r}");
    }
    let (_, shown) = app.internal_get(&format!("/internal/v1/reservations/{}", ids[2])).await;
    assert_eq!((shown["status"].as_str(), shown["order_id"].as_i64()), (Some("released"), None), "{shown}");
    // Bad input: none, too many, a TTL out of range, an id that is not a UUID.
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (bad, field) in [
        (json!({"reservation_ids": []}), "reservation_ids"),
        (json!({"reservation_ids": many}), "reservation_ids"),
        (json!({"reservation_ids": [ids[0]], "ttl_minutes": 5000}), "ttl_minutes"),
        (json!({"reservation_ids": [ids[0]], "order_id": 0}), "order_id"),
    ] {
        let (status, body) = app.internal_post("/internal/v1/reservations/extend", &bad).await;
        assert_eq!(status, 422, "{bad} → {body}");
        assert!(body["messages"][field].is_array(), "{bad} → {body}");
    }
    let (status, _) =
        app.internal_post("/internal/v1/reservations/extend", &json!({"reservation_ids": ["nope"]})).await;
    assert!(status == 400 || status == 422, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_stock_unknown_products_and_bad_input() {
    let app = common::spawn().await;
    let reserve = |body: serde_json::Value| {
        let app = &app;
        async move { app.internal_post("/internal/v1/reservations", &body).await }
    };
    let (status, body) = reserve(json!({"product_id": 3, "quantity": 40, "cart_id": CART})).await;
    assert_eq!(status, 409);
    assert_eq!((body["error"].as_str(), body["available"].as_i64()), (Some("Insufficient stock"), Some(39)));
    assert_eq!(app.counters(3).await, (42, 3), "nothing taken");

    let (status, body) = reserve(json!({"product_id": 999, "quantity": 1, "cart_id": CART})).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("Not found")));
    app.exec("UPDATE products SET deleted_at = now() WHERE id = 1").await;
    assert_eq!(
        reserve(json!({"product_id": 1, "quantity": 1, "cart_id": CART})).await.0,
        404,
        "soft-deleted"
    );
    app.exec("UPDATE products SET status = 'draft' WHERE id = 2").await;
    let (status, body) = reserve(json!({"product_id": 2, "quantity": 1, "cart_id": CART})).await;
    assert_eq!((status, body["available"].as_i64()), (409, Some(0)), "not for sale");

    for (body, field) in [
        (json!({"product_id": 3, "quantity": 0, "cart_id": CART}), "quantity"),
        (json!({"product_id": 3, "quantity": -2, "cart_id": CART}), "quantity"),
        (json!({"product_id": 3, "quantity": 1000, "cart_id": CART}), "quantity"),
        (json!({"product_id": 3, "quantity": 1}), "cart_id"),
        (json!({"product_id": 3, "quantity": 1, "cart_id": CART, "ttl_minutes": 0}), "ttl_minutes"),
        (json!({"product_id": 3, "quantity": 1, "cart_id": "not-a-uuid"}), "cart_id"),
        (json!({"product_id": 3, "quantity": "one", "cart_id": CART}), "quantity"),
        (json!({"product_id": 3, "quantity": 1, "cart_id": CART, "colour": "red"}), "body"),
    ] {
        let (status, res) = reserve(body.clone()).await;
        assert_eq!(status, 422, "{body} → {res}");
        assert_eq!(res["error"], "Validation failed");
        assert!(
            res["messages"].as_object().unwrap().keys().any(|k| k.contains(field) || field == "body"),
            "{res}"
        );
    }
    assert_eq!(app.counters(3).await, (42, 3));

    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/internal/v1/reservations/{unknown}/release"),
        "/internal/v1/reservations/nope/commit".to_owned(),
    ] {
        assert_eq!(app.internal_post(&path, &json!({})).await.0, 404, "{path}");
    }
    assert_eq!(app.internal_get(&format!("/internal/v1/reservations/{unknown}")).await.0, 404);
    let (status, _) = app
        .internal_post(&format!("/internal/v1/reservations/{unknown}/extend"), &json!({"ttl_minutes": 5000}))
        .await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_routes_need_the_service_token() {
    let app = common::spawn().await;
    let id = uuid::Uuid::now_v7();
    let routes = [
        ("POST", "/internal/v1/reservations".to_owned()),
        ("GET", format!("/internal/v1/reservations/{id}")),
        ("POST", format!("/internal/v1/reservations/{id}/extend")),
        ("POST", "/internal/v1/reservations/extend".to_owned()),
        ("POST", format!("/internal/v1/reservations/{id}/resize")),
        ("POST", format!("/internal/v1/reservations/{id}/release")),
        ("POST", format!("/internal/v1/reservations/{id}/commit")),
        ("POST", "/internal/v1/products/lookup".to_owned()),
    ];
    for (method, path) in &routes {
        // platform::auth::InternalCaller: no token 401, a token that is not the service's 403.
        for (token, expected) in [(None, 401), (Some("wrong-token"), 403)] {
            let mut req = app.server.client.request(method.parse().unwrap(), app.server.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req
                .json(&json!({"product_id": 3, "quantity": 1, "cart_id": CART, "product_ids": [1]}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            assert_eq!(status, expected, "{method} {path} with {token:?}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(body["error"].is_string());
        }
    }
    assert_eq!(app.counters(3).await, (42, 3), "nothing reserved without the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_gives_prices_and_availability_in_the_order_asked() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET status = 'discontinued' WHERE id = 2").await;
    let (status, body) =
        app.internal_post("/internal/v1/products/lookup", &json!({"product_ids": [3, 999, 1, 2]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"][0],
        json!({"id": 3, "sku": "SNKR-RUN-10", "name": "Performance Running Shoes",
               "price": {"amount_cents": 12999, "currency": "USD"}, "status": "active", "available_quantity": 39,
               "attributes": {"category": "footwear", "color": "white", "size": "10", "material": "mesh"}})
    );
    assert_eq!(body["data"][1]["available_quantity"], 145);
    assert_eq!(body["data"][2]["status"], "discontinued");
    assert_eq!(body["missing"], json!([999]));
    for bad in [
        json!({"product_ids": []}),
        json!({"product_ids": (1..=101).collect::<Vec<_>>()}),
        json!({"ids": [1]}),
    ] {
        assert_eq!(app.internal_post("/internal/v1/products/lookup", &bad).await.0, 422, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweepers_release_expired_reservations_once_even_side_by_side() {
    let app = common::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        let (status, r) = app
            .internal_post(
                "/internal/v1/reservations",
                &json!({"product_id": 1, "quantity": 2, "cart_id": CART}),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let (_, kept) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": 1, "quantity": 1, "cart_id": CART}))
        .await;
    assert_eq!(app.counters(1).await, (150, 66));
    // 30 of them lapsed a minute ago; the last one has its 15 minutes ahead.
    app.exec(&format!(
        "UPDATE reservations SET expires_at = now() - interval '1 minute' WHERE id <> '{}'",
        kept["id"].as_str().unwrap()
    ))
    .await;

    // Two replicas' sweepers at once: SKIP LOCKED splits the work, nothing is released twice.
    let (trigger, stop) = platform::shutdown::channel();
    let sweepers: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(Sweeper::new(app.state.pool.clone(), Duration::from_millis(20)).run(stop.clone()))
        })
        .collect();
    wait_for_sweep(&app).await;
    assert_eq!(app.counters(1).await, (150, 6), "the demo's 5 plus the live reservation");
    assert_eq!(app.count("SELECT count(*) AS n FROM reservations WHERE status = 'expired'").await, 30);
    let (_, shown) = app.internal_get(&format!("/internal/v1/reservations/{}", ids[0])).await;
    assert_eq!(shown["status"], "expired");
    let (status, rel) =
        app.internal_post(&format!("/internal/v1/reservations/{}/release", ids[0]), &json!({})).await;
    assert_eq!(
        (status, rel["status"].as_str()),
        (200, Some("expired")),
        "releasing an expired one is a no-op"
    );
    let (status, _) =
        app.internal_post(&format!("/internal/v1/reservations/{}/commit", ids[0]), &json!({})).await;
    assert_eq!(status, 409, "too late to commit");
    assert_eq!(app.counters(1).await, (150, 6));

    trigger.trigger();
    for s in sweepers {
        tokio::time::timeout(Duration::from_secs(5), s).await.expect("sweeper stops on shutdown").unwrap();
    }
}

async fn wait_for_sweep(app: &common::App) {
    testkit::wait_until(Duration::from_secs(20), "the sweepers to expire 30 reservations", || async {
        (app.count("SELECT count(*) AS n FROM reservations WHERE status = 'active'").await == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_by_sku_and_by_id_together() {
    let app = common::spawn().await;
    let (status, body) = app
        .internal_post(
            "/internal/v1/products/lookup",
            &json!({"product_ids": [3], "skus": ["TSHIRT-BLK-M", "SNKR-RUN-10", "NOPE-1"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<i64> = body["data"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![3, 1], "ids first, then SKUs, each product once");
    assert_eq!(body["missing"], json!([]));
    assert_eq!(body["missing_skus"], json!(["NOPE-1"]));
    assert_eq!(app.internal_post("/internal/v1/products/lookup", &json!({"skus": ["bad sku"]})).await.0, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resize_takes_only_the_difference_and_never_oversells() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET stock_quantity = 5, reserved_quantity = 0 WHERE id = 3").await;
    let (status, r) = app
        .internal_post("/internal/v1/reservations", &json!({"product_id": 3, "quantity": 4, "cart_id": CART}))
        .await;
    assert_eq!(status, 201);
    let id = r["id"].as_str().unwrap().to_owned();
    let resize = format!("/internal/v1/reservations/{id}/resize");
    // Growing by 1 fits (5 in stock, 4 held by this very reservation).
    let (status, r) = app.internal_post(&resize, &json!({"quantity": 5})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["quantity"].as_i64(), r["available"].as_i64()), (Some(5), Some(0)));
    assert_eq!(app.counters(3).await, (5, 5));
    // Growing past stock: 409 with what is left, nothing changes.
    let (status, body) = app.internal_post(&resize, &json!({"quantity": 6})).await;
    assert_eq!(
        (status, body["error"].as_str(), body["available"].as_i64()),
        (409, Some("Insufficient stock"), Some(0))
    );
    assert_eq!(app.counters(3).await, (5, 5));
    // Shrinking gives units back, with an inventory.changed event.
    let events = app.outbox("inventory.changed").await.len();
    let (status, _) = app.internal_post(&resize, &json!({"quantity": 2, "ttl_minutes": 30})).await;
    assert_eq!(status, 200);
    assert_eq!(app.counters(3).await, (5, 2));
    assert_eq!(app.outbox("inventory.changed").await.len(), events + 1);
    // Bad quantities are 422; a closed reservation is a plain 409; an unknown one 404.
    for bad in [json!({"quantity": 0}), json!({"quantity": 1000}), json!({"quantity": 1, "ttl_minutes": 0})] {
        assert_eq!(app.internal_post(&resize, &bad).await.0, 422, "{bad}");
    }
    assert_eq!(
        app.internal_post(&format!("/internal/v1/reservations/{id}/release"), &json!({})).await.0,
        200
    );
    let (status, body) = app.internal_post(&resize, &json!({"quantity": 1})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("Conflict")));
    assert_eq!(app.counters(3).await, (5, 0));
    let unknown = format!("/internal/v1/reservations/{}/resize", uuid::Uuid::now_v7());
    assert_eq!(app.internal_post(&unknown, &json!({"quantity": 1})).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_resizes_never_oversell() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET stock_quantity = 20, reserved_quantity = 0 WHERE id = 3").await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        let (_, r) = app
            .internal_post(
                "/internal/v1/reservations",
                &json!({"product_id": 3, "quantity": 1, "cart_id": CART}),
            )
            .await;
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    // Ten reservations each try to grow from 1 to 3: only 10 more units exist, so 5 succeed.
    let grows = ids.iter().map(|id| {
        let app = &app;
        async move {
            app.internal_post(&format!("/internal/v1/reservations/{id}/resize"), &json!({"quantity": 3}))
                .await
                .0
        }
    });
    let statuses = futures_util::future::join_all(grows).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
    assert_eq!(app.counters(3).await, (20, 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_reserve_retried_finds_its_reservation_and_release_by_key_gives_it_back() {
    let app = common::spawn().await;
    app.exec("UPDATE products SET stock_quantity = 50, reserved_quantity = 0 WHERE id = 2").await;
    let post = |path: &'static str, body: serde_json::Value| {
        let (client, url) = (app.server.client.clone(), app.server.url(path));
        testkit::http::send(client.post(url).bearer_auth(common::INTERNAL_TOKEN).json(&body))
    };
    let keyed =
        json!({"product_id": 2, "quantity": 3, "cart_id": CART, "idempotency_key": "cart:x:line:1:q3"});
    // Ten copies at once, as retries of a request whose answer was lost: one reservation.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        tasks.spawn(post("/internal/v1/reservations", keyed.clone()));
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.unwrap();
        assert!(status == 201 || status == 200, "{status} {body}");
        ids.insert(body["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "every copy answers the same reservation");
    assert_eq!(app.counters(2).await, (50, 3), "held once");
    // The key with another quantity is another request: refused, nothing held.
    let other =
        json!({"product_id": 2, "quantity": 4, "cart_id": CART, "idempotency_key": "cart:x:line:1:q3"});
    let (status, body) = post("/internal/v1/reservations", other).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(app.counters(2).await, (50, 3));
    // The caller gave up: released by its key (twice is fine), then the key may hold again.
    let release = json!({"idempotency_key": "cart:x:line:1:q3"});
    assert_eq!(
        post("/internal/v1/reservations/release-by-key", release.clone()).await,
        (200, json!({"released": true}))
    );
    assert_eq!(
        post("/internal/v1/reservations/release-by-key", release).await,
        (200, json!({"released": false}))
    );
    assert_eq!(app.counters(2).await, (50, 0));
    let (status, again) = post("/internal/v1/reservations", keyed).await;
    assert_eq!(status, 201);
    assert!(!ids.contains(again["id"].as_str().unwrap()), "a new reservation once the old one is closed");
    let (status, _) = post(
        "/internal/v1/reservations",
        json!({"product_id": 2, "quantity": 1, "cart_id": CART, "idempotency_key": "bad key\u{0}"}),
    )
    .await;
    assert_eq!(status, 422);
}
