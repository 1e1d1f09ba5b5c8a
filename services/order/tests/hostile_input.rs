//! Hostile input against order and checkout (issue 17, items 7–12 and the property test): every
//! path parameter, query filter and header gets NUL, control characters, huge, non-UTF-8 and
//! random values, sent raw over HTTP/1.1, and never a 5xx; then each refusal the issue names.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Who, checkout_body, jwt};
use serde_json::json;
use testkit::hostile::{Case, assert_none, check, header_bytes, path_segment, random, raw_status, samples};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_path_parameter_query_or_header_value_gives_a_5xx() {
    let w = common::spawn().await;
    let product = w.product("SKU-H", 1000, 50);
    let (cart, _) = w.cart(Some("holly"), &[(product, 1)]);
    let (status, placed) =
        w.checkout(&Who::Customer("holly".into()), "hostile-1", &checkout_body(cart)).await;
    assert_eq!(status, 201, "{placed}");
    let number = placed["order_number"].as_str().unwrap().to_owned();
    let addr = w.server.base_url.trim_start_matches("http://").to_owned();
    let customer = format!("Bearer {}", jwt("holly", &[])).into_bytes();
    let admin = format!("Bearer {}", jwt("root", &["admin"])).into_bytes();
    let checkout = serde_json::to_vec(&checkout_body(cart)).unwrap();

    let mut values = samples();
    values.extend(random(0x0d3, 48, 80));
    let mut failures = Vec::new();
    for v in &values {
        let seg = path_segment(v);
        let h = header_bytes(v);
        let cust = || vec![("authorization", customer.clone())];
        let adm = || vec![("authorization", admin.clone())];
        let cases: Vec<Case> = vec![
            ("GET", format!("/api/v1/orders/{seg}"), cust(), b""),
            ("GET", format!("/api/v1/orders/{seg}"), vec![("x-order-token", h.clone())], b""),
            ("GET", format!("/api/v1/orders/{number}"), vec![("x-order-token", h.clone())], b""),
            ("POST", format!("/api/v1/orders/{seg}/cancel"), cust(), b""),
            ("GET", format!("/api/v1/orders?cursor={seg}&limit={seg}"), cust(), b""),
            (
                "GET",
                format!("/api/v1/orders/{number}"),
                vec![("authorization", [b"Bearer ".as_slice(), &h].concat())],
                b"",
            ),
            ("GET", format!("/api/v1/admin/orders?number={seg}"), adm(), b""),
            ("GET", format!("/api/v1/admin/orders?email={seg}"), adm(), b""),
            ("GET", format!("/api/v1/admin/orders/{seg}"), adm(), b""),
            ("POST", format!("/api/v1/admin/orders/{seg}/refund"), adm(), br#"{"amount_cents": 100}"#),
            (
                "POST",
                format!("/api/v1/admin/orders/{number}/refund"),
                [adm(), vec![("idempotency-key", h.clone())]].concat(),
                br#"{"amount_cents": 0}"#,
            ),
            (
                "POST",
                format!("/api/v1/admin/orders/{seg}/fulfillment"),
                adm(),
                br#"{"status": "processing"}"#,
            ),
            (
                "POST",
                "/api/v1/checkout".to_owned(),
                [cust(), vec![("idempotency-key", h.clone())]].concat(),
                &checkout,
            ),
            (
                "POST",
                "/api/v1/checkout".to_owned(),
                vec![("idempotency-key", b"k".to_vec()), ("x-cart-token", h.clone())],
                &checkout,
            ),
        ];
        check(&addr, v, cases, &mut failures).await;
    }
    assert_none(&failures, values.len());

    // Item 11: a validly signed token whose subject cannot be an id is a 401.
    for sub in ["a\0b".to_owned(), "x".repeat(10_000)] {
        let bearer = format!("Bearer {}", jwt(&sub, &[])).into_bytes();
        let status = raw_status(&addr, "GET", "/api/v1/orders", &[("authorization", bearer)], b"").await;
        assert_eq!(status, Some(401));
    }
}

/// Item 7: a NUL in an order number or a search filter is a 404 / 422, no login needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_an_order_number_or_filter_is_a_client_error() {
    let w = common::spawn().await;
    let admin = jwt("root", &["admin"]);
    assert_eq!(w.get("/api/v1/orders/%00", None, None).await.0, 404);
    assert_eq!(w.get("/api/v1/orders/ORD-%00AAAAAAAAAAA", None, Some("t")).await.0, 404);
    assert_eq!(w.post("/api/v1/orders/%00/cancel", None, &json!({}), &[]).await.0, 404);
    assert_eq!(w.get("/api/v1/admin/orders/%00", Some(&admin), None).await.0, 404);
    assert_eq!(
        w.post("/api/v1/admin/orders/%00/refund", Some(&admin), &json!({}), &[("idempotency-key", "k")])
            .await
            .0,
        404
    );
    for filter in ["number=%00", "email=a%00b", "email=a%1Bb"] {
        let (status, body) = w.get(&format!("/api/v1/admin/orders?{filter}"), Some(&admin), None).await;
        assert_eq!(status, 422, "{filter}: {body}");
        assert!(body["messages"].is_object(), "{body}");
    }
}

