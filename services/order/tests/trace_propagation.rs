//! A purchase is one trace with one request id: checkout's calls to cart and catalog carry the
//! caller's `traceparent` (same trace id, order's span as parent) and `x-request-id`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{checkout_body, jwt};
use opentelemetry_sdk::trace::InMemorySpanExporter;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const REQUEST_ID: &str = "trace-test-req-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkout_sends_the_trace_context_and_request_id_to_cart_and_catalog() {
    // Each test binary is its own process: this installs the tracer for this one only.
    let _guard = platform::telemetry::init_with_exporter("order-trace-test", InMemorySpanExporter::default());
    let w = common::spawn().await;
    let shirt = w.product("TSHIRT-TRACE", 1999, 10);
    let fresh = w.product("MUG-TRACE", 1000, 5);
    let (cart, _) = w.cart(Some("tess"), &[(shirt, 1)]);
    // A second line with no reservation, so checkout reserves as well as extends.
    w.add_unreserved_line(cart, fresh, 1);
    let (status, body) = w
        .post(
            "/api/v1/checkout",
            Some(&jwt("tess", &[])),
            &checkout_body(cart),
            &[
                ("idempotency-key", "trace-1"),
                ("traceparent", &format!("00-{TRACE_ID}-b7ad6b7169203331-01")),
                ("x-request-id", REQUEST_ID),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let seen = w.fakes.lock().unwrap().headers.clone();
    let routes: Vec<&str> = seen.iter().map(|(r, _, _)| *r).collect();
    for route in ["cart.lock", "catalog.lookup", "catalog.extend", "catalog.reserve"] {
        assert!(routes.contains(&route), "{route} was not called: {routes:?}");
    }
    for (route, traceparent, request_id) in &seen {
        let traceparent = traceparent.as_deref().unwrap_or_else(|| panic!("{route} got no traceparent"));
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.get(1), Some(&TRACE_ID), "{route}: {traceparent}");
        assert_ne!(parts.get(2), Some(&"b7ad6b7169203331"), "{route}: the parent is order's own span");
        assert_eq!(request_id.as_deref(), Some(REQUEST_ID), "{route}");
    }
}
