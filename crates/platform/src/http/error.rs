//! The error type every handler returns, and the JSON shapes of ARCHITECTURE §5.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde::ser::SerializeMap;

/// Field → messages, in the order the rules were checked (the seed's 422 `messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<(String, Vec<String>)>);

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a message for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(f, _)| f == field) {
            Some((_, list)) => list.push(message),
            None => self.0.push((field.to_owned(), vec![message])),
        }
    }
    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// True when `field` has a message.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }
    /// `Ok(())` when empty, else the 422 error.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() { Ok(()) } else { Err(ApiError::Validation(self)) }
    }
    /// A single-field error.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut v = Self::new();
        v.add(field, message);
        v
    }
}

impl Serialize for ValidationErrors {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (field, messages) in &self.0 {
            map.serialize_entry(field, messages)?;
        }
        map.end()
    }
}

/// Everything a handler can fail with; each maps to one status and a JSON body.
#[derive(Debug)]
pub enum ApiError {
    /// 422 `{"error":"Validation failed","messages":{...}}`.
    Validation(ValidationErrors),
    /// 400: malformed request (bad JSON, bad header).
    BadRequest(String),
    /// 401: missing or invalid credentials.
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409, optionally naming the clashing field.
    Conflict {
        /// What clashed.
        message: String,
        /// The field, e.g. `sku`.
        field: Option<String>,
    },
    /// 409 `{"error":"Insufficient stock","message":...,"available":N}` (`domain::inventory`).
    InsufficientStock {
        /// Units that could be had now.
        available: i64,
        /// What went wrong, for people.
        message: String,
    },
    /// 413.
    PayloadTooLarge(String),
    /// 408: the client did not send the request (head or body) in time.
    RequestTimeout(String),
    /// 431: the request head is too large (written by the connection guard).
    HeaderTooLarge(String),
    /// 415.
    UnsupportedMediaType(String),
    /// 429.
    TooManyRequests(String),
    /// 503: a dependency is down or the service is draining.
    Unavailable(String),
    /// 500: logged with its detail, answered without it.
    Internal(String),
}

impl ApiError {
    /// 500 from any error; the detail goes to the log only.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }
    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    /// 409 with a message and no field.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), field: None }
    }
    /// 409 `Insufficient stock` with `available` units left.
    pub fn insufficient_stock(available: i64, message: impl Into<String>) -> Self {
        Self::InsufficientStock { available, message: message.into() }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "Validation failed",
            Self::BadRequest(_) => "Bad request",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::InsufficientStock { .. } => "Insufficient stock",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::RequestTimeout(_) => "Request timeout",
            Self::HeaderTooLarge(_) => "Request header fields too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::TooManyRequests(_) => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Validation(v) => write!(f, "validation failed on {} field(s)", v.0.len()),
            Self::Internal(d) => write!(f, "internal error: {d}"),
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict { message: m, .. }
            | Self::InsufficientStock { message: m, .. }
            | Self::PayloadTooLarge(m)
            | Self::RequestTimeout(m)
            | Self::HeaderTooLarge(m)
            | Self::UnsupportedMediaType(m)
            | Self::TooManyRequests(m)
            | Self::Unavailable(m) => write!(f, "{}: {m}", self.title()),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::InsufficientStock { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::HeaderTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(actix_web::http::header::ContentType::json());
        if matches!(self, Self::Unavailable(_)) {
            // Every 503 is worth retrying: say when.
            res.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        res.body(self.json_body())
    }
}

impl ApiError {
    /// The JSON body of ARCHITECTURE §5 for this error (also written raw on the connection by
    /// the connection guard, below actix).
    pub fn json_body(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct V<'a> {
            error: &'a str,
            messages: &'a ValidationErrors,
        }
        let body = match self {
            Self::Validation(messages) => serde_json::to_vec(&V { error: self.title(), messages }),
            Self::Internal(_) => serde_json::to_vec(&Body {
                error: self.title(),
                message: "Internal server error",
                field: None,
            }),
            Self::Conflict { message, field } => {
                serde_json::to_vec(&Body { error: self.title(), message, field: field.as_deref() })
            }
            Self::InsufficientStock { available, message } => {
                serde_json::to_vec(&domain::inventory::InsufficientStock::new(*available, message.as_str()))
            }
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::PayloadTooLarge(m)
            | Self::RequestTimeout(m)
            | Self::HeaderTooLarge(m)
            | Self::UnsupportedMediaType(m)
            | Self::TooManyRequests(m)
            | Self::Unavailable(m) => {
                serde_json::to_vec(&Body { error: self.title(), message: m, field: None })
            }
        };
        // Serialising strings and maps into a Vec cannot fail; keep a valid body regardless.
        body.unwrap_or_else(|_| {
            br#"{"error":"Internal server error","message":"Internal server error"}"#.to_vec()
        })
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(e: crate::db::PoolError) -> Self {
        tracing::warn!(error = %e, "database pool unavailable");
        Self::Unavailable(UNAVAILABLE_DB.to_owned())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_transient(&e) {
            tracing::warn!(error = %e, "database unavailable during the request");
            return Self::Unavailable(UNAVAILABLE_DB.to_owned());
        }
        Self::internal(e)
    }
}

/// The answer to a request the database could not serve for now (the advice is the same as for
/// every 503: retry after `Retry-After`, with the same `Idempotency-Key` where there is one).
const UNAVAILABLE_DB: &str = "The database is temporarily unavailable; retry shortly";

/// Default service: unknown routes answer JSON 404, not an empty body.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found("No route matches this path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_keep_their_bodies() {
        let e = ApiError::insufficient_stock(2, "Only 2 unit(s) available");
        assert_eq!(e.status_code(), StatusCode::CONFLICT);
        let body: serde_json::Value = serde_json::from_slice(&e.json_body()).unwrap();
        let expected =
            serde_json::to_value(domain::inventory::InsufficientStock::new(2, "Only 2 unit(s) available"))
                .unwrap();
        assert_eq!(body, expected);
        let body: serde_json::Value =
            serde_json::from_slice(&ApiError::conflict("Busy").json_body()).unwrap();
        assert_eq!(body, serde_json::json!({"error": "Conflict", "message": "Busy"}));
    }
}