/// Items 8, 9, 10 and the email rule of 12.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkout_refusals_hold_nothing_and_guests_keys_are_their_own() {
    let w = common::spawn().await;
    let reserved = |p: i64| w.fakes.lock().unwrap().products[&p].reserved;

    // 8. Totals Stripe would never accept: 422 before anything is reserved.
    let cheap = w.product("SKU-CHEAP", 30, 10);
    let dear = w.product("SKU-DEAR", 50_000_000, 10);
    for (p, quantity, key) in [(cheap, 1, "k-cheap"), (dear, 2, "k-dear")] {
        let cart = w.cart_unreserved("tina", &[(p, quantity)]);
        let (status, body) = w.checkout(&Who::Customer("tina".into()), key, &checkout_body(cart)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["messages"]["cart_id"][0].as_str().unwrap().contains("order total"), "{body}");
        assert_eq!(reserved(p), 0, "nothing held for a refused total");
        assert!(w.fakes.lock().unwrap().carts[&cart.0].lock.is_none(), "the cart is not left locked");
    }

    // 9. Refused for one line: what it reserved for the other lines is given back at once.
    let plenty = w.product("SKU-PLENTY", 1000, 10);
    let scarce = w.product("SKU-SCARCE", 1000, 1);
    let cart = w.cart_unreserved("tina", &[(plenty, 3), (scarce, 2)]);
    let (status, body) = w.checkout(&Who::Customer("tina".into()), "k-short", &checkout_body(cart)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(reserved(plenty), 0, "the first line's fresh reservation was released");

    // 10. Two guests who happen to pick the same key each get their own order.
    let p = w.product("SKU-GUEST", 1000, 10);
    let (cart_a, token_a) = w.cart(None, &[(p, 1)]);
    let (cart_b, token_b) = w.cart(None, &[(p, 1)]);
    let (status_a, a) = w.checkout(&Who::Guest(token_a), "checkout-1", &checkout_body(cart_a)).await;
    let (status_b, b) = w.checkout(&Who::Guest(token_b), "checkout-1", &checkout_body(cart_b)).await;
    assert_eq!((status_a, status_b), (201, 201), "{a} {b}");
    assert_ne!(a["order_number"], b["order_number"]);

    // 12. An address list is not an address: it could never be delivered.
    let (cart, token) = w.cart(None, &[(p, 1)]);
    for email in ["a@example.com,b@example.com", "a@b@example.com", "<a@example.com>", "a@example.com\0"] {
        let mut body = checkout_body(cart);
        body["customer_email"] = json!(email);
        let (status, err) =
            w.checkout(&Who::Guest(token.clone()), &format!("k-mail-{}", email.len()), &body).await;
        assert_eq!(status, 422, "{email}: {err}");
    }
}
