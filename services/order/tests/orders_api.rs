//! Reading, listing and canceling orders, and the admin routes: ownership, refunds, fulfilment.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{Who, World, checkout_body, jwt};
use serde_json::{Value, json};

async fn place(w: &World, who: &Who, sku: &str, key: &str) -> Value {
    let p = w.product(sku, 1000, 10);
    let customer = match who {
        Who::Customer(s) => Some(s.as_str()),
        Who::Guest(_) => None,
    };
    let (cart, token) = w.cart(customer, &[(p, 1)]);
    let who = match who {
        Who::Customer(_) => who.clone(),
        Who::Guest(_) => Who::Guest(token),
    };
    let (status, body) = w.checkout(&who, key, &checkout_body(cart)).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn pay(w: &World, body: &Value) -> String {
    let number = body["order_number"].as_str().unwrap().to_owned();
    w.confirm(body["payment"]["payment_intent_id"].as_str().unwrap(), "pm_card_visa").await.unwrap();
    w.forward_stripe_events().await;
    w.wait_payment(&number, "completed").await;
    number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_owner_or_the_order_token_reads_an_order() {
    let w = common::spawn().await;
    let mine = place(&w, &Who::Customer("ann".into()), "SKU-O1", "k1").await;
    let guest = place(&w, &Who::Guest(String::new()), "SKU-O2", "k2").await;
    let (n1, n2) = (mine["order_number"].as_str().unwrap(), guest["order_number"].as_str().unwrap());
    let (t1, t2) = (mine["access_token"].as_str().unwrap(), guest["access_token"].as_str().unwrap());
    let ann = jwt("ann", &[]);
    let ben = jwt("ben", &[]);
    let path = |n: &str| format!("/api/v1/orders/{n}");
    // (path, bearer, order token, expected)
    let cases: Vec<(String, Option<&str>, Option<&str>, u16)> = vec![
        (path(n1), Some(&ann), None, 200),
        (path(n1), None, Some(t1), 200),
        (path(n1), Some(&ben), None, 404),
        (path(n1), None, None, 404),
        (path(n1), None, Some(t2), 404),
        (path(n1), Some(&ben), Some("forged"), 404),
        (path(n2), None, Some(t2), 200),
        (path(n2), Some(&ann), None, 404),
        (path(n2), None, Some(t1), 404),
        (path("ORD-000000000000"), Some(&ann), None, 404),
    ];
    for (p, bearer, token, want) in cases {
        let (status, body) = w.get(&p, bearer, token).await;
        assert_eq!(status, want, "{p} bearer={} token={token:?}: {body}", bearer.is_some());
    }
    // A broken token is a 401, not a silent guest.
    let (status, _) = w.get(&path(n1), Some("not-a-jwt"), None).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listing_is_per_customer_and_cursor_paginated() {
    let w = common::spawn().await;
    let mut numbers = Vec::new();
    for i in 0..5 {
        let body = place(&w, &Who::Customer("cy".into()), &format!("SKU-L{i}"), &format!("kl{i}")).await;
        numbers.push(body["order_number"].as_str().unwrap().to_owned());
    }
    place(&w, &Who::Customer("other".into()), "SKU-LX", "klx").await;
    let cy = jwt("cy", &[]);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=2&cursor={c}"),
            None => "/api/v1/orders?limit=2".to_owned(),
        };
        let (status, page) = w.get(&path, Some(&cy), None).await;
        assert_eq!(status, 200, "{page}");
        for o in page["data"].as_array().unwrap() {
            seen.push(o["order_number"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    numbers.reverse();
    assert_eq!(seen, numbers, "newest first, every order once, none of anyone else's");
    let (status, _) = w.get("/api/v1/orders", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = w.get("/api/v1/orders?cursor=zzz", Some(&cy), None).await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_before_payment_releases_and_after_payment_is_refused() {
    let w = common::spawn().await;
    let body = place(&w, &Who::Customer("dee".into()), "SKU-C1", "kc1").await;
    let number = body["order_number"].as_str().unwrap();
    let dee = jwt("dee", &[]);
    let (status, _) =
        w.post(&format!("/api/v1/orders/{number}/cancel"), Some(&jwt("eve", &[])), &json!({}), &[]).await;
    assert_eq!(status, 404, "not yours");
    let (status, canceled) =
        w.post(&format!("/api/v1/orders/{number}/cancel"), Some(&dee), &json!({}), &[]).await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    let pi = body["payment"]["payment_intent_id"].as_str().unwrap();
    assert_eq!(w.state.stripe.retrieve(pi).await.unwrap().status, "canceled");
    let events = w.order_events().await;
    assert!(
        events.iter().any(|e| e.event_type == "order.canceled"),
        "stock release and cart unlock are announced"
    );
    let (status, _) = w.post(&format!("/api/v1/orders/{number}/cancel"), Some(&dee), &json!({}), &[]).await;
    assert_eq!(status, 409, "twice");

    let paid = place(&w, &Who::Customer("dee".into()), "SKU-C2", "kc2").await;
    let number = pay(&w, &paid).await;
    let (status, _) = w.post(&format!("/api/v1/orders/{number}/cancel"), Some(&dee), &json!({}), &[]).await;
    assert_eq!(status, 409, "paid orders are refunded, not canceled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_admin_route_needs_the_admin_role() {
    let w = common::spawn().await;
    let body = place(&w, &Who::Customer("fin".into()), "SKU-A1", "ka1").await;
    let number = body["order_number"].as_str().unwrap();
    let customer = jwt("fin", &[]);
    let gets = ["/api/v1/admin/orders".to_owned(), format!("/api/v1/admin/orders/{number}")];
    let posts = [
        (format!("/api/v1/admin/orders/{number}/refund"), json!({})),
        (format!("/api/v1/admin/orders/{number}/fulfillment"), json!({"status": "fulfilled"})),
    ];
    for p in &gets {
        assert_eq!(w.get(p, Some(&customer), None).await.0, 403, "{p}");
        assert_eq!(w.get(p, None, None).await.0, 401, "{p}");
    }
    for (p, b) in &posts {
        assert_eq!(w.post(p, Some(&customer), b, &[]).await.0, 403, "{p}");
        assert_eq!(w.post(p, None, b, &[]).await.0, 401, "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admin_refunds_partially_then_the_rest_never_more_than_paid() {
    let w = common::spawn().await;
    let body = place(&w, &Who::Customer("gil".into()), "SKU-RF", "krf").await;
    let number = pay(&w, &body).await;
    let admin = jwt("root", &["admin"]);
    let path = format!("/api/v1/admin/orders/{number}/refund");
    let (status, first) = w
        .post(
            &path,
            Some(&admin),
            &json!({"amount_cents": 300, "reason": "damaged"}),
            &[("idempotency-key", "r1")],
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["order"]["payment_status"], "partially_refunded");
    assert_eq!(first["order"]["amount_refunded"], 300);
    // The same key again: the same refund, not a second one.
    let (status, again) =
        w.post(&path, Some(&admin), &json!({"amount_cents": 300}), &[("idempotency-key", "r1")]).await;
    assert_eq!(status, 201);
    assert_eq!(again["refund"]["id"], first["refund"]["id"]);
    // No key: refused before anything is asked of Stripe (never a made-up key).
    let (status, err) = w.post(&path, Some(&admin), &json!({"amount_cents": 100}), &[]).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["message"].as_str().unwrap_or_default().contains("Idempotency-Key"), "{err}");
    // More than is left.
    let (status, err) =
        w.post(&path, Some(&admin), &json!({"amount_cents": 701}), &[("idempotency-key", "r2")]).await;
    assert_eq!(status, 422, "{err}");
    // The rest (no amount = all that is left).
    let (status, rest) = w.post(&path, Some(&admin), &json!({}), &[("idempotency-key", "r3")]).await;
    assert_eq!(status, 201, "{rest}");
    assert_eq!(rest["refund"]["amount"], 700);
    assert_eq!(rest["order"]["payment_status"], "refunded");
    let (status, _) = w.post(&path, Some(&admin), &json!({}), &[("idempotency-key", "r4")]).await;
    assert_eq!(status, 409, "nothing left");
    let refunds = w.stripe.events().iter().filter(|e| e.type_ == "charge.refunded").count();
    assert_eq!(refunds, 2);
    // Stripe's charge.refunded events arrive afterwards: no-ops.
    w.forward_stripe_events().await;
    let events = w.order_events().await;
    assert_eq!(events.iter().filter(|e| e.event_type == "order.refunded").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fulfilment_moves_forward_only_once_paid_and_admins_search() {
    let w = common::spawn().await;
    let unpaid = place(&w, &Who::Customer("hu".into()), "SKU-F0", "kf0").await;
    let body = place(&w, &Who::Customer("hu".into()), "SKU-F1", "kf1").await;
    let number = pay(&w, &body).await;
    let admin = jwt("root", &["admin"]);
    let f = |n: &str| format!("/api/v1/admin/orders/{n}/fulfillment");
    let unpaid_number = unpaid["order_number"].as_str().unwrap();
    assert_eq!(w.post(&f(unpaid_number), Some(&admin), &json!({"status": "fulfilled"}), &[]).await.0, 409);
    assert_eq!(w.post(&f(&number), Some(&admin), &json!({"status": "delivered"}), &[]).await.0, 409);
    assert_eq!(w.post(&f(&number), Some(&admin), &json!({"status": "fulfilled"}), &[]).await.0, 200);
    assert_eq!(
        w.post(&f(&number), Some(&admin), &json!({"status": "shipped"}), &[]).await.0,
        422,
        "carrier needed"
    );
    let (status, shipped) = w
        .post(
            &f(&number),
            Some(&admin),
            &json!({"status": "shipped", "carrier": "UPS", "tracking_number": "1Z999"}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{shipped}");
    assert_eq!(shipped["fulfillment_status"], "shipped");
    assert_eq!(
        w.post(
            &f(&number),
            Some(&admin),
            &json!({"status": "shipped", "carrier": "UPS", "tracking_number": "1"}),
            &[]
        )
        .await
        .0,
        409
    );
    assert_eq!(w.post(&f(&number), Some(&admin), &json!({"status": "delivered"}), &[]).await.0, 200);
    assert_eq!(
        w.count("SELECT count(*) AS n FROM shipments WHERE carrier = 'UPS' AND delivered_at IS NOT NULL")
            .await,
        1
    );

    let (status, found) = w.get(&format!("/api/v1/admin/orders?number={number}"), Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    let (_, by_email) = w.get("/api/v1/admin/orders?email=BUYER@example.com", Some(&admin), None).await;
    assert_eq!(by_email["data"].as_array().unwrap().len(), 2);
}

/// A partial fulfilment has no time column of its own: its shipment row is written all the same
/// (the upsert once assigned `updated_at` twice, which PostgreSQL refuses).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partial_fulfilment_is_recorded_and_moves_on() {
    let w = common::spawn().await;
    let body = place(&w, &Who::Customer("hp".into()), "SKU-P1", "kp1").await;
    let number = pay(&w, &body).await;
    let admin = jwt("root", &["admin"]);
    let f = format!("/api/v1/admin/orders/{number}/fulfillment");
    let (status, partial) = w.post(&f, Some(&admin), &json!({"status": "partially_fulfilled"}), &[]).await;
    assert_eq!(status, 200, "{partial}");
    assert_eq!(partial["fulfillment_status"], "partially_fulfilled");
    assert_eq!(w.count("SELECT count(*) AS n FROM shipments WHERE fulfilled_at IS NULL").await, 1);
    assert_eq!(w.post(&f, Some(&admin), &json!({"status": "fulfilled"}), &[]).await.0, 200);
    assert_eq!(w.count("SELECT count(*) AS n FROM shipments WHERE fulfilled_at IS NOT NULL").await, 1);
}
