//! The error shapes of [`crate::http::ApiError`] as OpenAPI schemas, and the default response
//! every operation gets so that each error status is documented with its shape.

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Any error answer: `error` always, then `message`, or `messages` (422), `field` (409 on a
/// unique field), `available` (409 insufficient stock).
#[derive(ToSchema)]
#[allow(dead_code)] // a schema only: the bodies are written by `ApiError::json_body`
pub struct ErrorBody {
    /// The status in words, e.g. `Not found`.
    error: String,
    /// What went wrong, for people.
    message: Option<String>,
    /// 422: field → messages.
    messages: Option<BTreeMap<String, Vec<String>>>,
    /// 409: the clashing field, e.g. `sku`.
    field: Option<String>,
    /// 409 `Insufficient stock`: units that could be had now.
    available: Option<i64>,
}

/// 422 `{"error": "Validation failed", "messages": {"field": ["..."]}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ValidationErrorBody {
    /// `Validation failed`.
    error: String,
    /// Field → messages, in the order the rules were checked.
    messages: BTreeMap<String, Vec<String>>,
}

/// 409 `{"error": "Insufficient stock", "message": "...", "available": N}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InsufficientStockBody {
    /// `Insufficient stock`.
    error: String,
    /// What went wrong, for people.
    message: String,
    /// Units that could be had now.
    available: i64,
}

/// The error schemas every document carries.
pub(super) fn schemas() -> Vec<(String, RefOr<Schema>)> {
    vec![
        (ErrorBody::name().into_owned(), ErrorBody::schema()),
        (ValidationErrorBody::name().into_owned(), ValidationErrorBody::schema()),
        (InsufficientStockBody::name().into_owned(), InsufficientStockBody::schema()),
    ]
}

/// Gives `op` a `default` response in the [`ErrorBody`] shape (400, 401, 403, 404, 408, 413, 415,
/// 429, 503 and 500 can come from the HTTP kit on any route).
pub(super) fn add_default_error(op: &mut Operation) {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name(ErrorBody::name()))).build();
    let response = ResponseBuilder::new()
        .description("An error, in the shape of every error answer")
        .content("application/json", content)
        .build();
    op.responses.responses.entry("default".to_owned()).or_insert(RefOr::T(response));
}
