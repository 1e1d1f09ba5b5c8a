//! Every 422 / 400 / 413 / 415 path of the public routes, and the limits.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TSHIRT, Who, World};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_bodies_get_the_seeds_error_shapes() {
    let w = World::start().await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    assert_eq!(w.add(&id, &guest, TSHIRT, 1).await.0, 201);
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    let line = cart["items"][0]["id"].as_str().unwrap().to_owned();
    let items = format!("/api/v1/carts/{id}/items");
    let item = format!("/api/v1/carts/{id}/items/{line}");

    // 422 with the field named, for each rule.
    for (body, field) in [
        (json!({}), "product_id"),
        (json!({"product_id": 1, "sku": "TSHIRT-BLK-M"}), "product_id"),
        (json!({"product_id": 0}), "product_id"),
        (json!({"product_id": "1"}), "product_id"),
        (json!({"sku": "no spaces"}), "sku"),
        (json!({"sku": 5}), "sku"),
        (json!({"product_id": 1, "quantity": 0}), "quantity"),
        (json!({"product_id": 1, "quantity": 100}), "quantity"),
        (json!({"product_id": 1, "quantity": -3}), "quantity"),
        (json!({"product_id": 1, "quantity": "2"}), "quantity"),
        (json!({"product_id": 1, "selected_attributes": {"size": {"eu": 40}}}), "selected_attributes"),
        (json!({"product_id": 1, "selected_attributes": "M"}), "selected_attributes"),
        (json!({"product_id": 1, "selected_attributes": {"": "x"}}), "selected_attributes"),
        (
            json!({"product_id": 1, "selected_attributes": (0..11).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            "selected_attributes",
        ),
        (json!({"product_id": 1, "unit_price_cents": 1}), "unit_price_cents"),
        (json!({"product_id": 999_999}), "product_id"),
        (json!({"sku": "NO-SUCH-SKU"}), "sku"),
    ] {
        let (status, res) = w.call("POST", &items, &guest, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} → {res}");
        assert_eq!(res["error"], "Validation failed");
        assert!(res["messages"][field].is_array(), "{body} → {res}");
    }
    for (body, field) in [
        (json!({}), "quantity"),
        (json!({"quantity": 0}), "quantity"),
        (json!({"quantity": 100}), "quantity"),
        (json!({"quantity": 1, "product_id": 2}), "product_id"),
    ] {
        let (status, res) = w.call("PATCH", &item, &guest, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} → {res}");
        assert!(res["messages"][field].is_array(), "{body} → {res}");
    }
    // A line would pass 99 units.
    assert_eq!(w.add(&id, &guest, TSHIRT, 98).await.0, 201);
    let (status, res) = w.add(&id, &guest, TSHIRT, 1).await;
    assert_eq!(status, 422, "{res}");
    assert!(res["messages"]["quantity"].is_array());

    // 400: not JSON. 415: not declared as JSON. 413: over 16 KiB.
    for (method, path) in [("POST", items.as_str()), ("PATCH", item.as_str()), ("POST", "/api/v1/carts")] {
        let (status, res) =
            w.raw(method, path, &guest, Some("application/json"), b"{\"quantity\": ".to_vec()).await;
        assert_eq!(status, 400, "{method} {path} {res}");
        assert_eq!(res["error"], "Bad request");
        let (status, res) =
            w.raw(method, path, &guest, Some("text/plain"), b"{\"quantity\": 1}".to_vec()).await;
        assert_eq!(status, 415, "{method} {path} {res}");
        let big = format!("{{\"product_id\": 1, \"pad\": \"{}\"}}", "x".repeat(20 * 1024));
        let (status, res) = w.raw(method, path, &guest, Some("application/json"), big.into_bytes()).await;
        assert_eq!(status, 413, "{method} {path} {res}");
        assert_eq!(res["error"], "Payload too large");
    }
    // POST /api/v1/carts takes no fields.
    let (status, res) =
        w.call("POST", "/api/v1/carts", &Who::Nobody, Some(json!({"customer_id": "x"}))).await;
    assert_eq!(status, 422, "{res}");

    // Nothing of the above changed the cart.
    let (_, after) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    assert_eq!(after["items"].as_array().unwrap().len(), 1);
    assert_eq!(after["items"][0]["quantity"], 99);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cart_holds_at_most_100_lines() {
    let w = World::with(common::Options { reserve_on_add: false, ..common::Options::default() }).await;
    // A product that offers 101 engravings (selected options must be ones the product has).
    w.catalog_sql(
        "UPDATE products SET attributes = attributes || jsonb_build_object('engraving', \
         (SELECT jsonb_agg('n' || g) FROM generate_series(0, 100) g) || '[\"one too many\"]'::jsonb) WHERE id IN (1, 2)",
    )
    .await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    // Two products, 100 different option sets: 100 lines (50 units each, under the unit cap).
    for i in 0..100 {
        let (status, res) = w
            .call(
                "POST",
                &format!("/api/v1/carts/{id}/items"),
                &guest,
                Some(json!({"product_id": 1 + i % 2, "selected_attributes": {"engraving": format!("n{i}")}})),
            )
            .await;
        assert_eq!(status, 201, "{i}: {res}");
    }
    let (status, res) = w
        .call(
            "POST",
            &format!("/api/v1/carts/{id}/items"),
            &guest,
            Some(json!({"product_id": 1, "selected_attributes": {"engraving": "one too many"}})),
        )
        .await;
    assert_eq!(status, 422, "{res}");
    assert!(res["messages"]["items"].is_array());
    // Growing an existing line still works.
    assert_eq!(
        w.call(
            "POST",
            &format!("/api/v1/carts/{id}/items"),
            &guest,
            Some(json!({"product_id": 1, "selected_attributes": {"engraving": "n4"}}))
        )
        .await
        .0,
        201
    );
}

/// Issue 17, item 12: one anonymous cart cannot hold a product's whole stock — invented options
/// cannot split a product into more lines, the units of one product are capped over all lines,
/// a hit is counted, and a guest's hold is shorter than a customer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_cart_cannot_hoard_a_product() {
    let w = World::start().await;
    let reserved_before = w.counters(TSHIRT).await.1;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    let items = format!("/api/v1/carts/{id}/items");
    let add = |quantity: i64, attrs: serde_json::Value| json!({"product_id": TSHIRT, "quantity": quantity, "selected_attributes": attrs});

    for invented in [json!({"engraving": "a"}), json!({"size": "XXL"}), json!({"color": "white"})] {
        let (status, res) = w.call("POST", &items, &guest, Some(add(5, invented.clone()))).await;
        assert_eq!(status, 422, "{invented}: {res}");
        assert!(res["messages"]["selected_attributes"].is_array(), "{res}");
    }
    let (status, res) = w.call("POST", &items, &guest, Some(add(60, json!({"size": "M"})))).await;
    assert_eq!(status, 201, "{res}");
    let (status, res) = w.call("POST", &items, &guest, Some(add(40, json!({})))).await;
    assert_eq!(status, 422, "60 + 40 units of one product: {res}");
    assert!(res["messages"]["quantity"][0].as_str().unwrap().contains("at most 99 units"), "{res}");
    let (status, cart) = w.call("POST", &items, &guest, Some(add(39, json!({})))).await;
    assert_eq!(status, 201, "{cart}");
    let second = cart["items"][1]["id"].as_str().unwrap().to_owned();
    let (status, res) =
        w.call("PATCH", &format!("{items}/{second}"), &guest, Some(json!({"quantity": 40}))).await;
    assert_eq!(status, 422, "growing a line past the cap: {res}");
    let (status, _) =
        w.call("PATCH", &format!("{items}/{second}"), &guest, Some(json!({"quantity": 10}))).await;
    assert_eq!(status, 200, "shrinking is always allowed");
    assert_eq!(w.counters(TSHIRT).await.1 - reserved_before, 70, "only what the cart holds is reserved");
    assert_eq!(w.state.metrics.cap_hits.with_label_values(&["guest"]).get(), 2);

    // A guest's reservation lapses sooner (10 minutes) than a customer's (15).
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{id}"), &guest, None).await;
    let until = |c: &serde_json::Value| {
        let t = c["items"][0]["reservation_expires_at"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .signed_duration_since(chrono::Utc::now())
            .num_minutes()
    };
    assert!((8..=10).contains(&until(&cart)), "{cart}");
    let customer = Who::Customer("hoarding-customer".to_owned());
    let cid = w.customer_cart("hoarding-customer").await;
    assert_eq!(w.add(&cid, &customer, TSHIRT, 1).await.0, 201);
    let (_, cart) = w.call("GET", &format!("/api/v1/carts/{cid}"), &customer, None).await;
    assert!((13..=15).contains(&until(&cart)), "{cart}");
}
