//! payment-webhook's OpenAPI document names exactly its route (docs/adr/0074).
#![allow(missing_docs)]

#[actix_web::test]
async fn the_document_and_the_routes_agree() {
    testkit::openapi::assert_no_drift(&payment_webhook::app::api()).await;
}
