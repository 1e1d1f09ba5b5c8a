//! Redis flushed mid-session: a customer's cart comes back from PostgreSQL; a guest's is gone.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{JEANS, TSHIRT, Who, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customers_carts_survive_a_redis_flush_and_guests_carts_do_not() {
    let w = World::start().await;
    let customer = w.customer_cart("loyal").await;
    let signed_in = Who::Customer("loyal".into());
    assert_eq!(w.add(&customer, &signed_in, TSHIRT, 2).await.0, 201);
    assert_eq!(w.add(&customer, &signed_in, JEANS, 1).await.0, 201);
    let (guest, token) = w.guest_cart().await;
    let anonymous = Who::Guest(token);
    assert_eq!(w.add(&guest, &anonymous, TSHIRT, 1).await.0, 201);
    let (_, before) = w.call("GET", &format!("/api/v1/carts/{customer}"), &signed_in, None).await;

    w.flush_redis().await;

    let (status, after) = w.call("GET", &format!("/api/v1/carts/{customer}"), &signed_in, None).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["items"], before["items"], "lines, reservations and prices come back from PostgreSQL");
    // It follows the customer: asking for "my cart" finds it too.
    assert_eq!(w.customer_cart("loyal").await, customer);
    // And it keeps working (written to both stores again).
    assert_eq!(w.add(&customer, &signed_in, TSHIRT, 1).await.0, 201);

    let (status, body) = w.call("GET", &format!("/api/v1/carts/{guest}"), &anonymous, None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "Not found");
    assert_eq!(body["message"], "No cart with this id");
}
