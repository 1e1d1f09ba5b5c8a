//! The cart's OpenAPI document names exactly its routes (docs/adr/0074).
#![allow(missing_docs)]

#[actix_web::test]
async fn the_document_and_the_routes_agree() {
    testkit::openapi::assert_no_drift(&cart::app::api()).await;
}
