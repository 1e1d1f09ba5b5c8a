//! Hostile input on every path parameter and header of the cart (issue 17, items 11 and the
//! property test): NUL, control characters, huge and non-UTF-8 values, fixed and random, sent
//! raw over HTTP/1.1. Whatever the value, the answer is a 4xx, never a 5xx or a dropped
//! connection; a signed token with a hostile `sub` is a 401.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TSHIRT, Who, World};
use testkit::hostile::{Case, assert_none, check, header_bytes, path_segment, random, raw_status, samples};

fn signed(sub: &str) -> Vec<u8> {
    format!("Bearer {}", common::jwt(sub)).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_path_parameter_or_header_value_gives_a_5xx() {
    let w = World::start().await;
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token.clone());
    let (_, cart) = w.add(&id, &guest, TSHIRT, 1).await;
    let line = cart["items"][0]["id"].as_str().unwrap().to_owned();
    let addr = w.cart_url.trim_start_matches("http://").to_owned();
    let internal = format!("Bearer {}", testkit::INTERNAL_TOKEN).into_bytes();
    let body = br#"{"quantity": 1}"#;

    let mut values = samples();
    values.extend(random(0x17, 48, 80));
    let mut failures = Vec::new();
    for v in &values {
        let seg = path_segment(v);
        let h = header_bytes(v);
        let tok = || vec![("x-cart-token", token.clone().into_bytes())];
        let cases: Vec<Case> = vec![
            ("GET", format!("/api/v1/carts/{seg}"), tok(), b""),
            ("DELETE", format!("/api/v1/carts/{seg}"), tok(), b""),
            ("POST", format!("/api/v1/carts/{seg}/items"), tok(), br#"{"product_id": 1}"#),
            ("PATCH", format!("/api/v1/carts/{id}/items/{seg}"), tok(), body),
            ("DELETE", format!("/api/v1/carts/{id}/items/{seg}"), tok(), b""),
            ("GET", format!("/api/v1/carts/{id}"), vec![("x-cart-token", h.clone())], b""),
            ("POST", "/api/v1/carts".to_owned(), vec![("x-cart-token", h.clone())], b""),
            (
                "GET",
                format!("/api/v1/carts/{id}"),
                vec![("authorization", [b"Bearer ".as_slice(), &h].concat())],
                b"",
            ),
            ("GET", format!("/api/v1/carts/{id}"), vec![("authorization", h.clone())], b""),
            ("GET", format!("/internal/v1/carts/{seg}"), vec![("authorization", internal.clone())], b""),
            (
                "POST",
                format!("/internal/v1/carts/{seg}/checkout-lock"),
                vec![("authorization", internal.clone())],
                br#"{"holder": "x", "ttl_seconds": 60}"#,
            ),
            (
                "DELETE",
                format!("/internal/v1/carts/{id}/checkout-lock?holder={seg}"),
                vec![("authorization", internal.clone())],
                b"",
            ),
            ("PATCH", format!("/api/v1/carts/{seg}/items/{line}"), tok(), body),
        ];
        let lossy = String::from_utf8_lossy(v).into_owned();
        let lock = serde_json::to_vec(&serde_json::json!({"holder": lossy, "ttl_seconds": 60, "cart_token": lossy, "customer_id": lossy})).unwrap();
        let mut cases = cases;
        cases.push((
            "POST",
            format!("/internal/v1/carts/{id}/checkout-lock"),
            vec![("authorization", internal.clone())],
            &lock,
        ));
        check(&addr, v, cases, &mut failures).await;
    }
    assert_none(&failures, values.len());

    // A validly signed token whose subject cannot be an id: 401, not a database error.
    for sub in ["a\0b".to_owned(), "x".repeat(10_000), "tab\there".to_owned()] {
        let status =
            raw_status(&addr, "POST", "/api/v1/carts", &[("authorization", signed(&sub))], b"").await;
        assert_eq!(status, Some(401), "sub {:?}", &sub[..sub.len().min(20)]);
    }
}

/// Item 11: every 413 and 422 is JSON in the platform's shape and names no Rust type.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_and_mistyped_bodies_get_json_errors_without_type_names() {
    let w = World::start().await;
    let (status, body) =
        w.raw("POST", "/api/v1/carts", &Who::Nobody, Some("application/json"), vec![b' '; 300 * 1024]).await;
    assert_eq!(status, 413);
    assert!(body["message"].is_string(), "a JSON body: {body}");
    let (id, token) = w.guest_cart().await;
    let guest = Who::Guest(token);
    let (status, body) = w
        .raw(
            "POST",
            &format!("/api/v1/carts/{id}/items"),
            &guest,
            Some("application/json"),
            b"\"a string\"".to_vec(),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(!text.contains("struct") && !text.contains("i64") && !text.contains("Value"), "{text}");
}
