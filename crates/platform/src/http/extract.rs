//! JSON and query extractors whose failures use the platform's error shapes.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError};
use actix_web::http::header;
use actix_web::mime;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ValidationErrors};

/// Default JSON body limit (bytes); routes may set a larger [`web::PayloadConfig`].
pub const DEFAULT_JSON_LIMIT: usize = 256 * 1024;

/// The body limit for [`Json`], in app data (a route may register a larger one).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body: 415 without `application/json`, 413 over the limit, 400 when it is not JSON,
/// 422 naming the field when it is JSON of the wrong shape.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let body = RawBody::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType(
                    "Expected Content-Type: application/json".to_owned(),
                ));
            }
            let RawBody(bytes) = body.await?;
            decode_json(&bytes).map(Json)
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("The request body exceeds the limit of {limit} bytes"))
}

fn payload_error(e: &actix_web::Error, limit: usize) -> ApiError {
    match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => too_large(limit),
        _ if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => {
            too_large(limit)
        }
        _ => ApiError::BadRequest("The request body could not be read".to_owned()),
    }
}

/// Parses JSON, reporting syntax errors as 400 and shape errors as 422 with the field path.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_data() {
                let field = if path.is_empty() || path == "." { "body".to_owned() } else { path };
                return Err(ApiError::Validation(ValidationErrors::single(
                    &field,
                    strip_position(&inner.to_string()),
                )));
            }
            return Err(ApiError::BadRequest(format!("Malformed JSON: {inner}")));
        }
    };
    de.end().map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    // PostgreSQL `text` and `jsonb` cannot hold U+0000: refuse it here, naming the field,
    // instead of failing in the database. The byte scan keeps the common case free.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        let parsed: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
        if let Some(path) = nul_path(&parsed, String::new()) {
            let field = if path.is_empty() { "body".to_owned() } else { path };
            return Err(ApiError::Validation(ValidationErrors::single(
                &field,
                "The field must not contain NUL characters.",
            )));
        }
    }
    Ok(value)
}

/// The path (`a.b`, `tags[2]`) of the first string or key holding U+0000.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(path),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| nul_path(v, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.contains('\0') { Some(path.clone()) } else { nul_path(v, here) }
        }),
        _ => None,
    }
}

/// serde_json appends " at line L column C"; keep messages about the field, not the offset,
/// and say what was expected in JSON's words, never a Rust type's name.
fn strip_position(msg: &str) -> String {
    json_words(msg.split(" at line ").next().unwrap_or(msg))
}

/// `expected struct CheckoutRequest` → `expected a JSON object`; `expected i64` → `expected an
/// integer`: a client reads JSON, and type names leak the implementation.
pub fn json_words(msg: &str) -> String {
    // The last ", expected " is serde's own (a quoted value may hold the words too).
    let Some((head, expected)) = msg.rsplit_once(", expected ") else {
        return msg.to_owned();
    };
    let word = expected.split([' ', ',']).next().unwrap_or("");
    let plain = match word {
        "struct" | "map" => "a JSON object",
        "enum" => "one of the allowed values",
        "sequence" | "tuple" => "a JSON array",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        "a" | "an" | "one" | "at" | "value" | "borrowed" | "valid" | "RFC" | "`" => return msg.to_owned(),
        _ if expected.starts_with("a ") || expected.starts_with("an ") => return msg.to_owned(),
        _ => "a value of another type",
    };
    format!("{head}, expected {plain}")
}

/// A request body read whole, with the platform's error shapes (413 JSON over the body limit,
/// 400 when it cannot be read): for routes whose body is optional or not JSON.
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_JSON_LIMIT, |l| l.0);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| payload_error(&e, limit))?;
            if bytes.len() > limit {
                return Err(too_large(limit));
            }
            Ok(RawBody(bytes))
        })
    }
}

#[allow(clippy::needless_pass_by_value)] // signature fixed by actix's error_handler
/// Maps actix's own JSON extractor errors (if a route uses `web::Json`) to our shapes.
pub fn json_error_handler(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
            too_large(*limit)
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Expected Content-Type: application/json".to_owned())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::Validation(ValidationErrors::single("body", strip_position(&e.to_string())))
        }
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest(format!("Malformed JSON: {e}")),
        _ => ApiError::BadRequest("The request body could not be read".to_owned()),
    };
    api.into()
}

#[allow(clippy::needless_pass_by_value)] // signature fixed by actix's error_handler
/// Maps query-string extractor errors to the seed's 422 shape.
pub fn query_error_handler(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        _ => "The query string is invalid".to_owned(),
    };
    ApiError::Validation(ValidationErrors::single("query", message)).into()
}

#[allow(clippy::needless_pass_by_value)] // signature fixed by actix's error_handler
/// Maps path-segment extractor errors (e.g. `/products/abc` for a numeric id) to 404.
pub fn path_error_handler(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found("No resource at this path").into()
}

#[cfg(test)]
mod tests {
    use super::json_words;

    #[test]
    fn serde_messages_name_json_not_rust() {
        for (serde, ours) in [
            (
                "invalid type: string \"x\", expected struct CheckoutRequest",
                "invalid type: string \"x\", expected a JSON object",
            ),
            ("invalid type: string \"1\", expected i64", "invalid type: string \"1\", expected an integer"),
            ("invalid type: map, expected a string", "invalid type: map, expected a string"),
            (
                "invalid type: integer `1`, expected enum Kind",
                "invalid type: integer `1`, expected one of the allowed values",
            ),
            ("unknown field `x`, expected one of `a`, `b`", "unknown field `x`, expected one of `a`, `b`"),
            (
                "invalid type: string \"a, expected b\", expected u32",
                "invalid type: string \"a, expected b\", expected an integer",
            ),
            ("missing field `cart_id`", "missing field `cart_id`"),
        ] {
            assert_eq!(json_words(serde), ours);
        }
    }
}
